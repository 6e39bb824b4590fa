"""iNALU: sign recovery, the bounded log path, separate path weights, init and regularizer."""
import math

import pytest
import torch

from nalm.units import INALU

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


def test_regularizer_is_off_by_default():
    unit = INALU(3, 2)
    for step in (0, 10**4, 10**8):
        assert unit.regularization(step).shape == () and unit.regularization(step).item() == 0.0


@pytest.mark.parametrize("members", [None, 3])
def test_regularizer_pushes_pre_activations_away_from_zero(members):
    torch.manual_seed(5)
    unit = INALU(3, 2, regularizer_start=10, members=members, dtype=F64)
    with torch.no_grad():
        unit.W_hat[..., 0, 0] = 25.0  # beyond the threshold: no penalty
        unit.M_hat_mul[..., 1, 2] = -30.0
    shape = () if members is None else (members,)
    assert unit.regularization(9).shape == shape and (unit.regularization(9) == 0).all()

    def penalty(ps):  # 0.05 * mean(max(min(-w, w) + 20, 0)) over all four matrices
        w = torch.cat([p.reshape(-1) for p in ps])
        return 0.05 * torch.clamp(torch.minimum(-w, w) + 20, min=0).mean()

    mats = [unit.W_hat, unit.M_hat, unit.W_hat_mul, unit.M_hat_mul]
    if members is None:
        expected = penalty([p.detach() for p in mats])
    else:
        expected = torch.stack([penalty([p.detach()[m] for p in mats]) for m in range(members)])
    for step in (10, 11, 10**6):
        reg = unit.regularization(step)
        assert reg.shape == shape
        torch.testing.assert_close(reg, expected, rtol=1e-12, atol=0)
    reg.sum().backward()
    assert unit.W_hat.grad[..., 0, 1].abs().min() > 0 and (unit.W_hat.grad[..., 0, 0] == 0).all()
    assert unit.G.grad is None or (unit.G.grad == 0).all()
