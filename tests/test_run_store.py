"""`benchmarks/_provenance.RunStore`: results files that several benchmark processes fill at once
keep every writer's runs, and a replaced run stays replaced."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "_provenance", Path(__file__).resolve().parents[1] / "benchmarks" / "_provenance.py"
)
provenance = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(provenance)


def _seeds(path: Path) -> list[tuple[str, int]]:
    return sorted((r["model"], r["seed"]) for r in json.loads(path.read_text())["runs"])


def test_two_writers_of_one_file_keep_each_others_runs(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    a = provenance.RunStore(path, ("model", "seed"))
    b = provenance.RunStore(path, ("model", "seed"))  # both read the file before either wrote
    a.add({"model": "x", "seed": 0, "msle": 1.0})
    a.write(summary=len)
    b.add({"model": "y", "seed": 0, "msle": 2.0})
    b.write(summary=len)
    a.add({"model": "x", "seed": 1, "msle": 3.0})
    a.write(summary=len)
    assert _seeds(path) == [("x", 0), ("x", 1), ("y", 0)]
    assert json.loads(path.read_text())["summary"] == 3  # summarised over the merged runs


def test_a_rerun_replaces_the_old_run_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    first = provenance.RunStore(path, ("model", "seed"))
    first.add({"model": "x", "seed": 0, "msle": 1.0})
    first.write()
    again = provenance.RunStore(path, ("model", "seed"))
    again.add({"model": "x", "seed": 0, "msle": 0.5})
    again.write()
    runs = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["model"], r["msle"]) for r in runs] == [("x", 0.5)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left
