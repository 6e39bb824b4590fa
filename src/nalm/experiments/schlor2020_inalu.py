"""Schlör et al. (2020), iNALU's minimal arithmetic task: one unit on [a, b] from uniform, normal and exponential inputs.

Schlör, Ring & Hotho, "iNALU: Improved Neural Arithmetic Logic Unit" (Frontiers in Artificial
Intelligence 2020), experiment 1 (daschloer/inalu ``experiment_runs/exp1``): a single unit
2 → 1 learns a + b, a − b, a·b and a / b, with a and b drawn from seven input distributions and
tested on a distant one, for the NALU (the paper's matrix and vector gating, one model at one
output), the iNALU with shared weights and the iNALU with independent weights. The published
numbers are the success rates of the repository's per-run results (1,120 runs).
"""
from ..report.published import Published
from ..scoring.thresholds import FixedThreshold
from ..tasks.distributions import DistributionTask
from ..train import TrainConfig
from ..units.network import option_keys
from .arithmetic import ArithmeticTasks
from .spec import Deviation, Experiment

REPO = "daschloer/inalu@0da333d"
SCRIPT = f"{REPO} nalu_syn_simple_arith.py"
PLANNER = f"{REPO} experiment_runs/exp1/experimentplanner.py"
RESULTS = f"{REPO} experiment_runs/exp1/exp1_nalu_minimal_arith_results_ext.csv"

# (label, distribution, interpolation, extrapolation): the seven settings of the repository's
# results (experimentplanner.py:22-33; results.py:43-45 keeps the exponential scales 0.2 and 0.8).
SETTINGS = (
    ("U[-1, 1]", "uniform", [-1, 1], "U[-10, -5]", [-10, -5]),
    ("U[-5, 5]", "uniform", [-5, 5], "U[-10, -5]", [-10, -5]),
    ("N[-3, 3]", "truncated-normal", [-3, 3], "N[8, 10]", [8, 10]),
    ("N[-4, 2]", "truncated-normal", [-4, 2], "N[8, 10]", [8, 10]),
    ("N[-2, 4]", "truncated-normal", [-2, 4], "N[8, 10]", [8, 10]),
    ("Exp(0.2)", "exponential", [0, 0.2], "Exp(0.5)", [0, 0.5]),
    ("Exp(0.8)", "exponential", [0, 0.8], "Exp(0.5)", [0, 0.5]),
)
"""Each setting: its label, the distribution, the interpolation range, the extrapolation's label and
range. N[lo, hi] is the normal truncated to [lo, hi] (:class:`~nalm.tasks.DistributionTask`)."""
TASKS = tuple(DistributionTask(distribution, interpolation, extrapolation)
              for _, distribution, interpolation, _, extrapolation in SETTINGS)

MODELS = {"NALU (m)": "nalu", "NALU (v)": "nalu", "iNALU (sw)": "inalu-sw", "iNALU (iw)": "inalu"}

# Success rates over the repository's 10 seeds (100-109) of each (setting, model, operation): the
# share of runs whose last extrapolation MSE (epoch 99) is below 1e-5, as results.py:162-173
# counts them. Transcribed once, by a script run on RESULTS (1,120 rows, 10 per cell, none nan).
PUBLISHED_RATES = {
    "U[-1, 1]": {
        "NALU (m)": {"add": 1, "sub": 0, "mul": 0.8, "div": 0},
        "NALU (v)": {"add": 1, "sub": 0, "mul": 0.8, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 0.9, "mul": 0.2, "div": 0.4},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 1, "div": 0.3},
    },
    "U[-5, 5]": {
        "NALU (m)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "NALU (v)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 0.8, "mul": 1, "div": 0.4},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 1, "div": 0.3},
    },
    "N[-3, 3]": {
        "NALU (m)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "NALU (v)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 0.9, "mul": 0.2, "div": 0.4},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 1, "div": 0.3},
    },
    "N[-4, 2]": {
        "NALU (m)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "NALU (v)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 0.8, "mul": 0, "div": 0.1},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 0, "div": 0.3},
    },
    "N[-2, 4]": {
        "NALU (m)": {"add": 1, "sub": 0, "mul": 0.8, "div": 0},
        "NALU (v)": {"add": 1, "sub": 0, "mul": 0.8, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 0.9, "mul": 1, "div": 0.6},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 1, "div": 0.5},
    },
    "Exp(0.2)": {
        "NALU (m)": {"add": 0, "sub": 0, "mul": 0.7, "div": 0},
        "NALU (v)": {"add": 0, "sub": 0, "mul": 0.7, "div": 0},
        "iNALU (sw)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 0, "div": 0},
    },
    "Exp(0.8)": {
        "NALU (m)": {"add": 1, "sub": 0, "mul": 1, "div": 0},
        "NALU (v)": {"add": 1, "sub": 0, "mul": 1, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 1, "mul": 1, "div": 0.5},
        "iNALU (iw)": {"add": 1, "sub": 1, "mul": 1, "div": 0.7},
    },
}

PUBLISHED = tuple(
    Published(source=f"Schlör et al. 2020, experiment 1, {label} -> {SETTINGS[i][3]}: success rate over 10 seeds "
                     f"per cell ({RESULTS})",
              metric="success_rate", models=MODELS, values=PUBLISHED_RATES[label],
              protocol={"iterations": 100_000, "seeds": 10}, task=i)
    for i, (label, *_) in enumerate(SETTINGS))


def unit_options(model: str, target: str, iterations: int) -> dict:
    """The iNALUs' options as the reference's script sets them for every unit: weights and gate
    drawn from N(1, 0.1), N(−1, 0.1) and N(0, 0.1) (``nalu_syn_simple_arith.py:48-54``), the
    regularizer from the first step of epoch 11 (``:209``: ``epoch > 10``; 11% of the run), and
    re-initialization once more than a tenth of the run's losses are stored (``:214``:
    ``len(losses) > 10000`` of 100,000 steps).

    >>> unit_options("inalu-sw", "mul", 100_000)["inalu-sw"]["regularizer_start"]
    11001
    """
    inalu = {"init_mean": (1.0, -1.0, 0.0), "init_std": (0.1, 0.1, 0.1), "eps": 1e-7, "omega": 20.0,
             "regularizer_start": iterations * 11 // 100 + 1, "regularizer_max_error": 1.0,
             "reinitialize": {"min_stored": iterations // 10, "every": 10, "threshold": 1.0}}
    options = {"nalu": {"eps": 1e-7}, "inalu": inalu, "inalu-sw": inalu}
    return {unit: o for unit, o in options.items() if unit in option_keys(model)}


EXPERIMENT = Experiment(
    name="schlor2020-inalu",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=TASKS,
        task_labels=tuple(f"{label} -> {extrapolation}" for label, _, _, extrapolation, _ in SETTINGS),
        threshold_rule=FixedThreshold(1e-5),
        primary="success_rate",
    ),
    models=("nalu", "inalu-sw", "inalu"),
    targets=("add", "sub", "mul", "div"),
    seeds=3,
    train=TrainConfig(optimizer="rmsprop", lr=0.01, batch_size=64, iterations=10_000, eval_every=1000,
                      eval_samples=10_000, grad_clip=0.1, hidden=None),
    paper_seeds=10,
    paper_scale={"iterations": 100_000, "eval_samples": 64_000},
    unit_options=unit_options,
    published=PUBLISHED,
    sources={
        "task": f"{SCRIPT}:57-79 (sample: two inputs a, b from one distribution; truncated normal of mean "
                "(lo + hi)/2 and std (hi − lo)/6 on [lo, hi], U[lo, hi], or Exp(scale)), :84-92 (a op b)",
        "ranges": f"{PLANNER}:22-33 (interpolation per distribution; extrapolation U[-10, -5], N on [8, 10], "
                  f"Exp(0.5)); the seven with results: {RESULTS} (U[-1, 1], U[-5, 5], N on [-3, 3], [-4, 2], "
                  "[-2, 4]; Exp 0.2 and 0.8 as results.py:43-45 keeps them); Schlör et al. 2020, section 4.1",
        "targets": f"{PLANNER}:37 (add, sub, mul, div)",
        "seeds": f"{PLANNER}:36 (seeds 100..109)",
        "iterations": f"{SCRIPT}:196-220 (100 epochs of 64,000 samples in batches of 64: 100,000 steps)",
        "optimizer": f"{SCRIPT}:151 (RMSProp, lr 0.01), :155-177 (every gradient clipped by value to ±0.1)",
        "batch size": f"{SCRIPT}:94 (64)",
        "network": f"{SCRIPT}:121 (one unit, 2 → 1)",
        "evaluation": f"{SCRIPT}:104-118 (interpolation and extrapolation sets of 64,000 samples), :223-250 "
                      "(evaluated every 1,000 steps; the result is the last line)",
        "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models); the paper "
                    "reports none",
        "metric": f"{REPO} results.py:162-173 (success: the last extrapolation MSE below 1e-5), Schlör et al. "
                  "2020, section 4",
        "threshold": f"{REPO} results.py:167 (1e-5, whatever the operation and range)",
        "models": f"{PLANNER}:41 (nalu__paperm, nalu__paperv, nalui1, nalui2), {REPO} "
                  "nalu_architectures.py:111-275; results.py:101-105 (their names NALU (m), NALU (v), iNALU (sw), "
                  "iNALU (iw))",
        "model nalu": "NALU (m) and NALU (v) both: at one output the vector gate (nalu_architectures.py:145-166, "
                      "G of shape [2]) is the matrix gate (:111-141, G of shape [2, 1])",
        "unit options: inalu": f"{SCRIPT}:48-54 (Ŵ ~ N(1, 0.1), M̂ ~ N(−1, 0.1), G ~ N(0, 0.1)); "
                               "nalu_architectures.py:202-238 (separate weights, gate σ(G) independent of the input, "
                               "log path max(|x|, 1e-7) clipped at 20, sign recovery); regularizer "
                               f"0.05·Σ mean(max(20 − |P|, 0)) ({SCRIPT}:142-147) once epoch > 10 while the loss < 1 "
                               "(:208-211); re-initialization (:214-218)",
        "unit options: inalu-sw": "as the iNALU's, one weight for both paths (nalu_architectures.py:241-275)",
        "unit options: nalu": "eps 1e-7 added to |x| (nalu_architectures.py:129, :161)",
    },
    deviations=(
        Deviation("iterations", "100,000 steps over 10 seeds (nalu_syn_simple_arith.py:196-220; "
                  "experimentplanner.py:36)", "10,000 steps and 3 seeds by default, evaluation sets of 10,000 "
                  "(--paper-scale: 100,000 steps, 10 seeds, sets of 64,000); the regularizer's start and the "
                  "re-initialization's wait scale with the run",
                  "84 cells of 100,000 steps take hours on two cores; the default fits a session"),
        Deviation("batch size", "one fixed set of 64,000 samples per run, read in order in batches of 64 for "
                  "100 epochs (nalu_syn_simple_arith.py:104, 199-201)", "a fresh batch of 64 every step",
                  "the reference's set is an artefact of its data pipeline; a fresh batch is the same distribution "
                  "and makes a step's batch drawable alone"),
        Deviation("optimizer", "TensorFlow 1's RMSProp: decay 0.9, epsilon 1e-10; the weights alone on 8 of "
                  "every 10 batches, the gate alone on the other 2 (nalu_syn_simple_arith.py:203-206)",
                  "nalm's RMSprop (α 0.99, ε 1e-8), every parameter at every step",
                  "nalm's optimizer has no decay option or per-parameter schedule; a unit's contract trains "
                  "all its parameters together"),
        Deviation("metric", "success when the last evaluation's extrapolation MSE (after 100,000 steps) is below "
                  "1e-5 (results.py:162-173)", "success when the extrapolation MSE at the evaluation with the lowest "
                  "interpolation MSE is below 1e-5 (Madsen & Johansen's criterion, nalm's for every experiment)",
                  "one criterion across nalm's reports; a run that stays solved gives both the same answer"),
        Deviation("model inalu", "the regularizer is a separate pair of optimizer steps on the "
                  "regularization loss alone (weights, then gate), after epoch 10 while the training batch's loss "
                  "is below 1 (nalu_syn_simple_arith.py:208-211); re-initialization tested at every step of "
                  "epochs 10, 20, ... on the training losses, drawing every variable from U[-2, 2] (:182-185, "
                  ":214-218)", "the regularizer added to the loss while the latest interpolation MSE is below 1; "
                  "plateaus tested every 10 steps on the latest interpolation MSE (PlateauReset), a member "
                  "re-drawn from its own init", "the iNALU unit's one scheme, as the NALM benchmark runs it"),
        Deviation("model nalu", "the NALU drawn as the iNALUs (Ŵ ~ N(1, 0.1), M̂ ~ N(−1, 0.1), G ~ N(0, 0.1)), "
                  "regularized and re-initialized as they are (nalu_syn_simple_arith.py:124-147, 214-218)",
                  "nalm's NALU: the stable-nalu init, no regularizer, no re-initialization",
                  "nalm's NALU has neither training aid, and giving it the iNALU's would make it another unit; "
                  "its init is a constructor option with no normal draw"),
        Deviation("ranges", "experimentplanner.py:22-28 plans 18 interpolation settings (8 uniform, 5 normal, "
                  "5 exponential)", "the 7 of them the repository has results for",
                  "only those have published numbers to compare with"),
    ),
)
