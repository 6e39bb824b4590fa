"""Schlör et al. (2020), iNALU's simple function task: a two-layer network 100 → 2 → 1 on [a, b] summed from 100 uniform or normal inputs.

Schlör, Ring & Hotho, "iNALU: Improved Neural Arithmetic Logic Unit" (Frontiers in Artificial
Intelligence 2020), experiment 4 (daschloer/inalu ``experiment_runs/exp4``): 100 inputs from
U[-3, 3] or a normal truncated to [-3, 3], each summed into a (chance 1/2), b (1/4) or neither;
the network learns a + b, a − b, a·b and a / b and is tested on U[-5, -3] or N[3, 4]. The NALU
(matrix gates), the iNALU with shared weights and the iNALU with independent weights, each in
both layers. The published numbers are the success rates of the repository's per-run results
(320 runs).
"""
from ..report.published import Published
from ..scoring.thresholds import FixedThreshold
from ..tasks.distributions import SelectorTask
from ..train import TrainConfig
from .arithmetic import ArithmeticTasks
from .schlor2020_inalu import REPO, unit_options
from .spec import Deviation, Experiment

SCRIPT = f"{REPO} nalu_syn_simple_func.py"
PLANNER = f"{REPO} experiment_runs/exp4/experimentplanner.py"
RESULTS = f"{REPO} experiment_runs/exp4/exp14_nalu_simple_func_results_ext.csv"
LEGEND = f"{REPO} experiment_runs/exp4/exp14_nalu_simple_func_ext_legend.txt"

# (label, distribution, interpolation, extrapolation's label, extrapolation): the planner's two
# settings (experimentplanner.py:22-29), in its order (:35).
SETTINGS = (
    ("U[-3, 3]", "uniform", [-3, 3], "U[-5, -3]", [-5, -3]),
    ("N[-3, 3]", "truncated-normal", [-3, 3], "N[3, 4]", [3, 4]),
)
"""Each setting: its label, the distribution, the interpolation range, the extrapolation's label and
range. N[lo, hi] is the normal of mean (lo + hi)/2 and standard deviation (hi − lo)/6 truncated to
[lo, hi], as the reference draws it (nalu_syn_simple_func.py:56-62, :71-79)."""
TASKS = tuple(SelectorTask(distribution, interpolation, extrapolation)
              for _, distribution, interpolation, _, extrapolation in SETTINGS)

MODELS = {"NALU (m)": "nalu", "iNALU (sw)": "inalu-sw", "iNALU (iw)": "inalu"}

# Success rates over the repository's 10 seeds (100-109) of each (setting, model, operation): the
# share of runs whose last extrapolation MSE (epoch 99) is below 1e-5, as results.py:162-173
# counts them (a NAN loss, 28 of the 320 rows, is a failure). Transcribed once, by a script run on
# RESULTS (320 rows, 10 per cell); LEGEND, the rates results.py wrote for the paper's figure, holds
# the same numbers. NALU (v), whose vector gate is one gate for all of a layer's outputs, is in no
# nalm unit; its cells are 0 as NALU (m)'s.
PUBLISHED_RATES = {
    "U[-3, 3]": {
        "NALU (m)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 1, "mul": 0, "div": 0},
        "iNALU (iw)": {"add": 0.9, "sub": 1, "mul": 0, "div": 0},
    },
    "N[-3, 3]": {
        "NALU (m)": {"add": 0, "sub": 0, "mul": 0, "div": 0},
        "iNALU (sw)": {"add": 1, "sub": 0.3, "mul": 0, "div": 0},
        "iNALU (iw)": {"add": 0.7, "sub": 0.7, "mul": 0, "div": 0},
    },
}

PUBLISHED = tuple(
    Published(source=f"Schlör et al. 2020, experiment 4, {label} -> {SETTINGS[i][3]}: success rate over 10 seeds "
                     f"per cell ({RESULTS}; the same rates in {LEGEND})",
              metric="success_rate", models=MODELS, values=PUBLISHED_RATES[label],
              protocol={"iterations": 100_000, "seeds": 10}, task=i)
    for i, (label, *_) in enumerate(SETTINGS))

SOURCES = {
    "task": f"{SCRIPT}:35-108 (100 inputs, :46; each summed into a or b or neither by "
            "np.round(np.random.uniform(0, 2, 100)) - 1, :50-51, :93-106; the target op(a, b), :106)",
    "iterations": f"{SCRIPT}:181, :290-314 (100 epochs of a fixed set of 64,000 samples in batches of 64: "
                  "100,000 steps)",
    "optimizer": f"{SCRIPT}:244 (RMSProp, lr 0.01), :247-270 (every gradient clipped by value to ±0.1)",
    "batch size": f"{SCRIPT}:190 (64)",
    "network": f"{SCRIPT}:202 (nalu_net(X, 100, 2, 1): two layers of one unit kind, "
               f"{REPO} nalu_architectures.py:328-336)",
    "evaluation": f"{SCRIPT}:184-187 (interpolation and extrapolation sets of 64,000 samples, the training "
                  "set's selection), :317-346 (evaluated every 1,000 steps; the result is the last line)",
    "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models); the paper "
                "reports none",
    "metric": f"{REPO} results.py:162-173 (success: the last extrapolation MSE below 1e-5), Schlör et al. "
              "2020, section 4",
    "threshold": f"{REPO} results.py:167 (1e-5, whatever the operation and range)",
    "unit options: inalu": f"{SCRIPT}:163-169 (Ŵ ~ N(1, 0.1), M̂ ~ N(−1, 0.1), G ~ N(0, 0.1)); "
                           f"{REPO} nalu_architectures.py:202-238 (separate weights, gate σ(G) independent of the "
                           "input, log path max(|x|, 1e-7) clipped at 20, sign recovery); regularizer "
                           f"0.05·Σ mean(max(20 − |P|, 0)) ({SCRIPT}:235-240) once epoch > 10 while the loss < 1 "
                           "(:301-304); re-initialization (:274-277, :307-311)",
    "unit options: inalu-sw": f"as the iNALU's, one weight for both paths ({REPO} nalu_architectures.py:241-275)",
    "unit options: nalu": f"eps 1e-7 added to |x| ({REPO} nalu_architectures.py:129)",
}
"""The card's sources that experiment 4 shares with experiment 3 (:mod:`.schlor2020_inalu_init`),
whose training script is this one's predecessor."""


def deviations(train: TrainConfig, seeds: int, paper_seeds: int, runs: str) -> tuple[Deviation, ...]:
    """The departures from ``nalu_syn_simple_func.py`` that experiments 3 and 4 share: the default
    scale (``train`` and ``seeds`` against 100,000 steps and ``paper_seeds``; ``runs``: what the
    published protocol trains), the data, the optimizer, the metric and the iNALU's training aids."""
    return (
        Deviation("iterations", f"100,000 steps over {paper_seeds} seeds (nalu_syn_simple_func.py:181, :290)",
                  f"{train.iterations:,} steps and {seeds} seed{'s' * (seeds > 1)} by default, evaluation sets of "
                  f"{train.eval_samples:,} (--paper-scale: 100,000 steps, {paper_seeds} seeds, sets of 64,000); the "
                  "regularizer's start and the re-initialization's wait scale with the run",
                  f"{runs} of 100,000 steps take days on two cores, the iNALU's steps through autograd; the default "
                  "fits a session"),
        Deviation("task", "the selection of a and b and all three data sets are drawn before the seed is set "
                  "(nalu_syn_simple_func.py:183-187, seeded at :193-195), so they differ from run to run unseeded; "
                  "one fixed set of 64,000 training samples, read in order in batches of 64 for 100 epochs "
                  "(:181, :293-295)", "the selection fixed by the seed (the same for every model and operation), "
                  "a fresh batch every step",
                  "a run must be reproducible from its seed; a fresh batch is the same distribution and makes a "
                  "step's batch drawable alone"),
        Deviation("optimizer", "TensorFlow 1's RMSProp: decay 0.9, epsilon 1e-10; the weights alone on 8 of "
                  "every 10 batches, the gates alone on the other 2 (nalu_syn_simple_func.py:244-261, :297-300)",
                  "nalm's RMSprop (α 0.99, ε 1e-8), every parameter at every step",
                  "nalm's optimizer has no decay option or per-parameter schedule; a unit's contract trains "
                  "all its parameters together"),
        Deviation("metric", "success when the last evaluation's extrapolation MSE (after 100,000 steps) is below "
                  "1e-5 (results.py:162-173)", "success when the extrapolation MSE at the evaluation with the lowest "
                  "interpolation MSE is below 1e-5 (Madsen & Johansen's criterion, nalm's for every experiment)",
                  "one criterion across nalm's reports; a run that stays solved gives both the same answer"),
        Deviation("model inalu", "the regularizer is a separate pair of optimizer steps on the regularization "
                  "loss alone (weights, then gates), after epoch 10 while the training batch's loss is below 1 "
                  "(nalu_syn_simple_func.py:301-304); re-initialization tested at every step of epochs 10, 20, ... "
                  "on the training losses, drawing every variable of both layers from U[-2, 2] (:274-277, :307-311)",
                  "the regularizer added to the loss while the latest interpolation MSE is below 1; plateaus "
                  "tested every 10 steps on the latest interpolation MSE (PlateauReset), a member re-drawn from "
                  "its own init", "the iNALU unit's one scheme, as the NALM benchmark runs it"),
    )


TRAIN = TrainConfig(optimizer="rmsprop", lr=0.01, batch_size=64, iterations=5_000, eval_every=1000,
                    eval_samples=10_000, grad_clip=0.1, hidden=2)

EXPERIMENT = Experiment(
    name="schlor2020-inalu-functions",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=TASKS,
        task_labels=tuple(f"{label} -> {extrapolation}" for label, _, _, extrapolation, _ in SETTINGS),
        threshold_rule=FixedThreshold(1e-5),
        primary="success_rate",
    ),
    models=("nalu", "inalu-sw", "inalu"),
    targets=("add", "sub", "mul", "div"),
    seeds=2,
    train=TRAIN,
    paper_seeds=10,
    paper_scale={"iterations": 100_000, "eval_samples": 64_000},
    unit_options=unit_options,
    published=PUBLISHED,
    sources={
        **SOURCES,
        "ranges": f"{PLANNER}:22-29 (U[-3, 3] tested on U[-5, -3]; the normal on [-3, 3] tested on the normal on "
                  "[3, 4]); Schlör et al. 2020, section 4",
        "targets": f"{PLANNER}:34 (add, sub, mul, div)",
        "seeds": f"{PLANNER}:33 (seeds 100..109)",
        "models": f"{PLANNER}:38 (nalu__paperm, nalu__paperv, nalui1, nalui2, nalusini1, nalusini2); {RESULTS} "
                  "holds the first four; results.py:101-105 (NALU (m), NALU (v), iNALU (sw), iNALU (iw))",
        "model nalu": f"NALU (m): {REPO} nalu_architectures.py:111-141 (a gate per output, as nalm's NALU)",
    },
    deviations=(
        *deviations(TRAIN, 2, 10, "240 runs"),
        Deviation("models", "six units planned: NALU (m), NALU (v), iNALU (sw), iNALU (iw), nalusini1 and "
                  "nalusini2 (experimentplanner.py:38); results for the first four", "NALU (m) as nalm's nalu, "
                  "iNALU (sw) and iNALU (iw); not NALU (v), nalusini1 or nalusini2",
                  "NALU (v)'s one gate for all of a layer's outputs (nalu_architectures.py:145-166) is no nalm "
                  "unit, and at the hidden layer's two outputs it is not NALU (m); the nalusini units are in no "
                  "file of the repository and have no results"),
        Deviation("model nalu", "the NALU drawn as the iNALUs (Ŵ ~ N(1, 0.1), M̂ ~ N(−1, 0.1), G ~ N(0, 0.1)), "
                  "regularized and re-initialized as they are (nalu_syn_simple_func.py:163-169, 235-240, 301-311)",
                  "nalm's NALU: the stable-nalu init, no regularizer, no re-initialization",
                  "nalm's NALU has neither training aid, and giving it the iNALU's would make it another unit; "
                  "its init is a constructor option with no normal draw"),
    ),
)
