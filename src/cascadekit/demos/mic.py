"""MIC scenario of `cascadekit quickstart --scenario mic` (< 1 min): simulate a 20-user, 3-cascade
MIC log, fit MIC with the true τ and β through the ordinary pipeline (an ordinary run folder that
`cascadekit evaluate` and `report` read), evaluate on the last 20 % of events, write the run
report (with the analytic curve of the true parameters, Fig. 3) and ``summary.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cascadekit import pipeline
from cascadekit.report.run_report import report_run
from cascadekit.simulate.synthetic import synthetic_mic

DATA_OPTIONS = {"n_users": 20, "t_end": 300.0, "beta": 5.0, "sigma21": 0.7}


def mic_demo(out_dir: str | Path, seed: int = 0) -> dict[str, Any]:
    """Returns the summary: test log-likelihood, simulated-vs-real agreement, Σ true / fitted."""
    out_dir = Path(out_dir)
    _, truth = synthetic_mic(seed=seed, **DATA_OPTIONS)
    pipeline.train(
        "mic", "synthetic_mic", out_dir, seed=seed, data_options=DATA_OPTIONS,
        options={"tau": truth.tau, "beta": truth.beta, "max_iter": 30},
    )  # fmt: skip
    result = pipeline.evaluate(out_dir, options={"n_simulations": 5})
    report_run(out_dir, truth=truth)
    _, model = pipeline.load_run(out_dir)
    m = result["metrics"]
    summary = {
        "test_loglik": m["test_loglik"],
        "test_loglik_per_event": m["test_loglik_per_event"],
        "overall": m["overall"],
        "Sigma_true": truth.Sigma.tolist(),
        "Sigma_fitted": model.params_.Sigma.round(4).tolist(),
        "max_abs_Sigma_error": float(np.abs(model.params_.Sigma - truth.Sigma).max()),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
