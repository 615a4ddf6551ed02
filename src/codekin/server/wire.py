"""codekin's LSP extensions on the wire (docs/lsp-extensions.md): method names, params and results
as attrs classes, and the cattrs hooks that read and write them in camelCase. The only layer that
knows JSON spelling: handlers get typed params, return typed results, and a malformed params
object is a JSON-RPC InvalidParams error that names the field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import IterableValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codekin.hit import Hit
from codekin.paths import path_to_uri
from codekin.server.positions import Encoding, LineSource, hit_range
from codekin.server.state import EvaluationStatus, FolderStatus, IndexStatus

# Custom methods (docs/lsp-extensions.md).
SEARCH = "codekin/search"
SIMILAR = "codekin/similar"
CONTEXT = "codekin/context"
INDEX_STATUS = "codekin/indexStatus"
INDEX_STATUS_CHANGED = "codekin/indexStatusChanged"
RESULT_OPENED = "codekin/resultOpened"
CMD_REINDEX = "codekin.server.reindex"
CMD_CLEAR_INDEX = "codekin.server.clearIndex"
CMD_OPEN_SIMILAR = "codekin.server.openSimilar"

EXPERIMENTAL = {
    "search": True,
    "similar": True,
    "context": True,
    "indexStatus": True,
    "indexStatusChanged": True,
}

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
MAX_TOKEN_BUDGET = 10_000_000
PREVIEW_LINES = 3
PREVIEW_CHARS = 300
OMIT_IF_NONE = "omit_if_none"  # field metadata: leave the key out of the JSON when the value is None

T = TypeVar("T")
Strings = tuple[str, ...]  # a JSON array of strings (nothing else iterable passes)


class WireError(ValueError):
    """A value of the right type that the method does not accept; its message is the error."""


def _between(lo: int, hi: int) -> Callable[[Any, attrs.Attribute[int], int], None]:
    def check(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if not lo <= value <= hi:
            raise WireError(f"{_camel(attribute.name)!r} must be an integer in [{lo}, {hi}]")

    return check


# --- params ---------------------------------------------------------------------------------
@attrs.frozen
class SearchParams:
    query: str
    limit: int = attrs.field(default=DEFAULT_LIMIT, validator=_between(1, MAX_LIMIT))
    languages: Strings = ()
    paths: Strings = ()
    files: bool = False  # one item per file: its best chunk
    explain: bool = False  # each item carries every signal that placed it


@attrs.frozen
class SimilarParams:
    text_document: types.TextDocumentIdentifier
    position: types.Position | None = None
    range: types.Range | None = None
    limit: int = attrs.field(default=DEFAULT_LIMIT, validator=_between(1, MAX_LIMIT))
    languages: Strings = ()  # filters, only when given: similar code is cross-language
    paths: Strings = ()
    include_non_code: bool = False  # prose, data and config too
    include_siblings: bool = False  # the rest of the query's file ranks with code elsewhere

    def __attrs_post_init__(self) -> None:
        if self.position is None and self.range is None:
            raise WireError("give 'position' or 'range'")


@attrs.frozen
class ContextParams:
    token_budget: int = attrs.field(validator=_between(1, MAX_TOKEN_BUDGET))
    text_document: types.TextDocumentIdentifier | None = None
    position: types.Position | None = None
    query: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.query and (self.text_document is None or self.position is None):
            raise WireError("give 'query' or 'textDocument' and 'position'")


@attrs.frozen
class ReindexOptions:
    """The optional argument of ``codekin.server.reindex``."""

    full: bool = False


@attrs.frozen
class OpenSimilarArgs:
    """The argument of ``codekin.server.openSimilar``: what a "N similar" code lens carries."""

    locations: list[types.Location]
    uri: str | None = None
    position: types.Position | None = None


def _ordered(_: Any, __: Any, rng: types.Range) -> None:
    if (rng.end.line, rng.end.character) < (rng.start.line, rng.start.character):
        raise WireError("'range' ends before it starts")


def _not_blank(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise WireError(f"{_camel(attribute.name)!r} must be a non-empty string")


@attrs.frozen
class ResultOpenedParams:
    """``codekin/resultOpened`` (a notification): a user opened the result at ``rank`` (1-based)
    of the search for ``query``."""

    query: str = attrs.field(validator=_not_blank)
    uri: str
    range: types.Range = attrs.field(validator=_ordered)
    rank: int = attrs.field(validator=_between(1, 2**31 - 1))


# --- results --------------------------------------------------------------------------------
@attrs.frozen
class SearchItem:
    uri: str
    range: types.Range
    score: float
    cosine: float
    symbol: str
    kind: str
    language: str
    preview: str
    # with ``explain: true``: every signal that placed it
    explain: dict[str, Any] | None = attrs.field(default=None, metadata={OMIT_IF_NONE: True})
    # with the org_store setting: the repository it is from and its indexed commit ("" locally)
    repo: str | None = attrs.field(default=None, metadata={OMIT_IF_NONE: True})
    revision: str | None = attrs.field(default=None, metadata={OMIT_IF_NONE: True})


@attrs.frozen
class SearchResult:
    items: list[SearchItem]
    partial: bool  # a folder is still indexing, failed, or has chunks without a vector yet
    embedded: int  # chunks with a vector in the searched folders (the rest: keywords only)
    total: int


@attrs.frozen
class ContextItem:
    uri: str
    range: types.Range
    score: float
    cosine: float
    symbol: str
    kind: str
    language: str
    text: str
    tokens: int
    reason: str


@attrs.frozen
class ContextResult:
    items: list[ContextItem]
    tokens: int
    partial: bool


def preview(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()][:PREVIEW_LINES]
    return "\n".join(lines)[:PREVIEW_CHARS]


def search_item(hit: Hit, root: Path, encoding: Encoding, line_of: LineSource) -> SearchItem:
    return SearchItem(
        uri=path_to_uri(root / hit.path),
        range=hit_range(hit, encoding, line_of),
        score=hit.score,
        cosine=hit.cosine,
        symbol=hit.symbol,
        kind=hit.kind,
        language=hit.language,
        preview=preview(hit.text),
        explain=hit.explain,
        # a hit of a search merged with a shared org index names its repository
        repo=getattr(hit, "repo", "") or None,
        revision=getattr(hit, "revision", "") if getattr(hit, "repo", "") else None,
    )


# --- conversion -----------------------------------------------------------------------------
PARAMS: dict[str, type] = {SEARCH: SearchParams, SIMILAR: SimilarParams, CONTEXT: ContextParams}
NOTIFICATION_PARAMS: dict[str, type] = {RESULT_OPENED: ResultOpenedParams}
WIRE_CLASSES: tuple[type, ...] = (
    *PARAMS.values(),
    *NOTIFICATION_PARAMS.values(),
    ReindexOptions,
    OpenSimilarArgs,
    SearchItem,
    SearchResult,
    ContextItem,
    ContextResult,
    EvaluationStatus,
    FolderStatus,
    IndexStatus,
)


def _message_type(method: str, params: type, *, request: bool) -> type:
    """A JSON-RPC request (or notification) whose params the converter reads as ``params``."""
    name = "".join(p[:1].upper() + p[1:] for p in method.split("/")[1:])
    fields = {"id": attrs.field(type=Any)} if request else {}  # the id is checked by server/envelope.py
    fields |= {
        "params": attrs.field(type=params),
        "method": attrs.field(type=str),
        "jsonrpc": attrs.field(type=str),
    }
    return attrs.make_class(name + ("Request" if request else "Notification"), fields)


# what pygls reads each custom message into (server/core.py's get_message_type)
MESSAGES: dict[str, type] = {
    **{method: _message_type(method, params, request=True) for method, params in PARAMS.items()},
    **{
        method: _message_type(method, params, request=False) for method, params in NOTIFICATION_PARAMS.items()
    },
}


def configure(converter: cattrs.Converter) -> None:
    """Teach ``converter`` the wire classes (camelCase keys, objects only, arrays of strings)."""
    converter.register_structure_hook_func(lambda t: t == Strings, _strings)  # before the classes use it
    for cls in WIRE_CLASSES:
        converter.register_structure_hook(cls, _structure_fn(cls, converter))
        converter.register_unstructure_hook(cls, _unstructure_fn(cls, converter))


def parse(converter: cattrs.Converter, value: Any, cls: type[T], where: str) -> T:
    """``value`` (decoded JSON) as ``cls``; anything else is an InvalidParams error."""
    try:
        return converter.structure(value, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise JsonRpcInvalidParams(f"invalid params for {where}: {describe(exc)}") from exc


def describe(exc: BaseException) -> str:
    """What is wrong with a params object, field by field, with the JSON names of the fields
    (``expected int, got str @ $.params.tokenBudget``)."""
    return "; ".join(_problems(exc, "$"))


def _problems(exc: BaseException, path: str) -> list[str]:
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        with_notes, without = exc.group_exceptions()
        out: list[str] = []
        for inner, note in with_notes:
            where = (
                f"[{note.index!r}]" if isinstance(note, IterableValidationNote) else f".{_camel(note.name)}"
            )
            out += _problems(inner, path + where)
        return out + [p for inner in without for p in _problems(inner, path)]
    if isinstance(exc, ExceptionGroup):
        return [p for inner in exc.exceptions for p in _problems(inner, path)]
    return [f"{_format(exc)} @ {path}"]


def _format(exc: BaseException) -> str:
    if isinstance(exc, WireError | TypeError) and str(exc):  # says what was expected (see core._strict)
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    return f"invalid value ({exc})" if str(exc) else "invalid value"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def _structure_fn(cls: type[Any], converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    overrides = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
    structure = make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {_json_type(value)}")
        return structure({k: v for k, v in value.items() if v is not None}, cls)  # null: not given

    return hook


def _unstructure_fn(cls: type, converter: cattrs.Converter) -> Callable[[Any], dict[str, Any]]:
    overrides = {
        a.name: override(rename=_camel(a.name), omit_if_default=bool(a.metadata.get(OMIT_IF_NONE)))
        for a in attrs.fields(cls)
    }
    return make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]


def _strings(value: Any, _: Any) -> Strings:
    if not isinstance(value, list):
        raise TypeError(f"expected an array of strings, got {_json_type(value)}")
    if not all(isinstance(v, str) for v in value):
        raise TypeError("expected an array of strings")
    return tuple(value)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)
