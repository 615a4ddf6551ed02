"""A repository of hostile files, built with real bytes, links and special files on disk.

``build_hostile_repo`` writes it and returns what must happen to each case: indexed (and found
by a search for its marker identifier) or skipped with a reason. ``MidRunFaults`` changes files
between the walk and the read. Run as a script (``python tests/hostile.py ROOT``) it indexes
ROOT with the fake encoder in a separate process (so permission cases can run without
privileges) and prints a JSON report that ``check_report`` judges.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import stat
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEXED = "indexed"


@dataclass(frozen=True)
class Case:
    fault: str  # fault class (the report table's rows)
    path: str  # the path key codekin reports and stores
    outcome: str  # INDEXED, or a substring of the skip reason
    marker: str = ""  # an identifier only this file defines; searching it must find the file


def _py(marker: str) -> bytes:
    return f"def {marker}():\n    return 1\n".encode()


def _js(marker: str) -> bytes:
    return f"function {marker}() {{\n  return 1;\n}}\n".encode()


class _Builder:
    def __init__(self, root: Path) -> None:
        self.root = os.fsencode(root)
        self.cases: list[Case] = []

    def write(self, name: bytes, data: bytes) -> bytes:
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    def add(self, fault: str, name: bytes, outcome: str, marker: str = "") -> None:
        key = name.decode("utf-8", "backslashreplace")  # codekin's path key for the same bytes
        self.cases.append(Case(fault, key, outcome, marker))

    def indexed(self, fault: str, name: bytes, marker: str, data: bytes | None = None) -> None:
        is_js = name.endswith(b".js")
        self.write(name, data if data is not None else (_js(marker) if is_js else _py(marker)))
        self.add(fault, name, INDEXED, marker)


def build_hostile_repo(root: Path) -> list[Case]:
    """Write the hostile repository under ``root`` (created) and return its cases."""
    b = _Builder(root)
    b.indexed("good files beside bad ones", b"good.py", "marker_good_plain")
    b.indexed("good files beside bad ones", b"src/helper.js", "marker_good_helper")

    names = "file name not UTF-8"
    b.indexed(names, b"bad\xffname.py", "marker_bad_name")
    b.indexed(names, b"dir\xfe/inner.py", "marker_inner_dir")
    b.indexed(names, b"\xed\xb2\x80surrogate.py", "marker_encoded_surrogate")
    b.indexed(names, b"latin\xe9.js", "marker_latin_name")
    b.indexed(names, b"coll\\xffide.py", "marker_literal_escape")  # a real name equal to a key
    b.write(b"coll\xffide.py", _py("marker_colliding"))
    b.cases.append(Case(names, "coll\\xffide.py", "escaped form"))

    odd = "odd but valid file name"
    b.indexed(odd, b"new\nline.py", "marker_newline_name")
    b.indexed(odd, b"-rf.py", "marker_dash_name")
    b.indexed(odd, "emoji \U0001f600 space.py".encode(), "marker_emoji_name")
    b.indexed(odd, b"%ff.py", "marker_percent_name")
    b.indexed(odd, b"/".join([b"d"] * 60) + b"/deep.py", "marker_deep_dirs")

    links = "symlink"
    outside = os.path.join(os.path.dirname(b.root), b"outside")
    os.makedirs(outside, exist_ok=True)
    with open(os.path.join(outside, b"o.py"), "wb") as fh:
        fh.write(_py("marker_outside"))
    for name, target, outcome in (
        (b"loop_a", b"loop_b", "symlink loop"),
        (b"loop_b", b"loop_a", "symlink loop"),
        (b"self_loop", b"self_loop", "symlink loop"),
        (b"dangling.py", b"missing.py", "dangling symlink"),
        (b"out_dir", outside, "outside the repository"),
        (b"out_file.py", os.path.join(outside, b"o.py"), "outside the repository"),
        (b"in_dir", b"src", "symlink to a directory"),
    ):
        os.symlink(target, os.path.join(b.root, name))
        b.add(links, name, outcome)
    os.symlink(b"good.py", os.path.join(b.root, b"in_file.py"))
    b.add(links, b"in_file.py", INDEXED)

    special = "special file"
    os.mkfifo(os.path.join(b.root, b"fifo.py"))
    b.add(special, b"fifo.py", "FIFO")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(os.path.join(b.root, b"sock.py"))
    b.add(special, b"sock.py", "socket")
    try:  # needs CAP_MKNOD: tried where the tests run as root
        os.mknod(os.path.join(b.root, b"null.py"), stat.S_IFCHR | 0o600, os.makedev(1, 3))
        b.add(special, b"null.py", "character device")
    except PermissionError:
        pass

    content = "file content"

    def nested(opener: bytes, closer: bytes, depth: int = 5000) -> bytes:  # 50 per line: not "minified"
        return b"\n".join([opener * 50] * (depth // 50)) + b"\n" + b"\n".join([closer * 50] * (depth // 50))

    b.indexed(
        content,
        b"nul_late.py",
        "marker_late_nul",
        b"# pad\n" * 2000 + _py("marker_late_nul") + b"x = '\x00'\n",
    )
    b.write(b"nul_early.py", b"\x00\x01" + _py("marker_nul_early"))
    b.add(content, b"nul_early.py", "binary")
    b.write(b"utf16.py", _py("marker_utf_sixteen").decode().encode("utf-16"))
    b.add(content, b"utf16.py", "binary")
    b.indexed(
        content, b"invalid_utf8.py", "marker_invalid_utf", b"s = '\xff\xfe\xc3'\n" + _py("marker_invalid_utf")
    )
    mixed = (
        "caf\xe9 na\xefve".encode("latin-1")
        + " caf\xe9 \u65e5\u672c".encode()
        + "\u65e5\u672c".encode("shift_jis")
    )
    b.indexed(content, b"mixed.py", "marker_mixed_enc", b"# " + mixed + b"\n" + _py("marker_mixed_enc"))
    b.write(b"one_line_50mb.js", b"a" * (50 * 1024 * 1024))
    b.add(content, b"one_line_50mb.js", "larger than max_file_bytes")
    b.write(b"long_line.py", b"x = '" + b"y" * 200_000 + b"'\n")
    b.add(content, b"long_line.py", "minified")
    b.write(b"bundle.js", b"var a=function(){return 1};" * 5000)
    b.add(content, b"bundle.js", "minified")
    b.indexed(
        content,
        b"deep_parens.py",
        "marker_deep_parens",
        _py("marker_deep_parens") + b"x = " + nested(b"(", b")") + b"\n",
    )
    b.indexed(
        content,
        b"deep_brackets.js",
        "marker_deep_brackets",
        _js("marker_deep_brackets") + b"let x = " + nested(b"[", b"]") + b";\n",
    )
    b.indexed(
        content,
        b"deep_blocks.js",
        "marker_deep_blocks",
        _js("marker_deep_blocks") + nested(b"{", b"}") + b"\n",
    )
    b.indexed(
        content, b"unclosed.py", "marker_unclosed", _py("marker_unclosed") + b"x = " + nested(b"[", b"")[:-1]
    )
    b.indexed(content, b"whitespace.py", "", b" \t\n\r\n   \n" * 100)
    b.indexed(content, b"empty.py", "", b"")
    b.indexed(content, b"bom.py", "marker_with_bom", b"\xef\xbb\xbf" + _py("marker_with_bom"))
    b.indexed(content, b"crlf.py", "marker_crlf_lines", _py("marker_crlf_lines").replace(b"\n", b"\r\n"))
    b.indexed(content, b"cr_only.py", "marker_cr_lines", _py("marker_cr_lines").replace(b"\n", b"\r"))
    b.indexed(
        content,
        b"control.py",
        "marker_control_chars",
        b"\x1b[31m\x07\x08\x0c\n" + _py("marker_control_chars"),
    )
    b.indexed(content, b"noext", "", b"plain words about nothing in particular\n")
    return b.cases


class MidRunFaults:
    """A progress callback that, once the walk is done and before any file is read, deletes a
    file, turns one into a FIFO, one into a directory, one into a symlink loop and (where
    permissions apply) makes one unreadable."""

    def __init__(self, root: Path, *, permissions: bool) -> None:
        self.root = root
        self.armed = True
        self.permissions = permissions
        self.cases: list[Case] = []
        fault = "changed between walk and read"
        plan = [
            ("vanish.py", "file vanished"),
            ("to_fifo.py", "FIFO"),
            ("to_dir.py", "directory"),
            ("to_loop.py", "cannot read"),
        ]
        if permissions:
            plan.append(("lose_read.py", "Permission denied"))
        for name, outcome in plan:
            (root / name).write_bytes(_py("marker_" + name[:-3]))
            self.cases.append(Case(fault, name, outcome))

    def __call__(self, progress: Any) -> None:
        if not self.armed or progress.phase != "indexing":
            return
        self.armed = False
        root = self.root
        (root / "vanish.py").unlink()
        (root / "to_fifo.py").unlink()
        os.mkfifo(root / "to_fifo.py")
        (root / "to_dir.py").unlink()
        (root / "to_dir.py").mkdir()
        (root / "to_loop.py").unlink()
        os.symlink("to_loop.py", root / "to_loop.py")
        if self.permissions:
            (root / "lose_read.py").chmod(0)


_CAPS = "-dac_override,-dac_read_search"


def unprivileged_prefix() -> list[str] | None:
    """A command prefix under which permission bits bind (as root: ``setpriv`` dropping the
    capabilities that bypass them), or None when there is none."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, f"--inh-caps={_CAPS}", f"--bounding-set={_CAPS}"] if setpriv else None


def permission_cases(root: Path) -> list[Case]:
    """An unreadable file and an unreadable directory (meaningful only without root's override)."""
    (root / "locked.py").write_bytes(_py("marker_locked"))
    (root / "locked.py").chmod(0)
    (root / "closed").mkdir()
    (root / "closed" / "hidden.py").write_bytes(_py("marker_hidden"))
    (root / "closed").chmod(0)
    fault = "no permission"
    return [Case(fault, "locked.py", "Permission denied"), Case(fault, "closed", "cannot list directory")]


def run_index(root: Path) -> dict[str, Any]:
    """Index ``root`` with the fake encoder as a user would, then search; a JSON-able report."""
    from codekin import Workspace
    from codekin.embeddings.fake import FakeEncoder
    from codekin.settings import Settings

    skip_logs: Counter[str] = Counter()

    class _Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("skip ") and isinstance(record.args, tuple):
                skip_logs[str(record.args[0])] += 1

    logger = logging.getLogger("codekin")
    logger.setLevel(logging.INFO)
    logger.addHandler(_Count())
    midrun = MidRunFaults(root, permissions=not _privileged())
    markers = json.loads(os.environ.get("HOSTILE_MARKERS", "[]"))
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        stats = ws.index(progress=midrun)
        first_run_logs = dict(skip_logs)
        again = ws.index()
        found = {m: [h.path for h in ws.search(m, k=5)] for m in markers}
        hostile_queries = [
            len(ws.search("bad\udcffname \ud800 marker")),
            len(ws.files("\udcff\udcfe")),
            len(ws.similar("def f\udc80():\n    return '\ud83d'\n", language="py\udcffthon")),
            len(ws.context(query="marker \udcff", token_budget=500).pieces),
            len(ws.search("marker", languages=["py\udcff"], paths=["\udcff/**"])),
        ]
        return {
            "skipped": stats.skipped,
            "indexed": sorted(ws.code_index.file_rows()),
            "found": found,
            "skip_logs": first_run_logs,
            "second_run_skipped": again.skipped,
            "second_run_indexed": again.files_indexed,
            "hostile_queries": hostile_queries,
            "midrun": [c.__dict__ for c in midrun.cases],
        }


def _privileged() -> bool:
    """True when permission bits do not bind this process (root with its capabilities)."""
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"codekin-perm-probe-{os.getpid()}"
    probe.write_text("x")
    try:
        probe.chmod(0)
        try:
            probe.read_text()
        except PermissionError:
            return False
        return True
    finally:
        probe.unlink()


def check_report(cases: list[Case], report: dict[str, Any]) -> list[str]:
    """Every problem with ``report`` against ``cases`` (empty when all went as required); an
    indexed case whose marker was searched (``report["found"]``) must be among its hits."""
    problems: list[str] = []
    skipped: dict[str, str] = report["skipped"]
    indexed = set(report["indexed"])
    want_indexed = {c.path for c in cases if c.outcome == INDEXED}
    want_skipped = {c.path for c in cases if c.outcome != INDEXED}
    for case in cases:
        if case.outcome == INDEXED:
            if case.path not in indexed:
                problems.append(f"{case.path!r} not indexed (skipped: {skipped.get(case.path)!r})")
            elif case.marker in report["found"] and case.path not in report["found"][case.marker]:
                problems.append(
                    f"{case.path!r} not found by {case.marker!r}: {report['found'].get(case.marker)}"
                )
        elif case.outcome not in skipped.get(case.path, ""):
            problems.append(f"{case.path!r}: want skip {case.outcome!r}, got {skipped.get(case.path)!r}")
    if extra := indexed - want_indexed:
        problems.append(f"indexed but expected not: {sorted(extra)}")
    if extra := set(skipped) - want_skipped:
        problems.append(f"skipped but expected not: {[(p, skipped[p]) for p in sorted(extra)]}")
    for path in skipped:
        if not skipped[path]:
            problems.append(f"{path!r} skipped without a reason")
        if report["skip_logs"].get(path) != 1:
            problems.append(f"{path!r} logged {report['skip_logs'].get(path, 0)} times, want once")
    return problems


def outcome_table(cases: list[Case], report: dict[str, Any]) -> str:
    """Markdown rows: fault class | cases tried | outcome."""
    rows: dict[str, Counter[str]] = {}
    for case in cases:
        got = "indexed" if case.path in report["indexed"] else f"skipped: {report['skipped'].get(case.path)}"
        rows.setdefault(case.fault, Counter())[got if case.outcome == INDEXED else "skipped with reason"] += 1
    lines = ["| fault class | cases | outcome |", "|---|---|---|"]
    for fault, outcomes in rows.items():
        summary = ", ".join(f"{n} {what}" for what, n in outcomes.items())
        lines.append(f"| {fault} | {sum(outcomes.values())} | {summary} |")
    return "\n".join(lines)


if __name__ == "__main__":
    json.dump(run_index(Path(sys.argv[1])), sys.stdout)
