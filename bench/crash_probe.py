"""Crash safety: random SIGKILLs during ``index`` and during ``index --full`` (a rebuild beside
the live index), each followed by a resume that must equal a clean index.

For each kill: the killed process indexes a synthetic 400-file repository with a slowed fake
encoder (a run commits every file's chunks and lexical rows first, then embeds them, so a kill
lands in either phase); after the kill, the index must answer a search, the next run
(``index``, or ``index --full`` which resumes the half-built rebuild) must embed only the chunks
that had no stored vector, and the result must hold exactly the files, chunks and embeddings of
an index built without interruption. Prints counts per mode and phase.

    python bench/crash_probe.py --kills 15
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index import layout

FILES = 400
CHUNKS = 2 * FILES
SLOW_INDEXER = """
import sys, time
from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder

class Slow(FakeEncoder):
    def embed_documents(self, texts):
        time.sleep(0.4)
        return super().embed_documents(texts)

Workspace(sys.argv[1], Settings(), encoder=Slow()).index(full=sys.argv[2] == "full")
"""


def make_repo(root: Path) -> None:
    for i in range(FILES):
        p = root / f"d{i % 9}" / f"m{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def alpha_{i}(x):\n    return x + {i}\n\n\ndef beta_{i}(y):\n    return y * {i}\n")


def content(root: Path) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """Files and (chunk span, hash, embedding) rows: what must match a clean index."""
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        db = sqlite3.connect(layout.live_dir(ws.index_dir) / layout.DB_NAME)
        files = set(db.execute("SELECT path, hash FROM files"))
        rows = set(
            db.execute(
                "SELECT c.path, c.start_byte, c.end_byte, c.content_hash, v.vector "
                "FROM chunks c JOIN vectors v USING (embed_key)"
            )
        )
        db.close()
    return files, rows


def committed(db: Path, table: str = "files") -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=15, help="kills per mode (default 15)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="codekin-crash-"))
    try:
        source = base / "src"
        make_repo(source)
        script = base / "slow.py"
        script.write_text(SLOW_INDEXER)
        clean = base / "clean"
        shutil.copytree(source, clean)
        with Workspace(clean, Settings(), encoder=FakeEncoder()) as ws:
            ws.index()
        want = content(clean)
        for mode in ("index", "full"):
            lexical = embedding = equal = failures = 0
            for trial in range(args.kills):
                root = base / f"{mode}{trial}"
                shutil.copytree(source, root)
                if mode == "full":
                    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
                        ws.index()
                proc = subprocess.Popen([sys.executable, str(script), str(root), mode])
                time.sleep(rng.uniform(1.0, 3.5))
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                building = layout.next_dir(root / ".codekin") if mode == "full" else root / ".codekin"
                done = committed(building / layout.DB_NAME)
                vectors = committed(building / layout.DB_NAME, "vectors")
                lexical += 0 < done < FILES
                embedding += done == FILES and vectors < CHUNKS
                with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
                    ok = len(ws.search("alpha_7", k=5)) == 5 or (mode == "index" and done == 0)
                    stats = ws.index(full=mode == "full")
                ok = ok and (done == 0 or stats.embedded == CHUNKS - vectors)
                ok = ok and content(root) == want and not layout.next_dir(root / ".codekin").exists()
                equal += ok
                failures += not ok
                shutil.rmtree(root)
            summary = (
                f"{args.kills} kills ({lexical} in the lexical phase, {embedding} in the embedding phase), "
                f"{equal} resumed equal, {failures} failed"
            )
            print(f"{mode:>6}: {summary}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
