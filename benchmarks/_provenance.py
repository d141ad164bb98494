"""What every benchmark results file records about how it was made, and the keyed run store.

`provenance()` is one dict: the exact command line (``sys.argv`` and the interpreter), the git
commit and whether the tree was dirty (and which files), the machine (platform, Python, CPUs,
torch / numpy versions), the thread settings (torch, torch inter-op, ``OMP_NUM_THREADS`` & co,
CPU affinity), ``os.getloadavg()`` when the script started and when the file was written, the
start and write dates (UTC) and the peak resident memory so far. `run_config` is the full
configuration of one fitted model: registry name, preset, the options given on top of it, and
``dataclasses.asdict`` of the resolved model config and `TrainConfig`.

`RunStore` is the file of a resumable sweep: every run is keyed (e.g. dataset, model label, seed,
samples, epochs) and a re-run *replaces* the run with the same key instead of appending a second
one. A ``.json`` store is one document ``{"provenance": …, <extra>, "runs": [...]}``; a
``.jsonl`` store is one run per line. Every run carries its own ``provenance`` (a resumed file can
mix commands, commits and load); runs written before this module existed have none and are kept
(as "legacy") until a run with the same key replaces them. Writes are atomic (temp file + rename),
so an interrupted sweep never leaves a half-written file.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import fcntl
import hashlib
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

_START = {
    "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    "loadavg": list(os.getloadavg()),
}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def git_state() -> dict[str, Any]:
    """HEAD, whether the work tree differs from it, and the changed paths (``git status``)."""

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    try:
        changed = [line[3:] for line in run("status", "--porcelain").splitlines()]
        out = {"commit": run("rev-parse", "HEAD").strip(), "dirty": bool(changed),
               "changed": changed}  # fmt: skip
        if changed:  # which uncommitted state: the hash of the diff against HEAD (tracked files)
            diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=ROOT,
                                  capture_output=True, check=True).stdout  # fmt: skip
            out["diff_sha256"] = hashlib.sha256(diff).hexdigest()
        return out
    except (OSError, subprocess.CalledProcessError) as exc:
        return {"commit": None, "dirty": None, "error": str(exc)}


def machine() -> dict[str, Any]:
    import numpy

    out = {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": numpy.__version__,
    }
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - the project always has torch
        out["torch"] = None
    return out


def threads() -> dict[str, Any]:
    out: dict[str, Any] = {v: os.environ.get(v) for v in THREAD_VARS}
    if "torch" in sys.modules:  # only when the script uses torch (importing it costs ~1 s)
        torch = sys.modules["torch"]
        out["torch"] = torch.get_num_threads()
        out["torch_interop"] = torch.get_num_interop_threads()
    if hasattr(os, "sched_getaffinity"):
        out["affinity"] = sorted(os.sched_getaffinity(0))
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def command() -> str:
    """The command line that ran this script, as one shell string."""
    return shlex.join([Path(sys.executable).name, *sys.argv])


def provenance(**extra: Any) -> dict[str, Any]:
    """Everything a results file records about how and where it was made (see module doc)."""
    return {
        "command": command(),
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
        "git": git_state(),
        "machine": machine(),
        "threads": threads(),
        "mirror": os.environ.get("CASCADEKIT_MIRROR"),
        "date_start": _START["date"],
        "date_written": _now(),
        "loadavg_start": _START["loadavg"],
        "loadavg_at_write": list(os.getloadavg()),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **extra,
    }


def generated_note() -> str:
    """One line for a generated report: the command, the commit (dirty or not) and the date."""
    git = git_state()
    dirty = " (work tree dirty)" if git.get("dirty") else ""
    return f"Generated {_now()} by `{command()}` at commit {str(git.get('commit'))[:12]}{dirty}."


def made(d: dict | None, name: str) -> str:
    """Where a results entry came from: "`file`: <command> on <date>, commit <sha>" or legacy."""
    p = (d or {}).get("provenance")
    if not p:
        return f"`{name}`: legacy (no recorded provenance; see `make bench`)"
    git = p.get("git", {})
    dirty = "+dirty" if git.get("dirty") else ""
    return (
        f"`{name}`: `{p['command']}`, {p['date_written']}, commit "
        f"{str(git.get('commit'))[:10]}{dirty}, load {p['loadavg_start'][0]:.1f}→"
        f"{p['loadavg_at_write'][0]:.1f}"
    )


def run_config(model: str, preset: str | None, options: dict[str, Any], estimator: Any) -> dict:
    """The full configuration of one run: registry model, preset, the options given on top of the
    preset, and the resolved model config and `TrainConfig` (``dataclasses.asdict``)."""
    out: dict[str, Any] = {"model": model, "preset": preset, "options": dict(options)}
    out["model_config"] = dataclasses.asdict(estimator.config)
    train = getattr(estimator, "train_config", None)
    if train is not None:
        out["train_config"] = dataclasses.asdict(train)
    return out


def seeded(spec: Any, seed: int) -> dict[str, Any]:
    """``{"seed": seed}`` when the registry model has a seed option (config or TrainConfig)."""
    from cascadekit.training import TrainConfig

    names = {f.name for f in dataclasses.fields(spec.config_class)}
    if spec.uses_training_loop:
        names |= {f.name for f in dataclasses.fields(TrainConfig)}
    return {"seed": seed} if "seed" in names else {}


def _plain(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, tuple):
        return list(o)
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    return str(o)


def dumps(obj: Any, indent: int | None = 1) -> str:
    return json.dumps(obj, indent=indent, default=_plain, ensure_ascii=False)


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, payload: dict[str, Any], **extra: Any) -> Path:
    """``{"provenance": provenance(**extra), **payload}`` written atomically."""
    return write_atomic(Path(path), dumps({"provenance": provenance(**extra), **payload}) + "\n")


def load_json(path: Path) -> dict[str, Any]:
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else {}


def _norm(value: Any) -> str:
    """Key values compared by their JSON text (500 and 500.0 are one key)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True, default=_plain)


class RunStore:
    """Keyed runs of one results file; ``add`` replaces a run with the same key.

    ``key``: the run fields that identify a run. A legacy run (no ``provenance``) is replaced by a
    new run that agrees with it on every key field the legacy run has. ``legacy`` maps an old
    run dict to its current form (e.g. a renamed model label) when the file is read.
    """

    def __init__(self, path: Path, key: Iterable[str], legacy: Any = None) -> None:
        self.path = Path(path)
        self.key = tuple(key)
        self.jsonl = self.path.suffix == ".jsonl"
        self.doc: dict[str, Any] = {}
        runs: list[dict[str, Any]] = []
        if self.path.is_file():
            text = self.path.read_text()
            if self.jsonl:
                runs = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                self.doc = json.loads(text)
                runs = self.doc.get("runs", [])
        self.runs = [legacy(r) if legacy and "provenance" not in r else r for r in runs]

    def key_of(self, run: dict[str, Any]) -> tuple[str, ...]:
        return tuple(_norm(run.get(k)) for k in self.key)

    def _same(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        if "provenance" in old:
            return self.key_of(old) == self.key_of(new)
        return all(_norm(old[k]) == _norm(new.get(k)) for k in self.key if k in old)

    def find(self, **key: Any) -> dict[str, Any] | None:
        """The run with this key made by the current code (with provenance), if any."""
        probe = tuple(_norm(key.get(k)) for k in self.key)
        for r in self.runs:
            if "provenance" in r and self.key_of(r) == probe:
                return r
        return None

    def add(self, run: dict[str, Any], **provenance_extra: Any) -> dict[str, Any]:
        """Attach the run's provenance and put it in place of any run with the same key."""
        missing = [k for k in self.key if k not in run]
        if missing:
            raise KeyError(f"run lacks key field(s) {missing}")
        run = {**run, "provenance": provenance(**provenance_extra)}
        for i, old in enumerate(self.runs):
            if self._same(old, run):
                self.runs[i] = run
                self.runs = [r for j, r in enumerate(self.runs) if j <= i or not self._same(r, run)]
                break
        else:
            self.runs.append(run)
        return run

    @property
    def legacy_runs(self) -> int:
        return sum("provenance" not in r for r in self.runs)

    def write(self, summary: Callable[[list[dict[str, Any]]], Any] | None = None,
              **extra: Any) -> Path:  # fmt: skip
        """The whole file, atomically: a document with the latest provenance, ``extra``,
        ``summary(runs)`` and the runs (``.json``), or one run per line (``.jsonl``).

        Several processes may fill one file (e.g. one per core): under a lock on the folder, the
        runs another writer added since this store read the file are kept, not overwritten."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            ours = self.runs
            theirs = RunStore(self.path, self.key).runs
            self.runs = ours + [r for r in theirs if not any(self._same(r, o) for o in ours)]
            if self.jsonl:
                text = "".join(dumps(r, indent=None) + "\n" for r in self.runs)
                return write_atomic(self.path, text)
            doc = {
                "provenance": provenance(),
                "run_key": list(self.key),
                "legacy_runs": self.legacy_runs,
                **extra,
                **({"summary": summary(self.runs)} if summary else {}),
                "runs": self.runs,
            }
            return write_atomic(self.path, dumps(doc) + "\n")
        finally:
            os.close(folder)  # releases the lock
