"""Errors with enough context to fix the input: file, line, what was expected, what was found."""

from __future__ import annotations

from pathlib import Path


class CascadeKitError(Exception):
    """Base class of every error cascadekit raises on purpose."""


class FormatError(CascadeKitError, ValueError):
    """Malformed input: names the file, the 1-based line (or member), what was expected and found."""

    def __init__(
        self,
        path: str | Path | None,
        line: int | None,
        expected: str,
        found: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.expected = expected
        self.found = found
        where = self.path or "<input>"
        if line is not None:
            where += f", line {line}"
        msg = f"{where}: expected {expected}"
        if found is not None:
            shown = found if len(found) <= 80 else found[:77] + "..."
            msg += f", found {shown!r}"
        super().__init__(msg)


class ChecksumError(CascadeKitError):
    """A file's sha256 differs from the one the registry pins."""

    def __init__(self, path: str | Path, expected: str, actual: str) -> None:
        self.path, self.expected, self.actual = str(path), expected, actual
        super().__init__(
            f"{path}: sha256 mismatch (expected {expected}, got {actual}); "
            "the file is corrupt or not the pinned version — delete it and download again"
        )


class UnsafeArchiveError(CascadeKitError):
    """An archive member would be written outside the target folder or is not a regular file."""


class UnknownDatasetError(CascadeKitError, KeyError):
    """A dataset name the registry does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(known))}")

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return self.args[0]
