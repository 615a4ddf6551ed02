"""Wire types of codekin's LSP extensions, parameter validation, and the one place where chunk
spans (0-based rows, UTF-8 byte columns) become LSP positions in the negotiated encoding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codekin.hit import Hit
from codekin.paths import path_to_uri as path_to_uri
from codekin.paths import uri_to_path as uri_to_path

# Custom methods (docs/lsp-extensions.md).
SEARCH = "codekin/search"
SIMILAR = "codekin/similar"
CONTEXT = "codekin/context"
INDEX_STATUS = "codekin/indexStatus"
INDEX_STATUS_CHANGED = "codekin/indexStatusChanged"
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
PREVIEW_LINES = 3
PREVIEW_CHARS = 300

IndexStateName = Literal["indexing", "ready", "error"]


# --- results (plain JSON objects) -----------------------------------------------------------
class LspPosition(TypedDict):
    line: int
    character: int


class LspRange(TypedDict):
    start: LspPosition
    end: LspPosition


class SearchItem(TypedDict):
    uri: str
    range: LspRange
    score: float
    cosine: float
    symbol: str
    kind: str
    language: str
    preview: str
    explain: NotRequired[dict[str, Any]]  # with ``explain: true``: every signal that placed it
    repo: NotRequired[str]  # with the org_store setting: the repository it is from
    revision: NotRequired[str]  # and that repository's indexed commit ("" for a local folder)


class SearchResult(TypedDict):
    items: list[SearchItem]
    partial: bool  # a folder is still indexing, failed, or has chunks without a vector yet
    embedded: int  # chunks with a vector in the searched folders (the rest: keywords only)
    total: int


class ContextItem(TypedDict):
    uri: str
    range: LspRange
    score: float
    cosine: float
    symbol: str
    kind: str
    language: str
    text: str
    tokens: int
    reason: str


class ContextResult(TypedDict):
    items: list[ContextItem]
    tokens: int
    partial: bool


class EvaluationStatus(TypedDict):
    """The latest ``codekin eval`` run on a folder's index and the drift warnings it gives."""

    model: str
    k: int
    mrr: float
    bestMrr: float  # the best comparable run
    queries: int
    dataset: str
    time: float
    warnings: list[str]  # as `codekin status` shows them


class FolderStatus(TypedDict):
    uri: str
    state: IndexStateName
    files: int
    chunks: int
    lastUpdated: float | None
    errors: list[str]
    partial: bool
    evaluation: EvaluationStatus | None


class IndexStatusResult(TypedDict):
    state: IndexStateName
    files: int
    chunks: int
    model: str
    lastUpdated: float | None
    errors: list[str]
    partial: bool
    watcher: str
    folders: list[FolderStatus]
    drift: list[str]  # every folder's evaluation warnings


# --- params ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchParams:
    query: str
    limit: int = DEFAULT_LIMIT
    languages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    files: bool = False  # one item per file: its best chunk
    explain: bool = False  # each item carries every signal that placed it


@dataclass(frozen=True)
class SimilarParams:
    uri: str
    position: types.Position | None
    range: types.Range | None
    limit: int = DEFAULT_LIMIT
    languages: tuple[str, ...] = ()  # filters, only when given: similar code is cross-language
    paths: tuple[str, ...] = ()
    include_non_code: bool = False  # prose, data and config too
    include_siblings: bool = False  # the rest of the query's file ranks with code elsewhere


@dataclass(frozen=True)
class ContextParams:
    token_budget: int
    uri: str | None = None
    position: types.Position | None = None
    query: str | None = None


def invalid(message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message)


def as_mapping(params: Any, method: str) -> Mapping[str, Any]:
    """pygls hands custom methods' params over as decoded JSON (or attrs objects)."""
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return params
    if isinstance(params, tuple) and hasattr(params, "_asdict"):  # pygls' namedtuple params
        return dict(params._asdict())
    if hasattr(params, "__attrs_attrs__") or hasattr(params, "__dict__"):
        return {k: v for k, v in vars(params).items() if not k.startswith("_")}
    raise invalid(f"{method}: params must be an object")


def _str(data: Mapping[str, Any], key: str, method: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise invalid(f"{method}: missing {key!r}")
        return None
    if not isinstance(value, str):
        raise invalid(f"{method}: {key!r} must be a string")
    return value


def _int(data: Mapping[str, Any], key: str, method: str, default: int | None, lo: int, hi: int) -> int | None:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise invalid(f"{method}: {key!r} must be an integer in [{lo}, {hi}]")
    return value


def as_bool(data: Mapping[str, Any], key: str, method: str) -> bool:
    """An optional boolean parameter (default false); anything else is an invalid-params error."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise invalid(f"{method}: {key!r} must be true or false")
    return value


def _strings(data: Mapping[str, Any], key: str, method: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{method}: {key!r} must be a list of strings")
    return tuple(value)


def _position(value: Any, method: str) -> types.Position:
    data = as_mapping(value, method)
    line, char = data.get("line"), data.get("character")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (line, char)):
        raise invalid(f"{method}: a position needs non-negative integer 'line' and 'character'")
    return types.Position(line=int(line), character=int(char))  # type: ignore[arg-type]


def _range(value: Any, method: str) -> types.Range:
    data = as_mapping(value, method)
    return types.Range(start=_position(data.get("start"), method), end=_position(data.get("end"), method))


def _document_uri(data: Mapping[str, Any], method: str, required: bool) -> str | None:
    doc = data.get("textDocument")
    if doc is None:
        if required:
            raise invalid(f"{method}: missing 'textDocument'")
        return None
    return _str(as_mapping(doc, method), "uri", method, required=True)


def parse_search(params: Any) -> SearchParams:
    data = as_mapping(params, SEARCH)
    query = _str(data, "query", SEARCH, required=True) or ""
    limit = _int(data, "limit", SEARCH, DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    return SearchParams(
        query,
        limit,
        _strings(data, "languages", SEARCH),
        _strings(data, "paths", SEARCH),
        as_bool(data, "files", SEARCH),
        as_bool(data, "explain", SEARCH),
    )


def parse_similar(params: Any) -> SimilarParams:
    data = as_mapping(params, SIMILAR)
    uri = _document_uri(data, SIMILAR, required=True) or ""
    position = _position(data["position"], SIMILAR) if data.get("position") is not None else None
    rng = _range(data["range"], SIMILAR) if data.get("range") is not None else None
    if position is None and rng is None:
        raise invalid(f"{SIMILAR}: give 'position' or 'range'")
    limit = _int(data, "limit", SIMILAR, DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    return SimilarParams(
        uri,
        position,
        rng,
        limit,
        _strings(data, "languages", SIMILAR),
        _strings(data, "paths", SIMILAR),
        as_bool(data, "includeNonCode", SIMILAR),
        as_bool(data, "includeSiblings", SIMILAR),
    )


def parse_context(params: Any) -> ContextParams:
    data = as_mapping(params, CONTEXT)
    budget = _int(data, "tokenBudget", CONTEXT, None, 1, 10_000_000)
    if budget is None:
        raise invalid(f"{CONTEXT}: missing 'tokenBudget'")
    uri = _document_uri(data, CONTEXT, required=False)
    position = _position(data["position"], CONTEXT) if data.get("position") is not None else None
    query = _str(data, "query", CONTEXT)
    if not query and (uri is None or position is None):
        raise invalid(f"{CONTEXT}: give 'query' or 'textDocument' and 'position'")
    return ContextParams(budget, uri, position, query)


# --- positions ------------------------------------------------------------------------------
Encoding = str  # "utf-8" | "utf-16" | "utf-32" (types.PositionEncodingKind values)


def _units(text: str, encoding: Encoding) -> int:
    """Length of ``text`` in the code units of ``encoding``."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def byte_col_to_units(line: str, byte_col: int, encoding: Encoding) -> int:
    """A UTF-8 byte column of ``line`` as an LSP character offset."""
    if encoding == types.PositionEncodingKind.Utf8:
        return byte_col
    prefix = line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "replace")
    return _units(prefix, encoding)


def units_to_index(line: str, character: int, encoding: Encoding) -> int:
    """An LSP character offset on ``line`` as a Python string index (clamped to the line)."""
    count = 0
    for i, c in enumerate(line):
        if count >= character:
            return i
        count += _units(c, encoding)
    return len(line)


LineSource = Callable[[str, int], str | None]  # (root-relative path, 0-based row) -> line text


def hit_range(hit: Hit, encoding: Encoding, line_of: LineSource) -> LspRange:
    """The LSP range of a hit. Only the start needs the file's line (the text before the chunk);
    the end follows from the chunk text itself. Without the line, columns are taken as ASCII."""
    start_row, end_row = hit.start_line - 1, hit.end_line - 1
    line = line_of(hit.path, start_row)
    start = byte_col_to_units(line, hit.start_col, encoding) if line is not None else hit.start_col
    last = hit.text.rsplit("\n", 1)[-1]
    end = _units(last, encoding) if "\n" in hit.text else start + _units(last, encoding)
    return {"start": {"line": start_row, "character": start}, "end": {"line": end_row, "character": end}}


def to_lsp_range(r: LspRange) -> types.Range:
    return types.Range(
        start=types.Position(line=r["start"]["line"], character=r["start"]["character"]),
        end=types.Position(line=r["end"]["line"], character=r["end"]["character"]),
    )


def preview(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()][:PREVIEW_LINES]
    return "\n".join(lines)[:PREVIEW_CHARS]


def search_item(hit: Hit, root: Path, encoding: Encoding, line_of: LineSource) -> SearchItem:
    item: SearchItem = {
        "uri": path_to_uri(root / hit.path),
        "range": hit_range(hit, encoding, line_of),
        "score": hit.score,
        "cosine": hit.cosine,
        "symbol": hit.symbol,
        "kind": hit.kind,
        "language": hit.language,
        "preview": preview(hit.text),
    }
    if hit.explain is not None:
        item["explain"] = hit.explain
    if repo := getattr(hit, "repo", ""):  # a hit of a search merged with a shared org index
        item["repo"], item["revision"] = repo, getattr(hit, "revision", "")
    return item


SYMBOL_KINDS: dict[str, types.SymbolKind] = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "interface": types.SymbolKind.Interface,
    "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum,
    "trait": types.SymbolKind.Interface,
    "impl": types.SymbolKind.Class,
    "module": types.SymbolKind.Module,
    "window": types.SymbolKind.File,
}


def slice_range(text: str, rng: types.Range, encoding: Encoding) -> str:
    """The text of ``rng`` in a document (positions in the negotiated encoding)."""
    lines = text.splitlines(keepends=True)

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        before = sum(len(ln) for ln in lines[: pos.line])
        line = lines[pos.line].rstrip("\r\n")
        return before + units_to_index(line, pos.character, encoding)

    return text[offset(rng.start) : offset(rng.end)]
