"""The miner's exact pairs for a small fixture in several languages (no network, no model)."""

from __future__ import annotations

import json
from pathlib import Path

from training.docs import clean_query, identifier_words, split_doc
from training.fetch import STAMP
from training.mine import MineConfig, mine_all, mine_text, repo_relative
from training.sources import Source, load_manifest, semble_conflicts

PY = b'''import os


class Queue:
    """A FIFO queue backed by a list."""

    def push_item(self, item):
        """Append an item to the end of the queue.

        Returns the new length.
        """
        self.items.append(item)
        return len(self.items)

    def size(self):
        return len(self.items)
'''

GO = b"""package q

// Reverse returns a new slice with the elements of s in reverse order.
func Reverse(s []int) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
"""

JS = b"""/**
 * Parses an ISO date string into a {@link Date} object.
 * @param {string} s the text
 */
export function parseIsoDate(s) {
  const d = new Date(s);
  return isNaN(d) ? null : d;
}
"""

RS = b"""/// Computes the greatest common divisor of two numbers.
#[inline]
pub fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 { let t = b; b = a % b; a = t; }
    a
}
"""

RB = b"""class Stack
  # Removes and returns the top element of the stack.
  def pop_top
    raise "empty" if @items.empty?
    @items.pop
  end
end
"""

FIXTURE = {"q/queue.py": PY, "q/rev.go": GO, "src/date.js": JS, "src/gcd.rs": RS, "lib/stack.rb": RB}

EXPECTED = [
    (
        "q/queue.py",
        "Queue.push_item",
        [
            ["doc", "Append an item to the end of the queue"],
            ["ident", "push item"],
            ["template", "append an item to the end of the queue in python"],
            ["keywords", "append item end queue"],
        ],
        "q/queue.py\nmethod Queue.push_item\ndef push_item(self, item):\n"
        "        self.items.append(item)\n        return len(self.items)",
    ),
    (
        "q/rev.go",
        "Reverse",
        [
            ["doc", "Reverse returns a new slice with the elements of s in reverse order"],
            ["template", "get a new slice with the elements of s in reverse order in go"],
            ["keywords", "returns new slice elements s reverse"],
        ],
        "q/rev.go\nfunction Reverse\nfunc Reverse(s []int) []int {\n\tout := make([]int, len(s))\n"
        "\tfor i, v := range s {\n\t\tout[len(s)-1-i] = v\n\t}\n\treturn out\n}",
    ),
    (
        "src/date.js",
        "parseIsoDate",
        [
            ["doc", "Parses an ISO date string into a Date object"],
            ["ident", "parse iso date"],
            ["template", "how to parse an iso date string into a date object"],
            ["keywords", "parses iso date string into date"],
        ],
        "src/date.js\nfunction parseIsoDate\nexport function parseIsoDate(s) {\n"
        "  const d = new Date(s);\n  return isNaN(d) ? null : d;\n}",
    ),
    (
        "src/gcd.rs",
        "gcd",
        [
            ["doc", "Computes the greatest common divisor of two numbers"],
            ["template", "compute the greatest common divisor of two numbers in rust"],
            ["keywords", "computes greatest common divisor two numbers"],
        ],
        "src/gcd.rs\nfunction gcd\n#[inline]\npub fn gcd(mut a: u64, mut b: u64) -> u64 {\n"
        "    while b != 0 { let t = b; b = a % b; a = t; }\n    a\n}",
    ),
    (
        "lib/stack.rb",
        "Stack.pop_top",
        [
            ["doc", "Removes and returns the top element of the stack"],
            ["ident", "pop top"],
            ["template", "how to remove and returns the top element of the stack"],
            ["keywords", "removes returns top element stack"],
        ],
        "lib/stack.rb\nmethod Stack.pop_top\ndef pop_top\n"
        '    raise "empty" if @items.empty?\n    @items.pop\n  end',
    ),
]


def test_exact_pairs_per_language() -> None:
    got = []
    for rel, data in FIXTURE.items():
        for rec in mine_text("fixture", rel, data):
            got.append((rec.path, rec.symbol, rec.queries, rec.positive))
    assert got == EXPECTED


def test_doc_removed_and_prefix_is_encoder_input() -> None:
    from codekin.embeddings.inputs import encoder_input
    from codekin.parsers import chunk_file

    recs = mine_text("fixture", "q/queue.py", PY)
    assert len(recs) == 1  # the class header is too short once its docstring is gone; size() has no doc
    chunk = next(c for c in chunk_file("q/queue.py", PY) if c.symbol == "push_item")
    assert '"""' not in recs[0].positive
    assert recs[0].positive.split("\n")[:2] == encoder_input(chunk).split("\n")[:2]


def _write_source(cache: Path, name: str, files: dict[str, bytes]) -> Source:
    root = cache / "src" / name
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / STAMP).write_text("1\n")
    return Source(name, "npm", name, "1", "MIT", "", ())


def test_mine_all_dedupes_splits_and_caps(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _write_source(cache, "a", {"package/q/rev.go": GO, "package/src/date.js": JS})
    b = _write_source(cache, "b", {"b-1.0/src/gcd.rs": RS, "b-1.0/q/rev.go": GO, "b-1.0/vendor/x.py": PY})
    valid = Source("a", "npm", "a", "1", "MIT", "", (), split="valid")
    stats = mine_all([valid, b], cache, tmp_path / "out", MineConfig(per_source_cap=1), workers=1)
    train = [json.loads(line) for line in (tmp_path / "out" / "train.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (tmp_path / "out" / "valid.jsonl").read_text().splitlines()]
    assert [r["path"] for r in held] == ["q/rev.go"]  # capped at 1 of 2, package/ prefix removed
    # b: its copy of rev.go is a held-out definition (dropped), vendored PY skipped, gcd.rs kept
    assert [(r["source"], r["path"]) for r in train] == [("b", "src/gcd.rs")]
    assert "python" not in json.dumps(stats["per_language"])


def test_doc_cleaning_and_identifiers() -> None:
    assert clean_query("Copyright 2020 Foo Inc. All rights reserved.") is None
    assert (
        clean_query("Returns `x` as a :class:`~pkg.Thing` [link](http://x).") == "Returns x as a Thing link"
    )
    assert clean_query("e.g. this stays whole. Not this.") == "e.g. this stays whole"
    assert identifier_words("parseHTTPDate_fast2") == ["parse", "http", "date", "fast", "2"]
    split = split_doc("-- | Add two numbers together.\nadd :: Int -> Int -> Int\nadd a b = a + b", "haskell")
    assert split is not None and split.doc == "Add two numbers together." and split.code.startswith("add ::")


def test_repo_relative_paths() -> None:
    assert repo_relative("usr/lib/go-1.19/src/fmt/print.go") == "src/fmt/print.go"
    assert repo_relative("usr/share/cargo/registry/rand-0.8.5/src/lib.rs") == "src/lib.rs"
    assert repo_relative("package/lib/index.js") == "lib/index.js"
    thor = "usr/share/rubygems-integration/all/gems/thor-1.2.1/lib/thor/shell.rb"
    assert repo_relative(thor) == "lib/thor/shell.rb"
    assert repo_relative("numpy-2.1.3/numpy/core/fromnumeric.py") == "numpy/core/fromnumeric.py"


def test_manifest_is_clean_and_covers_languages() -> None:
    manifest = load_manifest(Path(__file__).resolve().parents[2] / "training" / "sources.toml")
    assert semble_conflicts(manifest.sources) == []
    covered = {lang for s in manifest.sources for lang in s.languages}
    assert {"python", "javascript", "typescript", "go", "java", "rust", "c", "cpp", "ruby", "php"} <= covered
    for lang in ("python", "go", "java", "rust", "ruby", "php"):
        assert any(s.held_out and lang in s.languages for s in manifest.sources), lang
    bad = Source("x", "npm", "express", "1", "MIT", "https://github.com/expressjs/express.git")
    assert len(semble_conflicts([bad])) == 2
