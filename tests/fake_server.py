"""The real ``codekin serve`` in a subprocess, with the fake encoder in place of the default model:
end-to-end language-server tests in milliseconds each. Any other model (a path, another name)
loads as it would in the product, so a model that cannot load is still an error state.

A test holds indexing at a known point with a hold file: while it exists, embedding waits (the
keyword phase has committed, the run is still going). No clock is involved."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HOLD_ENV = "CODEKIN_TEST_HOLD"

LAUNCH = f"""
import os, sys, time
from codekin.embeddings.fake import FakeEncoder
from codekin.server import run_server
from codekin.server.state import ServerState
from codekin.settings import DEFAULT_MODEL


class HeldEncoder(FakeEncoder):
    def embed_documents(self, texts):
        hold = os.environ.get({HOLD_ENV!r})
        while hold and os.path.exists(hold):
            time.sleep(0.01)
        return super().embed_documents(texts)


ENCODER = HeldEncoder()
real_encoder_for = ServerState.encoder_for
ServerState.encoder_for = lambda self, s: ENCODER if s.model == DEFAULT_MODEL else real_encoder_for(self, s)
sys.exit(run_server())
"""


def command() -> list[str]:
    return [sys.executable, "-c", LAUNCH]


def hold_file(name: str) -> Path:
    """A hold file path of this test process (not created)."""
    return Path(tempfile.gettempdir()) / f"codekin-hold-{os.getpid()}-{name}"


def env(hold: Path | None = None) -> dict[str, str]:
    out = dict(os.environ)
    out.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if hold is not None:
        out[HOLD_ENV] = str(hold)
    return out
