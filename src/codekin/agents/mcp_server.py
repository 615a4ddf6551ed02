"""``codekin mcp``: a stdio MCP server (official SDK, ``MCPServer``) over the same Workspace as the
CLI and the language server. Tools: search, find_similar, context, index_status, reindex.

Every answer is plain text within a token budget (default well under 10k tokens) and says when
it was cut. The roots come from the command line, else the client's MCP roots, else the
working directory; several roots are several indexes searched together."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from codekin.agents.answers import BadCursor, Found, Snippet, fingerprint, list_hits, make_cursor, read_cursor
from codekin.agents.roots import AgentRoots
from codekin.context import build_context
from codekin.index.lock import IndexLocked
from codekin.index.search import Filters
from codekin.paths import uri_to_path

log = logging.getLogger(__name__)

T = TypeVar("T")
READY_WAIT_S = 30.0  # a call waits this long for a first index before answering from a partial one
ROOTS_WAIT_S = 5.0
MAX_RESULTS = 200  # deepest result a cursor can reach
DEFAULT_TOKENS = 4000
MAX_TOKENS = 20000

INSTRUCTIONS = """codekin: local semantic code search over this repository (no network).
- search: find code by meaning or identifier ("where are retries configured"); files=true for files.
- find_similar: code like a location (path + line) or a snippet, across languages by default.
- context: before editing, the code a task needs (question and/or path + line) within a token budget.
- index_status: how fresh the index is; reindex: after large changes if results look stale.
Answers are bounded; follow `cursor` for more search results."""

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Tokens = Annotated[int, Field(ge=50, le=MAX_TOKENS, description="upper bound on the answer's tokens")]
Paths = Annotated[
    list[str] | None, Field(description="only paths matching these gitignore-style globs, e.g. ['src/**']")
]


class CodekinMCP:
    """The tools, bound to one set of roots."""

    def __init__(
        self, roots: AgentRoots, explicit_roots: Sequence[Path] = (), cwd: Path | None = None
    ) -> None:
        self.roots = roots
        self.explicit = list(explicit_roots)
        self.cwd = cwd or Path.cwd()
        self.server: MCPServer[Any] = MCPServer(
            "codekin", instructions=INSTRUCTIONS, version=_version(), log_level="WARNING"
        )
        self._register()

    # --- plumbing ---------------------------------------------------------------------------
    async def _ready(self, ctx: Context[Any, Any] | None) -> list[str]:
        """Resolve the roots once, bring in file changes, wait a while for a first index;
        returns notes for the answer (partial results, errors)."""
        if not self.roots.resolved:
            roots = self.explicit or await _client_roots(ctx) or [self.cwd]
            self.roots.open(roots)
        await anyio.to_thread.run_sync(self.roots.wait_ready, READY_WAIT_S)
        await anyio.to_thread.run_sync(self.roots.sync)
        notes: list[str] = []
        for folder in self.roots.folders:
            if folder.state == "indexing":
                p = self.roots.progress.get(folder.root)
                latest = p.latest if p else None
                if latest is not None and latest.phase == "embedding":
                    notes.append(
                        f"{folder.root} is being embedded ({latest.embedded}/{latest.to_embed} chunks): "
                        "results are partial, the rest found by keywords only"
                    )
                else:
                    where = f" ({latest.files_done}/{latest.files_total} files)" if latest else ""
                    notes.append(f"{folder.root} is still being indexed{where}: results are partial")
            notes += [f"{folder.root}: {e}" for e in folder.errors[-2:]]
        if not self.roots.workspaces():
            raise ToolError("no index is available yet: " + ("; ".join(notes) or "no usable root"))
        return notes

    @staticmethod
    async def _run(fn: Callable[..., T], *args: Any) -> T:
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except (LookupError, ValueError, IndexLocked, OSError) as exc:
            raise ToolError(str(exc).strip("'\"")) from exc

    def _several(self) -> bool:
        return len(self.roots.folders) > 1

    # --- tools ------------------------------------------------------------------------------
    def _register(self) -> None:
        server = self.server

        @server.tool(annotations=_READ_ONLY, structured_output=False)
        async def search(
            query: Annotated[str, Field(min_length=1, description="plain words or an identifier")],
            ctx: Context[Any, Any],
            k: Annotated[int, Field(ge=1, le=50, description="results per page")] = 10,
            languages: Annotated[list[str] | None, Field(description="only these languages")] = None,
            paths: Paths = None,
            files: Annotated[bool, Field(description="one result per file (the files that answer)")] = False,
            snippet: Annotated[
                Snippet, Field(description="path: locations only; short: first lines; full: whole chunk")
            ] = "short",
            cursor: Annotated[str | None, Field(description="from a previous answer: the next page")] = None,
            max_tokens: Tokens = DEFAULT_TOKENS,
            repos: Annotated[
                list[str] | None, Field(description="shared org index (store setting): only these repos")
            ] = None,
            explain: Annotated[
                bool, Field(description="under each result, every signal that placed it (dense, BM25, ...)")
            ] = False,
        ) -> str:
            """Semantic code search over the indexed repositories: the best chunks (functions,
            methods, classes) for a natural-language question or an identifier."""
            if not query.strip():
                raise ToolError("query is empty")
            query_id = fingerprint(query, languages, paths, files, repos)
            try:
                offset = read_cursor(cursor, query_id)
            except BadCursor as exc:
                raise ToolError(str(exc)) from exc
            notes = await self._ready(ctx)
            want = min(offset + k, MAX_RESULTS)
            found, partial = await self._run(
                self._search_all, query, want, languages, paths, files, repos, explain
            )
            notes += partial
            page = found[offset:want]
            listing = list_hits(
                page, start=offset, snippet=snippet, max_tokens=max_tokens, several_roots=self._several()
            )
            end = offset + listing.shown
            head = f"results {offset + 1}-{end}" if page else "no results"
            lines = [f"search {query!r}: {head}"]
            if listing.text:
                lines.append(listing.text)
            more = end < len(found) or (len(found) >= want and want < MAX_RESULTS)
            if listing.cut:
                lines.append(f"# cut at {listing.tokens} tokens (max_tokens={max_tokens})")
            if more and page:
                next_page = make_cursor(query_id, end)
                lines.append(f"# more: call search with the same query and cursor={next_page!r}")
            if explain and page and (why := page[0].hit.explain) is not None:
                lines.append(
                    f"# explained with model {why['model']} (weights {why['weights_hash'][:16]}), "
                    f"index generation {why['index_generation']}"
                )
            lines += [f"# note: {n}" for n in notes]
            return "\n".join(lines)

        @server.tool(annotations=_READ_ONLY, structured_output=False)
        async def find_similar(
            ctx: Context[Any, Any],
            path: Annotated[str | None, Field(description="file (relative to a root, or absolute)")] = None,
            line: Annotated[int | None, Field(ge=1, description="1-based line inside the definition")] = None,
            code: Annotated[str | None, Field(description="a code snippet instead of a location")] = None,
            language: Annotated[str | None, Field(description="the snippet's language")] = None,
            same_language: Annotated[bool, Field(description="only results in the same language")] = False,
            k: Annotated[int, Field(ge=1, le=50)] = 10,
            snippet: Snippet = "short",
            max_tokens: Tokens = DEFAULT_TOKENS,
        ) -> str:
            """Code similar to the definition at path:line, or to a code snippet; results from
            every language unless same_language is set."""
            if (code is None or not code.strip()) == (path is None):
                raise ToolError("give either path (with line) or code")
            notes = await self._ready(ctx)
            found = await self._run(self._similar, path, line or 1, code, language, same_language, k)
            listing = list_hits(
                found, start=0, snippet=snippet, max_tokens=max_tokens, several_roots=self._several()
            )
            what = f"{path}:{line or 1}" if path is not None else "the snippet"
            lines = [f"similar to {what}: {listing.shown} results" if found else f"nothing similar to {what}"]
            if listing.text:
                lines.append(listing.text)
            if listing.cut:
                lines.append(f"# cut at {listing.tokens} tokens (max_tokens={max_tokens})")
            lines += [f"# note: {n}" for n in notes]
            return "\n".join(lines)

        @server.tool(annotations=_READ_ONLY, structured_output=False)
        async def context(
            ctx: Context[Any, Any],
            question: Annotated[str | None, Field(description="what the task is about")] = None,
            path: Annotated[str | None, Field(description="a file being worked on")] = None,
            line: Annotated[int | None, Field(ge=1, description="1-based line in that file")] = None,
            max_tokens: Annotated[int, Field(ge=50, le=MAX_TOKENS)] = 2000,
        ) -> str:
            """The code a task needs, within a token budget: the question's best chunks and,
            around path:line, the enclosing definition, what it calls and code like it. Each piece
            is labelled with path, lines, symbol and why it was chosen."""
            has_question = question is not None and bool(question.strip())
            if not has_question and path is None:
                raise ToolError("give a question, or path and line, or both")
            if path is not None and line is None:
                raise ToolError("path needs a line")
            notes = await self._ready(ctx)
            return await self._run(self._context, question, path, line, max_tokens, notes)

        @server.tool(annotations=_READ_ONLY, structured_output=False)
        async def index_status(ctx: Context[Any, Any]) -> str:
            """Per root: files, chunks, share embedded, last update, model, stale files, watcher."""
            notes = await self._ready(ctx)
            text = await self._run(self._status)
            return "\n".join([text, *(f"# note: {n}" for n in notes)])

        @server.tool(
            annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True),
            structured_output=False,
        )
        async def reindex(
            ctx: Context[Any, Any],
            paths: Annotated[list[str] | None, Field(description="only re-check these files")] = None,
            full: Annotated[bool, Field(description="drop the index and re-embed everything")] = False,
        ) -> str:
            """Bring the index up to date now (it is normally kept fresh by a file watcher)."""
            await self._ready(ctx)
            stats = await self._run(self.roots.reindex, full, list(paths or []))
            files = sum(s.files_indexed for s in stats)
            removed = sum(s.files_removed for s in stats)
            embedded = sum(s.embedded for s in stats)
            return f"reindexed: {files} files updated, {removed} removed, {embedded} chunks embedded"

    # --- work (reader threads) ----------------------------------------------------------------
    def _search_all(
        self,
        query: str,
        k: int,
        languages: list[str] | None,
        paths: list[str] | None,
        files: bool,
        repos: list[str] | None = None,
        explain: bool = False,
    ) -> tuple[list[Found], list[str]]:
        """The best ``k`` over every root, and a note for each root not fully embedded while no
        run of ours is indexing it (another process is, say): the rest matched by keywords only."""
        found: list[Found] = []
        notes: list[str] = []
        indexing = {f.root for f in self.roots.folders if f.state == "indexing"}  # noted already
        workspaces = self.roots.workspaces()
        merged = [ws for ws in workspaces if ws.settings.org_store and not (files or explain)]
        if merged:  # ranked together with their shared org index; its hits name their repository
            filters = Filters(tuple(languages or ()), tuple(paths or ()))
            pairs = self.roots.state.org.search(merged, query, k, filters, repos or ())
            found += [Found(ws.root if ws is not None else Path(h.repo), h) for ws, h in pairs]
            notes += self.roots.state.org.problems()
        for ws in workspaces:
            if files:
                listed = ws.files(query, k, languages=languages, paths=paths, explain=explain)
                hits, coverage = [f.hits[0] for f in listed if f.hits], listed.coverage
            elif ws in merged:
                hits, coverage = [], ws.coverage()
            else:
                hits = ws.search(query, k, languages=languages, paths=paths, repos=repos, explain=explain)
                coverage = hits.coverage
            if coverage.partial and ws.root not in indexing:
                notes.append(
                    f"{ws.root}: {coverage.embedded}/{coverage.total} chunks embedded so far; "
                    "results are partial, the rest found by keywords only"
                )
            found += [Found(ws.root, h) for h in hits]
        if self._several() and len(merged) < len(workspaces):  # several lists interleave by score
            found.sort(key=lambda f: -f.hit.score)
        return found[:k], notes

    def _similar(
        self, path: str | None, line: int, code: str | None, language: str | None, same: bool, k: int
    ) -> list[Found]:
        if path is not None:
            ws, rel = self.roots.locate(path)
            anchor = ws.hit_at(rel, line)
            if anchor is None:
                raise LookupError(f"no indexed definition at {rel}:{line} (is the file indexed? try reindex)")
            hits = ws.similar_to(rel, line, k, languages=[anchor.language] if same else None)
            return [Found(ws.root, h) for h in hits]
        assert code is not None
        found: list[Found] = []
        for ws in self.roots.workspaces():
            hits = ws.similar(code, language, k, languages=[language] if same and language else None)
            found += [Found(ws.root, h) for h in hits]
        found.sort(key=lambda f: -f.hit.score)
        return found[:k]

    def _context(
        self, question: str | None, path: str | None, line: int | None, budget: int, notes: list[str]
    ) -> str:
        absolute: Path | None = None
        if path is not None:
            ws, rel = self.roots.locate(path)
            absolute = ws.root / rel
            if ws.hit_at(rel, line or 1) is None:
                notes = [*notes, f"no indexed definition at {rel}:{line}; only the question's results"]
        built = build_context(
            self.roots.workspaces(),
            query=question,
            path=absolute,
            line=line,
            token_budget=budget,
            notes=notes,
        )
        return built.render()

    def _status(self) -> str:
        blocks: list[str] = []
        for folder in self.roots.folders:
            ws = folder.workspace
            if ws is None:
                blocks.append(f"root: {folder.root}\n  state: {folder.state}")
                continue
            st = ws.status()
            fresh = ws.freshness(limit=10)
            share = fresh.embedded / fresh.chunks if fresh.chunks else 1.0
            updated = (
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.last_updated))
                if st.last_updated
                else "never"
            )
            stale = str(fresh.stale_count)
            if fresh.stale:
                more = " …" if fresh.stale_count > len(fresh.stale) else ""
                stale += f" ({', '.join(fresh.stale)}{more})"
            blocks.append(
                f"root: {folder.root}\n  state: {folder.state}\n  files: {st.files}\n  chunks: {st.chunks}\n"
                f"  embedded: {share:.0%}\n  last update: {updated}\n  model: {st.model}\n"
                f"  stale files: {stale}\n  watcher: {self.roots.state.watcher}"
            )
        return "\n".join(blocks)


async def _client_roots(ctx: Context[Any, Any] | None) -> list[Path]:
    """The client's MCP roots (file URIs), when it declares them; [] otherwise."""
    if ctx is None or ctx.client_capabilities is None or ctx.client_capabilities.roots is None:
        return []
    try:
        with warnings.catch_warnings(), anyio.fail_after(ROOTS_WAIT_S):
            warnings.simplefilter("ignore")  # roots are deprecated in the 2026 protocol, still used
            result = await ctx.session.list_roots()
    except Exception as exc:  # no back-channel, timeout, client error: fall back to the cwd
        log.info("cannot list the client's roots (%s); using the working directory", exc)
        return []
    return [p for r in result.roots if (p := uri_to_path(str(r.uri))) is not None]


def _version() -> str:
    from codekin import __version__

    return __version__


def build_server(
    roots: Sequence[Path] = (),
    overrides: dict[str, Any] | None = None,
    *,
    encoder: Any = None,
    watch: bool = True,
    cwd: Path | None = None,
) -> CodekinMCP:
    """The MCP server; ``roots`` fixes the roots (else the client's, else ``cwd``)."""
    return CodekinMCP(AgentRoots(overrides, encoder=encoder, watch=watch), roots, cwd)


def run_stdio(roots: Sequence[Path] = (), overrides: dict[str, Any] | None = None) -> int:
    """Serve over stdin/stdout until the client closes them."""
    app = build_server(roots, overrides)
    try:
        app.server.run("stdio")
    finally:
        app.roots.close()
    return 0
