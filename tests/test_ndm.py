"""NDM (paper 001 eq. 1–7): incremental decoding = full pass, causality, presets, fit/save/load."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from cascadekit import registry
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.vocab import Vocabulary
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import end_token
from cascadekit.models.batching import encode_padded
from cascadekit.models.ndm import NDM, NDMConfig, NDMNet
from cascadekit.models.sequence import next_user_loss
from cascadekit.tasks.next_user import evaluate_next_user
from cascadekit.training import TrainConfig

torch.set_num_threads(1)
TINY = dict(embedding_dim=16, n_heads=2, head_dim=8)


@pytest.mark.parametrize("use_init", [False, True])
@pytest.mark.parametrize("start", [1, 2, 4])
def test_begin_step_match_full_pass(use_init: bool, start: int) -> None:
    torch.manual_seed(0)
    net = NDMNet(30, NDMConfig(**TINY, use_init=use_init, output_bias=True)).eval()
    seq = torch.tensor([[4, 9, 1, 17, 22, 3, 8, 11], [5, 2, 29, 0, 13, 7, 6, 19]])
    with torch.no_grad():
        full = net.logits(seq)
        lg, state = net.begin(seq[:, :start])
        steps = [lg]
        for t in range(start, seq.shape[1]):
            lg, state = net.step(state, seq[:, t])
            steps.append(lg)
    assert torch.allclose(torch.stack(steps, 1), full[:, start - 1 :], atol=1e-5)


def test_reference_first_step_skips_layernorm_only_there() -> None:
    """first_step_layernorm=False (the authors' LayerNormalization passes length-1 inputs
    through): from the seed alone, the first scores use act(u_0) before the LayerNorm — the conv
    tap of the newest position applied to emb + W^O·att — and every later step equals the
    normalised model's."""
    torch.manual_seed(0)
    normal = NDMNet(20, NDMConfig(**TINY, output_bias=True)).eval()
    quirk = NDMNet(20, NDMConfig(**TINY, output_bias=True, first_step_layernorm=False)).eval()
    quirk.load_state_dict(normal.state_dict())
    seq = torch.tensor([[4, 9, 1, 17], [5, 2, 19, 0]])
    with torch.no_grad():
        emb = normal._embed(seq[:, :1])
        att = normal.proj(normal.qkv(emb)[..., 2 * 16 :])  # one key: attention weight 1 on v
        want = (emb + att)[:, 0] @ normal.conv.weight[:, :, -1].T + normal.conv.bias
        first_q, state_q = quirk.begin(seq[:, :1])
        first_n, state_n = normal.begin(seq[:, :1])
        assert torch.allclose(first_q, want, atol=1e-5)
        assert not torch.allclose(first_q, first_n, atol=1e-3)
        assert torch.allclose(quirk.logits(seq[:, :1])[:, 0], first_q, atol=1e-6)
        for t in range(1, seq.shape[1]):
            lq, state_q = quirk.step(state_q, seq[:, t])
            ln, state_n = normal.step(state_n, seq[:, t])
            assert torch.allclose(lq, ln, atol=1e-6)
        # teacher-forced scoring (length ≥ 2) is untouched
        assert torch.allclose(quirk.logits(seq), normal.logits(seq), atol=1e-6)


def test_causal_and_padding_free() -> None:
    torch.manual_seed(0)
    net = NDMNet(12, NDMConfig(**TINY)).eval()
    a = torch.tensor([[1, 2, 3, 4, 5]])
    b = torch.tensor([[1, 2, 3, 9, 13]])  # later positions differ (13 = PAD)
    with torch.no_grad():
        assert torch.allclose(net.logits(a)[:, :3], net.logits(b)[:, :3], atol=1e-6)
    assert net.logits(a).shape == (1, 5, 13)


def test_window_term_is_position_specific_projection_sum() -> None:
    """Eq. 6: the score after u_j is Σ_n W^C_n act(u_{j−n}) — recompute it from the active
    embeddings with the conv weights, taps reversed (tap win−1−n sees u_{j−n})."""
    torch.manual_seed(0)
    cfg = NDMConfig(**TINY)
    net = NDMNet(10, cfg).eval()
    seq = torch.tensor([[3, 1, 4, 0, 5]])
    with torch.no_grad():
        emb = net._embed(seq)
        q, k, v = net._heads(emb)
        att = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        act = net.norm(net._residual(emb, att))[0]  # (L, d)
        w = net.conv.weight  # (V+1, d, win)
        for j in range(seq.shape[1]):
            ref = sum(
                w[:, :, cfg.window - 1 - n] @ act[j - n] for n in range(cfg.window) if j - n >= 0
            )
            assert torch.allclose(net.logits(seq)[0, j], ref, atol=1e-5)


def preset(name: str, **overrides: object) -> NDMConfig:
    return registry.model("ndm").configs(name, overrides)[1]


def test_presets() -> None:
    spec = registry.model("ndm")
    _, paper, paper_tc = spec.configs("paper")
    _, ref, tc = spec.configs("reference_code")
    assert spec.default_preset == "reference_code"
    assert (paper.embedding_dim, paper.n_heads, paper.window) == (64, 8, 3)
    assert paper.end_weight == 1.0 and ref.end_weight == 0.0 and ref.output_bias
    assert paper.first_step_layernorm and not ref.first_step_layernorm
    assert tc.schedule == {"name": "noam", "warmup_steps": 1000, "d_model": 64}
    assert tc.max_epochs == 50 and tc.select == "last" and paper_tc.select == "nll"
    assert tc.betas == (0.9, 0.98) and tc.eps == 1e-9 and tc.batch_size == 32
    assert spec.configs("reference_code_init")[1].use_init
    with pytest.raises(CascadeKitError, match="ndm has no preset 'nope'"):
        spec.configs("nope")


def test_reference_code_never_targets_end() -> None:
    """A one-user cascade has END as its only target: zero loss and zero gradient with the
    reference preset's END weight 0, a positive loss with the paper's."""
    torch.manual_seed(0)
    v = 8
    batch = torch.tensor([[3, end_token(v)]])
    for cfg, positive in ((preset("reference_code", **TINY), False),
                          (preset("paper", **TINY), True)):  # fmt: skip
        net = NDMNet(v, cfg)
        loss = next_user_loss(net, batch, end_weight=cfg.end_weight)
        loss.backward()
        grad = sum(float(p.grad.abs().sum()) for p in net.parameters() if p.grad is not None)
        assert (float(loss.detach()) > 0) == positive and (grad > 0) == positive


def _chain_data(n_users: int, n: int, seed: int) -> CascadeSet:
    """Cascades that follow u → u+1 → u+2 … (mod V): the next user is fully predictable."""
    rng = np.random.default_rng(seed)
    seqs = [
        [(s + i) % n_users for i in range(int(rng.integers(3, 7)))]
        for s in rng.integers(0, n_users, n)
    ]
    return CascadeSet.from_sequences(seqs, Vocabulary.range(n_users))


def test_fit_learns_and_save_load_roundtrip(tmp_path: Path) -> None:
    train, valid = _chain_data(12, 120, 0), _chain_data(12, 30, 1)
    tc = TrainConfig(max_epochs=6, batch_size=16, lr=0.05, patience=6, progress=False, seed=0)
    est = NDM(NDMConfig(**TINY), tc).fit(train, valid)
    first, best = est.history_[0]["valid_nll"], min(h["valid_nll"] for h in est.history_)
    assert best < 0.5 * first
    assert evaluate_next_user(est.module_, valid, ks=(1,))["hits@1"] > 0.8
    again = NDM.load(est.save(tmp_path / "m"))
    seq = encode_padded(valid)
    with torch.no_grad():
        assert torch.equal(again.module_.logits(seq), est.module_.logits(seq))


def test_ndm_sn_fixed_half_stays_deepwalk(tmp_path: Path) -> None:
    """NDM+SN (§5.4): the first d/2 columns are the bundle graph's DeepWalk vectors, never trained,
    and survive save/load; the learned half does train."""
    from cascadekit.graph.deepwalk import DeepWalkConfig, deepwalk
    from cascadekit.models.ndm import NDMSN
    from cascadekit.simulate.synthetic import synthetic_cascades

    bundle = synthetic_cascades(n_users=40, n_cascades=120, seed=0)
    tc = TrainConfig(max_epochs=2, batch_size=16, lr=0.02, progress=False, seed=0)
    est = NDMSN(NDMConfig(**TINY), tc).use_bundle(bundle)
    assert est.config.fixed_embedding_dim == 8
    expected = deepwalk(bundle.graph, DeepWalkConfig(dim=8, seed=0))
    learned0 = NDMNet(40, est.config, expected).embed.weight.detach().clone()  # same init seed
    est.fit(bundle.cascades)
    net = est.module_
    assert np.array_equal(net.fixed[:40].numpy(), expected)
    assert not any(p is net.fixed for p in net.parameters())
    assert net.embed.weight.shape == (42, 8) and not torch.equal(net.embed.weight, learned0)
    again = NDMSN.load(est.save(tmp_path / "sn"))
    assert torch.equal(again.module_.fixed, net.fixed)
    with pytest.raises(ValueError, match="needs fixed_embeddings"):
        NDM(NDMConfig(**TINY, fixed_embedding_dim=4), tc).fit(bundle.cascades)


def test_select_last_keeps_final_epoch(tmp_path: Path) -> None:
    """``select="last"`` (reference preset) keeps the final epoch even when validation NLL
    preferred an earlier one; selection on NLL restores the best-NLL epoch."""
    train = _chain_data(12, 60, 0)
    # validation walks the chains backwards: learning the training order only hurts its NLL
    rev = _chain_data(12, 20, 1)
    valid = CascadeSet.from_sequences(
        [
            list(reversed(rev.users[a:b].tolist()))
            for a, b in zip(rev.offsets[:-1], rev.offsets[1:], strict=True)
        ],
        Vocabulary.range(12),
    )
    tc = TrainConfig(max_epochs=3, batch_size=16, lr=0.02, patience=3, progress=False, seed=0)
    last = NDM(NDMConfig(**TINY), replace(tc, select="last")).fit(train, valid, tmp_path / "a")
    final = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(v, last.module_.state_dict()[k]) for k, v in final.items())
    best = NDM(NDMConfig(**TINY), replace(tc, select="nll")).fit(train, valid, tmp_path / "b")
    chosen = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["best_state"]
    assert all(torch.equal(v, best.module_.state_dict()[k]) for k, v in chosen.items())
    assert best.fit_result_.best_epoch < 2  # so "last" really chose different weights
    assert not torch.equal(chosen["embed.weight"], final["embed.weight"])
