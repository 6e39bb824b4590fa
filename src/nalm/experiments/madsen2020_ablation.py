"""Madsen & Johansen (2020), the NMU ablation: multiplication without the sparsity regularizer, the weight clipping, or both.

stable-nalu ``lfs_batch_jobs/function_task_static_ablation.sh`` (as of 5f0d4e4, the commit that
last wrote its table; b3296ac no longer holds the script): the static task of
``madsen2020-static`` on × only, 25 seeds, 5e6 iterations, for a NAU under an NMU as it is
(``--layer-type ReRegualizedLinearNAC --nac-mul mnac``), with ``--regualizer 0`` (no R_bias: no
sparsity regularizer in either layer), with ``--oob-mode regualized --regualizer-oob 0`` (no
W-clamp: both layers' weights are no longer clipped after each step, though the forward pass
still clamps them, and nothing else keeps them in bounds) and with both. Each variant is one
value of the axis ``removed``; the NAC• and NAC•,σ rows the script also ran are
``madsen2020-static``'s rows (``--models nac/nac-mul,nac/nac-mul-sigma`` adds them here, once
per value, which leaves them as they are). The table, ``paper/results/function_task_static_ablation.tex``,
is in the repository but not in the paper: no section of ``paper/`` includes it.
"""
from __future__ import annotations

import dataclasses

from ..report.published import Published
from ..tasks import presets
from ..train import TrainConfig
from .axis import Axis
from .madsen2020_sweep import PAPER_ITERATIONS, REFERENCE, scale, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_ablation.sh@5f0d4e4"
TABLE = f"{REFERENCE} paper/results/function_task_static_ablation.tex (written by 5f0d4e4)"
VALUES = ("nothing", "R_bias", "W-clamp", "R_bias and W-clamp")


def removed(config: TrainConfig, value: str) -> TrainConfig:
    """The config with what ``value`` names taken from every unit that has it: ``R_bias``, the
    sparsity regularizer (its scale 0, as ``--regualizer 0`` zeroes every layer's), and
    ``W-clamp``, the clipping of the weight after each step (``clip`` off).

    >>> removed(TrainConfig(unit_options={"nmu": {"regularizer_scale": 10.0}, "nac": {}}), "R_bias and W-clamp").unit_options
    {'nmu': {'regularizer_scale': 0.0, 'clip': False}, 'nac': {}}
    """
    change = {**({"regularizer_scale": 0.0} if "R_bias" in value else {}),
              **({"clip": False} if "W-clamp" in value else {})}
    options = {unit: {**o, **change} if "regularizer_scale" in o else o for unit, o in config.unit_options.items()}
    return config.replace(unit_options=options)


AXIS = Axis("removed", VALUES, configure=removed, categorical=True)

PROTOCOL = {"iterations": PAPER_ITERATIONS, "optimizer": "adam", "lr": 1e-3, "seeds": 25, "eval_samples": 10_000}
INTERVALS = ("Student-t 95% intervals over the solved seeds, printed as mean ± half-width "
             "(stable-nalu export/function_task_static_ablation.r:32-34, 84-93)")


def published(index: int, rows: dict[str, tuple]) -> Published:
    """The table's rows of axis value ``index``: per label, (model, success rate, solved-at
    median, solved-at mean, its ±, sparsity error mean, its ±), as printed."""
    return Published(
        source=f"Madsen & Johansen (2020)'s repository, the ablation on ×, rows {', '.join(rows)}, over 25 seeds, 5e6 "
               f"iterations ({TABLE}, as printed: two significant digits); in the repository, not the paper",
        metric="success_rate",
        models={label: row[0] for label, row in rows.items()},
        values={label: {"mul": row[1]} for label, row in rows.items()},
        protocol=PROTOCOL,
        solved_at={label: {"mul": (median, mean, mean - half, mean + half)}
                   for label, (_, _, median, mean, half, _, _) in rows.items()},
        sparsity_error={label: {"mul": (mean, mean - half, mean + half)}
                        for label, (*_, mean, half) in rows.items()},
        intervals=INTERVALS,
        task=index,
    )


PUBLISHED = (
    published(0, {"NAC•,σ": ("nac/nac-mul-sigma", 1.00, 2.5e6, 2.6e6, 1.6e5, 1.0e-4, 4.9e-5),
                  "NAC•": ("nac/nac-mul", 0.24, 2.9e6, 3.0e6, 6.6e5, 4.0e-4, 4.1e-4),
                  "NMU": ("nau/nmu", 1.00, 1.4e6, 1.4e6, 6.7e4, 4.4e-7, 6.9e-8)}),
    published(1, {"NMU, no R_bias": ("nau/nmu", 1.00, 1.9e6, 1.9e6, 1.2e5, 9.4e-4, 2.9e-4)}),
    published(2, {"NMU, no W-clamp": ("nau/nmu", 1.00, 1.3e6, 1.3e6, 6.6e4, 8.8e-5, 6.2e-5)}),
    published(3, {"NMU, no R_bias, no W-clamp": ("nau/nmu", 1.00, 1.5e6, 1.5e6, 1.0e5, 2.8e-4, 5.3e-5)}),
)

EXPERIMENT = dataclasses.replace(sweep(
    "madsen2020-ablation", __doc__, AXIS, [presets.madsen2020()] * len(VALUES),
    models=("nau/nmu",), seeds=3, iterations=50_000, paper_seeds=25,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:19-23 (nothing removed), :37-42 (--regualizer 0), :44-49 (--oob-mode "
                "regualized --regualizer-oob 0), :51-56 (both); the rows' names export/function_task_static_ablation.r"
                ":56-58; --oob-mode regualized clamps W in the forward pass only (stable_nalu/layer/"
                "re_regualized_linear_nac.py:48-52, 65; re_regualized_linear_mnac.py:53-57, 70-72)",
        "targets": f"{REFERENCE} {SCRIPT}:9, 15, 21, 39, 46, 53 (--operation mul)",
        "seeds": f"{REFERENCE} {SCRIPT}:5 (seeds 0..24)",
        "iterations": f"{REFERENCE} {SCRIPT}:10, 16, 22, 41, 48, 55 (--max-iterations 5000000)",
        "models": f"{REFERENCE} {SCRIPT}:21 (--layer-type ReRegualizedLinearNAC --nac-mul mnac: a NAU under an NMU); "
                  "the script's NAC• (:9) and NAC•,σ (:15) rows are madsen2020-static's nac/nac-mul and "
                  "nac/nac-mul-sigma",
        "metric": f"{REFERENCE} export/function_task_static_ablation.r:60-96 (success rate, solved at, sparsity "
                  f"error); its numbers: {TABLE}, which paper/ does not include",
    },
    deviations=(scale(3, 50_000, 25, f"5e6 iterations over 25 seeds ({SCRIPT}:5, 22)"),),
), published=PUBLISHED)
