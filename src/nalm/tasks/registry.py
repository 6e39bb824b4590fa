"""The kinds of task a stored config can name, and the conversion to and from plain data."""
from __future__ import annotations

import dataclasses

from .distributions import BoundedDistributionTask, DistributionTask, SelectorTask
from .halves import HalvesTask
from .protocol import Task
from .ranges import Range
from .recurrent import RecurrentTask
from .sobol import SobolTask
from .static import PoolTask, PrefixTask, StaticTask

TASK_KINDS: dict[str, type] = {"StaticTask": StaticTask, "PoolTask": PoolTask, "RecurrentTask": RecurrentTask,
                             "DistributionTask": DistributionTask, "SobolTask": SobolTask,
                             "HalvesTask": HalvesTask, "PrefixTask": PrefixTask,
                             "SelectorTask": SelectorTask, "BoundedDistributionTask": BoundedDistributionTask}


def task_to_dict(task: Task) -> dict:
    """A task as plain data, for stored configs: its kind and every field."""
    fields = {f.name: getattr(task, f.name) for f in dataclasses.fields(task)}
    return {"kind": type(task).__name__, **{k: v.to_list() if isinstance(v, Range) else v for k, v in fields.items()}}


def task_from_dict(data: dict) -> Task:
    """The task a stored config describes: the inverse of :func:`task_to_dict`."""
    fields = dict(data)
    kind = fields.pop("kind")
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown task kind {kind!r} in the stored config")
    return TASK_KINDS[kind](**fields)
