"""Seeded data generators for the arithmetic benchmarks (no I/O)."""
from ..philox import GENERATOR, Draws
from .presets import PRESETS, MISTRY2022_RANGES
from .ranges import Range
from .recurrent import RecurrentTask
from .protocol import Task
from .registry import TASK_KINDS, task_from_dict, task_to_dict
from .static import TARGETS, PoolTask, StaticTask, check_target, stream

__all__ = ["Draws", "GENERATOR", "MISTRY2022_RANGES", "PRESETS", "PoolTask", "Range", "RecurrentTask", "StaticTask",
           "TARGETS", "TASK_KINDS", "Task", "check_target", "stream", "task_from_dict", "task_to_dict"]
