"""End-to-end helpers: the real ``codekin serve`` in a subprocess (the fake encoder in place of the
default model unless asked), driven by pytest-lsp with Neovim's and VS Code's client capabilities."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from codekin.server.core import json_converter
from tests import fake_server

FIXTURE = Path(__file__).parent / "fixtures" / "workspace"
CLIENTS = {"neovim": "neovim@v0.11.0", "vscode": "visual-studio-code@v1.65.2"}
TIMEOUT = 240.0  # generous: a 2-core CI machine shared with other jobs
T = TypeVar("T")


class CodekinClient(LanguageClient):
    """pytest-lsp's client, with plain-JSON results and a record of what the server sent."""

    def __init__(self) -> None:
        super().__init__(converter_factory=json_converter)
        self.kind = ""
        self.root = Path()
        self.registrations: list[types.Registration] = []
        self.statuses: list[dict[str, Any]] = []
        self.lens_refreshes = 0
        self.early: dict[str, Any] = {}


def make_client() -> CodekinClient:
    client = CodekinClient()
    register_lsp_features(client)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def refresh_lenses(params: None) -> None:
        client.lens_refreshes += 1

    @client.feature("codekin/indexStatusChanged")
    def status_changed(params: Any) -> None:
        client.statuses.append(params)

    return client


def server_config(*, real_model: bool = False, hold: Path | None = None) -> ClientServerConfig:
    """``codekin serve`` with the fake encoder (``hold``: see tests/fake_server.py), or with the
    real default model."""
    command = [sys.executable, "-m", "codekin.cli", "serve"] if real_model else fake_server.command()
    return ClientServerConfig(
        server_command=command, client_factory=make_client, server_env=fake_server.env(hold)
    )


def copy_workspace(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    return dest.resolve()


async def start_session(
    client: CodekinClient, kind: str, root: Path, options: dict[str, Any] | None = None
) -> types.InitializeResult:
    client.kind = kind
    client.root = root
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(CLIENTS[kind]),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )


async def request(client: LanguageClient, method: str, params: Any = None) -> Any:
    return await asyncio.wait_for(client.protocol.send_request_async(method, params), TIMEOUT)


async def send_raw(client: LanguageClient, payload: dict[str, Any]) -> Any:
    """Send a request as raw JSON (the typed client cannot build malformed params)."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    client.protocol._request_futures[payload["id"]] = future
    body = json.dumps(payload).encode()
    write_bytes(client, b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)


def write_bytes(client: LanguageClient, data: bytes) -> None:
    writer = client.protocol.writer
    assert writer is not None
    writer.write(data)


async def command(client: LanguageClient, name: str, *args: Any) -> Any:
    params = types.ExecuteCommandParams(command=name, arguments=list(args))
    return await asyncio.wait_for(client.workspace_execute_command_async(params), TIMEOUT)


async def status(client: LanguageClient) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "codekin/indexStatus")
    return result


async def search(client: LanguageClient, query: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "codekin/search", {"query": query, **extra})
    return result


async def wait_for(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = TIMEOUT) -> T:
    """Poll ``check`` until it returns something truthy (no wall-clock assertions: the timeout only
    stops a hung test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def wait_ready(client: LanguageClient) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        s = await status(client)
        return s if s["state"] != "indexing" else None

    return await wait_for(ready, "the index to be ready")


def notify_files(client: CodekinClient, changes: list[tuple[Path, types.FileChangeType]]) -> None:
    """What a client-side watcher sends; with Neovim's capabilities the server watches by itself."""
    if client.kind == "vscode":
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=p.as_uri(), type=t) for p, t in changes]
            )
        )


def symbols_of(result: dict[str, Any]) -> list[str]:
    return [item["symbol"] for item in result["items"]]
