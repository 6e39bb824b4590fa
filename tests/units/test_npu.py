"""NPU and RealNPU: signed products through the cosine, the complex-weight formula, the gate,
and the growing L1 regularizer."""
import math

import pytest
import torch

from nalm.units import NPU, ModifiedRealNPU, NaiveNPU, RealNPU

F64 = torch.float64


def set_(param, value):
    with torch.no_grad():
        param.copy_(torch.as_tensor(value, dtype=param.dtype).expand_as(param))


def power_unit(cls, exponents, gate=1.0, **options):
    exponents = torch.tensor(exponents, dtype=F64)
    unit = cls(exponents.shape[1], exponents.shape[0], dtype=F64, **options)
    set_(unit.W if cls is RealNPU else unit.W_re, exponents)
    set_(unit.g, gate)
    return unit


SIGNED = [((-3.0, -4.0), 12.0), ((-3.0, 4.0), -12.0), ((3.0, -4.0), -12.0), ((3.0, 4.0), 12.0),
          ((-0.5, 8.0), -4.0), ((-1e3, -1e3), 1e6)]


@pytest.mark.parametrize("cls", [NPU, RealNPU])
@pytest.mark.parametrize("inputs, product", SIGNED)
def test_product_carries_the_right_sign(cls, inputs, product):
    unit = power_unit(cls, [[1.0, 1.0]])
    y = unit(torch.tensor([inputs], dtype=F64))
    torch.testing.assert_close(y, torch.tensor([[product]], dtype=F64), rtol=1e-6, atol=0)


@pytest.mark.parametrize("cls", [NPU, RealNPU])
def test_products_of_random_signed_inputs(cls):
    g = torch.Generator().manual_seed(0)
    unit = power_unit(cls, [[1.0, 1.0], [1.0, -1.0]])
    x = (torch.rand(500, 2, generator=g, dtype=F64) + 0.5) * torch.where(
        torch.rand(500, 2, generator=g) < 0.5, -1.0, 1.0).to(F64)
    y = unit(x)
    torch.testing.assert_close(y[:, 0], x[:, 0] * x[:, 1], rtol=1e-6, atol=0)
    torch.testing.assert_close(y[:, 1], x[:, 0] / x[:, 1], rtol=1e-6, atol=0)


@pytest.mark.parametrize("cls", [NPU, RealNPU])
def test_powers(cls):
    unit = power_unit(cls, [[0.5, 0.0], [2.0, 0.0], [3.0, 0.0]])
    y = unit(torch.tensor([[9.0, -5.0], [-3.0, 7.0]], dtype=F64))
    torch.testing.assert_close(y[0], torch.tensor([3.0, 81.0, 729.0], dtype=F64), rtol=1e-6, atol=0)
    torch.testing.assert_close(y[1, 1:], torch.tensor([9.0, -27.0], dtype=F64), rtol=1e-6, atol=0)


@pytest.mark.parametrize("cls", [NPU, RealNPU])
def test_a_closed_gate_ignores_its_input(cls):
    unit = power_unit(cls, [[1.0, 1.0]], gate=[1.0, 0.0])
    x = torch.tensor([[-3.0, 0.0], [-3.0, -1e6], [-3.0, 5.0]], dtype=F64)
    torch.testing.assert_close(unit(x), torch.full((3, 1), -3.0, dtype=F64), rtol=1e-6, atol=0)
    set_(unit.g, [1.0, -2.0])  # clipped to 0
    torch.testing.assert_close(unit(x), torch.full((3, 1), -3.0, dtype=F64), rtol=1e-6, atol=0)
    set_(unit.g, [7.0, 0.0])  # clipped to 1
    torch.testing.assert_close(unit(x), torch.full((3, 1), -3.0, dtype=F64), rtol=1e-6, atol=0)


def reference_npu(x, w_re, w_im, g, eps=1e-7):
    """Re exp(W · log x̃) with complex W and the gated complex log of x (Heim et al., eq. 5)."""
    g = g.clamp(0, 1)
    log_r = torch.log(g * (x.abs() + eps) + 1 - g)
    k = g * math.pi * (x < 0).to(x.dtype)
    log_x = torch.complex(log_r, k)
    w = torch.complex(w_re, w_im)
    return torch.exp(log_x @ w.T).real


def test_npu_matches_the_complex_formula():
    torch.manual_seed(1)
    w_re, w_im = torch.randn(3, 4, dtype=F64), torch.randn(3, 4, dtype=F64) * 0.5
    g = torch.tensor([0.1, 0.5, 0.9, 1.0], dtype=F64)
    unit = NPU(4, 3, dtype=F64)
    set_(unit.W_re, w_re), set_(unit.W_im, w_im), set_(unit.g, g)
    x = torch.randn(10, 4, dtype=F64) * 3
    torch.testing.assert_close(unit(x), reference_npu(x, w_re, w_im, g), rtol=1e-12, atol=1e-12)


def test_real_npu_is_the_npu_without_imaginary_weights():
    torch.manual_seed(2)
    w = torch.randn(3, 4, dtype=F64)
    g = torch.rand(4, dtype=F64)
    x = torch.randn(10, 4, dtype=F64) * 3
    real = RealNPU(4, 3, dtype=F64)
    set_(real.W, w), set_(real.g, g)
    assert set(dict(real.named_parameters())) == {"W", "g"}
    torch.testing.assert_close(real(x), reference_npu(x, w, torch.zeros_like(w), g), rtol=1e-12, atol=1e-12)


def test_npu_init():
    torch.manual_seed(3)
    unit = NPU(50, 40, dtype=F64)
    bound = math.sqrt(6 / 90)  # Glorot uniform
    assert unit.W_re.abs().max() <= bound and unit.W_re.abs().max() > 0.95 * bound
    assert torch.equal(unit.W_im.detach(), torch.zeros(40, 50, dtype=F64))
    assert torch.equal(unit.g.detach(), torch.full((50,), 0.5, dtype=F64))
    assert set(dict(unit.named_parameters())) == {"W_re", "W_im", "g"}
    real = RealNPU(50, 40, members=3, dtype=F64)
    assert real.W.abs().max() <= bound and real.W.abs().max() > 0.95 * bound
    assert torch.equal(real.g.detach(), torch.full((3, 50), 0.5, dtype=F64))


# -- regularization ---------------------------------------------------------------------------
@pytest.mark.parametrize("step, beta", [(0, 1e-7), (9_999, 1e-7), (10_000, 1e-6), (19_999, 1e-6),
                                        (20_000, 1e-5), (35_000, 1e-5), (1_000_000, 1e-5)])
def test_l1_weight_grows_tenfold_every_10k_steps_up_to_1e_5(step, beta):
    assert RealNPU(2, 1).beta_at(step) == pytest.approx(beta, rel=1e-12)


@pytest.mark.parametrize("step", [3_100_000, 5_000_000])
def test_l1_weight_stays_capped_on_long_runs(step):
    """Madsen & Johansen's static task runs 5e6 steps; the schedule must not overflow there."""
    unit = RealNPU(2, 1)
    assert unit.beta_at(step) == pytest.approx(1e-5, rel=1e-12)
    assert torch.isfinite(unit.regularization(step))


@pytest.mark.parametrize("step, beta", [(0, 1e-9), (9_999, 1e-9), (10_000, 1e-8), (20_000, 1e-7), (49_999, 1e-7)])
def test_division_schedule_of_the_nalm_benchmark(step, beta):
    """single_layer_benchmark.sh:132: division ramps β from 1e-9 to 1e-7; the powers are exact."""
    assert RealNPU(2, 1, beta_start=1e-9, beta_end=1e-7).beta_at(step) == beta


def test_l1_weight_grows_past_an_end_the_growth_does_not_reach_exactly():
    """single_layer_benchmark.py:642-645 multiplies while β < end: 1e-3, 2e-3, 4e-3, then 8e-3."""
    unit = RealNPU(2, 1, beta_start=1e-3, beta_end=5e-3, beta_growth=2, beta_step=1)
    assert [unit.beta_at(s) for s in range(5)] == [1e-3, 2e-3, 4e-3, 8e-3, 8e-3]


def test_l1_weight_shrinks_when_it_starts_above_its_end():
    unit = RealNPU(2, 1, beta_start=1e-3, beta_end=1e-5, beta_growth=10, beta_step=1)
    assert [unit.beta_at(s) for s in range(4)] == [1e-3, 1e-4, 1e-5, 1e-5]


def test_l1_regularizer_of_npu_counts_every_parameter_including_the_gate():
    """nalm-benchmark regualizer.py:6-11 sums |θ| over model.parameters(): W_real, W_im and g."""
    unit = NPU(2, 1, dtype=F64)
    set_(unit.W_re, torch.tensor([[1.5, -0.25]], dtype=F64))
    set_(unit.W_im, torch.tensor([[-2.0, 0.5]], dtype=F64))
    set_(unit.g, torch.tensor([0.75, -3.0], dtype=F64))
    expected = torch.tensor(1.5 + 0.25 + 2.0 + 0.5 + 0.75 + 3.0, dtype=F64)
    torch.testing.assert_close(unit.regularization(0), 1e-7 * expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(unit.regularization(25_000), 1e-5 * expected, rtol=1e-12, atol=0)
    unit.regularization(0).backward()
    torch.testing.assert_close(unit.g.grad, torch.tensor([1e-7, -1e-7], dtype=F64), rtol=1e-12, atol=0)


def test_l1_regularizer_of_a_population_is_per_member():
    torch.manual_seed(5)
    unit = RealNPU(3, 2, members=4, dtype=F64, beta_start=1e-3, beta_end=1e-1, beta_growth=2.0, beta_step=5)
    reg = unit.regularization(12)  # 1e-3 * 2**2
    assert reg.shape == (4,)
    expected = torch.stack([unit.W.detach()[m].abs().sum() + unit.g.detach()[m].abs().sum() for m in range(4)]) * 4e-3
    torch.testing.assert_close(reg, expected, rtol=1e-12, atol=0)
    reg.sum().backward()
    assert unit.W.grad is not None and unit.W.grad.abs().min() > 0


# -- NaiveNPU and the init options ------------------------------------------------------------
def reference_naive_npu(x, w_re, w_im, eps):
    """NeuralPowerUnits src/npu.jl:23-27 (NPUX): r = |x| + eps, k = π[x < 0], no gate."""
    log_r, k = torch.log(x.abs() + eps), math.pi * (x < 0).to(x.dtype)
    return torch.exp(log_r @ w_re.T - k @ w_im.T) * torch.cos(k @ w_re.T + log_r @ w_im.T)


def test_naive_npu_is_the_ungated_formula():
    """An input of zero enters as log eps: no gate moves it to 1, as the NPU's gate at g = 0 would."""
    torch.manual_seed(4)
    w_re, w_im = torch.randn(3, 4, dtype=F64), torch.randn(3, 4, dtype=F64) * 0.5
    unit = NaiveNPU(4, 3, eps=1e-3, dtype=F64)
    set_(unit.W_re, w_re), set_(unit.W_im, w_im)
    x = torch.randn(10, 4, dtype=F64) * 3
    x[0, 1] = 0.0
    torch.testing.assert_close(unit(x), reference_naive_npu(x, w_re, w_im, 1e-3), rtol=1e-12, atol=1e-12)
    assert set(dict(unit.named_parameters())) == {"W_re", "W_im"} and "gate_init" not in unit.options()
    gated = NPU(4, 3, eps=1e-3, dtype=F64)  # the NPU with its gate held open computes the same
    set_(gated.W_re, w_re), set_(gated.W_im, w_im), set_(gated.g, 1.0)
    torch.testing.assert_close(gated(x), unit(x), rtol=1e-12, atol=1e-12)
    assert unit.regularization(0).item() == pytest.approx(1e-7 * (w_re.abs().sum() + w_im.abs().sum()).item())


@pytest.mark.parametrize("cls", [NPU, RealNPU, NaiveNPU])
def test_small_uniform_init_draws_exponents_from_0_to_a_tenth(cls):
    """NeuralPowerUnits src/arithmetic_models.jl:37-38 (rand/10) and :83 (the NPU's gate at 1)."""
    torch.manual_seed(5)
    options = {} if cls is NaiveNPU else {"gate_init": 1.0}
    unit = cls(100, 100, init="small-uniform", members=2, dtype=F64, **options)
    w = unit.W if cls is RealNPU else unit.W_re
    assert w.min() >= 0 and w.max() < 0.1 and w.max() > 0.099 and abs(w.mean().item() - 0.05) < 1e-3
    assert torch.equal(unit.g, torch.ones(2, 100, dtype=F64))
    with pytest.raises(ValueError, match="init must be one of"):
        cls(2, 1, init="rand")
    with pytest.raises(TypeError):
        NaiveNPU(2, 1, gate_init=1.0)  # no gate to start


@pytest.mark.parametrize("cls", [NPU, RealNPU, NaiveNPU])
def test_norm_penalty_sums_each_parameters_2_norm(cls):
    """Heim et al.'s β·norm(params, 1): Julia sums the arrays' 2-norms (scripts/arithmetic/add_l1_runs.jl:38);
    at a parameter of zeros (the NPU's W_im) its gradient is 0, not nan."""
    torch.manual_seed(6)
    alone = cls(5, 3, penalty="norm", beta_start=1e-5, beta_end=1e-4, dtype=F64)
    expected = 1e-5 * sum(math.sqrt((p.detach() ** 2).sum().item()) for p in alone.parameters())
    assert alone.regularization(0).item() == pytest.approx(expected, rel=1e-12)
    alone.regularization(0).backward()
    assert all(torch.isfinite(p.grad).all() for p in alone.parameters())
    population = cls(5, 3, penalty="norm", members=2, dtype=F64)
    with torch.no_grad():
        for p, q in zip(population.parameters(), alone.parameters()):
            p[1].copy_(q)
    assert population.regularization(0)[1].item() == pytest.approx(expected / 1e-5 * 1e-7, rel=1e-12)
    with pytest.raises(ValueError, match="penalty must be one of"):
        cls(2, 1, penalty="l2")


def test_modified_real_npu_clips_draws_as_the_nau_and_pulls_to_discrete_values():
    # nalm-division stable_nalu/layer/npu_real.py:58-66 (xavier-uniform-constrained), :76-85 (clip wg),
    # stable_nalu/functional/regualizer.py:50-54, 107-113 (mean |1 - |W||, mean min(|g|, |1 - g|)), ramped
    # linearly from 0 at --regualizer-scaling-start to 1 at -end (experiments/single_layer.py:675-680).
    unit = ModifiedRealNPU(10, 1, members=3, beta_start=0.0, beta_end=0.0, regularizer_start=10,
                           regularizer_end=20, dtype=F64)
    assert unit.W.abs().max() <= min(0.5, (3 * 2 / 11) ** 0.5) and (unit.g == 0.5).all()
    with torch.no_grad():
        unit.W.fill_(0.5), unit.g.fill_(0.25)
    assert unit.regularization(10).tolist() == [0.0] * 3
    assert unit.regularization(15).tolist() == pytest.approx([0.5 * (0.5 + 0.25)] * 3)
    assert unit.regularization(99).tolist() == pytest.approx([0.75] * 3)
    with torch.no_grad():
        unit.W.fill_(-1.0), unit.g.fill_(1.0)
    assert unit.regularization(99).tolist() == [0.0] * 3
    with torch.no_grad():
        unit.W.fill_(-4.0), unit.g.fill_(7.0)
    unit.project_()
    assert (unit.W == -1).all() and (unit.g == 1).all()
    plain = RealNPU(2, 1)
    with torch.no_grad():
        plain.W.fill_(-4.0)
    plain.project_()
    assert (plain.W == -4).all() and "clip" not in plain.options()  # Heim et al.'s: nothing clipped
    with pytest.raises(ValueError, match="the RealNPU's"):
        NPU(2, 1, clip="wg")
    with pytest.raises(ValueError, match="clip must be one of"):
        RealNPU(2, 1, clip="x")


def test_options_name_init_gate_init_and_penalty_only_where_they_differ_from_the_defaults():
    """As the NAU's and NMU's: a repr, and a protocol card, show an init only where it was chosen."""
    assert not {"init", "gate_init", "penalty"} & set(NPU(2, 1).options())
    assert "init" not in ModifiedRealNPU(2, 1).options()  # its default is the NAU's draw
    chosen = NPU(2, 1, init="small-uniform", gate_init=1.0, penalty="norm").options()
    assert (chosen["init"], chosen["gate_init"], chosen["penalty"]) == ("small-uniform", 1.0, "norm")
    assert RealNPU(2, 1, init="glorot", gate_init=0.5).init_description() == RealNPU.init_scheme
    assert RealNPU(2, 1, gate_init=1.0).init_description() is None  # g = 0.5 no longer holds
    assert ModifiedRealNPU(2, 1).init_description() == ModifiedRealNPU.init_scheme
    assert NaiveNPU(2, 1, init="small-uniform").init_description() is None


def test_naive_npu_refuses_a_gate_init_and_passes_its_other_options_on():
    with pytest.raises(TypeError, match="gate_init"):
        NaiveNPU(2, 1, gate_init=0.5)  # even the NPU's default: there is no gate
    with pytest.raises(ValueError, match="not the NPU's"):
        NaiveNPU(2, 1, clip="wg")
    unit = NaiveNPU(2, 1, members=3, beta_step=7, penalty="norm", dtype=F64)
    assert unit.W_re.shape == (3, 1, 2) and unit.beta[3] == 7 and unit.options()["penalty"] == "norm"
