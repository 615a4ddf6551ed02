"""The pygls server object: protocol hardening, thread hand-off to the event loop, status pushes."""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections.abc import Callable, Coroutine, Generator, Mapping
from typing import Any, TypeVar

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
from codekin.server import wire
from codekin.server.envelope import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    PARSE_ERROR,
    Envelope,
    Refusal,
    check_envelope,
    check_lifecycle,
)
from codekin.server.state import FolderIndex, IndexStatus, ServerState

log = logging.getLogger(__name__)
T = TypeVar("T")


class CodekinProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that checks every message before dispatch (JSON-RPC envelope, LSP
    lifecycle), answers every request that has a usable id, and advertises codekin's extensions."""

    def __init__(self, server: Any, converter: cattrs.Converter) -> None:
        super().__init__(server, converter)
        self.initialize_received = False
        self.exit_code = 0  # 1 once ``exit`` arrives without a prior ``shutdown``

    def structure_message(self, data: dict[str, Any]) -> Any:
        # json.loads calls this for every object, nested ones too: decode in handle_message,
        # once, on the whole message.
        return data

    def handle_message(self, message: Any) -> None:
        env = check_envelope(message)
        if isinstance(env, Refusal):
            self.refuse(env)
            return
        if env.kind != "response":
            refusal = check_lifecycle(env, initialized=self.initialize_received, shut_down=self._shutdown)
            if refusal is not None:
                self.refuse(refusal)
                return
        try:
            decoded = super().structure_message(message)
        except JsonRpcException as exc:
            self._malformed(env, exc)
            return
        try:
            super().handle_message(decoded)
        except Exception as exc:  # pygls answers handler errors; this is a failure around them
            log.exception("cannot handle %s", env.method or "a response")
            if env.kind == "request":
                self.answer_error(env.id, INTERNAL_ERROR, f"internal error: {_first_line(str(exc))}")

    def _malformed(self, env: Envelope, exc: JsonRpcException) -> None:
        cause = exc.__cause__ or exc
        detail = (
            wire.describe(cause) if isinstance(cause, cattrs.BaseValidationError) else _first_line(str(cause))
        )[:500]
        if env.kind == "request":
            self.refuse(Refusal(env.id, INVALID_PARAMS, f"invalid params for {env.method}: {detail}"))
        else:
            log.warning("dropping a malformed %s %s: %s", env.kind, env.method, detail)

    def refuse(self, refusal: Refusal) -> None:
        if refusal.code is None:
            log.warning("dropping %s", refusal.reason)
        else:
            log.warning("refusing a message (%d): %s", refusal.code, refusal.reason)
            self.answer_error(refusal.id, refusal.code, refusal.reason)

    def answer_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        # A plain dict: the converter would drop ``"id": null``, which JSON-RPC requires.
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})

    def get_message_type(self, method: str) -> type | None:  # type: ignore[override]  # (lru_cache above)
        """codekin's messages are read into their wire classes, as the protocol's are."""
        return wire.MESSAGES.get(method) or super().get_message_type(method)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        self.initialize_received = True
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"codekin": dict(wire.EXPERIMENTAL)}
        return result

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls' shutdown, but cancelling over a copy of the pending requests: worker threads
        finish requests meanwhile, and iterating the live dict then fails the shutdown."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        self.exit_code = 0 if self._shutdown else 1
        yield from super().lsp_exit(*args)


def json_converter() -> cattrs.Converter:
    """lsprotocol's converter with strict scalars (``"query": 5`` is an error, not ``"5"``);
    unlike pygls' default, params of custom methods stay plain JSON (pygls turns them into
    namedtuples, which mangle keys that are not identifiers) unless server/wire.py types them."""
    converter = converters.get_converter()
    for scalar in (str, int, bool, float):
        converter.register_structure_hook(scalar, _strict(scalar))
    # the hook on ``int`` (or ``str``) would also catch the protocol's enums (MessageType, ...),
    # which subclass them: each enum gets its own, more specific hook back
    for enum_type in _PROTOCOL_ENUMS:
        converter.register_structure_hook(enum_type, _enum_member)
    for cls, field in ((JsonRPCRequestMessage, "params"), (JsonRPCNotification, "params")):
        converter.register_structure_hook(cls, lambda obj, c, f=field: c(**{f: None, **obj}))
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, c: c(**{"result": None, **obj}))
    wire.configure(converter)
    return converter


_PROTOCOL_ENUMS = tuple(
    t for t in vars(types).values() if isinstance(t, type) and issubclass(t, enum.Enum) and t is not enum.Enum
)


def _enum_member(value: Any, enum_type: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected a {enum_type.__name__} value, got {type(value).__name__}")
    return enum_type(value)


def _strict(scalar: type[T]) -> Callable[[Any, Any], T]:
    """A structure hook that accepts only JSON values of ``scalar``'s type (an integer is a float)."""
    accepted: tuple[type, ...] = (int, float) if scalar is float else (scalar,)

    def structure(value: Any, _: Any) -> T:
        if isinstance(value, bool) is not (scalar is bool) or not isinstance(value, accepted):
            raise TypeError(f"expected {scalar.__name__}, got {type(value).__name__}")
        return scalar(value)  # type: ignore[call-arg]

    return structure


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[:3])[:500] or "cannot decode"


class CodekinServer(LanguageServer):
    protocol: CodekinProtocol

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
        self._last_status: IndexStatus | None = None
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
        self.protocol.notify(wire.INDEX_STATUS_CHANGED, status)
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
        if isinstance(error, ValueError | RecursionError) and source is JsonRpcException:
            # json.loads failed on a message body (not JSON, not UTF-8, nested too deeply)
            message = f"parse error: {_first_line(str(error))[:200]}"
            log.warning("%s", message)
            self.protocol.answer_error(None, PARSE_ERROR, message)
            return
        if source is JsonRpcException:  # raised while reading or dispatching a message
            log.error("cannot handle a message: %s", error)
            return
        super().report_server_error(error, source)


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
