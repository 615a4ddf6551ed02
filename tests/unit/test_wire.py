"""codekin's LSP extensions on the wire: params read from camelCase JSON into typed objects (a
malformed one is an InvalidParams error naming the field), results and the index status written
back in camelCase."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codekin.server.core import json_converter
from codekin.server.state import EvaluationStatus, FolderStatus, IndexStatus
from codekin.server.wire import (
    CONTEXT,
    MESSAGES,
    RESULT_OPENED,
    SEARCH,
    SIMILAR,
    ContextParams,
    OpenSimilarArgs,
    ResultOpenedParams,
    SearchItem,
    SearchParams,
    SearchResult,
    SimilarParams,
    describe,
    parse,
)

CONVERTER = json_converter()
URI = "file:///repo/a.py"
RANGE = types.Range(start=types.Position(line=1, character=2), end=types.Position(line=3, character=0))


def error(params: Any, cls: type, method: str) -> str:
    with pytest.raises(JsonRpcInvalidParams) as caught:
        parse(CONVERTER, params, cls, method)
    return str(caught.value.message)


def test_params_are_read_from_camel_case_with_defaults() -> None:
    assert parse(CONVERTER, {"query": "x"}, SearchParams, SEARCH) == SearchParams("x")
    similar = parse(
        CONVERTER,
        {
            "textDocument": {"uri": URI},
            "range": {"start": {"line": 1, "character": 2}, "end": {"line": 3, "character": 0}},
        },
        SimilarParams,
        SIMILAR,
    )
    assert similar.text_document.uri == URI and similar.range == RANGE and similar.position is None
    given_null = {"query": "x", "limit": None, "languages": None, "files": None}
    assert parse(CONVERTER, given_null, SearchParams, SEARCH) == SearchParams("x")  # null: not given
    context = parse(CONVERTER, {"tokenBudget": 50, "query": "q", "unknownKey": 1}, ContextParams, CONTEXT)
    assert (context.token_budget, context.query, context.text_document) == (50, "q", None)


@pytest.mark.parametrize(
    ("params", "cls", "method", "expected"),
    [
        ({"query": 5}, SearchParams, SEARCH, "expected str, got int @ $.query"),
        ({}, SearchParams, SEARCH, "required field missing @ $.query"),
        ({"query": "x", "limit": 0}, SearchParams, SEARCH, "'limit' must be an integer in [1, 500]"),
        ({"query": "x", "limit": True}, SearchParams, SEARCH, "expected int, got bool @ $.limit"),
        ({"query": "x", "files": "yes"}, SearchParams, SEARCH, "expected bool, got str @ $.files"),
        (
            {"query": "x", "languages": "go"},
            SearchParams,
            SEARCH,
            "expected an array of strings, got a string",
        ),
        ({"query": "x", "paths": ["a", 1]}, SearchParams, SEARCH, "expected an array of strings @ $.paths"),
        (["query"], SearchParams, SEARCH, "expected an object, got an array @ $"),
        (None, SearchParams, SEARCH, "expected an object, got null @ $"),
        ({"textDocument": {"uri": URI}}, SimilarParams, SIMILAR, "give 'position' or 'range'"),
        (
            {"textDocument": {"uri": 5}, "position": {"line": 0, "character": 0}},
            SimilarParams,
            SIMILAR,
            "$.textDocument.uri",
        ),
        (
            {"textDocument": {"uri": URI}, "position": {"line": -1, "character": 0}},
            SimilarParams,
            SIMILAR,
            "$.position",
        ),
        ({"query": "x"}, ContextParams, CONTEXT, "required field missing @ $.tokenBudget"),
        ({"tokenBudget": 10}, ContextParams, CONTEXT, "give 'query' or 'textDocument' and 'position'"),
        (
            {"tokenBudget": 0, "query": "x"},
            ContextParams,
            CONTEXT,
            "'tokenBudget' must be an integer in [1, 10000000]",
        ),
    ],
)
def test_malformed_params_name_the_field(params: Any, cls: type, method: str, expected: str) -> None:
    message = error(params, cls, method)
    assert message.startswith(f"invalid params for {method}: ") and expected in message, message


def test_a_request_is_read_with_its_typed_params() -> None:
    message = {"jsonrpc": "2.0", "id": 7, "method": SEARCH, "params": {"query": "x", "limit": 3}}
    request = CONVERTER.structure(message, MESSAGES[SEARCH])
    assert request.id == 7 and request.params == SearchParams("x", 3)
    bad = {**message, "params": {"query": "x", "limit": "3"}}
    with pytest.raises(Exception) as caught:
        CONVERTER.structure(bad, MESSAGES[SEARCH])
    assert describe(caught.value) == "expected int, got str @ $.params.limit"


def test_results_and_status_are_written_in_camel_case() -> None:
    item = SearchItem(URI, RANGE, 0.5, 0.25, "f", "function", "python", "def f(): ...")
    written = CONVERTER.unstructure(SearchResult([item], partial=False, embedded=3, total=4))
    assert written == {
        "items": [
            {
                "uri": URI,
                "range": {"start": {"line": 1, "character": 2}, "end": {"line": 3, "character": 0}},
                "score": 0.5,
                "cosine": 0.25,
                "symbol": "f",
                "kind": "function",
                "language": "python",
                "preview": "def f(): ...",
            }
        ],
        "partial": False,
        "embedded": 3,
        "total": 4,
    }
    explained = SearchItem(URI, RANGE, 0.5, 0.25, "f", "function", "python", "", explain={"dense": 1})
    assert CONVERTER.unstructure(explained)["explain"] == {"dense": 1}  # only when asked
    evaluation = EvaluationStatus("m", 10, 0.5, 0.6, 20, "mined", 3.0, ["MRR fell"])
    folder = FolderStatus(URI, "ready", 1, 2, None, [], False, evaluation)
    status = IndexStatus("ready", 1, 2, "m", 12.5, [], False, "client", [folder], ["MRR fell"])
    assert CONVERTER.unstructure(status) == {
        "state": "ready",
        "files": 1,
        "chunks": 2,
        "model": "m",
        "lastUpdated": 12.5,
        "errors": [],
        "partial": False,
        "watcher": "client",
        "folders": [
            {
                "uri": URI,
                "state": "ready",
                "files": 1,
                "chunks": 2,
                "lastUpdated": None,
                "errors": [],
                "partial": False,
                "evaluation": {
                    "model": "m",
                    "k": 10,
                    "mrr": 0.5,
                    "bestMrr": 0.6,
                    "queries": 20,
                    "dataset": "mined",
                    "time": 3.0,
                    "warnings": ["MRR fell"],
                },
            }
        ],
        "drift": ["MRR fell"],
    }


def test_a_result_opened_notification_is_read_or_refused() -> None:
    rng = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
    given = {"query": "q", "uri": URI, "range": rng, "rank": 2}
    notification = {"jsonrpc": "2.0", "method": RESULT_OPENED, "params": given}
    assert CONVERTER.structure(notification, MESSAGES[RESULT_OPENED]).params.rank == 2
    assert "'rank' must be an integer" in error({**given, "rank": 0}, ResultOpenedParams, RESULT_OPENED)
    assert "'query' must be a non-empty string" in error(
        {**given, "query": " "}, ResultOpenedParams, RESULT_OPENED
    )
    backwards = {"start": rng["end"], "end": rng["start"]}
    assert "ends before it starts" in error({**given, "range": backwards}, ResultOpenedParams, RESULT_OPENED)


def test_a_code_lens_argument_round_trips() -> None:
    args = OpenSimilarArgs([types.Location(URI, RANGE)], URI, RANGE.start)
    written = CONVERTER.unstructure(args)
    assert written["locations"] == [{"uri": URI, "range": CONVERTER.unstructure(RANGE)}]
    assert parse(CONVERTER, written, OpenSimilarArgs, "openSimilar") == args
    assert "$.locations" in error({"uri": URI}, OpenSimilarArgs, "openSimilar")
