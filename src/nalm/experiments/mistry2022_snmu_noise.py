"""Mistry et al. (2022), the robust NMU paper's noise ranges: a NAU under a stochastic NMU (sNMU) whose noise is drawn from five ranges, on × over nine ranges.

bmistry4/nalm-robust-nmu ``lfs_batch_jobs/icml_2022/arithmetic_dataset_noise_ranges.sh`` runs
``mistry2022-robust-nmu``'s NAU → sNMU with the noise U[0.01, 0.05], U[0.1, 0.5], U[1, 2] and
U[5, 10] for 2e6 steps over 25 seeds; the paper's Figure 5 sets them beside its U[1, 5] runs
(``arithmetic_dataset.sh``). Each (noise range, training range) pair is one task of this
experiment, the noise range the setting its axis varies (:mod:`nalm.experiments.axis`). The
results exist as a figure only.
"""
from __future__ import annotations

from ..tasks import StaticTask
from ..train import TrainConfig
from .arithmetic import ArithmeticTasks
from .axis import Axis, UnitOptions
from .mistry2022_robust_nmu import (EXPERIMENT as ROBUST, ITERATIONS, PAPER_ITERATIONS, RANGES, REFERENCE,
                                    unit_options)
from .spec import Deviation, Experiment

SCRIPT = "lfs_batch_jobs/icml_2022/arithmetic_dataset_noise_ranges.sh"
NOISE_RANGES = ((0.01, 0.05), (0.1, 0.5), (1.0, 2.0), (1.0, 5.0), (5.0, 10.0))
"""The script's four (``:14``) and the U[1, 5] of ``arithmetic_dataset.sh``, in Figure 5's order
(``export/function_task_static_ranges/csv_merger.r:73-83``)."""


def noise_label(noise: tuple[float, float]) -> str:
    """``U[0.01,0.05]``: a noise range as the axis names it."""
    return f"U[{noise[0]:g},{noise[1]:g}]"


def parse_noise(label: str) -> tuple[float, float]:
    """``(a, b)`` of a noise range named ``"U[a,b]"`` (:func:`noise_label`).

    >>> parse_noise("U[0.1,0.5]")
    (0.1, 0.5)
    """
    low, high = (float(v) for v in label[2:-1].split(","))
    return low, high


AXIS = Axis("sNMU noise", tuple(noise_label(noise) for noise in NOISE_RANGES for _ in RANGES), categorical=True,
            configure=UnitOptions(("noise_range",), parse=parse_noise))
"""One value per task: each noise range once for every training range, so that the runs of one
noise range train as one population (the task labels name the training ranges)."""

EXPERIMENT = Experiment(
    name="mistry2022-snmu-noise",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=tuple(StaticTask(interpolation=i, extrapolation=e) for _ in NOISE_RANGES for i, e in RANGES),
        task_labels=tuple(f"noise {noise_label(noise)}: {i} -> {e}" for noise in NOISE_RANGES for i, e in RANGES),
        threshold_rule=ROBUST.workload.threshold_rule,
        primary="success_rate",
        axis=AXIS,
    ),
    models=("nau/snmu",),
    targets=("mul",),
    seeds=2,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=ITERATIONS["nau/snmu"],
                      eval_every=1000, eval_samples=10_000, hidden=2),
    paper_scale={"iterations": PAPER_ITERATIONS["nau/snmu"]},
    paper_seeds=25,
    unit_options=unit_options,
    sources={
        **{k: v for k, v in ROBUST.sources.items() if k != "model training: nau/snmu"},
        "axis": f"{REFERENCE} {SCRIPT}:14 (noise_ranges), :38 (--noise-range); U[1, 5]: "
                "lfs_batch_jobs/icml_2022/arithmetic_dataset.sh:33-39 (--noise-range's default); "
                "export/function_task_static_ranges/csv_merger.r:73-83 (fts-snmu-noise-ranges, Figure 5)",
        "ranges": f"{REFERENCE} {SCRIPT}:11-12",
        "targets": f"{REFERENCE} {SCRIPT}:35 (--operation mul)",
        "models": f"{REFERENCE} {SCRIPT}:34-38 (--layer-type ReRegualizedLinearNAC --nac-mul mnac --nmu-noise)",
        "seeds": f"{REFERENCE} {SCRIPT}:3 (seeds 0..12 and 13..24); the U[1, 5] runs had 20 (README.md:74)",
        "iterations": f"{REFERENCE} {SCRIPT}:37 (--max-iterations 2000000)",
        "unit options: snmu": ROBUST.sources["unit options: snmu"] + "; the noise range is the axis's value",
        "metric": f"{REFERENCE} export/function_task_static_ranges/plot_fts_results.r:74-94; Mistry et al. 2022 "
                  "(robust NMU), Figure 5, a figure only: the repository holds no results",
    },
    deviations=(
        Deviation("iterations", reference=f"2e6 steps, 25 seeds ({SCRIPT}:3, 37)",
                  ours=f"{ITERATIONS['nau/snmu']:,} steps and 2 seeds by default (--paper-scale: the script's); the "
                       "ramp keeps its share of the run (50%-100%)",
                  reason="45 tasks of 2e6 steps take days on a CPU; the default runs in minutes on two cores"),
        Deviation("models",
                  reference="Figure 5 also draws U[10, 20] and the batch sNMU (U[1, 1 + 1/sd(x)], --noise-range [1,0], "
                            "arithmetic_dataset.sh:42-51)",
                  ours="the five noise ranges the repository's scripts run, without the batch sNMU",
                  reason="no script in the repository runs U[10, 20], and the batch sNMU is no nalm unit yet"),
        *(d for d in ROBUST.deviations if d.setting in ("threshold", "model nau/snmu")),
    ),
)
