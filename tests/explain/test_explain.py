"""``nalm.explain``: formulas of exact, trained and failed networks, and ``nalm explain RUN_ID``."""
from __future__ import annotations

import io
import math
import re
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
import sympy
import torch

from nalm import (GNALU, INALU, MCFC, NAC, NALU, NAU, NMRU, NPU, NRU, FauxNALU, MulMCFC, MultiplicativeNAC, RealNPU,
                  build_model)
from nalm.experiments import EXPERIMENTS
from nalm.explain import ExplainError, compact_str, explain, explain_and_verify, target_expression, verify
from nalm.explain.formula import READINGS, Reading
from nalm.explain.layers import Grid, layer_formula
from nalm.tasks import Draws, StaticTask
from nalm.train import Member, TrainConfig, train_population

MADSEN = StaticTask()
SMALL = StaticTask(input_size=10, subset_ratio=0.3, overlap_ratio=0.0)  # a = x[i:i+3], b = x[i+3:i+6]
SAT = 30.0  # tanh(30) and σ(30) are 1 to float64 precision


def probe(task, seed, n=500):
    return task.sample(n, Draws(seed, 7))


def set_nac(nac, weights):
    """Saturate a NAC's matrices so that its effective weight is ``weights`` (entries -1, 0, 1)."""
    w = torch.as_tensor(np.asarray(weights, dtype=float), dtype=nac.W_hat.dtype)
    with torch.no_grad():
        nac.W_hat.copy_(SAT * w)
        nac.M_hat.copy_(torch.where(w != 0, SAT, -SAT))


def exact_nau_nmu(task, seed, dtype=torch.float64):
    net = build_model("nau/nmu", task.in_features, 1, hidden=2, dtype=dtype)
    with torch.no_grad():
        net[0].W.copy_(torch.as_tensor(task.layout(seed).T))
        net[1].W.copy_(torch.tensor([[1.0, 1.0]]))
    return net


def coefficients(text: str, size: int) -> np.ndarray:
    """Read a linear formula printed with slices back into one coefficient per input."""
    body = text.removeprefix("y = ").replace(" - ", " + -").split(" + ")
    out = np.zeros(size)
    for term in body:
        match = re.fullmatch(r"(-?)(?:(\d+)\*)?(?:sum\(x\[(\d+):(\d+)\]\)|x(\d+))", term.strip())
        assert match, f"not a linear term: {term!r}"
        sign, coeff, start, stop, single = match.groups()
        value = (-1 if sign else 1) * int(coeff or 1)
        indices = range(int(start), int(stop)) if start else [int(single)]
        out[list(indices)] += value
    return out


# -- exact weights -------------------------------------------------------------------------
def test_exact_nau_nmu_is_a_times_b_on_madsen_layout():
    seed = 0
    net = exact_nau_nmu(MADSEN, seed)
    explanation = explain(net, probe=probe(MADSEN, seed))
    a, b = MADSEN.subsets(seed)
    assert str(explanation) == f"y = sum(x[{a[0]}:{a[-1] + 1}])*sum(x[{b[0]}:{b[-1] + 1}])"
    assert explanation.max_distance == [0.0, 0.0]
    assert not explanation.rounding_changed_output
    check = verify(explanation, MADSEN, "mul", seed, n=200)
    assert check.matches_target
    assert check.formula_vs_target["extrapolation"] < 1e-12
    assert sympy.expand(explanation.expr - target_expression(MADSEN, "mul", seed, explanation.symbols)) == 0


def test_saturated_nac_subtracts():
    nac = NAC(2, 1, dtype=torch.float64)
    set_nac(nac, [[1, -1]])
    assert str(explain(nac)) == "y = x0 - x1"
    assert str(explain(nac, ["a", "b"])) == "y = a - b"


def test_nac_network_adds_the_madsen_subsets():
    seed = 3
    net = build_model("nac", 100, 1, hidden=2, dtype=torch.float64)
    set_nac(net[0], MADSEN.layout(seed).T)
    set_nac(net[1], [[1, 1]])
    explanation = explain(net, probe=probe(MADSEN, seed))
    a, b = MADSEN.subsets(seed)
    # Overlapping subsets: the overlap is counted twice, as SymPy merges the two sums.
    assert str(explanation) == f"y = sum(x[{a[0]}:{b[0]}]) + 2*sum(x[{b[0]}:{a[-1] + 1}]) + sum(x[{a[-1] + 1}:{b[-1] + 1}])"
    np.testing.assert_array_equal(coefficients(str(explanation), 100), MADSEN.layout(seed).sum(1))
    assert verify(explanation, MADSEN, "add", seed, n=100).matches_target


def test_compact_printer_folds_only_runs():
    x = sympy.symbols("x0:12")
    assert compact_str(sum(x[0:2]) - sum(x[5:12]), x) == "x0 + x1 - sum(x[5:12])"
    assert compact_str(sympy.Mul(*x[2:7]) / x[9], x) == "prod(x[2:7])/x9"
    assert compact_str(sympy.sqrt(sum(x[3:8])), x) == "sqrt(sum(x[3:8]))"
    assert compact_str(sum(x[0:4]) / sum(x[6:10]), x) == "sum(x[0:4])/sum(x[6:10])"


# -- every unit's rule ---------------------------------------------------------------------
def test_multiplicative_nac_divides_magnitudes():
    unit = MultiplicativeNAC(2, 1, dtype=torch.float64)
    set_nac(unit, [[1, -1]])
    assert str(explain(unit)) == "y = x0/x1"  # positive probe: |x| = x
    x0, x1 = sympy.symbols("x0 x1")
    assert sympy.simplify(explain(unit, positive=False).expr - sympy.Abs(x0) / sympy.Abs(x1)) == 0


def test_nalu_gate_is_decided_on_the_probe():
    nalu = NALU(2, 1, dtype=torch.float64)
    set_nac(nalu, [[1, 1]])
    with torch.no_grad():
        nalu.G.fill_(-SAT)  # σ(x·G) ≈ 0 on positive inputs: the multiplicative path
    explanation = explain(nalu)
    assert str(explanation) == "y = x0*x1"
    with torch.no_grad():
        nalu.G.fill_(SAT)
    assert str(explain(nalu)) == "y = x0 + x1"


def test_nalu_undecided_gate_keeps_both_paths():
    nalu = NALU(2, 1, dtype=torch.float64)
    set_nac(nalu, [[1, 1]])
    with torch.no_grad():
        nalu.G.zero_()  # σ(0) = 0.5
    explanation = explain(nalu)
    assert explanation.notes and "undecided" in explanation.notes[0]
    x0, x1 = explanation.symbols
    assert sympy.simplify(explanation.expr - (0.5 * (x0 + x1) + 0.5 * x0 * x1)) == 0
    assert not explanation.rounding_changed_output  # the mean gate is exact here


def test_inalu_recovers_signs():
    unit = INALU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        unit.W_hat_mul.fill_(SAT), unit.M_hat_mul.fill_(SAT), unit.G.fill_(-SAT)
    explanation = explain(unit, probe=np.array([[-3.0, 4.0], [2.0, -1.5]]))
    assert str(explanation) == "y = x0*x1"
    assert explanation.probe_relative_change < 1e-6


def test_npu_half_exponents_and_gates():
    npu = RealNPU(3, 1, dtype=torch.float64)
    with torch.no_grad():
        npu.W.copy_(torch.tensor([[0.52, 1.0, -0.97]])), npu.g.copy_(torch.tensor([1.0, 1.0, 0.02]))
    explanation = explain(npu)
    assert str(explanation) == "y = sqrt(x0)*x1"  # the third input's gate is closed
    assert explanation.layers[0].max_distance == pytest.approx(0.03)
    assert explanation.rounding_changed_output
    complex_npu = NPU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        complex_npu.W_im.fill_(0.9)
    with pytest.raises(ExplainError, match="complex"):
        explain(complex_npu)


def test_npu_keeps_signs_of_negative_inputs():
    npu = NPU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        npu.W_re.copy_(torch.tensor([[1.0, -1.0]])), npu.g.fill_(1.0)
    x = np.array([[-3.0, 4.0], [-2.0, -0.5], [1.5, 2.5]])
    explanation = explain(npu, probe=x)
    assert str(explanation) == "y = x0/x1"
    np.testing.assert_allclose(explanation.evaluate(x), explanation.network(x), rtol=1e-6)


def test_division_and_mass_conserving_units_read_back():
    nru = NRU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        nru.W.copy_(torch.tensor([[0.99, -0.98]]))
    x = np.array([[1.5, -2.0], [-3.0, 0.5], [2.0, 4.0]])
    explanation = explain(nru, probe=x, positive=False)
    assert str(explanation) == "y = x0/x1" and explanation.rounding_changed_output  # 0.99 is not 1
    nmru = NMRU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        nmru.W.copy_(torch.tensor([[1.0, 0.0, 0.0, 1.0]]))
    explanation = explain(nmru, probe=x, positive=False)
    assert str(explanation) == "y = x0/x1" and not explanation.rounding_changed_output
    mcfc = MCFC(2, 1, dtype=torch.float64)
    with torch.no_grad():
        mcfc.gate_bias.fill_(40.0)
    assert str(explain(mcfc)) == "y = x0 + x1"
    gnalu = GNALU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        gnalu.W_hat.fill_(80.0), gnalu.M_hat.fill_(80.0), gnalu.G.fill_(-80.0)
    assert str(explain(gnalu)) == "y = x0*x1"
    with pytest.raises(ExplainError, match="no symbolic rule for MulMCFC"):
        explain(MulMCFC(2, 1))


def test_unexplainable_modules_are_refused():
    with pytest.raises(ExplainError, match="unconstrained linear layer"):
        explain(FauxNALU(2, 1))
    with pytest.raises(ExplainError, match="population"):
        explain(NAU(2, 1, members=3))
    with pytest.raises(ExplainError, match="unconstrained"):
        explain(build_model("mlp-relu6", 2, 1))


def test_rounding_report_measures_every_weight():
    seed = 0
    net = exact_nau_nmu(SMALL, seed)
    with torch.no_grad():
        net[0].W[0, 0] = 0.3  # an unused input that rounds back to 0
        net[1].W[0, 1] = 0.9
    explanation = explain(net, probe=probe(SMALL, seed))
    assert explanation.max_distance == pytest.approx([0.3, 0.1])
    assert explanation.layers[0].distances["weight"].shape == (2, 10)
    assert explanation.rounding_changed_output and explanation.probe_relative_change > 0.01
    assert explanation.reading == READINGS[0]  # no other reading reproduces 0.9·h + 0.1 either
    check = verify(explanation, SMALL, "mul", seed, n=100)
    # The rounded formula is a·b, but the network computes a·(0.9·b + 0.1): not a match.
    assert check.formula_is_target and not check.reproduces_network and not check.matches_target


# -- readings beyond integers: composed maps and small rationals ------------------------------
TWO = StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first")  # a = x0, b = x1


def nac_with_weights(rows, dtype=torch.float64):
    """A NAC whose effective weight is ``rows`` (entries in (-1, 1)): σ(M̂) = 1, tanh(Ŵ) = w."""
    w = torch.as_tensor(np.asarray(rows, dtype=float), dtype=dtype)
    nac = NAC(w.shape[1], w.shape[0], dtype=dtype)
    with torch.no_grad():
        nac.W_hat.copy_(torch.atanh(w.clamp(-1 + 1e-15, 1 - 1e-15))), nac.M_hat.fill_(SAT)
    return nac


def two_layer_nac(first, second):
    net = build_model("nac", 2, 1, hidden=2, dtype=torch.float64)
    net[0].load_state_dict(nac_with_weights(first).state_dict())
    net[1].load_state_dict(nac_with_weights(second).state_dict())
    return net


@pytest.mark.parametrize("target, first, second, formula", [
    ("add", [[0.5004, 0.5004], [0.5003, 0.5003]], [[0.9994, 0.9995]], "y = x0 + x1"),  # like the blog run's NAC, seed 0
    ("sub", [[0.5, -0.5], [0.5, -0.5]], [[1.0, 1.0]], "y = x0 - x1"),
    ("sub", [[1.0, 0.0], [0.0, 1.0]], [[0.5, -0.5]], "y = x0/2 - x1/2"),  # half the target, read as it is
])
def test_two_layer_nacs_read_back_through_their_composed_map(target, first, second, formula):
    net = two_layer_nac(first, second)
    explanation, check = explain_and_verify(net, TWO, target, seed=0)
    assert str(explanation) == formula
    assert explanation.reading == (Reading(Grid(2)) if "/" in formula else Reading(Grid(1), composed=True))
    assert not explanation.rounding_changed_output
    assert check.reproduces_network
    assert check.matches_target == (formula != "y = x0/2 - x1/2")


def test_each_layer_rounded_alone_would_have_given_a_wrong_formula():
    net = two_layer_nac([[0.5004, 0.5004], [0.5003, 0.5003]], [[0.9998, 1.0]])
    x = TWO.sample(200, Draws(0, 7))
    explanation = explain(net, probe=x)
    assert str(explanation) == "y = x0 + x1" and explanation.reading.composed
    symbols = explanation.symbols
    alone = [layer_formula(unit, inputs, torch.as_tensor(x), Grid(1)) for unit, inputs in
             ((net[0], symbols), (net[1], sympy.symbols("h0 h1")))]
    assert alone[0].outputs == [symbols[0] + symbols[1]] * 2  # 0.5004 rounds to 1: y would be 2·(x0 + x1)


BLOG = EXPERIMENTS["blog-static"].workload.tasks[0]  # [a, b] given: sums of 5 entries from U[5, 10] / U[10, 20]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_accurate_subtracting_nac_reads_back_as_a_minus_b_on_the_blog_range(seed):
    # As trained on the blog's sub: halves and ones, each layer rounded alone 2·x0 - 2·x1, the
    # composed map 1 ± 4e-4. a - b is often near 0, where the network is off by far more than
    # 1e-3 of |a - b|; on the scale of |a| + |b| it is 4e-4 off at most.
    rng = np.random.default_rng(seed)
    net = two_layer_nac(np.array([[0.5, -0.5], [0.5, -0.5]]) + rng.uniform(-1e-4, 1e-4, (2, 2)),
                        1 - rng.uniform(0, 2e-4, (1, 2)))
    explanation, check = explain_and_verify(net, BLOG, "sub", seed=0)
    assert str(explanation) == "y = x0 - x1" and explanation.reading == Reading(Grid(1), composed=True)
    assert 1e-5 < explanation.relative_change < 1e-3 and check.matches_target
    # The verification's own measure: the network is a - b within 1e-3 of |a| + |b| on both ranges.
    assert all(1e-5 < error < 1e-3 for error in check.network_vs_target.values())
    assert explanation.closeness("the interpolation range").startswith(
        f"rounding changed the output: no (max relative change {explanation.probe_relative_change:.3g} on the "
        "interpolation range")
    x = BLOG.sample(1000, Draws(0, 7))
    network = explanation.network(x)[:, 0]
    assert np.max(np.abs(network - (x[:, 0] - x[:, 1])) / np.abs(x[:, 0] - x[:, 1])) > 1e-3  # relative to |a - b|


def test_a_network_far_from_every_reading_keeps_the_integer_one_and_says_so():
    nac = nac_with_weights([[0.1, 0.1]])  # every grid rounds 0.1 to 0
    explanation = explain(nac)
    assert str(explanation) == "y = 0" and explanation.reading == READINGS[0]
    assert "no reading comes within a factor of 2 of the network; this is the integer one" in explanation.closeness()


def test_a_genuinely_wrong_network_never_reads_back_as_the_target():
    net = two_layer_nac([[0.7, 0.7], [0.7, 0.7]], [[0.7, 0.7]])  # 0.7·0.7·2 = 0.98 of a + b
    explanation, check = explain_and_verify(net, TWO, "add", seed=0)
    # No reading reproduces it; the closest is the composed map rounded, 2% off (each layer
    # rounded alone, 2·x0 + 2·x1, is 51% off), and it says so.
    assert str(explanation) == "y = x0 + x1" and explanation.reading == Reading(Grid(1), composed=True)
    assert explanation.rounding_changed_output and explanation.relative_change == pytest.approx(0.02 / 0.98)
    assert explanation.closeness().endswith("this is the closest (or a simpler one nearly as close), off by up to "
                                            "0.0204 relative")
    assert check.formula_is_target and not check.matches_target and not check.reproduces_network
    single = nac_with_weights([[0.7, 0.7]])  # 0.7·(a + b): closer to 2/3·(a + b) than to a + b
    explanation, check = explain_and_verify(single, TWO, "add", seed=0)
    assert str(explanation) == "y = 2*x0/3 + 2*x1/3" and explanation.relative_change == pytest.approx(0.05)
    assert not check.formula_is_target and not check.matches_target
    # 0.85·(a + b): 3/4·(a + b) is 0.13 off, a + b 0.18; nearly as close and simpler, a + b is kept.
    explanation = explain(nac_with_weights([[0.85, 0.85]]))
    assert str(explanation) == "y = x0 + x1" and explanation.relative_change == pytest.approx(0.15 / 0.85)


def test_rational_weights_read_back_exactly():
    nac = nac_with_weights([[2 / 3, -0.25]])
    explanation = explain(nac)
    assert str(explanation) == "y = 2*x0/3 - x1/4"
    assert explanation.reading == Reading(Grid(4)) and explanation.complexity > 0
    assert explanation.probe_relative_change < 1e-12
    half_power = MultiplicativeNAC(2, 1, dtype=torch.float64)  # exponent 1/2: a square root
    half_power.load_state_dict(nac_with_weights([[0.5, 0.0]]).state_dict())
    assert str(explain(half_power)) == "y = sqrt(x0)"


def test_an_inalu_with_a_fractional_exponent_keeps_its_share_of_the_sign():
    unit = INALU(2, 1, dtype=torch.float64)
    with torch.no_grad():  # multiplicative path only, exponents 3/4 and 1
        unit.W_hat_mul.copy_(torch.atanh(torch.tensor([[0.75, 1 - 1e-15]], dtype=torch.float64)))
        unit.M_hat_mul.fill_(SAT), unit.G.fill_(-SAT)
    x = np.array([[4.0, 3.0], [-4.0, 3.0], [2.25, -2.0], [-1.5, -5.0]])  # a negative x0 signs by 1 - 2·3/4
    explanation = explain(unit, probe=x, positive=False)
    assert explanation.reading == Reading(Grid(4)) and not explanation.rounding_changed_output
    np.testing.assert_allclose(explanation.evaluate(x), explanation.network(x), rtol=1e-6)
    assert str(explain(unit, probe=np.abs(x))) == "y = x0**(3/4)*x1"


def test_nau_nmu_with_a_split_hidden_unit_reads_back_as_the_network_not_the_target():
    # The saddle ordinary madsen2020 seeds sit at (docs/readback.md): inputs used only by a or only by b
    # split 0.5/0.5 between the two hidden units. Read back exactly, it is not a·b.
    task = StaticTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first")  # a = x0 + x1, b = x2 + x3
    net = build_model("nau/nmu", 4, 1, hidden=2, dtype=torch.float64)
    with torch.no_grad():
        net[0].W.copy_(torch.tensor([[1.0, 0.5, 0.5, 0.0], [0.0, 0.5, 0.5, 1.0]])), net[1].W.fill_(1.0)
    explanation, check = explain_and_verify(net, task, "mul", seed=0)
    x0, x1, x2, x3 = explanation.symbols
    assert sympy.simplify(explanation.expr - (x0 + x1 / 2 + x2 / 2) * (x1 / 2 + x2 / 2 + x3)) == 0
    assert explanation.reading == Reading(Grid(2)) and check.reproduces_network and not check.matches_target
    with torch.no_grad():  # the unit that should hold b holds it with the wrong NMU weight: 1/2
        net[0].W.copy_(torch.as_tensor(task.layout(0).T)), net[1].W.copy_(torch.tensor([[1.0, 0.5]]))
    explanation, check = explain_and_verify(net, task, "mul", seed=0)
    assert sympy.simplify(explanation.expr - (x0 + x1) * ((x2 + x3) / 2 + sympy.Rational(1, 2))) == 0
    assert not check.matches_target


def test_a_nalu_gate_near_one_half_is_reported_and_not_rounded_into_a_formula():
    nalu = NALU(2, 1, dtype=torch.float64)
    set_nac(nalu, [[1, 1]])
    with torch.no_grad():
        nalu.G.copy_(torch.tensor([[0.3, -0.3]]))  # σ(0.3·(x0 - x1)): about 0.5, varying with x
    explanation, check = explain_and_verify(nalu, TWO, "add", seed=0)
    assert explanation.notes and "undecided" in explanation.notes[0]
    assert explanation.expr.has(sympy.Float) and explanation.rounding_changed_output
    assert str(explanation) not in ("y = x0 + x1", "y = x0*x1")
    assert not check.formula_is_target and not check.matches_target


def test_grid_rounds_to_the_nearest_simplest_rational():
    rounded, distances = Grid(4).round(np.array([0.5, 0.26, 0.34, 0.9, 1.7, -0.62]), -1, 1)
    np.testing.assert_allclose(rounded, [0.5, 0.25, 1 / 3, 1.0, 1.0, -2 / 3])
    np.testing.assert_allclose(distances, [0.0, 0.01, 0.34 - 1 / 3, 0.1, 0.0, 2 / 3 - 0.62])
    np.testing.assert_array_equal(Grid(1).round(np.array([0.49, 0.51, -1.3]), -1, 1)[0], [0.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="denominator"):
        Grid(5)


# -- failed networks -----------------------------------------------------------------------
def test_half_weights_do_not_match():
    seed = 0
    net = exact_nau_nmu(MADSEN, seed)
    with torch.no_grad():
        net[1].W.fill_(0.5)  # rounds to 1 (numpy rounds half to even: 0) — either way not a·b
        net[0].W.fill_(0.5)
    explanation = explain(net, probe=probe(MADSEN, seed))
    check = verify(explanation, MADSEN, "mul", seed, n=100)
    assert not check.matches_target
    assert check.formula_vs_target["interpolation"] > 0.1


def test_untrained_nac_does_not_match():
    (result,) = train_population("nac", [Member(2, "add", SMALL)], TrainConfig(iterations=0, hidden=None, eval_samples=64))
    net = TrainConfig(hidden=None).load_network("nac", SMALL, result.weights)
    check = verify(explain(net, probe=probe(SMALL, 2)), SMALL, "add", 2, n=100)
    assert not check.matches_target


# -- trained networks ----------------------------------------------------------------------
def trained(model, target, task, seed, config, init_seed=None):
    (result,) = train_population(model, [Member(seed, target, task, init_seed=init_seed)], config)
    return config.load_network(model, task, result.weights)


def test_trained_nac_finds_the_subsets():
    seed = 1
    config = TrainConfig(lr=0.05, iterations=1500, eval_every=1500, eval_samples=64, hidden=None)
    net = trained("nac", "add", SMALL, seed, config)
    explanation = explain(net, probe=probe(SMALL, seed))
    np.testing.assert_array_equal(coefficients(str(explanation), 10), SMALL.layout(seed).sum(1))
    check = verify(explanation, SMALL, "add", seed, n=200)
    # After 1,500 steps the weights are near 1 but the network is still 6-10% off a + b: the
    # formula is the target, the network does not match it yet.
    assert check.formula_is_target and check.network_vs_target["extrapolation"] > 0.01
    assert not check.matches_target


NAU_NMU_FAST = TrainConfig(lr=1e-2, iterations=10_000, eval_every=10_000, eval_samples=64, hidden=2,
                           unit_options={"nmu": {"regularizer_start": 4000, "regularizer_end": 8000},
                                         "nau": {"regularizer_start": 4000, "regularizer_end": 8000,
                                                 "regularizer_scale": 0.1}})


@pytest.mark.slow  # 8 s of training
def test_trained_nau_nmu_learns_a_times_b_on_a_small_task():
    # Searched offline over seeds 0-15: this setting solves seeds 1, 3, 7 and 10 with every
    # weight within 1e-4 of its rounded value; seed 10 also solved every shorter variant tried.
    seed = 10
    net = trained("nau/nmu", "mul", SMALL, seed, NAU_NMU_FAST)
    explanation = explain(net, probe=probe(SMALL, seed))
    assert max(explanation.max_distance) < 0.01
    assert not explanation.rounding_changed_output
    check = verify(explanation, SMALL, "mul", seed, n=200)
    assert check.matches_target
    assert check.formula_vs_target["extrapolation"] < 1e-12
    assert "sum(x[" in str(explanation)


# NAU -> NMU on the madsen2020 task itself (issue #6): Adam, lr 1e-3, batch 128, 30k steps; both
# regularizers ramp from step 10k to 15k, the NAU's to 1000 (its default 0.01 barely moves the
# weights in this budget), the NMU's to its default scale 10.
NAU_NMU_MADSEN = TrainConfig(lr=1e-3, iterations=30_000, eval_every=30_000, eval_samples=1000, hidden=2,
                             unit_options={"nau": {"regularizer_scale": 1000, "regularizer_start": 10_000,
                                                   "regularizer_end": 15_000},
                                           "nmu": {"regularizer_scale": 10, "regularizer_start": 10_000,
                                                   "regularizer_end": 15_000}})


@pytest.mark.slow
def test_trained_nau_nmu_learns_a_times_b_on_madsen2020():
    # Why a chosen initialization: a = sum(x[A]) + sum(x[O]), b = sum(x[B]) + sum(x[O]). Within
    # 10k steps the network sums the overlap O into both hidden units, drops the unused inputs
    # and splits each of the 26 inputs of A and B about 0.5/0.5 between the units. That split
    # is a saddle: its way out curves ~1e5-1e6 times less than the direction that scales both
    # sums (inputs have mean 1.5, hidden values ~37), and Adam leaves it at ~3.5e-6 per step
    # whatever the lr (1e-3 to 1e-2) or batch size (128, 1024), i.e. after ~1e6 steps (the
    # paper's median "solved at" for a*b is 1.4e6). Until then Adam keeps each input's
    # difference between its two initial weights, and the NAU regularizer sends the input to
    # the unit whose weight started larger. So a run this short solves the task only from an
    # initialization whose differences already have one sign on A and the other on B:
    # init_seed 15195076 was found by scanning NAU initializations 0 to 2.1e7 for that (25
    # found, 32 (initialization, layout offset) pairs); seed 5 has this one's offset (A = x[42:55]).
    # Trained with this setting, 4 of the 32 pairs solved the task, and this initialization
    # solved it with each of 8 data seeds of the same layout (5, 44, 235, 268, 329, 519, 565,
    # 674); seeds 0-31 with their own initialization solve none. About 50 s on one core.
    seed, init_seed = 5, 15195076
    net = trained("nau/nmu", "mul", MADSEN, seed, NAU_NMU_MADSEN, init_seed=init_seed)
    explanation = explain(net, probe=probe(MADSEN, seed))
    assert max(explanation.max_distance) < 1e-3
    assert not explanation.rounding_changed_output
    check = verify(explanation, MADSEN, "mul", seed, n=200)
    assert check.matches_target
    assert check.formula_vs_target["extrapolation"] < 1e-12
    assert sympy.expand(explanation.expr - target_expression(MADSEN, "mul", seed, explanation.symbols)) == 0


# -- CLI -----------------------------------------------------------------------------------
def nalm(*argv) -> tuple[int, str, str]:
    from nalm.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def test_cli_explains_a_stored_run(tmp_path):
    from nalm.results import ResultsStore

    store = tmp_path / "nalm.sqlite"
    code, _, err = nalm("run", "mistry2022-single", "--units", "nau", "--targets", "add", "--seeds", "1",
                        "--iterations", "3000", "--config", '{"eval_samples": 200, "eval_every": 1000, "lr": 0.01}',
                        "--results", store, "--quiet")
    assert code == 0, err
    with ResultsStore(store) as results:
        run_id = results.runs("mistry2022-single")[0].run_id
    code, out, err = nalm("explain", run_id, "--results", store)
    assert code == 0, err
    assert "y = x0 + x1" in out
    assert "matches the target: yes" in out
    assert "rounding changed the output: no" in out

    code, out, err = nalm("explain", 9999, "--results", store)
    assert code == 2 and "no run with run_id 9999" in err and len(err.strip().splitlines()) == 1
    code, _, err = nalm("explain", 1, "--results", tmp_path / "missing.sqlite")
    assert code == 2 and "no results store" in err


def test_cli_explains_a_run_of_an_experiment_made_in_python(tmp_path):
    """An experiment built in Python (here blog-static renamed) is in no registry: its runs are
    read back from their stored configs alone."""
    import dataclasses

    from nalm.experiments import EXPERIMENTS
    from nalm.results import ResultsStore
    from nalm.runner import run_experiment

    mine = dataclasses.replace(EXPERIMENTS["blog-static"], name="my-blog")
    with ResultsStore(tmp_path / "nalm.sqlite") as store:
        run_experiment(mine, store, models=["nac"], targets=["add"], seeds=1,
                       overrides={"iterations": 5, "eval_every": 5, "eval_samples": 16})
        (run,) = store.runs("my-blog")
    code, out, err = nalm("explain", run.run_id, "--results", tmp_path / "nalm.sqlite")
    assert code == 0, err
    assert out.startswith(f"run {run.run_id}: nac, target add, seed 0\n") and "matches the target:" in out


def test_a_formula_that_divides_by_zero_is_refused():
    """A NAC under a NALU whose hidden value 0.1·(x0 + x1) rounds to 0 under the exponent -1: every
    reading gives y = zoo (complex infinity), which is no formula; the network itself adds eps."""
    net = build_model("nac/nalu", 2, 1, hidden=2, dtype=torch.float64)
    first, second = net
    with torch.no_grad():
        first.W_hat.copy_(torch.tensor([[math.atanh(0.1), math.atanh(0.1)], [SAT, 0.0]]))
        first.M_hat.copy_(torch.tensor([[SAT, SAT], [SAT, -SAT]]))
        second.W_hat.copy_(torch.tensor([[-SAT, SAT]]))
        second.M_hat.fill_(SAT)
        second.G.fill_(-SAT)  # the multiplicative path: x0 / (0.1 (x0 + x1))
    assert torch.isfinite(net(torch.rand(4, 2, dtype=torch.float64) + 1)).all()
    with pytest.raises(ExplainError, match="divides by zero"):
        explain(net)


def test_a_reading_that_divides_by_zero_gives_way_to_one_that_does_not():
    """As above with the hidden value 0.26·(x0 + x1): the integer reading divides by zero; no
    reading is exact, and the closest, in quarters, is the formula (the first reading's
    unmeasurable change must not hide it)."""
    net = build_model("nac/nalu", 2, 1, hidden=2, dtype=torch.float64)
    first, second = net
    with torch.no_grad():
        first.W_hat.copy_(torch.tensor([[math.atanh(0.26), math.atanh(0.26)], [SAT, 0.0]]))
        first.M_hat.copy_(torch.tensor([[SAT, SAT], [SAT, -SAT]]))
        second.W_hat.copy_(torch.tensor([[-SAT, SAT]]))
        second.M_hat.fill_(SAT)
        second.G.fill_(-SAT)  # the multiplicative path: x0 / (0.26 (x0 + x1))
    explanation = explain(net)
    assert explanation.rounding_changed_output
    x0, x1 = explanation.symbols
    assert sympy.simplify(explanation.outputs[0] - 4 * x0 / (x0 + x1)) == 0


def test_a_product_of_roots_of_sums_is_tidied_without_multiplying_the_sums_out(monkeypatch):
    """A NAC• of hidden size 4 read back as √(Σa)·√(Σb)·(Σc)·√(Σd): combining the roots' bases
    multiplies the sums out to compare them (minutes with 25-term sums); tidy only gathers
    exponents, and keeps the product factored."""
    import importlib

    from nalm.explain.formula import tidy

    powsimp = importlib.import_module("sympy.simplify.powsimp")
    expanded = []
    monkeypatch.setattr(powsimp, "expand_mul", lambda *args, **kwargs: expanded.append(args) or args[0])
    x = sympy.symbols("x0:12", positive=True)
    a, b, c, d = (sum(x[i:i + 3]) / 2 for i in (0, 3, 6, 9))
    formula = sympy.sqrt(a) * sympy.sqrt(b) * c * sympy.sqrt(d)
    assert tidy(formula) == formula and expanded == []
    assert tidy(x[0] * x[0] * sympy.sqrt(x[1]) * sympy.sqrt(x[1])) == x[0] ** 2 * x[1]  # powers still gather
