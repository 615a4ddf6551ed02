"""Full index runs with work-done progress (``$/progress``) and client-side cancellation."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid

from lsprotocol import types

from codekin.index.indexer import IndexProgress, IndexStats
from codekin.server.core import CodekinServer
from codekin.server.state import FolderIndex

log = logging.getLogger(__name__)

REPORT_EVERY_S = 0.2
LEXICAL_SHARE = 20  # percent of the progress bar for the lexical phase (the embedding phase is the rest)


def register(server: CodekinServer) -> None:
    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel_progress(ls: CodekinServer, params: types.WorkDoneProgressCancelParams) -> None:
        event = ls.progress_cancels.get(str(params.token))
        if event is not None:
            log.info("indexing cancelled by the client (%s)", params.token)
            event.set()


async def index_folder(ls: CodekinServer, folder: FolderIndex, *, full: bool = False) -> IndexStats | None:
    """Run (or queue) a full index of ``folder`` on the writer, reporting progress to the client."""
    reporter = _Reporter(ls, folder, threading.Event())
    # Scheduling first marks the folder "indexing" before anything else can be answered.
    future = ls.state.schedule_index(folder, full=full, progress=reporter.on_progress, cancel=reporter.cancel)
    try:
        await reporter.begin()
        # Shielded: a cancelled request (say codekin.server.reindex) stops the run through its
        # cancel event, so the queued job still runs and leaves the folder in a settled state.
        return await asyncio.shield(asyncio.wrap_future(future))
    except asyncio.CancelledError:
        reporter.cancel.set()
        raise
    finally:
        reporter.end()


class _Reporter:
    """Forwards IndexProgress from the writer thread to ``$/progress`` on the event loop."""

    def __init__(self, ls: CodekinServer, folder: FolderIndex, cancel: threading.Event) -> None:
        self.ls = ls
        self.folder = folder
        self.cancel = cancel
        self.token: str | None = None
        self.last = 0.0
        self.latest: IndexProgress | None = None

    async def begin(self) -> None:
        ls = self.ls
        if not ls.client_supports("window.work_done_progress"):
            return
        token = f"codekin/index/{uuid.uuid4().hex[:12]}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as exc:  # the client refused: index without progress
            log.info("no progress token from the client: %s", exc)
            return
        self.token = token
        ls.progress_cancels[token] = self.cancel
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=f"codekin: indexing {self.folder.root.name}",
                cancellable=True,
                message="starting",
                percentage=0,
            ),
        )

    def on_progress(self, progress: IndexProgress) -> None:
        """Writer thread: throttle, then hop to the loop."""
        now = time.monotonic()
        if progress.phase not in ("done",) and now - self.last < REPORT_EVERY_S:
            return
        self.last = now
        snapshot = IndexProgress(**vars(progress))
        self.ls.post(self._report, snapshot)

    def _report(self, p: IndexProgress) -> None:
        if self.token is None:
            return
        files = f"{p.files_done}/{p.files_total} files"
        if p.phase == "embedding":  # every file is searchable by keywords by now
            share = p.embedded / p.to_embed if p.to_embed else 1.0
            percentage = LEXICAL_SHARE + int((100 - LEXICAL_SHARE) * share)
            message = f"embedding: {p.embedded}/{p.to_embed} chunks ({files} searchable by keywords)"
        else:
            percentage = int(LEXICAL_SHARE * p.files_done / p.files_total) if p.files_total else 0
            percentage = 100 if p.phase == "done" else percentage
            message = f"{p.phase}: {files}, {p.chunks_done} chunks"
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(
                message=message,
                percentage=min(100, percentage),
                cancellable=True,
            ),
        )

    def end(self) -> None:
        folder = self.folder
        if folder.state == "error" and folder.errors:
            self.ls.show(f"{folder.root.name}: {folder.errors[-1]}", types.MessageType.Error)
        if self.token is None:
            return
        if self.cancel.is_set():
            message = f"cancelled: {folder.files} files, {folder.chunks} chunks indexed"
        elif folder.state == "error":
            message = f"failed: {folder.errors[-1] if folder.errors else 'see the log'}"
        else:
            message = f"{folder.files} files, {folder.chunks} chunks"
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.ls.progress_cancels.pop(self.token, None)
        self.token = None
