"""One progress report for a whole ``nalm run``, however many populations and processes train.

Where standard error is a terminal, one bar counts the run's member-steps, with the rate and
the time left, and names the populations in training with their steps (``nau/nmu mul: step
12,000/50,000``); elsewhere (a log file, a batch job) there is no bar, and each finished
population writes one line instead. Every backend reports to the same :class:`Progress`: parts in this
process at every step, those in worker processes or Ray tasks through a :class:`Watch` as the
main process polls them.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, Mapping

# plain tqdm, not tqdm.auto: the bar is drawn only on a terminal, never as a notebook widget, and
# tqdm.auto warns in every notebook without ipywidgets that nalm.run is imported from
from tqdm import tqdm

from .parts import Part

POLL = 0.2
"""Seconds between the main process's looks at parts training elsewhere (steps, stop request)."""
ESTIMATE_AFTER = 0.1
"""The share of a run's member-steps taken before its progress lines estimate the time left."""


SHOWN = 2
"""Parts in training the bar names at most (the others are counted)."""


class Bar(tqdm):
    """A bar whose description is ``describe()`` each time it is drawn, and only then."""

    def __init__(self, *args, describe: Callable[[], str], **kwargs):
        self.describe = describe
        super().__init__(*args, **kwargs)

    @property
    def format_dict(self) -> dict:
        return {**super().format_dict, "prefix": self.describe()}


def name(part: Part) -> str:
    """What the bar and the log call ``part``: its label, with its targets where the label does not
    name them (``nau add sub``; ``nau, 6 targets``)."""
    targets = list(dict.fromkeys(member.target for member in part.members))
    if len(targets) == 1 and part.label.split()[-1] == targets[0]:
        return part.label
    return f"{part.label} {' '.join(targets)}" if len(targets) <= 3 else f"{part.label}, {len(targets)} targets"


class Progress:
    """The run's progress: told of each part's steps and of each finished part."""

    def __init__(self, parts: list[Part], enabled: bool, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.parts, self.finished = sum(part.work for part in parts), 0, len(parts), 0
        self.enabled, self.terminal = enabled, enabled and self.stream.isatty()
        self.start = time.monotonic()
        self.counted: dict[str, int] = {}  # member-steps the bar has shown of parts still training
        self.training: dict[str, Part] = {}  # parts that have taken steps and not finished
        self.taken = 0  # member-steps taken, of finished parts and of parts still training
        self.bar = Bar(total=self.total, unit="member-step", unit_scale=True, leave=False, file=self.stream,
                       disable=not self.terminal, describe=self.describe)

    def describe(self) -> str:
        """The parts in training and their steps: ``nau/nmu mul: step 12,000/50,000``, or for
        several ``nau add 1,200/50,000, nmu add 800/50,000 and 2 more``."""
        training = [(part, self.counted[population] // part.size) for population, part in self.training.items()]
        if len(training) == 1:
            part, steps = training[0]
            return f"{name(part)}: step {steps:,}/{part.config.iterations:,}"
        shown = ", ".join(f"{name(part)} {steps:,}/{part.config.iterations:,}" for part, steps in training[:SHOWN])
        return shown + (f" and {len(training) - SHOWN} more" if len(training) > SHOWN else "")

    def steps_of(self, part: Part) -> Callable[[int], None]:
        """What ``part`` tells of its steps as it takes them: the bar moves by its members."""
        self.counted.setdefault(part.population, 0)

        def step(steps: int) -> None:
            self.counted[part.population] += steps * part.size
            self.taken += steps * part.size
            self.training.setdefault(part.population, part)
            self.bar.update(steps * part.size)
        return step

    def finished_part(self, part: Part) -> None:
        self.done += part.work
        self.finished += 1
        self.training.pop(part.population, None)
        rest = part.work - self.counted.pop(part.population, 0)
        self.taken += rest
        self.bar.update(rest)
        if self.enabled and not self.terminal:
            elapsed = time.monotonic() - self.start
            print(f"nalm: {name(part)}: {part.size} members done (population {self.finished} of "
                  f"{self.parts}; {self.done / self.total:.0%} of {self.total:.3g} member-steps, "
                  f"{elapsed:.0f} s elapsed{self.time_left(elapsed)})", file=self.stream, flush=True)

    def time_left(self, elapsed: float) -> str:
        """``, about 40 s left`` at the rate of the member-steps taken so far, finished or not
        (parts training in parallel count as they go); nothing before a tenth of them."""
        taken = self.taken
        if taken < ESTIMATE_AFTER * self.total:
            return ""
        return f", about {elapsed * (self.total - taken) / taken:.0f} s left"

    def close(self) -> None:
        self.bar.close()


class Watch:
    """The main process's view of parts training elsewhere (worker processes, Ray tasks): each
    poll tells the progress of the steps the parts have reported since the last, and passes a
    stop request on, once (``signal_stop``)."""

    def __init__(self, parts: list[Part], progress: Progress, stop: Callable[[], bool], signal_stop: Callable[[], None]):
        self.parts, self.stop, self.signal_stop = parts, stop, signal_stop
        self.tell = [progress.steps_of(part) for part in parts]
        self.shown = [0] * len(parts)  # the steps the progress has been told of, per part
        self.stopping = False

    def poll(self, steps: Mapping[int, int]) -> None:
        """``steps``: each reporting part's steps so far, by its index in ``parts`` (a part retried
        on a cluster counts anew, and is shown once past its old count)."""
        for index, count in steps.items():
            if count > self.shown[index]:
                self.tell[index](count - self.shown[index])
                self.shown[index] = count
        if not self.stopping and self.stop():
            self.stopping = True
            self.signal_stop()
