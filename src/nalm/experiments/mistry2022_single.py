"""Mistry et al. (2022), the single-module arithmetic benchmark (NALM benchmark).

Protocol (shared/PROTOCOLS.md 2.4): one unit, input [a, b], ops + − × ÷, nine interpolation
→ extrapolation range pairs, 50k iterations, batch 128, Adam lr 1e-3 (5e-3 for the NPU
units), 25 seeds, NMU regularizer ramping from 20k to 35k steps. G-NALU is not implemented.
"""
from ..tasks import presets
from ..tasks.presets import MISTRY2022_RANGES
from ..train import TrainConfig
from .spec import Experiment

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
    threshold_samples=1_000_000,
    primary="success_rate",
)
