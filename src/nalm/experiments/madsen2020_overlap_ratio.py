"""Madsen & Johansen (2020), appendix: multiplication against the overlap of a and b's subsets, 0 to 1.

stable-nalu ``lfs_batch_jobs/function_task_static_mul_overlap.sh``: the static task of
``madsen2020-static`` on × only, a and b sharing 0% to 100% of their 25 inputs, 50 seeds,
5e6 iterations. Published as the figure ``paper/results/simple_function_static_mul_overlap.pdf``.
"""
import dataclasses

from ..tasks import presets
from .axis import Axis
from .madsen2020_sweep import REFERENCE, scale, script_models, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_mul_overlap.sh"
VALUES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
AXIS = Axis("overlap ratio", VALUES)

EXPERIMENT = sweep(
    "madsen2020-overlap-ratio", __doc__, AXIS,
    [dataclasses.replace(presets.madsen2020(), overlap_ratio=v) for v in VALUES],
    seeds=3, iterations=20_000, paper_seeds=50,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:5 (overlap_ratios), passed as --overlap-ratio "
                "(experiments/simple_function_static.py:86-90)",
        "targets": f"{REFERENCE} {SCRIPT}:4 (operation=mul)",
        "seeds": f"{REFERENCE} {SCRIPT}:7 (seeds 0..49)",
        "iterations": f"{REFERENCE} {SCRIPT}:14, 44 (--max-iterations 5000000)",
        "models": script_models(SCRIPT, {"nac": "11-15", "posnac": "17-21", "nalu": "23-27", "nmu": "29-33",
                                         "posnmu": "35-39", "gated": "41-45"}),
        "metric": f"{REFERENCE} export/function_task_static_mul_overlap.r and export/_plot_parameter.r (success "
                  "rate, solved at, sparsity error against the overlap ratio); published only as the figure "
                  "paper/results/simple_function_static_mul_overlap.pdf, no numbers",
    },
    deviations=(scale(3, 20_000, 50, f"5e6 iterations over 50 seeds ({SCRIPT}:7, 14)"),),
)
