"""docs/lsp-extensions.md documents every custom method, notification and command the language
server has, and nothing it lacks (a tidy check: adding a method without its section fails)."""

from __future__ import annotations

import re
from pathlib import Path

from codekin.server import create_server, wire

DOC = Path(__file__).resolve().parents[2] / "docs" / "lsp-extensions.md"


def custom_names() -> set[str]:
    """What the server registers (requests, notifications it handles, commands) and the custom
    names it sends (notifications such as codekin/indexStatusChanged), all prefixed codekin."""
    fm = create_server().protocol.fm
    registered = {name for name in fm.features if name.startswith("codekin/")} | set(fm.commands)
    constants = [v for k, v in vars(wire).items() if k.isupper() and isinstance(v, str)]
    sent = {v for v in constants if re.match(r"codekin[/.]\w", v)}
    return registered | sent


def documented() -> tuple[set[str], set[str]]:
    text = DOC.read_text()
    sections = set(re.findall(r"^###+ `(codekin/\w+)`", text, re.M))
    commands = set(re.findall(r"^\| `(codekin\.server\.\w+)` \|", text, re.M))
    return sections, commands


def test_every_custom_method_and_command_has_its_section() -> None:
    sections, commands = documented()
    missing = {n for n in custom_names() if n not in sections | commands}
    assert not missing, f"add a section to {DOC.name} for: {sorted(missing)}"


def test_the_document_names_nothing_the_server_lacks() -> None:
    sections, commands = documented()
    stale = (sections | commands) - custom_names()
    assert not stale, f"{DOC.name} documents what the server no longer has: {sorted(stale)}"
