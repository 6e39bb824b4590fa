"""What a sweep varies: one setting of a published protocol, one task index per value.

A sweep experiment trains every model once per value of its :class:`Axis`. Each value is one
task of the workload (:class:`~nalm.experiments.arithmetic.ArithmeticTasks`), so reports keep
the values apart as they keep any two tasks apart. Where the value is a property of the data
(input size, overlap, subset, ranges) the tasks differ; where it is a training setting (hidden
size, regularizer strength) the tasks are one task repeated and the axis changes the training
config of each task index (:meth:`Axis.config`), after every other setting is resolved. The
report draws each metric against the axis (:mod:`nalm.report.axis`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..train import TrainConfig


@dataclass(frozen=True)
class Axis:
    """The setting a sweep varies and its values.

    Args:
        label: the setting's name, e.g. ``"hidden size"``: the figures' x label.
        values: the values, in the source's order; value ``i`` is the workload's task ``i``.
        configure: ``configure(config, value)``, the training config of one value (a training
            setting swept, or the length of a value's runs); ``None`` where only the tasks differ.
        categorical: draw the values as evenly spaced labels (ranges), not on a number line.

    >>> axis = Axis("hidden size", (2, 3), configure=hidden_size)
    >>> axis.name(1), axis.config(TrainConfig(), 1).hidden
    ('hidden size 3', 3)
    """

    label: str
    values: tuple
    configure: Callable[[TrainConfig, Any], TrainConfig] | None = None
    categorical: bool = False

    def name(self, index: int) -> str:
        """How reports name value ``index``."""
        return f"{self.label} {self.values[index]}"

    def config(self, config: TrainConfig, index: int) -> TrainConfig:
        """The training config of the runs of value ``index``."""
        return config if self.configure is None else self.configure(config, self.values[index])

    def describe(self) -> str:
        """The axis on a protocol card: each value once (a value may hold several tasks, as a
        value swept over several ranges)."""
        return f"{self.label}: {', '.join(map(str, dict.fromkeys(self.values)))}"


def hidden_size(config: TrainConfig, value: int) -> TrainConfig:
    """The config with hidden size ``value`` (``--hidden-size``)."""
    return config.replace(hidden=value)


@dataclass(frozen=True)
class UnitOptions:
    """A ``configure`` that sets the unit options ``names`` to a value wherever a unit has them,
    leaving units without them as they are. With one name the value (after ``parse``) is the
    option's; with several, a tuple of one per name. (A class, not a closure: the workload
    travels to worker processes; ``parse`` is a module-level function for the same reason.)

    Args:
        names: the options set.
        parse: maps an axis value to the option's value (or the tuple of them); ``None``: as is.

    >>> UnitOptions(("beta_start", "beta_end"))(TrainConfig(unit_options={"npu": {"beta_start": 1e-9, "beta_end": 1e-7},
    ...                                         "nau": {}}), (1e-3, 1e-1)).unit_options
    {'npu': {'beta_start': 0.001, 'beta_end': 0.1}, 'nau': {}}
    """

    names: tuple[str, ...]
    parse: Callable[[Any], Any] | None = None

    def __call__(self, config: TrainConfig, value) -> TrainConfig:
        value = value if self.parse is None else self.parse(value)
        values = dict(zip(self.names, value if len(self.names) > 1 else (value,), strict=True))
        options = {unit: {**o, **{k: v for k, v in values.items() if k in o}} for unit, o in config.unit_options.items()}
        return config.replace(unit_options=options)


regularizer_scale = UnitOptions(("regularizer_scale",), parse=float)
"""Every unit's regularizer scaled by the value, as stable-nalu's one ``--regualizer`` scales the
sum of every layer's term; the units' ramps are kept.

>>> regularizer_scale(TrainConfig(unit_options={"nmu": {"regularizer_scale": 10.0}}), 0.1).unit_options
{'nmu': {'regularizer_scale': 0.1}}
"""


@dataclass(frozen=True)
class LongerRuns:
    """A ``configure`` that multiplies the run's iterations by ``factors[value]`` (1 where a value
    has none). Without ``ramp``, step schedules stay as resolved for the base length: stable-nalu
    runs its larger inputs longer with the regularizer's ramp where it was. With ``ramp = (start,
    end)``, each value in ``factors`` ramps every unit's regularizer (where the unit has one) from
    ``start`` to ``end`` of its longer run: Mistry et al.'s ten-input division settings
    (``sltr-in10.sh``: 100,000 steps, ramp 50,000 → 75,000). (A class, not a closure: the
    workload travels to worker processes.)

    >>> LongerRuns({300: 3})(TrainConfig(iterations=10), 300).iterations
    30
    >>> config = TrainConfig(iterations=100, unit_options={"nru": {"regularizer_start": 40, "regularizer_end": 70}})
    >>> LongerRuns({"in": 2}, ramp=(0.5, 0.75))(config, "in").unit_options
    {'nru': {'regularizer_start': 100, 'regularizer_end': 150}}
    """

    factors: dict
    ramp: tuple[float, float] | None = None

    def __call__(self, config: TrainConfig, value) -> TrainConfig:
        if value not in self.factors:
            return config
        iterations = config.iterations * self.factors[value]
        if self.ramp is None:
            return config.replace(iterations=iterations)
        ramp = {"regularizer_start": round(self.ramp[0] * iterations), "regularizer_end": round(self.ramp[1] * iterations)}
        options = {unit: {**o, **{k: v for k, v in ramp.items() if k in o}} for unit, o in config.unit_options.items()}
        return config.replace(iterations=iterations, unit_options=options)
