"""Trask et al. (2018), Figure 1: MLPs fail to extrapolate the identity function.

Protocol (shared/PROTOCOLS.md 2.1): an MLP 1 → 8 → 8 → 8 → 1 with one of 14 activations learns
y = x on [-5, 5] and is tested on [-20, 20]; RMSprop lr 1e-2, MSE loss, 1e4 iterations, 100
models per activation. We draw a fresh batch of 128 from U[-5, 5] each step (one public port
used the 11 integers -5..5 as a full batch). A single NAC and a single NALU (1 → 1) train
beside them for contrast.
"""
from ..report.identity import identity_figures
from ..tasks import StaticTask
from ..train import TrainConfig
from ..units.mlp import FIGURE1_ACTIVATIONS
from . import blog_static
from .arithmetic import ArithmeticTasks
from .spec import Deviation, Experiment

TASK = StaticTask(input_size=1, subset_ratio=1.0, overlap_ratio=1.0, placement="first",
                  interpolation=[-5, 5], extrapolation=[-20, 20])

SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "task": "Trask et al. 2018, section 1.1 and Figure 1; kevinzakka/NALU-pytorch failures.py:51-52 (a scalar"
            " input, target y = x)",
    "ranges": "kevinzakka/NALU-pytorch failures.py:9-10 ([-5, 5] → [-20, 20]); Trask et al. 2018, section 1.1",
    "targets": "Trask et al. 2018, section 1.1 (the identity function)",
    "seeds": "kevinzakka/NALU-pytorch failures.py:59 (100 models per activation)",
    "iterations": "kevinzakka/NALU-pytorch failures.py:12 (1e4)",
    "optimizer": "kevinzakka/NALU-pytorch failures.py:11, :61 (RMSprop, lr 1e-2)",
    "batch size": "kevinzakka/NALU-pytorch failures.py:51 uses the 11 integers of [-5, 5] as one full batch; nalm "
                  "draws 128 from U[-5, 5] (see deviations)",
    "network": "kevinzakka/NALU-pytorch failures.py:60 (MLP 1 → 8 → 8 → 8 → 1); Trask et al. 2018, section 1.1",
    "evaluation": "kevinzakka/NALU-pytorch failures.py:52, :63-64 (error on every integer of [-20, 20]); nalm "
                  "samples the range",
    "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models)",
    "metric": "Trask et al. 2018, Figure 1 (error outside the training range)",
    "models": "kevinzakka/NALU-pytorch failures.py:13-24 (the activations); the NAC and NALU: Trask et al. "
              "2018, Figure 1",
    "threshold": "Madsen & Johansen 2020, section 4.1 (success criterion); nalm adds it: the figure reports errors"
                 " only",
}


EXPERIMENT = Experiment(
    name="trask2018-identity",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=(TASK,),
        primary="normalized_extrapolation",
        extra_figures=(identity_figures,),
    ),
    models=tuple(f"mlp-{a}" for a in FIGURE1_ACTIVATIONS) + ("nac", "nalu"),
    targets=("identity",),
    seeds=8,
    train=TrainConfig(optimizer="rmsprop", lr=1e-2, batch_size=128, iterations=2000, eval_every=500,
                      eval_samples=1000, hidden=[8, 8, 8]),
    unit_train={"hidden": None},
    paper_scale={"iterations": 10_000},
    paper_seeds=100,
    unit_options=blog_static.port_unit_options,
    sources={**SOURCES, **blog_static.PORT_INIT_SOURCES},
    deviations=(
        Deviation("iterations", "1e4 RMSprop steps, 100 models per activation",
                  "2,000 steps and 8 models by default (--paper-scale: 1e4 and 100)",
                  "the default scale runs in minutes on 2 CPU cores; the failure shows at either scale"),
        Deviation("batch size", "the 11 integers of [-5, 5] as one full batch",
                  "128 fresh samples from U[-5, 5] every step",
                  "a model should see the whole interval it is said to be trained on, not 11 points of it"),
        Deviation("evaluation", "the error at each integer of [-20, 20]",
                  "a fixed set sampled from U[-20, 20]",
                  "the same evaluation code as every other experiment; the error is still drawn against the input"),
    ),
)
