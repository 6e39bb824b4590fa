"""Madsen & Johansen (2020), section 4.1: multiplication against the interpolation range, seven ranges with their extrapolation ranges.

stable-nalu ``lfs_batch_jobs/function_task_static_mul_range.sh``: the static task of
``madsen2020-static`` on × only, trained on U[-2,-1], U[-2,2], U[0,1], U[0.1,0.2], U[1,2],
U[1.1,1.2] or U[10,20] and tested on a range beyond each, 50 seeds, 5e6 iterations. Published
as the figure ``paper/results/simple_function_static_mul_range.pdf``.
"""
import dataclasses

from ..tasks import presets
from .axis import Axis
from .madsen2020_sweep import REFERENCE, scale, script_models, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_mul_range.sh"
RANGES = (("[-2,-1]", "[-6,-2]"), ("[-2,2]", "[-6,-2]U[2,6]"), ("[0,1]", "[1,5]"), ("[0.1,0.2]", "[0.2,2]"),
          ("[1,2]", "[2,6]"), ("[1.1,1.2]", "[1.2,6]"), ("[10,20]", "[20,40]"))
AXIS = Axis("interpolation range", tuple(i for i, _ in RANGES), categorical=True)

EXPERIMENT = sweep(
    "madsen2020-interpolation-range", __doc__, AXIS,
    [dataclasses.replace(presets.madsen2020(), interpolation=i, extrapolation=e) for i, e in RANGES],
    task_labels=[f"{i} -> {e}" for i, e in RANGES],
    seeds=3, iterations=20_000, paper_seeds=50,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:5-6 (interpolation_ranges, extrapolation_ranges), passed as "
                "--interpolation-range and --extrapolation-range (experiments/simple_function_static.py:66-75)",
        "ranges": f"{REFERENCE} {SCRIPT}:5-6; Madsen & Johansen 2020, appendix, \"Effect of dataset parameter\" (each interpolation range's "
                  "extrapolation range)",
        "targets": f"{REFERENCE} {SCRIPT}:4 (operation=mul)",
        "seeds": f"{REFERENCE} {SCRIPT}:8 (seeds 0..49)",
        "iterations": f"{REFERENCE} {SCRIPT}:15, 45 (--max-iterations 5000000)",
        "threshold": "stable-nalu export/function_task_static_mse_expectation.r:89-97 (one threshold per "
                     "extrapolation range, parameter 'extrapolation.range'), :97-104 (eps 1e-5), :120 (1e6 samples)",
        "models": script_models(SCRIPT, {"nac": "12-16", "posnac": "18-22", "nalu": "24-28", "nmu": "30-34",
                                         "posnmu": "36-40", "gated": "42-46"}),
        "metric": f"{REFERENCE} export/function_task_static_mul_range.r:62-103 (success rate, solved at, sparsity "
                  "error per interpolation range); published only as the figure "
                  "paper/results/simple_function_static_mul_range.pdf, no numbers",
    },
    deviations=(scale(3, 20_000, 50, f"5e6 iterations over 50 seeds ({SCRIPT}:8, 15)"),),
)
