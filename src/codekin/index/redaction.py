"""Keeps an index's stored text in line with the redaction rules: files indexed under other
rules (or before redaction existed) are read again, and what the old rows held is purged."""

from __future__ import annotations

import logging

from codekin.index.code_index import CodeIndex
from codekin.redact import Redactor

log = logging.getLogger(__name__)


def begin(index: CodeIndex, redactor: Redactor) -> bool:
    """Before a whole-tree run: True when the indexed files were redacted under other rules;
    then every file is read again by this run."""
    if index.redaction_fingerprint() == redactor.fingerprint:
        return False
    if not index.counts().files:  # nothing stored yet: everything will be read under these rules
        index.record_redaction_fingerprint(redactor.fingerprint)
        return False
    log.info("redaction rules changed since the files were indexed: every file is read again")
    index.forget_file_stats()
    return True


def finish(index: CodeIndex, redactor: Redactor) -> None:
    """After that run completed: nothing of the rows it replaced stays in the database file
    (until then the old fingerprint stays, so a killed run is redone)."""
    index.purge_deleted()
    index.record_redaction_fingerprint(redactor.fingerprint)
