"""The seed blog's function-learning table (its reproduction of Trask et al. 2018, Table 1).

Protocol (shared/PROTOCOLS.md 2.2): [a, b] from sums of 5 entries of a fixed v ∈ U[5, 10]^100,
500 training and 50 test samples, two layers with hidden size 2, RMSprop lr 1e-3,
full-batch, 1e5 iterations; score = 100 × MAE / mean MAE of untrained ReLU6 MLPs. Unlike
the blog, every (model, target, seed) starts from a fresh initialization (the blog reused
trained models across targets), several seeds are run, and extrapolation is measured too.
"""
from ..report.published import Published
from ..tasks import presets
from ..train import TrainConfig
from ..units.network import option_keys
from .arithmetic import ArithmeticTasks
from .spec import Deviation, Experiment

TARGETS = ("add", "sub", "mul", "div", "square", "sqrt")

PUBLISHED = Published(
    source="seed blog (vrxacs, kevinzakka's port with FauxNALU), one run, interpolation",
    metric="normalized_interpolation",
    models={"ReLU6": "mlp-relu6", "None": "mlp-none", "NAC": "nac", "NALU": "nalu", "FauxNALU": "faux-nalu"},
    values={
        "ReLU6": {"add": 4.837, "sub": 92.562, "mul": 49.224, "div": 104.827, "square": 50.320, "sqrt": 13.426},
        "None": {"add": 0.137, "sub": 1.901, "mul": 0.408, "div": 6.532, "square": 0.492, "sqrt": 4.493},
        "NAC": {"add": 0.049, "sub": 0.462, "mul": 89.212, "div": 7373.894, "square": 89.430, "sqrt": 2385.364},
        "NALU": {"add": 0.230, "sub": 62.604, "mul": 0.380, "div": 0.186, "square": 0.711, "sqrt": 0.326},
        "FauxNALU": {"add": 0.326, "sub": 1.214, "mul": 0.511, "div": 6.039, "square": 0.421, "sqrt": 8.255},
    },
    protocol={"iterations": 100_000, "optimizer": "rmsprop", "lr": 1e-3, "seeds": 1, "baseline_models": 100},
)

UNIT_OPTIONS = {
    "nac": {"init": "blog"},
    "nalu": {"init": "blog", "eps": 1e-10},
    "faux-nalu": {"init": "blog", "eps": 1e-10},
}


def port_unit_options(model: str, target: str, iterations: int) -> dict:
    """The blog's port's init and eps for the units of ``model`` (the same on every target)."""
    return {unit: options for unit, options in UNIT_OPTIONS.items() if unit in option_keys(model)}


PORT_INIT_SOURCES = {  # for experiments whose paper gives no init and no code
    "init: nac": "Trask et al. (2018) give no init and no code; the public PyTorch port the seed blog "
                 "ran, kaiming_uniform_(a=√5) (vrxacs/NALU-pytorch models/nac.py:29-30). Not stable-nalu's "
                 "U[-r, r]: its fan floor makes r = 9.47 for the 1 → 1 identity NAC, whose saturated "
                 "weights then often never reach 1",
    "init: nalu": "Trask et al. (2018) give no init and no code; the same port: kaiming_uniform_(a=√5) for "
                  "Ŵ, M̂ and G, eps 1e-10 (vrxacs/NALU-pytorch models/nalu.py:25, 31)",
    "init: mlp": "Trask et al. (2018) give no init; torch.nn.Linear's",
}
"""The seed blog's code: kaiming_uniform_(a=√5) for every NAC and gate matrix, eps 1e-10."""

SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "task": "vrxacs/NALU-pytorch@222a237 function_learning.py:28-43 (one v ∈ U[5, 10]^100 per target, a and b"
            " sums of 5 disjoint random entries) and :110-114 (500 training, 50 test samples)",
    "ranges": "vrxacs/NALU-pytorch@222a237 function_learning.py:17 (RANGE = [5, 10]); the extrapolation range "
              "is nalm's addition (see deviations)",
    "targets": "vrxacs/NALU-pytorch@222a237 function_learning.py:18-25",
    "seeds": "vrxacs/NALU-pytorch@222a237 function_learning.py:106-133 (one run per target); more seeds are "
             "nalm's (see deviations)",
    "iterations": "vrxacs/NALU-pytorch@222a237 function_learning.py:16 (NUM_ITERS = 1e5)",
    "optimizer": "vrxacs/NALU-pytorch@222a237 function_learning.py:15, :130 (RMSprop, lr 1e-3, PyTorch's other "
                 "defaults)",
    "batch size": "vrxacs/NALU-pytorch@222a237 function_learning.py:131 (every step on all 500 training samples)",
    "network": "vrxacs/NALU-pytorch@222a237 function_learning.py:13-14, :70-103 (two layers, hidden size 2)",
    "evaluation": "vrxacs/NALU-pytorch@222a237 function_learning.py:132 (MAE on the 50 test samples after training)",
    "baseline": "vrxacs/NALU-pytorch@222a237 function_learning.py:116-126 (mean MAE of 100 untrained ReLU6 MLPs "
                "on the test samples), :138-139 (100 × MAE / that)",
    "metric": "vrxacs/NALU-pytorch@222a237 function_learning.py:138-142 (normalized interpolation error); "
              "results/interpolation.txt is the blog's table",
    "models": "vrxacs/NALU-pytorch@222a237 function_learning.py:70-103 (ReLU6 MLP, linear MLP, NAC, NALU, "
              "FauxNALU)",
    "threshold": "Madsen & Johansen 2020, section 4.1 (success criterion); nalm adds it: the blog reports no "
                 "success rate",
}


EXPERIMENT = Experiment(
    name="blog-static",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=(presets.blog(),),
        baseline_models=100,
        primary="normalized_interpolation",
    ),
    models=("mlp-relu6", "mlp-none", "nac", "nalu", "faux-nalu"),
    targets=TARGETS,
    seeds=5,
    train=TrainConfig(optimizer="rmsprop", lr=1e-3, iterations=10_000, eval_every=1000, eval_samples=50, hidden=2),
    paper_scale={"iterations": 100_000},
    published=(PUBLISHED,),
    unit_options=port_unit_options,
    sources={
        **SOURCES,
        "init: nac": "kaiming_uniform_(a=√5) for Ŵ and M̂ (vrxacs/NALU-pytorch models/nac.py:29-30)",
        "init: nalu": "kaiming_uniform_(a=√5) for Ŵ, M̂ and G, eps 1e-10 (vrxacs/NALU-pytorch models/nalu.py:25, 31)",
        "init: faux-nalu": "torch.nn.Linear, gate kaiming_uniform_(a=√5), eps 1e-10 "
                           "(vrxacs/NALU-pytorch models/fauxnalu.py:22-28)",
        "init: mlp": "torch.nn.Linear's: kaiming_uniform_(a=√5), bias U[±1/√fan_in] (vrxacs/NALU-pytorch models/mlp.py:46-52)",
    },
    deviations=(
        Deviation("iterations", "1e5 full-batch iterations", "1e4 by default, 1e5 with --paper-scale",
                  "the default scale runs the whole table in a few minutes on 2 CPU cores"),
        Deviation("seeds", "one run, the same model objects trained on one target after another",
                  "a fresh model per (model, target, seed), 5 seeds",
                  "reusing trained models carries one target's training into the next (shared/PROTOCOLS.md, "
                  "pitfall 2), and one run gives no interval"),
        Deviation("ranges", "interpolation only (50 test samples from the training pool)",
                  "also extrapolation, sums of entries of a v ∈ U[10, 20]^100",
                  "the table is about extrapolation; the interpolation columns are unchanged by it"),
    ),
)
