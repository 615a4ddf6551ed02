"""A deterministic synthetic source corpus for bench/memory.py: files in five languages, each
holding functions with varied identifiers and bodies (no two chunks share their text, so their
vectors and BM25 rows differ). The same seed and sizes write byte-identical files."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


VERBS = _words(
    "parse load save fetch build render encode decode merge split filter sort resolve validate "
    "compute update remove insert find count format normalise compress expand register schedule "
    "dispatch retry flush open close read write lookup collect transform index rank score match "
    "sign verify hash cache evict refresh sync publish subscribe notify throttle batch stream"
)
NOUNS = _words(
    "config entry record user session token request response header payload message event queue "
    "buffer chunk file path node tree graph edge vertex column row table query result cursor page "
    "item order invoice account balance ledger price product cart address email template layout "
    "widget frame packet socket channel worker task job report metric sample span trace log"
)
ADJECTIVES = _words(
    "pending active stale cached remote local primary secondary raw compact sorted unique partial "
    "nested empty default current previous next total max min first last valid dirty"
)
LANGUAGES = ("python", "go", "javascript", "rust", "java")
EXTENSIONS = {"python": "py", "go": "go", "javascript": "js", "rust": "rs", "java": "java"}


class Names:
    """Identifier pieces drawn from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def words(self, n: int) -> list[str]:
        pools = (VERBS, ADJECTIVES, NOUNS)
        return [self.rng.choice(pools[min(i, 2)] if i < n - 1 else NOUNS) for i in range(n)]

    def function(self, serial: int) -> list[str]:
        return [self.rng.choice(VERBS), *self.words(self.rng.randint(1, 2)), f"v{serial}"]

    def var(self) -> list[str]:
        return self.words(self.rng.randint(1, 2))

    def number(self) -> int:
        return self.rng.randint(0, 9999)


def snake(parts: list[str]) -> str:
    return "_".join(parts)


def camel(parts: list[str]) -> str:
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def _python(n: Names, name: list[str]) -> str:
    a, b, c = snake(n.var()), snake(n.var()), snake(n.var())
    lines = [f"def {snake(name)}({a}, {b}=None):", f'    """{" ".join(name[:-1]).capitalize()} for {b}."""']
    lines.append(f"    {c} = []")
    for _ in range(n.rng.randint(2, 6)):
        kind = n.rng.randrange(4)
        v = snake(n.var())
        if kind == 0:
            lines += [
                f"    for {v} in {a}:",
                f"        if {v} is not None and {v} != {n.number()}:",
                f"            {c}.append({v})",
            ]
        elif kind == 1:
            lines += [f"    if {b} is None:", f"        {b} = {{'{v}': {n.number()}}}"]
        elif kind == 2:
            lines += [f"    {v} = len({c}) * {n.number()} + {n.rng.randint(1, 99)}", f"    {c}.append({v})"]
        else:
            lines += [
                "    try:",
                f"        {v} = {a}[{n.rng.randint(0, 9)}]",
                "    except (IndexError, KeyError):",
                f"        {v} = {b}",
            ]
    lines.append(f"    return {c}")
    return "\n".join(lines)


def _go(n: Names, name: list[str]) -> str:
    a, b, c = camel(n.var()), camel(n.var()), camel(n.var())
    lines = [
        f"// {camel(name)} {' '.join(name[:-1])}s the given {b}.",
        f"func {camel(name)}({a} []int, {b} string) ([]int, error) {{",
    ]
    lines.append(f"\t{c} := make([]int, 0, len({a}))")
    for _ in range(n.rng.randint(2, 6)):
        kind = n.rng.randrange(4)
        v = camel(n.var())
        if kind == 0:
            lines += [
                f"\tfor _, {v} := range {a} {{",
                f"\t\tif {v} > {n.number()} {{",
                f"\t\t\t{c} = append({c}, {v})",
                "\t\t}",
                "\t}",
            ]
        elif kind == 1:
            lines += [
                f'\tif {b} == "{v}" {{',
                f'\t\treturn nil, fmt.Errorf("{" ".join(name[:-1])}: %s", {b})',
                "\t}",
            ]
        elif kind == 2:
            lines += [f"\t{v} := len({c})*{n.number()} + {n.rng.randint(1, 99)}", f"\t{c} = append({c}, {v})"]
        else:
            lines += [f"\tif len({a}) > {n.rng.randint(1, 9)} {{", f"\t\t{a} = {a}[1:]", "\t}"]
    lines += [f"\treturn {c}, nil", "}"]
    return "\n".join(lines)


def _javascript(n: Names, name: list[str]) -> str:
    a, b, c = camel(n.var()), camel(n.var()), camel(n.var())
    lines = [
        f"/** {' '.join(name[:-1]).capitalize()} from {a}. */",
        f"function {camel(name)}({a}, {b} = {{}}) {{",
    ]
    lines.append(f"  const {c} = [];")
    for _ in range(n.rng.randint(2, 6)):
        kind = n.rng.randrange(4)
        v = camel(n.var())
        if kind == 0:
            lines += [
                f"  for (const {v} of {a}) {{",
                f"    if ({v} && {v}.id !== {n.number()}) {c}.push({v});",
                "  }",
            ]
        elif kind == 1:
            lines += [f"  if (!{b}.{v}) {{", f"    {b}.{v} = {n.number()};", "  }"]
        elif kind == 2:
            lines += [
                f"  const {v} = {c}.length * {n.number()} + {n.rng.randint(1, 99)};",
                f"  {c}.push({v});",
            ]
        else:
            lines += [
                "  try {",
                f"    {c}.push(JSON.parse({a}[{n.rng.randint(0, 9)}]));",
                "  } catch (err) {",
                f"    {c}.push({b}.{v});",
                "  }",
            ]
    lines += [f"  return {c};", "}"]
    return "\n".join(lines)


def _rust(n: Names, name: list[str]) -> str:
    a, b, c = snake(n.var()), snake(n.var()), snake(n.var())
    lines = [
        f"/// {' '.join(name[:-1]).capitalize()} the {a}.",
        f"pub fn {snake(name)}({a}: &[u64], {b}: Option<u64>) -> Vec<u64> {{",
    ]
    lines.append(f"    let mut {c} = Vec::with_capacity({a}.len());")
    for _ in range(n.rng.randint(2, 6)):
        kind = n.rng.randrange(4)
        v = snake(n.var())
        if kind == 0:
            lines += [
                f"    for {v} in {a}.iter() {{",
                f"        if *{v} > {n.number()} {{",
                f"            {c}.push(*{v});",
                "        }",
                "    }",
            ]
        elif kind == 1:
            lines += [f"    if let Some({v}) = {b} {{", f"        {c}.push({v} + {n.number()});", "    }"]
        elif kind == 2:
            lines += [
                f"    let {v} = {c}.len() as u64 * {n.number()} + {n.rng.randint(1, 99)};",
                f"    {c}.push({v});",
            ]
        else:
            lines += [
                f"    match {a}.get({n.rng.randint(0, 9)}) {{",
                f"        Some({v}) => {c}.push(*{v}),",
                f"        None => {c}.push({n.number()}),",
                "    }",
            ]
    lines += [f"    {c}", "}"]
    return "\n".join(lines)


def _java(n: Names, name: list[str]) -> str:
    a, b, c = camel(n.var()), camel(n.var()), camel(n.var())
    lines = [
        f"    /** {' '.join(name[:-1]).capitalize()} the {a}. */",
        f"    public static List<Integer> {camel(name)}(List<Integer> {a}, String {b}) {{",
    ]
    lines.append(f"        List<Integer> {c} = new ArrayList<>();")
    for _ in range(n.rng.randint(2, 6)):
        kind = n.rng.randrange(4)
        v = camel(n.var())
        if kind == 0:
            lines += [
                f"        for (Integer {v} : {a}) {{",
                f"            if ({v} != null && {v} > {n.number()}) {{",
                f"                {c}.add({v});",
                "            }",
                "        }",
            ]
        elif kind == 1:
            lines += [
                f'        if ("{v}".equals({b})) {{',
                f"            {c}.add({n.number()});",
                "        }",
            ]
        elif kind == 2:
            lines += [
                f"        int {v} = {c}.size() * {n.number()} + {n.rng.randint(1, 99)};",
                f"        {c}.add({v});",
            ]
        else:
            lines += [
                "        try {",
                f"            {c}.add({a}.get({n.rng.randint(0, 9)}));",
                "        } catch (IndexOutOfBoundsException e) {",
                f"            {c}.add({n.number()});",
                "        }",
            ]
    lines += [f"        return {c};", "    }"]
    return "\n".join(lines)


FUNCTIONS: dict[str, Callable[[Names, list[str]], str]] = {
    "python": _python,
    "go": _go,
    "javascript": _javascript,
    "rust": _rust,
    "java": _java,
}


def source_file(language: str, stem: str, functions: list[str]) -> str:
    """One file of ``language`` holding ``functions`` (their text), with the header it needs."""
    body = "\n\n".join(functions)
    if language == "python":
        return f'"""Module {stem}."""\n\n\n' + body.replace("\n\ndef ", "\n\n\ndef ") + "\n"
    if language == "go":
        return f'package {stem.split("_")[0]}\n\nimport "fmt"\n\n' + body + "\n"
    if language == "javascript":
        return body + f'\n\nmodule.exports = {{ name: "{stem}" }};\n'
    if language == "rust":
        return f"//! Module {stem}.\n\n" + body + "\n"
    cls = "".join(p.capitalize() for p in stem.split("_"))
    imports = "import java.util.ArrayList;\nimport java.util.List;\n"
    return f"package bench.{stem};\n\n{imports}\npublic final class {cls} {{\n{body}\n}}\n"


def generate(root: Path, files: int, functions_per_file: int = 20, seed: int = 0) -> list[Path]:
    """Write ``files`` source files (languages in turn) of ``functions_per_file`` functions each
    under ``root``, in folders of 100 files. Returns the paths written, in order."""
    rng = random.Random(seed)
    names = Names(rng)
    written: list[Path] = []
    serial = 0
    for i in range(files):
        language = LANGUAGES[i % len(LANGUAGES)]
        stem = f"{rng.choice(NOUNS)}_{rng.choice(VERBS)}_{i}"
        texts = []
        for _ in range(functions_per_file):
            texts.append(FUNCTIONS[language](names, names.function(serial)))
            serial += 1
        path = root / f"pkg{i // 100:03d}" / language / f"{stem}.{EXTENSIONS[language]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source_file(language, stem, texts), encoding="utf-8")
        written.append(path)
    return written
