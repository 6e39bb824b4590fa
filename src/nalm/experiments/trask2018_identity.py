"""Trask et al. (2018), Figure 1: MLPs fail to extrapolate the identity function.

Protocol (shared/PROTOCOLS.md 2.1): an MLP 1 → 8 → 8 → 8 → 1 with one of 14 activations learns
y = x on [-5, 5] and is tested on [-20, 20]; RMSprop lr 1e-2, MSE loss, 1e4 iterations, 100
models per activation. We draw a fresh batch of 128 from U[-5, 5] each step (one public port
used the 11 integers -5..5 as a full batch). A single NAC and a single NALU (1 → 1) train
beside them for contrast.
"""
from ..tasks import StaticTask
from ..train import TrainConfig
from ..units.mlp import FIGURE1_ACTIVATIONS
from ..units.network import option_keys
from . import blog_static
from .spec import Experiment

TASK = StaticTask(input_size=1, subset_ratio=1.0, overlap_ratio=1.0, placement="first",
                  interpolation=[-5, 5], extrapolation=[-20, 20])

EXPERIMENT = Experiment(
    name="trask2018-identity",
    description=__doc__.strip().splitlines()[0],
    tasks=(TASK,),
    models=tuple(f"mlp-{a}" for a in FIGURE1_ACTIVATIONS) + ("nac", "nalu"),
    targets=("identity",),
    seeds=8,
    train=TrainConfig(optimizer="rmsprop", lr=1e-2, batch_size=128, iterations=2000, eval_every=500,
                      eval_samples=1000, hidden=[8, 8, 8]),
    model_train={"nac": {"hidden": None}, "nalu": {"hidden": None}},
    paper_scale={"iterations": 10_000},
    paper_seeds=100,
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
