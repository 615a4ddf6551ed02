"""JSON-RPC 2.0 and LSP message checks made before pygls decodes a message: what kind of message it
is, whether its envelope is valid, and whether the lifecycle allows it now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import attrs
from lsprotocol import types

Kind = Literal["request", "notification", "response"]
MsgId = int | str

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = types.ErrorCodes.ServerNotInitialized.value


@dataclass(frozen=True)
class Envelope:
    kind: Kind
    id: MsgId | None
    method: str


@dataclass(frozen=True)
class Refusal:
    """A message not to dispatch: answered with ``code`` (``id`` may be None) or, for
    notifications, dropped (``code`` None)."""

    id: MsgId | None
    code: int | None
    reason: str


def valid_id(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def check_envelope(message: Any) -> Envelope | Refusal:
    """Classify a decoded message, or refuse it with -32600 Invalid Request. The refusal names
    the id only when the message is plainly a request (has a method) with a usable id; JSON-RPC
    says null otherwise."""
    if not isinstance(message, dict):
        return Refusal(None, INVALID_REQUEST, f"a message must be a JSON object, not {_kind(message)}")
    msg_id = message.get("id")
    method = message.get("method")
    answer_to = msg_id if valid_id(msg_id) and "method" in message else None
    if message.get("jsonrpc") != "2.0":
        return Refusal(answer_to, INVALID_REQUEST, '"jsonrpc" must be "2.0"')
    if "method" in message:
        if not isinstance(method, str):
            return Refusal(answer_to, INVALID_REQUEST, f'"method" must be a string, not {_kind(method)}')
        if "id" in message and not valid_id(msg_id):
            return Refusal(None, INVALID_REQUEST, f'"id" must be an integer or a string, not {_kind(msg_id)}')
        params = message.get("params")
        if params is not None and not isinstance(params, dict | list):
            return Refusal(answer_to, INVALID_REQUEST, f'"params" must be structured, not {_kind(params)}')
        return Envelope("request" if "id" in message else "notification", answer_to, method)
    if "result" in message or "error" in message:
        if not (valid_id(msg_id) or (msg_id is None and "error" in message)):
            return Refusal(None, INVALID_REQUEST, f'"id" must be an integer or a string, not {_kind(msg_id)}')
        return Envelope("response", msg_id, "")
    return Refusal(None, INVALID_REQUEST, "neither a request, a notification nor a response")


def check_lifecycle(env: Envelope, *, initialized: bool, shut_down: bool) -> Refusal | None:
    """What the LSP lifecycle says about a request or notification arriving now."""
    if env.kind == "request":
        if _declared_notification(env.method):
            # vscode-jsonrpc answers the same way: no request of that name exists.
            return Refusal(env.id, METHOD_NOT_FOUND, f"{env.method} is a notification; it cannot carry an id")
        if env.method == types.INITIALIZE and initialized:
            return Refusal(env.id, INVALID_REQUEST, "initialize may only be sent once")
        if not initialized and env.method != types.INITIALIZE:
            return Refusal(env.id, SERVER_NOT_INITIALIZED, f"{env.method} before initialize")
        if shut_down:
            return Refusal(env.id, INVALID_REQUEST, f"{env.method} after shutdown")
        return None
    if env.kind == "notification" and env.method != types.EXIT:
        if not initialized:
            return Refusal(None, None, f"notification {env.method} before initialize")
        if _declared_request(env.method):
            return Refusal(None, None, f"request {env.method} sent without an id")
    return None


def _message_type(method: str) -> Any:
    entry = types.METHOD_TO_TYPES.get(method)
    return entry[0] if entry else None


def _declared_notification(method: str) -> bool:
    cls = _message_type(method)
    return cls is not None and "id" not in attrs.fields_dict(cls)


def _declared_request(method: str) -> bool:
    cls = _message_type(method)
    return cls is not None and "id" in attrs.fields_dict(cls)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
