"""``datasets.load`` with the processed cache: first (cold) and later (warm) load times.

For each dataset and round: an empty ``CASCADEKIT_HOME`` in a temp folder (so the raw files are
hashed, parsed and the bundle saved: what a first ever load costs), then ``--warm`` loads that read
the cached bundle, then one ``cache=False`` load (parse only; the raw hashes are known by then).
The raw files' sha256 time is measured on its own. All in one process, with pyarrow and the reader
imported beforehand, so import time is in none of the numbers. The warm bundle is checked to be
identical to the parsed one. Needs the mirror. A speed figure: run it on a quiet machine. Writes
``benchmarks/results/dataset_cache.json`` with its provenance (`_provenance`):

    CASCADEKIT_MIRROR=../shared/data .venv/bin/python benchmarks/dataset_cache.py
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet  # noqa: F401  (imported before timing: a cold load's import is not its cost)
from _provenance import RESULTS, ROOT, write_json

from cascadekit import datasets

OUT = RESULTS / "dataset_cache.json"
sys.path.insert(0, str(ROOT / "tests"))
from fake_registry import bundle_differences  # noqa: E402


def timed(fn: Any) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench(name: str, rounds: int, warm: int) -> dict[str, Any]:
    spec = datasets.get(name)
    module = importlib.import_module(f"cascadekit.data.formats.{spec.reader.split(':')[0]}")
    folder = datasets.mirror_root() / name
    sha_s, _ = timed(lambda: [datasets.sha256_file(folder / f.path) for f in spec.files])
    out: dict[str, Any] = {
        "files_bytes": spec.size,
        "raw_sha256_seconds": round(sha_s, 3),
        "reader": spec.reader,
        "reader_version": datasets.reader_version(module),
        "rounds": [],
    }
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as home:
            os.environ[datasets.HOME_ENV] = home
            cold_s, _ = timed(lambda: datasets.load(name, progress=False, download=False))
            warm_s = []
            for _ in range(warm):
                cached = None  # one bundle in memory at a time
                seconds, cached = timed(lambda: datasets.load(name, download=False))
                warm_s.append(seconds)
            parse_s, parsed = timed(lambda: datasets.load(name, download=False, cache=False))
            [entry] = (Path(home) / "processed" / name).iterdir()
            out["cache_entry_bytes"] = sum(p.stat().st_size for p in entry.iterdir())
            diffs = bundle_differences(parsed, cached)
        out["rounds"].append(
            {
                "cold_seconds": round(cold_s, 3),
                "warm_seconds": [round(s, 3) for s in warm_s],
                "uncached_parse_seconds": round(parse_s, 3),
                "warm_identical_to_parsed": not diffs,
                **({"differences": diffs[:10]} if diffs else {}),
            }
        )
        del cached, parsed
        print(name, out["rounds"][-1], flush=True)
    rs = out["rounds"]
    out["cold_seconds_median"] = statistics.median(r["cold_seconds"] for r in rs)
    out["warm_seconds_median"] = statistics.median(s for r in rs for s in r["warm_seconds"])
    out["cold_over_warm"] = round(out["cold_seconds_median"] / out["warm_seconds_median"], 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["ced_weibo_rumor", "ndm_lastfm"])
    ap.add_argument("--rounds", type=int, default=2, help="cold loads per dataset (fresh home)")
    ap.add_argument("--warm", type=int, default=3, help="warm loads after each cold one")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if datasets.mirror_root() is None:
        sys.exit(f"set {datasets.MIRROR_ENV} to the dataset mirror (e.g. ../shared/data)")
    for name in args.datasets:  # the readers' imports are not part of any timing
        importlib.import_module(
            f"cascadekit.data.formats.{datasets.get(name).reader.split(':')[0]}"
        )
    results = {name: bench(name, args.rounds, args.warm) for name in args.datasets}
    record = {
        "configuration": {
            "datasets": args.datasets,
            "rounds": args.rounds,
            "warm_loads_per_round": args.warm,
            "mirror": os.environ[datasets.MIRROR_ENV],
            "processed_cache_version": datasets.PROCESSED_CACHE_VERSION,
            "home": "fresh temporary CASCADEKIT_HOME per round",
        },
        "numpy_blas": np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"],
        "quiet_machine_needed": True,
        "results": results,
    }
    write_json(args.out, record)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
