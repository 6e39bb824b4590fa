"""Madsen & Johansen (2020), appendix: the sparsity regularizer's strength λ, 0 to 100, for the NAU on + and − and the NMU on ×.

stable-nalu ``lfs_batch_jobs/function_task_static_regualization.sh``: the static task of
``madsen2020-static`` with ``--regualizer`` 0, 0.01, 0.1, 1, 10 or 100 in place of the rows'
own λ (0.01 for the NAU, 10 for the NMU), each row keeping its ramp (5e3 → 5e4 steps for the
NAU, 1e6 → 2e6 for the NMU), 25 seeds (25..49), 5e6 iterations. Published as the figures
``paper/results/simple_function_static_regualization_{add,sub,mul}.pdf``.
"""
from ..tasks import presets
from .axis import Axis, regularizer_scale
from .madsen2020_sweep import REFERENCE, scale, sweep

SCRIPT = "lfs_batch_jobs/function_task_static_regualization.sh"
VALUES = (0, 0.01, 0.1, 1, 10, 100)
AXIS = Axis("regularizer λ", VALUES, configure=regularizer_scale, categorical=True)

EXPERIMENT = sweep(
    "madsen2020-regularization", __doc__, AXIS, [presets.madsen2020()] * len(VALUES),
    models=("nau", "nau/nmu"), targets=("add", "sub", "mul"),
    model_targets={"nau": ("add", "sub"), "nau/nmu": ("mul",)},
    seeds=3, iterations=50_000, paper_seeds=25,
    sources={
        "axis": f"{REFERENCE} {SCRIPT}:4 (regualizations), passed as --regualizer "
                "(experiments/simple_function_static.py:30-34), which scales every layer's regularizer",
        "targets": f"{REFERENCE} {SCRIPT}:12, 19, 26 (add and sub for the NAU, mul for the NMU)",
        "seeds": f"{REFERENCE} {SCRIPT}:6 (seeds 25..49: 25 seeds; nalm numbers its seeds from 0)",
        "iterations": f"{REFERENCE} {SCRIPT}:14, 21, 27 (--max-iterations 5000000)",
        "models": f"{REFERENCE} {SCRIPT}:10-15, 17-22 (NAU: --layer-type ReRegualizedLinearNAC, ramp 5000 → 50000), "
                  ":24-28 (NMU: --nac-mul mnac, the default ramp)",
        "model nau": f"{REFERENCE} {SCRIPT}:10-22: + and − only, ramp --regualizer-scaling-start 5000, -end 50000",
        "model nau/nmu": f"{REFERENCE} {SCRIPT}:24-28: × only, the default ramp 1e6 → 2e6 "
                         "(experiments/simple_function_static.py:119-128), 20%-40% of the run in nalm",
        "metric": f"{REFERENCE} export/function_task_static_regualization.r:45-105 (success rate, solved at, "
                  "sparsity error per λ, one figure per operation); published only as the figures "
                  "paper/results/simple_function_static_regualization_{add,sub,mul}.pdf, no numbers",
    },
    deviations=(scale(3, 50_000, 25, f"5e6 iterations over 25 seeds ({SCRIPT}:6, 14)"),),
)
