"""Train a small NDM on synthetic cascades and write its loss history and weights: run alone
(``devices=1``) or by `torchrun --nproc_per_node N` with ``devices=N strategy=ddp`` (rank 0
writes). Used by tests/test_ddp.py; not a test module itself.

    python tests/ddp_train.py OUT DEVICES [RUN_DIR [MAX_EPOCHS [resume]]]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from cascadekit.models.ndm import NDM, NDMConfig
from cascadekit.simulate.synthetic import synthetic_cascades
from cascadekit.training import TrainConfig


def main() -> None:
    out, devices = Path(sys.argv[1]), int(sys.argv[2])
    run_dir = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    resume = len(sys.argv) > 5 and sys.argv[5] == "resume"
    torch.set_num_threads(1)
    cascades = synthetic_cascades(40, 200, seed=0).cascades
    n_train = len(cascades) * 4 // 5
    # dropout 0: ranks draw dropout masks for their own rows, so with dropout the runs agree in
    # distribution only
    config = NDMConfig(embedding_dim=16, n_heads=2, head_dim=8, dropout=0.0,
                       attention_dropout=0.0)  # fmt: skip
    train = TrainConfig(max_epochs=epochs, batch_size=16, seed=3, progress=False, select="last",
                        device="cpu", devices=devices,
                        strategy="ddp" if devices > 1 else "auto")  # fmt: skip
    est = NDM(config, train).fit(cascades.subset(range(n_train)),
                                 cascades.subset(range(n_train, len(cascades))),
                                 run_dir=run_dir, resume=resume)  # fmt: skip
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return
    weights = {k: v.tolist() for k, v in est.module_.state_dict().items()}
    losses = [h["train_loss"] for h in est.history_]
    out.write_text(json.dumps({"train_loss": losses, "weights": weights,
                               "valid_nll": [h["valid_nll"] for h in est.history_]}))  # fmt: skip


if __name__ == "__main__":
    main()
