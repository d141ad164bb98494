"""`cascadekit datasets stats NAME --json` reproduces the counts in each dataset's SOURCE.md.

Definitional differences, stated once here: users = distinct adopters (graph-only users are in the
vocabulary but not counted); MS-HGAT seeds are not adoptions; raw Weibo paths that reach a user a
second time are not new adoptions (SOURCE.md counts path items); CED counts add the 3,387 source
posters and drop repeated reposters; the DeepHawkes subset's SOURCE.md "~60k users" is a sum of
per-split distinct users, ours is distinct over all splits.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cascadekit import datasets
from cascadekit.cli import app


def stats(name: str, *options: str) -> dict:
    res = CliRunner().invoke(app, ["datasets", "stats", name, "--json", *options])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def counts(block: dict) -> tuple[int, int, int]:
    return block["cascades"], block["events"], block["users"]


CASCADE_DATA = {
    # name: (cascades, events, users) from SOURCE.md
    "ndm_irvine": (471, 6419, 540),
    "ndm_lastfm": (23802, 182282, 982),
    "ndm_memetracker": (8304, 70031, 498),
    "forest_twitter": (3461, 135559, 12627),
    "forest_memetracker": (12663, 207185, 4709),
    "mshgat_android": (679, 28343, 2925),
    "mshgat_christianity": (589, 14738, 1645),
    "weibo_casflow_sample": (30, 7147 - 51, 6962),  # 51 repeat paths
}


@pytest.fixture(autouse=True)
def _mirror(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, str(mirror))


@pytest.mark.parametrize("name", sorted(CASCADE_DATA))
def test_cascade_datasets(name: str) -> None:
    assert counts(stats(name)["cascades"]) == CASCADE_DATA[name]


def test_graphs_and_splits() -> None:
    assert stats("mshgat_android")["graph"]["arcs"] == 48573
    assert stats("mshgat_christianity")["graph"]["nodes_with_edges"] == 2897
    s = stats("forest_twitter")["splits"]
    assert [s[k]["cascades"] for k in ("train", "valid", "test")] == [2768, 347, 346]
    d = stats("weibo_deephawkes_obs1h")
    assert [d["splits"][k]["cascades"] for k in ("train", "valid", "test")] == [831, 178, 178]


def test_event_logs() -> None:
    music2 = stats("c4_music2_url")
    assert music2["events"]["events"] == 79065 and music2["graph"]["arcs"] == 122
    url = stats("c4_music2_url", "--set", "which=url")
    assert [url["event_splits"][k]["events"] for k in ("train", "test")] == [157409, 94027]
    lastfm = stats("lastfm_hetrec2011_2k")
    assert (lastfm["events"]["events"], lastfm["events"]["users"]) == (186479, 1892)
    assert lastfm["graph"]["arcs"] == 25434 and lastfm["graph"]["edges"] == 12717  # symmetric pairs


def test_influence_and_multimodal_data() -> None:
    mel = stats("melcup17_darwin_twitter_influence")
    assert mel["cascades"]["cascades"] == 4028 and mel["graph"]["arcs"] == 70756
    assert mel["graph"]["nodes"] == 1484
    ced = stats("ced_weibo_rumor")
    # 3,387 source posts; 1,275,180 reposts + 3,387 roots − 48,731 repeated reposters
    assert ced["cascades"]["cascades"] == 3387
    assert ced["cascades"]["events"] == 1275180 + 3387 - 48731
