"""Mistry et al. (2021), Learning Division with NALMs: the RealNPU's L1 strength β, 1e-11 to 10, on ÷ over the Primer's nine ranges.

bmistry4/nalm-division ``lfs_batch_jobs/single_layer_task/neurips_2021/in2-realnpu-beta-sweep.sh``:
the baseline RealNPU (L1 only) learns a / b with two inputs on each of the single-module task's
nine ranges, its L1 penalty growing ×10 every 10,000 steps from β_start to β_end for seven
(β_start, β_end) pairs, the pair (1e-9, 1e-7) being ``sltr-in2.sh``'s baseline run; 25 seeds of
50,000 steps. Each (pair, range) is one task of this sweep. Published as a figure only
(``export/single_layer_task/neurips_csv_merger.r:90-100`` merges the runs' CSV files, which the
repository does not hold).
"""
from __future__ import annotations

from ..scoring.thresholds import MistryDivision
from ..tasks import presets
from ..tasks.presets import MISTRY2022_RANGES
from .arithmetic import ArithmeticTasks
from .axis import Axis, UnitOptions
from .mistry2022_division import PAPER_ITERATIONS, REPO, TRAIN, unit_options
from .mistry2022_single import EXPERIMENT as SINGLE
from .spec import Deviation, Experiment

SCRIPT = f"{REPO} lfs_batch_jobs/single_layer_task/neurips_2021/in2-realnpu-beta-sweep.sh"
BETAS = ((1e-11, 1e-9), (1e-9, 1e-7), (1e-8, 1e-6), (1e-7, 1e-5), (1e-5, 1e-3), (1e-3, 1e-1), (1e-1, 10.0))
"""(β_start, β_end): the script's pairs (``:16``), in the order of the paper's figure
(``neurips_csv_merger.r:99``)."""


# each value (β_start, β_end) sets the RealNPU's L1 schedule
AXIS = Axis("L1 β (start, end)", tuple(beta for beta in BETAS for _ in MISTRY2022_RANGES),
            configure=UnitOptions(("beta_start", "beta_end")), categorical=True)
TASKS = tuple(task for _ in BETAS for task in presets.mistry2022_ranges())
LABELS = tuple(f"β {start:g} -> {end:g}, {i} -> {e}" for start, end in BETAS for i, e in MISTRY2022_RANGES)

EXPERIMENT = Experiment(
    name="mistry2022-division-beta",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=TASKS,
        task_labels=LABELS,
        threshold_rule=MistryDivision(eps=1e-5),
        primary="success_rate",
        axis=AXIS,
    ),
    models=("real-npu",),
    targets=("div",),
    seeds=2,
    train=TRAIN,
    paper_seeds=25,
    paper_scale={"iterations": PAPER_ITERATIONS},
    unit_options=unit_options,
    model_train={"real-npu": SINGLE.model_train["real-npu"]},
    sources={
        "axis": f"{SCRIPT}:16-18 (the seven (start, end) pairs, one per run of the script), :45 "
                "(--regualizer-beta-start, --regualizer-beta-end); (1e-9, 1e-7) is sltr-in2.sh:39-46's baseline run",
        "task": f"{REPO} experiments/single_layer.py (--operation div, input size 2: a = x1, b = x2)",
        "ranges": f"{SCRIPT}:20-21 (the Primer's nine), each with every pair",
        "targets": f"{SCRIPT}:44 (--operation div)",
        "seeds": f"{SCRIPT}:8, 23 (25 seeds per range)",
        "iterations": f"{SCRIPT}:48 (--max-iterations 50000)",
        "optimizer": f"{SCRIPT}:45 (--learning-rate 5e-3; Adam, experiments/single_layer.py)",
        "batch size": f"{REPO} experiments/single_layer.py:63-67 (128)",
        "network": "one module, no hidden layer (experiments/single_layer.py: --layer-type RealNPU)",
        "evaluation": f"{REPO} experiments/single_layer.py:568-570 (fixed sets of 10,000), :308-312 (--log-interval 1000)",
        "threshold": f"{REPO} export/single_layer_task/exp_setups.csv (epsilon 1e-5 of the perturbed module, the "
                     "Primer's rule)",
        "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models); the paper reports none",
        "metric": f"{REPO} export/single_layer_task/neurips_csv_merger.r:90-100 (success per range and pair); "
                  "published as a figure only",
        "models": f"{SCRIPT}:43-49 (--layer-type RealNPU --nac-mul real-npu --regualizer-l1, no clipping)",
        "model real-npu": f"the baseline RealNPU ({SCRIPT}:43-49)",
        "unit options: real-npu": f"L1 over W and g from β_start ×10 every 10k steps up to β_end ({SCRIPT}:45-46; "
                                  "experiments/single_layer.py:226-240), steps scaled with the run; eps the float32 "
                                  "epsilon (stable_nalu/layer/npu_real.py:22)",
        "model training: real-npu": f"lr 5e-3 ({SCRIPT}:45)",
    },
    deviations=(
        Deviation("iterations", reference="50,000 steps over 25 seeds for each of 63 (pair, range) cells",
                  ours="5,000 steps and 2 seeds by default, the β steps scaled with the run (×10 every 1,000 steps); "
                       "--paper-scale: 50,000 and 25",
                  reason="63 cells of 25 seeds at 50k steps take hours on two cores; the default runs in minutes"),
        *(d for d in SINGLE.deviations if d.setting == "threshold" and d.reference.startswith("mean over 1e6")),
    ),
)
