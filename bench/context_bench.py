"""Context for agents: tokens returned and whether the answer is in them, for 30 questions about
codekin's own repository, three ways.

    flock /tmp/codekin-heavy.lock .venv/bin/python bench/context_bench.py [--root .] [--tokens 2000]
        [-k 5] [--model codekin-encoder] [--json OUT] [--verbose]

The 30 questions and their answer functions were written by hand (by the engineer who built the
context engine, from reading the code; no question copies a doc comment). Each answer is one
definition (path + qualified symbol); a method counts as present only when its own chunk is.

- ``codekin context``: ``Workspace.context(query=q, token_budget=--tokens)``, rendered as the CLI
  and the MCP ``context`` tool print it (labels and footer included);
- ``top-k chunks`` (semble-style): the search's top ``-k`` chunks, each with a ``path:lines`` line;
- ``whole files``: the whole files that hold those top-``k`` chunks (what an agent reads when it
  opens every file a search pointed at).

Tokens are counted the same way for all three: ``codekin.context.count_tokens`` (documented there;
model-agnostic). The index lives in
``.bench-cache/context/index`` so the repository's own ``.codekin`` is not touched. Questions
whose answer is missing from the index abort the run (the repository changed: update them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from codekin import Settings, Workspace
from codekin.context import count_tokens
from codekin.hit import Hit

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Question:
    text: str
    path: str
    symbol: str  # qualified, as Hit.symbol


def Q(text: str, path: str, symbol: str) -> Question:  # noqa: N802 (reads like a table row)
    return Question(text, f"src/codekin/{path}", symbol)


QUESTIONS = [
    Q("how is the index write lock taken", "index/lock.py", "WriteLock.acquire"),
    Q("wait until file events stop arriving before flushing them", "watch/debounce.py", "Debouncer._run"),
    Q("merge two ranked lists with reciprocal rank fusion", "index/search.py", "rrf_scores"),
    Q("tell whether a file is minified javascript", "files.py", "looks_minified"),
    Q("hash the text of a chunk", "parsers/model.py", "content_hash"),
    Q("what text does the encoder get for a chunk", "embeddings/inputs.py", "encoder_input"),
    Q("average token embeddings using the attention mask", "embeddings/hf.py", "mean_pool"),
    Q("choose between cuda and cpu", "embeddings/hf.py", "pick_device"),
    Q("write the vector index to disk safely", "index/vectors.py", "VectorIndex.save"),
    Q("list the files inside a folder that was just created", "watch/observer.py", "expand_dir"),
    Q("ignore events from .git and node_modules in the watcher", "watch/observer.py", "is_noise"),
    Q("find the smallest chunk that contains a given line", "workspace.py", "Workspace.chunk_at"),
    Q("apply settings from a mapping and report unknown keys", "settings.py", "merge"),
    Q("read settings from pyproject.toml and .codekin.toml", "settings.py", "project_sources"),
    Q("load a tree-sitter grammar for a language", "parsers/grammar.py", "load_language"),
    Q("split a definition that is too large into pieces", "parsers/splitting.py", "split_span"),
    Q("chunk a file without a grammar into overlapping line windows", "parsers/windows.py", "window_chunks"),
    Q("guess a file's language from its name or shebang", "parsers/detect.py", "detect_language"),
    Q("split camelCase and snake_case identifiers into words", "index/lexical.py", "split_identifier"),
    Q("turn a query into an FTS5 match expression", "index/lexical.py", "fts_query"),
    Q("score one query's results: reciprocal rank and ndcg", "evaluation/metrics.py", "score_query"),
    Q("read an evaluation dataset from a jsonl file", "evaluation/dataset.py", "load_dataset"),
    Q("turn a file:// uri into a filesystem path", "paths.py", "uri_to_path"),
    Q("convert a byte column to utf-16 code units", "server/positions.py", "byte_col_to_units"),
    Q("read the index manifest from disk", "index/manifest.py", "read_manifest"),
    Q("save unsaved vectors when the workspace is closed", "workspace.py", "Workspace.close"),
    Q("take the first sentence of a doc comment", "parsers/doc_comments.py", "first_sentence"),
    Q("parse the header block of an LSP message", "server/framing.py", "parse_header"),
    Q("does a search query look like an identifier", "index/ranking.py", "looks_like_symbol"),
    Q("drop search results whose spans overlap a better one", "index/ranking.py", "drop_overlaps"),
]


@dataclass
class Row:
    method: str
    question: str
    tokens: int
    found: bool


def _is_answer(q: Question, path: str, symbol: str) -> bool:
    return path == q.path and symbol == q.symbol


def chunk_block(h: Hit) -> str:
    return f"{h.path}:{h.start_line}-{h.end_line}\n{h.text}"


def run(ws: Workspace, budget: int, k: int) -> list[Row]:
    rows: list[Row] = []
    for q in QUESTIONS:
        built = ws.context(query=q.text, token_budget=budget)
        rows.append(
            Row(
                "codekin context",
                q.text,
                count_tokens(built.render()),
                any(_is_answer(q, p.path, p.symbol) for p in built.pieces),
            )
        )
        hits = ws.search(q.text, k)
        rows.append(
            Row(
                "top-k chunks",
                q.text,
                sum(count_tokens(chunk_block(h)) for h in hits),
                any(_is_answer(q, h.path, h.symbol) for h in hits),
            )
        )
        files = list(dict.fromkeys(h.path for h in hits))
        text = "\n".join(f"{p}\n{(ws.root / p).read_text('utf-8', 'replace')}" for p in files)
        rows.append(Row("whole files", q.text, count_tokens(text), q.path in files))
    return rows


def check_answers(ws: Workspace) -> None:
    named = ws.hits_named({q.symbol.rsplit(".", 1)[-1] for q in QUESTIONS})
    present = {(h.path, h.symbol) for h in named}
    missing = [f"{q.path} {q.symbol}" for q in QUESTIONS if (q.path, q.symbol) not in present]
    if missing:
        sys.exit("answers not in the index (update QUESTIONS): " + "; ".join(missing))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(REPO), help="the repository (default: codekin's own)")
    ap.add_argument("--tokens", type=int, default=2000, help="codekin context budget (default 2000)")
    ap.add_argument("-k", type=int, default=5, help="top-k chunks for the baselines (default 5)")
    ap.add_argument("--model", default=None, help="encoder (default: the settings' model)")
    ap.add_argument("--index-dir", default=str(REPO / ".bench-cache" / "context" / "index"))
    ap.add_argument("--json", default=None, help="also write every row here")
    ap.add_argument("--verbose", action="store_true", help="one line per question and method")
    args = ap.parse_args()
    settings = Settings(index_dir=args.index_dir)
    if args.model:
        settings = settings.replace(model=args.model)
    with Workspace(args.root, settings) as ws:
        stats = ws.index()
        print(
            f"index: {stats.files_total} files, {stats.chunks_total} chunks ({stats.embedded} embedded now)"
        )
        check_answers(ws)
        rows = run(ws, args.tokens, args.k)
    if args.verbose:
        for r in rows:
            print(f"  {r.method:<16} {r.tokens:>6}  {'yes' if r.found else 'NO ':<3}  {r.question}")
    print(f"{len(QUESTIONS)} questions, context budget {args.tokens} tokens, k={args.k}")
    print(f"{'method':<16} {'mean tokens':>11} {'median':>7} {'max':>7} {'answer included':>16}")
    for method in ("codekin context", "top-k chunks", "whole files"):
        mine = [r for r in rows if r.method == method]
        tokens = [r.tokens for r in mine]
        found = sum(r.found for r in mine)
        print(
            f"{method:<16} {statistics.mean(tokens):>11.0f} {statistics.median(tokens):>7.0f} "
            f"{max(tokens):>7} {found:>9}/{len(mine)} ({found / len(mine):.0%})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
