"""A raw stdio LSP client for fuzzing: ``codekin serve`` in a subprocess with the fake encoder, bytes
written to its stdin as they are (broken framing included), its answers read back as messages."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

from tests import fake_server

TIMEOUT = 60.0  # only stops a hung test: the fuzzer's definition of "no answer"


def frame(payload: Any) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class NoAnswer(AssertionError):
    pass


class RawClient:
    """Writes bytes, reads framed messages (the server's output is trusted to be well framed:
    that is what the tests check). Requests from the server are answered with null."""

    def __init__(self, stderr: Path) -> None:
        self._stderr = stderr.open("wb")
        self.proc = subprocess.Popen(
            fake_server.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 1_000_000

    # --- writing ------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, payload: Any) -> None:
        self.write(frame(payload))

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def fresh_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def request(self, method: str, params: Any = None) -> dict[str, Any]:
        """A valid request; its whole response (``result`` or ``error``)."""
        msg_id = self.fresh_id()
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.until(msg_id)[-1]

    # --- reading ------------------------------------------------------------------------------
    def until(self, msg_id: int | str) -> list[dict[str, Any]]:
        """Every response that arrives up to and including the one to ``msg_id``."""
        seen: list[dict[str, Any]] = []
        while True:
            try:
                message = self.messages.get(timeout=TIMEOUT)
            except queue.Empty:
                raise NoAnswer(f"no answer to request {msg_id!r} (responses so far: {seen})") from None
            if message is None:
                raise NoAnswer(f"the server closed its output before answering {msg_id!r}")
            if "method" in message:
                self._from_server(message)
                continue
            seen.append(message)
            if message.get("id") == msg_id:
                return seen

    def _from_server(self, message: dict[str, Any]) -> None:
        if "id" not in message:
            self.notifications.append(message)
            return
        params = message.get("params") or {}
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [None] * len(params.get("items", []))
        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        return
                    if not line.strip():
                        break
                    name, _, value = line.decode("ascii").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                assert length is not None, "the server wrote a header block without Content-Length"
                self.messages.put(json.loads(out.read(length)))
        finally:
            self.messages.put(None)

    # --- ending -------------------------------------------------------------------------------
    def close_input(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            self._stderr.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()

    def initialize(self, root: Path) -> dict[str, Any]:
        answer = self.request(
            "initialize",
            {"processId": None, "rootUri": root.as_uri(), "capabilities": {}, "workspaceFolders": None},
        )
        self.notify("initialized", {})
        return answer
