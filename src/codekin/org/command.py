"""``codekin org ...``: the command line of org indexing (Ray is imported only when it runs)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from codekin.org.spec import SpecError, parse_repo_list, parse_store


def add_parser(sub: Any) -> None:
    p = sub.add_parser("org", help="index many repositories into one shared index (Ray + Qdrant)")
    org = p.add_subparsers(dest="org_command", required=True)
    q = org.add_parser(
        "index",
        help="index the repositories listed in REPOS into --store",
        description="REPOS: a text file with one repository directory a line (PATH or PATH@REVISION), "
        "or a TOML file of [[repo]] tables (path, revision, name).",
    )
    q.add_argument("repos", help="the repository list (text or .toml)")
    q.add_argument("--store", required=True, help="qdrant-local:DIR or qdrant://HOST:PORT/COLLECTION")
    q.add_argument("--ray-address", default=None, help="an existing Ray cluster (default: start a local one)")
    q.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all)")
    q.add_argument("--embed-actors", type=int, default=1, help="embedding actors (default 1)")
    q.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per embedding actor (e.g. 1)")
    q.add_argument("--model", default=None, help="encoder (default: the configured one)")
    q.add_argument("--device", default="auto", help="encoder device in the actors (auto, cpu, cuda)")
    q.add_argument("--files-per-task", type=int, default=64, help="files per chunking task (default 64)")
    q.add_argument("--work-dir", default=None, help="where revisions are extracted (default: temporary)")
    q.add_argument(
        "--cache-dir",
        default=None,
        help="bare clones of git URLs, kept between runs (default: ~/.cache/codekin/org-repos)",
    )
    _api_key_arg(q)
    q.add_argument("--fake-encoder", type=int, default=0, help=argparse.SUPPRESS)  # tests: FakeEncoder(dim)
    q.add_argument("--kill-after-writes", type=int, default=0, help=argparse.SUPPRESS)  # tests: a killed job
    q.add_argument("--json", action="store_true", help="the final report as JSON on stdout")
    q.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")

    ls = org.add_parser("list", help="the repositories in --store, with revisions and chunk counts")
    ls.add_argument("--store", required=True, help="qdrant-local:DIR or qdrant://HOST:PORT/COLLECTION")
    ls.add_argument("--json", action="store_true", help="as JSON on stdout")
    _api_key_arg(ls)
    ls.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")
    rm = org.add_parser("remove", help="delete one repository's chunks from --store")
    rm.add_argument("repo", help="the repository's name, as `codekin org list` shows it")
    rm.add_argument("--store", required=True, help="qdrant-local:DIR or qdrant://HOST:PORT/COLLECTION")
    _api_key_arg(rm)
    rm.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")


def _api_key_arg(p: Any) -> None:
    p.add_argument(
        "--api-key-env",
        default="QDRANT_API_KEY",
        metavar="VAR",
        help="the environment variable holding the Qdrant server's API key (default QDRANT_API_KEY)",
    )


def dispatch(args: argparse.Namespace, argv: list[str]) -> int:
    """``org index`` runs in a driver process of its own (see :func:`run_in_driver`); ``org
    list`` and ``org remove`` only talk to the store, here."""
    if args.org_command == "index":
        return run_in_driver(argv)
    try:
        import qdrant_client  # noqa: F401
    except ImportError as exc:
        from codekin.org import MissingExtra

        raise MissingExtra(
            f"org stores need the optional extra ({exc.name} is missing): pip install 'codekin[org]'"
        ) from None
    from codekin.org.admin import list_repos, remove_repo

    return list_repos(args) if args.org_command == "list" else remove_repo(args)


# ``ray`` first: importing any ``codekin`` module (the package's __init__) loads usearch
DRIVER = "import sys, ray; from codekin.org.driver import main; sys.exit(main(sys.argv[1:]))"


def run_in_driver(argv: list[str]) -> int:
    """Run ``codekin org ...`` in a fresh interpreter (:data:`DRIVER`): Ray's driver
    must be loaded before usearch, whose RTLD_GLOBAL numkong library clashes with Ray's
    libstdc++ regex (``ray.init`` aborts with std::regex_error), and ``codekin``'s own modules
    load usearch before any command runs."""
    import subprocess

    from codekin.org import require_extra

    require_extra()
    try:
        return subprocess.run([sys.executable, "-c", DRIVER, *argv], check=False).returncode
    except KeyboardInterrupt:
        print("codekin: interrupted; the next run resumes from the files already stored", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    """The org command itself, in a process that imported ``ray`` first."""
    import ray

    from codekin.org.pipeline import OrgIndexer, OrgOptions, RepoReport
    from codekin.org.qdrant_store import QdrantStore, api_key
    from codekin.settings import Settings

    try:
        repos = parse_repo_list(args.repos)
        spec = parse_store(args.store)
    except SpecError as exc:
        print(f"codekin: error: {exc}", file=sys.stderr)
        return 2
    defaults = Settings()
    options = OrgOptions(
        model=args.model or defaults.model,
        device=args.device,
        batch_size=defaults.batch_size,
        max_tokens=defaults.max_tokens,
        embed_actors=max(1, args.embed_actors),
        gpus_per_actor=args.gpus_per_actor,
        files_per_task=max(1, args.files_per_task),
        fake_dim=args.fake_encoder,
        kill_after_writes=args.kill_after_writes,
        work_dir=args.work_dir or "",
        cache_dir=args.cache_dir or "",
    )
    last: dict[str, float] = {}

    def progress(rep: RepoReport) -> None:
        now = time.monotonic()
        finished = rep.done >= rep.files
        if finished or now - last.get(rep.name, 0.0) > 5:
            last[rep.name] = now
            print(
                f"codekin: org: {rep.name}: {rep.done}/{rep.files} files, {rep.chunks} chunks written, "
                f"{rep.embedded} embedded, {rep.reused} reused" + (" (done)" if finished else ""),
                file=sys.stderr,
            )

    if args.ray_address:
        ray.init(address=args.ray_address, log_to_driver=args.verbose > 0)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=args.verbose > 0)
    try:
        with QdrantStore(spec, key=api_key(args.api_key_env)) as store:
            report = OrgIndexer(store, options, progress).run(repos)
            total_points = store.count()
    finally:
        ray.shutdown()
    if args.json:
        print(json.dumps({**report.to_dict(), "points": total_points}, indent=2))
        return 1 if any(r.error for r in report.repos) else 0
    t = report.totals()
    print(
        f"indexed {len(report.repos)} repositories into {report.store} in {report.elapsed:.1f}s: "
        f"{t['files']} files ({t['indexed']} written, {t['unchanged']} unchanged, {t['removed']} removed), "
        f"{t['chunks']} chunks written, {t['embedded']} embedded, {t['reused']} reused; "
        f"{t['skipped_count']} skipped; {report.encoded} texts encoded; {total_points} points in the store"
    )
    for r in report.repos:
        state = (
            f"error: {r.error}"
            if r.error
            else (
                f"{r.files} files, {r.chunks} chunks written, {r.embedded} embedded, {r.reused} reused, "
                f"{r.skipped_count} skipped"
            )
        )
        print(f"  {r.name} @ {r.revision[:12] or '-'}: {state}")
        for path, why in list(r.skipped.items())[:5]:
            print(f"    skipped {path}: {why}")
        if r.skipped_count > 5:
            print(f"    … {r.skipped_count - 5} more skipped (--json lists up to 50)")
    return 1 if any(r.error for r in report.repos) else 0
