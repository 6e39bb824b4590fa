"""What Madsen & Johansen (2020)'s sweeps share: madsen2020-static's protocol, one setting varied.

Each ``madsen2020-<axis>`` experiment runs the models of one stable-nalu script
(``lfs_batch_jobs/function_task_static_mul_*.sh``, ``function_task_static_regualization.sh``)
over that script's values of one setting, everything else as in ``madsen2020-static``: the
task, the training, the unit options, the threshold rule and the sources of each. The
published results of the sweeps exist only as figures (``paper/results/*.pdf``, drawn by
``export/function_task_static_mul_*.r`` from CSV files the repository does not hold), so the
reports draw ours the same way (:mod:`nalm.report.axis`) and put no numbers beside them.
"""
from __future__ import annotations

from ..scoring.thresholds import MadsenReference
from ..train import TrainConfig
from .arithmetic import ArithmeticTasks
from .axis import Axis
from .madsen2020_static import EXPERIMENT as STATIC, unit_options
from .spec import Deviation, Experiment

REFERENCE = "AndreasMadsen/stable-nalu@b3296ac"
MODELS = ("nac/nac-mul", "nac/nac-mul-sigma", "nalu", "nau/nmu", "nau/nac-mul-nmu", "gated-nau-nmu")
"""The script's six rows, in madsen2020-static's names: NAC• (``--layer-type NAC --nac-mul
normal``), NAC•,σ (``PosNAC``), NALU, NMU (``--layer-type ReRegualizedLinearNAC --nac-mul mnac``),
NAC•,NMU (``ReRegualizedLinearPosNAC``) and the gated NAU/NMU in both layers
(``--layer-type ReRegualizedLinearNALU --nalu-two-nac --nalu-mul mnac``, no ``--first-layer``)."""

PAPER_ITERATIONS = 5_000_000


def script_models(script: str, lines: dict[str, str]) -> str:
    """The models row's source: the script's layer types at ``lines`` (NAC, PosNAC, NALU, NMU,
    PosNAC-NMU, gated: line ranges of ``script``)."""
    return (f"{REFERENCE} {script}: NAC• :{lines['nac']} (--layer-type NAC --nac-mul normal), NALU :{lines['nalu']}, "
            f"NMU :{lines['nmu']} (--layer-type ReRegualizedLinearNAC --nac-mul mnac), NAC•,σ :{lines['posnac']} "
            f"(PosNAC), NAC•,NMU :{lines['posnmu']} (ReRegualizedLinearPosNAC), the gated NAU/NMU :{lines['gated']} "
            "(--layer-type ReRegualizedLinearNALU --nalu-two-nac --nalu-mul mnac, both layers: gated-nau-nmu); one "
            "row uncommented at a time")


def scale(seeds: int, iterations: int, paper_seeds: int, paper: str) -> Deviation:
    """The default scale's departure from the script's."""
    return Deviation(
        "iterations", reference=paper,
        ours=f"{iterations:,} iterations and {seeds} seeds by default (--paper-scale: {PAPER_ITERATIONS:,} and "
             f"{paper_seeds}); the NMU's ramp scales with the run (20%-40%)",
        reason="millions of steps per run over every value take days on a CPU; the default runs in minutes on "
               "two cores and shows the normalized error against the value, but solves no × run: the NMU solves "
               "× after about 1.4e6 steps of the paper's runs (docs/fidelity.md), and none of 4 seeds of "
               "madsen2020-static's NMU row did in 1e5")


def sweep(name: str, doc: str, axis: Axis, tasks, *, seeds: int, iterations: int, paper_seeds: int,
          sources: dict, deviations: tuple, models=MODELS, targets=("mul",), model_targets=None,
          task_labels=()) -> Experiment:
    """A ``madsen2020-<axis>`` experiment: madsen2020-static with ``tasks`` (one per value of
    ``axis``), ``models`` on ``targets``, and the sources and deviations it adds to the static
    experiment's (whose threshold deviations hold for every task)."""
    return Experiment(
        name=name,
        description=doc.strip().splitlines()[0],
        workload=ArithmeticTasks(
            tasks=tuple(tasks),
            task_labels=tuple(task_labels) or tuple(axis.name(i) for i in range(len(axis.values))),
            threshold_rule=MadsenReference(),
            primary="success_rate",
            axis=axis,
        ),
        models=models,
        targets=targets,
        seeds=seeds,
        train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=iterations, eval_every=1000,
                          eval_samples=10_000, hidden=2),
        paper_seeds=paper_seeds,
        paper_scale={"iterations": PAPER_ITERATIONS},
        unit_options=unit_options,
        model_targets=model_targets or {},
        sources={**STATIC.sources, **sources},
        deviations=(*deviations, *(d for d in STATIC.deviations if d.setting == "threshold")),
    )
