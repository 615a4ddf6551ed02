"""The settings tree (codekin.settings.Settings) is the one schema: the VS Code extension's
manifest and server-key list, the LSP document and README's table must name exactly its
settings, with its types and defaults (and the LSP document which of them apply live), so none
of the copies drifts unnoticed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from codekin.settings import LIVE_KEYS, Settings, keys

REPO = Path(__file__).resolve().parents[2]
VSCODE = REPO / "editor-clients" / "vscode"
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def tree() -> dict[str, Any]:
    """camelCase setting name -> default, from the settings tree."""
    return {camel(name): getattr(Settings(), name) for name in keys()}


def manifest_server_settings() -> dict[str, dict[str, Any]]:
    config = json.loads((VSCODE / "package.json").read_text())["contributes"]["configuration"]
    sections = config if isinstance(config, list) else [config]
    props = {k: v for section in sections for k, v in section["properties"].items()}
    client_only = client_only_keys()
    return {
        key.removeprefix("codekin."): spec
        for key, spec in props.items()
        if key.split(".")[1] not in client_only
    }


def ts_list(name: str) -> list[str]:
    text = (VSCODE / "src" / "settings.ts").read_text()
    body = re.search(rf"export const {name} = \[(.*?)\] as const", text, re.S)
    assert body, f"settings.ts lacks {name}"
    return re.findall(r"'(\w+)'", body.group(1))


def client_only_keys() -> set[str]:
    return set(ts_list("CLIENT_ONLY_KEYS"))


def test_the_vscode_manifest_declares_every_server_setting_with_its_type_and_default() -> None:
    settings, declared = tree(), manifest_server_settings()
    assert set(declared) == set(settings)
    for key, default in settings.items():
        assert declared[key]["type"] == JSON_TYPES[type(default)], key
        assert declared[key]["default"] == default, key


def test_the_extension_forwards_exactly_the_server_settings() -> None:
    assert set(ts_list("SERVER_KEYS")) == set(tree())


def test_the_lsp_document_lists_every_setting() -> None:
    doc = (REPO / "docs" / "lsp-extensions.md").read_text()
    block = re.search(r"interface CodekinSettings \{(.*?)\n\}", doc, re.S)
    assert block
    assert set(re.findall(r"^\s+(\w+)\?:", block.group(1), re.M)) == set(tree())


def test_the_lsp_document_names_the_live_settings() -> None:
    doc = " ".join((REPO / "docs" / "lsp-extensions.md").read_text().split())
    said = re.search(r"Live settings apply at once: (.*?)\. Every other setting", doc)
    assert said, "docs/lsp-extensions.md lacks the sentence naming the live settings"
    assert set(re.findall(r"`(\w+)`", said.group(1))) == {camel(name) for name in LIVE_KEYS}


def test_the_readme_table_lists_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    cells = [n for row in re.findall(r"^\| (`.*?) \|", table, re.M) for n in re.findall(r"`([\w.]+)`", row)]
    named = {n.replace(".", "_") for n in cells}  # `[redact] enabled` is written redact.enabled
    assert named == keys()
