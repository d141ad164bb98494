"""Every results file in ``benchmarks/results/`` and the one command that regenerates it.

    make bench                      # list the entries (name, outputs, quiet machine?, command)
    make bench NAME=ndm_tables_ref_small
    .venv/bin/python benchmarks/bench.py NAME [--dry-run]
    .venv/bin/python benchmarks/bench.py --markdown   # the table of benchmarks/README.md

An entry runs its commands in order from the repository root with ``OMP_NUM_THREADS=1`` (unless
the entry says otherwise) and the real-data mirror from ``CASCADEKIT_MIRROR`` (default:
``../shared/data`` beside the checkout). Entries marked *quiet* are speed figures: run them on a
quiet machine (nothing else running; their files record the load average at start and end, and
this runner warns when the 1-minute load is above 0.5). Results files are keyed and written
atomically, so re-running an entry replaces its runs instead of adding to them.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ".venv/bin/python"
B = "benchmarks"
R = "benchmarks/results"


@dataclass(frozen=True)
class Entry:
    outputs: tuple[str, ...]  # paths under benchmarks/results/
    commands: tuple[str, ...]  # shell commands, run from the repository root
    doc: str
    quiet: bool = False  # a speed figure: needs a quiet machine
    env: dict[str, str] = field(default_factory=dict)
    setup: str = ""  # what must exist first (not done by the runner)


def _tables(args: str, out: str) -> str:
    return f"{PY} {B}/ndm_tables.py {args} --out {R}/{out}"


SEEDS10 = "0 1 2 3 4 5 6 7 8 9"
_SIZE = "--models popularity_features lstm_size deephawkes --seeds 0 1 2"
_DMT = "--models dmt_lic " + " ".join(
    f"dmt_lic_{a}"
    for a in (
        "size_only",
        "activation_only",
        "no_shared_gate",
        "no_user_importance",
        "no_time_decay",
    )
)
TWITTER = "--datasets forest_twitter --seeds 0 --epochs 20"

ENTRIES: dict[str, Entry] = {
    # --- NDM (paper 001) --------------------------------------------------------------------
    "ndm_tables_ref_small": Entry(
        ("ndm_tables_ref_small.json",),
        (
            _tables(
                "--datasets ndm_irvine ndm_memetracker --models ndm_ref --seeds 0 1 2 "
                "--n-samples 1000 --epochs 50",
                "ndm_tables_ref_small.json",
            ),
        ),  # fmt: skip
        "Tables 2/3: ndm/reference_code, 50 epochs, irvine + memetracker, 3 seeds, S = 1000",
    ),
    "ndm_tables_irvine_20epochs": Entry(
        ("ndm_tables_irvine_20epochs.json",),
        (
            _tables(
                "--datasets ndm_irvine --models ndm_ref --seeds 0 1 2 --n-samples 1000 --epochs 20",
                "ndm_tables_irvine_20epochs.json",
            ),
        ),  # fmt: skip
        "irvine ndm/reference_code with the code's 20 epochs (inside the Noam warm-up): why the "
        "preset trains 50",
    ),
    "ndm_tables_small": Entry(
        ("ndm_tables_small.json",),
        (
            _tables(
                "--datasets ndm_memetracker ndm_irvine --models user_frequency lstm_ref "
                "embedded_ic --seeds 0 1 2 --epochs 50",
                "ndm_tables_small.json",
            ),
        ),  # fmt: skip
        "baselines on irvine + memetracker: user_frequency, lstm/reference_code, "
        "embedded_ic/reference, 50 epochs, 3 seeds",
    ),
    "ndm_tables": Entry(
        ("ndm_tables.json",),
        (
            _tables(
                "--datasets ndm_irvine --models ndm lstm --seeds 0 1 2 --epochs 50",
                "ndm_tables.json",
            ),
        ),  # fmt: skip
        "irvine: ndm/paper and lstm/nll_selection (≤ 50 epochs, early stopping), 3 seeds",
    ),
    "ndm_tables_ref_lastfm": Entry(
        ("ndm_tables_ref_lastfm.json",),
        (
            _tables(
                "--datasets ndm_lastfm --models ndm_ref --seeds 0 1 2 --epochs 20",
                "ndm_tables_ref_lastfm.json",
            ),
        ),  # fmt: skip
        "Tables 2/3 lastfm: ndm/reference_code, 20 epochs (the code's), 3 seeds",
    ),
    "ndm_tables_lastfm": Entry(
        ("ndm_tables_lastfm.json",),
        (
            _tables(
                "--datasets ndm_lastfm --models user_frequency lstm_ref embedded_ic --seeds 0 "
                "--epochs 20",
                "ndm_tables_lastfm.json",
            ),
        ),  # fmt: skip
        "lastfm baselines, 20 epochs, seed 0",
    ),
    **{
        f"ndm_tables_ref_twitter_seed{k}": Entry(
            (f"ndm_tables_ref_twitter_seed{k}.json",),
            (
                _tables(
                    f"--datasets forest_twitter --models ndm_ref --seeds {k} --epochs 20",
                    f"ndm_tables_ref_twitter_seed{k}.json",
                ),
            ),  # fmt: skip
            f"Twitter: ndm/reference_code_init, 20 epochs, seed {k} (≈ 16 min fit + 30 min "
            "identification; one seed per core, one file per seed)",
        )
        for k in (0, 1, 2)
    },
    "ndm_tables_twitter": Entry(
        ("ndm_tables_twitter.json",),
        (
            _tables(
                "--datasets forest_twitter --models lstm_ref --seeds 0 --epochs 50",
                "ndm_tables_twitter.json",
            ),
        ),  # fmt: skip
        "Twitter lstm/reference_code, 50 epochs, seed 0",
    ),
    "ndm_tables_twitter_lstm_20epochs": Entry(
        ("ndm_tables_twitter_lstm_20epochs.json",),
        (_tables(f"{TWITTER} --models lstm_ref", "ndm_tables_twitter_lstm_20epochs.json"),),
        "Twitter lstm/reference_code, 20 epochs (undertrained: kept as its own file)",
    ),
    "ndm_tables_twitter_eic": Entry(
        ("ndm_tables_twitter_eic.json",),
        (_tables(f"{TWITTER} --models embedded_ic", "ndm_tables_twitter_eic.json"),),
        "Twitter embedded_ic/reference, ≤ 20 epochs, seed 0",
    ),
    "ndm_tables_twitter_noinit": Entry(
        ("ndm_tables_twitter_noinit.json",),
        (_tables(f"{TWITTER} --models ndm_ref_noinit", "ndm_tables_twitter_noinit.json"),),
        "Twitter ablation: ndm/reference_code (no F_init), 20 epochs, seed 0",
    ),
    "ndm_tables_twitter_s100": Entry(
        ("ndm_tables_twitter_s100.json",),
        (
            _tables(
                "--datasets forest_twitter --models user_frequency --seeds 0 --n-samples 100",
                "ndm_tables_twitter_s100.json",
            ),
        ),  # fmt: skip
        "Twitter user_frequency at S = 100",
    ),
    "ndm_tables_sn": Entry(
        ("ndm_tables_sn.json",),
        (
            _tables(
                "--datasets mshgat_christianity --models ndm_ref ndm_sn_ref --seeds 0 1 2 "
                "--epochs 50",
                "ndm_tables_sn.json",
            ),
            _tables(
                "--datasets mshgat_android --models ndm_ref ndm_sn_ref --seeds 0 --epochs 50",
                "ndm_tables_sn.json",
            ),
        ),  # fmt: skip
        "NDM+SN (§5.4): ndm/reference_code vs ndm_sn/reference_code, 50 epochs; christianity 3 "
        "seeds, android seed 0",
    ),
    "ndm_ranking": Entry(
        ("ndm_ranking.json",),
        (
            f"{PY} {B}/ndm_ranking.py --datasets mshgat_christianity mshgat_android "
            "forest_memetracker forest_twitter --epochs 30 --patience 5",
        ),  # fmt: skip
        "next-user hits@k / MAP@k: ndm/paper, ndm_sn/paper (select = task), lstm/default",
    ),
    "ndm_batching": Entry(
        ("ndm_batching.jsonl",),
        tuple(f"{PY} {B}/ndm_batching.py --pool {p}" for p in (1, 50, 200)),
        "random (bucket_pool 1) vs length-bucketed (50, 200) batches: same F1? (lastfm, "
        "ndm/reference_code, 20 epochs, S = 1000; pool 1 ≈ 25 min fit)",
    ),
    "ndm_first_step": Entry(
        ("ndm_first_step.json",),
        (f"{PY} {B}/ndm_first_step.py",),
        "lastfm: the first generated user scored before / after the LayerNorm, same weights",
    ),
    "ndm_speed": Entry(
        ("ndm_speed.json",),
        (f"{PY} {B}/ndm_speed.py --threads 2",),
        "NDM epoch time on lastfm with bucket_pool 200 (ours) and 1 (random, as the authors' "
        "46–50 s/epoch), identification time and memory; 2 threads as the authors' timings",
        quiet=True,
        env={"OMP_NUM_THREADS": "2"},
    ),
    "ndm_report": Entry(
        ("ndm_report.md", "ndm_report_*.png"),
        (f"{PY} {B}/ndm_report.py",),
        "the NDM report from the JSON files above (run after them)",
    ),
    # --- MIC (paper 002) --------------------------------------------------------------------
    "hawkes_simulation_vs_tick": Entry(
        ("hawkes_simulation_vs_tick.json",),
        (f"{PY} {B}/hawkes_simulation_vs_tick.py --tick-python /tmp/tickenv/bin/python",),
        "IC simulation speed and log-likelihood agreement vs tick",
        quiet=True,
        setup="tick in its own virtualenv: python3 -m venv /tmp/tickenv && "
        "/tmp/tickenv/bin/pip install -c constraints.txt tick numpydoc six numpy",
    ),
    "mic_fit_scaling": Entry(
        ("mic_fit_scaling.json",),
        (f"{PY} {B}/mic_fit_scaling.py",),
        "MIC log-likelihood speed, fit time vs events and 1 / 2 workers",
        quiet=True,
    ),
    "mic_recovery": Entry(
        ("mic_recovery.json",),
        (f"{PY} {B}/mic_recovery.py --seeds {SEEDS10} --branching 0.3 0.6",),
        "Fig. 3 recovery, T = 500, ρτ = 0.3 and 0.6, 10 seeds",
    ),
    "mic_recovery_t1000": Entry(
        ("mic_recovery_t1000.json",),
        (
            f"{PY} {B}/mic_recovery.py --seeds {SEEDS10} --branching 0.3 --t-end 1000 "
            f"--out {R}/mic_recovery_t1000.json",
        ),  # fmt: skip
        "Fig. 3 recovery at T = 1000, ρτ = 0.3, 10 seeds",
    ),
    "mic_recovery_from_truth": Entry(
        ("mic_recovery_from_truth.json",),
        (
            f"{PY} {B}/mic_recovery.py --seeds {SEEDS10} --branching 0.3 --from-truth "
            f"--out {R}/mic_recovery_from_truth.json",
        ),  # fmt: skip
        "Fig. 3 recovery started at the truth (estimator spread vs optimiser), 10 seeds",
    ),
    "mic_recovery_consistency": Entry(
        ("mic_recovery_consistency.jsonl",),
        (f"{PY} {B}/mic_recovery_consistency.py --seeds 0 1 2",),
        "converged fits at T = 500 / 2000 / 8000 (≈ 14 min a seed at T = 8000)",
    ),
    "mic_fig2": Entry(
        ("mic_fig2.json", "mic_fig2.png"),
        (f"{PY} {B}/mic_fig2.py",),
        "Fig. 2 ratio heatmaps, T = 100, 3 reps (≈ 15 min)",
    ),
    "mic_fig2_t500": Entry(
        ("mic_fig2_t500.json", "mic_fig2_t500.png"),
        (f"{PY} {B}/mic_fig2.py --betas 10 100 --t-end 500 --out mic_fig2_t500",),
        "Fig. 2 at T = 500 for β = 10, 100",
    ),
    "mic_real": Entry(
        ("mic_real.json", "mic_real/music2_*", "mic_real/url_*"),
        (f"{PY} {B}/mic_real.py --only music2 url",),
        "real data (music2, url): IC, linMIC, CC, MIC on the test events",
    ),
    "mic_real_lastfm": Entry(
        ("mic_real_lastfm.json", "mic_real/lastfm_*"),
        (f"{PY} {B}/mic_real.py --only lastfm --out {R}/mic_real_lastfm.json",),
        "real data (lastfm top-5 tags)",
    ),
    "mic_real_stationary": Entry(
        ("mic_real_stationary.json", "mic_real/*_b0.9_*"),
        (
            f"{PY} {B}/mic_real.py --only music2 url --max-branching 0.9 "
            f"--out {R}/mic_real_stationary.json",
        ),  # fmt: skip
        "real data, every fit constrained stationary (max_branching 0.9)",
    ),
    "mic_fig4": Entry(
        ("mic_fig4.json", "mic_fig4_music2.png", "mic_fig4_url.png"),
        (f"{PY} {B}/mic_fig4.py",),
        "Fig. 4a/d: test log-likelihood vs training data available",
    ),
    "c4_adjacency_direction": Entry(
        ("c4_adjacency_direction.json",),
        (f"{PY} {B}/c4_adjacency_direction.py",),
        "which way the C4 adjacency arcs point (IC fitted both ways)",
    ),
    "mic_report": Entry(
        ("mic_report.md",),
        (f"{PY} {B}/mic_report.py",),
        "the MIC report from the JSON files above (run after them)",
    ),
    # --- DeepInf (paper 004): data side ---------------------------------------------------------
    "vertex_features": Entry(
        ("vertex_features.json",),
        (f"{PY} {B}/vertex_features.py",),
        "the 7 structural features, ours (scipy sparse) vs networkx: time, peak memory, "
        "agreement on MelCup17's graph and a 10⁶-edge synthetic graph",
        quiet=True,
    ),
    "influence_build": Entry(
        ("influence_build.json",),
        (f"{PY} {B}/influence_build.py",),
        "instance builder: instances/s and peak memory (MelCup17, 10⁶-edge synthetic), and the "
        "counts of every filter on MelCup17, android, christianity, lastfm for each preset",
        quiet=True,
    ),
    "influence_planted": Entry(
        ("influence_planted.json",),
        (f"{PY} {B}/influence_planted.py",),
        "planted truth: LT cascades on Last.fm's friend graph and a 1000-user community graph vs "
        "the same cascades with random adopters; DeepInf-GAT (all inputs, flags only), LR; AUC, "
        "3 seeds (≈ 40 min)",
    ),
    "influence_table": Entry(
        ("influence_table.json",),
        (
            f"{PY} {B}/influence_table.py --epochs 20 --set batch_size=256 --set optimizer=adam "
            "--set lr=0.001 --set weight_decay=0",
            f"{PY} {B}/influence_table.py --epochs 40 --set batch_size=256 --models deepinf_gat "
            "--splits random --datasets melcup17_darwin_twitter_influence --seeds 0",
        ),
        "DeepInf-GAT, DeepInf-GCN, PSCN, LR, SVM on MelCup17, android, christianity, lastfm; "
        "random (paper) and time (leakage-safe) splits; AUC, P, R, F1, 3 seeds (≤ 20 epochs of "
        "Adam: the CPU budget); the paper's Adagrad 0.1 on MelCup17 GAT for comparison",
    ),
    "deepinf_gat_vs_pyg": Entry(
        ("deepinf_gat_vs_pyg.json",),
        (
            f"PYTHONPATH=/tmp/pyg {PY} {B}/deepinf_gat_vs_pyg.py --epochs 10 --set batch_size=256 "
            "--set optimizer=adam --set lr=0.001 --set weight_decay=0",
        ),
        "DeepInf-GAT epoch time and test AUC, our dense layers vs PyG GATConv, same instances "
        "(MelCup17), seed and training",
        quiet=True,
        setup=".venv/bin/pip install --target /tmp/pyg --no-deps torch_geometric==2.8.1 xxhash "
        "aiohttp fsspec pyparsing psutil multidict yarl aiosignal frozenlist attrs "
        "aiohappyeyeballs propcache requests urllib3 idna charset_normalizer certifi",
    ),
    "influence_report": Entry(
        ("influence_report.md", "influence_auc.png"),
        (f"{PY} {B}/influence_report.py",),
        "the DeepInf report from the JSON files above (run after them)",
    ),
    "scaling": Entry(
        ("scaling.json",),
        (f"{PY} {B}/scaling.py",),
        "identification (ndm_lastfm) and the MIC fit (C4 url) in this process and on 1 and 2 "
        "workers of loky, Ray and Dask: agreement, engine overhead, projection to 8 / 64 workers",
        quiet=True,
    ),
    "popularity_speed": Entry(
        ("popularity_speed.json",),
        (f"{PY} {B}/popularity_speed.py",),
        "DMT-LIC, DeepHawkes and MMCAs on CED at T_o = 1 h: seconds per epoch and peak memory, "
        "each model in its own process",
        quiet=True,
    ),
    # --- popularity (DMT-LIC issue): the size baselines ---------------------------------------
    "popularity_table": Entry(
        ("popularity_weibo_deephawkes_obs1h.json", "popularity_ced_weibo_rumor.json"),
        (
            f"{PY} {B}/popularity_table.py --datasets weibo_deephawkes_obs1h {_SIZE} --epochs 30",
            f"{PY} {B}/popularity_table.py --datasets ced_weibo_rumor {_SIZE} --epochs 10",
            f"{PY} {B}/popularity_table.py --datasets weibo_deephawkes_obs1h {_DMT} ndm lstm "
            "--seeds 0 1 2 --epochs 30",
            f"{PY} {B}/popularity_table.py --datasets ced_weibo_rumor {_DMT} --seeds 0 1 2 "
            "--epochs 10 --set min_user_count=2",
        ),
        "size baselines, DMT-LIC and its ablations, NDM and LSTM activation baselines: MSLE / "
        "MAPE (both families), MRR, A@5, A@10, 3 seeds; deephawkes Weibo (shipped split, ≤ 30 "
        "epochs), CED at T_o = 0.5 h and 1 h, time-ordered and random 70/15/15 (≤ 10 epochs: the "
        "2-core budget, not converged; DMT-LIC with min_user_count 2)",
    ),
    "mmcas_planted": Entry(
        ("mmcas_planted.json",),
        (
            f"{PY} {B}/mmcas_planted.py",
            f"{PY} {B}/mmcas_planted.py --growth alone --set perturbation=shuffle "
            "--set gate_width=0.5",
            f"{PY} {B}/mmcas_planted.py --growth alone --set perturbation=shuffle "
            "--set gate_width=0.5 --set lambda1=5",
        ),
        "planted modality: synthetic_multimodal cascades whose growth the text or the poster's "
        "followers sets; MMCAs vs single-modality presets (test MSLE) and the mean expert "
        "weights, 3 seeds; the paper preset, then the steps to the interpretable preset "
        "(≈ 90 min)",
    ),
    "mmcas_table": Entry(
        ("mmcas/popularity_ced_weibo_rumor.json",),
        (
            f"{PY} {B}/popularity_table.py --datasets ced_weibo_rumor --models mmcas "
            "mmcas_concat mmcas_no_text mmcas_no_user mmcas_no_cascade mmcas_interpretable "
            "mmcas_transformer mmcas_switch --seeds 0 1 2 --epochs 10 --set ode_method=rk4 "
            "--results benchmarks/results/mmcas",
            f"{PY} {B}/popularity_table.py --datasets ced_weibo_rumor --models mmcas "
            "mmcas_interpretable --seeds 0 --obs 1800 --orders time --epochs 10 "
            "--results benchmarks/results/mmcas",
        ),
        "MMCAs, its fusion variants and modality ablations on CED at T_o = 0.5 h and 1 h, "
        "time-ordered and random 70/15/15: MSLE / MAPE (both families), 3 seeds, ≤ 10 epochs, "
        "the ODE by one RK4 step per inter-event interval (faster than the reference code's "
        "dopri5: popularity_speed; the second command runs dopri5 on one cell for comparison; "
        "read beside the popularity baselines by popularity_report)",
    ),
    "popularity_activation": Entry(
        ("activation/popularity_ced_weibo_rumor.json",),
        (
            f"{PY} {B}/popularity_table.py --datasets ced_weibo_rumor --models lstm ndm "
            "--set min_user_count=2 --seeds 0 1 2 --epochs 10 --results benchmarks/results/activation",
        ),
        "NDM and LSTM next-user baselines on CED over the users known from training "
        "(min_user_count 2): MRR, A@5, A@10 beside DMT-LIC's (read by popularity_report)",
    ),
    "popularity_report": Entry(
        (
            "popularity_report.md",
            "popularity_msle_weibo_deephawkes_obs1h.png",
            "popularity_msle_ced_weibo_rumor.png",
        ),
        (f"{PY} {B}/popularity_report.py",),
        "the popularity report from the JSON files above (run after them)",
    ),
    # --- data ---------------------------------------------------------------------------------
    "dataset_cache": Entry(
        ("dataset_cache.json",),
        (f"{PY} {B}/dataset_cache.py",),
        "datasets.load cold vs warm (processed cache) load times",
        quiet=True,
    ),
    # --- reliability ----------------------------------------------------------------------------
    "hostile_sweep": Entry(
        ("hostile_sweep.json",),
        (f"{PY} {B}/hostile_sweep.py",),
        "bad-input and fault cases against the CLI (readers, registry, writes, runs, options, "
        "simulate, archives): clear error / traceback / silent wrong / data loss per class "
        "(≈ 5 min; shares the machine: run it under nice)",
    ),
}


def listing() -> str:
    width = max(map(len, ENTRIES))
    lines = [f"{'NAME':<{width}}  quiet  outputs (benchmarks/results/)"]
    for name, e in ENTRIES.items():
        lines.append(f"{name:<{width}}  {'yes' if e.quiet else '   '}    {', '.join(e.outputs)}")
    lines += ["", "make bench NAME=<name> runs its command(s); --dry-run prints them."]
    return "\n".join(lines)


def markdown() -> str:
    lines = [
        "| `make bench NAME=…` | results file(s) | quiet machine | command(s) | what |",
        "|---|---|---|---|---|",
    ]
    for name, e in ENTRIES.items():
        cmds = "<br>".join(f"`{c}`" for c in e.commands)
        outs = ", ".join(f"`{o}`" for o in e.outputs)
        doc = e.doc + (f" (first: {e.setup})" if e.setup else "")
        lines.append(f"| {name} | {outs} | {'yes' if e.quiet else ''} | {cmds} | {doc} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", nargs="?", help="an entry (none: list them)")
    ap.add_argument("--dry-run", action="store_true", help="print the commands only")
    ap.add_argument("--markdown", action="store_true", help="the README table")
    args = ap.parse_args()
    if args.markdown:
        print(markdown())
        return
    if not args.name:
        print(listing())
        return
    if args.name not in ENTRIES:
        sys.exit(f"unknown entry {args.name!r}\n\n{listing()}")
    entry = ENTRIES[args.name]
    env = {"OMP_NUM_THREADS": "1", **os.environ, **entry.env}
    env.setdefault("CASCADEKIT_MIRROR", str((ROOT.parent / "shared" / "data").resolve()))
    if entry.setup:
        print(f"needs first: {entry.setup}")
    if entry.quiet:
        load = os.getloadavg()[0]
        print(f"speed figure: run on a quiet machine (1-minute load now {load:.2f})")
        if load > 0.5:
            print("warning: the machine is busy; the timings will say so (loadavg recorded)")
    for cmd in entry.commands:
        print(f"$ {cmd}", flush=True)
        if not args.dry_run:
            argv = shlex.split(cmd)
            if argv[0] == PY:  # this interpreter (the Makefile's $(VENV) may not be .venv)
                argv[0] = sys.executable
            subprocess.run(argv, cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()
