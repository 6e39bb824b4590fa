"""Trask et al. (2018), Table 1, static columns: sums of subsets of a 100-dim input.

The paper fixed only the input size; the task preset ``trask2018`` records our choices for
the rest (random subsets of 25, U[0, 1] → U[1, 5]). Training: Adam lr 1e-3, batch 128,
two layers of hidden size 2. Score: 100 × MAE / mean MAE of untrained ReLU6 MLPs.
"""
from ..tasks import presets
from ..train import TrainConfig
from ..units.network import option_keys
from . import blog_static
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
    unit_options=lambda model, target, iterations: {
        unit: o for unit, o in blog_static.UNIT_OPTIONS.items() if unit in option_keys(model)},
    sources={
        "init: nac": "Trask et al. (2018) give no init and no code; the public PyTorch port the seed blog "
                     "ran, kaiming_uniform_(a=√5) (vrxacs/NALU-pytorch models/nac.py:29-30). Not stable-nalu's "
                     "U[-r, r]: its fan floor makes r = 9.47 for the 1 → 1 identity NAC, whose saturated "
                     "weights then often never reach 1",
        "init: nalu": "Trask et al. (2018) give no init and no code; the same port: kaiming_uniform_(a=√5) for "
                      "Ŵ, M̂ and G, eps 1e-10 (vrxacs/NALU-pytorch models/nalu.py:25, 31)",
        "init: mlp": "Trask et al. (2018) give no init; torch.nn.Linear's",
    },
)
