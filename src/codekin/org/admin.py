"""``codekin org list`` and ``codekin org remove``: what a shared store holds, and taking one
repository out of it (no Ray: they only talk to the store)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import TypeVar

from codekin.org.qdrant_store import QdrantStore, RepoSummary, StoreProblem, open_existing
from codekin.org.spec import StoreSpec, parse_store

T = TypeVar("T")


def _held(store: QdrantStore, spec: StoreSpec) -> None:
    if store.manifest() is None:
        raise StoreProblem(f"{spec.describe()} holds no codekin index (run: codekin org index)")


def _with_store(args: argparse.Namespace, work: Callable[[QdrantStore], T]) -> T | None:
    """``work`` on the store ``args`` names, holding a codekin index; None after saying why not."""
    try:
        with open_existing(args.store, args.api_key_env) as store:
            _held(store, store.spec)
            return work(store)
    except StoreProblem as exc:
        print(f"codekin: error: {exc}", file=sys.stderr)
    except Exception as exc:  # the client's network and server errors have many types
        print(f"codekin: error: {args.store}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return None


def list_repos(args: argparse.Namespace) -> int:
    def read(store: QdrantStore) -> tuple[list[RepoSummary], int]:
        return [replace(r, chunks=store.count(r.name)) for r in store.repos()], store.count()

    found = _with_store(args, read)
    if found is None:
        return 1
    repos, total = found
    if args.json:
        out = {
            "store": parse_store(args.store).describe(),
            "chunks": total,
            "repos": [asdict(r) for r in repos],
        }
        print(json.dumps(out, indent=2))
        return 0
    width = max([len(r.name) for r in repos] + [4])
    print(f"{'repo':<{width}}  {'revision':<12}  {'files':>7}  {'chunks':>8}  {'updated':<16}  source")
    for r in repos:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(r.updated)) if r.updated else "(incomplete)"
        print(
            f"{r.name:<{width}}  {r.revision[:12] or '-':<12}  {r.files:>7}  {r.chunks:>8}  {when:<16}  "
            f"{r.source or '-'}"
        )
    print(f"{len(repos)} repositories, {total} chunks in {parse_store(args.store).describe()}")
    return 0


def remove_repo(args: argparse.Namespace) -> int:
    def remove(store: QdrantStore) -> tuple[int, int] | None:
        names = [r.name for r in store.repos()]
        if args.repo not in names:
            known = ", ".join(names[:20]) + (f", … ({len(names)} in all)" if len(names) > 20 else "")
            print(
                f"codekin: error: {store.spec.describe()} has no repository {args.repo!r} "
                f"(it has: {known or 'none'})",
                file=sys.stderr,
            )
            return None
        return store.remove_repo(args.repo), store.count()

    done = _with_store(args, remove)
    if done is None:
        return 1
    removed, left = done
    print(f"removed {args.repo} from {parse_store(args.store).describe()}: {removed} chunks; {left} left")
    return 0
