"""SIGKILL during writes: `convert --overwrite` of a good bundle (`DatasetBundle.save`) and `train`
(checkpoints, then model/ and run.json), killed at seeded random points. Whatever is left loads
as exactly the old or exactly the new data, or (train) resumes bit-exactly or is refused with a
clear error — never a mix, never the wrong data.

The fast kills fork the already-imported test process (the child writes and ``os._exit``s, the
parent sleeps a seeded random delay within one uninterrupted write and SIGKILLs it); two kills
hit the real CLI in a subprocess once it is seen mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from fake_registry import bundle_differences
from typer.testing import CliRunner

from cascadekit import pipeline
from cascadekit.cli import app
from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError
from cascadekit.simulate.synthetic import synthetic_cascades
from cascadekit.training import CHECKPOINT

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# kills that must land while the child still runs (a kill after it finished does not count)
SAVE_KILLS, TRAIN_KILLS = 30, 25
MAX_TRIES = 4  # × the kills asked: delays are drawn within the write's measured time, so few miss
TRAIN = {
    "options": {"epochs": 3, "progress": False, "embedding_dim": 8, "hidden_dim": 8,
                "batch_size": 16},
    "data_options": {"n_users": 30, "n_cascades": 80},
}  # fmt: skip
CLI = str(Path(sys.executable).with_name("cascadekit"))


def run_in_child(work: Callable[[], object], delay: float | None) -> bool:
    """Run ``work`` in a forked child; SIGKILL it after ``delay`` seconds (None: let it finish).
    Returns whether the kill found it still running; a child that fails fails the test."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 0
        try:
            torch.set_num_threads(1)  # the parent's thread pool does not survive a fork
            work()
        except BaseException:  # noqa: BLE001 - reported through the exit code
            code = 1
        os._exit(code)
    if delay is not None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert killed or os.WEXITSTATUS(status) == 0, "the write itself failed in the child"
    return killed


class KillDelays:
    """Seeded kill delays within one write's duration. The first measured write can be slower
    than the rest (cold caches, a loaded machine), so a write that outlives no delay shrinks
    the window to that delay: it finished sooner, and later draws should land inside it."""

    def __init__(self, work: Callable[[], object], seed: int) -> None:
        t0 = time.perf_counter()
        run_in_child(work, None)
        self.upper = time.perf_counter() - t0
        self.rng = random.Random(seed)

    def kill(self, work: Callable[[], object]) -> bool:
        """Run ``work`` in a child killed after a drawn delay; whether the kill landed."""
        delay = self.rng.uniform(0, self.upper)
        killed = run_in_child(work, delay)
        if not killed:
            self.upper = delay
        return killed


def same_bundle(a: DatasetBundle, b: DatasetBundle) -> bool:
    return not bundle_differences(a, b)


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]


def test_kill_during_convert_overwrite_leaves_the_old_or_the_new_bundle(tmp_path: Path) -> None:
    old, new = synthetic_cascades(30, 50, seed=0), synthetic_cascades(300, 3000, seed=1)
    want_old = DatasetBundle.load(old.save(tmp_path / "ref_old"))
    want_new = DatasetBundle.load(new.save(tmp_path / "ref_new"))
    probe = old.save(tmp_path / "probe")
    delays = KillDelays(lambda: new.save(probe, overwrite=True), seed=0)
    outcomes: Counter[str] = Counter()
    for i in range(SAVE_KILLS * MAX_TRIES):
        if outcomes["killed"] == SAVE_KILLS:
            break
        folder = old.save(tmp_path / f"k{i}" / "b")
        killed = delays.kill(lambda f=folder: new.save(f, overwrite=True))
        got = DatasetBundle.load(folder)  # never a half bundle: it always loads
        if same_bundle(got, want_new):
            outcomes["new (killed after the swap, or finished)"] += 1
        else:
            assert same_bundle(got, want_old), "the folder is neither the old nor the new bundle"
            outcomes["old, killed mid-write" if temporaries(folder) else "old, not started"] += 1
        outcomes["killed"] += killed
    print(dict(outcomes))
    assert outcomes["killed"] == SAVE_KILLS and outcomes["old, killed mid-write"] >= 5


def _train(out: Path, *, resume: bool = False) -> None:
    pipeline.train("lstm", "synthetic", out, task="next_user", resume=resume, **TRAIN)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "model" / "weights.pt", weights_only=True)


def _same_weights(run: Path, want: dict[str, torch.Tensor]) -> bool:
    got = _weights(run)
    return got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)


def test_kill_during_train_resumes_exactly_or_is_refused(tmp_path: Path) -> None:
    _train(tmp_path / "reference")  # also imports what training needs before timing a child
    want = _weights(tmp_path / "reference")
    delays = KillDelays(lambda: _train(tmp_path / "probe"), seed=1)
    outcomes: Counter[str] = Counter()
    for i in range(TRAIN_KILLS * MAX_TRIES):
        if outcomes["killed"] == TRAIN_KILLS:
            break
        out = tmp_path / f"k{i}"
        outcomes["killed"] += delays.kill(lambda o=out: _train(o))
        if (out / "run.json").is_file():  # killed after the final rename, or finished
            assert _same_weights(out, want) and pipeline.load_run(out)[0].model == "lstm"
            outcomes["finished"] += 1
        elif (out / CHECKPOINT).is_file():  # killed mid-run: --resume ends exactly as unkilled
            _train(out, resume=True)
            assert _same_weights(out, want)
            outcomes["resumed"] += 1
        else:  # killed before the first checkpoint: refused, never taken for a run
            with pytest.raises(CascadeKitError, match="nothing to resume"):
                _train(out, resume=True)
            if out.exists() and any(out.iterdir()):
                with pytest.raises(CascadeKitError, match="not empty"):
                    _train(out)
                outcomes["refused"] += 1
            else:
                outcomes["not started"] += 1
    print(dict(outcomes))
    mid_run = (
        outcomes["resumed"] + outcomes["refused"]
    )  # killed between the first write and run.json
    assert outcomes["killed"] == TRAIN_KILLS and mid_run >= 3 and outcomes["resumed"] >= 1


def kill_when(cmd: list[str], seen: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Start the CLI, SIGKILL it as soon as ``seen()`` holds; whether it was killed mid-way.
    A CLI that finished first must have succeeded."""
    p = subprocess.Popen([CLI, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.perf_counter()
    while p.poll() is None and not seen() and time.perf_counter() - t0 < timeout:
        time.sleep(0.001)
    p.kill()
    _, err = p.communicate()
    assert p.returncode in (0, -signal.SIGKILL), err.decode()
    return p.returncode == -signal.SIGKILL


CLI_TRIES = 8  # the bundle write lasts ~50 ms: a loaded machine may deschedule the poller past it


def test_the_real_cli_killed_mid_write(tmp_path: Path) -> None:
    old = synthetic_cascades(30, 50, seed=0)
    want_old = DatasetBundle.load(old.save(tmp_path / "ref_old"))
    big = synthetic_cascades(2000, 20000, seed=2).save(tmp_path / "big")
    want_new = DatasetBundle.load(big)
    kills = 0
    for attempt in range(CLI_TRIES):  # every attempt must leave the old or the new bundle
        folder = old.save(tmp_path / f"b{attempt}")
        kills += kill_when(["convert", str(big), str(folder), "--overwrite"],
                           lambda f=folder: bool(temporaries(f)))  # fmt: skip
        got = DatasetBundle.load(folder)
        assert same_bundle(got, want_old) or same_bundle(got, want_new)
        if kills:
            break
    assert kills == 1, f"no kill landed mid-write in {CLI_TRIES} tries"

    args = ["train", "lstm", "--data", "synthetic", "--data-set", "n_users=30", "--data-set",
            "n_cascades=80", "--task", "next_user", "--set", "epochs=8", "--set",
            "progress=false", "--set", "embedding_dim=8", "--set", "hidden_dim=8"]  # fmt: skip
    run = tmp_path / "run"
    assert kill_when([*args, "--out", str(run)], lambda: (run / CHECKPOINT).is_file())
    assert not (run / "run.json").exists()
    res = CliRunner().invoke(app, [*args, "--out", str(run)])
    assert res.exit_code == 2 and "--resume" in res.stderr  # the hint, not an overwrite
    res = CliRunner().invoke(app, [*args, "--out", str(run), "--resume"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "whole")])
    assert res.exit_code == 0, res.output
    assert _same_weights(run, _weights(tmp_path / "whole"))
