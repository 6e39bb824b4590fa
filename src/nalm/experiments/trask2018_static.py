"""Trask et al. (2018), Table 1, static columns: sums of subsets of a 100-dim input.

The paper fixed only the input size; the task preset ``trask2018`` records our choices for
the rest (random subsets of 25, U[0, 1] → U[1, 5]). Training: Adam lr 1e-3, batch 128,
two layers of hidden size 2. Score: 100 × MAE / mean MAE of untrained ReLU6 MLPs.
"""
from ..tasks import presets
from ..train import TrainConfig
from .blog_static import TARGETS
from .spec import Experiment

EXPERIMENT = Experiment(
    name="trask2018-static",
    description=__doc__.strip().splitlines()[0],
    tasks=(presets.trask2018(),),
    models=("mlp-relu6", "mlp-none", "nac", "nalu"),
    targets=TARGETS,
    seeds=5,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=10_000, eval_every=1000,
                      eval_samples=1000, hidden=2),
    paper_scale={"iterations": 100_000, "eval_samples": 10_000},
    primary="normalized_extrapolation",
    sources={
        "init: nac": "Trask et al. (2018) give no init and no code; the unit default, stable-nalu's "
                     "U[-r, r] (stable_nalu/layer/nac.py:22-30, 54-57)",
        "init: nalu": "Trask et al. (2018) give no init and no code; the unit default: NAC as above, gate "
                      "xavier_uniform_ gain 1 (stable_nalu/layer/_abstract_nalu.py:90-92), eps 1e-7 (line 17)",
        "init: mlp": "Trask et al. (2018) give no init; torch.nn.Linear's",
    },
)
