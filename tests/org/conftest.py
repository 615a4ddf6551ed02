"""Org tests run without servers: one local Ray cluster per test session, in a process of its
own (see codekin.org.command.run_in_driver for why), and qdrant-client's local mode."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.org.org_support import env

_CLUSTER = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
"""


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """The address of a local 2-CPU Ray cluster, shut down at the end of the session."""
    pytest.importorskip("ray")
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env()
    )
    assert proc.stdout is not None and proc.stdin is not None
    address = proc.stdout.readline().strip()
    assert address, "the local Ray cluster did not start"
    try:
        yield address
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
