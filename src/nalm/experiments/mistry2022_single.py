"""Mistry et al. (2022), the single-module arithmetic benchmark (NALM benchmark).

Protocol (shared/PROTOCOLS.md 2.4): one unit, input [a, b], ops + − × ÷, nine interpolation
→ extrapolation range pairs, 50k iterations, batch 128, Adam lr 1e-3 (5e-3 for the NPU
units), 25 seeds, NMU regularizer ramping from 20k to 35k steps, iNALU gradients clipped to
±0.1. G-NALU is not implemented.
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
    model_train={"npu": {"lr": 5e-3}, "real-npu": {"lr": 5e-3}, "inalu": {"grad_clip": 0.1}},
    threshold_rule=MistryReference(eps=1e-5),
    primary="success_rate",
    sources={
        "threshold": "nalm-benchmark export/single_layer_task/benchmark/generate_exp_thresholds.r:24-58 "
                     "(the perturbed module), exp_setups.csv (epsilon 1e-5 for every operation and range)",
        "model training: inalu": "gradients clipped by value to ±0.1 after backward, before the optimizer step: "
                                 "bmistry4/nalm-benchmark lfs_batch_jobs/single_layer_task/benchmarking/"
                                 "single_layer_benchmark.sh:87 (--clip-grad-value 0.1), "
                                 "experiments/single_layer_benchmark.py:680-682",
        "unit options: inalu": "regularizer 0.05·Σ mean(max(20 − |P|, 0)) over the five parameters, on after "
                               "step 10,000 while the latest interpolation MSE < 1; re-initialization on "
                               "plateaus (--reinit): bmistry4/nalm-benchmark experiments/"
                               "single_layer_benchmark.py:663, 696-707, stable_nalu/functional/regualizer.py:128-133",
    },
    deviations=(
        Deviation("threshold",
                  reference="mean over 1e6 draws of R's generator (seed 1234) of the perturbed module's squared error",
                  ours="the expectation that mean estimates, in closed form",
                  reason="exact and free of sampling noise; the two differ by the Monte Carlo error only"),
        Deviation(setting="unit options: inalu",
                  reference="a re-initialized model draws its weights from the global RNG where training has left it",
                  ours="a member draws them under a seed derived from its model seed and re-initialization count",
                  reason="a member's new weights must not depend on the other members of its population"),
    ),
)
