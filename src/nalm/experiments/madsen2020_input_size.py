"""Madsen & Johansen (2020), appendix: multiplication against the input size, 4 to 300.

stable-nalu ``lfs_batch_jobs/function_task_static_mul_input_size.sh``: the static task of
``madsen2020-static`` on × only with 4 to 300 inputs (subsets of 25% overlapping by half, as
ever), 50 seeds; runs of 125 inputs or more are two or three times as long (1e7 and 1.5e7
iterations against 5e6; the regularizer's ramp stays at 1e6 → 2e6). Published as the figure
``paper/results/simple_function_static_mul_input_size.pdf``.
"""
import dataclasses

from ..tasks import presets
from .axis import Axis, LongerRuns
from .madsen2020_sweep import REFERENCE, scale, script_models, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_mul_input_size.sh"
VALUES = (4, 10, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300)
MAX_MITERS = (5, 5, 5, 5, 5, 5, 10, 10, 10, 10, 15, 15, 15, 15)  # the script's max_miters, millions of steps
AXIS = Axis("input size", VALUES, configure=LongerRuns({v: m // 5 for v, m in zip(VALUES, MAX_MITERS)}))

EXPERIMENT = sweep(
    "madsen2020-input-size", __doc__, AXIS,
    [dataclasses.replace(presets.madsen2020(), input_size=v) for v in VALUES],
    seeds=3, iterations=20_000, paper_seeds=50,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:5 (input_sizes), passed as --input-size "
                "(experiments/simple_function_static.py:76-80); iterations ×1, ×2, ×3 of the run for 4-100, 125-200, "
                f"225-300 inputs: {SCRIPT}:7 (max_miters 5, 10, 15 million)",
        "targets": f"{REFERENCE} {SCRIPT}:4 (operation=mul)",
        "seeds": f"{REFERENCE} {SCRIPT}:10 (seeds 0..49)",
        "iterations": f"{REFERENCE} {SCRIPT}:7, 47 (--max-iterations ${{max_miters}}000000: 5e6 for up to 100 "
                      "inputs); the regularizer's ramp keeps its defaults, 1e6 → 2e6 "
                      "(experiments/simple_function_static.py:119-128)",
        "models": script_models(SCRIPT, {"nac": "14-18", "posnac": "20-24", "nalu": "26-30", "nmu": "32-36",
                                         "posnmu": "38-42", "gated": "44-48"}),
        "metric": f"{REFERENCE} export/function_task_static_mul_input_size.r and export/_plot_parameter.r (success "
                  "rate, solved at, sparsity error against the input size); published only as the figure "
                  "paper/results/simple_function_static_mul_input_size.pdf, no numbers",
    },
    deviations=(scale(3, 20_000, 50, f"5e6 to 1.5e7 iterations over 50 seeds ({SCRIPT}:7, 10)"),),
)
