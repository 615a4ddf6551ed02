"""Where a listed repository's files come from: a local directory as it is, a local repository
at a revision (``git archive`` into the job's work directory), or a git URL, cloned bare into a
cache directory once and fetched at most once per job, then extracted at the revision.

Errors are per repository (:class:`SourceError`, a clear sentence with the URL's credentials
masked): the job reports them and goes on with the others."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from codekin.org.spec import RepoSpec, redact_url

GIT_TIMEOUT = 600  # seconds for one clone, fetch or archive
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_HEADS_AND_TAGS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


class SourceError(LookupError):
    """A repository whose files cannot be had (unreachable URL, unknown revision, not a directory)."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codekin" / "org-repos"


class Sources:
    """Resolves the repositories of one job. ``work_dir`` holds extracted revisions (per
    commit, shared by repositories at the same commit); ``cache_dir`` the bare clones of URLs
    (kept between jobs)."""

    def __init__(self, work_dir: Path, cache_dir: Path) -> None:
        self.work_dir = work_dir
        self.cache_dir = cache_dir
        self.fetched: dict[str, str] = {}  # clone directory -> "" once fetched, or the failure

    def resolve(self, spec: RepoSpec) -> tuple[str, str]:
        """(directory to index, commit or "")."""
        if spec.url:
            clone = self._clone(spec)
            commit = self._commit(clone, spec.revision or "HEAD", spec)
            return self._extract(clone, commit, spec), commit
        root = Path(spec.path)
        if not root.is_dir():
            raise SourceError(f"{spec.path}: not a directory")
        if not spec.revision:
            head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
            return str(root), head.stdout.strip() if head.returncode == 0 else ""
        found = _git(root, "rev-parse", "--verify", "-q", f"{spec.revision}^{{commit}}")
        if found.returncode != 0:
            raise SourceError(f"{spec.path}: no revision {spec.revision!r} (is it a git repository?)")
        commit = found.stdout.strip()
        return self._extract(root, commit, spec), commit

    # --- URLs -----------------------------------------------------------------------------------
    def _clone(self, spec: RepoSpec) -> Path:
        """The bare clone of ``spec.url`` in the cache, made on first use."""
        digest = hashlib.blake2b(spec.url.encode(), digest_size=6).hexdigest()
        base = re.sub(r"[^\w.-]+", "-", spec.name.split("@")[0])[:40] or "repo"
        clone = self.cache_dir / f"{base}-{digest}.git"
        if clone.is_dir():
            return clone
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=".clone-"))
        done = _git(None, "clone", "--bare", "--quiet", spec.url, str(partial))
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise SourceError(f"cannot clone {spec.source}: {_last_line(done.stderr, spec.url)}")
        try:
            partial.rename(clone)
        except OSError:  # another job cloned it meanwhile: use theirs
            shutil.rmtree(partial, ignore_errors=True)
        self.fetched[str(clone)] = ""  # just cloned: nothing newer to fetch
        return clone

    def _fetch(self, clone: Path, spec: RepoSpec) -> str:
        """Fetch the clone's branches and tags once per job; returns why it failed ("" if not)."""
        key = str(clone)
        if key not in self.fetched:
            done = _git(clone, "fetch", "--quiet", "--prune", "--force", spec.url, *_HEADS_AND_TAGS)
            self.fetched[key] = "" if done.returncode == 0 else _last_line(done.stderr, spec.url)
        return self.fetched[key]

    def _commit(self, clone: Path, revision: str, spec: RepoSpec) -> str:
        """The commit ``revision`` names. A full commit id already in the cache needs no fetch;
        anything else (a branch or tag may have moved) is fetched once per job first."""
        if not (_FULL_SHA.match(revision) and _has_commit(clone, revision)):
            problem = self._fetch(clone, spec)
            if problem:
                raise SourceError(f"cannot fetch {spec.source}: {problem}")
        found = _git(clone, "rev-parse", "--verify", "-q", f"{revision}^{{commit}}")
        if found.returncode == 0:
            return found.stdout.strip()
        if revision == "HEAD":
            raise SourceError(f"{spec.source}: the repository has no commits")
        refs = _git(clone, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags")
        known = refs.stdout.split()
        listed = ", ".join(known[:8]) + (f", … ({len(known)} in all)" if len(known) > 8 else "")
        raise SourceError(f"{spec.source}: no revision {revision!r} (branches and tags: {listed or 'none'})")

    # --- extraction -----------------------------------------------------------------------------
    def _extract(self, repo: Path, commit: str, spec: RepoSpec) -> str:
        """The files of ``commit`` in ``work_dir/trees/COMMIT`` (extracted once)."""
        tree = self.work_dir / "trees" / commit
        if tree.is_dir():
            return str(tree)
        tree.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=tree.parent, prefix="extract-"))
        with tempfile.TemporaryFile() as fh:
            done = subprocess.run(
                ["git", "-C", str(repo), "archive", "--format=tar", commit],
                stdout=fh,
                stderr=subprocess.PIPE,
                env=_env(),
                timeout=GIT_TIMEOUT,
                check=False,
            )
            if done.returncode != 0:
                shutil.rmtree(partial, ignore_errors=True)
                why = _last_line(done.stderr.decode(errors="replace"), spec.url)
                raise SourceError(f"{spec.source}: git archive {commit[:12]} failed: {why}")
            fh.seek(0)
            with tarfile.open(fileobj=fh) as tar:
                tar.extractall(partial, filter="data")
        try:
            partial.rename(tree)
        except OSError:  # extracted by another repository at the same commit meanwhile
            shutil.rmtree(partial, ignore_errors=True)
        return str(tree)


def _has_commit(clone: Path, sha: str) -> bool:
    return _git(clone, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def _env() -> dict[str, str]:
    """Never wait for a password or a host-key prompt: an unreachable URL fails, it does not hang."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def _git(root: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["-C", str(root)] if root is not None else []
    try:
        return subprocess.run(
            ["git", *where, *args],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"git {args[0]} timed out after {GIT_TIMEOUT}s")
    except OSError as exc:  # no git at all
        return subprocess.CompletedProcess(args, 127, "", f"cannot run git: {exc}")


def _last_line(stderr: str, url: str) -> str:
    """git's own reason (its first ``fatal:`` or ``error:`` line, else its last line), with the
    URL's credentials masked."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    fatal = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(("fatal:", "error:"))]
    text = fatal[0] if fatal else lines[-1] if lines else "git failed"
    return text.replace(url, redact_url(url)) if url else text
