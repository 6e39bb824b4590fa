"""Madsen & Johansen (2020), introduction: t = (x1 + x2)(x1 + x2 + x3 + x4) for the NAC•, the NALU and the NMU.

stable-nalu's ``--simple`` dataset (``lfs_batch_jobs/simple_mul.sh``): four inputs from U[1, 2]
(extrapolation U[2, 6]), a the sum of all four and b of the first two, the target a·b; two
layers of hidden size 2, Adam lr 1e-3, a fresh batch of 128 each step, 2e5 iterations over 100
seeds. The rows are the script's NAC• (``--layer-type NAC --nac-mul normal``), NALU
(``--layer-type NALU``) and NMU (``--layer-type ReRegualizedLinearNAC --nac-mul mnac``), as
``paper/results/simple_mul.tex`` shows them. The NMU's sparsity regularizer ramps from step 1e6
by the script's defaults, after its runs end: it never acts, and here its scale is 0.
"""
from ..report.published import Published
from ..scoring.thresholds import PerturbedWeights
from ..tasks import PrefixTask
from ..train import TrainConfig
from .arithmetic import ArithmeticTasks
from .madsen2020_static import PUBLISHED as STATIC_PUBLISHED, SOURCES, unit_options as static_options
from .spec import Deviation, Experiment

REFERENCE = "AndreasMadsen/stable-nalu@b3296ac"
SCRIPT = f"{REFERENCE} lfs_batch_jobs/simple_mul.sh"
PAPER_ITERATIONS = 200_000


def unit_options(model: str, target: str, iterations: int) -> dict:
    """madsen2020-static's options, but no sparsity regularizer: the script's ramp (λ 10 from
    step 1e6 to 2e6, ``experiments/simple_function_static.py:30-34, 119-128``) starts after its
    2e5 steps.

    >>> unit_options("nau/nmu", "mul", 200_000)["nmu"]["regularizer_scale"]
    0.0
    """
    options = static_options(model, target, iterations)
    return {unit: {**o, "regularizer_scale": 0.0} if "regularizer_scale" in o else o for unit, o in options.items()}


PUBLISHED = Published(
    source=f"Madsen & Johansen (2020), introduction table, over 100 seeds, 2e5 iterations ({REFERENCE} "
           "paper/results/simple_mul.tex, as printed: two significant digits)",
    metric="success_rate",
    models={"NAC•": "nac/nac-mul", "NALU": "nalu", "NMU": "nau/nmu"},
    values={"NAC•": {"mul": 0.13}, "NALU": {"mul": 0.26}, "NMU": {"mul": 0.94}},
    protocol={"iterations": PAPER_ITERATIONS, "optimizer": "adam", "lr": 1e-3, "seeds": 100, "eval_samples": 10_000},
    # the printed median and mean with its printed +/- offsets
    solved_at={"NAC•": {"mul": (5.5e4, 5.9e4, 5.9e4 - 6.6e3, 5.9e4 + 7.8e3)},
               "NALU": {"mul": (7.0e4, 7.8e4, 7.8e4 - 8.6e3, 7.8e4 + 6.2e3)},
               "NMU": {"mul": (1.4e4, 1.4e4, 1.4e4 - 2.1e2, 1.4e4 + 2.2e2)}},
    sparsity_error={"NAC•": {"mul": (7.5e-6, 7.5e-6 - 2.0e-6, 7.5e-6 + 2.0e-6)},
                    "NALU": {"mul": (9.2e-6, 9.2e-6 - 1.7e-6, 9.2e-6 + 1.7e-6)},
                    "NMU": {"mul": (2.6e-8, 2.6e-8 - 6.4e-9, 2.6e-8 + 6.4e-9)}},
    intervals=STATIC_PUBLISHED.intervals,
)

EXPERIMENT = Experiment(
    name="madsen2020-simple-mul",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=(PrefixTask(a_size=4, b_size=2),),
        threshold_rule=PerturbedWeights(eps=1e-5, samples=1_000_000),
        primary="success_rate",
    ),
    models=("nac/nac-mul", "nalu", "nau/nmu"),
    targets=("mul",),
    seeds=10,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=50_000, eval_every=1000,
                      eval_samples=10_000, hidden=2),
    paper_seeds=100,
    paper_scale={"iterations": PAPER_ITERATIONS},
    unit_options=unit_options,
    published=(PUBLISHED,),
    sources={
        **{k: SOURCES[k] for k in ("ranges", "optimizer", "batch size", "network", "evaluation", "baseline")},
        "task": f"{REFERENCE} stable_nalu/dataset/_simple_function_abstact.py:70-73 (--simple: 4 inputs, subsets "
                "[0, 4) and [0, 2), no offset); experiments/simple_function_static.py:85-88",
        "targets": f"{SCRIPT}:10, 38 (--operation mul)",
        "seeds": f"{SCRIPT}:6 (seeds 0..99)",
        "iterations": f"{SCRIPT}:12, 40 (--max-iterations 200000)",
        "models": f"{SCRIPT}:8-13 (NAC•), 22-27 (NALU), 29-34 (NMU), commented out since; the table's rows "
                  "export/simple_mul.r:68-71",
        "threshold": f"{REFERENCE} export/function_task_static_mse_expectation.r:33-38 (the simple case: a = x[1:2], "
                     "b = x[1:4], the task's own subsets), :49-51 (every weight off by eps), :97-104 (eps 1e-5 for ×), "
                     ":120 (1e6 samples); export/simple_mul.r:32-37 reads it",
        "metric": f"{REFERENCE} export/simple_mul.r:43-74 (success rate, solved at, sparsity error of the best step)",
        "unit options: nau": "λ 0: the script's ramp starts at step 1e6 (experiments/simple_function_static.py:119-128), "
                             "after its runs end at 2e5",
        "unit options: nmu": "λ 0, as the NAU's",
        "init: nac": SOURCES.get("init: nac", "") or "U[-r, r] (stable-nalu stable_nalu/layer/nac.py:22-30, 54-57)",
        "init: nac-mul": "the NAC init, in log space (stable_nalu/network/simple_function_static.py:58-61), eps 1e-7",
        "init: nalu": "NAC init, gate xavier_uniform_ gain 1 (stable-nalu stable_nalu/layer/_abstract_nalu.py:90-92); "
                      "eps 1e-7 (stable_nalu/network/simple_function_static.py:9)",
        "init: mlp": "zero biases, stable-nalu's BasicLayer inits (stable_nalu/layer/basic.py:20-73)",
    },
    deviations=(
        Deviation("iterations", f"2e5 iterations over 100 seeds ({SCRIPT}:6, 12)",
                  "5e4 iterations and 10 seeds by default (--paper-scale: 2e5 and 100)",
                  "the default runs in minutes on two cores and holds the NMU's solutions (a median 1.4e4 steps in the "
                  "paper); the NAC• and the NALU solve later (medians 5.5e4 and 7e4), which --paper-scale reaches"),
    ),
)
