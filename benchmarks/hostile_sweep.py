"""Hostile sweep: bad inputs and faults against the `cascadekit` command line, as a new user (or a
hostile file) would meet it, classified and counted.

Every case is generated programmatically per class — ``readers`` (malformed numbers in every
numeric field of every reader of `cascadekit.data.formats`, encodings, truncated files),
``registry`` (corrupted, incomplete, unlisted and offline dataset mirrors of the real registry),
``writes`` (existing, unwritable and full outputs, kills during a write), ``runs`` (damaged run
folders, overwrites, resumption), ``options`` (every command's ``--set`` / ``--split-set`` /
``--data-set`` keys: unknown, wrong type, non-finite, out of range), ``simulate`` (windows and
explosive parameters) and ``archives`` (hostile tar members) — and runs the installed CLI in this
process through typer's ``CliRunner`` (``subprocess`` cases start the ``cascadekit`` script of
this interpreter's environment; ``kill`` cases SIGKILL it at seeded random times). Each case has
its own work folder under a temporary root.

Outcomes (exactly one per case, checked in this order):

* **data loss** — a path the case marks as precious (a good bundle, a finished run, a user's
  file) changed or disappeared, a file appeared where nothing may ever be written (outside an
  archive's target, a file a pickle payload would create), or a command that failed left a
  partial output behind;
* **traceback** — a Python traceback on stdout or stderr, exit code 70 (the CLI's "this is a
  bug"), an exception that escaped the CLI, or no answer within the case's time limit;
* **silent wrong** — the command did not do what it should and did not say so: exit 0 where a
  refusal was expected; a refusal with another exit code than the documented one, without a
  message, or whose message does not name what is wrong (the case's fragments, e.g. the file
  and line); a valid input refused; or an accepted input whose output differs from the expected
  one (the case's check);
* **clear** — the expected refusal, with the documented exit code (2 for bad input, 1 for a
  failed ``datasets verify``) and a message naming the problem, or, for the valid-input
  controls each class carries, exit 0 with the expected output.

Writes ``benchmarks/results/hostile_sweep.json`` (through ``_provenance``): per-class counts of
the four outcomes and every case that was not clear (class, name, command, outcome, detail).

    CASCADEKIT_MIRROR=/work/shared/data OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/hostile_sweep.py
    .venv/bin/python benchmarks/hostile_sweep.py --only readers --list   # the cases, not run
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _provenance import RESULTS, write_json

from cascadekit.cli import EXIT_BAD_INPUT, EXIT_BUG, EXIT_CHECK_FAILED, app

OUT = RESULTS / "hostile_sweep.json"
CLASSES = ("readers", "registry", "writes", "runs", "options", "simulate", "archives")
OUTCOMES = ("clear", "traceback", "silent_wrong", "data_loss")
CLI = str(Path(sys.executable).with_name("cascadekit"))
# the models this sweep knows (models added later are left to their own tests)
MODELS = ("ndm", "ndm_sn", "lstm", "embedded_ic", "user_frequency", "ic", "linmic", "cc", "mic")
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "no_proxy": "", "NO_PROXY": ""}  # fmt: skip
SMALL = ["--data", "synthetic", "--data-set", "n_users=40", "--data-set", "n_cascades=120"]
MIC_DATA = ["--data", "synthetic_mic", "--data-set", "n_users=5", "--data-set", "t_end=50"]


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    escaped: str | None = None  # an exception that escaped the CLI, or "timeout"


Check = Callable[[Path, Result], "str | None"]


@dataclass
class Case:
    """One command and what must come of it. ``{w}`` in ``argv`` is the case's work folder."""

    cls: str
    name: str
    argv: list[str]
    setup: Callable[[Path], Any] | None = None
    expect: str = "refuse"  # "refuse" (a clear error with exit `code`) or "ok" (exit 0)
    code: int = EXIT_BAD_INPUT
    says: tuple[str, ...] = ()  # fragments the error message must contain
    keep: tuple[str, ...] = ()  # work-folder paths that must be unchanged afterwards
    absent: tuple[str, ...] = ()  # outputs a refused command must not leave behind
    outside: tuple[str, ...] = ()  # work-folder paths nothing may ever write (escapes)
    check: Check | None = None  # for "ok": what is wrong with the output, or None
    env: dict[str, str] = field(default_factory=dict)
    runner: str = "cli"  # "cli" (CliRunner), "subprocess", or "kill" (SIGKILL mid-command)
    timeout: float = 120.0
    rlimit_fsize: int | None = None  # subprocess: max bytes per written file (a "full disk")


# --------------------------------------------------------------------------- running a case
class _Timeout(BaseException):
    """Raised by SIGALRM inside a CliRunner case (a BaseException: nothing may swallow it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def digest(path: Path) -> dict[str, str] | None:
    """sha256 of every file under ``path`` (or of ``path`` itself); None when it is gone."""
    if path.is_file():
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    if not path.is_dir():
        return None
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _fill(argv: list[str], work: Path) -> list[str]:
    return [a.replace("{w}", str(work)) for a in argv]


def _invoke(case: Case, work: Path, env: dict[str, str]) -> Result:
    from typer.testing import CliRunner

    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, case.timeout)
    try:
        res = CliRunner().invoke(app, _fill(case.argv, work), env=env)
    except _Timeout:
        return Result(-1, "", "", escaped="timeout")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    escaped = None
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        escaped = f"{type(res.exception).__name__}: {res.exception}"
    return Result(res.exit_code, res.stdout, res.stderr, escaped)


def _limits(fsize: int | None) -> Callable[[], None] | None:
    if fsize is None:
        return None

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return apply


def _subprocess(case: Case, work: Path, env: dict[str, str]) -> Result:
    try:
        p = subprocess.run(
            [CLI, *_fill(case.argv, work)], capture_output=True, text=True,
            env={**os.environ, **env}, timeout=case.timeout,
            preexec_fn=_limits(case.rlimit_fsize),
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return Result(-1, "", "", escaped="timeout")
    return Result(p.returncode, p.stdout, p.stderr)


def run_case(case: Case, root: Path, index: int) -> dict[str, Any]:
    work = root / f"{index:04d}"
    work.mkdir(parents=True)
    env = {"COLUMNS": "250", "CASCADEKIT_HOME": str(work / "home"), **case.env}
    env = {k: v.replace("{w}", str(work)) for k, v in env.items()}
    if case.setup is not None:
        case.setup(work)
    before = {p: digest(work / p) for p in case.keep}
    t0 = time.perf_counter()
    res = (_invoke if case.runner == "cli" else _subprocess)(case, work, env)
    seconds = time.perf_counter() - t0
    outcome, detail = classify(case, work, res, before)
    return {
        "cls": case.cls, "name": case.name, "command": "cascadekit " + " ".join(case.argv),
        "outcome": outcome, "detail": detail, "exit_code": res.exit_code,
        "seconds": round(seconds, 2),
    }  # fmt: skip


def _message(text: str) -> str:
    """stderr as one line: rich's panel borders removed, whitespace collapsed."""
    return " ".join(re.sub(r"[─│╭╮╰╯]", " ", text).split())


def classify(
    case: Case, work: Path, res: Result, before: dict[str, dict[str, str] | None]
) -> tuple[str, str]:
    """(outcome, detail) by the definitions of the module docstring."""
    changed = [p for p, d in before.items() if digest(work / p) != d]
    appeared = [p for p in case.outside if (work / p).exists()]
    if res.exit_code != 0:  # an output that was refused (or failed) must not be left behind
        appeared += [p for p in case.absent if (work / p).exists()]
    if changed or appeared:
        what = [f"{p} changed or gone" for p in changed] + [f"{p} was written" for p in appeared]
        return "data_loss", "; ".join(what)
    text = res.stdout + res.stderr
    if res.escaped == "timeout":
        return "traceback", f"no answer within {case.timeout:g} s"
    if res.escaped or "Traceback (most recent call last)" in text or res.exit_code == EXIT_BUG:
        last = res.escaped or next(
            (ln for ln in reversed(text.splitlines()) if ln.strip()), "(no output)"
        )
        return "traceback", last[:300]
    message = _message(res.stderr)
    if case.expect == "refuse":
        if res.exit_code == 0:
            return "silent_wrong", "exit 0: the expected refusal did not happen"
        if res.exit_code != case.code:
            return (
                "silent_wrong",
                f"exit {res.exit_code} (documented: {case.code}): {message[:300]}",
            )
        if not message:
            return "silent_wrong", "refused without a message"
        missing = [s for s in case.says if s.lower() not in message.lower()]
        if missing:
            return "silent_wrong", f"the message does not say {missing}: {message[:300]}"
        return "clear", ""
    if res.exit_code != 0:
        return "silent_wrong", f"a valid input was refused (exit {res.exit_code}): {message[:300]}"
    problem = case.check(work, res) if case.check is not None else None
    return ("silent_wrong", problem) if problem else ("clear", "")


def run_kill_case(case: Case, root: Path, index: int, rng: random.Random) -> dict[str, Any]:
    """Start the command, SIGKILL it after a seeded random delay, then ``case.check`` judges what
    is left: its answer starts with "data_loss:" or "silent_wrong:" when something is wrong."""
    work = root / f"{index:04d}"
    work.mkdir(parents=True)
    env = {**os.environ, "CASCADEKIT_HOME": str(work / "home")}
    if case.setup is not None:
        case.setup(work)
    delay = rng.uniform(0.0, case.timeout)
    p = subprocess.Popen([CLI, *_fill(case.argv, work)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(delay)
    killed = p.poll() is None
    p.kill()
    p.wait()
    verdict = case.check(work, Result(p.returncode, "", "")) if case.check else None
    outcome, detail = "clear", f"killed at {delay:.2f} s" if killed else "finished before the kill"
    if verdict:
        outcome, _, detail = verdict.partition(":")
    return {
        "cls": case.cls, "name": case.name, "command": "cascadekit " + " ".join(case.argv),
        "outcome": outcome, "detail": detail.strip(), "exit_code": p.returncode,
        "seconds": round(delay, 2), "killed_mid_command": killed,
    }  # fmt: skip


# --------------------------------------------------------------------------- shared inputs
class Fixtures:
    """Inputs several cases share, built once under the sweep's root: two different bundles, a
    finished run per model family and a small mirror of real datasets."""

    def __init__(self, root: Path, mirror: Path | None) -> None:
        self.root = root / "fixtures"
        self.root.mkdir(parents=True)
        self.real_mirror = mirror
        self._built: dict[str, Path] = {}

    def _once(self, name: str, build: Callable[[Path], Any]) -> Path:
        if name not in self._built:
            path = self.root / name
            build(path)
            self._built[name] = path
        return self._built[name]

    def bundle(self, which: str = "old") -> Path:
        from cascadekit.simulate.synthetic import synthetic_cascades

        sizes = {"old": (30, 50, 0), "new": (60, 90, 1), "big": (2000, 20000, 2)}
        n_users, n_cascades, seed = sizes[which]
        return self._once(
            f"bundle_{which}",
            lambda p: synthetic_cascades(n_users=n_users, n_cascades=n_cascades, seed=seed).save(p),
        )

    def run(self, kind: str) -> Path:
        from cascadekit import pipeline

        data = {"n_users": 40, "n_cascades": 120}
        recipes = {
            "user_frequency": ("user_frequency", "synthetic", data, {}),
            "lstm": ("lstm", "synthetic", data, {"epochs": 1, "progress": False}),
            "mic": ("mic", "synthetic_mic", {"n_users": 5, "t_end": 50.0}, {"max_iter": 3}),
        }
        model, source, data_options, options = recipes[kind]
        return self._once(
            f"run_{kind}",
            lambda p: pipeline.train(model, source, p, options=options, data_options=data_options),
        )

    def dataset(self, name: str) -> Path:
        if self.real_mirror is None:
            raise SystemExit("the registry cases need CASCADEKIT_MIRROR (the real-data mirror)")
        return self.real_mirror / name


def copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst)
    return dst


def write_files(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def loads_bundle(path: Path) -> Any:
    from cascadekit.data.bundle import DatasetBundle

    return DatasetBundle.load(path)


# --------------------------------------------------------------------------- readers
# values a numeric field must refuse (the fields that hold integers also refuse "1.5")
BAD_NUMBERS = ("nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "abc", "0x10", "1.5.2")
BAD_INTEGERS = (*BAD_NUMBERS, "1.5", "2.5e0")


@dataclass(frozen=True)
class TextReader:
    """A valid input of one text format, with ``{field}`` placeholders for its numbers.

    ``source`` is what the CLI is given (relative to the case's ``in`` folder); ``fields`` maps
    a placeholder to (its valid value, whether it holds an integer, the file and line an error
    must name); ``events`` is the number of adoptions (or events) of the valid input."""

    fmt: str
    source: str
    files: dict[str, str]
    fields: dict[str, tuple[str, bool, str, int | None]]
    events: int
    # adoptions left when the first file is empty (an empty split; None: the input is refused)
    without_first: int | None = None

    def render(self, **values: str) -> dict[str, str]:
        full = {k: v[0] for k, v in self.fields.items()} | values
        return {name: text.format(**full) for name, text in self.files.items()}


HEADER_13 = (
    "t_id,timestamp_ms,uid,nuid,is_reply,is_retweet,is_quote,replied_uid,replied_t_id,"
    "retweeted_uid,retweeted_t_id,quoted_uid,quoted_t_id\n"
)
TEXT_READERS = (
    TextReader("lines-file", "c.txt", {"c.txt": "a,1 b,{t} c,3\nd,{u} a,8\n"},
               {"t": ("2", False, "c.txt", 1), "u": ("7", False, "c.txt", 2)}, 5),
    TextReader("lines", ".", {"cascade.txt": "a,1 b,{t}\n", "cascadetest.txt": "b,4 c,{u}\n"},
               {"t": ("2", False, "cascade.txt", 1), "u": ("5", False, "cascadetest.txt", 1)},
               4, without_first=2),
    TextReader("infvae", ".", {"train.txt": "s a {t} b 2\n", "test.txt": "s b {u}\n"},
               {"t": ("1", False, "train.txt", 1), "u": ("3", False, "test.txt", 1)}, 5,
               without_first=2),
    TextReader("mshgat", ".", {"cascades.txt": "s a {t},b 2,\nc 3,d {u},\n"},
               {"t": ("1", False, "cascades.txt", 1), "u": ("4", False, "cascades.txt", 2)}, 4),
    TextReader("raw-paths", "dataset.txt",
               {"dataset.txt": "1\tr\t{pub}\t{n}\tr:0 r/a:{t} r/a/b:9\n2\tq\t50\t1\tq:0\n"},
               {"pub": ("1000", False, "dataset.txt", 1), "n": ("3", True, "dataset.txt", 1),
                "t": ("5", False, "dataset.txt", 1)}, 4),
    TextReader("deephawkes", ".",
               {"cascade_train.txt": "1\tr\t{pub}\t{n}\tr:a:1\t{label}\n",
                "shortestpath_train.txt": "1\tr:0\tr,a:{t}\n"},
               {"pub": ("100", False, "cascade_train.txt", 1),
                "n": ("2", True, "cascade_train.txt", 1),
                "label": ("3", True, "cascade_train.txt", 1),
                "t": ("5", False, "shortestpath_train.txt", 1)}, 2),
    TextReader("hetrec-lastfm", ".",
               {"user_taggedartists.dat": "userID\tartistID\ttagID\tday\tmonth\tyear\n"
                "{u}\t52\t{tag}\t{day}\t4\t2009\n3\t52\t13\t31\t3\t2009\n",
                "user_friends.dat": "userID\tfriendID\n2\t{f}\n3\t2\n",
                "tags.dat": "tagID\ttagValue\n13\trock\n",
                "artists.dat": "id\tname\turl\tpictureURL\n52\tA\tu\tp\n"},
               {"u": ("2", True, "user_taggedartists.dat", 2),
                "tag": ("13", True, "user_taggedartists.dat", 2),
                "day": ("1", True, "user_taggedartists.dat", 2),
                "f": ("3", True, "user_friends.dat", 2)}, 2),
    TextReader("melcup", ".",
               {"MelCup17/MelCup17_user_ids_2.csv": "uid,nuid\n1001,{nuid}\n1002,2\n",
                "MelCup17/MelCup17_following_network.csv":
                    "nuid_followee_u,nuid_follower_v\n1,2\n",
                "MelCup17/MelCup17_lrn_status_2.csv": HEADER_13
                + "4194304000,{ts},1001,1,0,0,0,,,,,,\n"
                "6291456000,1288834976157,1002,2,0,1,0,,,1001,{tid},,\n",
                "MelCup17/MelCup17_eva_status_2.csv": HEADER_13},
               {"nuid": ("1", True, "MelCup17_user_ids_2.csv", 2),
                "ts": ("1288834975657", True, "MelCup17_lrn_status_2.csv", 2),
                "tid": ("4194304000", True, "MelCup17_lrn_status_2.csv", 3)}, 2),
    TextReader("csv", "e.csv", {"e.csv": "cascade,user,time\nc1,a,1\nc1,b,{t}\nc2,a,{u}\n"},
               {"t": ("2", False, "e.csv", 3), "u": ("5", False, "e.csv", 4)}, 3),
)  # fmt: skip


def _write_reader_input(reader: TextReader, values: dict[str, str]) -> Callable[[Path], None]:
    return lambda w: write_files(w / "in", reader.render(**values))


def _adoptions(bundle: Any) -> tuple[list[str], list[int]]:
    """(user vocabulary, user of every adoption or event) of a bundle."""
    if bundle.cascades is not None:
        return bundle.cascades.vocab.tokens, bundle.cascades.users.tolist()
    return bundle.events.user_vocab.tokens, bundle.events.users.tolist()


def _events(bundle: Any) -> int:
    return len(_adoptions(bundle)[1])


def _expect_events(n: int) -> Check:
    def check(w: Path, res: Result) -> str | None:
        got = _events(loads_bundle(w / "out"))
        return None if got == n else f"read {got} adoptions/events, expected {n}"

    return check


def _convert(source: str, fmt: str, *extra: str) -> list[str]:
    return ["convert", f"{{w}}/in/{source}".rstrip("/."), "{w}/out", "--format", fmt, *extra]


def reader_cases(fx: Fixtures) -> list[Case]:
    cases = []
    for r in TEXT_READERS:
        argv = _convert(r.source, r.fmt)
        cases.append(Case("readers", f"{r.fmt}: valid input (control)", argv,
                          _write_reader_input(r, {}), expect="ok",
                          check=_expect_events(r.events)))  # fmt: skip
        for name, (_, integral, file, line) in r.fields.items():
            where = (file,) + ((f"line {line}",) if line is not None else ())
            for bad in BAD_INTEGERS if integral else BAD_NUMBERS:
                cases.append(Case("readers", f"{r.fmt}: {name}={bad!r}", argv,
                                  _write_reader_input(r, {name: bad}), says=where,
                                  absent=("out",)))  # fmt: skip
        cases += _encoding_cases(r, argv, next(iter(r.render())))
    cases += _c4_cases() + _parquet_cases() + _ced_number_cases() + _reader_quirk_cases()
    return cases


def _encoding_cases(r: TextReader, argv: list[str], first: str) -> list[Case]:
    """A BOM and CRLF line ends change nothing; Latin-1 bytes, an empty or a binary file are
    refused naming the file."""

    def variant(transform: Callable[[str, bytes], bytes]) -> Callable[[Path], None]:
        def setup(w: Path) -> None:
            files = r.render()
            write_files(w / "in", {k: transform(k, v.encode()) for k, v in files.items()})

        return setup

    def same_as_plain(w: Path, res: Result) -> str | None:
        from cascadekit.data import formats

        plain = w / "plain"
        write_files(plain, r.render())
        want = _adoptions(formats.read(plain / r.source, r.fmt))
        got = _adoptions(loads_bundle(w / "out"))
        return None if got == want else "users differ from the same file without BOM / CRLF"

    def latin1_line_2(b: bytes) -> bytes:
        head, sep, rest = b.partition(b"\n")
        return head + sep + "é".encode("latin-1") + rest

    bom = variant(lambda k, b: b"\xef\xbb\xbf" + b if k == first else b)
    crlf = variant(lambda k, b: b.replace(b"\n", b"\r\n"))
    latin1 = variant(lambda k, b: latin1_line_2(b) if k == first else b)
    empty = variant(lambda k, b: b"" if k == first else b)
    binary = variant(lambda k, b: bytes(range(128, 256)) + b"\0\n" if k == first else b)
    name = Path(first).name
    return [
        Case("readers", f"{r.fmt}: UTF-8 BOM (same data)", argv, bom, expect="ok",
             check=same_as_plain),
        Case("readers", f"{r.fmt}: CRLF line ends (same data)", argv, crlf, expect="ok",
             check=same_as_plain),
        Case("readers", f"{r.fmt}: Latin-1 bytes in line 2", argv, latin1, says=(name,),
             absent=("out",)),
        Case("readers", f"{r.fmt}: empty {name}", argv, empty, says=(name,), absent=("out",))
        if r.without_first is None
        else Case("readers", f"{r.fmt}: empty {name} (an empty split)", argv, empty,
                  expect="ok", check=_expect_events(r.without_first)),
        Case("readers", f"{r.fmt}: binary {name}", argv, binary, says=(name,), absent=("out",)),
    ]  # fmt: skip


def _reader_quirk_cases() -> list[Case]:
    """The issue's reader findings, each as its own case."""
    raw = "7\tr\t100\t1\tr:0\n7\tq\t200\t1\tq:0\n"
    pre = {"cascade_train.txt": "1\tr\t100\t1\tr:a:1\t3\n1\tq\t100\t1\tq:b:1\t2\n",
           "shortestpath_train.txt": "1\tr:0\n1\tq:0\n"}  # fmt: skip
    hetrec = next(r for r in TEXT_READERS if r.fmt == "hetrec-lastfm")
    headerless = {k: v.split("\n", 1)[1] for k, v in hetrec.render().items()}
    return [
        Case("readers", "raw-paths: a cascade id twice", _convert("dataset.txt", "raw-paths"),
             lambda w: write_files(w / "in", {"dataset.txt": raw}),
             says=("dataset.txt", "line 2"), absent=("out",)),
        Case("readers", "deephawkes: a cascade id twice", _convert(".", "deephawkes"),
             lambda w: write_files(w / "in", pre), says=("cascade_train.txt", "line 2"),
             absent=("out",)),
        Case("readers", "hetrec-lastfm: files without header lines keep every row",
             _convert(".", "hetrec-lastfm"), lambda w: write_files(w / "in", headerless),
             expect="ok", check=_expect_events(2)),
        Case("readers", "lines-file: --set repair=False stays strict",
             _convert("c.txt", "lines-file", "--set", "repair=False"),
             lambda w: write_files(w / "in", {"c.txt": "a,5 b,2\n"}),
             says=("c.txt", "line 1"), absent=("out",)),
        Case("readers", "lines-file: --set repair=maybe",
             _convert("c.txt", "lines-file", "--set", "repair=maybe"),
             lambda w: write_files(w / "in", {"c.txt": "a,1\n"}), says=("repair",),
             absent=("out",)),
        Case("readers", "lines-file: unsorted times even with NaN",
             _convert("c.txt", "lines-file"),
             lambda w: write_files(w / "in", {"c.txt": "a,5 b,nan c,0\n"}),
             says=("c.txt", "line 1"), absent=("out",)),
        Case("readers", "csv: a missing column", _convert("e.csv", "csv"),
             lambda w: write_files(w / "in", {"e.csv": "cascade,user\nc,a\n"}),
             says=("e.csv", "time"), absent=("out",)),
        Case("readers", "csv: a short row", _convert("e.csv", "csv"),
             lambda w: write_files(w / "in", {"e.csv": "cascade,user,time\nc,a\n"}),
             says=("e.csv", "line 2"), absent=("out",)),
        Case("readers", "missing input file", _convert("none.txt", "lines-file"),
             says=("none.txt",), absent=("out",)),
        Case("readers", "input is a folder for a file format", _convert("", "csv"),
             lambda w: (w / "in").mkdir(), says=("in",), absent=("out",)),
    ]  # fmt: skip


def _mat(folder: Path, **over: Any) -> None:
    """A valid url.mat (3 users, 2 products, train then test) with fields replaced by ``over``."""
    import scipy.io

    def col(v: Any, dt: Any) -> np.ndarray:
        return np.asarray(v, dtype=dt).reshape(-1, 1)

    fields = {"node": [1, 2, 3], "prod": [1, 2, 1], "time": [10, 20, 30], "tnode": [3],
              "tprod": [2], "ttime": [40], "users_index": [507, 12, 99], "numprod": 2}  # fmt: skip
    fields |= over

    def dt(v: Any) -> Any:
        return np.float64 if any(isinstance(x, float) for x in np.ravel(v)) else np.int32

    def struct(node: Any, prod: Any, t: Any) -> dict[str, Any]:
        return {"node": col(node, dt(node)), "prod": col(prod, dt(prod)), "time": col(t, dt(t)),
                "numuser": np.array([[3]]), "numprod": np.array([[fields["numprod"]]],
                                                               dtype=dt(fields["numprod"]))}  # fmt: skip

    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(folder / "url.mat"), {
        "adj": np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.uint8),
        "traindata": struct(fields["node"], fields["prod"], fields["time"]),
        "testdata": struct(fields["tnode"], fields["tprod"], fields["ttime"]),
        "users_index": np.asarray([fields["users_index"]], dtype=dt(fields["users_index"])),
    })  # fmt: skip


def _c4_cases() -> list[Case]:
    argv = ["convert", "{w}/in", "{w}/out", "--format", "c4", "--set", "which=url"]
    nan, inf = float("nan"), float("inf")
    bad = {
        "node": [[1.0, nan, 3.0], [1.0, inf, 3.0], [1.0, 1.5, 3.0], [1, 0, 3], [1, 4, 3]],
        "prod": [[1.0, nan, 1.0], [1.0, 2.5, 1.0], [0, 1, 1]],
        "time": [[10.0, nan, 30.0], [10.0, inf, 30.0], [10.0, -inf, 30.0], [30, 20, 10]],
        "users_index": [[507.0, 1.5, 99.0], [507.0, nan, 99.0], [507, 507, 99]],
        "numprod": [nan, 2.5, 1],
    }
    cases = [Case("readers", "c4: valid url.mat (control)", argv, lambda w: _mat(w / "in"),
                  expect="ok", check=_expect_events(4))]  # fmt: skip
    for name, values in bad.items():
        for v in values:
            cases.append(Case("readers", f"c4: {name}={v}", argv,
                              lambda w, n=name, v=v: _mat(w / "in", **{n: v}),
                              says=("url.mat",), absent=("out",)))  # fmt: skip
    truncated = lambda w: (_mat(w / "in"), _truncate(w / "in" / "url.mat"))  # noqa: E731
    cases.append(Case("readers", "c4: truncated url.mat", argv, truncated, says=("url.mat",),
                      absent=("out",)))  # fmt: skip
    return cases


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _parquet(folder: Path, times: list[Any], users: list[Any] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    n = len(times)
    table = pa.table({"cascade": ["c1"] * (n - 1) + ["c2"],
                      "user": users or [f"u{i}" for i in range(n)], "time": times})  # fmt: skip
    pq.write_table(table, folder / "e.parquet")


def _parquet_cases() -> list[Case]:
    argv = _convert("e.parquet", "parquet")
    nan, inf = float("nan"), float("inf")
    cases = [Case("readers", "parquet: valid (control)", argv,
                  lambda w: _parquet(w / "in", [1.0, 2.0, 5.0]), expect="ok",
                  check=_expect_events(3))]  # fmt: skip
    for v in (nan, inf, -inf):
        cases.append(Case("readers", f"parquet: float time {v}", argv,
                          lambda w, v=v: _parquet(w / "in", [1.0, v, 5.0]),
                          says=("e.parquet",), absent=("out",)))  # fmt: skip
    for v in BAD_NUMBERS:
        cases.append(Case("readers", f"parquet: text time {v!r}", argv,
                          lambda w, v=v: _parquet(w / "in", ["1", v, "5"]),
                          says=("e.parquet", "line 2"), absent=("out",)))  # fmt: skip
    trunc = lambda w: (_parquet(w / "in", [1.0, 2.0, 5.0]), _truncate(w / "in" / "e.parquet"))  # noqa: E731
    cases.append(Case("readers", "parquet: truncated file", argv, trunc, says=("e.parquet",),
                      absent=("out",)))  # fmt: skip
    return cases


# --------------------------------------------------------------------------- CED and archives
def ced_sources(**over: Any) -> dict[str, Any]:
    post = {"text": "t", "user": {"followers": 3}, "time": 1368072000, "reposts": 1,
            "comments": 0, "likes": 0, "pics": 0}  # fmt: skip
    post |= over
    return {
        "CED_Dataset/original-microblog/1_m1_100.json": post,
        "CED_Dataset/rumor-repost/1_m1_100.json": [
            {"uid": "200", "mid": "a", "parent": "", "date": "2013-05-09 13:00:00"}
        ],
    }


def write_tar(
    path: Path, members: dict[str, Any] | list[tuple[str, Any]], mode: str = "w:gz"
) -> Path:
    """``members`` (a dict, or a list of pairs to repeat a name): name → JSON-able object, bytes,
    or a ready `tarfile.TarInfo` (written without data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as tf:
        for name, obj in members.items() if isinstance(members, dict) else members:
            if isinstance(obj, tarfile.TarInfo):
                tf.addfile(obj)
                continue
            data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _ced_argv() -> list[str]:
    return ["convert", "{w}/in/CED_Dataset.tar.gz", "{w}/out", "--format", "ced"]


def _ced_number_cases() -> list[Case]:
    tar = lambda **o: lambda w: write_tar(w / "in" / "CED_Dataset.tar.gz", ced_sources(**o))  # noqa: E731
    raw_json = lambda text: lambda w: write_tar(  # noqa: E731
        w / "in" / "CED_Dataset.tar.gz",
        {**{k: v for k, v in ced_sources().items() if "rumor" in k},
         "CED_Dataset/original-microblog/1_m1_100.json": text.encode()},
    )  # fmt: skip
    cases = [Case("readers", "ced: valid tar (control)", _ced_argv(), tar(), expect="ok",
                  check=_expect_events(2))]  # fmt: skip
    post = '{{"text": "t", "user": "empty", "time": {t}, "reposts": {r}}}'
    for token in ("NaN", "Infinity", "-Infinity", "1e400", "true", "null", '"soon"'):
        cases.append(Case("readers", f"ced: post time {token}", _ced_argv(),
                          raw_json(post.format(t=token, r=1)), says=("1_m1_100.json",),
                          absent=("out",)))  # fmt: skip
    for token in ("NaN", "1e400", "1.5", "-Infinity"):
        cases.append(Case("readers", f"ced: reposts count {token}", _ced_argv(),
                          raw_json(post.format(t=1368072000, r=token)),
                          says=("1_m1_100.json",), absent=("out",)))  # fmt: skip
    for date in ("2013-02-30 10:00:00", "2013-05-09 25:00:00", "nan", "13月01日 10:00"):
        sources = ced_sources()
        sources["CED_Dataset/rumor-repost/1_m1_100.json"][0]["date"] = date
        cases.append(Case("readers", f"ced: repost date {date!r}", _ced_argv(),
                          lambda w, s=sources: write_tar(w / "in" / "CED_Dataset.tar.gz", s),
                          says=("1_m1_100.json",), absent=("out",)))  # fmt: skip
    return cases


def _member(name: str, kind: bytes, link: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size
    return info


class _Zeros(io.RawIOBase):
    """``n`` zero bytes, read in chunks (a huge member without holding it in memory)."""

    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def _huge_member_tar(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        info = tarfile.TarInfo("CED_Dataset/original-microblog/1_m1_100.json")
        info.size = size
        tf.addfile(info, io.BufferedReader(_Zeros(size)))


def archive_cases() -> list[Case]:
    good = ced_sources()
    evil = {"x": b"{}"}

    def with_member(name: str, member: Any = b"{}") -> Callable[[Path], None]:
        return lambda w: write_tar(w / "in" / "CED_Dataset.tar.gz", {**good, name: member})

    names = ("../evil.json", "CED_Dataset/../../evil.json", "/tmp/evil.json", "C:evil.json",
             "..\\evil.json", "CED_Dataset/original-microblog/../../../evil.json",
             "../evil.txt", "CED_Dataset/..", "./../evil.json")  # fmt: skip
    cases = [Case("archives", f"member {n!r}", _ced_argv(), with_member(n), says=(repr(n),),
                  absent=("out",), outside=("evil.json", "in/evil.json"))
             for n in names]  # fmt: skip
    links = {
        "symlink to /etc/passwd": _member("CED_Dataset/x.json", tarfile.SYMTYPE, "/etc/passwd"),
        "symlink to ../": _member("CED_Dataset/x.json", tarfile.SYMTYPE, "../../x"),
        "hard link": _member("CED_Dataset/x.json", tarfile.LNKTYPE, "CED_Dataset/y.json"),
        "character device": _member("CED_Dataset/x.json", tarfile.CHRTYPE),
        "block device": _member("CED_Dataset/x.json", tarfile.BLKTYPE),
        "fifo": _member("CED_Dataset/x.json", tarfile.FIFOTYPE),
        "symlink without .json": _member("CED_Dataset/notes", tarfile.SYMTYPE, "/etc/shadow"),
    }
    for label, info in links.items():
        cases.append(Case("archives", label, _ced_argv(), with_member(info.name, info),
                          says=(info.name,), absent=("out",)))  # fmt: skip
    tar_at = lambda w: w / "in" / "CED_Dataset.tar.gz"  # noqa: E731
    deep = b"[" * 200_000 + b"]" * 200_000
    cases += [
        Case("archives", "a 100 MB member in a small .tar.gz", _ced_argv(),
             lambda w: _huge_member_tar(tar_at(w), 100 * 2**20), says=("1_m1_100.json", "limit"),
             absent=("out",)),
        Case("archives", "not an archive", _ced_argv(),
             lambda w: write_files(w / "in", {"CED_Dataset.tar.gz": os.urandom(4096)}),
             says=("CED_Dataset.tar.gz",), absent=("out",)),
        Case("archives", "gzip of text, not a tar", _ced_argv(),
             lambda w: write_files(w / "in", {"CED_Dataset.tar.gz": gzip.compress(b"x" * 999)}),
             says=("CED_Dataset.tar.gz",), absent=("out",)),
        Case("archives", "truncated .tar.gz", _ced_argv(),
             lambda w: (write_tar(tar_at(w), {**good, **{f"CED_Dataset/pad{i}": os.urandom(2000)
                                                        for i in range(5)}}),
                        _truncate(tar_at(w))),
             says=("CED_Dataset.tar.gz",), absent=("out",)),
        Case("archives", "empty file", _ced_argv(),
             lambda w: write_files(w / "in", {"CED_Dataset.tar.gz": b""}),
             says=("CED_Dataset.tar.gz",), absent=("out",)),
        Case("archives", "an archive with no cascades", _ced_argv(),
             lambda w: write_tar(tar_at(w), evil), says=("CED_Dataset.tar.gz",),
             absent=("out",)),
        Case("archives", "a source post listed twice", _ced_argv(),
             lambda w: write_tar(tar_at(w), [*good.items(), next(iter(good.items()))]),
             says=("1_m1_100",), absent=("out",)),
        Case("archives", "deeply nested JSON member", _ced_argv(),
             with_member("CED_Dataset/original-microblog/1_m1_100.json", deep),
             says=("1_m1_100.json",), absent=("out",)),
        Case("archives", "a repost file that is not a list", _ced_argv(),
             with_member("CED_Dataset/rumor-repost/1_m1_100.json", {"uid": 1}),
             says=("1_m1_100.json",), absent=("out",)),
        Case("archives", "tar.bz2 (control)", _ced_argv(),
             lambda w: write_tar(tar_at(w), good, mode="w:bz2"), expect="ok",
             check=_expect_events(2)),
        Case("archives", "tar.xz (control)", _ced_argv(),
             lambda w: write_tar(tar_at(w), good, mode="w:xz"), expect="ok",
             check=_expect_events(2)),
        Case("archives", "plain tar (control)", _ced_argv(),
             lambda w: write_tar(tar_at(w), good, mode="w"), expect="ok",
             check=_expect_events(2)),
        Case("archives", "the tar inside a folder (control)",
             ["convert", "{w}/in", "{w}/out", "--format", "ced"],
             lambda w: write_tar(tar_at(w), good), expect="ok", check=_expect_events(2)),
    ]  # fmt: skip
    return cases


# --------------------------------------------------------------------------- registry
REGISTRY_DATASETS = {  # dataset → (a file to damage, an unlisted file that looks like data)
    "ndm_irvine": ("cascade.txt", "cascadevalid.txt"),
    "weibo_casflow_sample": ("dataset.txt", "dataset2.txt"),
    "mshgat_christianity": ("cascades.txt", "cascades2.txt"),
    "c4_music2_url": ("url.mat", "music3.mat"),
}
WHICH = {"c4_music2_url": ["--set", "which=url"]}


def _change_a_digit(path: Path) -> None:
    """One digit changed, size and mtime kept (a silent corruption a size/mtime cache misses)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    i = next(i for i in range(len(data) // 2, len(data)) if chr(data[i]).isdigit())
    data[i] = ord("1") if data[i] != ord("1") else ord("2")
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def registry_cases(fx: Fixtures) -> list[Case]:
    cases = []
    for name, (target, extra) in REGISTRY_DATASETS.items():
        env = {"CASCADEKIT_MIRROR": "{w}/mirror", **OFFLINE}
        which = WHICH.get(name, [])

        mirror = _mirror_copy(fx, name)
        warm_then = lambda damage, n=name: _warm_then(fx, n, damage)  # noqa: E731
        digit = warm_then(lambda f, t=target: _change_a_digit(f / t))
        trunc = warm_then(lambda f, t=target: _truncate(f / t))
        gone = warm_then(lambda f, t=target: (f / t).unlink())
        folder_instead = warm_then(lambda f, t=target: ((f / t).unlink(), (f / t).mkdir()))
        unlisted = warm_then(lambda f, t=target, e=extra: shutil.copy(f / t, f / e))
        stats_json = ["datasets", "stats", name, "--json", *which]
        cases += [
            Case("registry", f"{name}: verify (control)", ["datasets", "verify", name],
                 mirror, expect="ok", env=env),
            Case("registry", f"{name}: stats (control)", stats_json, mirror, expect="ok",
                 env=env, check=_stats_like_mirror(fx, name, which)),
            Case("registry", f"{name}: a digit changed, mtime restored → verify",
                 ["datasets", "verify", name], digit, code=EXIT_CHECK_FAILED,
                 says=(target, "mismatch"), env=env),
            Case("registry", f"{name}: a digit changed, mtime restored → verify --force",
                 ["datasets", "verify", name, "--force"], digit, code=EXIT_CHECK_FAILED,
                 says=(target, "mismatch"), env=env),
            Case("registry", f"{name}: a digit changed, mtime restored → stats", stats_json,
                 digit, says=(target, "sha256 mismatch"), env=env),
            Case("registry", f"{name}: a digit changed, mtime restored → convert",
                 ["convert", name, "{w}/out", *which], digit, says=(target, "sha256"),
                 env=env, absent=("out",)),
            Case("registry", f"{name}: truncated file → verify", ["datasets", "verify", name],
                 trunc, code=EXIT_CHECK_FAILED, says=(target,), env=env),
            Case("registry", f"{name}: missing file, offline → stats", stats_json, gone,
                 says=(target, "cannot download"), env=env),
            Case("registry", f"{name}: missing file → verify", ["datasets", "verify", name],
                 gone, code=EXIT_CHECK_FAILED, says=(target, "missing"), env=env),
            Case("registry", f"{name}: a folder where a file should be → stats", stats_json,
                 folder_instead, says=(target,), env=env),
            Case("registry", f"{name}: an unlisted file → verify reports it",
                 ["datasets", "verify", name], unlisted, expect="ok", env=env,
                 check=lambda w, r, e=extra: None if "unlisted" in r.stderr and e in r.stderr
                 else f"verify does not report {e}"),
            Case("registry", f"{name}: an unlisted file is never read", stats_json, unlisted,
                 expect="ok", env=env, check=_stats_like_mirror(fx, name, which)),
            Case("registry", f"{name}: no mirror and offline", stats_json,
                 env={**OFFLINE, "CASCADEKIT_MIRROR": "{w}/nowhere"}, says=("cannot download",)),
            Case("registry", f"{name}: CASCADEKIT_HOME is a file (control)", stats_json,
                 lambda w, m=mirror: (m(w), write_files(w, {"home": "not a folder"})),
                 expect="ok",
                 env=env, check=_stats_like_mirror(fx, name, which)),
        ]  # fmt: skip
    cases += [
        Case("registry", f"unknown dataset name: {' '.join(argv)}", argv, says=("nope",))
        for argv in (["datasets", "info", "nope"], ["datasets", "verify", "nope"],
                     ["datasets", "stats", "nope"], ["convert", "nope", "{w}/out"],
                     ["train", "lstm", "--data", "nope", "--out", "{w}/r"])
    ]  # fmt: skip
    cases.append(Case("registry", "verify without a name", ["datasets", "verify"],
                      says=("--all",)))  # fmt: skip
    return cases


def _mirror_copy(fx: Fixtures, name: str) -> Callable[[Path], Path]:
    """A setup that copies dataset ``name`` of the real mirror into the case's ``mirror/``."""
    return lambda w: copy(fx.dataset(name), w / "mirror" / name)


def _warm_then(fx: Fixtures, name: str, damage: Callable[[Path], Any]) -> Callable[[Path], None]:
    """A setup: copy the dataset, verify it (the verified-hash cache now trusts its files), then
    ``damage`` the copy's folder."""

    def setup(w: Path) -> None:
        folder = _mirror_copy(fx, name)(w)
        _verify_in_process(name, w)
        damage(folder)

    return setup


def _verify_in_process(name: str, w: Path) -> None:
    from cascadekit import datasets

    saved = {k: os.environ.get(k) for k in (datasets.MIRROR_ENV, datasets.HOME_ENV)}
    os.environ[datasets.MIRROR_ENV] = str(w / "mirror")
    os.environ[datasets.HOME_ENV] = str(w / "home")
    try:
        checks = datasets.verify(name)
        assert all(c.status == "ok" for c in checks if c.status != "unlisted"), checks
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


def _stats_like_mirror(fx: Fixtures, name: str, which: list[str]) -> Check:
    """The stats of the dataset read from the untouched real mirror (computed once)."""
    cache: dict[str, Any] = {}

    def check(w: Path, res: Result) -> str | None:
        from cascadekit import datasets

        if "want" not in cache:
            options = dict(o.split("=", 1) for o in which[1::2])
            cache["want"] = json.loads(json.dumps(
                datasets.load(name, cache=False, progress=False, **options).statistics(),
                default=lambda o: o.item() if hasattr(o, "item") else str(o)))  # fmt: skip
        got = json.loads(res.stdout)
        got.get("dropped_or_repaired", {}).pop("unlisted_file_ignored", None)
        return None if got == cache["want"] else "the statistics differ from the real dataset's"

    return check


# --------------------------------------------------------------------------- writes
def write_cases(fx: Fixtures) -> list[Case]:
    old, new = fx.bundle("old"), fx.bundle("new")
    with_old = lambda w: copy(old, w / "b")  # noqa: E731
    loads_as_new = _same_bundle(new)
    cases = [
        Case("writes", "convert into a saved bundle without --overwrite",
             ["convert", str(new), "{w}/b"], with_old, says=("b", "--overwrite"), keep=("b",)),
        Case("writes", "convert --overwrite replaces a saved bundle whole",
             ["convert", str(new), "{w}/b", "--overwrite"], with_old, expect="ok",
             check=loads_as_new),
        Case("writes", "convert into a non-empty folder that is not a bundle",
             ["convert", str(new), "{w}/docs"], lambda w: write_files(w / "docs", {"a.txt": "x"}),
             says=("docs",), keep=("docs",)),
        Case("writes", "convert --overwrite into a folder that is not a bundle",
             ["convert", str(new), "{w}/docs", "--overwrite"],
             lambda w: write_files(w / "docs", {"a.txt": "x", "sub/b.txt": "y"}),
             says=("docs",), keep=("docs",)),
        Case("writes", "convert onto a regular file",
             ["convert", str(new), "{w}/f.txt"], lambda w: write_files(w, {"f.txt": "mine"}),
             says=("f.txt",), keep=("f.txt",)),
        Case("writes", "convert --overwrite onto a regular file",
             ["convert", str(new), "{w}/f.txt", "--overwrite"],
             lambda w: write_files(w, {"f.txt": "mine"}), says=("f.txt",), keep=("f.txt",)),
        Case("writes", "convert --to ndm onto an existing file",
             ["convert", str(new), "{w}/f.txt", "--to", "ndm"],
             lambda w: write_files(w, {"f.txt": "mine"}), says=("f.txt",), keep=("f.txt",)),
        Case("writes", "convert --to ndm --overwrite replaces the file",
             ["convert", str(new), "{w}/f.txt", "--to", "ndm", "--overwrite"],
             lambda w: write_files(w, {"f.txt": "mine"}), expect="ok",
             check=lambda w, r: None if len((w / "f.txt").read_text().splitlines())
             == len(loads_bundle(new).cascades) else "f.txt does not hold the new cascades"),
        Case("writes", "convert --to ndm into a new folder (control)",
             ["convert", str(new), "{w}/new/dir/f.txt", "--to", "ndm"], expect="ok",
             check=lambda w, r: None if (w / "new/dir/f.txt").is_file() else "nothing written"),
        Case("writes", "convert --to bogus", ["convert", str(new), "{w}/o", "--to", "bogus"],
             says=("bogus",), absent=("o",)),
        Case("writes", "convert into a folder under a regular file",
             ["convert", str(new), "{w}/f.txt/sub"], lambda w: write_files(w, {"f.txt": "x"}),
             says=("f.txt",), keep=("f.txt",)),
        Case("writes", "convert into /sys (not permitted)", ["convert", str(new), "/sys/ck_o"],
             says=("/sys",)),
        Case("writes", "convert --to ndm into /sys", ["convert", str(new), "/sys/ck.txt",
                                                      "--to", "ndm"], says=("/sys",)),
        Case("writes", "disk full during convert --overwrite (subprocess)",
             ["convert", str(fx.bundle("big")), "{w}/b", "--overwrite"], with_old,
             says=("too large",), keep=("b",), runner="subprocess", rlimit_fsize=20_000),
        Case("writes", "disk full during convert --to ndm --overwrite (subprocess)",
             ["convert", str(fx.bundle("big")), "{w}/f.txt", "--to", "ndm", "--overwrite"],
             lambda w: write_files(w, {"f.txt": "mine"}), says=("too large",), keep=("f.txt",),
             runner="subprocess", rlimit_fsize=20_000),
        Case("writes", "simulate --out an existing file",
             ["simulate", "mic", "--t-end", "5", "--out", "{w}/f.parquet"],
             lambda w: write_files(w, {"f.parquet": "mine"}), says=("f.parquet",),
             keep=("f.parquet",)),
        Case("writes", "simulate --out an existing file --overwrite",
             ["simulate", "mic", "--t-end", "5", "--out", "{w}/f.parquet", "--overwrite"],
             lambda w: write_files(w, {"f.parquet": "mine"}), expect="ok",
             check=lambda w, r: None if (w / "f.parquet").read_bytes()[:4] == b"PAR1"
             else "not a Parquet file"),
        Case("writes", "simulate --out /sys", ["simulate", "mic", "--t-end", "5", "--out",
                                               "/sys/ck.parquet"], says=("/sys",)),
        Case("writes", "simulate --out under a regular file",
             ["simulate", "mic", "--t-end", "5", "--out", "{w}/f/x.parquet"],
             lambda w: write_files(w, {"f": "x"}), says=("f",), keep=("f",)),
        Case("writes", "evaluate when metrics/ is a file",
             ["evaluate", "{w}/r"],
             lambda w: (copy(fx.run("user_frequency"), w / "r"), write_files(w / "r",
                                                                        {"metrics": "x"})),
             says=("metrics",), keep=("r/run.json", "r/model")),
        Case("writes", "report when report/ is a file", ["report", "{w}/r"],
             lambda w: (copy(fx.run("user_frequency"), w / "r"), write_files(w / "r",
                                                                        {"report": "x"})),
             says=("report",), keep=("r/run.json", "r/model")),
        Case("writes", "train --out under a regular file",
             ["train", "user_frequency", *SMALL, "--out", "{w}/f/run"],
             lambda w: write_files(w, {"f": "x"}), says=("f",), keep=("f",)),
        Case("writes", "quickstart --out a folder with a finished run",
             ["quickstart", "--out", "{w}/q"],
             lambda w: copy(fx.run("lstm"), w / "q" / "ndm"), says=("ndm",), keep=("q/ndm",)),
    ]  # fmt: skip
    cases += _kill_cases(fx)
    return cases


def _same_bundle(want_folder: Path, where: str = "b") -> Check:
    def check(w: Path, res: Result) -> str | None:
        got, want = loads_bundle(w / where), loads_bundle(want_folder)
        same = (got.name == want.name and np.array_equal(got.cascades.users, want.cascades.users)
                and sorted(p.name for p in (w / where).iterdir())
                == sorted(p.name for p in want_folder.iterdir()))  # fmt: skip
        return None if same else f"{where} is not exactly the new bundle"

    return check


def _old_or_new(old: Path, new: Path) -> Check:
    """After a kill: the folder loads as exactly the old or the new bundle, or is absent with
    the old one recoverable — anything else is data loss (a mix, a half bundle, nothing)."""

    def check(w: Path, res: Result) -> str | None:
        b = w / "b"
        for want in (old, new):
            try:
                if _same_bundle(want)(w, res) is None:
                    return None
            except Exception:  # noqa: BLE001 - an unreadable folder is judged below
                pass
        return f"data_loss: {b} is neither the old nor the new bundle ({sorted(os.listdir(b)) if b.is_dir() else 'gone'})"

    return check


def _kill_cases(fx: Fixtures) -> list[Case]:
    old, big = fx.bundle("old"), fx.bundle("big")
    convert = Case("writes", "kill -9 during convert --overwrite of a good bundle",
                   ["convert", str(big), "{w}/b", "--overwrite"],
                   lambda w: copy(old, w / "b"), runner="kill", timeout=4.0,
                   check=_old_or_new(old, big))  # fmt: skip
    return [convert] * 10


# --------------------------------------------------------------------------- runs
def _damaged_run(fx: Fixtures, kind: str, damage: Callable[[Path], Any]) -> Callable[[Path], None]:
    def setup(w: Path) -> None:
        run = copy(fx.run(kind), w / "r")
        damage(run)

    return setup


def _edit_json(path: Path, edit: Callable[[Any], Any]) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))


def _set(key: str, value: Any) -> Callable[[Any], Any]:
    return lambda d: {**d, key: value}


def _drop(key: str) -> Callable[[Any], Any]:
    return lambda d: {k: v for k, v in d.items() if k != key}


@dataclass
class _Evil:
    """Unpickling this runs a shell command that creates ``marker`` (it must never exist)."""

    marker: Path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def run_cases(fx: Fixtures) -> list[Case]:
    import pickle

    import torch

    uf, lstm, mic = (fx.run(k) for k in ("user_frequency", "lstm", "mic"))
    runjson = lambda kind, edit: _damaged_run(fx, kind, lambda r: _edit_json(r / "run.json", edit))  # noqa: E731
    modeljson = lambda kind, edit: _damaged_run(  # noqa: E731
        fx, kind, lambda r: _edit_json(r / "model" / "model.json", edit)
    )
    write = lambda kind, rel, data: _damaged_run(  # noqa: E731
        fx, kind, lambda r: (r / rel).write_bytes(data(r.parent) if callable(data) else data)
    )
    evaluate = ["evaluate", "{w}/r"]
    keep = ("r",)
    cases = [
        Case("runs", "evaluate a finished run (control)", ["evaluate", "{w}/r", "--json"],
             lambda w: copy(uf, w / "r"), expect="ok", check=_strict_json_stdout),
        Case("runs", "evaluate a point-process run --json is strict JSON (control)",
             ["evaluate", "{w}/r", "--json", "--set", "n_simulations=1"],
             lambda w: copy(mic, w / "r"), expect="ok", check=_strict_json_stdout),
        Case("runs", "report a finished run (control)", ["report", "{w}/r"],
             lambda w: copy(lstm, w / "r"), expect="ok",
             check=lambda w, r: None if (w / "r/report/report.html").is_file() else "no report"),
        Case("runs", "train over a finished run", ["train", "user_frequency", *SMALL,
                                                   "--out", "{w}/r"],
             lambda w: copy(uf, w / "r"), says=("r", "finished run"), keep=keep),
        Case("runs", "train --resume over a finished run",
             ["train", "lstm", *SMALL, "--out", "{w}/r", "--resume"],
             lambda w: copy(lstm, w / "r"), says=("finished run",), keep=keep),
        Case("runs", "train into a non-empty folder",
             ["train", "user_frequency", *SMALL, "--out", "{w}/r"],
             lambda w: write_files(w / "r", {"notes.txt": "mine"}), says=("r", "not empty"),
             keep=keep),
        Case("runs", "train --resume without a checkpoint",
             ["train", "lstm", *SMALL, "--out", "{w}/r", "--resume"],
             lambda w: write_files(w / "r", {"config.json": "{}"}), says=("nothing to resume",),
             keep=keep),
        Case("runs", "evaluate a folder that is not a run", evaluate,
             lambda w: write_files(w / "r", {"a.txt": "x"}), says=("run.json",), keep=keep),
        Case("runs", "evaluate a missing folder", evaluate, says=("r",)),
        Case("runs", "run.json is not JSON", evaluate, write("user_frequency", "run.json", b"{"),
             says=("run.json",), keep=keep),
        Case("runs", "run.json is a list", evaluate, write("user_frequency", "run.json", b"[]"),
             says=("run.json",), keep=keep),
        Case("runs", "run.json of schema 1", evaluate, runjson("user_frequency", _set("schema", 1)),
             says=("schema",), keep=keep),
        Case("runs", "run.json with an unknown field", evaluate,
             runjson("user_frequency", _set("colour", "red")), says=("colour",), keep=keep),
        Case("runs", "run.json without its model", evaluate,
             runjson("user_frequency", _drop("model")), says=("model",), keep=keep),
        Case("runs", "run.json with an unknown model", evaluate,
             runjson("user_frequency", _set("model", "bogus")), says=("bogus",), keep=keep),
        Case("runs", "run.json with an unknown dataset", evaluate,
             runjson("user_frequency", _set("data", "nope")), says=("nope",), keep=keep),
        Case("runs", "run.json with a text seed", evaluate,
             runjson("user_frequency", _set("seed", "abc")), says=("seed",), keep=keep),
        Case("runs", "run.json with an unknown split option", evaluate,
             runjson("user_frequency", _set("split", {"bogus": 1})), says=("bogus",), keep=keep),
        Case("runs", "run.json options not an object", evaluate,
             runjson("user_frequency", _set("data_options", [1])), says=("run.json",), keep=keep),
        Case("runs", "model.json missing", evaluate,
             _damaged_run(fx, "user_frequency", lambda r: (r / "model/model.json").unlink()),
             says=("model.json",), keep=keep),
        Case("runs", "model.json is not JSON", evaluate,
             write("user_frequency", "model/model.json", b"{oops"), says=("model", "JSON"),
             keep=keep),
        Case("runs", "model.json of another format", evaluate,
             modeljson("user_frequency", _set("format", "x")), says=("model.json",), keep=keep),
        Case("runs", "model.json of another schema", evaluate,
             modeljson("lstm", _set("schema", 9)), says=("schema",), keep=keep),
        Case("runs", "model.json of another model", evaluate,
             modeljson("lstm", _set("model", "ndm")), says=("model.json",), keep=keep),
        Case("runs", "model.json with an unknown config field", evaluate,
             modeljson("lstm", lambda d: {**d, "config": {**d["config"], "bogus": 1}}),
             says=("model",), keep=keep),
        Case("runs", "model.json without its config", evaluate,
             modeljson("lstm", _drop("config")), says=("model",), keep=keep),
        Case("runs", "user_frequency counts damaged", evaluate,
             modeljson("user_frequency", lambda d: {k: ("x" if isinstance(v, list) else v)
                                                    for k, v in d.items()}),
             says=("model",), keep=keep),
        Case("runs", "weights.pt empty", evaluate, write("lstm", "model/weights.pt", b""),
             says=("weights.pt",), keep=keep),
        Case("runs", "weights.pt truncated", evaluate,
             _damaged_run(fx, "lstm", lambda r: _truncate(r / "model/weights.pt")),
             says=("weights.pt",), keep=keep),
        Case("runs", "weights.pt is a malicious pickle", evaluate,
             write("lstm", "model/weights.pt", lambda w: pickle.dumps(_Evil(w / "pwned"))),
             says=("model", "pickled"), keep=("r/run.json",), outside=("pwned",)),
        Case("runs", "weights.pt of another shape", evaluate,
             write("lstm", "model/weights.pt",
                   lambda w: _torch_bytes({"embedding.weight": torch.zeros(2, 2)})),
             says=("weights.pt",), keep=keep),
        Case("runs", "params.npz truncated", evaluate,
             _damaged_run(fx, "mic", lambda r: _truncate(r / "model/params.npz")),
             says=("model", "zip"), keep=keep),
        Case("runs", "params.npz holding a pickled object", evaluate,
             _damaged_run(fx, "mic", lambda r: _npz_with_object(r / "model/params.npz",
                                                                r.parent / "pwned")),
             says=("model", "pickle"), keep=("r/run.json",), outside=("pwned",)),
        Case("runs", "params.npz missing", evaluate,
             _damaged_run(fx, "mic", lambda r: (r / "model/params.npz").unlink()),
             says=("params.npz",), keep=keep),
        Case("runs", "evaluate --task of another split kind",
             ["evaluate", "{w}/r", "--task", "point_process"], lambda w: copy(uf, w / "r"),
             says=("point_process",), keep=keep),
        Case("runs", "evaluate --task bogus", ["evaluate", "{w}/r", "--task", "bogus"],
             lambda w: copy(uf, w / "r"), says=("bogus",), keep=keep),
        Case("runs", "report a folder that is not a run", ["report", "{w}/r"],
             lambda w: write_files(w / "r", {"a.txt": "x"}), says=("run.json",), keep=keep),
        Case("runs", "simulate --run a next-user run",
             ["simulate", "mic", "--t-end", "5", "--out", "{w}/s.parquet", "--run", "{w}/r"],
             lambda w: copy(uf, w / "r"), says=("user_frequency",), keep=keep,
             absent=("s.parquet",)),
    ]  # fmt: skip
    for option in ("epochs=0", "epochs=-1", "batch_size=-4", "batch_size=0", "lr=0"):
        cases.append(Case("runs", f"train lstm --set {option} refused before any work",
                          ["train", "lstm", *SMALL, "--out", "{w}/r", "--set", option],
                          says=(option.split("=")[0].replace("epochs", "max_epochs"),),
                          absent=("r",)))  # fmt: skip
    cases += _resume_cases(fx)
    return cases


def _torch_bytes(obj: Any) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _npz_with_object(path: Path, marker: Path) -> None:
    """Replace W in the saved parameters by an object array whose unpickling creates ``marker``."""
    with np.load(path) as f:
        arrays = dict(f)
    arrays["W"] = np.array([_Evil(marker)], dtype=object)
    np.savez(path, **arrays)


def _strict_json_stdout(w: Path, res: Result) -> str | None:
    def refuse(token: str) -> Any:
        raise ValueError(f"non-standard JSON token {token}")

    try:
        json.loads(res.stdout, parse_constant=refuse)
    except ValueError as exc:
        return f"stdout is not strict JSON: {exc}"
    return None


RESUME_ARGS = ["train", "lstm", *SMALL, "--set", "epochs=3", "--set", "progress=false"]


def _resume_cases(fx: Fixtures) -> list[Case]:
    """Kill `train` at a random time; `train --resume` then finishes with exactly the weights of
    an uninterrupted run, or the folder is refused clearly (and is then not a finished run)."""
    reference: dict[str, Any] = {}

    def check(w: Path, res: Result) -> str | None:
        import torch

        if "weights" not in reference:
            ref = fx.root / "resume_reference"
            subprocess.run([CLI, *RESUME_ARGS, "--out", str(ref)], check=True,
                           capture_output=True)  # fmt: skip
            reference["weights"] = torch.load(ref / "model/weights.pt", weights_only=True)
        run = w / "r"
        if not (run / "run.json").is_file():
            p = subprocess.run([CLI, *RESUME_ARGS, "--out", str(run), "--resume"],
                               capture_output=True, text=True)  # fmt: skip
            if "Traceback" in p.stderr or p.returncode == EXIT_BUG:
                return f"traceback: {_message(p.stderr)[-300:]}"
            if p.returncode != 0:  # nothing to resume (killed before the first checkpoint)
                clear = p.returncode == EXIT_BAD_INPUT and "error:" in p.stderr
                return None if clear else f"silent_wrong: --resume said {_message(p.stderr)}"
            if not (run / "run.json").is_file():
                return "silent_wrong: --resume exited 0 without finishing the run"
        if not _same_weights(run, reference["weights"]):
            return "silent_wrong: the finished weights differ from an uninterrupted run"
        return None

    return [Case("runs", "kill -9 during train, then --resume", [*RESUME_ARGS, "--out", "{w}/r"],
                 runner="kill", timeout=9.0, check=check)] * 6  # fmt: skip


def _same_weights(run: Path, want: dict[str, Any]) -> bool:
    import torch

    got = torch.load(run / "model/weights.pt", weights_only=True)
    return got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)


# --------------------------------------------------------------------------- options
def option_cases(fx: Fixtures) -> list[Case]:
    from cascadekit import registry

    cases = []
    bad_by_type = {"int": ("abc", "1.5", "true"), "float": ("NaN", "inf", "abc"),
                   "bool": ("maybe", "2"), "str": ("[1, 2]",)}  # fmt: skip
    for model in MODELS:
        data = MIC_DATA if registry.model(model).tasks[0] == "point_process" else SMALL
        base = ["train", model, *data, "--out", "{w}/r"]
        d = registry.model(model).describe()
        rows = [*d.get("model_options", []), *d.get("training_options", [])]
        for type_name, values in bad_by_type.items():
            key = next((o for o, t, _ in rows if t == type_name and o not in ("variant",)), None)
            if key is None:
                continue
            for v in values:
                cases.append(Case("options", f"train {model} --set {key}={v}",
                                  [*base, "--set", f"{key}={v}"], says=(key,),
                                  absent=("r",)))  # fmt: skip
        cases += [
            Case("options", f"train {model} unknown --set key", [*base, "--set", "bogus_key=1"],
                 says=("bogus_key",), absent=("r",)),
            Case("options", f"train {model} --set without =", [*base, "--set", "noequals"],
                 says=("key=value",), absent=("r",)),
            Case("options", f"train {model} --preset bogus", [*base, "--preset", "bogus"],
                 says=("bogus",), absent=("r",)),
            Case("options", f"train {model} --task bogus", [*base, "--task", "bogus"],
                 says=("bogus",), absent=("r",)),
            Case("options", f"train {model} unknown --split-set key",
                 [*base, "--split-set", "bogus_split=1"], says=("bogus_split",), absent=("r",)),
        ]  # fmt: skip
    cases += _range_cases() + _split_cases() + _data_cases() + _eval_cases(fx) + _misc_cases(fx)
    return cases


# out-of-range values per model: (model, option, value)
RANGES = (
    ("lstm", "embedding_dim", "0"), ("lstm", "hidden_dim", "-1"), ("lstm", "dropout", "1.5"),
    ("lstm", "dropout", "-0.1"), ("lstm", "bucket_pool", "0"), ("lstm", "patience", "0"),
    ("lstm", "val_every", "0"), ("lstm", "max_steps", "0"), ("lstm", "grad_clip", "-1"),
    ("lstm", "weight_decay", "-1"), ("lstm", "eps", "0"), ("lstm", "threads", "0"),
    ("lstm", "betas", "[0.9]"), ("lstm", "betas", "[1.5, 0.9]"), ("lstm", "optimizer", "bogus"),
    ("lstm", "select", "bogus"), ("lstm", "device", "bogus"), ("lstm", "end_weight", "-1"),
    ("ndm", "n_heads", "0"), ("ndm", "head_dim", "0"), ("ndm", "window", "0"),
    ("ndm", "embedding_dim", "0"), ("ndm", "attention_dropout", "2"),
    ("ndm", "fixed_embedding_dim", "-1"), ("ndm", "fixed_embedding_dim", "100"),
    ("embedded_ic", "embedding_dim", "0"), ("embedded_ic", "init_std", "-1"),
    ("user_frequency", "smoothing", "-1"),
    ("mic", "tau", "0"), ("mic", "tau", "-1"), ("mic", "beta", "-1"), ("mic", "max_iter", "0"),
    ("mic", "tol", "-1"), ("mic", "n_jobs", "0"), ("mic", "max_branching", "1.5"),
    ("mic", "max_branching", "0"), ("mic", "taus", "[]"), ("mic", "taus", "[-1]"),
    ("mic", "betas", "[0]"), ("ic", "variant", "mic"), ("mic", "backend", "bogus"),
)  # fmt: skip


def _range_cases() -> list[Case]:
    from cascadekit import registry

    cases = []
    for model, key, value in RANGES:
        spec = registry.model(model)
        data = MIC_DATA if spec.tasks[0] == "point_process" else SMALL
        quiet = ["--set", "progress=false"] if spec.uses_training_loop else []
        argv = ["train", model, *data, "--out", "{w}/r", "--set", f"{key}={value}", *quiet]
        cases.append(Case("options", f"train {model} --set {key}={value}", argv, says=(key,),
                          absent=("r/run.json",)))  # fmt: skip
    return cases


def _split_cases() -> list[Case]:
    base = ["train", "user_frequency", *SMALL, "--out", "{w}/r", "--task", "next_user"]
    mic = ["train", "mic", *MIC_DATA, "--out", "{w}/r", "--set", "max_iter=2"]
    split = {
        "fractions=[0.5, 0.5]": "fractions",
        "fractions=[1.2, -0.1, -0.1]": "fractions",
        "fractions=[0.8, 0.1, 0.2]": "fractions",
        "fractions=[0, 0, 1]": "fractions",
        "min_len=0": "min_len",
        "max_len=1": "max_len",
        "min_len=9999": "min_len",
        "valid_fraction=1.5": "valid_fraction",
        "valid_fraction=-0.1": "valid_fraction",
        "valid_fraction=NaN": "valid_fraction",
        "min_len=abc": "min_len",
    }
    cases = [Case("options", f"--split-set {opt}", [*base, "--split-set", opt], says=(key,),
                  absent=("r/run.json",)) for opt, key in split.items()]  # fmt: skip
    for opt, key in {"train_fraction=0": "train_fraction", "train_fraction=1.5": "train_fraction",
                     "max_events=1": "max_events", "train_fraction=NaN": "train_fraction",
                     "max_events=1.5": "max_events"}.items():  # fmt: skip
        cases.append(
            Case(
                "options",
                f"point_process --split-set {opt}",
                [*mic, "--split-set", opt],
                says=(key,),
                absent=("r/run.json",),
            )
        )
    return cases


def _data_cases() -> list[Case]:
    def train(data: str, opt: str, model: str = "user_frequency") -> list[str]:
        extra = ["--set", "max_iter=2"] if model == "mic" else ["--task", "next_user"]
        return ["train", model, "--data", data, "--data-set", opt, "--out", "{w}/r", *extra]

    synthetic = {
        "n_users=-5": "n_users",
        "n_users=0": "n_users",
        "n_users=abc": "n_users",
        "n_users=1.5": "n_users",
        "n_cascades=0": "n_cascades",
        "n_cascades=-1": "n_cascades",
        "edge_prob=2": "edge_prob",
        "edge_prob=-0.5": "edge_prob",
        "rate=NaN": "rate",
        "rate=-1": "rate",
        "rate=0": "rate",
        "avg_degree=-1": "avg_degree",
        "graph_kind=bogus": "bogus",
        "bogus=1": "bogus",
    }
    mic = {
        "n_users=0": "n_users",
        "t_end=-1": "t_end",
        "t_end=NaN": "t_end",
        "tau=0": "tau",
        "beta=-1": "beta",
        "sigma21=2": "sigma21",
        "branching=NaN": "branching",
        "branching=-1": "branching",
        "p=2": "p",
        "bogus=1": "bogus",
    }
    cases = [
        Case(
            "options",
            f"--data synthetic --data-set {o}",
            train("synthetic", o),
            says=(k,),
            absent=("r/run.json",),
            timeout=60,
        )
        for o, k in synthetic.items()
    ]
    cases += [Case("options", f"--data synthetic_mic --data-set {o}",
                   train("synthetic_mic", o, "mic"), says=(k,), absent=("r/run.json",),
                   timeout=60) for o, k in mic.items()]  # fmt: skip
    cases.append(Case("options", "--data-set on a saved bundle",
                      ["train", "user_frequency", "--data", "{w}/b", "--data-set", "repair=true",
                       "--out", "{w}/r"],
                      lambda w: write_files(w / "b", {"bundle.json": "{}"}), says=("bundle",),
                      absent=("r/run.json",)))  # fmt: skip
    return cases


def _eval_cases(fx: Fixtures) -> list[Case]:
    uf, mic = fx.run("user_frequency"), fx.run("mic")
    evaluate = lambda task, opt: ["evaluate", "{w}/r", "--task", task, "--set", opt]  # noqa: E731
    cases = []
    for task, opts in {
        "next_user": ("bogus=1", "ks=[0]", "ks=abc", "ks=[1.5]"),
        "identification": ("n_samples=0", "n_samples=abc", "n_samples=1.5", "n_sample=5",
                           "first_k=0", "valid_samples=-1"),
        "size_identification": ("n_samples=0", "n_observed=0", "bogus=1"),
    }.items():  # fmt: skip
        for opt in opts:
            cases.append(
                Case(
                    "options",
                    f"evaluate --task {task} --set {opt}",
                    evaluate(task, opt),
                    lambda w: copy(uf, w / "r"),
                    says=(opt.split("=")[0],),
                    keep=("r/run.json", "r/model"),
                )
            )
    for opt in ("n_simulations=0", "n_bins=0", "bogus=1", "n_simulations=abc",
                "max_simulated_events=0"):  # fmt: skip
        cases.append(
            Case(
                "options",
                f"evaluate --task point_process --set {opt}",
                evaluate("point_process", opt),
                lambda w: copy(mic, w / "r"),
                says=(opt.split("=")[0],),
                keep=("r/run.json", "r/model"),
            )
        )
    return cases


def _misc_cases(fx: Fixtures) -> list[Case]:
    lines = lambda w: write_files(w / "in", {"c.txt": "a,1 b,2\n"})  # noqa: E731
    conv = lambda *extra: ["convert", "{w}/in/c.txt", "{w}/out", "--format", "lines-file", *extra]  # noqa: E731
    return [
        Case("options", "train bogus model", ["train", "bogus", *SMALL, "--out", "{w}/r"],
             says=("bogus",), absent=("r",)),
        Case("options", "train a task the model does not serve",
             ["train", "mic", *SMALL, "--out", "{w}/r", "--task", "next_user"],
             says=("next_user",), absent=("r",)),
        Case("options", "train --seed -1", ["train", "user_frequency", *SMALL, "--out", "{w}/r",
                                            "--seed", "-1"], says=("seed",),
             absent=("r/run.json",)),
        Case("options", "train --seed 2**70",
             ["train", "user_frequency", *SMALL, "--out", "{w}/r", "--seed", str(2**70)],
             says=("seed",), absent=("r/run.json",)),
        Case("options", "train --seed abc", ["train", "user_frequency", *SMALL, "--out",
                                             "{w}/r", "--seed", "abc"], says=("seed",),
             absent=("r",)),
        Case("options", "quickstart --scenario bogus", ["quickstart", "--scenario", "bogus",
                                                        "--out", "{w}/q"], says=("bogus",),
             absent=("q",)),
        Case("options", "quickstart --seed -3", ["quickstart", "--seed", "-3", "--out", "{w}/q"],
             says=("seed",), absent=("q/user_frequency/run.json",)),
        Case("options", "formats bogus", ["formats", "bogus"], says=("bogus",)),
        Case("options", "models bogus", ["models", "bogus"], says=("bogus",)),
        Case("options", "stats --format bogus", ["datasets", "stats", "{w}/in/c.txt",
                                                 "--format", "bogus"], lines, says=("bogus",)),
        Case("options", "convert unknown reader option", conv("--set", "bogus=1"), lines,
             says=("bogus",), absent=("out",)),
        Case("options", "convert reader option of the wrong type", conv("--set", "repair=[1]"),
             lines, says=("repair",), absent=("out",)),
        Case("options", "convert --set =5", conv("--set", "=5"), lines, says=("key=value",),
             absent=("out",)),
        Case("options", "stats reader option on a registered dataset",
             ["datasets", "stats", "ndm_irvine", "--set", "bogus=1"],
             env={"CASCADEKIT_MIRROR": str(fx.dataset("")), **OFFLINE}, says=("bogus",)),
        Case("options", "stats c4 --set which=bogus",
             ["datasets", "stats", "c4_music2_url", "--set", "which=bogus"],
             env={"CASCADEKIT_MIRROR": str(fx.dataset("")), **OFFLINE}, says=("which",)),
        Case("options", "stats hetrec --set top=1.5",
             ["datasets", "stats", "lastfm_hetrec2011_2k", "--set", "top=1.5"],
             env={"CASCADEKIT_MIRROR": str(fx.dataset("")), **OFFLINE}, says=("top",)),
        Case("options", "stats hetrec --set top=0",
             ["datasets", "stats", "lastfm_hetrec2011_2k", "--set", "top=0"],
             env={"CASCADEKIT_MIRROR": str(fx.dataset("")), **OFFLINE}, says=("top",)),
        Case("options", "infvae --set seed_time=NaN",
             ["convert", "{w}/in", "{w}/out", "--format", "infvae", "--set", "seed_time=NaN"],
             lambda w: write_files(w / "in", {"train.txt": "s a 1\n", "test.txt": "s b 2\n"}),
             says=("seed_time",), absent=("out",)),
        Case("options", "infvae --set seed_column=sometimes",
             ["convert", "{w}/in", "{w}/out", "--format", "infvae", "--set",
              "seed_column=sometimes"],
             lambda w: write_files(w / "in", {"train.txt": "s a 1\n", "test.txt": "s b 2\n"}),
             says=("seed_column",), absent=("out",)),
        Case("options", "melcup --set actions=[]",
             ["convert", "{w}/in", "{w}/out", "--format", "melcup", "--set", "actions=[]"],
             _write_reader_input(next(r for r in TEXT_READERS if r.fmt == "melcup"), {}),
             says=("actions",), absent=("out",)),
        Case("options", "ced --set limit=-1", [*_ced_argv(), "--set", "limit=-1"],
             lambda w: write_tar(w / "in" / "CED_Dataset.tar.gz", ced_sources()),
             says=("limit",), absent=("out",)),
        Case("options", "--version (control)", ["--version"], expect="ok",
             check=lambda w, r: None if r.stdout.startswith("cascadekit ") else "no version"),
    ]  # fmt: skip


# --------------------------------------------------------------------------- simulate
def simulate_cases(fx: Fixtures) -> list[Case]:
    sim = lambda *extra: ["simulate", *extra, "--out", "{w}/s.parquet"]  # noqa: E731
    cases = []
    for model in ("ic", "linmic", "cc", "mic"):
        cases.append(Case("simulate", f"simulate {model} (control)",
                          sim(model, "--t-end", "20"), expect="ok",
                          check=_differs_from_other_variants(model)))  # fmt: skip
    for t in ("0", "-1", "nan", "inf", "-inf", "abc"):
        cases.append(Case("simulate", f"simulate --t-end {t}", sim("mic", "--t-end", t),
                          says=("t-end",), absent=("s.parquet",)))  # fmt: skip
    for opt, key in {"n_users=0": "n_users", "n_users=-1": "n_users", "n_users=1.5": "n_users",
                     "branching=NaN": "branching", "tau=0": "tau", "beta=-1": "beta",
                     "sigma21=2": "sigma21", "p=1.5": "p", "bogus=1": "bogus",
                     "tau=abc": "tau"}.items():  # fmt: skip
        cases.append(Case("simulate", f"simulate --set {opt}",
                          sim("mic", "--t-end", "5", "--set", opt), says=(key,),
                          absent=("s.parquet",)))  # fmt: skip
    capped = lambda w, r: None if "stopped at" in r.stderr else "no warning that it was capped"  # noqa: E731
    cases += [
        Case("simulate", "simulate bogus model", sim("bogus", "--t-end", "5"), says=("bogus",),
             absent=("s.parquet",)),
        Case("simulate", "supercritical parameters are refused",
             sim("mic", "--t-end", "1e6", "--set", "branching=5"), says=("branching",),
             absent=("s.parquet",)),
        Case("simulate", "a huge window is bounded", sim("mic", "--t-end", "1e300"),
             expect="ok", check=capped, timeout=120),
        Case("simulate", "--run with --set", [*sim("mic", "--t-end", "5", "--run", "{w}/r"),
                                              "--set", "tau=1"],
             lambda w: copy(fx.run("mic"), w / "r"), says=("--run",), absent=("s.parquet",)),
        Case("simulate", "--run (control)", sim("mic", "--t-end", "60", "--run", "{w}/r"),
             lambda w: copy(fx.run("mic"), w / "r"), expect="ok",
             check=lambda w, r: None if (w / "s.parquet").is_file() else "nothing written"),
        Case("simulate", "--run names another model than the run's",
             sim("ic", "--t-end", "60", "--run", "{w}/r"),
             lambda w: copy(fx.run("mic"), w / "r"), says=("mic",), absent=("s.parquet",)),
        Case("simulate", "--run a missing folder", sim("mic", "--t-end", "5", "--run", "{w}/r"),
             says=("r",), absent=("s.parquet",)),
        Case("simulate", "--seed -1", sim("mic", "--t-end", "5", "--seed", "-1"),
             says=("seed",), absent=("s.parquet",)),
        Case("simulate", "--max-events 0", sim("mic", "--t-end", "5", "--max-events", "0"),
             says=("max-events",), absent=("s.parquet",)),
    ]  # fmt: skip
    return cases


def _differs_from_other_variants(model: str) -> Check:
    def check(w: Path, res: Result) -> str | None:
        import pyarrow.parquet as pq

        from cascadekit.simulate.hawkes import simulate
        from cascadekit.simulate.synthetic import synthetic_variant_params

        table = pq.read_table(w / "s.parquet")
        got = [table.column(c).to_pylist() for c in ("time", "user", "mark")]
        for other in ("ic", "linmic", "cc", "mic"):
            ev = simulate(synthetic_variant_params(other, seed=0), 20.0, seed=0)
            want = [ev.times.tolist(), [ev.user_vocab.tokens[u] for u in ev.users],
                    [ev.mark_vocab.tokens[m] for m in ev.marks]]  # fmt: skip
            if (other == model) != (want == got):
                return f"the {model} simulation {'differs from' if other == model else 'equals'} {other}'s"
        return None

    return check


# --------------------------------------------------------------------------- main
def all_cases(fx: Fixtures, only: set[str]) -> list[Case]:
    makers = {"readers": reader_cases, "registry": registry_cases, "writes": write_cases,
              "runs": run_cases, "options": option_cases, "simulate": simulate_cases,
              "archives": lambda fx: archive_cases()}  # fmt: skip
    return [c for cls in CLASSES if cls in only for c in makers[cls](fx)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=CLASSES, default=list(CLASSES))
    ap.add_argument("--list", action="store_true", help="print the cases, run nothing")
    ap.add_argument("--match", help="run only the cases whose name contains this")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill delays")
    ap.add_argument("--out", type=Path, default=OUT, help="results file (full runs only)")
    args = ap.parse_args()
    mirror = os.environ.get("CASCADEKIT_MIRROR")
    with tempfile.TemporaryDirectory(prefix="hostile_sweep_") as tmp:
        root = Path(tmp)
        os.environ["CASCADEKIT_HOME"] = str(root / "home")  # never the user's own cache
        fx = Fixtures(root, Path(mirror) if mirror else None)
        cases = all_cases(fx, set(args.only))
        if args.match:
            cases = [c for c in cases if args.match in c.name]
        if args.list:
            for c in cases:
                print(f"{c.cls:9} {c.name}")
            print(f"{len(cases)} cases")
            return
        rng = random.Random(args.seed)
        results = []
        t0 = time.perf_counter()
        for i, case in enumerate(cases):
            if case.runner == "kill":
                r = run_kill_case(case, root / "cases", i, rng)
            else:
                r = run_case(case, root / "cases", i)
            results.append(r)
            mark = "." if r["outcome"] == "clear" else r["outcome"][0].upper()
            print(mark, end="\n" if (i + 1) % 80 == 0 else "", flush=True)
        seconds = time.perf_counter() - t0
    print()
    table = {cls: Counter({o: 0 for o in OUTCOMES}) for cls in args.only}
    for r in results:
        table[r["cls"]][r["outcome"]] += 1
    print(f"{'class':10} {'cases':>5} " + " ".join(f"{o:>12}" for o in OUTCOMES))
    for cls, counts in table.items():
        print(
            f"{cls:10} {sum(counts.values()):5d} " + " ".join(f"{counts[o]:12d}" for o in OUTCOMES)
        )
    bad = [r for r in results if r["outcome"] != "clear"]
    for r in bad:
        print(f"[{r['outcome']}] {r['cls']}: {r['name']} — {r['detail']}")
    kills = [r for r in results if "killed_mid_command" in r]
    if args.match or set(args.only) != set(CLASSES):
        return  # a partial run is for debugging: the results file holds full sweeps only
    write_json(args.out, {
        "cases": len(results), "seconds": round(seconds, 1),
        "table": {cls: dict(c) for cls, c in table.items()},
        "totals": {o: sum(c[o] for c in table.values()) for o in OUTCOMES},
        "kills": {"total": len(kills),
                  "mid_command": sum(r["killed_mid_command"] for r in kills)},
        "not_clear": bad,
    }, seed=args.seed)  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
