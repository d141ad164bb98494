"""Hostile inputs through the CLI: corrupted mirrors, malformed numbers in every reader of
`cascadekit.data.formats`, text that is not UTF-8, and hostile archives. Each is a clear error
(exit 2, or 1 for a failed verify) naming the file — and the line where there is one — with
nothing written."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
from fake_registry import FakeDataset
from typer.testing import CliRunner

from cascadekit.cli import app
from cascadekit.data.bundle import DatasetBundle
from faults import assert_clear_error

runner = CliRunner()
NON_FINITE = ("nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400")
HETREC = {
    "user_friends.dat": "userID\tfriendID\n2\t3\n",
    "tags.dat": "tagID\ttagValue\n13\trock\n",
    "artists.dat": "id\tname\turl\tpictureURL\n52\tA\tu\tp\n",
}
IDS = "MelCup17/MelCup17_user_ids_2.csv"
MELCUP = {
    "MelCup17/MelCup17_following_network.csv": "nuid_followee_u,nuid_follower_v\n2,2\n",
    "MelCup17/MelCup17_eva_status_2.csv": "t_id,timestamp_ms,uid,nuid,is_reply,is_retweet,"
    "is_quote,replied_uid,replied_t_id,retweeted_uid,retweeted_t_id,quoted_uid,quoted_t_id\n"
    "4194304000,{x},1001,1,0,0,0,,,,,,\n",
}
# (format, what the CLI reads, files with {x} where the number goes, the file and line named,
#  whether the field holds an integer)
TEXT_FIELDS = [
    ("lines-file", "c.txt", {"c.txt": "a,1 b,{x}\n"}, "c.txt, line 1", False),
    ("lines", ".", {"cascade.txt": "a,1\n", "cascadetest.txt": "b,1 c,{x}\n"},
     "cascadetest.txt, line 1", False),
    ("infvae", ".", {"train.txt": "s a 1\n", "test.txt": "s b {x}\n"}, "test.txt, line 1", False),
    ("mshgat", ".", {"cascades.txt": "s a 1,b 2,\nc 3,d {x},\n"}, "cascades.txt, line 2", False),
    ("raw-paths", "d.txt", {"d.txt": "1\tr\t{x}\t1\tr:0\n"}, "d.txt, line 1", False),
    ("raw-paths", "d.txt", {"d.txt": "1\tr\t0\t{x}\tr:0\n"}, "d.txt, line 1", True),
    ("raw-paths", "d.txt", {"d.txt": "1\tr\t0\t2\tr:0 r/a:{x}\n"}, "d.txt, line 1", False),
    ("deephawkes", ".", {"cascade_train.txt": "1\tr\t{x}\t1\tr:a:1\t3\n",
                         "shortestpath_train.txt": "1\tr:0\n"}, "cascade_train.txt, line 1", False),
    ("deephawkes", ".", {"cascade_train.txt": "1\tr\t0\t1\tr:a:1\t{x}\n",
                         "shortestpath_train.txt": "1\tr:0\n"}, "cascade_train.txt, line 1", True),
    ("hetrec-lastfm", ".", {"user_taggedartists.dat": "userID\tartistID\ttagID\tday\tmonth\t"
                            "year\n{x}\t52\t13\t1\t4\t2009\n", **HETREC},
     "user_taggedartists.dat, line 2", True),
    ("melcup", ".", {IDS: "uid,nuid\n1001,{x}\n1002,2\n", **MELCUP} | {
        "MelCup17/MelCup17_eva_status_2.csv": MELCUP["MelCup17/MelCup17_eva_status_2.csv"]
        .format(x=1288834975657)}, "MelCup17_user_ids_2.csv, line 2", True),
    ("melcup", ".", {IDS: "uid,nuid\n1001,1\n1002,2\n", **MELCUP},
     "MelCup17_eva_status_2.csv, line 2", True),
    ("csv", "e.csv", {"e.csv": "cascade,user,time\nc,a,1\nc,b,{x}\n"}, "e.csv, line 3", False),
]  # fmt: skip


def convert(source: Path, fmt: str, out: Path, *extra: str) -> object:
    return runner.invoke(app, ["convert", str(source), str(out), "--format", fmt, *extra])


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode()
        (folder / name).write_bytes(data)


@pytest.mark.parametrize(
    ("fmt", "source", "files", "where", "integral"),
    TEXT_FIELDS,
    ids=[f"{f[0]}-{i}" for i, f in enumerate(TEXT_FIELDS)],
)
def test_malformed_numbers_in_text_readers(
    tmp_path: Path, fmt: str, source: str, files: dict, where: str, integral: bool
) -> None:
    for value in (*NON_FINITE, "abc", *(("1.5", "2.5e0") if integral else ())):
        folder = tmp_path / value
        write(folder, {k: v.replace("{x}", value) for k, v in files.items()})
        res = convert(folder / source, fmt, folder / "out")
        assert_clear_error(res, f"{where}: expected")
        assert not (folder / "out").exists()
    ok = tmp_path / "valid"  # the same file with a good number reads
    write(ok, {k: v.replace("{x}", "5") for k, v in files.items()})
    assert convert(ok / source, fmt, ok / "out").exit_code == 0


def test_malformed_numbers_in_c4_mat_files(tmp_path: Path) -> None:
    import scipy.io

    def mat(folder: Path, node: list, users_index: list, time: list, numprod: float) -> Path:
        def col(v: list) -> np.ndarray:
            return np.asarray(v, dtype=np.float64).reshape(-1, 1)

        split = {"node": col(node), "prod": col([1, 2, 1]), "time": col(time),
                 "numprod": np.array([[numprod]])}  # fmt: skip
        test = {"node": col([3]), "prod": col([2]), "time": col([40]),
                "numprod": np.array([[numprod]])}  # fmt: skip
        folder.mkdir()
        scipy.io.savemat(str(folder / "url.mat"), {
            "adj": np.eye(3, k=1, dtype=np.uint8), "traindata": split, "testdata": test,
            "users_index": np.array([users_index], dtype=np.float64),
        })  # fmt: skip
        return folder

    good = dict(node=[1, 2, 3], users_index=[507, 12, 99], time=[10, 20, 30], numprod=2)
    res = convert(mat(tmp_path / "ok", **good), "c4", tmp_path / "ok_out", "--set", "which=url")
    assert res.exit_code == 0, res.output
    assert DatasetBundle.load(tmp_path / "ok_out").events.user_vocab.tokens == ["507", "12", "99"]
    bad = [("node", [1, np.nan, 3], "traindata.node"), ("node", [1, 1.5, 3], "traindata.node"),
           ("node", [1, np.inf, 3], "traindata.node"), ("time", [10, np.nan, 30], "time"),
           ("time", [10, np.inf, 30], "time"), ("users_index", [507, 1.5, 99], "users_index"),
           ("users_index", [507, np.nan, 99], "users_index"), ("numprod", 2.5, "numprod"),
           ("numprod", np.nan, "numprod")]  # fmt: skip
    for i, (field, value, named) in enumerate(bad):
        folder = mat(tmp_path / f"bad{i}", **{**good, field: value})
        res = convert(folder, "c4", folder / "out", "--set", "which=url")
        assert_clear_error(res, "url.mat", named)
        assert not (folder / "out").exists()
    (tmp_path / "ok" / "url.mat").write_bytes((tmp_path / "ok" / "url.mat").read_bytes()[:300])
    assert_clear_error(convert(tmp_path / "ok", "c4", tmp_path / "t", "--set", "which=url"),
                       "url.mat: expected a MATLAB 5 .mat file")  # fmt: skip


def test_malformed_numbers_in_parquet_event_tables(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for value in (float("nan"), float("inf"), float("-inf"), "nan", "1e400"):
        path = tmp_path / f"{value}.parquet"
        times = [1.0, value] if isinstance(value, float) else ["1", value]
        pq.write_table(pa.table({"cascade": ["c", "c"], "user": ["a", "b"], "time": times}), path)
        assert_clear_error(convert(path, "parquet", tmp_path / "out"), path.name, "line 2")
        assert not (tmp_path / "out").exists()


def ced_tar(path: Path, post: bytes, repost: object = None, extra: list | None = None) -> Path:
    """A CED_Dataset.tar.gz with one cascade (source post ``post``, raw JSON bytes)."""
    reposts = repost or [{"uid": "2", "mid": "a", "parent": "", "date": "2013-05-09 13:00:00"}]
    members = [("CED_Dataset/original-microblog/1_m1_100.json", post),
               ("CED_Dataset/rumor-repost/1_m1_100.json", json.dumps(reposts).encode()),
               *(extra or [])]  # fmt: skip
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members:
            if isinstance(data, tarfile.TarInfo):
                tf.addfile(data)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


POST = '{{"text": "t", "user": "empty", "time": {t}, "reposts": {r}}}'


@pytest.mark.parametrize(
    ("time", "reposts", "message"),
    [
        ("NaN", "1", "NaN and Infinity are not JSON numbers"),
        ("Infinity", "1", "NaN and Infinity are not JSON numbers"),
        ("1e400", "1", "expected a finite 'time', found 'inf'"),
        ("1368072000", "1.5", "expected a whole number of reposts, found '1.5'"),
        ("1368072000", "1e400", "expected a whole number of reposts, found 'inf'"),
    ],
)
def test_malformed_numbers_in_ced_json(
    tmp_path: Path, time: str, reposts: str, message: str
) -> None:
    tar = ced_tar(tmp_path / "CED_Dataset.tar.gz", POST.format(t=time, r=reposts).encode())
    assert_clear_error(convert(tar, "ced", tmp_path / "out"), "1_m1_100.json", message)
    assert not (tmp_path / "out").exists()


def test_text_that_is_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    for fmt, source, files, where, _ in TEXT_FIELDS[:4]:
        folder = tmp_path / fmt
        data = {k: v.replace("{x}", "5").encode() for k, v in files.items()}
        name = next(k for k in data if where.startswith(Path(k).name))
        data[name] += "é 1\n".encode("latin-1")  # a new last line in Latin-1
        write(folder, data)
        n_lines = data[name].count(b"\n")
        res = convert(folder / source, fmt, folder / "out")
        assert_clear_error(res, f"{Path(name).name}, line {n_lines}: expected UTF-8 text")


def test_a_bom_and_crlf_line_ends_read_the_same_cascades(tmp_path: Path) -> None:
    text = "a,1 b,2\nc,3 a,4\n"
    (tmp_path / "plain.txt").write_text(text)
    (tmp_path / "dos.txt").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    for name in ("plain", "dos"):
        assert convert(tmp_path / f"{name}.txt", "lines-file", tmp_path / name).exit_code == 0
    a, b = (DatasetBundle.load(tmp_path / n).cascades for n in ("plain", "dos"))
    assert a.vocab.tokens == b.vocab.tokens == ["a", "b", "c"]
    assert a.users.tolist() == b.users.tolist() and a.times.tolist() == b.times.tolist()


@pytest.mark.parametrize(
    "member",
    [
        tarfile.TarInfo("../evil.json"),
        tarfile.TarInfo("/tmp/evil.json"),
        tarfile.TarInfo("CED_Dataset/../../evil.json"),
    ],
    ids=["traversal", "absolute", "nested traversal"],
)
def test_hostile_archive_paths_are_refused(tmp_path: Path, member: tarfile.TarInfo) -> None:
    (tmp_path / "in").mkdir()
    tar = ced_tar(tmp_path / "in" / "CED_Dataset.tar.gz", POST.format(t=0, r=1).encode(),
                  extra=[(member.name, b"{}")])  # fmt: skip
    assert_clear_error(convert(tar, "ced", tmp_path / "out"), repr(member.name))
    assert sorted(os.listdir(tmp_path)) == ["in"] and os.listdir(tmp_path / "in") == [tar.name]


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE])
def test_links_and_devices_in_an_archive_are_refused(tmp_path: Path, kind: bytes) -> None:
    member = tarfile.TarInfo("CED_Dataset/original-microblog/2_m2_200.json")
    member.type, member.linkname = kind, "/etc/passwd"
    tar = ced_tar(tmp_path / "CED_Dataset.tar.gz", POST.format(t=0, r=1).encode(),
                  extra=[(member.name, member)])  # fmt: skip
    assert_clear_error(convert(tar, "ced", tmp_path / "out"), "2_m2_200.json")


def test_an_oversized_member_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A member declaring 100 MiB (the archive holds only its header: nothing is read)."""
    info = tarfile.TarInfo("CED_Dataset/original-microblog/1_m1_100.json")
    info.size = 100 * 2**20
    tar = tmp_path / "CED_Dataset.tar.gz"
    tar.write_bytes(gzip.compress(info.tobuf() + b"{}"))
    res = convert(tar, "ced", tmp_path / "out")
    assert_clear_error(res, "1_m1_100.json", "104,857,600 bytes, over the")


def test_a_mirror_file_edited_with_its_mtime_restored_fails_verify_and_is_never_read(
    fake_dataset: FakeDataset, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["datasets", "verify", fake_dataset.name]).exit_code == 0
    path = fake_dataset.mirror_folder / "cascade.txt"
    st = path.stat()
    path.write_text(path.read_text().replace("a,1", "a,7"))  # one digit, same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    res = runner.invoke(app, ["datasets", "verify", fake_dataset.name])
    assert res.exit_code == 1 and "mismatch" in res.stderr
    res = runner.invoke(app, ["convert", fake_dataset.name, str(tmp_path / "out")])
    assert_clear_error(res, "cascade.txt: sha256 mismatch")
    assert not (tmp_path / "out").exists()


def test_an_unlisted_mirror_file_is_reported_and_ignored(fake_dataset: FakeDataset) -> None:
    extra = fake_dataset.mirror_folder / "cascadevalid.txt"
    extra.write_text("a,1 d,2\n")  # would add a valid split if it were read
    res = runner.invoke(app, ["datasets", "verify", fake_dataset.name])
    assert res.exit_code == 0 and "unlisted" in res.stderr and "cascadevalid.txt" in res.stderr
    res = runner.invoke(app, ["datasets", "stats", fake_dataset.name, "--json"])
    stats = json.loads(res.stdout)
    assert sorted(stats["splits"]) == ["test", "train"] and stats["cascades"]["cascades"] == 3
