"""Madsen & Johansen (2020), the rigorous static arithmetic task and its success rates.

Protocol (shared/PROTOCOLS.md 2.3): x ∈ U[1, 2]^100 (extrapolation U[2, 6]), contiguous
subsets of 25 overlapping by 12 at a per-seed offset, a fresh batch of 128 each step, fixed
evaluation sets of 10,000 samples evaluated every 1,000 steps, two layers of hidden size 2,
Adam lr 1e-3. The paper trained 5e6 iterations over 100 seeds; the NMU regularizer ramps
from 20% to 40% of the run (1e6 → 2e6 in the paper), the NAU's from 5e3 to 5e4 steps.
Model names follow the paper's rows: "NMU" is a NAU first layer under an NMU, "NAC•" a NAC
under a NAC•.
"""
from ..tasks import presets
from ..train import TrainConfig
from ..train.thresholds import MadsenReference
from .blog_static import TARGETS
from .spec import Deviation, Experiment, Published


def unit_options(model: str, target: str, iterations: int) -> dict:
    return {"nmu": {"regularizer_start": 0.2 * iterations, "regularizer_end": 0.4 * iterations}}


PUBLISHED = Published(
    source="Madsen & Johansen (2020), static task, success rate over 100 seeds, 5e6 iterations",
    metric="success_rate",
    models={"NAC+": "nac", "NAC•": "nac/nac-mul", "NALU": "nalu", "NAU": "nau", "NMU": "nau/nmu",
            "Linear": "mlp-none", "ReLU": "mlp-relu", "ReLU6": "mlp-relu6"},
    values={
        "NAC+": {"add": 1.00, "sub": 1.00, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "NAC•": {"add": 0.0, "sub": 0.0, "mul": 0.31, "div": 0.0, "square": 0.77, "sqrt": 0.07},
        "NALU": {"add": 0.14, "sub": 0.14, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.02},
        "NAU": {"add": 1.00, "sub": 1.00, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "NMU": {"add": 0.0, "sub": 0.56, "mul": 0.98, "div": 0.0, "square": 1.00, "sqrt": 0.0},
        "Linear": {"add": 1.00, "sub": 0.07, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "ReLU": {"add": 0.62, "sub": 0.0, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "ReLU6": {"add": 0.0, "sub": 0.0, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
    },
    protocol={"iterations": 5_000_000, "optimizer": "adam", "lr": 1e-3, "seeds": 100, "eval_samples": 10_000},
)

EXPERIMENT = Experiment(
    name="madsen2020-static",
    description=__doc__.strip().splitlines()[0],
    tasks=(presets.madsen2020(),),
    models=("nac", "nac/nac-mul", "nalu", "nau", "nau/nmu", "mlp-none", "mlp-relu", "mlp-relu6"),
    targets=TARGETS,
    seeds=10,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=50_000, eval_every=1000,
                      eval_samples=10_000, hidden=2),
    paper_seeds=100,
    paper_scale={"iterations": 5_000_000},
    unit_options=unit_options,
    threshold_rule=MadsenReference(),
    primary="success_rate",
    published=(PUBLISHED,),
    sources={"threshold": "stable-nalu export/function_task_static_mse_expectation.r:33-59 (subsets), "
                          ":97-104 (eps 1e-5), :120 (1e6 samples); its values in paper/results/sft-last.csv"},
    deviations=(
        Deviation("threshold",
                  reference="the R script's perfect solution sums subsets of 26 overlapping by 13 "
                            "(inclusive R ranges), while the data sums 25 overlapping by 12",
                  ours="the same: the script's 26/13 subsets, not the task's 25/12",
                  reason="reproduced so that success rates compare with the published ones; "
                         "on the task's own subsets the add, div and sqrt thresholds would be 8-17% higher"),
        Deviation("threshold samples",
                  reference="1e6 draws of R's generator, unseeded",
                  ours="1e6 draws of numpy.random.default_rng(0)",
                  reason="R's stream is not reproduced; the thresholds agree with the published ones "
                         "within 0.4%"),
    ),
)
