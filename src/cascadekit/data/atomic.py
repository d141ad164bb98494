"""Atomic writes: an output is written beside its target and then takes the target's place, so a
killed process leaves the old complete file or folder, or the new complete one, never a mix.

`check_output` is the one rule for replacing what is already there: a missing path or an empty
folder is written; anything else only with ``overwrite``, and then only when it is the kind of
thing being written (a file for a file; for a folder, one that holds ``marker``, e.g. a saved
bundle's ``bundle.json``) — ``--overwrite`` never deletes a user's other files or folders.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from cascadekit.errors import CascadeKitError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def check_output(path: Path, *, overwrite: bool, folder: bool, marker: str | None = None) -> None:
    """Refuse (CascadeKitError) to write ``path`` where that would replace something it may
    not (see the module docstring); ``folder``: whether the output is a folder."""
    if not path.exists():
        return
    if folder and path.is_dir() and not any(path.iterdir()):
        return
    if path.is_dir() != folder:
        have, want = ("a folder", "a file") if path.is_dir() else ("a file", "a folder")
        raise CascadeKitError(f"{path} is {have}; the output is {want}: choose another path")
    if not overwrite:
        raise CascadeKitError(
            f"{path} exists{' and is not empty' if folder else ''}; refusing to overwrite it "
            "(--overwrite replaces it)"
        )
    if marker is not None and not (path / marker).is_file():
        raise CascadeKitError(
            f"{path} holds other files (no {marker}); --overwrite only replaces an output of the "
            "same kind, never other data: choose another path"
        )


def temporary_sibling(path: Path) -> Path:
    """A fresh hidden name next to ``path`` (same folder, so a rename onto ``path`` is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


@contextlib.contextmanager
def atomic_file(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename, on any
    failure it is deleted and ``path`` is untouched. Checked with `check_output` first."""
    path = Path(path)
    check_output(path, overwrite=overwrite, folder=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def replace_folder(new: Path, target: Path) -> None:
    """Put the complete folder ``new`` in the place of ``target`` (absent, empty or a folder
    to replace) and delete what was there. Where the system can swap two folders in one step
    (Linux ``renameat2(RENAME_EXCHANGE)``) ``target`` is at every instant the old or the new
    folder; elsewhere it is missing for the instant between two renames."""
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        os.replace(new, target)  # rename replaces an empty folder
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # now the old folder
        return
    old = temporary_sibling(target)
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap paths ``a`` and ``b`` atomically; False where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a libc without renameat2
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))
