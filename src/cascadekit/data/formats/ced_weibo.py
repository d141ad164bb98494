"""CED Chinese Weibo rumor dataset: repost cascades with source text and poster profiles.

Input: ``CED_Dataset.tar.gz`` read as a stream (never unpacked; see `archive.iter_tar_members`), or
a folder holding that tar or the unpacked ``original-microblog/``, ``rumor-repost/`` and
``non-rumor-repost/`` folders. A source post ``<n>_<mid>_<uid>.json`` in ``original-microblog/``
(JSON object: ``text``, ``user`` profile or ``"empty"``, ``time``, ``reposts`` ...) shares its
file name with one repost file (JSON list of ``{uid, mid, parent, date, text, kids}``) whose
folder gives the label (1 rumor, 0 non-rumor). Cascade ids are the file stems, cascades are in
ascending ``<n>`` order.

Cascade = the source poster (position 0, time = post ``time``) then every repost / comment (the
dataset does not tell them apart) sorted by time; the files list reposts newest first, so equal
times keep reverse file order. Times are unix seconds: repost ``date``
is Beijing time (UTC+8) and is converted with plain arithmetic, independent of the machine's
timezone. Repairs and oddities, all counted in the report:

* ``repost_date_year_repaired``: dates without a year (``"07月23日 11:47"``) take the source
  post's (Beijing) year, or the next year when that would put them before the post;
* ``repost_before_source``: reposts dated before the source post (kept; the root stays first, so
  such a cascade's times are not monotone at position 1);
* ``repeated_user_dropped``: a user's later adoptions in the same cascade (the first is kept and
  reposts of a dropped adoption are re-pointed to that user's first adoption);
* ``repost_parent_unresolved`` / ``repost_parent_after_child``: a ``parent`` mid not found in the
  file, or adopting later than its child: parent set to -1 (unknown);
* ``source_profile_empty``: source posts with ``"user": "empty"`` (no profile; their ``time`` is
  a string such as ``"Mon May 27 12:07:05 +0800 2013"``).

``parents`` are positions within the cascade: empty ``parent`` → 0 (the root). Each adoption's
post text is ``cascades.events["text"]`` (the source post's for the root, the repost's own
comment for a repost, "" where it has none), row-aligned with the users. Counting: the
dataset's 1,275,180 repost events are ``info["repost_events"]``; ``cascades.n_events`` adds the
3,387 roots and subtracts the repeated users dropped. ``content.profiles`` covers the whole user
vocabulary (posters only have profiles: NaN / "" elsewhere).
"""

from __future__ import annotations

import calendar
import json
import math
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.content import Content
from cascadekit.data.formats.archive import iter_tar_members
from cascadekit.data.report import ReadReport
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import FormatError

BEIJING = 8 * 3600
FOLDERS = {"original-microblog": None, "rumor-repost": 1, "non-rumor-repost": 0}
TAR_NAME = "CED_Dataset.tar.gz"
_FULL = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$")
_NO_YEAR = re.compile(r"^(\d{2})月(\d{2})日 (\d{2}):(\d{2})$")
_CTIME = re.compile(r"^\w{3} (\w{3}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$")
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}  # fixed English names
_NUMERIC_PROFILE = ("followers", "friends", "messages", "verified", "verified_type", "time")
_TEXT_PROFILE = ("gender", "location")


def _members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the JSON files, from the tar or an unpacked folder."""
    if path.is_dir() and (path / TAR_NAME).is_file():
        path = path / TAR_NAME
    if path.is_file():
        yield from iter_tar_members(path, suffix=".json")
        return
    if not path.is_dir():
        raise FormatError(path, None, f"{TAR_NAME} or a folder holding the CED JSON folders")
    for f in sorted(path.rglob("*.json")):
        yield str(f.relative_to(path)), f.read_bytes()


def _beijing(y: int, mo: int, d: int, h: int, mi: int, s: int) -> float:
    """Unix seconds of a Beijing wall-clock time; ValueError for an impossible date or time."""
    date(y, mo, d)  # timegm would silently roll "02-30" over into March
    if h > 23 or mi > 59 or s > 60:
        raise ValueError(f"no time {h:02d}:{mi:02d}:{s:02d}")
    return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - BEIJING)


def _post_time(where: str, value: Any) -> float:
    """A source post's ``time``: unix seconds, or a ctime-like string with its own UTC offset."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise FormatError(where, None, "a finite 'time'", repr(value))
        return float(value)
    m = _CTIME.match(str(value))
    if m is None or m.group(1) not in _MONTHS:
        raise FormatError(
            where, None, "'time' as unix seconds or 'Mon May 27 12:07:05 +0800 2013'", str(value)
        )
    mon, d, h, mi, s, sign, oh, om, y = m.groups()
    offset = (int(oh) * 3600 + int(om) * 60) * (1 if sign == "+" else -1)
    t = calendar.timegm((int(y), _MONTHS[mon], int(d), int(h), int(mi), int(s), 0, 0, 0))
    return float(t - offset)


def _load(where: str, data: bytes) -> Any:
    def not_json(token: str) -> Any:  # Python's json would read them as float NaN / inf
        raise FormatError(where, None, "strict JSON (NaN and Infinity are not JSON numbers)", token)

    try:
        return json.loads(data, parse_constant=not_json)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(where, getattr(e, "lineno", None), "valid UTF-8 JSON", str(e)) from None
    except RecursionError:
        raise FormatError(where, None, "JSON nested at most a few hundred levels deep") from None


def _count(where: str, key: str, value: Any) -> int:
    """A post's count field; -1 when the post lacks it (absent, null or not a number)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return -1
    if not (math.isfinite(value) and float(value).is_integer()):
        raise FormatError(where, None, f"a whole number of {key}", repr(value))
    return int(value)


def _parse_date(where: str, i: int, text: Any, post_time: float, report: ReadReport) -> float:
    expected = f"repost {i + 1}: 'date' as 'YYYY-MM-DD HH:MM:SS' or 'MM月DD日 HH:MM'"
    try:
        return _parse_date_or_raise(text, post_time, report)
    except ValueError:
        raise FormatError(where, None, expected, repr(text)) from None


def _parse_date_or_raise(text: Any, post_time: float, report: ReadReport) -> float:
    m = _FULL.match(text) if isinstance(text, str) else None
    if m is not None:
        y, mo, d, h, mi, s = (int(g or 0) for g in m.groups())
        return _beijing(y, mo, d, h, mi, s)
    m = _NO_YEAR.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError("unknown date format")
    mo, d, h, mi = (int(g) for g in m.groups())
    year = _beijing_year(post_time)
    t = _beijing(year, mo, d, h, mi, 0)
    if t < post_time:
        t = _beijing(year + 1, mo, d, h, mi, 0)
    report.add("repost_date_year_repaired")
    return t


def _beijing_year(t: float) -> int:
    """Beijing-time calendar year of unix time ``t``."""
    return int(np.datetime64(int(t) + BEIJING, "s").astype("datetime64[Y]").astype(int) + 1970)


def _cascade(
    where: str, root_uid: str, post_time: float, reposts: Any, report: ReadReport,
    root_text: str,
) -> tuple[list[str], list[float], list[int], list[str]]:  # fmt: skip
    """Users, times, parents (positions) and post texts of one cascade, root first."""
    if not isinstance(reposts, list):
        raise FormatError(where, None, "a JSON list of reposts", type(reposts).__name__)
    rows = []
    for i, r in enumerate(reposts):
        if not isinstance(r, dict) or not {"uid", "mid", "parent", "date"} <= r.keys():
            raise FormatError(
                where, None, f"repost {i + 1} with uid, mid, parent and date", str(r)[:80]
            )
        rows.append(
            (
                _parse_date(where, i, r["date"], post_time, report),
                str(r["uid"]),
                str(r["mid"]),
                str(r["parent"]),
                str(r.get("text") or ""),
            )
        )
    # the files list reposts newest first, so equal times are taken in reverse file order
    rows.reverse()
    rows.sort(key=lambda x: x[0])
    report.add("repost_before_source", sum(t < post_time for t, *_ in rows))
    all_mids = {mid for _, _, mid, _, _ in rows}
    users, times, parents, texts = [root_uid], [post_time], [-1], [root_text]
    first_pos = {root_uid: 0}  # user → position of first adoption
    pos_of_mid: dict[str, int] = {}
    for t, uid, mid, parent, text in rows:
        if parent == "":
            p = 0
        else:
            p = pos_of_mid.get(parent, -1)
            if p == -1:
                # either unknown, or the parent adopts later than this repost
                if parent in all_mids:
                    report.add("repost_parent_after_child")
                else:
                    report.add("repost_parent_unresolved")
        if uid in first_pos:
            report.add("repeated_user_dropped")
            pos_of_mid[mid] = first_pos[uid]
            continue
        first_pos[uid] = pos_of_mid[mid] = len(users)
        users.append(uid)
        times.append(t)
        parents.append(p)
        texts.append(text)
    return users, times, parents, texts


def read_ced(path: str | Path, *, limit: int | None = None) -> DatasetBundle:
    """Read CED (see module docstring).

    Options:
        limit: keep only the first ``limit`` cascades, by file number ``<n>`` (None: all).
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be None or >= 1, got {limit}")
    path = Path(path)
    report = ReadReport(source=str(path))
    originals: dict[str, Any] = {}
    reposts: dict[str, tuple[int, str, bytes]] = {}
    for name, data in _members(path):
        parts = name.replace("\\", "/").split("/")
        folder = parts[-2] if len(parts) >= 2 else ""
        if folder not in FOLDERS:
            report.add("unrecognised_member_skipped")
            continue
        stem = parts[-1][: -len(".json")]
        if len(stem.split("_", 2)) != 3 or not stem.split("_", 1)[0].isdigit():
            raise FormatError(f"{path}:{name}", None, "a file name <n>_<mid>_<uid>.json", stem)
        if folder == "original-microblog":
            if stem in originals:
                raise FormatError(f"{path}:{name}", None, "each source post once", stem)
            originals[stem] = (name, data)
        elif stem in reposts:
            raise FormatError(f"{path}:{name}", None, "each cascade in one repost folder", stem)
        else:
            reposts[stem] = (FOLDERS[folder], name, data)  # parsed lazily: only kept cascades
    if not originals:
        raise FormatError(path, None, "at least one source post in original-microblog/", "none")
    missing = sorted(set(originals) ^ set(reposts))
    if missing:
        where = "repost file" if missing[0] in originals else "source post"
        raise FormatError(path, None, f"a {where} for every cascade", missing[0])
    stems = sorted(originals, key=lambda s: (int(s.split("_", 1)[0]), s))
    if limit is not None:
        stems = stems[:limit]

    vocab = Vocabulary()
    seqs, time_cols, parent_cols, root_times, post_texts = [], [], [], [], []
    post: dict[str, list[Any]] = {k: [] for k in ("label", "reposts", "comments", "likes", "pics")}
    extra: dict[str, list[Any]] = {"has_url": [], "source": []}
    texts: dict[str, str] = {}
    profile_rows: dict[int, dict[str, Any]] = {}
    n_reposts = 0
    for stem in stems:
        name, data = originals[stem]
        where = f"{path}:{name}"
        src = _load(where, data)
        if not isinstance(src, dict) or not {"text", "user", "time"} <= src.keys():
            raise FormatError(where, None, "a JSON object with text, user and time", str(src)[:80])
        t0 = _post_time(where, src["time"])
        label, rname, rdata = reposts[stem]
        rlist = _load(f"{path}:{rname}", rdata)
        n_reposts += len(rlist) if isinstance(rlist, list) else 0
        users, times, parents, row_texts = _cascade(
            f"{path}:{rname}", stem.split("_", 2)[2], t0, rlist, report, str(src["text"])
        )
        idx = vocab.encode(users)
        seqs.append(idx)
        time_cols.append(times)
        parent_cols.append(parents)
        post_texts.extend(row_texts)
        root_times.append(t0)
        texts[stem] = str(src["text"])
        post["label"].append(label)
        for k in ("reposts", "comments", "likes", "pics"):
            post[k].append(_count(where, k, src.get(k)))
        extra["has_url"].append(bool(src.get("has_url", False)))
        extra["source"].append(str(src.get("source") or ""))
        if isinstance(src["user"], dict):
            profile_rows.setdefault(int(idx[0]), src["user"])
        else:
            report.add("source_profile_empty")

    n = len(vocab)
    profiles: dict[str, np.ndarray] = {}
    for k in _NUMERIC_PROFILE:
        col = np.full(n, np.nan)
        for u, p in profile_rows.items():
            v = p.get(k)
            if isinstance(v, int | float):  # bool counts: verified → 1.0 / 0.0
                col[u] = float(v)
        profiles["account_time" if k == "time" else k] = col
    for k in _TEXT_PROFILE:
        col = np.full(n, "", dtype=object)
        for u, p in profile_rows.items():
            col[u] = str(p.get(k) or "")
        profiles[k] = col

    meta = {k: np.asarray(v, dtype=np.int64) for k, v in post.items()}
    cascades = CascadeSet.from_sequences(
        seqs,
        vocab,
        times=time_cols,
        parents=parent_cols,
        ids=stems,
        root_times=np.asarray(root_times),
        meta=meta,
        attrs={"name": "ced_weibo_rumor", "time_unit": "s"},
        events={"text": np.asarray(post_texts, dtype=object)},
    )
    content = Content(
        cascade_ids=list(stems),
        texts=texts,
        profiles=profiles,
        post_fields={
            **{k: meta[k] for k in ("reposts", "comments", "likes", "pics")},
            "has_url": np.asarray(extra["has_url"], dtype=bool),
            "source": np.asarray(extra["source"], dtype=object),
        },
    )
    info = {
        "time_unit": "s",
        "repost_events": n_reposts,
        "labels": {"1": "rumor", "0": "non-rumor"},
        "events_definition": "root (source poster) + reposts/comments, repeated users dropped",
        "limit": limit,
    }
    return DatasetBundle(
        name="ced_weibo_rumor", cascades=cascades, content=content, report=report, info=info
    )
