"""Dense batched graph layers (`cascadekit.nn`): hand-computed 3-node cases, masks, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from cascadekit.nn import DenseGraphAttention, DenseGraphConv, normalized_adjacency

# the path 0 — 1 — 2 (no edge 0 — 2), one graph in the batch
PATH = torch.tensor([[[0, 1, 0], [1, 0, 1], [0, 1, 0]]], dtype=torch.bool)
X = torch.tensor([[[1.0], [2.0], [3.0]]])


def lrelu(v: float) -> float:
    return v if v >= 0 else 0.2 * v


def softmax(values: list[float]) -> list[float]:
    z = sum(math.exp(v) for v in values)
    return [math.exp(v) / z for v in values]


def scalar_gat(p: float, q: float, **kw: object) -> DenseGraphAttention:
    """One head, 1 → 1 feature, W = 1, attention vector c = [p; q], zero bias."""
    layer = DenseGraphAttention(1, 1, heads=1, **kw)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.att_src.fill_(p)
        layer.att_dst.fill_(q)
    return layer


def test_attention_is_a_softmax_over_neighbours_and_self_only() -> None:
    # e_ij = LeakyReLU(-h_i + h_j) with h = x: negative scores exercise the 0.2 slope
    out, alpha = scalar_gat(-1.0, 1.0)(X, PATH, return_attention=True)
    h = [1.0, 2.0, 3.0]
    expected = torch.zeros(3, 3)
    for i, nbrs in enumerate([[0, 1], [0, 1, 2], [1, 2]]):
        weights = softmax([lrelu(-h[i] + h[j]) for j in nbrs])
        for j, w in zip(nbrs, weights, strict=True):
            expected[i, j] = w
    torch.testing.assert_close(alpha[0, 0], expected, rtol=1e-6, atol=1e-7)
    assert alpha[0, 0, 0, 2] == 0 and alpha[0, 0, 2, 0] == 0  # not an edge
    torch.testing.assert_close(alpha.sum(-1), torch.ones(1, 1, 3))
    torch.testing.assert_close(out[0, :, 0], expected @ torch.tensor(h))


def test_masked_nodes_get_and_give_no_attention_and_output_zero() -> None:
    mask = torch.tensor([[True, True, False]])
    out, alpha = scalar_gat(-1.0, 1.0)(X, PATH, mask, return_attention=True)
    a = alpha[0, 0]
    assert torch.all(a[2] == 0) and torch.all(a[:, 2] == 0)
    w10, w11 = softmax([lrelu(-2.0 + 1.0), lrelu(0.0)])  # node 1 now sees only 0 and itself
    torch.testing.assert_close(a[1, :2], torch.tensor([w10, w11]))
    torch.testing.assert_close(a.sum(-1), torch.tensor([1.0, 1.0, 0.0]))
    assert out[0, 2, 0] == 0
    torch.testing.assert_close(out[0, 1, 0], torch.tensor(w10 * 1.0 + w11 * 2.0))


def test_tanh_scores_score_tanh_of_the_projection() -> None:
    _, alpha = scalar_gat(1.0, 1.0, tanh_scores=True)(X, PATH, return_attention=True)
    t = [math.tanh(v) for v in (1.0, 2.0, 3.0)]
    weights = softmax([lrelu(t[1] + t[j]) for j in (0, 1, 2)])
    torch.testing.assert_close(alpha[0, 0, 1], torch.tensor(weights))


def test_heads_concatenate_or_average() -> None:
    torch.manual_seed(0)
    x, adj = torch.randn(2, 5, 4), torch.rand(2, 5, 5) < 0.4
    adj = adj | adj.transpose(1, 2)
    cat = DenseGraphAttention(4, 3, heads=2, concat=True)
    mean = DenseGraphAttention(4, 3, heads=2, concat=False)
    mean.load_state_dict({k: v for k, v in cat.state_dict().items() if k != "bias"}, strict=False)
    out_cat, out_mean = cat(x, adj), mean(x, adj)
    assert out_cat.shape == (2, 5, 6) and out_mean.shape == (2, 5, 3)
    assert cat.output_width == 6 and mean.output_width == 3
    torch.testing.assert_close(out_mean, (out_cat[..., :3] + out_cat[..., 3:]) / 2)


def test_gat_gradients_flow_and_match_finite_differences() -> None:
    torch.manual_seed(1)
    layer = DenseGraphAttention(3, 2, heads=2, tanh_scores=True).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    adj = torch.tensor([[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0]], dtype=torch.bool)
    adj = adj.expand(2, 4, 4)
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    assert torch.autograd.gradcheck(lambda v: layer(v, adj, mask), (x,))
    layer(x, adj, mask).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    # padded nodes never reach a real node's output
    assert torch.all(x.grad[1, 2:] == 0) and torch.all(x.grad[1, :2] != 0)


def test_gcn_normalisation_is_exact() -> None:
    p = normalized_adjacency(PATH)[0]  # A + I = [[1,1,0],[1,1,1],[0,1,1]], degrees 2, 3, 2
    s6 = 1 / math.sqrt(6)
    expected = torch.tensor([[0.5, s6, 0.0], [s6, 1 / 3, s6], [0.0, s6, 0.5]])
    torch.testing.assert_close(p, expected)
    # an existing self loop stays 1 (A ∨ I), as DeepInf's loader binarises A + I
    looped = PATH.clone()
    looped[0, 0, 0] = True
    torch.testing.assert_close(normalized_adjacency(looped)[0], expected)
    masked = normalized_adjacency(PATH, torch.tensor([[True, True, False]]))[0]
    torch.testing.assert_close(masked, torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0, 0, 0]]))


def test_gcn_layer_propagates_then_adds_the_bias() -> None:
    layer = DenseGraphConv(1, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -1.0]]))
        layer.bias.copy_(torch.tensor([0.5, 0.0]))
    mask = torch.tensor([[True, True, False]])
    out = layer(X, normalized_adjacency(PATH, mask), mask)[0]
    torch.testing.assert_close(out, torch.tensor([[2.0, -1.5], [2.0, -1.5], [0.0, 0.0]]))


def test_gcn_gradients_match_finite_differences() -> None:
    torch.manual_seed(2)
    layer = DenseGraphConv(3, 2).double()
    x = torch.randn(1, 3, 3, dtype=torch.float64, requires_grad=True)
    prop = normalized_adjacency(PATH).double()
    assert torch.autograd.gradcheck(lambda v: layer(v, prop), (x,))
    layer(x, prop).sum().backward()
    assert layer.weight.grad.abs().sum() > 0 and layer.bias.grad.abs().sum() > 0


@pytest.mark.parametrize("bad", [{"heads": 0}, {"attention_dropout": 1.0}])
def test_bad_sizes_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DenseGraphAttention(2, 2, **bad)
