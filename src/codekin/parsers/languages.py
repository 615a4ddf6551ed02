"""Per-language table: which grammar wheel to load and the few node types the chunker must know.

Everything else language-specific lives in ``queries/<language>.scm``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSpec:
    """How to load one grammar and the structural facts the generic chunker needs."""

    name: str
    module: str  # importable grammar package
    entry: str  # function of ``module`` returning the TSLanguage pointer
    # Node types that wrap a definition and belong to its span (decorators, ``export``, templates).
    wrappers: frozenset[str] = frozenset()
    # Adjacent same-named function clauses form one definition (Haskell equations, Elixir heads).
    merge_clauses: bool = False
    query: str = ""  # the .scm file to use when not ``<name>.scm`` (TSX shares TypeScript's)


def _spec(
    name: str,
    module: str,
    entry: str = "language",
    wrappers: tuple[str, ...] = (),
    *,
    merge_clauses: bool = False,
    query: str = "",
) -> LanguageSpec:
    return LanguageSpec(name, module, entry, frozenset(wrappers), merge_clauses, query or name)


_JS_WRAPPERS = ("export_statement",)

LANGUAGE_SPECS: dict[str, LanguageSpec] = {
    s.name: s
    for s in (
        _spec("python", "tree_sitter_python", wrappers=("decorated_definition",)),
        _spec("javascript", "tree_sitter_javascript", wrappers=_JS_WRAPPERS),
        _spec("typescript", "tree_sitter_typescript", "language_typescript", _JS_WRAPPERS),
        _spec("tsx", "tree_sitter_typescript", "language_tsx", _JS_WRAPPERS, query="typescript"),
        _spec("go", "tree_sitter_go"),
        _spec("rust", "tree_sitter_rust"),
        _spec("java", "tree_sitter_java"),
        _spec("c", "tree_sitter_c", wrappers=("type_definition", "declaration")),
        _spec("cpp", "tree_sitter_cpp", wrappers=("template_declaration", "type_definition", "declaration")),
        _spec("csharp", "tree_sitter_c_sharp"),
        _spec("ruby", "tree_sitter_ruby"),
        _spec("php", "tree_sitter_php", "language_php"),
        _spec("kotlin", "tree_sitter_kotlin"),
        _spec("scala", "tree_sitter_scala"),
        _spec("swift", "tree_sitter_swift"),
        _spec("lua", "tree_sitter_lua"),
        _spec("bash", "tree_sitter_bash"),
        _spec("elixir", "tree_sitter_elixir", merge_clauses=True),
        _spec("haskell", "tree_sitter_haskell", merge_clauses=True),
        _spec("zig", "tree_sitter_zig"),
    )
}

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_SPECS)

# Capture kinds (``@definition.<kind>``) that hold methods, and those that are function-like.
CONTAINER_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
FUNCTION_KINDS = frozenset({"function", "method"})
