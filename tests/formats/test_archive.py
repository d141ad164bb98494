"""Streaming tar reads: regular files come back as bytes; unsafe members raise, naming the member."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from cascadekit.data.formats.archive import iter_tar_members
from cascadekit.errors import UnsafeArchiveError


def make_tar(path: Path, members: list[tuple[str, bytes | None, bytes]]) -> Path:
    """Write a .tar.gz; each member is (name, type, data) with type None for a regular file."""
    with tarfile.open(path, "w:gz") as tf:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind is None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                info.type = kind
                info.linkname = data.decode()
                tf.addfile(info)
    return path


def test_regular_files_in_order_with_suffix(tmp_path: Path) -> None:
    tar = make_tar(
        tmp_path / "a.tar.gz",
        [
            ("root", tarfile.DIRTYPE, b""),
            ("root/b.json", None, b'{"x": 1}'),
            ("root/readme.md", None, b"hello"),
            ("root/sub/a.json", None, b"[]"),
        ],
    )
    assert list(iter_tar_members(tar)) == [
        ("root/b.json", b'{"x": 1}'),
        ("root/readme.md", b"hello"),
        ("root/sub/a.json", b"[]"),
    ]
    assert [n for n, _ in iter_tar_members(tar, suffix=".json")] == [
        "root/b.json",
        "root/sub/a.json",
    ]


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (("/etc/passwd", None, b"x"), r"'/etc/passwd' has an absolute path"),
        (("root/../../evil.json", None, b"x"), r"'root/../../evil.json' escapes the archive root"),
        (("..", tarfile.DIRTYPE, b""), r"'\.\.' escapes"),
        (("root/link.json", tarfile.SYMTYPE, b"/etc/passwd"), r"'root/link.json' is a link"),
        (("root/hard.json", tarfile.LNKTYPE, b"root/ok.json"), r"'root/hard.json' is a link"),
        (("root/dev", tarfile.CHRTYPE, b""), r"'root/dev' is not a regular file"),
        (("root/fifo", tarfile.FIFOTYPE, b""), r"'root/fifo' is not a regular file"),
    ],
)
def test_unsafe_members_raise(tmp_path: Path, member: tuple, message: str) -> None:
    tar = make_tar(tmp_path / "bad.tar.gz", [("root/ok.json", None, b"{}"), member])
    with pytest.raises(UnsafeArchiveError, match=message):
        list(iter_tar_members(tar, suffix=".txt"))  # checked even when the suffix does not match
    assert not (tmp_path / "etc").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.tar.gz"
    ]  # nothing was written next to the archive


def test_an_oversized_member_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A small compressed archive can hold a huge member (zeros compress ~1000:1)."""
    tar = make_tar(tmp_path / "bomb.tar.gz", [("root/ok.json", None, b"[]"),
                                              ("root/big.json", None, b"0" * 5000)])  # fmt: skip
    assert tar.stat().st_size < 500
    members = iter_tar_members(tar, max_member_bytes=1000)
    assert next(members) == ("root/ok.json", b"[]")
    with pytest.raises(UnsafeArchiveError, match="'root/big.json' is 5,000 bytes, over the 1,000"):
        next(members)
