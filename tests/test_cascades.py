"""`CascadeSet`'s per-adoption columns (``events``) stay row-aligned through every view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary


def three() -> CascadeSet:
    return CascadeSet(
        np.array([0, 1, 2, 3, 4, 0, 2]), np.array([0, 3, 5, 7]), Vocabulary.range(5),
        times=np.array([0.0, 1.0, 2.0, 0.0, 5.0, 0.0, 3.0]),
        events={"text": np.array(["a0", "a1", "a2", "b0", "b1", "c0", "c1"], dtype=object),
                "likes": np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])},
    )  # fmt: skip


def test_subset_prefix_and_concat_keep_rows_aligned() -> None:
    c = three()
    sub = c.subset([2, 0])
    assert sub.events["text"].tolist() == ["c0", "c1", "a0", "a1", "a2"]
    pre = c.prefix(max_len=2, before=np.array([1.5, 9.0, 1.0]))
    assert pre.events["text"].tolist() == ["a0", "a1", "b0", "b1", "c0"]
    assert pre.events["likes"].tolist() == [1.0, 2.0, 4.0, 5.0, 6.0]
    other = c.subset([1])
    other.events = {"text": other.events["text"]}  # only the columns every part has survive
    both = CascadeSet.concat([c.subset([0]), other])
    assert both.events.keys() == {"text"}
    assert both.events["text"].tolist() == ["a0", "a1", "a2", "b0", "b1"]


def test_parquet_round_trips_the_columns(tmp_path: Path) -> None:
    c = three()
    c.to_parquet(tmp_path / "c.parquet")
    back = CascadeSet.from_parquet(tmp_path / "c.parquet")
    assert back.events["text"].dtype == object
    assert back.events["text"].tolist() == c.events["text"].tolist()
    np.testing.assert_array_equal(back.events["likes"], c.events["likes"])


def test_a_column_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"events\['text'\] has 2 rows, users has 3"):
        CascadeSet(np.array([0, 1, 2]), np.array([0, 3]), Vocabulary.range(3),
                   events={"text": np.array(["x", "y"], dtype=object)})  # fmt: skip
