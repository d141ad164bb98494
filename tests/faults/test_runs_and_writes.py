"""Outputs are replaced only when asked, only when they are the same kind of thing, and
atomically; damaged run folders and inputs that hold nothing are clear errors."""

from __future__ import annotations

import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cascadekit import pipeline
from cascadekit.cli import app
from cascadekit.data import atomic
from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.formats import lines
from cascadekit.errors import CascadeKitError
from cascadekit.simulate.synthetic import synthetic_cascades
from faults import assert_clear_error

runner = CliRunner()


def snapshot(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {"": path.read_bytes()}
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return synthetic_cascades(60, 90, seed=1).save(tmp_path / "new")


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        ({"mine.txt": "x"}, "exists and is not empty; refusing to overwrite it (--overwrite"),
        ({"bundle.json": "{}"}, "exists and is not empty; refusing to overwrite it"),
    ],
)
def test_convert_refuses_a_non_empty_folder(
    tmp_path: Path, bundle: Path, existing: dict, message: str
) -> None:
    out = tmp_path / "out"
    for name, text in existing.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    before = snapshot(out)
    assert_clear_error(runner.invoke(app, ["convert", str(bundle), str(out)]), message)
    assert snapshot(out) == before


def test_overwrite_replaces_a_saved_bundle_but_never_other_files(
    tmp_path: Path, bundle: Path
) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "thesis.tex").write_text("years of work")
    res = runner.invoke(app, ["convert", str(bundle), str(docs), "--overwrite"])
    assert_clear_error(res, "holds other files (no bundle.json); --overwrite only replaces")
    assert (docs / "sub" / "thesis.tex").read_text() == "years of work"
    (tmp_path / "f.csv").write_text("mine")
    res = runner.invoke(app, ["convert", str(bundle), str(tmp_path / "f.csv"), "--overwrite"])
    assert_clear_error(res, "f.csv is a file; the output is a folder")
    assert (tmp_path / "f.csv").read_text() == "mine"
    old = synthetic_cascades(30, 50, seed=0).save(tmp_path / "b")
    (old / "events.parquet").write_bytes(b"stale")  # a file the new bundle does not have
    assert runner.invoke(app, ["convert", str(bundle), str(old), "--overwrite"]).exit_code == 0
    assert snapshot(old) == snapshot(bundle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "docs", "f.csv", "new"]


def test_lines_output_is_refused_replaced_or_created_atomically(
    tmp_path: Path, bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    target.write_text("mine")
    convert = ["convert", str(bundle), str(target), "--to", "ndm"]
    assert_clear_error(runner.invoke(app, convert), "f.txt exists; refusing to overwrite it")
    real = lines.format_time
    calls = {"n": 0}

    def fails_midway(t: float) -> str:
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError(28, "No space left on device")
        return real(t)

    monkeypatch.setattr(lines, "format_time", fails_midway)
    assert_clear_error(runner.invoke(app, [*convert, "--overwrite"]), "No space left on device")
    assert target.read_text() == "mine" and sorted(os.listdir(tmp_path)) == ["f.txt", "new"]
    monkeypatch.setattr(lines, "format_time", real)
    assert runner.invoke(app, [*convert, "--overwrite"]).exit_code == 0
    n_cascades = len(DatasetBundle.load(bundle).cascades)
    assert len(target.read_text().splitlines()) == n_cascades
    nested = tmp_path / "new_dir" / "deeper" / "g.txt"
    assert runner.invoke(app, ["convert", str(bundle), str(nested), "--to", "ndm"]).exit_code == 0
    assert len(nested.read_text().splitlines()) == n_cascades


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_replace_folder_leaves_the_new_folder_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target, new = tmp_path / "t", tmp_path / ".t.new"
    for folder, name in ((target, "old.txt"), (new, "new.txt")):
        folder.mkdir()
        (folder / name).write_text(name)
    atomic.replace_folder(new, target)
    assert os.listdir(tmp_path) == ["t"] and os.listdir(target) == ["new.txt"]


def test_simulate_never_overwrites_unasked(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    out.write_text("mine")
    simulate = ["simulate", "mic", "--t-end", "5", "--out", str(out)]
    assert_clear_error(runner.invoke(app, simulate), "s.parquet exists; refusing to overwrite it")
    assert out.read_text() == "mine"
    assert runner.invoke(app, [*simulate, "--overwrite"]).exit_code == 0
    assert out.read_bytes()[:4] == b"PAR1" and os.listdir(tmp_path) == ["s.parquet"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("finished")
    data = {"n_users": 40, "n_cascades": 120}
    pipeline.train("user_frequency", "synthetic", root / "uf", task="next_user", data_options=data)
    pipeline.train("lstm", "synthetic", root / "lstm", task="next_user", data_options=data,
                   options={"epochs": 1, "progress": False, "embedding_dim": 8,
                            "hidden_dim": 8})  # fmt: skip
    return {"uf": root / "uf", "lstm": root / "lstm"}


def damaged(src: Path, dst: Path, rel: str, edit: object) -> Path:
    import shutil

    shutil.copytree(src, dst)
    path = dst / rel
    if callable(edit):
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    else:
        path.write_bytes(edit)
    return dst


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    ("kind", "rel", "edit", "message"),
    [
        ("uf", "run.json", lambda d: {k: v for k, v in d.items() if k != "model"},
         "missing 1 required positional argument: 'model'"),
        ("uf", "run.json", lambda d: {**d, "seed": "abc"}, "run.json option seed: expected an"),
        ("uf", "run.json", lambda d: {**d, "seed": -4}, "seed must be an integer in 0…"),
        ("uf", "run.json", lambda d: {**d, "data_options": [1]},
         "run.json option data_options: expected a JSON object"),
        ("uf", "model/model.json", b"{oops", "model: the saved model cannot be loaded "
         "(JSONDecodeError"),
        ("uf", "model/model.json", lambda d: {**d, "counts": "x"}, "model cannot be loaded"),
        ("lstm", "model/model.json", lambda d: {**d, "config": {**d["config"], "bogus": 1}},
         "model cannot be loaded (TypeError"),
        ("lstm", "model/weights.pt", b"", "weights.pt: unreadable or mismatched weights"),
    ],
)  # fmt: skip
def test_damaged_run_folders_are_clear_errors(
    finished: dict[str, Path], tmp_path: Path, kind: str, rel: str, edit: object, message: str
) -> None:
    run = damaged(finished[kind], tmp_path / "r", rel, edit)
    before = snapshot(run)
    assert_clear_error(runner.invoke(app, ["evaluate", str(run)]), message)
    assert snapshot(run) == before


def test_pickled_weights_are_refused_and_never_run(
    finished: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    run = damaged(finished["lstm"], tmp_path / "r", "model/weights.pt",
                  pickle.dumps(_Payload(marker)))  # fmt: skip
    res = runner.invoke(app, ["evaluate", str(run)])
    assert_clear_error(res, "hold pickled Python objects, which cascadekit never loads")
    assert not marker.exists()


def test_a_select_metric_the_validation_lacks_is_a_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "lstm", "--data", "synthetic", "--data-set", "n_users=40",
                              "--data-set", "n_cascades=120", "--out", str(tmp_path / "r"),
                              "--set", "select=bogus", "--set", "progress=false"])  # fmt: skip
    assert_clear_error(res, "select='bogus': the validation returns no 'bogus'; it returns")


def test_inputs_that_hold_nothing_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("\n\n")
    (tmp_path / "header.csv").write_text("cascade,user,time\n")
    tar = tmp_path / "CED_Dataset.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        info = tarfile.TarInfo("CED_Dataset/README")
        tf.addfile(info, io.BytesIO(b""))
    for source, fmt, message in [
        ("empty.txt", "lines-file", "empty.txt: expected at least one cascade line"),
        ("header.csv", "csv", "header.csv: expected at least one row after the header"),
        ("CED_Dataset.tar.gz", "ced", "expected at least one source post"),
    ]:
        res = runner.invoke(app, ["convert", str(tmp_path / source), str(tmp_path / "o"),
                                  "--format", fmt])  # fmt: skip
        assert_clear_error(res, message)
        assert not (tmp_path / "o").exists()


def test_repeated_ids_and_deep_json_are_refused(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("7\tr\t100\t1\tr:0\n7\tq\t200\t1\tq:0\n")
    res = runner.invoke(app, ["convert", str(tmp_path / "d.txt"), str(tmp_path / "o"),
                              "--format", "raw-paths"])  # fmt: skip
    assert_clear_error(res, "d.txt, line 2: expected each cascade id once, found '7'")
    post = ("CED_Dataset/original-microblog/1_m1_100.json", b'{"text": "", "user": "", "time": 0}')
    for extra, message in [
        (post, "expected each source post once"),
        (("CED_Dataset/rumor-repost/1_m1_100.json", b"[" * 100_000 + b"]" * 100_000),
         "expected JSON nested at most a few hundred levels deep"),
    ]:  # fmt: skip
        tar = tmp_path / "CED_Dataset.tar.gz"
        with tarfile.open(tar, "w:gz") as tf:
            for name, data in (post, extra):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        res = runner.invoke(app, ["convert", str(tar), str(tmp_path / "o"), "--format", "ced"])
        assert_clear_error(res, "1_m1_100.json", message)
    with pytest.raises(CascadeKitError, match="limit must be None or >= 1, got -1"):
        pipeline.load_bundle(str(tar), options={"limit": -1}, fmt="ced")
