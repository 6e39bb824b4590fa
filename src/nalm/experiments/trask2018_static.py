"""Trask et al. (2018), Table 1, static columns: sums of subsets of a 100-dim input.

The paper fixed only the input size; the task preset ``trask2018`` records our choices for
the rest (random subsets of 25, U[0, 1] → U[1, 5]). Training: Adam lr 1e-3, batch 128,
two layers of hidden size 2. Score: 100 × MAE / mean MAE of untrained ReLU6 MLPs.
"""
from ..tasks import presets
from ..train import TrainConfig
from . import blog_static
from .arithmetic import ArithmeticTasks
from .blog_static import TARGETS
from .spec import Experiment

SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "task": "Trask et al. 2018, section 4.1 (100-dimensional input, a and b sums of two subsets); the paper "
            "fixes nothing else: subset size and placement are nalm's choice (preset trask2018)",
    "ranges": "nalm's choice (preset trask2018): the paper gives no ranges",
    "targets": "Trask et al. 2018, Table 1",
    "seeds": "nalm's choice: the paper reports one number per cell without seeds",
    "iterations": "nalm's choice: the paper gives no iteration count",
    "optimizer": "nalm's choice (Adam, lr 1e-3, as Madsen & Johansen's reproduction): the paper names no optimizer"
                 " for this task",
    "batch size": "nalm's choice (128, as Madsen & Johansen's reproduction)",
    "network": "Trask et al. 2018, section 4.1 (two layers; hidden size 2 as the seed blog and Madsen & "
               "Johansen)",
    "evaluation": "nalm's choice: fixed evaluation sets drawn once per seed",
    "baseline": "Trask et al. 2018, section 4.1 (100 × error / error of a randomly initialized model)",
    "metric": "Trask et al. 2018, Table 1 (normalized extrapolation error)",
    "models": "Trask et al. 2018, Table 1 (ReLU6, None, NAC, NALU)",
    "threshold": "Madsen & Johansen 2020, section 4.1 (success criterion); nalm adds it: the paper reports errors "
                 "only",
}


EXPERIMENT = Experiment(
    name="trask2018-static",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=(presets.trask2018(),),
        primary="normalized_extrapolation",
    ),
    models=("mlp-relu6", "mlp-none", "nac", "nalu"),
    targets=TARGETS,
    seeds=5,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=10_000, eval_every=1000,
                      eval_samples=1000, hidden=2),
    paper_scale={"iterations": 100_000, "eval_samples": 10_000},
    unit_options=blog_static.port_unit_options,
    sources={**SOURCES, **blog_static.PORT_INIT_SOURCES},
)
