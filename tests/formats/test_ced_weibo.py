"""CED Weibo: tiny crafted tar (times, parents, repairs, profiles), errors, real counts, round trip."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats.ced_weibo import read_ced
from cascadekit.errors import FormatError, UnsafeArchiveError

BJ = timezone(timedelta(hours=8))


def bj(*args: int) -> float:
    return datetime(*args, tzinfo=BJ).timestamp()


PROFILE = {"verified": False, "description": True, "gender": "f", "messages": 2911,
           "followers": 1096, "location": "新疆", "time": 1355300133, "friends": 1118,
           "verified_type": -1}  # fmt: skip
SOURCES = {
    "1_m1_100": {"text": "源", "user": PROFILE, "time": int(bj(2013, 5, 9, 12, 0, 0)),
                 "reposts": 5, "comments": 2, "likes": 7, "pics": 1, "has_url": False,
                 "source": "web"},
    "2_m2_500": {"text": "二", "user": "empty", "time": "Tue Dec 31 23:00:00 +0800 2013",
                 "reposts": 2, "comments": 0, "likes": 0, "pics": 0, "has_url": True,
                 "source": ""},
}  # fmt: skip


def repost(uid: str, mid: str, parent: str, date: str) -> dict:
    return {"kids": [], "uid": uid, "parent": parent, "text": f"转{mid}", "mid": mid, "date": date}


REPOSTS = {
    ("rumor-repost", "1_m1_100"): [
        repost("200", "a", "", "2013-05-09 13:00:00"),
        repost("300", "b", "a", "2013-05-09 12:30:00"),  # its parent adopts later
        repost("200", "c", "", "2013-05-09 14:00:00"),  # repeated user
        repost("400", "d", "c", "05月09日 15:00"),  # no year; parent = 200's repeat
        repost("100", "e", "", "2013-05-09 11:00:00"),  # the root user, before the post
    ],
    ("non-rumor-repost", "2_m2_500"): [
        repost("600", "x", "", "01月01日 00:30"),  # no year: 2013 would precede the post
        repost("700", "y", "zzz", "2013-12-31 23:10:00"),  # unknown parent
    ],
}


REPOST_KEY = ("rumor-repost", "1_m1_100")


def write_tar(path: Path, sources: dict = SOURCES, reposts: dict = REPOSTS) -> Path:
    files = {f"CED_Dataset/original-microblog/{k}.json": v for k, v in sources.items()}
    files |= {f"CED_Dataset/{d}/{k}.json": v for (d, k), v in reposts.items()}
    with tarfile.open(path, "w:gz") as tf:
        for name, obj in sorted(files.items()):
            data = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_tiny_tar_exact(tmp_path: Path) -> None:
    b = read_ced(write_tar(tmp_path / "CED_Dataset.tar.gz"))
    cs = b.cascades
    assert cs.ids.tolist() == ["1_m1_100", "2_m2_500"] and cs.meta["label"].tolist() == [1, 0]
    assert cs.vocab.tokens == ["100", "300", "200", "400", "500", "700", "600"]
    assert cs.lengths.tolist() == [4, 3] and cs.users.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert cs.times.tolist() == [
        bj(2013, 5, 9, 12, 0, 0), bj(2013, 5, 9, 12, 30, 0), bj(2013, 5, 9, 13, 0, 0),
        bj(2013, 5, 9, 15, 0, 0), bj(2013, 12, 31, 23, 0, 0), bj(2013, 12, 31, 23, 10, 0),
        bj(2014, 1, 1, 0, 30, 0),
    ]  # fmt: skip
    assert cs.parents.tolist() == [-1, -1, 0, 2, -1, -1, 0]
    assert cs.root_times.tolist() == [bj(2013, 5, 9, 12, 0, 0), bj(2013, 12, 31, 23, 0, 0)]
    assert b.report.to_dict() == {
        "repeated_user_dropped": 2, "repost_before_source": 1, "repost_date_year_repaired": 2,
        "repost_parent_after_child": 1, "repost_parent_unresolved": 1, "source_profile_empty": 1,
    }  # fmt: skip
    assert b.info["repost_events"] == 7 and cs.meta["likes"].tolist() == [7, 0]
    c = b.content
    assert c.texts == {"1_m1_100": "源", "2_m2_500": "二"}
    # each adoption's own post: the root's source text, then each kept repost's (b, a, d; the
    # repeated user's "c" and the root user's "e" are dropped)
    assert cs.events["text"].tolist() == ["源", "转b", "转a", "转d", "二", "转y", "转x"]
    assert c.profiles["followers"][0] == 1096 and np.isnan(c.profiles["followers"][1:]).all()
    assert c.profiles["verified"][0] == 0.0 and c.profiles["gender"].tolist()[:2] == ["f", ""]
    assert c.post_fields["has_url"].tolist() == [False, True]


def test_equal_times_take_reverse_file_order(tmp_path: Path) -> None:
    tied = [  # newest first, as in the real files: the parent is listed after its child
        repost("300", "b", "a", "2013-05-09 13:00:00"),
        repost("200", "a", "", "2013-05-09 13:00:00"),
    ]
    b = read_ced(write_tar(tmp_path / "t.tar.gz", reposts={**REPOSTS, REPOST_KEY: tied}))
    assert b.cascades[0].users.tolist() == [0, 1, 2] and b.cascades.vocab.decode([1, 2]) == [
        "200", "300",
    ]  # fmt: skip
    assert b.cascades[0].parents.tolist() == [-1, 0, 1]
    assert "repost_parent_after_child" not in b.report.counts


def test_folder_equals_tar(tmp_path: Path) -> None:
    tar = write_tar(tmp_path / "CED_Dataset.tar.gz")
    with tarfile.open(tar) as tf:
        for m in tf.getmembers():  # unpack by hand (test-only, trusted names)
            out = tmp_path / "unpacked" / m.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tf.extractfile(m).read())
    a, b = read_ced(tar), read_ced(tmp_path / "unpacked" / "CED_Dataset")
    np.testing.assert_array_equal(a.cascades.times, b.cascades.times)
    np.testing.assert_array_equal(a.cascades.parents, b.cascades.parents)
    assert read_ced(tmp_path).cascades.ids.tolist() == a.cascades.ids.tolist()  # folder with tar
    assert read_ced(tar, limit=1).cascades.lengths.tolist() == [4]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({("non-rumor-repost", "2_m2_500"): [repost("9", "q", "", "yesterday")]},
         r"non-rumor-repost/2_m2_500\.json: expected repost 1: 'date' as"),
        ({("non-rumor-repost", "2_m2_500"): [repost("9", "q", "", "2013-02-30 10:00:00")]},
         r"expected repost 1: 'date' as .*found \"'2013-02-30 10:00:00'\""),
        ({("non-rumor-repost", "2_m2_500"): [{"uid": "9", "mid": "q"}]},
         r"2_m2_500\.json: expected repost 1 with uid, mid, parent and date"),
        ({("non-rumor-repost", "2_m2_500"): b'[{"uid": '},
         r"2_m2_500\.json, line 1: expected valid UTF-8 JSON"),
    ],
)  # fmt: skip
def test_errors(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_ced(write_tar(tmp_path / "t.tar.gz", reposts={**REPOSTS, **change}))


def test_missing_repost_file_and_bad_post_time(tmp_path: Path) -> None:
    only_one = {k: v for k, v in REPOSTS.items() if k[1] == "1_m1_100"}
    with pytest.raises(FormatError, match=r"expected a repost file for every cascade.*2_m2_500"):
        read_ced(write_tar(tmp_path / "a.tar.gz", reposts=only_one))
    bad = {**SOURCES, "2_m2_500": {**SOURCES["2_m2_500"], "time": "31/12/2013"}}
    with pytest.raises(FormatError, match=r"original-microblog/2_m2_500\.json: expected 'time'"):
        read_ced(write_tar(tmp_path / "b.tar.gz", sources=bad))


@pytest.fixture(scope="module")
def ced(mirror: Path) -> DatasetBundle:
    return read_ced(mirror / "ced_weibo_rumor" / "CED_Dataset.tar.gz")


@pytest.mark.slow
def test_real_counts(ced: DatasetBundle) -> None:
    cs, rep = ced.cascades, ced.report.counts
    assert len(cs) == 3387 and np.bincount(cs.meta["label"]).tolist() == [1849, 1538]
    assert ced.info["repost_events"] == 1275180  # SOURCE.md: repost/comment events
    assert cs.n_events == 1275180 + 3387 - rep["repeated_user_dropped"]  # + roots, - repeats
    assert rep["repost_date_year_repaired"] == 74 and rep["repost_before_source"] == 2
    assert rep["source_profile_empty"] == 87 and "repost_parent_unresolved" not in rep
    # 3,300 profiled posts come from 2,374 distinct posters (counted with a separate json pass)
    assert np.isfinite(ced.content.profiles["followers"]).sum() == 2374


def test_real_round_trip(mirror: Path, tmp_path: Path) -> None:
    b = read_ced(mirror / "ced_weibo_rumor" / "CED_Dataset.tar.gz", limit=50)
    back = DatasetBundle.load(b.save(tmp_path / "pq"))
    for col in ("users", "offsets", "times", "parents", "root_times"):
        np.testing.assert_array_equal(getattr(back.cascades, col), getattr(b.cascades, col))
    assert back.cascades.vocab == b.cascades.vocab and back.content.texts == b.content.texts
    assert back.cascades.events["text"].tolist() == b.cascades.events["text"].tolist()
    for k, v in b.content.profiles.items():
        np.testing.assert_array_equal(back.content.profiles[k], v)
    np.testing.assert_array_equal(back.cascades.meta["label"], b.cascades.meta["label"])


def test_unsafe_member_is_refused(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "evil.tar", "w") as tf:
        info = tarfile.TarInfo("CED_Dataset/original-microblog/9_m_1.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(UnsafeArchiveError, match=r"'CED_Dataset/original-microblog/9_m_1\.json'"):
        read_ced(tmp_path / "evil.tar")
