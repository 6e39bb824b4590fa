"""Mistry et al. (2022), the single-module arithmetic benchmark (NALM benchmark).

Protocol (shared/PROTOCOLS.md 2.4): one unit, input [a, b], ops + − × ÷, nine interpolation
→ extrapolation range pairs, 50k iterations, batch 128, Adam lr 1e-3 (5e-3 for the NPU
units), 25 seeds, NMU regularizer ramping from 20k to 35k steps. G-NALU is not implemented.
"""
from ..tasks import presets
from ..tasks.presets import MISTRY2022_RANGES
from ..train import TrainConfig
from ..train.thresholds import MistryReference
from .spec import Deviation, Experiment

EXPERIMENT = Experiment(
    name="mistry2022-single",
    description=__doc__.strip().splitlines()[0],
    tasks=tuple(presets.mistry2022_ranges()),
    task_labels=tuple(f"{i} -> {e}" for i, e in MISTRY2022_RANGES),
    models=("nalu", "nac", "nac-mul", "inalu", "nau", "nmu", "npu", "real-npu"),
    targets=("add", "sub", "mul", "div"),
    seeds=25,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=50_000, eval_every=1000,
                      eval_samples=10_000, hidden=None),
    paper_seeds=25,
    unit_options=lambda model, target, iterations: {"nmu": {"regularizer_start": 20_000, "regularizer_end": 35_000}},
    model_train={"npu": {"lr": 5e-3}, "real-npu": {"lr": 5e-3}},
    threshold_rule=MistryReference(eps=1e-5),
    primary="success_rate",
    sources={"threshold": "nalm-benchmark export/single_layer_task/benchmark/generate_exp_thresholds.r:24-58 "
                          "(the perturbed module), exp_setups.csv (epsilon 1e-5 for every operation and range)"},
    deviations=(
        Deviation("threshold",
                  reference="mean over 1e6 draws of R's generator (seed 1234) of the perturbed module's squared error",
                  ours="the expectation that mean estimates, in closed form",
                  reason="exact and free of sampling noise; the two differ by the Monte Carlo error only"),
    ),
)
