"""``nalm.explain``: formulas of exact, trained and failed networks, and ``nalm explain RUN_ID``."""
from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
import sympy
import torch

from nalm import INALU, NAC, NALU, NAU, NMU, NPU, FauxNALU, MultiplicativeNAC, RealNPU, build_model
from nalm.explain import ExplainError, compact_str, explain, target_expression, verify
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
    assert verify(explanation, SMALL, "mul", seed, n=100).matches_target  # the rounded formula is right


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
    assert verify(explanation, SMALL, "add", seed, n=200).matches_target


NAU_NMU_FAST = TrainConfig(lr=1e-2, iterations=10_000, eval_every=10_000, eval_samples=64, hidden=2,
                           unit_options={"nmu": {"regularizer_start": 4000, "regularizer_end": 8000},
                                         "nau": {"regularizer_start": 4000, "regularizer_end": 8000,
                                                 "regularizer_scale": 0.1}})


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
