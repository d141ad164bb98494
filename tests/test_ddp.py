"""Data-parallel training through Lightning Fabric (2 CPU processes, gloo, by torchrun): the same
loss trajectory and weights as one process with the same global batch, and a checkpoint written
by 2 ranks resumed by 1. Tolerance: float32 sums over the ranks' halves differ from the sum over
the whole batch in the last bits (measured: 7e-9 relative on the loss), so losses to 1e-6
relative, weights to 1e-5."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cascadekit.training import rank_rows

WORKER = Path(__file__).with_name("ddp_train.py")


def _run(out: Path, devices: int, *extra: str) -> dict:
    launch = [sys.executable]
    if devices > 1:
        launch += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={devices}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([*launch, str(WORKER), str(out), str(devices), *extra], env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def _same_training(a: dict, b: dict) -> None:
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
    assert a["valid_nll"] == pytest.approx(b["valid_nll"], rel=1e-6)
    for name, value in a["weights"].items():
        np.testing.assert_allclose(np.array(b["weights"][name]), np.array(value), atol=1e-5)


def test_rank_rows_split_every_tensor_of_a_batch() -> None:
    batch = {"tokens": torch.arange(10).reshape(5, 2), "target": torch.arange(5.0), "tag": "x"}
    first, second = rank_rows(batch, 0, 2), rank_rows(batch, 1, 2)
    assert first["tokens"].tolist() == [[0, 1], [2, 3], [4, 5]]
    assert second["target"].tolist() == [3.0, 4.0] and second["tag"] == "x"
    assert rank_rows((torch.arange(3),), 1, 2)[0].tolist() == [2]


def test_two_process_ddp_matches_one_process(tmp_path: Path) -> None:
    one = _run(tmp_path / "one.json", 1)
    two = _run(tmp_path / "two.json", 2)
    assert len(one["train_loss"]) == 3 and one["train_loss"][-1] < one["train_loss"][0]
    _same_training(one, two)


def test_a_two_rank_checkpoint_resumes_in_one_process(tmp_path: Path) -> None:
    whole = _run(tmp_path / "whole.json", 1, "-", "3")
    _run(tmp_path / "first.json", 2, str(tmp_path / "run"), "2")  # 2 of 3 epochs on 2 ranks
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    resumed = _run(tmp_path / "resumed.json", 1, str(tmp_path / "run"), "3", "resume")
    _same_training(whole, resumed)
