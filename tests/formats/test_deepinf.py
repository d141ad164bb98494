"""DeepInf instance folders: exact round trip, a folder laid out as the authors' files are, and a
clear FormatError for every disagreement between the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.formats import read
from cascadekit.data.formats.deepinf import (
    INSTANCES_KEY,
    read_embedding,
    read_instances,
    write_embedding,
    write_instances,
)
from cascadekit.data.influence import InfluenceInstances
from cascadekit.errors import CascadeKitError, FormatError

ARRAYS = ("vertices", "adjacency", "active", "labels", "items", "times", "vertex_features",
          "embedding")  # fmt: skip


def instances(n_inst: int = 6, n: int = 5, n_users: int = 20, seed: int = 0) -> InfluenceInstances:
    rng = np.random.default_rng(seed)
    vertices = np.stack([rng.choice(n_users, n, replace=False) for _ in range(n_inst)])
    adj = np.triu(rng.random((n_inst, n, n)) < 0.5, 1)
    active = rng.random((n_inst, n)) < 0.5
    active[:, -1] = False
    return InfluenceInstances(
        vertices=vertices, adjacency=adj | adj.transpose(0, 2, 1), active=active,
        labels=(np.arange(n_inst) % 2).astype(np.int8), items=rng.integers(0, 3, n_inst),
        times=rng.random(n_inst) * 100,
        vertex_features=rng.standard_normal((n_users, 7)).astype(np.float32),
        embedding=rng.standard_normal((n_users, 4)).astype(np.float32),
        info={"seed": seed, "instances": {"positive": 3, "negative": 3}},
    )  # fmt: skip


def test_round_trip_is_exact(tmp_path: Path) -> None:
    inst = instances()
    folder = write_instances(inst, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [
        "adjacency_matrix.npy", "cascadekit.json", "deepwalk.emb_4", "influence_feature.npy",
        "item.npy", "label.npy", "time.npy", "vertex_feature.npy", "vertex_id.npy",
    ]  # fmt: skip
    back = read_instances(folder)
    for name in ARRAYS:
        got, want = getattr(back, name), getattr(inst, name)
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert back.info == inst.info
    flags = np.load(folder / "influence_feature.npy")  # the authors' [active, is ego]
    assert flags.shape == (6, 5, 2) and flags[:, -1, 1].all() and not flags[:, :-1, 1].any()


def test_writes_replace_only_an_instance_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(CascadeKitError, match="not empty"):
        write_instances(instances(), target)
    with pytest.raises(CascadeKitError, match="no cascadekit.json"):
        write_instances(instances(), target, overwrite=True)  # never another folder's files
    (target / "keep.txt").unlink()
    write_instances(instances(seed=1), target)
    write_instances(instances(seed=2), target, overwrite=True)
    np.testing.assert_array_equal(read_instances(target).vertices, instances(seed=2).vertices)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def authors_folder(tmp_path: Path) -> Path:
    """As the authors' preprocessing writes it: int adjacency from igraph, float64 features, raw
    vertex features, an embedding with fewer rows than users, no items or times."""
    folder = tmp_path / "digg"
    folder.mkdir(parents=True)
    adj = np.zeros((2, 3, 3), dtype=np.int64)
    adj[:, 0, 2] = adj[:, 2, 0] = 1
    adj[1, 1, 1] = 1  # a self loop: the authors' loader adds them anyway
    flags = np.zeros((2, 3, 2))
    flags[:, -1, 1] = 1
    flags[0, 0, 0] = 1
    np.save(folder / "adjacency_matrix.npy", adj)
    np.save(folder / "influence_feature.npy", flags)
    np.save(folder / "label.npy", np.array([1, 0]))
    np.save(folder / "vertex_id.npy", np.array([[0, 1, 3], [2, 1, 0]]))
    np.save(folder / "vertex_feature.npy", np.array([[1.0, 2], [3, 2], [5, 2], [7, 2]]))
    (folder / "deepwalk.emb_2").write_text("3 2\n0 0.5 -1\n2 1.25 2\n")
    return folder


def test_reads_the_authors_layout(tmp_path: Path) -> None:
    inst = read_instances(authors_folder(tmp_path))
    np.testing.assert_array_equal(inst.vertices, [[0, 1, 3], [2, 1, 0]])
    assert inst.info["self_loops_dropped"] == 1 and not inst.adjacency[1, 1, 1]
    np.testing.assert_array_equal(inst.active, [[True, False, False], [False, False, False]])
    np.testing.assert_array_equal(inst.labels, [1, 0])
    np.testing.assert_array_equal(inst.items, [-1, -1])
    assert np.isnan(inst.times).all()
    # standardised on reading, as the authors' loader (preprocessing.scale) does
    np.testing.assert_allclose(inst.vertex_features[:, 0], np.array([-3, -1, 1, 3]) / np.sqrt(5))
    np.testing.assert_array_equal(inst.vertex_features[:, 1], 0)
    np.testing.assert_array_equal(inst.embedding, [[0.5, -1], [0, 0], [1.25, 2], [0, 0]])
    assert inst.info["embedding_rows_missing"] == 2


def test_registered_format_points_the_task_at_the_folder(tmp_path: Path) -> None:
    folder = authors_folder(tmp_path)
    bundle = read(folder, "deepinf")
    assert bundle.cascades is None and bundle.graph is None
    assert bundle.info[INSTANCES_KEY] == str(folder.resolve())
    assert (bundle.info["instances"], bundle.info["ego_size"], bundle.info["users"]) == (2, 3, 4)
    assert bundle.info["has_items_and_times"] is False


@pytest.mark.parametrize(
    ("name", "array", "message"),
    [
        ("label.npy", np.array([1, 0, 1]), r"label.npy: expected an array of shape \(N=2\)"),
        ("adjacency_matrix.npy", np.zeros((2, 3, 4)), r"shape \(N=2, n=3, n=3\)"),
        ("influence_feature.npy", np.zeros((2, 3, 3)), r"shape \(N=2, n=3, 2=2\)"),
        ("label.npy", np.array([1, 2]), "labels with values 0 and 1"),
        ("vertex_id.npy", np.array([[0, 1, 4], [2, 1, 0]]), r"vertex ids in \[0, 4\)"),
        ("label.npy", np.array([None, 1], dtype=object), "pickles are never loaded"),
        ("item.npy", np.zeros(3, dtype=np.int64), r"item.npy: expected an array of shape"),
    ],
)
def test_disagreeing_files_name_the_file(
    tmp_path: Path, name: str, array: np.ndarray, message: str
) -> None:
    folder = authors_folder(tmp_path)
    np.save(folder / name, array, allow_pickle=True)
    with pytest.raises(FormatError, match=message):
        read_instances(folder)


def test_bad_flags_and_asymmetry_are_format_errors(tmp_path: Path) -> None:
    folder = authors_folder(tmp_path)
    flags = np.load(folder / "influence_feature.npy")
    flags[0, 0, 1] = 1  # a second ego
    np.save(folder / "influence_feature.npy", flags)
    with pytest.raises(FormatError, match="ego flag"):
        read_instances(folder)
    folder = authors_folder(tmp_path / "b")
    adj = np.load(folder / "adjacency_matrix.npy")
    adj[0, 0, 1] = 1
    np.save(folder / "adjacency_matrix.npy", adj)
    with pytest.raises(FormatError, match="instance 0 is not symmetric"):
        read_instances(folder)
    (folder / "label.npy").unlink()
    with pytest.raises(FormatError, match="a label.npy file"):
        read_instances(folder)


def test_embedding_text(tmp_path: Path) -> None:
    emb = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    path = tmp_path / "deepwalk.emb_3"
    write_embedding(emb, path)
    back, missing = read_embedding(path, 5)
    np.testing.assert_array_equal(back, emb)  # '%.9g' keeps every float32 exactly
    assert missing == 0
    path.write_text("2 3\n0 1 2 3\n1 1 2\n")
    with pytest.raises(FormatError, match="integer id and 3 numbers"):
        read_embedding(path, 5)
    path.write_text("2 3\n0 1 2 3\n7 1 2 3\n")
    with pytest.raises(FormatError, match=r"line 3: expected a vertex id in \[0, 5\)"):
        read_embedding(path, 5)
    path.write_text("two 3\n")
    with pytest.raises(FormatError, match="line 1"):
        read_embedding(path, 5)
