"""Language detection from a file's name, extension or shebang line."""

from __future__ import annotations

import re

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".tpp": "cpp",
    ".inl": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".gemspec": "ruby",
    ".ru": "ruby",
    ".php": "php",
    ".phtml": "php",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".sc": "scala",
    ".swift": "swift",
    ".lua": "lua",
    ".sh": "bash",
    ".bash": "bash",
    ".zsh": "bash",
    ".ksh": "bash",
    ".ex": "elixir",
    ".exs": "elixir",
    ".hs": "haskell",
    ".lhs": "haskell",
    ".zig": "zig",
}

_FILENAMES: dict[str, str] = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
    "Guardfile": "ruby",
    "Podfile": "ruby",
    "Vagrantfile": "ruby",
    "Brewfile": "ruby",
    "Fastfile": "ruby",
    ".bashrc": "bash",
    ".bash_profile": "bash",
    ".zshrc": "bash",
    ".zprofile": "bash",
    ".profile": "bash",
    "PKGBUILD": "bash",
}

_INTERPRETERS: dict[str, str] = {
    "python": "python",
    "pythonw": "python",
    "pypy": "python",
    "node": "javascript",
    "nodejs": "javascript",
    "deno": "typescript",
    "bun": "typescript",
    "ts-node": "typescript",
    "tsx": "typescript",
    "sh": "bash",
    "bash": "bash",
    "zsh": "bash",
    "ksh": "bash",
    "dash": "bash",
    "ash": "bash",
    "ruby": "ruby",
    "lua": "lua",
    "luajit": "lua",
    "php": "php",
    "elixir": "elixir",
    "runhaskell": "haskell",
    "runghc": "haskell",
    "stack": "haskell",
    "scala": "scala",
    "swift": "swift",
    "kotlin": "kotlin",
}

# Non-grammar files: a short language name for fallback windows.
_TEXT_EXTENSIONS: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".adoc": "asciidoc",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".json": "json",
    ".jsonc": "json",
    ".json5": "json",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
    ".html": "html",
    ".htm": "html",
    ".xml": "xml",
    ".svg": "xml",
    ".css": "css",
    ".scss": "css",
    ".less": "css",
    ".sql": "sql",
    ".proto": "proto",
    ".graphql": "graphql",
    ".gql": "graphql",
    ".vue": "vue",
    ".svelte": "svelte",
    ".dart": "dart",
    ".r": "r",
    ".jl": "julia",
    ".pl": "perl",
    ".m": "objc",
    ".mm": "objc",
    ".ml": "ocaml",
    ".clj": "clojure",
    ".erl": "erlang",
    ".tf": "hcl",
    ".gradle": "groovy",
    ".groovy": "groovy",
    ".cmake": "cmake",
    ".mk": "make",
    ".nix": "nix",
}
_TEXT_FILENAMES: dict[str, str] = {
    "Dockerfile": "dockerfile",
    "Containerfile": "dockerfile",
    "Makefile": "make",
    "GNUmakefile": "make",
    "CMakeLists.txt": "cmake",
    "BUILD": "starlark",
    "WORKSPACE": "starlark",
}

_CPP_MARKERS = re.compile(
    rb"^\s*(?:class\s+\w|namespace\s+\w|template\s*<|(?:public|private|protected)\s*:)|\bstd::",
    re.MULTILINE,
)
_VERSION_SUFFIX = re.compile(r"[\d.]+$")


def _split_name(path: str) -> tuple[str, str]:
    """(file name, lower-cased extension including the dot, or "")."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name, (name[dot:].lower() if dot > 0 else "")


def _shebang_language(head: bytes) -> str | None:
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    words = line.split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not rest:
            return None
        program = rest[0].rsplit("/", 1)[-1]
    return _INTERPRETERS.get(_VERSION_SUFFIX.sub("", program) or program)


HEAD_BYTES = 256  # how much of a file the detection reads (a shebang, a C++ header's first lines)


def detect_language(path: str, head: bytes = b"") -> str | None:
    """The grammar language for ``path`` (extension, well-known name, then shebang in ``head``,
    the file's first :data:`HEAD_BYTES`), else None."""
    name, ext = _split_name(path)
    language = _FILENAMES.get(name) or _EXTENSIONS.get(ext)
    if language == "c" and ext == ".h" and looks_like_cpp(head):
        return "cpp"
    if language is not None:
        return language
    return _shebang_language(head)


def looks_like_cpp(data: bytes) -> bool:
    """Heuristic for ``.h`` headers: obvious C++ constructs (class, namespace, template, std::)."""
    return _CPP_MARKERS.search(data) is not None


def text_language(path: str) -> str:
    """Short name for a file without a grammar ("markdown", "yaml", ... or "text")."""
    name, ext = _split_name(path)
    return _TEXT_FILENAMES.get(name) or _TEXT_EXTENSIONS.get(ext) or "text"
