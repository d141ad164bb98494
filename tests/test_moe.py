"""MMCAs' fusion layer (`nn.moe`): shapes, the reweighting over present modalities, absent
modalities that cannot leak, the interaction losses, eq. 12 on a hand case, every variant."""

from __future__ import annotations

import pytest
import torch

from cascadekit.nn.moe import FUSIONS, FusionOutput, ModalityFusion, SwitchFFN

DIMS, NAMES = (5, 3, 4), ("cascade", "user", "text")


def batch(b: int = 6, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(b, d, generator=g) for d in DIMS]
    present = torch.ones(b, 3, dtype=torch.bool)
    present[0, 2] = present[1, 1] = False  # row 0 has no text, row 1 no profile
    return inputs, present


def test_experts_weights_and_names() -> None:
    torch.manual_seed(0)
    fusion = ModalityFusion(DIMS, NAMES, dim=8, hidden=16).eval()
    inputs, present = batch()
    out = fusion(inputs, present)
    assert out.prediction.shape == (6,) and out.experts.shape == out.weights.shape == (6, 5)
    torch.testing.assert_close(out.weights.sum(1), torch.ones(6))
    assert out.weights[0, 2] == 0 and out.weights[1, 1] == 0  # absent → no uniqueness weight
    assert (out.weights[2:] > 0).all()
    torch.testing.assert_close(out.prediction, (out.weights * out.experts).sum(1))
    assert fusion.expert_names == ["uniqueness:cascade", "uniqueness:user", "uniqueness:text",
                                   "synergy", "redundancy"]  # fmt: skip
    assert out.interaction is None  # interaction losses are a training signal only


@pytest.mark.parametrize("fusion", FUSIONS)
def test_an_absent_modality_cannot_reach_the_prediction(fusion: str) -> None:
    torch.manual_seed(0)
    net = ModalityFusion(DIMS, NAMES, dim=8, hidden=16, fusion=fusion).eval()
    inputs, present = batch()
    before = net(inputs, present).prediction
    changed = [x.clone() for x in inputs]
    changed[2][0] += 100.0  # row 0's text is absent
    after = net(changed, present).prediction
    torch.testing.assert_close(after, before)
    changed[2][3] += 1.0  # row 3's text is present: it matters
    assert not torch.allclose(net(changed, present).prediction[3], before[3])


def test_interaction_losses_train_the_experts() -> None:
    torch.manual_seed(0)
    net = ModalityFusion(DIMS, NAMES, dim=8, hidden=16).train()
    inputs, present = batch()
    out = net(inputs, present)
    assert out.interaction.shape == (5,) and torch.isfinite(out.interaction).all()
    out.interaction.sum().backward()
    assert all(e.head.weight.grad is not None and e.head.weight.grad.abs().sum() > 0
               for e in net.experts)  # fmt: skip


def test_eq12_on_a_hand_case() -> None:
    out = FusionOutput(
        prediction=torch.tensor([1.0, 2.0]),
        experts=torch.tensor([[1.0, 1.0], [2.0, 2.0]]),
        weights=torch.full((2, 2), 0.5),
        interaction=torch.tensor([0.2, 0.4]),
    )
    # MSLE 0.5; λ1/K Σ L_int = 1/2 · 0.6; λ2/K Σ L_expert = 2/2 · (0.5 + 0.5)
    assert float(out.loss(torch.tensor([1.0, 3.0]), 1.0, 2.0)) == pytest.approx(1.8)
    assert float(FusionOutput(torch.tensor([1.0])).loss(torch.tensor([3.0]), 1, 1)) == 4.0


def test_switch_ffn_routes_each_token_to_one_network() -> None:
    torch.manual_seed(0)
    ffn = SwitchFFN(4, 8, 3)
    x = torch.randn(10, 4)
    p = ffn.router(x).softmax(-1)
    k = p.argmax(-1)
    expected = torch.stack([ffn.ffn[int(k[i])](x[i]) * p[i, k[i]] for i in range(10)])
    torch.testing.assert_close(ffn(x), expected)


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="fusion must be"):
        ModalityFusion(DIMS, NAMES, fusion="sum")
    with pytest.raises(ValueError, match="one input dimension per modality"):
        ModalityFusion(DIMS, NAMES[:2])
    net = ModalityFusion(DIMS, NAMES, dim=8, hidden=16)
    inputs, present = batch()
    present[4] = False
    with pytest.raises(ValueError, match="at least one present modality"):
        net(inputs, present)


def test_shuffle_perturbation_draws_tokens_of_the_batch() -> None:
    # identical rows: a shuffled token is the row's own, so no output moves (redundancy loss 0,
    # synergy's similarity 1), while N(0, I) noise moves them
    torch.manual_seed(0)
    inputs = [torch.randn(1, d).expand(6, d).clone() for d in DIMS]
    present = torch.ones(6, 3, dtype=torch.bool)
    for perturbation, moved in (("shuffle", False), ("noise", True)):
        net = ModalityFusion(DIMS, NAMES, dim=8, hidden=16, perturbation=perturbation).train()
        loss = net(inputs, present).interaction.detach()
        assert (float(loss[-1]) > 1e-6) == moved, (perturbation, loss)
        if not moved:
            assert float(loss[-2]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="perturbation"):
        ModalityFusion(DIMS, NAMES, perturbation="mask")


def test_the_competitive_gate_loss_on_a_hand_case() -> None:
    out = FusionOutput(torch.tensor([2.0]), experts=torch.tensor([[1.0, 3.0]]),
                       weights=torch.tensor([[0.25, 0.75]]), interaction=torch.zeros(2))  # fmt: skip
    # −log(0.25 e^{−(2−1)²/2} + 0.75 e^{−(2−3)²/2}) = 0.5; experts' MSLE (1 + 1) · λ2 / K = 1
    got = out.loss(torch.tensor([2.0]), 0.0, 1.0, gate_width=2.0)
    assert float(got) == pytest.approx(0.5 + 1.0)
