"""`describe`: every reader option with its default and documented one-line description."""

from __future__ import annotations

import inspect

import pytest

from cascadekit.data.formats import FORMATS, describe, option_docs, reader
from cascadekit.errors import CascadeKitError


def test_describe_infvae_exactly() -> None:
    assert describe("infvae") == [
        {
            "name": "folder",
            "default": None,
            "required": True,
            "description": "Inf-VAE folder: train.txt / val.txt / test.txt (`seed u t u t ...`) "
            "+ graph.txt",
        },
        {
            "name": "repair",
            "default": False,
            "required": False,
            "description": "keep each user's first adoption and stable-sort each cascade by time "
            "(both counted in the report) instead of raising FormatError.",
        },
        {
            "name": "seed_column",
            "default": "auto",
            "required": False,
            "description": '"auto" (the first cascade line decides: odd token count = seed '
            "without a time), True (every line starts with a seed) or False (user time pairs "
            "only).",
        },
        {
            "name": "seed_time",
            "default": 0.0,
            "required": False,
            "description": "adoption time of a seed: a number (0.0, the Inf-VAE loader's) or "
            '"first" (the time of the line\'s first pair).',
        },
        {
            "name": "graph_header",
            "default": "auto",
            "required": False,
            "description": 'whether graph.txt starts with an "n_nodes n_edges" line: "auto" '
            "(when its counts match the file), True (required and checked) or False (the first "
            "line is an edge).",
        },
        {
            "name": "directed",
            "default": False,
            "required": False,
            "description": "keep graph.txt arcs as listed (False: undirected edges, as the "
            "Inf-VAE loader).",
        },
        {
            "name": "name",
            "default": None,
            "required": False,
            "description": "bundle name (default: the folder's name).",
        },
    ]


def test_describe_c4_and_a_reader_without_options() -> None:
    assert [(r["name"], r["default"], r["required"]) for r in describe("c4")] == [
        ("folder", None, True),
        ("which", "music2", False),
    ]
    assert describe("c4")[1]["description"] == 'the dataset to read, "music2" or "url".'
    assert describe("deephawkes") == [
        {
            "name": "folder",
            "default": None,
            "required": True,
            "description": "folder with cascade_*.txt / shortestpath_*.txt",
        }
    ]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_reader_documents_exactly_its_options(fmt: str) -> None:
    rows = describe(fmt)
    assert all(r["description"] for r in rows), [r["name"] for r in rows if not r["description"]]
    params = list(inspect.signature(reader(fmt)).parameters)
    assert [r["name"] for r in rows] == params
    assert sorted(option_docs(reader(fmt))) == sorted(params[1:])  # no stale entries either


def test_option_docs_joins_continuation_lines_and_stops_at_the_section_end() -> None:
    def f(path: str, *, a: int = 1, b: str = "x") -> None:
        """Summary.

        Options:
            a: first line
                and its continuation.
            b: second: with a colon.

        Notes:
            c: not an option.
        """

    assert option_docs(f) == {"a": "first line and its continuation.", "b": "second: with a colon."}
    assert option_docs(len) == {}


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(
        CascadeKitError, match=r"unknown format 'nope'; known formats: c4, ced, csv"
    ):
        describe("nope")
