"""Files with Windows line endings (CRLF, as a checkout with core.autocrlf writes them) chunk to
the same lines, columns and symbols as their LF twins; chunk text is the file's own bytes; what
users see (CLI snippets, LSP ranges and previews) carries no stray carriage returns."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from codekin.cli import _print_hits
from codekin.embeddings.fake import FakeEncoder
from codekin.parsers.chunker import chunk_file
from codekin.server.positions import hit_range
from codekin.server.wire import preview
from codekin.settings import Settings
from codekin.workspace import Workspace

SOURCES = {
    "cart.py": (
        '"""Shopping cart."""\n\nimport math\n\n\nclass Cart:\n    """Items and totals."""\n\n'
        "    def __init__(self):\n        self.items = []\n\n"
        "    def total(self, rate):\n        # with tax\n"
        "        return math.fsum(self.items) * (1 + rate)\n\n\n"
        "def empty_cart():\n    return Cart()\n"
    ),
    "cart.js": (
        "// Shopping cart.\nexport class Cart {\n  constructor() {\n    this.items = [];\n  }\n\n"
        "  total(rate) {\n    return this.items.reduce((a, b) => a + b, 0) * (1 + rate);\n  }\n}\n\n"
        "export function emptyCart() {\n  return new Cart();\n}\n"
    ),
    "cart.go": (
        "package cart\n\n// Cart holds items.\ntype Cart struct {\n\tItems []float64\n}\n\n"
        "// Total with tax.\nfunc (c *Cart) Total(rate float64) float64 {\n\ts := 0.0\n"
        "\tfor _, x := range c.Items {\n\t\ts += x\n\t}\n\treturn s * (1 + rate)\n}\n"
    ),
    "notes.txt": "".join(f"line {i}: remember the cart total\n" for i in range(95)),  # line windows
}


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def shape(chunks: list) -> list[tuple]:  # type: ignore[type-arg]
    return [(c.kind, c.symbol, c.container, c.start_line, c.end_line, c.start_col, c.end_col) for c in chunks]


@pytest.mark.parametrize("name", list(SOURCES))
def test_crlf_chunks_like_lf(name: str) -> None:
    lf_data = SOURCES[name].encode()
    cr_data = crlf(SOURCES[name]).encode()
    lf, cr = chunk_file(name, lf_data), chunk_file(name, cr_data)
    assert len(lf) > 1 and shape(cr) == shape(lf)
    for a, b in zip(lf, cr, strict=True):
        assert b.text == crlf(a.text)  # the file's own bytes, line endings kept
        assert cr_data[b.start_byte : b.end_byte].decode() == b.text
        assert not b.text.endswith("\r") and not b.text.startswith(("\r", "\n"))
        assert b.start_byte - a.start_byte == a.start_line  # one extra byte per line before it


def test_mixed_line_endings_keep_their_rows() -> None:
    text = "def a():\r\n    return 1\n\n\ndef b():\r\n    return 2\r\n"
    chunks = chunk_file("mixed.py", text.encode())
    assert [(c.symbol, c.start_line, c.end_line) for c in chunks] == [("a", 0, 1), ("b", 4, 5)]


def test_what_users_see_from_a_crlf_file(tmp_path: Path) -> None:
    lf_root, cr_root = tmp_path / "lf", tmp_path / "crlf"
    for root, convert in ((lf_root, str), (cr_root, crlf)):
        root.mkdir()
        for name, text in SOURCES.items():
            (root / name).write_bytes(convert(text).encode())
    with (
        Workspace(lf_root, Settings(), encoder=FakeEncoder()) as lf_ws,
        Workspace(cr_root, Settings(), encoder=FakeEncoder()) as cr_ws,
    ):
        lf_ws.index()
        cr_ws.index()
        lf_hits = lf_ws.search("cart total with tax", k=10)
        cr_hits = cr_ws.search("cart total with tax", k=10)
    key = lambda h: (h.path, h.start_line, h.end_line, h.symbol)  # noqa: E731
    assert sorted(map(key, cr_hits)) == sorted(map(key, lf_hits)) and cr_hits
    out = io.StringIO()
    with redirect_stdout(out):
        _print_hits(cr_hits, as_json=False)
    assert "\r" not in out.getvalue()
    for hit in cr_hits:
        text = (cr_root / hit.path).read_bytes().decode()
        lf_text = (lf_root / hit.path).read_bytes().decode()
        for encoding in ("utf-8", "utf-16"):
            got = hit_range(hit, encoding, lambda rel, row, t=text: t.splitlines()[row])
            twin = next(h for h in lf_hits if key(h) == key(hit))
            assert got == hit_range(twin, encoding, lambda rel, row, t=lf_text: t.splitlines()[row])
        assert "\r" not in preview(hit.text)
