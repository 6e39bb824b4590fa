"""Mistry et al. (2022), the robust NMU paper's arithmetic task: a NAU under an NMU or a stochastic NMU (sNMU), on × over nine ranges.

bmistry4/nalm-robust-nmu ``lfs_batch_jobs/icml_2022/arithmetic_dataset.sh`` runs Madsen &
Johansen's static task (100 inputs, subsets of 25 overlapping by 12 at a random offset, a
hidden layer of 2) on × over the nine interpolation ranges of the single-module task, 20
seeds: NAU → NMU for 5e6 steps and NAU → sNMU (noise U[1, 5]) for 2e6, both with the one
regularizer λ 10 ramped from 1e6 to 2e6 steps. Success is judged with Madsen & Johansen's
threshold, whose values the repository stores (``export/function_task_static_ranges/
exp_setups.csv``). The paper shows the success rates as Figure 7 only.
"""
from ..scoring.thresholds import MadsenReference
from ..tasks import StaticTask
from ..train import TrainConfig
from ..units.network import option_keys
from .arithmetic import ArithmeticTasks
from .madsen2020_static import EXPERIMENT as STATIC, SOURCES as STATIC_SOURCES
from .spec import Deviation, Experiment

REFERENCE = "bmistry4/nalm-robust-nmu@47675db"
SCRIPT = "lfs_batch_jobs/icml_2022/arithmetic_dataset.sh"
TRAINING = "experiments/simple_function_static.py"
RANGES = (("[1.1,1.2]", "[1.2,6]"), ("[0.1,0.2]", "[0.2,2]"), ("[-1.2,-1.1]", "[-6.1,-1.2]"), ("[-0.2,-0.1]", "[-2,-0.2]"),
          ("[1,2]", "[2,6]"), ("[10,20]", "[20,40]"), ("[-20,-10]", "[-40,-20]"), ("[-2,-1]", "[-6,-2]"),
          ("[-2,2]", "[-6,-2]U[2,6]"))
"""The script's interpolation and extrapolation ranges, in its order (``arithmetic_dataset.sh:10-11``)."""
RAMP = (1_000_000, 2_000_000)  # --regualizer-scaling-start/-end's defaults (simple_function_static.py:127-134)
PAPER_ITERATIONS = {"nau/nmu": 5_000_000, "nau/snmu": 2_000_000}
ITERATIONS = {"nau/nmu": 50_000, "nau/snmu": 20_000}  # the default scale: the paper's / 100


def unit_options(model: str, target: str, iterations: int) -> dict:
    """λ 10 (``--regualizer``'s default) for both layers, ramped over the steps the reference
    ramps it at, 1e6 → 2e6, as a share of each model's run: 20%-40% of the NMU's 5e6 steps,
    50%-100% of the sNMU's 2e6; the sNMU's noise U[1, 5] (``--noise-range``'s default).

    >>> unit_options("nau/snmu", "mul", 2_000_000)["snmu"]
    {'regularizer_scale': 10.0, 'regularizer_start': 1000000, 'regularizer_end': 2000000, 'noise_range': (1.0, 5.0)}
    >>> unit_options("nau/nmu", "mul", 5_000_000)["nau"]["regularizer_start"]
    1000000
    """
    paper = PAPER_ITERATIONS.get(model, PAPER_ITERATIONS["nau/nmu"])
    ramp = {"regularizer_scale": 10.0, "regularizer_start": RAMP[0] * iterations // paper,
            "regularizer_end": RAMP[1] * iterations // paper}
    options = {"nau": ramp, "nmu": ramp, "snmu": {**ramp, "noise_range": (1.0, 5.0)}}
    return {unit: o for unit, o in options.items() if unit in option_keys(model)}


SOURCES = {
    **{k: STATIC_SOURCES[k] for k in ("batch size", "evaluation", "baseline", "network")},
    "task": f"{REFERENCE} {TRAINING}:84-97 (--input-size 100, --subset-ratio 0.25, --overlap-ratio 0.5: the "
            "defaults, which the script keeps), stable_nalu/dataset/_simple_function_abstact.py (contiguous subsets "
            "at a random offset per seed)",
    "ranges": f"{REFERENCE} {SCRIPT}:10-11",
    "targets": f"{REFERENCE} {SCRIPT}:25, 34 (--operation mul)",
    "models": f"{REFERENCE} {SCRIPT}:24-30 (NAU-NMU: --layer-type ReRegualizedLinearNAC --nac-mul mnac), 33-39 "
              "(NAU-sNMU: the same with --nmu-noise); export/function_task_static_ranges/csv_merger.r:53-58 "
              "(fts-2021-final: the NMU and the sNMU of Figure 7)",
    "seeds": f"{REFERENCE} README.md:74 (bash {SCRIPT} 0 19: seeds 0..19)",
    "iterations": f"{REFERENCE} {SCRIPT}:27 (--max-iterations 5000000, NAU-NMU), :36 (2000000, NAU-sNMU)",
    "optimizer": f"{REFERENCE} {TRAINING}:172-181 (Adam, lr 1e-3, the defaults), :573",
    "threshold": f"{REFERENCE} export/function_task_static_ranges/generate_exp_setups.r:40-64 (subsets 26 "
                 "overlapping by 13, every weight off by ε), :94-101 (ε 1e-5), :117 (1e6 draws, R's generator unseeded); its values in "
                 "exp_setups.csv:2-10",
    "metric": f"{REFERENCE} export/function_task_static_ranges/plot_fts_results.r:74-94 (success rate at the best "
              "interpolation step, Madsen & Johansen's summary); Mistry et al. 2022 (robust NMU), Figure 7, a "
              "figure only: the repository holds no results",
    "model training: nau/nmu": f"{REFERENCE} {SCRIPT}:27 (5e6 steps)",
    "model training: nau/snmu": f"{REFERENCE} {SCRIPT}:36 (2e6 steps)",
    "unit options: nau": f"λ 10 ramped 1e6 → 2e6 steps, one regularizer for both layers ({REFERENCE} "
                         f"{TRAINING}:38-42, 127-134, 655-659)",
    "unit options: nmu": f"as the NAU's ({REFERENCE} {TRAINING}:38-42, 127-134)",
    "unit options: snmu": f"as the NMU's; noise U[1, 5] ({REFERENCE} {TRAINING}:263-275; "
                          "stable_nalu/layer/re_regualized_linear_mnac.py:68-79, 101-104)",
}

EXPERIMENT = Experiment(
    name="mistry2022-robust-nmu",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=tuple(StaticTask(interpolation=i, extrapolation=e) for i, e in RANGES),
        task_labels=tuple(f"{i} -> {e}" for i, e in RANGES),
        threshold_rule=MadsenReference(),
        primary="success_rate",
    ),
    models=("nau/nmu", "nau/snmu"),
    targets=("mul",),
    seeds=3,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=ITERATIONS["nau/nmu"], eval_every=1000,
                      eval_samples=10_000, hidden=2),
    paper_scale={"iterations": PAPER_ITERATIONS["nau/nmu"]},
    paper_seeds=20,
    unit_options=unit_options,
    model_train={"nau/snmu": {"iterations": ITERATIONS["nau/snmu"]}},
    paper_model_train={"nau/snmu": {"iterations": PAPER_ITERATIONS["nau/snmu"]}},
    sources=SOURCES,
    deviations=(
        Deviation("iterations", reference=f"5e6 steps for NAU → NMU, 2e6 for NAU → sNMU, 20 seeds ({SCRIPT}:27, 36)",
                  ours="a hundredth, 50,000 and 20,000 steps, and 3 seeds by default (--paper-scale: the script's); "
                       "the ramp keeps its share of each run",
                  reason="millions of steps per run take days on a CPU; the default runs in minutes on two cores, "
                         "and solves few × runs"),
        Deviation("models",
                  reference="the script's third model, NAU → batch sNMU (noise U[1, 1 + 1/sd(x)] from each batch, "
                            f"--noise-range [1,0], {SCRIPT}:42-51)",
                  ours="not run (the sNMU's other noise ranges, Figure 5, are mistry2022-snmu-noise)",
                  reason="the batch sNMU is no nalm unit yet: nalm's sNMU draws its noise from fixed bounds"),
        *(d for d in STATIC.deviations if d.setting == "threshold"),
        Deviation("model nau/snmu",
                  reference="noise drawn from PyTorch's global generator at every training forward pass "
                            "(stable_nalu/layer/re_regualized_linear_mnac.py:78-79), multiplied in place into the "
                            "NAU's output that the sNMU reads",
                  ours="Philox of (a key each member draws at initialization, the step), the NAU's output left "
                       "unchanged",
                  reason="a member must train alone as in a population; nothing after the sNMU reads the NAU's "
                         "output, so the in-place product changes no result"),
    ),
)
