"""Madsen & Johansen (2020), appendix: multiplication against the size of a and b's subsets, 5% to 50% of the input.

stable-nalu ``lfs_batch_jobs/function_task_static_mul_subset.sh``: the static task of
``madsen2020-static`` on × only, a and b each summing 5% to 50% of the 100 inputs (overlapping
by half), 50 seeds, 5e6 iterations. Published as the figure
``paper/results/simple_function_static_mul_subset.pdf``.
"""
import dataclasses

from ..tasks import presets
from .axis import Axis
from .madsen2020_sweep import REFERENCE, scale, script_models, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_mul_subset.sh"
VALUES = (0.05, 0.1, 0.25, 0.5)
AXIS = Axis("subset ratio", VALUES)

EXPERIMENT = sweep(
    "madsen2020-subset-ratio", __doc__, AXIS,
    [dataclasses.replace(presets.madsen2020(), subset_ratio=v) for v in VALUES],
    seeds=3, iterations=20_000, paper_seeds=50,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:5 (subset_ratios), passed as --subset-ratio "
                "(experiments/simple_function_static.py:81-85)",
        "targets": f"{REFERENCE} {SCRIPT}:4 (operation=mul)",
        "seeds": f"{REFERENCE} {SCRIPT}:7 (seeds 0..49)",
        "iterations": f"{REFERENCE} {SCRIPT}:14, 44 (--max-iterations 5000000)",
        "models": script_models(SCRIPT, {"nac": "11-15", "posnac": "17-21", "nalu": "23-27", "nmu": "29-33",
                                         "posnmu": "35-39", "gated": "41-45"}),
        "metric": f"{REFERENCE} export/function_task_static_mul_subset.r and export/_plot_parameter.r (success "
                  "rate, solved at, sparsity error against the subset ratio); published only as the figure "
                  "paper/results/simple_function_static_mul_subset.pdf, no numbers",
    },
    deviations=(scale(3, 20_000, 50, f"5e6 iterations over 50 seeds ({SCRIPT}:7, 14)"),),
)
