"""The real ``codekin`` command line in a subprocess, with fake encoders in place of the model:
end-to-end CLI tests in a fraction of a second each."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

from codekin.embeddings.fake import FakeEncoder

SRC = Path(__file__).resolve().parents[1] / "src"

# argv[1]: JSON {model name: dimensions}; a model named there is a FakeEncoder of that size whose
# model id is its name; any other model (the configured default) is the plain FakeEncoder.
_SCRIPT = (
    "import json, sys\n"
    "import codekin.workspace as w\n"
    "from codekin.embeddings.fake import FakeEncoder\n"
    "MODELS = json.loads(sys.argv[1])\n"
    "def load(model, *args, **kwargs):\n"
    "    if model not in MODELS:\n"
    "        return FakeEncoder()\n"
    "    encoder = FakeEncoder(dim=MODELS[model])\n"
    "    encoder.model_id = model\n"
    "    return encoder\n"
    "w.build_encoder = load\n"
    "from codekin.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def fake_cli(
    root: Path,
    *args: str,
    models: dict[str, int] | None = None,
    user: str | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``codekin ARGS --root ROOT`` (as ``user``, a uid, when given; ``stdin`` as its input)."""
    cmd = [sys.executable, "-c", _SCRIPT, json.dumps(models or {}), *args, "--root", str(root)]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": str(root)}
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=120)


def cli_in_process(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``codekin ARGS --root ROOT`` through the same ``main()`` in this process, with the plain
    FakeEncoder: what ``fake_cli`` checks, without a Python start-up per command."""
    import codekin.workspace as w
    from codekin.cli import main

    out, err = io.StringIO(), io.StringIO()
    given = io.TextIOWrapper(io.BytesIO((stdin or "").encode()), encoding="utf-8")
    argv = [*args, "--root", str(root)]
    with (
        mock.patch.object(w, "build_encoder", lambda model, *args, **kwargs: FakeEncoder()),
        mock.patch.dict(os.environ, {"HOME": str(root)}),
        mock.patch.object(sys, "stdin", given),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["codekin", *argv], code, out.getvalue(), err.getvalue())
