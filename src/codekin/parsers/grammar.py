"""Lazy, per-process loading of grammars and compiled chunk queries."""

from __future__ import annotations

import functools
import importlib
from importlib import resources

from tree_sitter import Language, Parser, Query

from codekin.parsers.languages import LANGUAGE_SPECS


@functools.cache
def load_language(name: str) -> Language:
    """The tree-sitter ``Language`` of a supported grammar (KeyError for an unknown name)."""
    spec = LANGUAGE_SPECS[name]
    module = importlib.import_module(spec.module)
    return Language(getattr(module, spec.entry)())


@functools.cache
def load_query(name: str) -> Query:
    """The compiled chunk query shipped as ``queries/<spec.query>.scm``."""
    file = f"{LANGUAGE_SPECS[name].query}.scm"
    source = resources.files("codekin.parsers").joinpath("queries", file).read_text("utf-8")
    return Query(load_language(name), source)


def new_parser(name: str) -> Parser:
    """A fresh parser (cheap; parsers are not shared so callers may use threads)."""
    return Parser(load_language(name))
