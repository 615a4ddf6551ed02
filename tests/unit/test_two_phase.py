"""Two-phase indexing: every file is searchable by keywords before the embedding phase ends;
results say how much is embedded; queries reuse cached vectors; lexical search loads no model."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from codekin import Settings, Workspace
from codekin.agents.mcp_server import build_server
from codekin.cli import main
from codekin.embeddings.base import Vectors
from codekin.embeddings.fake import FakeEncoder
from codekin.embeddings.inputs import encoder_input
from codekin.index import layout
from codekin.index.indexer import IndexProgress
from codekin.index.lock import WriteLock
from codekin.parsers.model import content_hash

WAIT_S = 30.0


class GatedEncoder(FakeEncoder):
    """Blocks its first document batch until released (queries are never blocked)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = threading.Event()
        self.release = threading.Event()
        self.queries = 0

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.embedding.set()
        assert self.release.wait(WAIT_S), "the test never released the encoder"
        return super().embed_documents(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        self.queries += len(texts)
        return super().embed_queries(texts)


def make_repo(root: Path, files: int = 40) -> Path:
    for i in range(files):
        p = root / f"pkg{i % 4}" / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def parse_record_{i}(line):\n    return line.split(',')[{i}]\n")
    return root


def test_lexical_results_are_served_before_embedding_ends(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    enc = GatedEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    phases: list[str] = []
    result: list[object] = []
    runner = threading.Thread(
        target=lambda: result.append(ws.index(progress=lambda p: phases.append(p.phase)))
    )
    runner.start()
    try:
        assert enc.embedding.wait(WAIT_S)
        hits = ws.search("parse_record_37", k=3)  # embedding has not finished a single batch
        assert hits[0].symbol == "parse_record_37"
        assert hits.partial and hits.coverage.embedded == 0 and hits.coverage.total == 40
        assert enc.queries == 0  # nothing to compare a query vector with: not embedded
        files = ws.files("parse_record_5", k=2)
        assert files[0].path == "pkg1/mod5.py" and files.partial
    finally:
        enc.release.set()
        runner.join(WAIT_S)
    hits = ws.search("parse_record_37", k=3)
    assert hits[0].symbol == "parse_record_37" and not hits.partial
    assert hits.coverage.embedded == hits.coverage.total == 40 and hits[0].cosine > 0
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p] == [
        "scanning",
        "indexing",
        "embedding",
        "saving",
        "done",
    ]
    ws.close()


def test_progress_counts_what_the_embedding_phase_owes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", files=300)
    seen: list[IndexProgress] = []
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        stats = ws.index(progress=lambda p: seen.append(IndexProgress(**vars(p))))
    embedding = [p for p in seen if p.phase == "embedding"]
    assert embedding[0].to_embed == 300 and embedding[0].embedded == 0
    assert embedding[-1].embedded == 300 and len(embedding) > 2  # a report per batch
    assert embedding[0].lexical_elapsed is not None and stats.lexical_elapsed <= stats.elapsed


def drop_vectors(root: Path, count: int) -> None:
    """What a run killed in its embedding phase leaves: chunks whose vectors were never stored."""
    db = sqlite3.connect(root / ".codekin" / "index.sqlite")
    with db:
        db.execute(f"DELETE FROM vectors WHERE rowid IN (SELECT rowid FROM vectors LIMIT {count})")
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    db.close()


def test_chunks_are_embedded_under_the_key_they_were_committed_with(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    drop_vectors(root, 40)
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        missing = ws.code_index.missing_vectors(-1, 100)
        assert len(missing) == 40
        assert all(content_hash(encoder_input(chunk)) == key for _, chunk, key in missing)
        assert ws.index().embedded == 40 and ws.code_index.count_missing_vectors() == 0


def test_an_editor_update_embeds_only_its_own_chunks(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    drop_vectors(root, 5)
    enc = FakeEncoder()
    with Workspace(root, Settings(), encoder=enc) as ws:
        (root / "new.py").write_text("def brand_new_helper():\n    return 1\n")
        stats = ws.update([root / "new.py"])
        assert stats.embedded == 1 and enc.documents_embedded == 1
        assert ws.coverage().embedded == 36 and ws.coverage().total == 41  # the rest waits
        stats = ws.index()  # for the next full run
        assert stats.embedded == 5 and not ws.coverage().partial


def test_query_vectors_are_cached_per_model_and_text(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    enc = GatedEncoder()
    enc.release.set()
    with Workspace(root, Settings(), encoder=enc) as ws:
        ws.index()
        first = ws.search("split a csv line", k=5)
        again = ws.search("split a csv line", k=5)
        assert first == again and enc.queries == 1
        ws.search("split a csv row", k=5)
        assert enc.queries == 2 and ws.query_vectors.hits == 1


def test_lexical_search_never_loads_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("codekin.workspace.build_encoder", no_model)
    with Workspace(root, Settings(model="fake")) as ws:
        hits = ws.search("parse_record_12", k=3, lexical=True)
        assert hits[0].symbol == "parse_record_12" and hits[0].cosine == 0.0
        assert hits.coverage.lexical_only and hits.partial and hits.coverage.embedded == 40
        assert ws.files("parse_record_12", lexical=True)[0].path == "pkg0/mod12.py"


def test_lexical_search_without_an_index_says_what_to_do(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", files=2)
    with Workspace(root, Settings()) as ws, pytest.raises(LookupError, match="codekin index"):
        ws.search("parse", lexical=True)


def test_full_run_on_an_empty_index_builds_in_place(tmp_path: Path) -> None:
    """Nothing live to keep serving: a full run builds where searches look, so they are answered
    from its first commit instead of after the whole rebuild."""
    root = make_repo(tmp_path / "repo")
    enc = GatedEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    runner = threading.Thread(target=lambda: ws.index(full=True))
    runner.start()
    try:
        assert enc.embedding.wait(WAIT_S)
        assert ws.search("parse_record_3", k=1)[0].symbol == "parse_record_3"
        assert not ws.status().rebuilding
    finally:
        enc.release.set()
        runner.join(WAIT_S)
    assert not ws.coverage().partial
    ws.close()


def test_cli_json_reports_coverage_and_fast_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    drop_vectors(root, 5)
    monkeypatch.setattr("codekin.workspace.build_encoder", lambda *a, **k: FakeEncoder())
    assert main(["search", "parse_record_7", "--json", "--no-update", "--root", str(root)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["symbol"] == "parse_record_7"
    assert (out["partial"], out["embedded"], out["total"], out["lexical_only"]) == (True, 35, 40, False)

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("codekin.workspace.build_encoder", no_model)
    assert main(["search", "parse_record_7", "--fast", "--json", "--root", str(root)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["symbol"] == "parse_record_7" and out["lexical_only"] and out["partial"]
    assert main(["search", "parse_record_7", "--fast", "--files", "--root", str(root)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "pkg3/mod7.py  (python)" and "no model loaded" in printed[-1]


def test_vectors_of_removed_chunks_are_dropped_by_the_next_full_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        (root / "pkg0" / "mod0.py").write_text("def renamed_record_0(line):\n    return line\n")
        ws.update([root / "pkg0" / "mod0.py"])  # an editor update leaves the old vector behind
        db = sqlite3.connect(layout.live_dir(ws.index_dir) / layout.DB_NAME)
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 41
        assert ws.index().files_indexed == 0  # nothing changed on disk, yet the leftover goes
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 40
        db.close()


def test_mcp_answers_by_keywords_while_embedding(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    enc = GatedEncoder()
    app = build_server(encoder=enc, watch=False, cwd=root)

    async def search() -> CallToolResult:
        async with Client(app.server) as client:
            return await client.call_tool("search", {"query": "parse_record_7", "k": 3})

    try:
        answer = anyio.run(search)
        text = answer.content[0].text  # type: ignore[union-attr]
        assert not answer.is_error and "1. pkg3/mod7.py" in text
        assert "is being embedded (0/40 chunks): results are partial" in text
    finally:
        enc.release.set()
        app.roots.close()


def test_cli_search_while_another_process_indexes_answers_from_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    monkeypatch.setattr("codekin.workspace.build_encoder", lambda *a, **k: FakeEncoder())
    lock = WriteLock(root / ".codekin" / "write.lock")
    lock.acquire()  # as a `codekin index` running elsewhere holds it
    try:
        assert main(["search", "parse_record_7", "-k", "1", "--root", str(root)]) == 0
    finally:
        lock.release()
    out, err = capsys.readouterr()
    assert out.startswith("pkg3/mod7.py:1-2  parse_record_7") and "searching the index as it is" in err


def test_a_database_file_still_being_created_reads_as_no_index_yet(tmp_path: Path) -> None:
    """A reader that opens the file between its creation and its schema (a first run's first
    milliseconds) is told to try again, not that the index is corrupt."""
    root = make_repo(tmp_path / "repo", files=2)
    data = layout.live_dir(root / ".codekin")
    data.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(data / layout.DB_NAME).close()  # the file exists, no tables yet
    ws = Workspace(root, Settings())
    with pytest.raises(LookupError, match="being created"):
        ws.search("parse_record_1", lexical=True)
    assert not ws.status().exists
    assert (data / layout.DB_NAME).exists() and not layout.quarantined(data)


def test_similar_to_a_chunk_still_waiting_for_its_vector_embeds_it(tmp_path: Path) -> None:
    """Find-similar from a just-edited function while the embedding phase is under way: the
    query chunk is embedded on the spot instead of failing with "no stored vectors"."""
    root = make_repo(tmp_path / "repo", files=12)
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    (root / "pkg0" / "mod0.py").write_text("def split_record_fields(line):\n    return line.split(',')\n")
    writer_encoder = GatedEncoder()
    writer = Workspace(root, Settings(), encoder=writer_encoder)
    runner = threading.Thread(target=writer.index)
    runner.start()
    try:
        assert writer_encoder.embedding.wait(WAIT_S)  # committed by keywords, no vector yet
        reader = Workspace(root, Settings(), encoder=FakeEncoder())
        hits = reader.similar_to(root / "pkg0" / "mod0.py", 1)
        assert hits and all(h.path != "pkg0/mod0.py" for h in hits)
        assert reader.coverage().embedded < reader.coverage().total
    finally:
        writer_encoder.release.set()
        runner.join(WAIT_S)
        writer.close()


class LexicalFirstEncoder(FakeEncoder):
    """Encodes a query only once the search's BM25 query has started: a search that encoded
    before its lexical retrieval (or waited for the vector first) would never get its answer."""

    def __init__(self) -> None:
        super().__init__()
        self.lexical_started = threading.Event()

    def embed_queries(self, texts: list[str]) -> Vectors:
        assert self.lexical_started.wait(WAIT_S), "the query was encoded before the lexical search"
        return super().embed_queries(texts)


def test_a_new_query_is_encoded_while_the_lexical_retrieval_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo(tmp_path / "repo")
    enc = LexicalFirstEncoder()
    with Workspace(root, Settings(), encoder=enc) as ws:
        ws.index()
        index = ws.code_index
        lexical = index.lexical_search

        def signalling(*args: object, **kwargs: object) -> list[tuple[int, float]]:
            enc.lexical_started.set()
            return lexical(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(index, "lexical_search", signalling)
        hits = ws.search("split a csv line", k=5)
        assert hits and hits[0].cosine > 0  # the dense side took part


def test_an_encoder_failure_on_the_query_thread_reaches_the_caller(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")

    class Broken(FakeEncoder):
        def embed_queries(self, texts: list[str]) -> Vectors:
            raise RuntimeError("the encoder broke")

    with Workspace(root, Settings(), encoder=Broken()) as ws:
        ws.index()
        with pytest.raises(RuntimeError, match="the encoder broke"):
            ws.search("split a csv line", k=5)
