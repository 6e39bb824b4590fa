"""Trask et al. (2018), section 4.2, and Madsen & Johansen (2020): arithmetic over sequences of digit images.

A CNN reads each image to a number (to 10 for counting) and a recurrent cell accumulates them
(:class:`~nalm.units.sequence.DigitSequenceNetwork`), trained end to end on short sequences and
tested on long ones:

* ``count``: how many of each digit (10 outputs), trained on 10 images, tested on 10, 100 and
  1000 (Trask et al.'s MNIST Digit Counting);
* ``sum``: the running sum, trained on 10, tested on 1, 10, 100 and 1000 (MNIST Digit Addition,
  as Madsen & Johansen ran it);
* ``prod``: the running product of digits 1-9, trained on 2, tested on 1 to 20 (Madsen &
  Johansen's sequential MNIST product).

Madsen & Johansen's R_z ablation runs when named (``--models``): the NAU, NMU and NAC•,NMU
without their input regularizer R_z, and the NAC+ and NAC•,NMU with it (:data:`R_Z_ABLATION`).

The protocol is stable-nalu's (``experiments/sequential_mnist.py``, the only published code of
these tasks): Adam at 1e-3, batches of 64, MSE, the NAU/NMU regularizer ramped from step 10k
to 100k (from 10% of a shorter run to its end), model selection on the validation images,
success against the threshold of the solved model's seeds that solved the task
(:mod:`nalm.scoring.sequences`). MNIST is read from ``--data``;
without it, scikit-learn's bundled 8×8 digits stand in (a smaller CNN, named as a deviation).
"""
from __future__ import annotations

import numpy as np
import torch

import sympy

from ..explain import explain
from ..report import sequences as report
from ..report.published import PublishedFigure
from .. import streams
from ..tasks.digits import DigitImages, DigitSequenceTask, bundled_digits, load_mnist
from ..philox import Draws
from ..train import Member, Population, TrainConfig
from ..units import UNITS, seed_members_, unit_class
from ..units.sequence import LSTM, SOLVED, DigitSequenceNetwork
from .datasets import CellReading, DataSet
from .spec import Deviation, Experiment

SCRIPT = "stable-nalu b3296ac experiments/sequential_mnist.py"
NETWORK = "stable-nalu b3296ac stable_nalu/network/sequential_mnist.py"

TASKS = {
    "count": DigitSequenceTask("count", 10, (10, 100, 1000), supervised="last"),
    "sum": DigitSequenceTask("sum", 10, (1, 10, 100, 1000)),
    "prod": DigitSequenceTask("prod", 2, (1, 2, 5, 10, 15, 20), digits=tuple(range(1, 10))),
}


def task(target: str) -> DigitSequenceTask:
    """The task of ``target``."""
    return TASKS[target]

REGULARIZER = {"regularizer_scale": 10.0, "start": 10_000.0, "end": 100_000.0}
"""λ = 10, ramped linearly from step 10k to 100k whatever the run's length
(``experiments/sequential_mnist.py:25-29,108-117``); a run shorter than 100k steps ramps over
the same fractions of itself, 10%–100%."""


def load(path: str | None) -> DigitImages:
    return bundled_digits() if path is None else load_mnist(path)


REGULARIZER_Z = 1.0
"""The weight of the NAU's and NMU's input regularizer R_z, unramped: ``--regualizer-z 1`` in the
published runs (``lfs_batch_jobs/sequential_mnist_sum_long.sh:18,42``, ``sequential_mnist_prod_long.sh:44``;
``experiments/sequential_mnist.py:374``)."""


R_Z_ABLATION = {"nau-no-rz": ("nau", 0.0), "nmu-no-rz": ("nmu", 0.0), "nac-rz": ("nac", REGULARIZER_Z),
                "nac-mul-nmu-rz": ("nac-mul-nmu", REGULARIZER_Z), "nac-mul-nmu-no-rz": ("nac-mul-nmu", 0.0)}
"""Madsen & Johansen's R_z ablation, model -> (its cell's unit, R_z's weight): the NAU without
R_z on the sum, the NMU and the NAC•,NMU without it on the product (appendix "Sequential MNIST",
figures ``sequential_mnist_{sum,prod}_long_ablation``; ``--regualizer-z 0`` in
``lfs_batch_jobs/sequential_mnist_{sum,prod}_long.sh``), the NAC+ with it on the sum (NAC+,R_z,
``--layer-type NAC --regualizer-z 1`` in ``sequential_mnist_sum_long.sh``), and the NAC•,NMU with
it on the product, as the main figure shows it (``--layer-type ReRegualizedLinearPosNAC
--regualizer-z 1``). They run only when named (``--models``), each on its own target."""

SCHEDULED = ("nau", "nmu", "nac-mul-nmu")
"""The cells that take the regularizer's ramp (every layer's, ``experiments/sequential_mnist.py:374``)."""


def cell_unit(model: str) -> str:
    """The unit name of ``model``'s cell (the model itself, but for :data:`R_Z_ABLATION`)."""
    return R_Z_ABLATION[model][0] if model in R_Z_ABLATION else model


def unit_options(model: str, target: str, iterations: int) -> dict:
    start, end = REGULARIZER["start"], REGULARIZER["end"]
    if iterations < end:
        start, end = start / end * iterations, 1.0 * iterations
    options = {"regularizer_scale": REGULARIZER["regularizer_scale"], "regularizer_start": start,
               "regularizer_end": end, "regularizer_z": REGULARIZER_Z}
    if model in R_Z_ABLATION:
        unit, weight = R_Z_ABLATION[model]
        own = {**options, "regularizer_z": weight} if unit in SCHEDULED else {"regularizer_z": weight}
        return {unit: {name: value for name, value in own.items() if name != "regularizer_z" or value}}
    return {"nau": options, "nmu": options}


def population(model: str, target: str, data: DigitImages, members: list[Member], config: TrainConfig) -> Population:
    """A population of ``model`` on ``target``: member m is ``members[m]``'s network, batches and evaluation sets."""
    task, seeds = TASKS[target], [member.seed for member in members]
    dtype = getattr(torch, config.dtype)
    splits = {name: getattr(data, name).only(task.digits) for name in ("train", "valid", "test")}
    images = {name: torch.as_tensor(split.images, dtype=dtype) for name, split in splits.items()}
    net = DigitSequenceNetwork(cell_unit(model), image_size=data.image_size, outputs=task.outputs,
                               multiply=task.operation == "prod", hidden=config.hidden,
                               unit_options=config.unit_options, members=len(seeds), dtype=dtype)
    seed_members_(net, seeds)

    def sequences(split: str, count: int, length: int, stream: int, step: int):
        idx = np.stack([task.indices(splits[split], count, length, Draws(seed, stream, step)) for seed in seeds])
        return torch.from_numpy(idx), torch.from_numpy(task.targets(splits[split].labels[idx]))

    valid = sequences("valid", config.eval_samples, task.train_length, streams.INTERPOLATION, 0)
    tests = {n: sequences("test", config.eval_samples, n, streams.EXTRAPOLATION, n) for n in task.test_lengths}
    steps = slice(None) if task.supervised == "all" else slice(-1, None)

    def fit(step: int) -> torch.Tensor:
        idx, targets = sequences("train", config.batch_size, task.train_length, streams.TRAIN, step)
        predicted = net(images["train"][idx])
        return ((predicted - targets.to(dtype))[..., steps, :] ** 2).mean(dim=(1, 2, 3))

    def evaluate() -> dict[str, torch.Tensor]:
        out = {}
        features = net.features(images["valid"])
        idx, targets = valid
        predicted = net.recur(gather(features, idx)).double()
        out["valid_mse"] = ((predicted - targets)[..., steps, :] ** 2).mean(dim=(1, 2, 3))
        features = net.features(images["test"])
        for length, (idx, targets) in tests.items():
            last = net.recur(gather(features, idx))[..., -1, :].double()
            error = last - targets[..., -1, :]
            out[f"mse_{length}"] = (error ** 2).mean(dim=(1, 2))
            out[f"mae_{length}"] = error.abs().mean(dim=(1, 2))
            out[f"relative_mae_{length}"] = out[f"mae_{length}"] / targets[..., -1, :].abs().mean(dim=(1, 2))
            out[f"accuracy_{length}"] = (last.round() == targets[..., -1, :]).all(dim=-1).double().mean(dim=1)
        return out

    return Population(model, net, members, config, fit=fit, evaluate=evaluate, select="valid_mse")


READ_BACK_PROBE = {"x": (1.0, 9.0), "h": (1.0, 100.0)}
READ_BACK_EXTRAPOLATION = {"x": (1.0, 9.0), "h": (100.0, 1000.0)}
"""Where a cell's formula is read and checked: digit values for x, running values for h (longer
sequences' larger ones for the extrapolation check)."""


def read_back(model: str, target: str, weights: dict, unit_options: dict) -> CellReading | None:
    """The trained cell's simplest formula (:func:`nalm.explain`) over its inputs ``x`` (this
    step's CNN numbers) and ``h`` (the state), and whether it is the solved accumulator
    (h + x, per digit for counting; h · x for the product) and reproduces the cell; ``None``
    for the LSTM and the solved model, which have no arithmetic cell."""
    if model in (LSTM, SOLVED):
        return None
    task, unit = TASKS[target], cell_unit(model)
    n = task.outputs
    cell = unit_class(unit)(2 * n, n, **unit_options.get(unit, {}), dtype=torch.float64)
    with torch.no_grad():
        for name, p in cell.named_parameters():
            p.copy_(torch.as_tensor(np.asarray(weights[f"cell.{name}"])))
    names = ["x", "h"] if n == 1 else [f"x{i}" for i in range(n)] + [f"h{i}" for i in range(n)]
    draws = [np.random.default_rng(seed) for seed in (0, 1)]
    probe, extrapolation = (np.concatenate([rng.uniform(*ranges["x"], (500, n)), rng.uniform(*ranges["h"], (500, n))], 1)
                            for rng, ranges in zip(draws, (READ_BACK_PROBE, READ_BACK_EXTRAPOLATION)))
    explanation = explain(cell, names, probe=probe, extrapolation=extrapolation)
    x, h = explanation.symbols[:n], explanation.symbols[n:]
    solved = [hi * xi if task.operation == "prod" else hi + xi for xi, hi in zip(x, h)]
    is_solved = all(sympy.simplify(out - want) == 0 for out, want in zip(explanation.outputs, solved))
    return CellReading(explanation, is_solved and not explanation.rounding_changed_output)


def gather(features: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Member m's features of images ``idx[m]``: ``(M, N, F)`` and ``(M, S, T)`` → ``(M, S, T, F)``."""
    members = torch.arange(features.shape[0]).view(-1, 1, 1)
    return features[members, idx]


def tables(cells) -> str:
    return report.render_lengths(cells, PUBLISHED)


def figures(name: str, runs, cells) -> dict:
    return {"lengths": report.error_by_length_figure(cells, title=f"{name}: error against sequence length")}


PUBLISHED = (
    PublishedFigure(
        source="Madsen & Johansen 2020, figure 'sequential_mnist_prod_long' (stable-nalu paper/results/)",
        target="prod", metric="success_rate",
        values={"nmu": {1: .9, 2: 1, 5: 1, 10: .9, 15: .9, 20: .8}, "nac-mul": {1: .5, 2: .5, 5: .6, 10: .1, 15: .2, 20: 0},
                "nalu": {n: 0 for n in (1, 2, 5, 10, 15, 20)}, "lstm": {n: 0 for n in (1, 2, 5, 10, 15, 20)},
                "nac-mul-nmu-rz": {1: 1, 2: .9, 5: .8, 10: .7, 15: .8, 20: .6},
                "nac-mul-sigma": {1: .6, 2: .6, 5: .6, 10: 0, 15: .3, 20: 0}},
        note="10 seeds on MNIST, ~400k steps, NMU and NAC•,NMU with their R_z regularizer; read from the figure's "
             "marker positions"),
    PublishedFigure(
        source="Madsen & Johansen 2020, figure 'sequential_mnist_sum_long' (stable-nalu paper/results/)",
        target="sum", metric="success_rate",
        values={"nau": {1: .7, 10: .8, 100: .7, 1000: .8}, "nac": {1: .1, 10: .1, 100: 0, 1000: 0},
                "nalu": {1: 0, 10: 0, 100: 0, 1000: 0}, "lstm": {1: 0, 10: 0, 100: 0, 1000: 0},
                "nac-rz": {1: .1, 10: .2, 100: .3, 1000: .6}},
        note="10 seeds on MNIST, ~86k steps, NAU and NAC+,R_z with the R_z regularizer; read from the figure's "
             "marker positions"),
    PublishedFigure(
        source="Madsen & Johansen 2020, figure 'sequential_mnist_sum_long_ablation' (stable-nalu paper/results/)",
        target="sum", metric="success_rate",
        values={"nau-no-rz": {1: 0, 10: .1, 100: .2, 1000: .4}},
        note="the R_z ablation: the NAU without R_z (the figure's other lines are the main figure's); 10 seeds on "
             "MNIST, ~86k steps; read from the figure's marker positions"),
    PublishedFigure(
        source="Madsen & Johansen 2020, figure 'sequential_mnist_prod_long_ablation' (stable-nalu paper/results/)",
        target="prod", metric="success_rate",
        values={"nmu-no-rz": {1: .9, 2: .9, 5: .7, 10: .8, 15: 1, 20: .8},
                "nac-mul-nmu-no-rz": {1: .4, 2: .5, 5: .8, 10: .6, 15: 1, 20: .5}},
        note="the R_z ablation: the NMU and NAC•,NMU without R_z (the figure's other lines are the main figure's); "
             "10 seeds on MNIST, ~400k steps; read from the figure's marker positions"),
)

MODELS = ("nac", "nalu", "nau", "nmu", "nac-mul", LSTM, SOLVED)

EXPERIMENT = Experiment(
    name="trask2018-mnist",
    description=__doc__.strip().splitlines()[0],
    workload=DataSet(
        loader=load,
        task=task,
        build=population,
        read_cell=read_back,
        summarize=report.summarize_lengths,
        tables=tables,
        draw=figures,
        known_models=tuple(UNITS) + (LSTM, SOLVED) + tuple(R_Z_ABLATION),
        evaluation="on {eval_sequences:,} validation sequences of the training length and as many test sequences of "
                   "each test length",
        settings={
            "image model": "LeNet for MNIST (conv 20 and 50 of 5×5, 500 hidden); for the 8×8 digits conv 8 and 16 of "
                           "3×3, 64 hidden; one output per image (10 for counting)",
            "cell": "a unit on [x_t, h_{t-1}] whose state is the output; its state starts at 1 for the NMU and NAC•, "
                    "else 0; lstm: an LSTM of 10 read out by a linear layer; solved: h + x or h·x given",
            "sequences": "images drawn with replacement from each split, by Philox of (seed, step)",
            "loss": "MSE over every step's running value (count: the last step's counts)",
            "regularizer": "NAU and NMU: λ 10, ramped linearly from step 10,000 to 100,000 (a shorter run: over "
                           "10%-100% of it)",
            "R_z ablation": "nau-no-rz (sum), nmu-no-rz and nac-mul-nmu-no-rz (prod): the NAU, NMU and NAC•,NMU "
                            "without R_z; nac-rz (sum): the NAC+ with R_z at weight 1 on its effective weight; "
                            "nac-mul-nmu-rz (prod): the NAC•,NMU with R_z on its log-space inputs; each with the "
                            "regularizer's ramp where its unit has one; run only when named with --models, so the "
                            "default run is unchanged",
            "published numbers": "Madsen & Johansen's success rates per test length beside ours, read off their "
                                 "figures (sum, prod and the R_z ablation); none for count",
            "best step": "each seed's evaluation with the lowest validation MSE",
            "metrics": "MSE, MAE, MAE relative to the mean |answer|, and accuracy (every output right after rounding) "
                       "of the final output, per test length; the cell's formula (nalm explain)",
            "success": "test MSE below the solved model's one-sided 99% t bound, mean + qt(0.99, n-1)·sd/√n over "
                       "the n of its seeds that solved the task, per length; a solved seed did not solve it if its "
                       "test MSE at some length is over 10 times the solved seeds' median there",
        },
    ),
    models=MODELS,
    targets=tuple(TASKS),
    seeds=3,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=32, iterations=1500, eval_every=250, eval_samples=200,
                      hidden=10),
    paper_scale={"iterations": 100_000, "batch_size": 64, "eval_every": 1000, "eval_samples": 1000},
    paper_seeds=10,
    model_targets={"nac": ("count", "sum"), "nau": ("count", "sum"), "nmu": ("prod",), "nac-mul": ("prod",),
                   "nau-no-rz": ("sum",), "nmu-no-rz": ("prod",), "nac-rz": ("sum",), "nac-mul-nmu-rz": ("prod",),
                   "nac-mul-nmu-no-rz": ("prod",), "nac-mul-sigma": ("prod",)},
    unit_options=unit_options,
    published=PUBLISHED,
    sources={
        "data": "Trask et al. 2018, section 4.2 (MNIST); " + "stable-nalu b3296ac stable_nalu/dataset/sequential_mnist.py:"
                "110-126 (torchvision MNIST, Normalize(0.1307, 0.3081), validation = the last 5,000 training images)",
        "task count": "Trask et al. 2018, section 4.2 (MNIST Digit Counting: 10 counts, train 10, test 100 and 1000); "
                      "stable-nalu eeadf46 stable_nalu/dataset/sequential_mnist.py:20-25 (a histogram, the last state)",
        "task sum": "stable-nalu b3296ac paper/appendix/sequential-mnist.tex:15 and "
                    "lfs_batch_jobs/sequential_mnist_sum_long.sh (cumsum, train 10, test 1-1000)",
        "task prod": "Madsen & Johansen 2020, section 4.2; stable-nalu b3296ac lfs_batch_jobs/"
                     "sequential_mnist_prod_long.sh:10-12 (cumprod of digits 1-9, train 2, test 1-20)",
        "image model": "stable-nalu b3296ac stable_nalu/network/regression_mnist.py:17-19,36-42 (pytorch/examples' "
                       "MNIST CNN, one output per image; 10 for counting: eeadf46 network/sequential_mnist.py:15)",
        "cell": NETWORK + ":39,75-80 (h_t = cell([x_t, h_{t-1}]), the state is the output); :45-56 (state starts at "
                "1 for NMU and NAC•, else 0)",
        "models": "Trask et al. 2018, Table 2 (NAC, NALU, LSTM); stable-nalu b3296ac lfs_batch_jobs/"
                  "sequential_mnist_{sum,prod}_long.sh (NAC+, NAU, NMU, NAC•, NAC•,σ, NAC•,NMU, NALU, LSTM)",
        "iterations": SCRIPT + ":59-63,326-327 (1000 epochs)",
        "evaluation": SCRIPT + ":337-358 (every 5 epochs: training, validation and each test length)",
        "optimizer": SCRIPT + ":299 (torch.optim.Adam, lr 1e-3)",
        "batch size": "stable-nalu b3296ac stable_nalu/dataset/sequential_mnist.py:151-156 (the data loader's 64)",
        "loss": SCRIPT + ":298,301,373 (MSE over every step)",
        "regularizer": SCRIPT + ":25-29,108-117,365-375 (λ 10, linear from 10k to 100k steps); R_z of the NAU and "
                       "NMU cells at weight 1, unramped (:30-34,374; lfs_batch_jobs/sequential_mnist_sum_long.sh:18,42, "
                       "sequential_mnist_prod_long.sh:44; the NAU on count, nalm's addition, as on sum)",
        "best step": "Madsen & Johansen 2020, section 4.2 (best validation MSE)",
        "sequences": "stable-nalu b3296ac stable_nalu/dataset/sequential_mnist.py:128-149 (see deviations)",
        "metrics": "Trask et al. 2018, section 4.2 (MAE and accuracy); " + SCRIPT + ":303-322 (MSE; accuracy "
                   "round(y) == t)",
        "success": "stable-nalu b3296ac paper/appendix/sequential-mnist.tex:8-10 (below the solved model's one-sided "
                   "99% t bound); export/sequential_mnist_sum_long.r:16,47-70 (alpha 0.01, every seed of the 9 that "
                   "ran, lfs_batch_jobs/sequential_mnist_sum_reference.sh:5, qt(0.99, 8)); "
                   "export/sequential_mnist_prod_long.r:16,47-74 (7 of 10 seeds: \"seed 1, 3, and 8 did not solve "
                   "it\", line 70; qt(0.99, 8), line 73)",
        "seeds": "stable-nalu b3296ac lfs_batch_jobs/sequential_mnist_prod_long.sh:5 (10 seeds)",
        "model lstm": "stable-nalu b3296ac stable_nalu/layer/generalized.py:184-193 (LSTMCell); nalm reads it out "
                      "by a linear layer (see deviations)",
        "model solved": NETWORK + ":97-119 (--model-simplification solved-accumulator)",
        "published numbers": "Madsen & Johansen 2020, figures sequential_mnist_{sum,prod}_long and their ablations "
                             "(stable-nalu b3296ac paper/results/*.pdf, success rates of 10 seeds read off the plotted "
                             "points); Trask et al. 2018, Table 2 (not shown, see deviations)",
        "R_z ablation": "stable-nalu b3296ac paper/appendix/sequential-mnist.tex (sections on the ablation of R_z); "
                        "lfs_batch_jobs/sequential_mnist_sum_long.sh (NAC and NAU, --regualizer-z 0 and 1), "
                        "sequential_mnist_prod_long.sh (NMU and NAC•,NMU, --regualizer-z 0 and 1); "
                        "stable_nalu/layer/nac.py:40-71 "
                        "(the NAC's R_z, stable_nalu/functional/regualizer_nau_z.py, on nac_weight); "
                        "export/sequential_mnist_{sum,prod}_long.r (the figures with and without R_z)",
    },
    deviations=(
        Deviation("data", "MNIST (28×28, 55,000 training images)",
                  "scikit-learn's 1,797 bundled 8×8 digits unless --data PATH gives MNIST's IDX files; the bundled "
                  "digits get a smaller CNN (8 and 16 channels of 3×3, 64 hidden)",
                  "no download inside nalm, and the default scale must finish in minutes on a CPU"),
        Deviation("sequences", "the training split permuted once per seed and cut into fixed non-overlapping "
                               "sequences (5,500 of length 10 for the sum), whose order is reshuffled every epoch "
                               "(stable_nalu/dataset/sequential_mnist.py:126-149, experiments/sequential_mnist.py:262); "
                               "the test set cut alike (10 sequences of length 1000)",
                  "each step's sequences drawn with replacement by Philox of (seed, step); fixed evaluation sets "
                  "of eval_sequences sequences per length",
                  "a member's data must not depend on its population; 10 sequences are too few to compare models"),
        Deviation("evaluation", "one validation set and one test set per length for every seed and model, cut by "
                                "fixed seeds 47430696 and 88253339 (experiments/sequential_mnist.py:263-273)",
                  "each seed's own sets, drawn by Philox of (seed, stream, length): shared by every model of a seed, "
                  "not across seeds, so the sets' sampling variance is part of the solved model's spread over seeds "
                  "and widens the success bound",
                  "one set for every seed would change every stored run's config, and the reports of the data-set "
                  "experiments do not keep runs of the two kinds apart; comparisons between models stay paired by "
                  "seed"),
        Deviation("success", "the seeds of the solved model that solved the task chosen by reading them (prod_long.r:"
                             "70); qt(0.99, 8): n-1 for the sum's 9 seeds, kept unchanged for the product's 7",
                  "a solved seed kept unless its test MSE at some length is over 10 times the solved seeds' median "
                  "there; qt(0.99, n-1) over the n kept",
                  "a report must judge the seeds the same way every time; n-1 is the sum script's rule"),
        Deviation("iterations", "1000 epochs of 64-sequence batches: 86,000 steps for the sum (5,500 sequences), "
                                "about 388,000 for the product (about 24,800 sequences of two of the first 55,000 "
                                "images' digits 1-9); the sum's run ends at 84% of the regularizer's ramp, the "
                                "product's has about 288,000 steps at full λ",
                  "1,500 steps by default (the regularizer ramped over 150-1,500), 100,000 for every target with "
                  "--paper-scale (ramped over 10k-100k, as the reference, and ending there); --iterations 388000 "
                  "gives the product's full run",
                  "a default run must finish in minutes; --paper-scale sets one length for every target"),
        Deviation("batch size", "64", "32 by default, 64 with --paper-scale",
                  "the CNN is most of a step's cost; a default run must finish in minutes"),
        Deviation("metrics", "test MSE over every step of a sequence",
                  "MSE, MAE and accuracy of the final output (the sequence's answer)",
                  "Trask et al. report the answer's error and accuracy; one definition serves both papers' tables"),
        Deviation("model lstm", "an LSTM cell of hidden size 1 whose state is the output",
                  "an LSTM of hidden size 10 read out by a linear layer",
                  "an LSTM state is bounded by 1, so the reference's LSTM cannot represent a count or a sum above 1"),
        Deviation("published numbers", "Trask et al. 2018, Table 2: each model's error on MNIST digit counting and "
                                        "addition, per test length",
                  "not shown; Madsen & Johansen's success rates of sum and prod, read off their figures, stand "
                  "beside ours instead",
                  "we had no copy of Table 2 we could cite, and the paper publishes no MNIST protocol (CNN, "
                  "optimizer, steps, seeds), so even its numbers would come from a protocol other than ours"),
        Deviation("task prod", "prod tested on every length 1-20; sum on 1, 10, 100, 200, ..., 1000",
                  "prod on 1, 2, 5, 10, 15, 20; sum on 1, 10, 100, 1000", "a readable table"),
    ),
)
