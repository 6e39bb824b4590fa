"""Trask et al. (2018), Table 1, recurrent columns: a and b accumulate over a sequence.

The paper does not publish its recurrent protocol; this experiment follows Madsen &
Johansen's recurrent static-function script as it last ran (stable-nalu c434f99,
``experiments/simple_function_recurrent.py``): the preset ``madsen2020-recurrent`` (10 inputs
per step, a and b each a random contiguous range per seed, x ∈ U[1, 2], 10 training steps,
1000-step extrapolation), a unit cell with a hidden state of 2 read out by the same unit
(``nau/nmu``, a NAU cell under an NMU readout, is nalm's addition), LSTM/GRU/RNN cells read
out by a linear layer, a learned first state initialized to zeros, Adam lr 1e-3, batch 128,
1e5 iterations with ``--paper-scale``. The default scale tests 100-step sequences (10 times the
training length). Score: 100 × MAE / mean MAE of untrained LSTMs, and Madsen's success
criterion (threshold simulated on 10,000 extrapolation sequences). No published numbers are
put beside ours: the paper's recurrent setting is not specified enough to match.

nalm's earlier 100-input design (the madsen2020 static layout at every step) is the preset
``nalm-recurrent-100``; it is nalm's own, not Madsen & Johansen's.

Memory at paper scale: each seed's 2048 extrapolation sequences of 1000 steps hold 2e7
numbers (82 MB in float32).
"""
import dataclasses

from ..report.lengths import length_figures
from ..scoring.thresholds import PerturbedWeights
from ..tasks import presets
from ..train import TrainConfig
from ..units.network import parse_model
from ..units.recurrent import READOUT_OPTIONS
from .arithmetic import ArithmeticTasks
from .blog_static import TARGETS
from .spec import Deviation, Experiment

REFERENCE = "stable-nalu c434f99 experiments/simple_function_recurrent.py"
NETWORK = "stable-nalu c434f99 stable_nalu/network/simple_function_recurrent.py"

PAPER_TASK = presets.madsen2020_recurrent()


def unit_options(model: str, target: str, iterations: int) -> dict:
    """The learned zero first state for every model; the NMU's ramp scaled to the run; for the
    LSTM, GRU and RNN cells a linear readout initialized as the reference's (Xavier-uniform, gain
    1, zero bias: ``stable_nalu/network/simple_function_recurrent.py:32-38`` builds it as
    ``GeneralizedLayer(..., 'linear')``, a ``BasicLayer``, ``stable_nalu/layer/basic.py:42-43,69-72``),
    the untrained LSTMs of the normalized errors' denominators too.

    The reference adds ``0.1 · (1 - exp(-1e-5 t)) · model.regualizer()`` to the loss
    (``experiments/simple_function_recurrent.py:110``), but every unit its script trained has
    no regularizer then (a NALU's is nonzero only with ``nalu_gate='regualized'``,
    ``stable_nalu/layer/_abstract_nalu.py:45-56``, which the script never sets), so the term is
    zero; nalm's NAC, NALU and RNN cells have none either. The NAU and NMU postdate that script:
    they keep their own ramps, the NMU's over 20–40% of the run as in ``madsen2020-static``.
    """
    options = {"recurrent": {"learn_initial_state": True},
               "nmu": {"regularizer_start": 0.2 * iterations, "regularizer_end": 0.4 * iterations}}
    if parse_model(model)[0] == "rnn":
        options[READOUT_OPTIONS] = {"init": "xavier"}
    return options


SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "ranges": "stable-nalu c434f99 stable_nalu/dataset/_simple_function_abstact.py:94-95, "
              "simple_function_recurrent.py:8 (U[1, 2] for training and testing)",
    "paper task": "stable-nalu c434f99 experiments/simple_function_recurrent.py:75-76 (1000-step extrapolation "
                  "sequences)",
    "targets": "Trask et al. 2018, Table 1 (recurrent columns); stable-nalu c434f99 "
               "experiments/simple_function_recurrent.py (--operation)",
    "models": "stable-nalu c434f99 experiments/simple_function_recurrent.py (--layer-type); nau/nmu is nalm's "
              "addition (see deviations)",
    "threshold": "Madsen & Johansen 2020, section 4.1 (success criterion) applied to the sequence's totals; the "
                 "recurrent script reports MSE only",
    "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models; the LSTM as the "
                "recurrent baseline)",
    "metric": "Madsen & Johansen 2020, section 4.1 (success rate)",
    "model nac": "stable-nalu c434f99 stable_nalu/network/simple_function_recurrent.py:27-38 (a NAC cell read out "
                 "by a NAC)",
    "model nalu": "stable-nalu c434f99 stable_nalu/network/simple_function_recurrent.py:27-38 (a NALU cell read out"
                  " by a NALU)",
    "model lstm": "stable-nalu c434f99 stable_nalu/network/simple_function_recurrent.py:27-38 (torch.nn.LSTMCell "
                  "read out by a linear layer: GeneralizedLayer 'linear', Xavier-uniform gain 1 and a zero bias, "
                  "stable_nalu/layer/basic.py:42-43,69-72; the untrained LSTMs of the baseline alike)",
    "model nau/nmu": "nalm's addition: a NAU cell read out by an NMU (see deviations)",
}


EXPERIMENT = Experiment(
    name="trask2018-recurrent",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=(dataclasses.replace(PAPER_TASK, extrapolation_length=100),),
        paper_tasks=(PAPER_TASK,),
        baseline_model="lstm",
        baseline_models=3,
        threshold_rule=PerturbedWeights(samples=10_000),
        primary="success_rate",
        extra_figures=(length_figures,),
    ),
    models=("nac", "nalu", "nau/nmu", "lstm"),  # also available: gru, rnn-tanh, rnn-relu
    targets=TARGETS,
    seeds=3,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=1500, eval_every=500,
                      eval_samples=500, hidden=2),
    paper_scale={"iterations": 100_000, "eval_every": 1000, "eval_samples": 2048},
    paper_seeds=10,
    unit_options=unit_options,
    sources={
        **SOURCES,
        "task": "stable-nalu c434f99 stable_nalu/dataset/simple_function_recurrent.py:5-9, "
                "_simple_function_abstact.py:52-60,94-95; " + REFERENCE + ":74-76",
        "optimizer": REFERENCE + ":87 (torch.optim.Adam defaults: lr 1e-3)",
        "batch size": REFERENCE + ":74",
        "iterations": REFERENCE + ":28-31 (--max-iterations 100000)",
        "evaluation": REFERENCE + ":103 (every 1000 steps), :75-76 (batches of 2048)",
        "network": NETWORK + ":14 (hidden size 2), :27-38,63-70 (cell on [x_t, h_{t-1}]; same unit reads out, "
                   "linear for RNNs)",
        "unit options: recurrent": NETWORK + ":16-25,41-46 (learned state, zeros); the script's regularizer, "
                                   + REFERENCE + ":110, is zero for its units (stable_nalu/layer/_abstract_nalu.py:45-56)",
        "unit options: nmu": "nalm: madsen2020-static's NMU ramp, 20-40% of the run",
        "seeds": "stable-nalu cd00225 batch_jobs/simple_function_recurrent.sh:6",
    },
    deviations=(
        Deviation("task", "subsets 1-5 long overlapping by 1-2 (stable-nalu e088f71 to e64fa6f defaults)",
                  "a and b each a random range of random length (c434f99)",
                  "from e088f71 on, the dataset's constructor rejects its own defaults "
                  "(min_subset_length 1 < max_subset_overlap 2, _simple_function_abstact.py:67-68), "
                  "so c434f99 is the last version that ran"),
        Deviation("task", "numpy RandomState(seed) draws the subsets and data",
                  "nalm's per-seed streams: numpy's for the subsets, Philox4x32-10 for the data "
                  "(same distributions, other draws)",
                  "a seed's data must not depend on which seeds train beside it"),
        Deviation("task", "1000 steps", "100 steps at the default scale, 1000 with --paper-scale",
                  "a 1000-step evaluation costs as much as 100 training steps of 10"),
        Deviation("evaluation", "a fresh batch of 2048 at every evaluation",
                  "fixed sets (2048 with --paper-scale, 500 at the default scale)",
                  "fixed sets make evaluations comparable across steps and members"),
        Deviation("models", "RNN-tanh, RNN-ReLU, GRU, LSTM, NAC, NALU",
                  "nac, nalu, nau/nmu, lstm (gru, rnn-tanh, rnn-relu on request)",
                  "the NAU and NMU are the units the benchmark compares; they postdate the script"),
    ),
)
