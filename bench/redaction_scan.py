"""How often redaction fires on real repositories (false positives on ordinary code: lockfile
hashes, base64 fixtures, UUIDs, test passwords) and what it costs.

    python bench/redaction_scan.py ROOT [ROOT ...] [--show N]

Walks each root as ``codekin index`` would (same ignore rules, size limits and skips), masks
every file and prints, per root, the files and bytes read, the secrets masked by kind and the
time spent masking; ``--show`` prints that many masked lines per root (as masked) to review.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from codekin.files import FileFilter, SkipFile, read_source
from codekin.redact import Redactor


@dataclass
class Scan:
    files: int = 0
    bytes: int = 0
    files_masked: int = 0  # files with at least one secret masked
    seconds: float = 0.0  # spent masking
    kinds: Counter[str] = field(default_factory=Counter)
    shown: list[str] = field(default_factory=list)


def scan(root: Path, redactor: Redactor, show: int) -> Scan:
    r = Scan()
    for entry in FileFilter(root).walk(on_skip=lambda rel, why: None):
        try:
            data = read_source(entry)
        except SkipFile:
            continue
        r.files += 1
        r.bytes += len(data)
        started = time.perf_counter()
        out = redactor.redact(data, entry.rel)
        r.seconds += time.perf_counter() - started
        r.kinds.update(out.found)
        r.files_masked += bool(out.found)
        if out.found and len(r.shown) < show:
            for n, (a, b) in enumerate(zip(data.splitlines(), out.data.splitlines(), strict=True), 1):
                if a != b and len(r.shown) < show:
                    r.shown.append(f"  {entry.rel}:{n}: {b.decode('utf-8', 'replace').strip()[:110]}")
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("roots", nargs="+", type=Path)
    ap.add_argument("--show", type=int, default=0, help="masked lines to print per root")
    args = ap.parse_args()
    redactor = Redactor()
    print(f"{'root':<16} {'files':>6} {'MB':>6} {'masked':>7} {'in files':>8} {'ms':>6}  by kind")
    for root in args.roots:
        r = scan(root.resolve(), redactor, args.show)
        by_kind = ", ".join(f"{k} {v}" for k, v in r.kinds.most_common()) or "-"
        print(
            f"{root.resolve().name:<16} {r.files:>6} {r.bytes / 1e6:>6.1f} {sum(r.kinds.values()):>7} "
            f"{r.files_masked:>8} {r.seconds * 1000:>6.0f}  {by_kind}"
        )
        for line in r.shown:
            print(line)


if __name__ == "__main__":
    main()
