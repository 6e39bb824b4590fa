"""Trask et al. (2018), section 4.4: evaluating short programs, read character by character, on numbers longer than trained.

``add`` (``a+b``) and ``ifelse`` (``a<b?a+c:a-c``) are read one character at a time by an
LSTM (:mod:`nalm.tasks.programs`), and an output layer on its last state gives the value:
linear (``lstm``), or a unit (``lstm+nalu``, ``lstm+nac``, ``lstm+nau``, any ``lstm+<unit>``),
as in the translation experiment. Trained on operands 0-99, tested on operands of 2, 3, 4 and
5 digits; the report gives each model's accuracy (the rounded output is the value) and MAE per
operand length.

The paper follows Zaremba & Sutskever (2014) but does not publish its programs, network sizes
or training settings, and gives its results as a figure; this experiment is nalm's design on
the paper's stated lines (two-digit training numbers, longer test numbers, accuracy), named as
such on its protocol card, with no published numbers beside ours.
"""
from __future__ import annotations

import numpy as np
import torch

from ..report import sequences as report
from .. import streams
from ..philox import Draws
from ..tasks.programs import CHARACTERS, PROGRAMS, ProgramTask
from ..train import Member, Population, TrainConfig
from ..units import UNITS, seed_members_
from ..units.sequence import WordsToNumberNetwork
from .datasets import DataSet
from .spec import Deviation, Experiment
from .trask2018_translation import LINEAR, PREFIX, head_of, unit_options

TASKS = {program: ProgramTask(program) for program in PROGRAMS}


def task(target: str) -> ProgramTask:
    """The task of ``target``."""
    return TASKS[target]


class Generated:
    """The programs are drawn, not read: nothing to load."""

    def fingerprint(self) -> dict:
        return {"name": "generated programs", "characters": CHARACTERS}


def load(path: str | None) -> Generated:
    if path is not None:
        raise ValueError("trask2018-program generates its programs; --data is not used")
    return Generated()


def population(model: str, target: str, data: Generated, members: list[Member], config: TrainConfig) -> Population:
    """A population of ``model`` on program ``target``: member m is ``members[m]``'s network, batches and test sets."""
    task, seeds = TASKS[target], [member.seed for member in members]
    dtype = getattr(torch, config.dtype)
    net = WordsToNumberNetwork(head_of(model), vocabulary=len(CHARACTERS) + 1, embedding=config.hidden,
                               hidden=config.hidden, unit_options=config.unit_options, members=len(seeds), dtype=dtype)
    seed_members_(net, seeds)

    def programs(count: int, stream: int, step: int, digits: int | None = None):
        """Each member's ``count`` programs, padded to one length: tokens (M, n, T), last positions, values."""
        encoded = [task.encode(task.operands(count, Draws(seed, stream, step), digits)) for seed in seeds]
        longest = max(tokens.shape[1] for tokens, _, _ in encoded)
        tokens = np.stack([np.pad(t, ((0, 0), (0, longest - t.shape[1]))) for t, _, _ in encoded])
        return (torch.from_numpy(tokens), torch.from_numpy(np.stack([n for _, n, _ in encoded]) - 1),
                torch.from_numpy(np.stack([v for _, _, v in encoded])))

    valid = programs(config.eval_samples, streams.INTERPOLATION, 0)
    tests = {d: programs(config.eval_samples, streams.EXTRAPOLATION, d, digits=d) for d in task.test_digits}

    def answers(tokens, last):
        return net(tokens).gather(-1, last.unsqueeze(-1)).squeeze(-1)  # (M, n)

    def fit(step: int) -> torch.Tensor:
        tokens, last, values = programs(config.batch_size, streams.TRAIN, step)
        return ((answers(tokens, last) - values.to(dtype)) ** 2).mean(dim=1)

    def evaluate() -> dict[str, torch.Tensor]:
        tokens, last, values = valid
        out = {"valid_mse": ((answers(tokens, last).double() - values) ** 2).mean(dim=1)}
        for digits, (tokens, last, values) in tests.items():
            error = answers(tokens, last).double() - values
            out[f"mse_{digits}"] = (error ** 2).mean(dim=1)
            out[f"mae_{digits}"] = error.abs().mean(dim=1)
            out[f"relative_mae_{digits}"] = out[f"mae_{digits}"] / values.abs().mean(dim=1)
            out[f"accuracy_{digits}"] = ((values + error).round() == values).double().mean(dim=1)
        return out

    return Population(model, net, members, config, fit=fit, evaluate=evaluate, select="valid_mse")


def tables(cells) -> str:
    return report.render_lengths(cells, column="digits")


def figures(name: str, runs, cells) -> dict:
    return {"digits": report.error_by_length_figure(cells, xlabel="operand digits",
                                                    title=f"{name}: error against operand length")}


EXPERIMENT = Experiment(
    name="trask2018-program",
    description=__doc__.strip().splitlines()[0],
    workload=DataSet(
        loader=load,
        task=task,
        build=population,
        summarize=report.summarize_lengths,
        tables=tables,
        draw=figures,
        known_models=(LINEAR,) + tuple(PREFIX + unit for unit in UNITS),
        evaluation="on {eval_sequences:,} validation programs (training operands) and as many of each test operand "
                   "length",
        settings={
            "programs": "add: a+b; ifelse: a<b?a+c:a-c; 15 characters",
            "network": "character embeddings of 32, an LSTM of 32, the output layer on the state after the last "
                       "character",
            "loss": "MSE of the value",
            "best step": "each seed's evaluation with the lowest validation MSE (programs of training operands)",
            "metrics": "accuracy (the rounded output is the value) and MAE, per test operand length",
            "published numbers": "none shown",
        },
    ),
    models=(LINEAR, "lstm+nac", "lstm+nalu", "lstm+nau"),
    targets=PROGRAMS,
    seeds=3,
    train=TrainConfig(optimizer="adam", lr=1e-2, batch_size=32, iterations=2000, eval_every=250, eval_samples=200,
                      hidden=32),
    paper_scale={"iterations": 100_000, "eval_every": 1000, "eval_samples": 1000},
    paper_seeds=10,
    unit_options=unit_options,
    sources={
        "data": "Trask et al. 2018, section 4.4 (programs after Zaremba & Sutskever 2014; training on two-digit "
                "numbers, tests on longer ones)",
        "programs": "nalm, after Zaremba & Sutskever 2014, section 3 (addition; if-statements with + and -)",
        "task add": "Trask et al. 2018, section 4.4 (the addition task)",
        "task ifelse": "Trask et al. 2018, section 4.4 (the program with an if-statement, + and -)",
        "models": "Trask et al. 2018, section 4.4 (an LSTM with and without a NALU); lstm+nac and lstm+nau are nalm's",
        "network": "nalm (the paper gives no sizes); as trask2018-translation",
        "seeds": "nalm (the paper gives none)",
        "iterations": "nalm (the paper gives none)",
        "optimizer": "nalm: as trask2018-translation (Adam 1e-2)",
        "batch size": "nalm",
        "evaluation": "nalm",
        "loss": "nalm (the paper gives none)",
        "best step": "nalm, as the other data-set experiments",
        "metrics": "Trask et al. 2018, section 4.4 (accuracy against the numbers' length)",
        "published numbers": "Trask et al. 2018, section 4.4 (a figure)",
    },
    deviations=(
        Deviation("programs", "Zaremba & Sutskever's program generator, as the paper used it (not published)",
                  "two fixed program shapes with random operands", "the paper's programs are not available"),
        Deviation("network", "not published",
                  "embedding and LSTM of 32, Adam 1e-2, MSE, 2,000 steps of 32 programs (1e5 with --paper-scale)",
                  "the paper gives none; as trask2018-translation"),
        Deviation("published numbers", "a figure of accuracy against number length", "not shown",
                  "a figure's numbers cannot be read exactly, and the protocols differ"),
    ),
)
