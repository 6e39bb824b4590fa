"""``EXPERIMENTS``: the experiments by name, one module each, imported when one is looked up.

An experiment's name is its module's with hyphens (``blog-static``: :mod:`~nalm.experiments.blog_static`),
and its description is the first line of that module's docstring; :func:`description` reads it
without importing the module (which imports PyTorch), so that ``nalm list`` answers at once.
"""
from __future__ import annotations

import ast
import difflib
import importlib.util

from ..errors import UnknownNameError
from ..lazy import LazyTable

MODULES = ("blog_static", "trask2018_identity", "trask2018_static", "trask2018_recurrent", "madsen2020_static",
           "madsen2020_hidden_size", "madsen2020_input_size", "madsen2020_overlap_ratio", "madsen2020_subset_ratio",
           "madsen2020_interpolation_range", "madsen2020_regularization", "madsen2020_ablation", "madsen2020_simple_mul",
           "mistry2022_single", "mistry2022_input_size", "mistry2022_division", "mistry2022_division_beta",
           "mistry2022_robust_nmu", "mistry2022_snmu_noise", "heim2020_npu", "heim2020_npu_arithmetic",
           "schlor2020_inalu", "schlor2020_inalu_functions", "schlor2020_inalu_init",
           "trask2018_mnist", "trask2018_translation", "trask2018_program")
"""The experiments' modules, in the order ``nalm list`` shows them."""

EXPERIMENTS = LazyTable({module.replace("_", "-"): f".{module}:EXPERIMENT" for module in MODULES},
                        package=__package__)
""":class:`~nalm.experiments.spec.Experiment` by name."""


def description(name: str) -> str:
    """The description of experiment ``name``, as its :class:`~nalm.experiments.spec.Experiment`
    has it (its module's docstring's first line), read from the module's source."""
    module = f"{__package__}.{name.replace('-', '_')}"
    source = importlib.util.find_spec(module).loader.get_source(module)
    return ast.get_docstring(ast.parse(source), clean=False).strip().splitlines()[0]


def get_experiment(name: str):
    """The experiment called ``name``; an unknown name is refused in one line that says what the
    experiments are, and which one was likely meant (a task preset's name, a misspelling)."""
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]
    raise UnknownNameError(unknown_experiment(name))


def unknown_experiment(name: str) -> str:
    """The message for an unknown experiment ``name``."""
    from ..tasks.presets import PRESETS  # numba: only for a name that is not an experiment

    known = list(EXPERIMENTS)
    near = [e for e in known if e.startswith(name)] or difflib.get_close_matches(name, known, n=3, cutoff=0.8)
    message = f"unknown experiment {name!r}"
    if name in PRESETS:
        message += (": that is a task preset, the inputs and ranges of a task that experiments train on "
                    "(`nalm list` lists both), not an experiment")
    if near:
        message += f"; did you mean {near[0]}?" if len(near) == 1 else f"; did you mean one of {', '.join(near)}?"
    return message + f"{'' if near else ';'} known: {', '.join(known)}"
