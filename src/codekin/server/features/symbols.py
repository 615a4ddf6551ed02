"""``workspace/symbol``: semantic search results as WorkspaceSymbols."""

from __future__ import annotations

from lsprotocol import types

from codekin.hit import Hit
from codekin.server.core import CodekinServer
from codekin.server.features.search import search_folders, to_items
from codekin.server.wire import SearchItem, SearchParams

LIMIT = 50
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


def register(server: CodekinServer) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: CodekinServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        if not params.query.strip():
            return []
        query = SearchParams(params.query, LIMIT)

        def run() -> list[tuple[Hit, SearchItem]]:
            found, _ = search_folders(ls, query)
            found = [(f, h) for f, h in found if f is not None]  # symbols open files: local hits only
            return [(hit, item) for (_, hit), item in zip(found, to_items(ls, found), strict=True)]

        found = await ls.in_reader(run)
        symbols: list[types.WorkspaceSymbol] = []
        for hit, item in found:
            name = hit.symbol or (item.preview.splitlines() or [hit.path])[0].strip()[:80]
            container, _, _ = hit.symbol.rpartition(".")
            symbols.append(
                types.WorkspaceSymbol(
                    name=name,
                    kind=SYMBOL_KINDS.get(hit.kind, types.SymbolKind.Function),
                    location=types.Location(uri=item.uri, range=item.range),
                    container_name=container or hit.path,
                    data={"score": hit.score},
                )
            )
        return symbols
