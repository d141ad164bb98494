"""Safe, streaming reads of tar archives: members come back as bytes, nothing touches the disk.

Every member is checked before anything is yielded for it: an absolute path, a ``..`` component, a
symlink, a hard link or a device / FIFO raises `UnsafeArchiveError` naming the member, even when
its name would not match ``suffix`` (an archive holding such a member is not trusted at all).
Folders are skipped silently (they carry no data).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

from cascadekit.errors import UnsafeArchiveError

_DRIVE = re.compile(r"^[A-Za-z]:")


def check_member(archive: str | Path, member: tarfile.TarInfo) -> None:
    """Raise `UnsafeArchiveError` unless ``member`` is a folder or a regular file inside the root."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path")
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} escapes the archive root ('..')")
    if member.issym() or member.islnk():
        raise UnsafeArchiveError(
            f"{archive}: member {name!r} is a link (to {member.linkname!r}); links are refused"
        )
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(
            f"{archive}: member {name!r} is not a regular file or folder (device, FIFO, ...)"
        )


# one member's size the readers hold in memory at most (CED's largest member: 185 KB)
MAX_MEMBER_BYTES = 64 * 2**20


def iter_tar_members(
    path: str | Path, *, suffix: str | None = None, max_member_bytes: int = MAX_MEMBER_BYTES
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(member name, content)`` for the regular files of a (compressed) tar, in archive order.

    The archive is read as a stream (``r|*``: gzip, bz2, xz or plain), one member in memory at a
    time. ``suffix`` keeps only names ending with it; every member is still safety-checked, and a
    member declaring more than ``max_member_bytes`` is refused before it is read (a small
    compressed archive can hold a huge member).
    """
    path = Path(path)
    with tarfile.open(path, mode="r|*") as tf:
        for member in tf:
            check_member(path, member)
            if member.size > max_member_bytes:
                raise UnsafeArchiveError(
                    f"{path}: member {member.name!r} is {member.size:,} bytes, over the "
                    f"{max_member_bytes:,}-byte limit for one member"
                )
            if member.isdir() or (suffix is not None and not member.name.endswith(suffix)):
                continue
            f = tf.extractfile(member)
            if f is None:  # cannot happen for a checked regular file; guard the type anyway
                raise UnsafeArchiveError(f"{path}: member {member.name!r} has no readable data")
            yield member.name, f.read()
