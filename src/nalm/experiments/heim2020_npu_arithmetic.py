"""Heim, Pevný & Šmídl (2020), Neural Power Units: the large-scale arithmetic task (100 inputs; +, ×, 1/x, √x).

Protocol (nmheim/NeuralPowerUnits ``scripts/arithmetic/*_l1_runs.jl``, their configs in
``sobolconfigs.jl``): Madsen & Johansen's static task with 100 inputs, a the sum of inputs 1-50
and b of inputs 39-88; the targets a + b, ab, 1/a and √a, each with ranges of its own (x in
[-1, 1] for + and ×, [0, 0.5] for 1/a, [0, 2] for √a), the inputs the points of one Sobol
sequence, 128 a step; a NAU of 100 × 100 under an NPU, RealNPU, NMU or NaiveNPU, or two NALUs,
every weight starting in U[0, 0.1); RMSprop with a penalty on the weights (the paper's L1) that
grows tenfold every 10,000 of 100,000 steps (the NMU runs 10,000 steps on + and 20,000 on ×). The published table is each
model's validation MSE on 10,000 later Sobol points of twice the range (1/a: on [-0.5, 0]), the
median and median absolute deviation over the best 10 runs (of 10; of 20 on ×).
"""
import torch

from ..report.published import Published
from ..tasks import SobolTask
from ..train import TrainConfig
from ..units.network import option_keys
from .arithmetic import ArithmeticTasks
from .spec import Deviation, Experiment

REFERENCE = "nmheim/NeuralPowerUnits@e1b9a45"
SCRIPTS = f"{REFERENCE} scripts/arithmetic"
CONFIGS = f"{SCRIPTS}/sobolconfigs.jl"
REVALIDATE = f"{SCRIPTS}/revalidate.jl"
DATASET = f"{REFERENCE} src/arithmetic_dataset.jl"
MODELS_JL = f"{REFERENCE} src/arithmetic_models.jl"

PAPER_ITERATIONS = 100_000
"""``niters = 1e5`` (``sobolconfigs.jl:5, 29, 53, 77``)."""


def sobol_task(interpolation, extrapolation) -> SobolTask:
    """100 inputs, a = Σ x[1:50] and b = Σ x[39:88]: subset 0.5, overlap round(0.25 · 50) = 12
    (``sobolconfigs.jl:15-16, 19``; ``src/arithmetic_dataset.jl:4-10``)."""
    return SobolTask(input_size=100, subset_ratio=0.5, overlap_ratio=0.25, placement="first",
                     interpolation=interpolation, extrapolation=extrapolation)


TASKS = (
    sobol_task([-1.0, 1.0], [-2.0, 2.0]),  # + and ×: lowlim -1, uplim 1; revalidated on 2·[lowlim, uplim]
    sobol_task([0.0, 0.5], [-0.5, 0.0]),  # 1/a: [0, 0.5]; revalidated on [-0.5, 0] (revalidate.jl:36-40)
    sobol_task([0.0, 2.0], [0.0, 4.0]),  # √a: [0, 2]; revalidated on [0, 4]
)

MODELS = ("nau/npu", "nau/real-npu", "nalu", "nau/nmu", "nau/naive-npu")

BETAS = {"add": (1e-5, 1e-4), "mul": (1e-5, 1e-4), "reciprocal": (1e-9, 1e-7), "sqrt": (1e-6, 1e-4)}
"""(βstart, βend) of the penalty per target (``sobolconfigs.jl:8-9, 32-33, 56-57, 80-81``),
×10 every 10,000 steps (``:10-11``)."""


def unit_options(model: str, target: str, iterations: int) -> dict:
    """The options of each unit in ``model``, as ``src/arithmetic_models.jl:50-90`` builds its layers.

    Every weight starts in U[0, 0.1) (``initf("rand")``, ``:37-38``), the NALU's gate bias at
    0, the NPU's gate at 1 (``:83``), the RealNPU's at 0.5 (``src/npu.jl:95-96``); eps is the
    float32 machine epsilon (``src/npu.jl:51``). The penalty of :data:`BETAS` grows every tenth
    of the run (every 10,000 steps of the paper's 100,000) and sums each array's 2-norm, as the
    scripts' ``norm(ps, 1)`` computes it (``scripts/arithmetic/add_l1_runs.jl:38``). The NAU and
    the NMU have no regularizer of their own (``src/nau.jl:8-9``, ``src/nmu.jl:9-10``); the NALU
    has a gate bias and eps 1e-8 (``src/nalu.jl:18, 24``).

    >>> unit_options("nau/npu", "reciprocal", 100_000)["npu"]["beta_start"]
    1e-09
    >>> unit_options("nau/npu", "sqrt", 5_000)["npu"]["beta_step"]
    500
    """
    start, end = BETAS[target]
    penalty = {"eps": torch.finfo(torch.float32).eps, "init": "small-uniform", "beta_start": start, "beta_end": end,
               "beta_growth": 10.0, "beta_step": max(1, iterations // 10), "penalty": "norm"}
    options = {
        "npu": {**penalty, "gate_init": 1.0},
        "real-npu": {**penalty, "gate_init": 0.5},
        "naive-npu": penalty,
        "nau": {"regularizer_scale": 0.0, "init": "small-uniform"},
        "nmu": {"regularizer_scale": 0.0, "init": "small-uniform"},
        "nalu": {"gate_bias": True, "eps": 1e-8, "init": "small-uniform"},
    }
    return {unit: o for unit, o in options.items() if unit in option_keys(model)}


PUBLISHED = Published(
    source=f"Heim et al. 2020, section 4.3's table ({REFERENCE} plots/arithmetic100_val.tex, written by "
           "scripts/arithmetic/revalidate.jl:147-204): the validation MSE on 10,000 Sobol points, the median over "
           "the 10 runs of lowest validation error (of 20 on ×), runs with a nan loss left out; the median absolute "
           "deviations are heim2020_npu_arithmetic.MEDIAN_ABSOLUTE_DEVIATIONS. The NALU's × (2.9e83) comes from "
           "runs of an earlier version of the script: mult_l1_runs.jl at e1b9a45 no longer trains the NALU (commit "
           "29fc2f9 took it out of its models, line 58), which nmheim/NeuralPowerUnits@dc3b02a "
           "scripts/arithmetic/mult_l1_runs.jl:58 still trains. Ours is the median over seeds",
    metric="extrapolation_mse",
    models={"NPU": "nau/npu", "RealNPU": "nau/real-npu", "NALU": "nalu", "NMU": "nau/nmu",
            "NaiveNPU": "nau/naive-npu"},
    values={
        "NPU": {"add": 0.092, "mul": 4.28, "reciprocal": 1.0e-7, "sqrt": 0.054},
        "RealNPU": {"add": 0.063, "mul": 3.09, "reciprocal": 1.4e-6, "sqrt": 0.017},
        "NALU": {"add": 740.0, "mul": 2.9e83, "reciprocal": 530.0, "sqrt": 7300.0},
        "NMU": {"add": 0.00602, "mul": 1.7, "reciprocal": 1.622, "sqrt": 10.96},
        "NaiveNPU": {"add": 161.65, "mul": 3750.0, "reciprocal": 5.4e17, "sqrt": 9.3e8},
    },
    protocol={"iterations": PAPER_ITERATIONS, "seeds": 10, "batch_size": 128},
)

MEDIAN_ABSOLUTE_DEVIATIONS = {  # the ± of plots/arithmetic100_val.tex
    "NPU": {"add": 0.031, "mul": 0.9, "reciprocal": 1.0e-7, "sqrt": 0.0078},
    "RealNPU": {"add": 0.014, "mul": 0.74, "reciprocal": 4.0e-7, "sqrt": 0.011},
    "NALU": {"add": 330.0, "mul": 2.9e83, "reciprocal": 200.0, "sqrt": 7200.0},
    "NMU": {"add": 0.00019, "mul": 1.4, "reciprocal": 0.081, "sqrt": 0.89},
    "NaiveNPU": {"add": 0.11, "mul": 870.0, "reciprocal": 5.4e17, "sqrt": 9.3e8},
}

RUNS = {"add": f"{SCRIPTS}/add_l1_runs.jl", "mul": f"{SCRIPTS}/mult_l1_runs.jl",
        "reciprocal": f"{SCRIPTS}/invx_l1_runs.jl", "sqrt": f"{SCRIPTS}/sqrt_l1_runs.jl"}

SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "task": f"{DATASET}:4-36 (a = Σ x[1:50], b = Σ x[39:88]; add, mult, invx = 1/a, sqrt = √a); "
            f"{CONFIGS}:15-19 (subset 0.5, overlap 0.25, 100 inputs); Heim et al. 2020, section 4.3",
    "ranges": f"{CONFIGS}:13-14, 37-38, 61-62, 85-86 (training: [-1, 1] for + and ×, [0, 0.5] for 1/a, [0, 2] for "
              f"√a); {REVALIDATE}:22-40 (the published validation: 10,000 Sobol points, the first two skipped, on "
              "[2·lowlim, 2·uplim], for 1/a on [-0.5, 0]; the paper's appendix table of dataset parameters says "
              "Sobol(-4, 4) and, for 1/a, Sobol(-0.5, 0.5), which the script that wrote the published table does "
              "not use); the inputs are the reference's Sobol points themselves, not Philox draws",
    "targets": f"{RUNS['add']}:24, {RUNS['mul']}:24, {RUNS['reciprocal']}:25, {RUNS['sqrt']}:25",
    "seeds": f"{RUNS['add']}:56 (10 runs; {RUNS['mul']}:56: 20), Julia's global generator unseeded; "
             f"{REVALIDATE}:162-169 (the 10 runs of lowest validation error per model and target)",
    "iterations": f"{CONFIGS}:5, 29, 53, 77 (1e5); the NMU: 1e4 on + ({RUNS['add']}:60), 2e4 on × ({RUNS['mul']}:60)",
    "optimizer": f"{RUNS['add']}:45 (Flux's RMSProp: ρ = 0.9); lr {CONFIGS}:6, 30, 54, 78 (1e-2 on +, 5e-3 "
                 "otherwise)",
    "batch size": f"{CONFIGS}:4 (the next 128 Sobol points every step, {DATASET}:49, 60-68)",
    "network": f"{MODELS_JL}:50-90 (NAU(100, 100) under NPU, RealNPU, NMU or NaiveNPU of 100 → 1; NALU(100, 100), "
               "NALU(100, 1)); hidden 100",
    "evaluation": f"{REVALIDATE}:97-110 (the final model only); nalm also evaluates during training",
    "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models): nalm's, beside the "
                "paper's MSE",
    "metric": f"{REVALIDATE}:105-107, 147, 171-182 (the validation MSE; median and median absolute deviation over "
              "the runs)",
    "models": f"Heim et al. 2020, section 4.3 and its table (NPU, RealNPU, NALU, NMU, NaiveNPU); {REVALIDATE}:184-204 "
              "(gatednpux, gatednpu, nalu, nmu, npux)",
    "threshold": "the paper has no success criterion; success here is nalm's own (perturbed weights, ε = 1e-5)",
}

EXPERIMENT = Experiment(
    name="heim2020-npu-arithmetic",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=TASKS,
        task_labels=("x ∈ [-1, 1] -> [-2, 2]", "x ∈ [0, 0.5] -> [-0.5, 0]", "x ∈ [0, 2] -> [0, 4]"),
        target_tasks={"add": (0,), "mul": (0,), "reciprocal": (1,), "sqrt": (2,)},
        primary="extrapolation_mse",
    ),
    models=MODELS,
    targets=("add", "mul", "reciprocal", "sqrt"),
    seeds=2,
    train=TrainConfig(optimizer="rmsprop", lr=5e-3, batch_size=128, iterations=2_000, eval_every=1000,
                      eval_samples=10_000, hidden=100),
    paper_scale={"iterations": PAPER_ITERATIONS},
    paper_seeds=10,
    unit_options=unit_options,
    target_train={"add": {"lr": 1e-2}},
    model_train={"nau/nmu": {"targets": {"add": {"iterations": 10_000}, "mul": {"iterations": 20_000}}}},
    published=(PUBLISHED,),
    sources={
        **SOURCES,
        "unit options: npu": f"GatedNPUX(Re U[0, 0.1), Im 0, g 1) ({MODELS_JL}:79-86); eps(Float32) ({REFERENCE} "
                             f"src/npu.jl:48-58); the L1 schedule ({CONFIGS}:8-11, 32-35, 56-59, 80-83)",
        "unit options: real-npu": f"GatedNPU(100, 1, init U[0, 0.1)), g 0.5 ({MODELS_JL}:76-78; {REFERENCE} "
                                  "src/npu.jl:95-110); the L1 schedule as the NPU's",
        "unit options: naive-npu": f"NPUX(100, 1, Re U[0, 0.1), Im 0) ({MODELS_JL}:73-75; {REFERENCE} "
                                   "src/npu.jl:10-29), no gate; the L1 schedule as the NPU's",
        "unit options: nau": f"NAU(100, 100), W U[0, 0.1), no regularizer of its own ({MODELS_JL}:52; {REFERENCE} "
                             "src/nau.jl:8-17)",
        "unit options: nmu": f"NMU(100, 1), W U[0, 0.1) clipped to [0, 1] in the forward pass ({MODELS_JL}:54-56; "
                             f"{REFERENCE} src/nmu.jl:16-29)",
        "unit options: nalu": f"NALU(100, 100), NALU(100, 1): NAC W, M and G U[0, 0.1), b 0 ({MODELS_JL}:57-65); "
                              f"eps 1e-8, gate σ(Gx + b) ({REFERENCE} src/nalu.jl:18-37)",
        "model training: nau/nmu": f"1e4 steps on + ({RUNS['add']}:59-60), 2e4 on × ({RUNS['mul']}:59-60)",
        "target training: add": f"lr 1e-2 ({CONFIGS}:6)",
    },
    deviations=(
        Deviation("models", reference=f"β(t)·norm(params(model), 1) on every model ({RUNS['add']}:34-39), "
                  "which sums each parameter array's 2-norm: the NAU's W and the last layer's arrays, the NMU's "
                  "and the NALUs' too; β multiplied by 10 at steps 10,000, 20,000, … counted from 1 "
                  "(src/schedules.jl:38-57)",
                  ours="β(t)·Σ‖θ‖₂ over the NPU's, RealNPU's or NaiveNPU's own arrays (penalty 'norm'), ×10 at "
                       "steps 10,000, 20,000, … counted from 0; the NAU's W, the NMU and the NALU are not penalized",
                  reason="nalm's penalties are the units' own, and its NAU, NMU and NALU have no such one"),
        Deviation("models", reference="the NAU unclamped (src/nau.jl:17); the NMU's weights clipped to [0, 1] in "
                  "the forward pass only (src/nmu.jl:23-28), the parameter left where the optimizer puts it",
                  ours="nalm's NAU and NMU: W clamped to [-1, 1] (NAU) or [0, 1] (NMU) in the forward pass and "
                       "clipped there after every step",
                  reason="nalm's NAU and NMU are Madsen & Johansen's, whose weights are clipped"),
        Deviation("seeds", reference="10 runs per model (20 on ×), Julia's global generator unseeded; the table "
                  f"keeps the 10 of lowest validation error and leaves out runs whose loss was nan ({REVALIDATE}:"
                  "162-169; scripts/arithmetic/collect.jl:26-35, 55)",
                  ours="seeds 0..9 at --paper-scale, 2 by default, every run counted (a diverged run's error is "
                       "infinite)",
                  reason="runs are reproduced from their seeds; choosing the best half of × would flatter it"),
        Deviation("optimizer", reference="Flux's RMSProp: ρ = 0.9", ours="PyTorch's RMSprop: α = 0.99",
                  reason="nalm's RMSprop has PyTorch's defaults"),
        Deviation("iterations", reference="100,000 steps (the NMU 10,000 on + and 20,000 on ×)",
                  ours="2,000 by default, the L1 penalty growing every 200 (100,000 and every 10,000 at "
                       "--paper-scale); the NMU's 10,000 and 20,000 at both scales",
                  reason="a default run takes minutes on two cores"),
    ),
)
