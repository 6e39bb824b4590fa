"""Heim, Pevný & Šmídl (2020), Neural Power Units: the simple arithmetic task (x + y, xy, x/y, √x).

Protocol (nmheim/NeuralPowerUnits ``scripts/simple/``): two inputs x, y ∈ U[0.1, 2.1] drawn
afresh, 100 a step; two layers with 6 hidden units: NPU, RealNPU and NMU under a NAU, two NALUs,
two iNALUs, and a sigmoid MLP of two hidden layers of 50; 20,000 steps, Adam lr 5e-3 (RMSProp
for the NALU, and lr 1e-3 for the iNALU), no L1 penalty; 20 runs. Tested on x, y ∈ [-4.1, 3.9]
away from zero for +, ×, ÷, and on [0.1, 4] for √x, by the mean absolute error; the paper's
table gives its mean over the runs. One network per target here, where the paper's learns the
four jointly (see the deviations). Trained on positive inputs only, the NPU's imaginary weights
get no gradient (at W_im = 0 and k = 0 it is -sin(0)·log r), so NPU and RealNPU of one seed
train to the same network; the paper's two columns differ by their unseeded draws. The
100-input task of the paper's section 4.3 is ``heim2020-npu-arithmetic``.
"""
import torch

from ..report.published import Published
from ..tasks import StaticTask
from ..train import TrainConfig
from ..units.network import option_keys
from .arithmetic import ArithmeticTasks
from .spec import Deviation, Experiment

REFERENCE = "nmheim/NeuralPowerUnits@e1b9a45"
RUN = f"{REFERENCE} scripts/simple/run.jl"
DATASET = f"{REFERENCE} scripts/simple/dataset.jl"

TRAINING = [0.1, 2.1]
"""``rand(Float32, 2, 100) .* 2 .+ 0.1f0`` (``scripts/simple/dataset.jl:15``); the paper writes U(0.1, 2)."""


def simple_task(extrapolation) -> StaticTask:
    """x = x1 and y = x2 of two inputs (a = x, b = y), trained on :data:`TRAINING`."""
    return StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                      interpolation=TRAINING, extrapolation=extrapolation)


TASKS = (
    simple_task("[-4.1,-0.1]U[0.1,3.9]"),  # the grid -4.1:0.2:4 (run.jl:51-52), which holds no zero
    simple_task([0.1, 4.0]),  # the square root's grid 0.1:0.1:4 (run.jl:59-60)
)

MODELS = ("npu/nau", "real-npu/nau", "nmu/nau", "nalu", "inalu", "mlp-sigmoid")


def unit_options(model: str, target: str, iterations: int) -> dict:
    """The options of each unit in ``model``, as the reference builds its layers.

    NPU and RealNPU (the code's ``GatedNPUX`` and ``GatedNPU``): no L1 penalty (``βl1 => 0``,
    ``scripts/simple/run.jl:166, 171``), eps the float32 machine epsilon (``eps(T)``,
    ``src/npu.jl:51``); the NAU and NMU have no regularizer in this library (``src/nau.jl:8-9``,
    ``src/nmu.jl:9-10``) and the loss adds none (``run.jl:101``); the NALU has a gate bias and
    eps 1e-8 (``src/nalu.jl:18, 30``); the iNALU is regularized over the second half of the run
    (``run.jl:135-144``) without a condition on its error and is never re-initialized; the
    MLP's layers are Glorot uniform with zero biases (Flux's ``Dense``).

    >>> unit_options("npu/nau", "div", 20_000)["npu"]["beta_end"]
    0.0
    """
    options = {
        "npu": {"beta_start": 0.0, "beta_end": 0.0, "eps": torch.finfo(torch.float32).eps},
        "real-npu": {"beta_start": 0.0, "beta_end": 0.0, "eps": torch.finfo(torch.float32).eps},
        "nau": {"regularizer_scale": 0.0},
        "nmu": {"regularizer_scale": 0.0},
        "nalu": {"init": "stable-nalu", "gate_bias": True, "eps": 1e-8},
        "inalu": {"eps": 1e-7, "omega": 20.0, "regularizer_scale": 1e-5, "regularizer_start": iterations // 2 + 1,
                  "regularizer_max_error": None, "reinitialize": False},
        "mlp": {"init": "stable-nalu"},
    }
    return {unit: o for unit, o in options.items() if unit in option_keys(model)}


PUBLISHED = Published(
    source=f"Heim et al. 2020, Table A2 ({REFERENCE} plots/simple_err_table.tex): the extrapolation mean absolute "
           "error averaged over 20 runs, as printed (the caption says median and median absolute deviation, but "
           "scripts/simple/results_table.jl:23-41, 77-89 computes the mean and its standard error; the standard "
           "errors are heim2020_npu.STANDARD_ERRORS). Ours is the median over seeds",
    metric="extrapolation_mae",
    models={"NPU": "npu/nau", "RealNPU": "real-npu/nau", "NMU": "nmu/nau", "NALU": "nalu", "iNALU": "inalu",
            "Dense": "mlp-sigmoid"},
    values={
        "NPU": {"add": 0.2, "mul": 0.37, "div": 0.23, "sqrt": 0.031},
        "RealNPU": {"add": 0.08, "mul": 0.066, "div": 0.085, "sqrt": 0.004},
        "NMU": {"add": 0.2, "mul": 0.005, "div": 11.399, "sqrt": 0.16},
        "NALU": {"add": 2.69, "mul": 4.55, "div": 3.33, "sqrt": 0.034},
        "iNALU": {"add": 2.18, "mul": 3.453, "div": 2.54, "sqrt": 0.049},
        "Dense": {"add": 2.103, "mul": 3.546, "div": 14.16, "sqrt": 0.084},
    },
    protocol={"iterations": 20_000, "seeds": 20, "batch_size": 100},
)

STANDARD_ERRORS = {  # the ± of plots/simple_err_table.tex: std over the 20 runs / √20
    "NPU": {"add": 0.11, "mul": 0.23, "div": 0.13, "sqrt": 0.025},
    "RealNPU": {"add": 0.021, "mul": 0.026, "div": 0.038, "sqrt": 0.001},
    "NMU": {"add": 0.18, "mul": 0.004, "div": 0.035, "sqrt": 0.002},
    "NALU": {"add": 0.22, "mul": 0.2, "div": 0.18, "sqrt": 0.006},
    "iNALU": {"add": 0.13, "mul": 0.065, "div": 0.26, "sqrt": 0.011},
    "Dense": {"add": 0.04, "mul": 0.035, "div": 0.23, "sqrt": 0.007},
}

SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "task": f"{DATASET}:1-5 (t = (x + y, xy, x/y, √x) of two inputs); Heim et al. 2020, section 4.2, eq. 9",
    "ranges": f"{DATASET}:13-19 (training x, y = 2·U[0, 1) + 0.1, the train_range \"pos\" of {RUN}:16); "
              f"{RUN}:50-63 (tests: the grid -4.1:0.2:4 for +, ×, ÷ and 0.1:0.1:4 for √x); Heim et al. 2020, eq. 10",
    "targets": f"{DATASET}:1-5 (add, mul, div, sqrt)",
    "seeds": f"{RUN}:17 (nr_runs = 20, one run each, Julia's global generator unseeded)",
    "iterations": f"{RUN}:166-188 (niters 20000); Heim et al. 2020, section 4.2",
    "optimizer": f"{RUN}:73, 86, 99, 154 (ADAM, lr 0.005 from :166-186, Flux's defaults β = (0.9, 0.999), "
                 "ε = 1e-8); the paper's section 4.2 says lr 0.001, which only the iNALU used",
    "batch size": f"{DATASET}:15 (100 fresh samples every step: {RUN}:74)",
    "network": f"{RUN}:70-71, 84, 97, 110, 130, 150-151 (hidden 6: Chain(NPU(2, 6), NAU(6, 4)) and likewise; the "
               "MLP Dense(2, 50, σ), Dense(50, 50, σ), Dense(50, 4)); the paper's Table A3 prints the layers in the "
               "other order and a Dense of 10, which the code does not run",
    "evaluation": f"{RUN}:29-67 (the final model only, no evaluation during training)",
    "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models): nalm's, beside the "
                "paper's mean absolute error",
    "metric": f"{RUN}:55-63 (mean absolute error over each test grid) and {REFERENCE} "
              "scripts/simple/results_table.jl:23-41, 77-89 (mean over the runs)",
    "models": f"Heim et al. 2020, section 4.2 and Table A2 (NPU, RealNPU, NMU, NALU, iNALU, Dense); {RUN}:164-191",
    "threshold": "the paper has no success criterion; success here is nalm's own (perturbed weights, ε = 1e-5)",
}

EXPERIMENT = Experiment(
    name="heim2020-npu",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=TASKS,
        task_labels=("U[0.1, 2.1] -> [-4.1, 3.9]", "U[0.1, 2.1] -> [0.1, 4]"),
        target_tasks={"add": (0,), "mul": (0,), "div": (0,), "sqrt": (1,)},
        primary="extrapolation_mae",
    ),
    models=MODELS,
    targets=("add", "mul", "div", "sqrt"),
    seeds=5,
    train=TrainConfig(optimizer="adam", lr=5e-3, batch_size=100, iterations=5_000, eval_every=1000,
                      eval_samples=10_000, hidden=6),
    paper_scale={"iterations": 20_000},
    paper_seeds=20,
    unit_options=unit_options,
    model_train={"nalu": {"optimizer": "rmsprop"}, "inalu": {"optimizer": "rmsprop", "lr": 1e-3},
                 "mlp-sigmoid": {"hidden": [50, 50]}},
    published=(PUBLISHED,),
    sources={
        **SOURCES,
        "unit options: npu": f"GatedNPUX(2, 6) ({RUN}:71), no L1 (βl1 = 0, :166); eps(Float32) ({REFERENCE} "
                             "src/npu.jl:51); W_re Glorot uniform, W_im 0, gate 0.5 (src/npu.jl:38-44)",
        "unit options: real-npu": f"GatedNPU(2, 6) ({RUN}:84), no L1 (:171); W Glorot uniform, gate 0.5 "
                                  f"({REFERENCE} src/npu.jl:95-96)",
        "unit options: nau": f"NAU(6, 4), no regularizer ({REFERENCE} src/nau.jl:8-15; {RUN}:75, 88, 101)",
        "unit options: nmu": f"NMU(2, 6), no regularizer, the loss the MSE alone ({RUN}:97, 101; {REFERENCE} "
                             "src/nmu.jl:9-29)",
        "unit options: nalu": f"NALU(2, 6), NALU(6, 4), RMSProp ({RUN}:108-119); one NAC for both paths, gate "
                              f"σ(Gx + b), eps 1e-8 ({REFERENCE} src/nalu.jl:18-36)",
        "unit options: inalu": f"iNALU(2, 6), iNALU(6, 4), RMSProp lr 0.001; the MSE for niters/2 steps, then "
                               f"the MSE + 1e-5 · Σ max(t − |p|, 0)/t over every parameter ({RUN}:121-147, 188)",
        "unit options: mlp": f"Dense(2, 50, σ), Dense(50, 50, σ), Dense(50, 4) ({RUN}:149-161), Flux's Glorot "
                             "uniform weights and zero biases",
        "model training: nalu": f"RMSProp, lr 0.005 ({RUN}:112, 176-178)",
        "model training: inalu": f"RMSProp, lr 0.001 ({RUN}:132, 187-190)",
        "model training: mlp-sigmoid": f"two hidden layers of 50 ({RUN}:150-151)",
    },
    deviations=(
        Deviation("targets", reference="one network learns the four outputs jointly: the last layer has 4 outputs "
                  f"and the loss is their mean squared error ({RUN}:71, 75; Heim et al. 2020, eq. 9)",
                  ours="one network per target, with one output, trained on that target's squared error",
                  reason="a nalm network has one output; the hidden layer each target trains is the joint network's, "
                         "which the four targets share in the paper"),
        Deviation("evaluation", reference=f"the mean absolute error over a grid of test points ({RUN}:50-63): "
                  "x, y ∈ -4.1:0.2:4 (1681 points) and x, y ∈ 0.1:0.1:4 for √x (1600)",
                  ours="10,000 points drawn uniformly from the grid's span, [-4.1, -0.1] ∪ [0.1, 3.9] (the grid has "
                       "no point in (-0.1, 0.1)) and [0.1, 4], fixed per seed",
                  reason="nalm's tasks test on draws from a range; the grid spans the same range"),
        Deviation("seeds", reference="20 runs per model, Julia's global generator unseeded (numbers not reproducible)",
                  ours="seeds 0..19 at --paper-scale, 5 by default", reason="runs are reproduced from their seeds"),
        Deviation("model inalu", reference="the library's iNALU (NeuralPowerUnits src/inalu.jl): Glorot-uniform NACs, "
                  "an input-dependent gate σ(Gx), the regularizer Σ max(t − |p|, 0)/t summed over every element of "
                  "every parameter with weight 1e-5 after half the run; the script reads t from its config "
                  f"(c[:t], {RUN}:137, 142), which the config it runs does not hold (:187-190), so the table's "
                  "iNALU runs came from a version not committed",
                  ours="nalm's iNALU (Schlör et al.'s, as the NALM benchmark runs it): normal initializations, an "
                       "input-independent gate, the regularizer 1e-5 · Σ mean(max(20 − |P|, 0)) from half the run",
                  reason="nalm has one iNALU; the t of the published runs is not recorded"),
        Deviation("models", reference="NAU Glorot uniform, unclamped (src/nau.jl:15); NMU U[0, 1], clipped "
                  "to [0, 1] in the forward pass only (src/nmu.jl:16, 23); NALU W, M, G and b Glorot uniform "
                  "(src/nalu.jl:20-26)",
                  ours="nalm's units: NAU U[-r, r] with r = min(0.5, √3·√(2/(in+out))) clamped to [-1, 1]; NMU "
                       "U[0.25, 0.75] clamped to [0, 1]; NALU the stable-nalu NAC init, gate Glorot uniform, bias 0",
                  reason="nalm's units carry their papers' initializations; none of these has Flux's defaults"),
        Deviation("optimizer", reference="Flux's RMSProp for the NALU and iNALU: ρ = 0.9",
                  ours="PyTorch's RMSprop: α = 0.99", reason="nalm's RMSprop has PyTorch's defaults"),
        Deviation("iterations", reference="20,000 steps", ours="5,000 by default (20,000 at --paper-scale)",
                  reason="a default run takes a few minutes on two cores"),
    ),
)
