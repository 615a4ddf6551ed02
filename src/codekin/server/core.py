"""The pygls server object: protocol hardening, thread hand-off to the event loop, status pushes."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Coroutine, Generator, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from lsprotocol import converters, types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
)
from pygls.protocol.language_server import lsp_method

from codekin import __version__
from codekin.server.protocol import EXPERIMENTAL, INDEX_STATUS_CHANGED, IndexStatusResult
from codekin.server.state import FolderIndex, ServerState

log = logging.getLogger(__name__)
T = TypeVar("T")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


@attrs.define
class _Malformed:
    """A request whose params could not be decoded: answered with an error, never dropped."""

    id: int | str
    method: str
    error: str


class CodekinProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers undecodable requests and advertises codekin's extensions."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data.get("id"), int | str) and isinstance(data.get("method"), str):
                cause = exc.__cause__ or exc
                detail = (
                    "; ".join(cattrs.transform_error(cause))
                    if isinstance(cause, cattrs.BaseValidationError)
                    else _first_line(str(cause))
                )
                return _Malformed(data["id"], data["method"], detail[:500])
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Malformed):
            log.warning("malformed %s request %r: %s", message.method, message.id, message.error)
            self._send_response(
                message.id,
                error=types.ResponseError(
                    INVALID_PARAMS, f"invalid params for {message.method}: {message.error}"
                ),
            )
            return
        if not hasattr(message, "jsonrpc"):
            raise _NotARequest(f"not a JSON-RPC message: {str(message)[:200]}")
        super().handle_message(message)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"codekin": dict(EXPERIMENTAL)}
        return result


def json_converter() -> cattrs.Converter:
    """lsprotocol's converter; unlike pygls' default, params of custom methods stay plain JSON
    (pygls turns them into namedtuples, which mangle keys that are not identifiers)."""
    converter = converters.get_converter()
    for cls, field in ((JsonRPCRequestMessage, "params"), (JsonRPCNotification, "params")):
        converter.register_structure_hook(cls, lambda obj, c, f=field: c(**{f: None, **obj}))
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, c: c(**{"result": None, **obj}))
    return converter


class _NotARequest(Exception):
    pass


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[:3])[:500] or "cannot decode"


class CodekinServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "codekin",
            __version__,
            protocol_cls=CodekinProtocol,
            converter_factory=json_converter,
            max_workers=4,
        )
        self.state = ServerState(on_change=self._folder_changed)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.init_options: Mapping[str, Any] = {}
        self.config_layer: dict[str, Mapping[str, Any]] = {}  # folder uri -> workspace/configuration
        self.progress_cancels: dict[str, threading.Event] = {}
        self._last_status: IndexStatusResult | None = None
        self.status_listeners: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine in the background (event loop), logging its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Future[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and (exc := t.exception()) is not None:
                log.error("background task failed: %s", exc, exc_info=exc)

        task.add_done_callback(done)

    # --- threads -> event loop --------------------------------------------------------------
    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the event loop (the only thread that writes to the transport)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            if _on_loop(loop):
                fn(*args)
            else:
                loop.call_soon_threadsafe(_guarded, fn, *args)
        except RuntimeError:  # loop closing during shutdown
            pass

    async def in_reader(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read-only job on the reader pool (awaiting it keeps $/cancelRequest working)."""
        return await asyncio.wrap_future(self.state.read(fn, *args))

    def _folder_changed(self, folder: FolderIndex | None) -> None:
        self.post(self.push_status)

    def push_status(self) -> None:
        """Send ``codekin/indexStatusChanged`` when the status differs from the last one sent."""
        if not self.state.folders:
            return
        status = self.state.status()
        if status == self._last_status:
            return
        self._last_status = status
        self.protocol.notify(INDEX_STATUS_CHANGED, status)
        for listener in self.status_listeners:
            listener()

    # --- client facts -----------------------------------------------------------------------
    @property
    def position_encoding(self) -> str:
        try:
            encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        except RuntimeError:  # not initialised yet
            encoding = types.PositionEncodingKind.Utf16
        return encoding.value if isinstance(encoding, types.PositionEncodingKind) else str(encoding)

    def client_supports(self, dotted: str) -> bool:
        """A client capability by attribute path (``"window.work_done_progress"``)."""
        value: Any = self.client_capabilities
        for part in dotted.split("."):
            value = getattr(value, part, None)
            if value is None:
                return False
        return bool(value)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.post(self.window_show_message, types.ShowMessageParams(type=kind, message=f"codekin: {message}"))

    # --- errors outside any request ---------------------------------------------------------
    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, json.JSONDecodeError):
            self._error_without_id(PARSE_ERROR, f"parse error: {error}")
            return
        if isinstance(error, _NotARequest):
            self._error_without_id(INVALID_REQUEST, str(error))
            return
        if source is JsonRpcException:  # raised while reading or dispatching a message
            log.error("cannot handle a message: %s", error)
            return
        super().report_server_error(error, source)

    def _error_without_id(self, code: int, message: str) -> None:
        log.warning("%s", message)
        # A plain dict: the converter would drop ``"id": null``, which JSON-RPC requires here.
        self.protocol._send_data({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}})


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _guarded(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("callback %s failed", getattr(fn, "__name__", fn))
