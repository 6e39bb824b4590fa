"""iNALU: sign recovery, the bounded log path, separate path weights, init and regularizer."""
import math

import pytest
import torch

from nalm.units import INALU, PlateauReset, build_model

F64 = torch.float64
BIG = 40.0  # tanh(40) == sigmoid(40) == 1.0 exactly in float64


def set_(param, value):
    with torch.no_grad():
        param.copy_(torch.as_tensor(value, dtype=param.dtype).expand_as(param))


def inalu_with(add=None, mul=None, gate=0.0, **options):
    """An iNALU whose path weights are saturated to ``add`` / ``mul`` (entries in {-1, 0, 1})."""
    weights = torch.tensor(mul if mul is not None else add, dtype=F64)
    unit = INALU(weights.shape[1], weights.shape[0], dtype=F64, **options)
    for w, (w_hat, m_hat) in ((add, (unit.W_hat, unit.M_hat)), (mul, (unit.W_hat_mul, unit.M_hat_mul))):
        if w is not None:
            set_(w_hat, BIG * torch.tensor(w, dtype=F64))
            set_(m_hat, BIG)
    set_(unit.G, gate)
    return unit


SIGNED = [((-3.0, 4.0), -12.0), ((-3.0, -4.0), 12.0), ((3.0, -4.0), -12.0), ((3.0, 4.0), 12.0),
          ((-250.0, 0.5), -125.0)]


@pytest.mark.parametrize("inputs, product", SIGNED)
def test_multiply_path_recovers_the_sign_of_a_product(inputs, product):
    unit = inalu_with(add=[[1, -1]], mul=[[1, 1]], gate=-BIG)
    y = unit(torch.tensor([inputs], dtype=F64))
    torch.testing.assert_close(y, torch.tensor([[product]], dtype=F64), rtol=1e-6, atol=0)


def test_multiply_path_divides_with_sign():
    g = torch.Generator().manual_seed(0)
    unit = inalu_with(mul=[[1, -1], [1, 1]], gate=-BIG)
    x = (torch.rand(300, 2, generator=g, dtype=F64) * 99 + 1) * torch.where(
        torch.rand(300, 2, generator=g) < 0.5, -1.0, 1.0).to(F64)
    y = unit(x)
    torch.testing.assert_close(y[:, 0], x[:, 0] / x[:, 1], rtol=1e-6, atol=0)
    torch.testing.assert_close(y[:, 1], x[:, 0] * x[:, 1], rtol=1e-6, atol=0)


def test_add_path_adds_exactly_and_gate_does_not_depend_on_input():
    g = torch.Generator().manual_seed(1)
    unit = inalu_with(add=[[1, 1]], gate=BIG)  # sigma(40) == 1 for every input
    assert unit.G.shape == (1,)
    x = (torch.rand(300, 2, generator=g, dtype=F64) * 2 - 1) * 1e3
    torch.testing.assert_close(unit(x)[:, 0], x[:, 0] + x[:, 1], rtol=1e-12, atol=0)


def test_paths_use_separate_weights():
    unit = inalu_with(add=[[1, -1]], mul=[[1, 1]], gate=BIG)
    x = torch.tensor([[6.0, 2.0]], dtype=F64)
    torch.testing.assert_close(unit(x), torch.tensor([[4.0]], dtype=F64), rtol=1e-12, atol=0)
    set_(unit.G, -BIG)
    torch.testing.assert_close(unit(x), torch.tensor([[12.0]], dtype=F64), rtol=1e-6, atol=0)


def test_log_path_is_bounded_by_omega():
    unit = inalu_with(mul=[[1, 1]], gate=-BIG)
    y = unit(torch.tensor([[1e5, 1e5], [-1e5, 1e5]], dtype=F64))  # log(1e10) = 23 > 20
    torch.testing.assert_close(y[:, 0], torch.tensor([math.exp(20), -math.exp(20)], dtype=F64),
                               rtol=1e-12, atol=0)
    unit = inalu_with(mul=[[1, 1]], gate=-BIG, omega=5.0)
    torch.testing.assert_close(unit(torch.tensor([[10.0, 20.0]], dtype=F64)),
                               torch.tensor([[math.exp(5)]], dtype=F64), rtol=1e-12, atol=0)


def test_zero_input_stays_finite_with_finite_gradients():
    torch.manual_seed(2)
    unit = INALU(3, 2, dtype=F64)
    x = torch.tensor([[0.0, 2.0, -1.0], [0.0, 0.0, 0.0]], dtype=F64, requires_grad=True)
    y = unit(x)
    assert torch.isfinite(y).all()
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in unit.parameters())


def test_forward_matches_the_paper_formula_for_random_parameters():
    torch.manual_seed(3)
    unit = INALU(4, 3, dtype=F64)
    x = torch.randn(9, 4, dtype=F64) * 2
    x[0, 1] = 0.0
    w_a = torch.tanh(unit.W_hat.detach()) * torch.sigmoid(unit.M_hat.detach())
    w_m = torch.tanh(unit.W_hat_mul.detach()) * torch.sigmoid(unit.M_hat_mul.detach())
    gate = torch.sigmoid(unit.G.detach())
    expected = torch.empty(9, 3, dtype=F64)
    for b in range(9):
        for j in range(3):
            add = sum(x[b, i] * w_a[j, i] for i in range(4))
            log_mul = sum(math.log(max(abs(x[b, i].item()), 1e-7)) * w_m[j, i] for i in range(4))
            sign = 1.0
            for i in range(4):
                sign *= torch.sign(x[b, i]) * w_m[j, i].abs() + 1 - w_m[j, i].abs()
            sign = min(max(float(sign), -1.0), 1.0)
            mul = math.exp(min(float(log_mul), 20.0)) * sign
            expected[b, j] = gate[j] * add + (1 - gate[j]) * mul
    torch.testing.assert_close(unit(x), expected, rtol=1e-12, atol=1e-12)


def test_init_follows_the_paper():
    torch.manual_seed(4)
    unit = INALU(60, 50, members=2, dtype=F64)
    for p, mean in ((unit.W_hat, 0.88), (unit.W_hat_mul, 0.88), (unit.M_hat, 0.5), (unit.M_hat_mul, 0.5)):
        assert abs(p.mean().item() - mean) < 0.02
        assert abs(p.std().item() - 0.2) < 0.02
    big = INALU(1, 1000, members=3, dtype=F64)
    assert abs(big.G.mean().item()) < 0.03 and abs(big.G.std().item() - 0.2) < 0.02


def test_regularizer_and_reinitialization_default_to_the_nalm_benchmark():
    unit = INALU(3, 2)
    assert (unit.regularizer_scale, unit.regularizer_threshold) == (0.05, 20.0)
    assert (unit.regularizer_start, unit.regularizer_max_error) == (10_001, 1.0)
    from nalm.units.network import Network

    network = Network(unit)  # the error reaches the unit through the training loop's interface
    assert network.regularization(10_001, torch.tensor(0.5)) > 0
    assert network.regularization(10_001, torch.tensor(2.0)) == 0
    assert unit.plateau_reset == PlateauReset(every=10, min_stored=5000, threshold=1.0)
    assert INALU(3, 2, reinitialize=False).plateau_reset is None
    assert INALU(3, 2, reinitialize={"every": 2, "min_stored": 7}).plateau_reset == PlateauReset(2, 7, 1.0)


def constant_inalu(**options):
    """Five parameters at 1, -2, 25, 0.5, -3: mean(max(20 - |P|, 0)) = 19, 18, 0, 19.5, 17."""
    unit = INALU(3, 2, members=3, dtype=F64, **options)
    for p, value in zip((unit.W_hat, unit.M_hat, unit.W_hat_mul, unit.M_hat_mul, unit.G), (1, -2, 25, 0.5, -3)):
        set_(p, value)
    return unit


def test_regularizer_sums_five_parameters_gate_included_per_member_below_the_error_bound():
    unit = constant_inalu()
    on = 0.05 * (19 + 18 + 0 + 19.5 + 17)  # 3.675
    error = torch.tensor([0.5, 1.0, float("nan")], dtype=F64)
    assert torch.equal(unit.regularization(10_000, error), torch.zeros(3, dtype=F64))
    for step in (10_001, 50_000):
        torch.testing.assert_close(unit.regularization(step, error), torch.tensor([on, 0.0, 0.0], dtype=F64),
                                   rtol=1e-15, atol=0)
    assert torch.equal(unit.regularization(20_000), torch.zeros(3, dtype=F64))  # error unknown: off
    unit.regularization(20_000, error).sum().backward()
    assert (unit.G.grad[0] == 0.05 / 2 * 1).all()  # d/dG mean(20 - |G|) at G = -3: +1/2 per entry
    assert (unit.G.grad[1:] == 0).all() and (unit.W_hat_mul.grad == 0).all()


def test_regularizer_without_error_bound_or_start():
    unit = constant_inalu(regularizer_max_error=None, regularizer_start=0)
    torch.testing.assert_close(unit.regularization(0), torch.full((3,), 3.675, dtype=F64), rtol=1e-15, atol=0)
    assert torch.equal(constant_inalu(regularizer_start=None).regularization(10**6, torch.zeros(3, dtype=F64)),
                       torch.zeros(3, dtype=F64))


def test_mistry2022_single_clips_inalu_gradients_and_keeps_its_aids():
    from nalm.experiments.mistry2022_single import EXPERIMENT

    config = EXPERIMENT.config_for("inalu", "mul")
    assert config.grad_clip == 0.1 and EXPERIMENT.config_for("nau", "add").grad_clip is None
    unit = build_model("inalu", 2, 1, hidden=None, unit_options=config.unit_options)[0]
    assert unit.plateau_reset == PlateauReset() and unit.regularizer_start == 10_001
