"""Where a task evaluates a model and how much of that device one batch may fill."""

from __future__ import annotations

from typing import Any

import torch

# scores (float32) one CPU batch may hold (≈ 80 MB per tensor of this many): with large
# vocabularies (Twitter: 12,627 users) this, not a row limit, bounds the batch
SCORE_BUDGET = 20_000_000


def device_of(model: Any) -> torch.device:
    params = list(model.parameters()) if isinstance(model, torch.nn.Module) else []
    return params[0].device if params else torch.device("cpu")


def resolve_device(model: Any, device: str) -> torch.device:
    """``"auto"``: a GPU when present (for a torch model), else where the model is."""
    if device == "auto":
        if torch.cuda.is_available() and isinstance(model, torch.nn.Module):
            return torch.device("cuda")
        return device_of(model)
    return torch.device(device)


def score_budget(device: torch.device) -> int:
    """Scores one batch may hold: `SCORE_BUDGET` on the CPU, a share of the free memory on a
    GPU (a decoding step keeps about eight float tensors of that size alive)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(SCORE_BUDGET, free // (4 * 8))
    return SCORE_BUDGET
