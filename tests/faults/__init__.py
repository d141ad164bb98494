"""Fault injection: kills during writes, hostile inputs, bad options, the CLI's error boundary.

`assert_clear_error` is the one definition of "a clear error" these tests hold the CLI to."""

from __future__ import annotations

from typing import Any


def assert_clear_error(res: Any, *fragments: str, code: int = 2) -> str:
    """``res`` (a CliRunner result) ended with the documented exit ``code``, no traceback, and
    exactly one ``error:`` line — the last line of stderr — that contains every fragment.
    Returns that line."""
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], res.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]
