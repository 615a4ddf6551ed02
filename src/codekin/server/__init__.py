"""codekin's language server (pygls): ``create_server()`` builds it, ``run_server()`` runs it."""

from __future__ import annotations

import logging
import sys

from codekin.server.core import CodekinServer

log = logging.getLogger(__name__)

__all__ = ["CodekinServer", "create_server", "run_server"]


def create_server() -> CodekinServer:
    """A server with every feature registered (not started)."""
    from codekin.server import features

    server = CodekinServer()
    for module in features.ALL:
        module.register(server)
    return server


def run_server(tcp: str | None = None, log_file: str | None = None) -> int:
    """Serve on stdio (default) or on ``HOST:PORT``; returns the process exit code: 1 after an
    ``exit`` that no ``shutdown`` preceded, else 0."""
    from codekin.server.framing import FramedReader
    from codekin.server.logs import LspLogHandler, claim_stdout, setup_logging

    transport = claim_stdout()
    setup_logging(log_file)
    server = create_server()
    logging.getLogger("codekin").addHandler(LspLogHandler(server))
    try:
        if tcp:
            host, _, port = tcp.rpartition(":")
            if not port.isdigit():
                log.error("--tcp expects HOST:PORT, got %r", tcp)
                return 2
            server.start_tcp(host or "127.0.0.1", int(port))
        else:
            server.start_io(FramedReader(sys.stdin.buffer), transport)  # type: ignore[arg-type]
    finally:
        server.state.close()
    return server.protocol.exit_code
