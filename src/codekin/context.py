"""The context engine: what to put in an assistant's prompt for a question and/or a location.

One engine behind every front end (``Workspace.context``, the CLI, the language server, the MCP
server). Candidates come in this order, each with the reason it was chosen:

1. the definition enclosing the location;
2. the question's best chunks, in the search ranking's order; each is followed by up to two
   definitions from its own file that it calls or names (those of the first three chunks come
   after the third);
3. the definitions the enclosing one calls or names that the index holds: tree-sitter
   identifiers looked up by symbol, ``self.f`` in the same type, a bare name among top-level
   definitions and types, the nearest definition of each name (same file, then fewest directory
   steps away); members of other objects (``os.open``) are not resolvable by name and skipped;
4. the code most similar to the enclosing definition.

Then they are de-duplicated (overlapping spans, near-duplicate text, bare one-line class headers
whose name the method labels already carry) and packed greedily, in that order, into a token
budget (less a small reserve for the footer line, so the rendered answer fits too); a piece that
does not fit is left out (and counted) so smaller later ones may still fit.
Each piece is printed with its original indentation.

Tokens are counted model-agnostically (no tokenizer download, same count for every encoder):
every run of letters/digits costs one token per 4 characters (rounded up), every other
non-space character one token, and every line break with its indentation one token. On
codekin's own source it counts 16% more than the encoder's WordPiece tokenizer (which ignores
whitespace); it is not calibrated against any particular LLM's tokenizer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codekin.files import rel_path
from codekin.hit import Hit
from codekin.parsers.grammar import new_parser
from codekin.parsers.languages import LANGUAGE_SPECS

if TYPE_CHECKING:
    from codekin.workspace import Workspace

_WORD = re.compile(r"[A-Za-z0-9_]+|\n[ \t]*|[^\sA-Za-z0-9_]")
_IDENT = re.compile(r"\w+")
HEADER_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
NEAR_DUPLICATE = 0.9  # token-set Jaccard above which a piece repeats one already chosen
MAX_CALLEES = 8
CALLEES_PER_HIT = 2  # same-file callees placed after each of the question's chunks
LEADING_HITS = 3  # callees of the first chunks wait until these three are in
MEMBER_PARENTS = frozenset(
    {
        "attribute",
        "member_expression",
        "field_expression",
        "selector_expression",
        "method_invocation",
        "field_access",
        "member_access_expression",
        "navigation_expression",
    }
)
SELF_NAMES = frozenset({"self", "this", "cls", "Self", "@"})
SIMILAR_K = 3
FOOTER_TOKENS = 40  # kept free for the rendered footer, so the whole answer fits the budget
SEPARATOR_TOKENS = 2  # the blank line between rendered pieces

# Candidate tiers, in packing order.
ENCLOSING, QUERY, CALLEE, SIMILAR = range(4)


def count_tokens(text: str) -> int:
    """The documented model-agnostic token count (see the module docstring)."""
    total = 0
    for m in _WORD.finditer(text):
        piece = m.group()
        total += math.ceil(len(piece) / 4) if piece[0].isalnum() or piece[0] == "_" else 1
    return total


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    tier: int
    rank: float  # order within its tier
    reason: str
    root: Path


@dataclass(frozen=True)
class ContextPiece:
    """One chunk of context: where it is, why it was chosen and its text (original indentation)."""

    root: str
    path: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    language: str
    score: float
    reason: str
    text: str
    tokens: int  # of the label line and the text, as rendered
    cut: bool = False  # only the first lines fit the budget
    cosine: float = 0.0  # the chunk's cosine to what found it (a detail beside ``score``)

    @property
    def label(self) -> str:
        symbol = f"  {self.symbol}" if self.symbol else ""
        cut = ", cut to fit" if self.cut else ""
        return f"# {self.path}:{self.start_line}-{self.end_line}{symbol}  ({self.reason}{cut})"

    def render(self) -> str:
        return f"{self.label}\n{self.text}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "symbol": self.symbol,
            "kind": self.kind,
            "language": self.language,
            "score": self.score,
            "cosine": self.cosine,
            "reason": self.reason,
            "text": self.text,
            "tokens": self.tokens,
            "cut": self.cut,
        }


@dataclass(frozen=True)
class Context:
    pieces: tuple[ContextPiece, ...]
    budget: int
    omitted: int = 0  # candidates left out because they did not fit
    notes: tuple[str, ...] = field(default=())

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.pieces)

    @property
    def cut(self) -> bool:
        return self.omitted > 0 or any(p.cut for p in self.pieces)

    def render(self) -> str:
        """The text an assistant reads: labelled pieces, then a footer with the token count."""
        parts = [p.render() for p in self.pieces]
        footer = f"# {self.tokens} tokens of a {self.budget}-token budget, {len(self.pieces)} pieces"
        if self.omitted:
            footer += f"; {self.omitted} more left out for the budget (raise it to see them)"
        if not self.pieces:
            footer += "; nothing found (is the location indexed? try a question)"
        return "\n\n".join([*parts, footer, *(f"# note: {n}" for n in self.notes)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "pieces": [p.to_dict() for p in self.pieces],
            "tokens": self.tokens,
            "budget": self.budget,
            "omitted": self.omitted,
            "cut": self.cut,
            "notes": list(self.notes),
        }


# --- gathering ------------------------------------------------------------------------------
def build_context(
    workspaces: Sequence[Workspace],
    *,
    query: str | None = None,
    path: str | Path | None = None,
    line: int | None = None,
    token_budget: int = 2000,
    k: int = 10,
    notes: Iterable[str] = (),
) -> Context:
    """Context from one or several workspaces: the location counts in the workspace holding
    ``path`` (the innermost when roots nest); the question is asked of every workspace."""
    home: Workspace | None = None
    if path is not None and line is not None:
        holders = [ws for ws in workspaces if rel_path(ws.root, Path(ws.root, path)) is not None]
        home = max(holders, key=lambda ws: len(ws.root.parts), default=None)
    candidates: list[Candidate] = []
    for ws in workspaces:
        if ws is home:
            candidates += gather(ws, query=query, path=path, line=line, k=k)
        elif query and query.strip():
            candidates += gather(ws, query=query, k=k)
    return pack(candidates, token_budget, notes)


def gather(
    ws: Workspace,
    *,
    query: str | None = None,
    path: str | Path | None = None,
    line: int | None = None,
    k: int = 10,
) -> list[Candidate]:
    """Candidates from one workspace, in packing order within each tier."""
    found: list[Candidate] = []
    anchor: Hit | None = None
    if path is not None and line is not None:
        anchor = ws.hit_at(path, line)
        if anchor is not None:
            found.append(Candidate(anchor, ENCLOSING, 0, "enclosing definition", ws.root))
    if query and query.strip():
        for rank, hit in enumerate(ws.search(query, k)):
            found.append(Candidate(hit, QUERY, rank, f"search rank {rank + 1}", ws.root))
            helpers = callees(ws, hit, limit=CALLEES_PER_HIT, same_file=True)
            after = max(rank, LEADING_HITS - 1)  # the first few chunks come first, unbroken
            for n, callee in enumerate(helpers, 1):
                reason = f"named by {hit.symbol or hit.kind}"
                found.append(Candidate(callee, QUERY, after + n / (len(helpers) + 1), reason, ws.root))
    if anchor is not None:
        name = anchor.symbol or anchor.kind
        for rank, hit in enumerate(callees(ws, anchor)):
            found.append(Candidate(hit, CALLEE, rank, f"named by {name}", ws.root))
        try:
            similar = ws.similar_to(anchor.path, anchor.start_line, SIMILAR_K)
        except LookupError:  # the file changed between the two reads
            similar = []
        for rank, hit in enumerate(similar):
            found.append(Candidate(hit, SIMILAR, rank, f"similar to {name}", ws.root))
    return found


@dataclass(frozen=True)
class Reference:
    name: str
    member: bool  # reached through self/this/cls: a method or field of the same type


def references(text: str, language: str) -> list[Reference]:
    """Names a definition uses, in order of first appearance: tree-sitter identifier leaves, less
    members of other objects (``os.open``, ``x.path``: not resolvable by name); a plain word scan
    for languages without a grammar."""
    if language not in LANGUAGE_SPECS:
        return [Reference(n, False) for n in dict.fromkeys(_IDENT.findall(text))]
    tree = new_parser(language).parse(text.encode("utf-8", "surrogatepass"))
    found: dict[str, Reference] = {}
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.child_count:
            stack.extend(reversed(node.children))
            continue
        if "identifier" not in node.type or not node.text:
            continue
        name = node.text.decode("utf-8", "replace")
        parent = node.parent
        member = False
        if parent is not None and parent.type in MEMBER_PARENTS and parent.named_children[0] != node:
            owner = parent.named_children[0].text or b""
            if owner.decode("utf-8", "replace") not in SELF_NAMES:
                continue
            member = True
        found.setdefault(name, Reference(name, member))
    return list(found.values())


def callees(ws: Workspace, anchor: Hit, *, limit: int = MAX_CALLEES, same_file: bool = False) -> list[Hit]:
    """Indexed definitions that ``anchor`` calls or names, the nearest definition of each name:
    ``self.f`` resolves to the anchor's own type, a bare name to a top-level definition or type."""
    own_name = anchor.symbol.rsplit(".", 1)[-1]
    container = anchor.symbol.rsplit(".", 1)[0] if "." in anchor.symbol else ""
    refs = [r for r in references(anchor.text, anchor.language) if r.name != own_name and len(r.name) > 1]
    if not refs:
        return []
    by_name: dict[str, list[Hit]] = {}
    for hit in ws.hits_named([r.name for r in refs]):
        if hit.chunk_id != anchor.chunk_id and not _thin_header(hit):
            by_name.setdefault(hit.symbol.rsplit(".", 1)[-1], []).append(hit)
    chosen: list[Hit] = []
    for ref in refs:
        fits = [
            h
            for h in by_name.get(ref.name, [])
            if (h.symbol == f"{container}.{ref.name}" if ref.member else _top_level_or_type(h))
            and (not same_file or h.path == anchor.path)
        ]
        if fits:
            chosen.append(min(fits, key=lambda h: (_distance(anchor.path, h.path), h.path, h.start_line)))
        if len(chosen) >= limit:
            break
    return chosen


def _top_level_or_type(hit: Hit) -> bool:
    return "." not in hit.symbol or hit.kind in HEADER_KINDS


def _distance(a: str, b: str) -> int:
    """Directory steps between two files (0: the same file)."""
    if a == b:
        return 0
    pa, pb = a.split("/")[:-1], b.split("/")[:-1]
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return 1 + (len(pa) - common) + (len(pb) - common)


# --- packing --------------------------------------------------------------------------------
def pack(candidates: Sequence[Candidate], token_budget: int, notes: Iterable[str] = ()) -> Context:
    """De-duplicate and pack candidates (from one or several workspaces) into the budget."""
    ordered = sorted(candidates, key=lambda c: (c.tier, c.rank, -c.hit.score))
    chosen: list[ContextPiece] = []
    kept: list[Candidate] = []
    words: list[set[str]] = []
    left = max(0, token_budget - FOOTER_TOKENS)
    omitted = 0
    lines = _LineCache()
    for cand in ordered:
        hit = cand.hit
        if _thin_header(hit) or any(_overlaps(cand, other) for other in kept):
            continue
        tokens_of = set(_IDENT.findall(hit.text))
        if any(_near_duplicate(tokens_of, other) for other in words):
            continue
        piece = _piece(cand, lines.indent(cand.root / hit.path, hit), left - SEPARATOR_TOKENS)
        if piece is None:
            omitted += 1
            continue
        chosen.append(piece)
        kept.append(cand)
        words.append(tokens_of)
        left -= piece.tokens + SEPARATOR_TOKENS
    return Context(tuple(chosen), token_budget, omitted, tuple(notes))


def _piece(cand: Candidate, indent: str, left: int) -> ContextPiece | None:
    hit = cand.hit
    text = indent + hit.text
    piece = ContextPiece(
        str(cand.root),
        hit.path,
        hit.start_line,
        hit.end_line,
        hit.symbol,
        hit.kind,
        hit.language,
        hit.score,
        cand.reason,
        text,
        0,
        cosine=hit.cosine,
    )
    tokens = count_tokens(piece.label) + 1 + count_tokens(text)
    if tokens <= left:
        return _with(piece, tokens=tokens)
    if cand.tier != ENCLOSING:
        return None
    # The enclosing definition is the point of a location request: keep its first lines.
    kept: list[str] = []
    cut = _with(piece, cut=True)
    used = count_tokens(cut.label) + 1
    for source_line in text.splitlines():
        cost = count_tokens(source_line) + 1
        if used + cost > left:
            break
        kept.append(source_line)
        used += cost
    if not kept:
        return None
    return _with(cut, text="\n".join(kept), tokens=used, end_line=hit.start_line + len(kept) - 1)


def _with(piece: ContextPiece, **changes: Any) -> ContextPiece:
    values = piece.__dict__ | changes
    return ContextPiece(**values)


def _thin_header(hit: Hit) -> bool:
    """A class/struct/... header that is just its declaration line carries nothing the method
    labels do not already say."""
    return hit.kind in HEADER_KINDS and sum(1 for ln in hit.text.splitlines() if ln.strip()) <= 1


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return (
        a.root == b.root
        and a.hit.path == b.hit.path
        and a.hit.start_line <= b.hit.end_line
        and b.hit.start_line <= a.hit.end_line
    )


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    if len(a) < 5 or len(b) < 5:
        return a == b and bool(a)
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE


class _LineCache:
    """The whitespace before a chunk's first character, read from its file (stored chunk text
    starts at the definition's column); spaces when the file changed or cannot be read."""

    def __init__(self) -> None:
        self._files: dict[Path, list[bytes] | None] = {}

    def indent(self, file: Path, hit: Hit) -> str:
        if hit.start_col <= 0:
            return ""
        if file not in self._files:
            try:
                self._files[file] = file.read_bytes().splitlines()
            except OSError:
                self._files[file] = None
        rows = self._files[file]
        if rows is not None and hit.start_line - 1 < len(rows):
            prefix = rows[hit.start_line - 1][: hit.start_col]
            if not prefix.strip():
                return prefix.decode("utf-8", "replace")
        return " " * hit.start_col
