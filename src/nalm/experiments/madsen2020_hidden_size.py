"""Madsen & Johansen (2020), section 4.1: multiplication against the hidden size, 2 to 10.

stable-nalu ``lfs_batch_jobs/function_task_static_mul_hidden_size.sh``: the static task of
``madsen2020-static`` on × only, with hidden sizes 2 to 10, 50 seeds and 5e6 iterations each;
published as the figure ``paper/results/simple_function_static_mul_hidden_size.pdf`` (section
4.1), which ``nalm report``/``nalm plot`` redraw from our runs as ``-axis``.
"""
from ..tasks import presets
from .axis import Axis, hidden_size
from .madsen2020_sweep import REFERENCE, scale, script_models, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_mul_hidden_size.sh"
VALUES = (2, 3, 4, 5, 6, 7, 8, 9, 10)
AXIS = Axis("hidden size", VALUES, configure=hidden_size)

EXPERIMENT = sweep(
    "madsen2020-hidden-size", __doc__, AXIS, [presets.madsen2020()] * len(VALUES),
    seeds=3, iterations=20_000, paper_seeds=50,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:5 (hidden_sizes 2..10), passed as --hidden-size "
                "(experiments/simple_function_static.py:96-100)",
        "targets": f"{REFERENCE} {SCRIPT}:4 (operation=mul)",
        "seeds": f"{REFERENCE} {SCRIPT}:7 (seeds 0..49)",
        "iterations": f"{REFERENCE} {SCRIPT}:14, 44 (--max-iterations 5000000)",
        "network": f"{REFERENCE} {SCRIPT}:42 (--hidden-size, one value per task index), "
                   "stable_nalu/network/simple_function_static.py (two layers)",
        "models": script_models(SCRIPT, {"nac": "12-15", "posnac": "17-21", "nalu": "23-27", "nmu": "29-33",
                                         "posnmu": "35-39", "gated": "41-45"}),
        "metric": f"{REFERENCE} export/function_task_static_mul_hidden_size.r:53-75 and export/_plot_parameter.r "
                  "(success rate, solved at, sparsity error against the hidden size); published only as the figure "
                  "paper/results/simple_function_static_mul_hidden_size.pdf, no numbers",
    },
    deviations=(scale(3, 20_000, 50, f"5e6 iterations over 50 seeds ({SCRIPT}:7, 14)"),),
)
