"""What training costs on this machine, measured on small samples and kept between commands.

A part's time is its setup, its evaluations, its steps and the formula read-back of its
members. Parts cost alike where they share a *cost shape* (:func:`shape_of`): the experiment,
the model (a custom unit's source included), the tasks of its members and every training
setting but the learning rate, the number of steps and how often it evaluates. What a cost
shape's costs depend on is the number of members.

Each new shape is measured once (:func:`calibrate`), all of them within a budget of seconds
for the command. After an untimed warm-up (kernels compile or load, data is read, the formula
reader's imports), two kinds of samples train: on evaluation sets of a few samples, one
member, then as many members as the budget allows up to the population's (a probe of
:data:`PROBE_MEMBERS` sizes the largest), for a step's cost; on the full evaluation sets, one
member, then as many as the budget allows, for an evaluation's and the setup's. A step's time
is read from every step of a sample (their mean and quartiles), an evaluation's from the one before
the first step and the one after the last. Between samples, costs follow the line between
them; beyond the largest, the line through the two largest and, for the range, that cost
grown in proportion to the members (:func:`scaled`); the quartiles of the step times widen
the range too (:class:`Span`).

Calibrations are kept in the user's cache (:class:`CalibrationCache`) under what makes timings
comparable: nalm's source, the versions of Python, PyTorch, NumPy and numba, the CPU and the
cores this process may use, and the GPU where one is used; within that, by cost shape.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..cache import cache_dir, source_digest, write_atomically
from ..train import train
from ..units.custom import source_record
from ..units.registry import custom_unit
from .parts import Part

BUDGET = 8.0
"""Seconds of measuring per command, shared equally by the shapes it measures, half for steps
and half for evaluations."""
SHARE = 0.2
"""Seconds of a shape at least, whatever is left of the budget."""
SAMPLE_MEMBERS = 1024
"""The most members a sample trains. A step's cost per member falls as members share its fixed
cost, then rises once a step's batches no longer fit in the CPU's caches (madsen2020's NAU
here: 90 µs for one member, 4 µs each for 64 to 256, 9 µs each for 600): only a sample of the
population's size sees both."""
PROBE_MEMBERS = 64
"""Members of the probe that sizes the largest sample of steps."""
SMALL_SETS = 16
"""Evaluation samples of the warm-up and of the samples that time steps."""
SAMPLE_STEPS = 16
"""Steps of a sample that times steps at least; up to 256, about :data:`STEP_SECONDS`."""
STEP_SECONDS = 0.05
LAUNCHES = 4
"""Launches of a sample that times a step kernel's steps, each as long as the run's."""
PER_RUN = ("lr", "iterations", "eval_every")
"""Training settings that do not change the cost of a step or of an evaluation on the CPU. On a
GPU, ``eval_every`` does: the Triton trainer launches once per evaluation, and a step shares
the launch's fixed cost with the others of its launch."""


@dataclass(frozen=True)
class Span:
    """A cost in seconds: its likely value and the range it may fall in."""

    low: float
    likely: float
    high: float

    def __add__(self, other: Span) -> Span:
        return Span(self.low + other.low, self.likely + other.likely, self.high + other.high)

    def __mul__(self, factor: float) -> Span:
        return Span(self.low * factor, self.likely * factor, self.high * factor)

    __rmul__ = __mul__

    @classmethod
    def exactly(cls, seconds: float) -> Span:
        return cls(seconds, seconds, seconds)


ZERO = Span.exactly(0.0)


@dataclass(frozen=True)
class Sample:
    """One timed training of ``members`` members on evaluation sets of ``eval_samples``."""

    members: int
    eval_samples: int
    setup: float  # building the population, and what training does once before and after its steps
    evaluation: float  # one evaluation
    steps: tuple[float, float, float]  # a step's seconds: 25th percentile, mean, 75th percentile
    read_back: float  # seconds per member of reading formulas back (NaN: not timed)
    seconds: float  # the sample's wall time
    kernel: str = "autograd"  # what took its steps (Population.kernel)
    launch: int = 1  # the most steps one call took: a step kernel's launch, else 1


@dataclass(frozen=True)
class Calibration:
    """The samples of one cost shape (whose evaluation sets hold ``eval_samples``), and when they
    were measured (Unix time); ``cached``: read from the cache, not measured by this command."""

    samples: tuple[Sample, ...]
    eval_samples: int
    measured_at: float
    wanted: int  # the members its largest samples were to have: the parts' most, or SAMPLE_MEMBERS
    cached: bool = False

    @property
    def kernel(self) -> str:
        """What took the samples' steps, as it will take the runs' (Population.kernel)."""
        return self.samples[0].kernel

    def cost(self, members: int, iterations: int, evaluations: int) -> Span:
        """Seconds to train ``members`` members for ``iterations`` steps and ``evaluations``
        evaluations, their formulas read back."""
        steps = scaled([(s.members, *s.steps) for s in self.samples], members)
        full = [s for s in self.samples if s.eval_samples == self.eval_samples]
        evaluation = scaled([(s.members, s.evaluation) for s in full], members)
        setup = scaled([(s.members, s.setup) for s in full], members)
        timed = [s.read_back for s in self.samples if not math.isnan(s.read_back)]
        read_back = Span.exactly(members * (timed[-1] if timed else 0.0))
        return setup + evaluation * evaluations + steps * iterations + read_back

    def to_dict(self) -> dict:
        return {"samples": [dataclasses.asdict(s) for s in self.samples], "eval_samples": self.eval_samples,
                "measured_at": self.measured_at, "wanted": self.wanted}

    @classmethod
    def from_dict(cls, values: dict) -> Calibration:
        samples = tuple(Sample(**{**s, "steps": tuple(s["steps"])}) for s in values["samples"])
        if any(len(s.steps) != 3 for s in samples) or not any(s.eval_samples == values["eval_samples"]
                                                                for s in samples):
            raise ValueError("a calibration holds samples of steps and of evaluations")
        return cls(samples, int(values["eval_samples"]), float(values["measured_at"]), int(values["wanted"]),
                   cached=True)


def scaled(points: list[tuple], x: float) -> Span:
    """A cost at ``x`` members from costs measured at other numbers of members: points ``(x,
    likely)`` or ``(x, low, likely, high)``. Between measured x, the line between them; beyond
    the largest, the line through the two largest (never falling), with a range up to the
    largest cost grown in proportion; below the smallest, the smallest."""
    points = sorted({p[0]: (p[1:] * 3 if len(p) == 2 else p[1:]) for p in points}.items())
    if x <= points[0][0]:
        return Span(*points[0][1])
    for (x0, a), (x1, b) in zip(points, points[1:]):
        if x <= x1:
            t = (x - x0) / (x1 - x0)
            return Span(*(u + t * (v - u) for u, v in zip(a, b)))
    last_x, last = points[-1]
    proportional = [v * x / last_x for v in last]
    if len(points) == 1:  # nothing says how it grows: from not at all to in proportion
        return Span(last[0], proportional[1], proportional[2])
    before_x, before = points[-2]
    line = [v + max(v - u, 0.0) / (last_x - before_x) * (x - last_x) for u, v in zip(before, last)]
    return Span(min(line), line[1], max(line + proportional))


def evaluations(config) -> int:
    """The evaluations of a training run: every ``eval_every`` steps from the first, and after the last."""
    return config.iterations // config.eval_every + 1 + (config.iterations % config.eval_every != 0)


# -- what makes costs alike ------------------------------------------------------------------
def shape_of(part: Part) -> str:
    """The cost shape of ``part``, as a JSON text: parts of one shape cost the same for the same
    number of members. A unit from outside nalm is known by its source."""
    # a step kernel (on a GPU, or Triton asked for) launches once per evaluation: a step's cost
    # then depends on how often it evaluates
    launches = part.config.device != "cpu" or part.config.kernel == "triton"
    per_run = tuple(n for n in PER_RUN if n != "eval_every") if launches else PER_RUN
    settings = {name: value for name, value in part.config.to_dict().items() if name not in per_run}
    units = {name: source_record(unit) for name in re.split("[/+]", part.model) if (unit := custom_unit(name))}
    return json.dumps({"experiment": part.experiment, "model": part.model, "units": units,
                       "tasks": sorted({repr(member.task) for member in part.members}), "data": part.data,
                       "train": settings}, sort_keys=True, default=str)


def environment() -> dict:
    """What makes timings comparable between commands: the code and the machine."""
    import numba
    import numpy
    import torch

    from .backends import available_cores

    return {"format": 1, "source": source_digest(), "python": sys.version.split()[0], "torch": torch.__version__,
            "numpy": numpy.__version__, "numba": numba.__version__, "machine": platform.machine(),
            "cpu": cpu_model(), "cores": available_cores(),
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# -- the cache ---------------------------------------------------------------------------
RECALIBRATE = "NALM_RECALIBRATE"
"""Set (to anything but 0 or nothing), a dry run measures every shape again, replacing what the
cache holds."""


class CalibrationCache:
    """The calibrations of this code on this machine, in one JSON file of the user's cache
    (never in a results store). A file that cannot be read or parsed is ignored and replaced;
    one that cannot be written leaves the calibrations to this command."""

    def __init__(self, folder: Path | None = None, env: dict | None = None, read: bool | None = None):
        env = environment() if env is None else env
        key = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()[:16]
        self.path = (cache_dir() if folder is None else Path(folder)) / f"calibration-{key}.json"
        read = os.environ.get(RECALIBRATE, "") in ("", "0") if read is None else read
        self.entries: dict[str, dict] = self._read() if read else {}

    def _read(self) -> dict:
        try:
            entries = json.loads(self.path.read_text())["shapes"]
            return {shape: entry for shape, entry in entries.items() if isinstance(entry, dict)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def get(self, shape: str) -> Calibration | None:
        try:
            return Calibration.from_dict(self.entries[shape])
        except (KeyError, ValueError, TypeError, AttributeError):
            return None

    def put(self, calibrations: dict[str, Calibration]) -> None:
        """Keep ``calibrations`` (by shape) beside those of other commands, in one atomic write."""
        current = self._read()
        current.update({shape: c.to_dict() for shape, c in calibrations.items() if not c.cached})
        write_atomically(self.path, json.dumps({"shapes": current}))
        self.entries = current


# -- measuring ---------------------------------------------------------------------------
def measure(part: Part, members: list, eval_samples: int, steps: int, read_back: bool = False,
            launch: int | None = None) -> tuple[Sample, list]:
    """Train ``members`` of ``part`` for ``steps`` steps on evaluation sets of ``eval_samples``
    (evaluated before the first step, after the last, and every ``launch`` steps if given),
    timing each phase; and the results. The population trains as the part's would, on its
    device and by the path it resolves to (:attr:`~nalm.train.population.Population.kernel`).
    A step's time is read from each call that took steps (one step, or a step kernel's launch),
    from the end of the call or evaluation before it; the first call's (which compiles and
    loads) only where it is the only one."""
    config = part.config.replace(iterations=steps, eval_every=launch or steps, eval_samples=eval_samples)
    sample = dataclasses.replace(part, members=list(members), config=config, runs=[])
    start = time.perf_counter()
    population = part.workload.population(sample)
    built = time.perf_counter()
    events: list[tuple[float, int]] = []  # (when, steps): each call's end, evaluations as 0 steps
    results = train(population, on_step=lambda count: events.append((time.perf_counter(), count)),
                    on_evaluated=lambda _: events.append((time.perf_counter(), 0)))
    end = time.perf_counter()
    calls, before = [], built  # (seconds, steps) of each call that took steps
    for when, count in events:
        if count:
            calls.append((when - before, count))
        before = when
    stepped = [when for when, count in events if count]
    per_step = [seconds / count for seconds, count in calls]
    kept = per_step[1:] or per_step
    low, median, high = statistics.quantiles(kept, n=4, method="inclusive") if len(kept) > 1 else kept * 3
    mean = statistics.fmean(kept)  # what the steps of a run add up to, on a machine as busy
    first = stepped[0] - built - median * calls[0][1]  # holds the first evaluation
    last = end - stepped[-1]  # holds the last
    evaluation = max(min(first, last), 0.0)
    setup = built - start + max(first - evaluation, 0.0) + max(last - evaluation, 0.0)
    timed = math.nan
    if read_back:
        begin = time.perf_counter()
        part.workload.read_back(sample, results[:1])
        timed = time.perf_counter() - begin
    return Sample(len(sample.members), eval_samples, setup, evaluation, (min(low, mean), mean, max(high, mean)), timed,
                  time.perf_counter() - start, population.kernel, max(count for _, count in calls)), results


def wanted(parts: list[Part]) -> int:
    """The members of the largest samples of ``parts``: the largest part's, up to :data:`SAMPLE_MEMBERS`."""
    return min(max(part.size for part in parts), SAMPLE_MEMBERS)


def sample_steps(part: Part, pool: list, seconds: float, warm_read_back: bool) -> list[Sample]:
    """Samples on small evaluation sets, for a step's cost, in about ``seconds``: after the warm-up
    (with a read-back too, for the reader's imports, if ``warm_read_back``), one member (its
    formula read back), a probe of :data:`PROBE_MEMBERS` where more are wanted and it is cheap,
    and as many as take :data:`SAMPLE_STEPS` steps in what is left, by the largest sample's step
    per member (none where no part steps); on a GPU, the pool at once (:func:`side_by_side`). A
    population that a step kernel trains (the warm-up took its steps in one launch) takes
    :data:`LAUNCHES` launches of the run's length instead, as its runs would (a launch's fixed
    cost shared by its steps)."""
    small = min(part.config.eval_samples, SMALL_SETS)
    start = time.perf_counter()
    warm, results = measure(part, pool[:1], small, 3)
    if warm_read_back:
        part.workload.read_back(dataclasses.replace(part, members=pool[:1], runs=[]), results)
    launch = min(part.config.eval_every, part.config.iterations) if warm.launch > 1 else None
    if launch:  # within the budget: a launch of that length may be slow (Triton's interpreter)
        launch = min(launch, max(1, int(seconds / (4 * LAUNCHES * max(warm.steps[1], 1e-9)))))
    steps = SAMPLE_STEPS if not launch else LAUNCHES * launch
    samples = [measure(part, pool[:1], small, steps, read_back=True, launch=launch)[0]]
    if not part.config.iterations:
        return samples
    if side_by_side(part, pool, samples[0], seconds):
        return samples + [measure(part, pool, small, steps, launch=launch)[0]]
    if len(pool) > PROBE_MEMBERS and samples[0].steps[1] * PROBE_MEMBERS * steps < seconds / 4:
        samples.append(measure(part, pool[:PROBE_MEMBERS], small, steps, launch=launch)[0])
    largest = samples[-1]
    per_member = largest.steps[1] / largest.members
    left = seconds - (time.perf_counter() - start)
    members = min(len(pool), int(left / (steps * per_member + largest.setup / largest.members)))
    if members > largest.members:
        if not launch:
            steps = max(SAMPLE_STEPS, min(256, int(STEP_SECONDS / (per_member * members))))
        samples.append(measure(part, pool[:members], small, steps, launch=launch)[0])
    return samples


def side_by_side(part: Part, pool: list, one: Sample, seconds: float) -> bool:
    """Whether to sample all of ``pool`` next, after ``one`` member's sample: on a GPU, whose
    members of a step run side by side (a step of many costs about one's until the device is
    full, which the CPU's rule, cost in proportion to members, would never sample), where one's
    took under a quarter of ``seconds``. The sample may take longer than ``seconds`` where the
    pool fills the device several times over."""
    return part.config.device != "cpu" and len(pool) > 1 and one.seconds < seconds / 4


def sample_evaluations(part: Part, pool: list, seconds: float) -> list[Sample]:
    """Samples on the full evaluation sets, for an evaluation's cost and the setup's, in about
    ``seconds``: one member, then as many as fit in what is left at twice its cost per member."""
    start = time.perf_counter()
    samples = [measure(part, pool[:1], part.config.eval_samples, 3)[0]]
    left = seconds - (time.perf_counter() - start)
    members = min(len(pool), int(left / (2 * samples[0].seconds)))  # a member may cost more among many
    if side_by_side(part, pool, samples[0], seconds):
        members = len(pool)
    if members > 1:
        samples.append(measure(part, pool[:members], part.config.eval_samples, 3)[0])
    return samples


def calibrate(groups: dict[str, list[Part]], cache: CalibrationCache | None = None,
              budget: float = BUDGET) -> dict[str, Calibration]:
    """The calibration of each shape (``groups``: the parts of each): the cache's where it holds one
    that wanted as many members (:func:`wanted`), else measured, each shape given an equal share
    of what is left of ``budget`` seconds (at least :data:`SHARE`), half for its steps and half
    for its evaluations. New calibrations are added to the cache."""
    start = time.perf_counter()
    calibrations: dict[str, Calibration] = {}
    measured = []
    for shape, parts in groups.items():
        found = cache.get(shape) if cache is not None else None
        if found is not None and found.wanted >= wanted(parts):
            calibrations[shape] = found
        else:
            measured.append(shape)
    for done, shape in enumerate(measured):
        share = max(SHARE, (budget - (time.perf_counter() - start)) / (len(measured) - done))
        part = max(groups[shape], key=lambda p: p.size)
        pool = sorted(part.members, key=lambda member: member.seed)[:wanted(groups[shape])]  # the first few
        # share data streams as the whole part's do (a population's targets share each seed's data)
        samples = sample_steps(part, pool, share / 2, warm_read_back=done == 0)
        samples += sample_evaluations(part, pool, share / 2)
        calibrations[shape] = Calibration(tuple(samples), part.config.eval_samples, time.time(), wanted(groups[shape]))
    if cache is not None and measured:
        cache.put(calibrations)
    return calibrations
