"""NAC•,σ and NAC•,NMU (Madsen & Johansen 2020's NAC• ablations): float64 checks against the
reference's layers written out here (stable-nalu pos_nac.py, re_regualized_linear_pos_nac.py,
applied in log space by network/simple_function_static.py:60-61), their inits, the NAC•,NMU's
clamp, projection and regularizer, gradients, the fused step and the formulas read back."""
import math

import pytest
import sympy
import torch
from torch.autograd import gradcheck

import nalm
from nalm.explain.layers import Grid, layer_formula
from nalm.units import MultiplicativeNACNMU, MultiplicativeNACSigma, build_model

F64 = torch.float64
EPS = 1e-7


def reference_log_space(x, w):
    """stable-nalu's network around a PosNAC layer: exp(linear(log(|x| + eps), W))."""
    return torch.exp(torch.nn.functional.linear(torch.log(torch.abs(x) + EPS), w))


def inputs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    sign = torch.where(torch.rand(n, 3, generator=g) < 0.5, -1.0, 1.0).to(F64)
    return sign * (torch.rand(n, 3, generator=g, dtype=F64) * 5 + 0.1)


def test_sigma_forward_is_the_reference_pos_nac_in_log_space():
    torch.manual_seed(0)
    unit = MultiplicativeNACSigma(3, 2, dtype=F64)
    x = inputs()
    expected = reference_log_space(x, torch.sigmoid(unit.W_hat.detach()))
    torch.testing.assert_close(unit(x), expected, rtol=1e-14, atol=0)
    assert torch.equal(unit.weight, torch.sigmoid(unit.W_hat))
    assert set(dict(unit.named_parameters())) == {"W_hat"}  # the weight is derived


def test_sigma_multiplies_with_saturated_weights_and_cannot_divide():
    unit = MultiplicativeNACSigma(2, 1, dtype=F64)
    with torch.no_grad():
        unit.W_hat.copy_(torch.tensor([[40.0, 40.0]]))  # σ(40) == 1 in float64
    x = torch.tensor([[3.0, -4.0], [0.5, 8.0]], dtype=F64)
    torch.testing.assert_close(unit(x)[:, 0], torch.tensor([12.0, 4.0], dtype=F64), rtol=1e-6, atol=0)
    with torch.no_grad():
        unit.W_hat.fill_(-1e3)  # the smallest weight is 0: an input left out, never divided by
    assert torch.equal(unit.weight, torch.zeros(1, 2, dtype=F64))
    assert torch.equal(unit(x), torch.ones(2, 1, dtype=F64))


def test_sigma_init_is_xavier_normal_per_member():
    torch.manual_seed(1)
    unit = MultiplicativeNACSigma(100, 2, members=200, dtype=F64)
    std = math.sqrt(2 / 102)  # xavier_normal_, gain 1, of one member's 2 x 100 matrix
    assert unit.W_hat.std().item() == pytest.approx(std, rel=0.03)
    assert unit.W_hat.mean().abs().item() < 0.1 * std
    assert torch.equal(unit.regularization(10**7), torch.zeros(200, dtype=F64))


def test_nmu_variant_forward_is_the_reference_in_log_space_with_w_clamped():
    unit = MultiplicativeNACNMU(3, 2, dtype=F64)
    raw = torch.tensor([[1.3, 0.4, -0.2], [0.0, 0.7, 1.0]], dtype=F64)
    with torch.no_grad():
        unit.W.copy_(raw)
    x = inputs(seed=1)
    torch.testing.assert_close(unit(x), reference_log_space(x, raw.clamp(0, 1)), rtol=1e-14, atol=0)
    unit.project_()  # the reference's optimize() under --oob-mode clip
    assert torch.equal(unit.W.detach(), raw.clamp(0, 1))


def test_nmu_variant_init_and_regularizer_are_the_nmus():
    torch.manual_seed(2)
    unit = MultiplicativeNACNMU(100, 2, members=50, dtype=F64)
    assert unit.W.min() >= 0.25 and unit.W.max() <= 0.75 and unit.W.min() < 0.26 and unit.W.max() > 0.74
    assert (unit.regularizer_scale, unit.regularizer_start, unit.regularizer_end) == (10.0, 1e6, 2e6)
    w = unit.W.detach()
    # stable-nalu Regualizer _mnac_bias_linear: mean(min(|W - 0|, |1 - W|)), times λ(t)
    expected = torch.minimum(w.abs(), (1 - w).abs()).flatten(1).mean(1)
    torch.testing.assert_close(unit.regularization(1_500_000), 5.0 * expected, rtol=1e-14, atol=0)
    assert torch.equal(unit.regularization(999_999), torch.zeros(50, dtype=F64))


def test_nmu_variants_input_regularizer_is_the_nmus_on_the_log_space_inputs():
    """stable-nalu keeps the inputs its NAC•,NMU layer sees, log(|x| + ε) (network/sequential_mnist.py:81-85,
    layer/re_regualized_linear_pos_nac.py:62,66-68): R_z = mean((1 - W)·(1 - mean log(|x| + ε))²)."""
    torch.manual_seed(0)
    unit = MultiplicativeNACNMU(3, 2, regularizer_z=0.5, regularizer_start=10, regularizer_end=20, dtype=F64)
    x1, x2 = torch.rand(4, 3, dtype=F64) * 9 - 3, torch.rand(2, 3, dtype=F64) * 9
    y = unit(x1)
    unit(x2)
    logs = torch.log(torch.cat([x1, x2]).abs() + 1e-7).mean(0)
    expected = 0.5 * ((1 - unit.W) * (1 - logs) ** 2).mean()
    torch.testing.assert_close(unit.regularization(0), expected, rtol=1e-14, atol=0)
    torch.testing.assert_close(y, torch.exp(torch.log(x1.abs() + 1e-7) @ unit.weight.T))  # the forward as before
    assert unit.trains_through_forward and unit.options()["regularizer_z"] == 0.5
    unit.project_()
    assert unit.regularization(0).item() == 0
    plain = MultiplicativeNACNMU(3, 2, dtype=F64)
    plain(x1)
    assert plain.regularization(0).item() == 0 and "regularizer_z" not in plain.options()


@pytest.mark.parametrize("cls", [MultiplicativeNACSigma, MultiplicativeNACNMU])
def test_gradients_match_finite_differences(cls):
    torch.manual_seed(3)
    unit = cls(3, 2, dtype=F64)
    x = inputs(8, seed=2).requires_grad_(True)
    params = tuple(unit.parameters())
    names = [name for name, _ in unit.named_parameters()]

    def f(x, *values):
        return torch.func.functional_call(unit, dict(zip(names, values)), (x,))

    assert gradcheck(f, (x, *(p.detach().clone().requires_grad_(True) for p in params)), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("model, name, weight", [("nac/nac-mul-sigma", "W_hat", torch.sigmoid),
                                                  ("nau/nac-mul-nmu", "W", lambda raw: raw.clamp(0, 1))])
def test_fused_step_layer_computes_the_forward_pass(model, name, weight):
    """kernel_layer's log-linear layer is what forward computes (the fused step trusts it), with
    the NAC•,NMU's W outside [0, 1], where only the clamped weight gives the reference."""
    torch.manual_seed(4)
    net = build_model(model, 3, 1, hidden=2, dtype=F64)
    second = net[1]
    raw = torch.tensor([[1.3, -0.2]], dtype=F64)
    with torch.no_grad():
        getattr(second, name).copy_(raw)
    layer = second.kernel_layer()
    assert layer.kind == "log-linear"
    h = net[0](inputs(seed=3))
    expected = reference_log_space(h, weight(raw))
    torch.testing.assert_close(torch.exp(torch.log(h.abs() + layer.eps) @ layer.log_weight.T), expected,
                               rtol=1e-14, atol=0)
    torch.testing.assert_close(second(h), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("cls, name", [(MultiplicativeNACSigma, "W_hat"), (MultiplicativeNACNMU, "W")])
def test_formula_reads_the_rounded_weights_as_a_product_of_magnitudes(cls, name):
    unit = cls(3, 1, dtype=F64)
    with torch.no_grad():
        getattr(unit, name).copy_(torch.tensor([[40.0, 40.0, -40.0]] if name == "W_hat" else [[0.98, 1.0, 0.01]]))
    a, b, c = sympy.symbols("a b c")
    formula = layer_formula(unit, [a, b, c], inputs(4), Grid())
    assert formula.outputs == [sympy.Abs(a) * sympy.Abs(b)]


def test_registered_and_listed():
    assert nalm.UNITS["nac-mul-sigma"] is MultiplicativeNACSigma
    assert nalm.UNITS["nac-mul-nmu"] is MultiplicativeNACNMU
    assert "eps=1e-07" in repr(MultiplicativeNACNMU(2, 1))
