"""Trask et al. (2018), Table 1, recurrent columns: a and b accumulate over a sequence.

The paper does not publish its recurrent protocol; the task is Madsen & Johansen's recurrent
static-function dataset (preset ``madsen2020-recurrent``: 100 inputs per step, subsets of 25
overlapping by 12, x ∈ U[1, 2], 10 training steps). Models as in their script: a unit cell
with a hidden state of 2 read out by the same unit (``nau/nmu``: NAU cell, NMU readout), and
LSTM/GRU/RNN cells read out by a linear layer (the state starts at zero rather than at
their learned vector; see :mod:`nalm.units.recurrent`); Adam lr 1e-3, batch 128. Their extrapolation
sequences have 1000 steps; the default scale tests 100 (10 times the training length) and
``--paper-scale`` 1000 with their 1e5 iterations. Score: 100 × MAE / mean MAE of untrained
LSTMs, and Madsen's success criterion (threshold simulated on 10,000 extrapolation sequences). No published numbers are put beside ours: the paper's
recurrent setting is not specified enough to match.

Memory at paper scale: each seed's 1000 extrapolation sequences of 1000 steps hold 1e8
numbers (400 MB in float32), so 100 seeds need 40 GB at once. Grow ``--seeds`` in steps
instead (``--seeds 10``, then ``--seeds 20``, ...): stored runs are skipped, and only the
seeds being trained are held.
"""
import dataclasses

from ..tasks import presets
from ..train import TrainConfig
from ..train.thresholds import PerturbedWeights
from .blog_static import TARGETS
from .madsen2020_static import unit_options
from .spec import Experiment

PAPER_TASK = presets.madsen2020_recurrent()

EXPERIMENT = Experiment(
    name="trask2018-recurrent",
    description=__doc__.strip().splitlines()[0],
    tasks=(dataclasses.replace(PAPER_TASK, extrapolation_length=100),),
    paper_tasks=(PAPER_TASK,),
    models=("nac", "nalu", "nau/nmu", "lstm"),  # also available: gru, rnn-tanh, rnn-relu
    targets=TARGETS,
    seeds=3,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=1500, eval_every=500,
                      eval_samples=500, hidden=2),
    paper_scale={"iterations": 100_000, "eval_every": 1000, "eval_samples": 1000},
    paper_seeds=100,
    unit_options=unit_options,
    baseline_model="lstm",
    baseline_models=3,
    threshold_rule=PerturbedWeights(samples=10_000),
    primary="success_rate",
)
