"""NAC and NAC• (MultiplicativeNAC): exact arithmetic with saturated weights, and the
trainability of Ŵ and M̂ (pitfall 1: W must be derived, never a Parameter)."""
import math

import pytest
import torch

import nalm
from nalm.units import INALU, NAC, NALU, MultiplicativeNAC
from nalm.units.nac import nac_w_optimal_r, nac_weight_variance

F64 = torch.float64
BIG = 40.0  # tanh(40) == sigmoid(40) == 1.0 exactly in float64


def saturated(unit, signs, prefix=""):
    """Set W = signs exactly: Ŵ = ±40 (or 0), M̂ = +40; ``signs`` has shape (out, in)."""
    signs = torch.as_tensor(signs, dtype=F64)
    with torch.no_grad():
        getattr(unit, f"W_hat{prefix}").copy_(BIG * signs)
        getattr(unit, f"M_hat{prefix}").fill_(BIG)
    return unit


def rel_err(actual, expected):
    return ((actual - expected).abs() / expected.abs()).max().item()


def test_saturated_weights_are_exactly_minus_one_zero_one():
    nac = saturated(NAC(3, 2, dtype=F64), [[1, 0, -1], [-1, 1, 0]])
    assert torch.equal(nac.weight, torch.tensor([[1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]], dtype=F64))


def test_nac_adds_and_subtracts_exactly_up_to_1e6():
    g = torch.Generator().manual_seed(0)
    nac = saturated(NAC(2, 2, dtype=F64), [[1, 1], [1, -1]])
    x = (torch.rand(1000, 2, generator=g, dtype=F64) * 2 - 1) * 1e6
    x = torch.cat([x, torch.tensor([[1e6, 1e6], [-1e6, 1e6], [3.0, 4.0], [0.5, -0.25]], dtype=F64)])
    y = nac(x)
    a, b = x[:, 0], x[:, 1]
    torch.testing.assert_close(y[:, 0], a + b, rtol=1e-12, atol=0)
    torch.testing.assert_close(y[:, 1], a - b, rtol=1e-12, atol=0)
    assert torch.equal(nac(torch.tensor([[3.0, 4.0]], dtype=F64)), torch.tensor([[7.0, -1.0]], dtype=F64))


def test_nac_zero_weight_ignores_its_input():
    nac = saturated(NAC(3, 1, dtype=F64), [[1, 0, -1]])
    x = torch.tensor([[5.0, 1e6, 2.0], [5.0, -7e5, 2.0], [-1e6, 123.25, 1e6]], dtype=F64)
    torch.testing.assert_close(nac(x), (x[:, 0] - x[:, 2]).unsqueeze(1), rtol=1e-12, atol=0)


def test_nac_output_is_x_times_w_transposed_for_any_weights():
    torch.manual_seed(0)
    nac = NAC(4, 3, dtype=F64)
    x = torch.randn(6, 4, dtype=F64)
    w = torch.tanh(nac.W_hat.detach()) * torch.sigmoid(nac.M_hat.detach())
    torch.testing.assert_close(nac(x), x @ w.T, rtol=1e-14, atol=1e-14)


# -- pitfall 1: the weight is derived -------------------------------------------------------
@pytest.mark.parametrize("cls, names", [
    (NAC, {"W_hat", "M_hat"}),
    (MultiplicativeNAC, {"W_hat", "M_hat"}),
    (NALU, {"G", "W_hat", "M_hat"}),
    (INALU, {"W_hat", "M_hat", "W_hat_mul", "M_hat_mul", "G"}),
])
def test_weight_is_not_a_parameter(cls, names):
    unit = cls(3, 2, dtype=F64)
    params = dict(unit.named_parameters())
    assert set(params) == names
    assert "weight" not in params
    assert not isinstance(unit.weight, torch.nn.Parameter)
    assert unit.weight.grad_fn is not None  # a function of Ŵ and M̂, rebuilt on access


@pytest.mark.parametrize("cls", [NAC, MultiplicativeNAC, NALU, INALU])
def test_weight_is_recomputed_from_w_hat_and_m_hat(cls):
    torch.manual_seed(1)
    unit = cls(3, 2, dtype=F64)
    before = unit.weight.detach().clone()
    with torch.no_grad():
        unit.W_hat.mul_(-2.0).add_(0.3)
        unit.M_hat.add_(1.7)
    expected = torch.tanh(unit.W_hat.detach()) * torch.sigmoid(unit.M_hat.detach())
    assert not torch.allclose(unit.weight, before)
    torch.testing.assert_close(unit.weight.detach(), expected, rtol=0, atol=1e-15)


def test_gradients_of_w_hat_and_m_hat_match_the_chain_rule():
    torch.manual_seed(2)
    nac = NAC(3, 2, dtype=F64)
    x = torch.randn(8, 3, dtype=F64)
    target = torch.randn(8, 2, dtype=F64)
    loss = ((nac(x) - target) ** 2).sum()
    loss.backward()
    assert nac.W_hat.grad is not None and nac.M_hat.grad is not None
    assert (nac.W_hat.grad != 0).all() and (nac.M_hat.grad != 0).all()

    w_hat, m_hat = nac.W_hat.detach(), nac.M_hat.detach()
    t, s = torch.tanh(w_hat), torch.sigmoid(m_hat)
    d_w = 2 * (x @ (t * s).T - target).T @ x  # dL/dW, (out, in)
    torch.testing.assert_close(nac.W_hat.grad, d_w * (1 - t**2) * s, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(nac.M_hat.grad, d_w * t * s * (1 - s), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [NAC, MultiplicativeNAC, NALU, INALU])
@pytest.mark.parametrize("members", [None, 3])
def test_one_adam_step_changes_every_parameter(cls, members):
    torch.manual_seed(3)
    unit = cls(2, 1, members=members)
    before = {name: p.detach().clone() for name, p in unit.named_parameters()}
    opt = torch.optim.Adam(unit.parameters(), lr=1e-2)
    x = torch.rand(64, 2) + 1
    loss = ((unit(x) - x.sum(-1, keepdim=True)) ** 2).mean() if members is None else \
        ((unit(x) - x.sum(-1, keepdim=True)) ** 2).mean(dim=(1, 2)).sum()
    loss.backward()
    for name, p in unit.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    opt.step()
    for name, p in unit.named_parameters():
        assert not torch.equal(p.detach(), before[name]), f"{name} did not train"


@pytest.mark.parametrize("fans, r", [((100, 2), 0.504), ((2, 1), 9.47), ((1, 1), 9.47), ((4, 1), 9.47)])
def test_nac_w_optimal_r_matches_stable_nalu(fans, r):
    """stable-nalu nac.py:22-30: 0.504 for the 100 → 2 layer, 9.47 once the fan is floored at 5."""
    assert nac_w_optimal_r(*fans) == pytest.approx(r, abs=5e-3)


def test_nac_w_optimal_r_gives_glorot_variance():
    """(fan_in + fan_out) · Var(W) = 2; Var(W) checked against a float64 Monte Carlo estimate."""
    r = nac_w_optimal_r(100, 2)
    assert 102 * nac_weight_variance(r) == pytest.approx(2, rel=1e-12)
    g = torch.Generator().manual_seed(0)
    u = (torch.rand(2, 2_000_000, generator=g, dtype=torch.float64) * 2 - 1) * r
    w = torch.tanh(u[0]) * torch.sigmoid(u[1])
    assert w.var().item() == pytest.approx(nac_weight_variance(r), rel=1e-2)


@pytest.mark.parametrize("cls", [NAC, MultiplicativeNAC])
def test_nac_init_default_is_stable_nalus_uniform_per_member(cls):
    """U[-r, r] with r from the layer's fans, not those of the population (pitfall 3)."""
    torch.manual_seed(4)
    nac = cls(100, 2, members=50)
    r = nac_w_optimal_r(100, 2)
    for p in (nac.W_hat, nac.M_hat):
        assert p.abs().max() <= r and p.max() > 0.99 * r and p.min() < -0.99 * r


@pytest.mark.parametrize("cls", [NAC, MultiplicativeNAC])
def test_nac_blog_init_is_torch_linears(cls):
    """vrxacs/NALU-pytorch models/nac.py:29-30: kaiming_uniform_(a=√5), bound 1/√fan_in."""
    torch.manual_seed(4)
    nac = cls(4, 3, members=200, init="blog")
    bound = 1 / math.sqrt(4)
    for p in (nac.W_hat, nac.M_hat):
        assert p.abs().max() <= bound and p.max() > 0.95 * bound and p.min() < -0.95 * bound


def test_unknown_init_is_rejected():
    with pytest.raises(ValueError, match="bogus"):
        NAC(2, 1, init="bogus")


# -- NAC• -------------------------------------------------------------------------------------
def test_multiplicative_nac_multiplies_and_divides():
    g = torch.Generator().manual_seed(5)
    unit = saturated(MultiplicativeNAC(2, 2, dtype=F64), [[1, 1], [1, -1]])
    x = torch.rand(500, 2, generator=g, dtype=F64) * 999 + 1  # [1, 1000]
    y = unit(x)
    a, b = x[:, 0], x[:, 1]
    assert rel_err(y[:, 0], a * b) < 1e-6
    assert rel_err(y[:, 1], a / b) < 1e-6
    # the sign is lost: |a| |b|
    torch.testing.assert_close(unit(torch.tensor([[-3.0, 4.0]], dtype=F64))[0, 0],
                               torch.tensor(12.0, dtype=F64), rtol=1e-6, atol=0)


def test_multiplicative_nac_uses_its_eps():
    unit = saturated(MultiplicativeNAC(2, 1, eps=0.5, dtype=F64), [[1, 1]])
    y = unit(torch.tensor([[3.0, 0.0]], dtype=F64))
    torch.testing.assert_close(y, torch.tensor([[3.5 * 0.5]], dtype=F64), rtol=1e-12, atol=0)
    assert "eps=0.5" in repr(unit)
    assert nalm.UNITS["nac-mul"] is MultiplicativeNAC


def test_nac_input_regularizer_is_the_naus_form_on_the_effective_weight():
    """NAC+,R_z (stable-nalu layer/nac.py:40-71): regularizer_z · mean((1 - |W|)·(0 - x̄)²), W =
    tanh(Ŵ)⊙σ(M̂), x̄ the mean training input since the last optimizer step; off by default."""
    torch.manual_seed(0)
    nac = NAC(3, 2, regularizer_z=0.5, dtype=F64)
    x1, x2 = torch.rand(4, 3, dtype=F64) * 3, torch.rand(2, 3, dtype=F64) * 3
    nac(x1), nac(x2)
    x_mean = torch.cat([x1, x2]).mean(0)
    expected = 0.5 * ((1 - nac.weight.abs()) * x_mean ** 2).mean()
    torch.testing.assert_close(nac.regularization(0), expected, rtol=1e-14, atol=0)
    nac.regularization(0).backward()
    assert nac.W_hat.grad is not None and nac.W_hat.grad.abs().sum() > 0
    assert nac.trains_through_forward and nac.options() == {"init": "stable-nalu", "regularizer_z": 0.5}
    nac.project_()  # after the optimizer step: a new batch of inputs
    assert nac.regularization(0).item() == 0
    plain = NAC(3, 2, dtype=F64)
    plain(x1)
    assert plain.regularization(0).item() == 0 and not plain.trains_through_forward
    assert plain.options() == {"init": "stable-nalu"}  # stored options unchanged while R_z is off
    population = NAC(3, 2, members=4, regularizer_z=1.0, dtype=F64)
    population(x1)
    assert population.regularization(0).shape == (4,)
    with pytest.raises(ValueError, match="regularizer_z"):
        NAC(3, 1, regularizer_z=-1.0)
