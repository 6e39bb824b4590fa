"""One progress report for a whole ``nalm run``, however many populations and processes train.

Where standard error is a terminal, one bar counts the run's member-steps, with the rate and
the time left; elsewhere (a log file, a batch job) there is no bar, and each finished population
writes one line instead. In-process populations move the bar at every step, those in worker
processes as the main process polls them (five times a second), and Ray tasks as they report
to the main process (once a second).
"""
from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm

from .workers import Part


def work(part: Part) -> int:
    """A part's member-steps (an untrained baseline population counts a step per member); a part
    is a :class:`~nalm.experiments.workers.Part` or a data-set experiment's
    :class:`~nalm.experiments.dataset_runner.DatasetPart`."""
    return part.size * max(part.config.iterations, 1)


class Progress:
    def __init__(self, parts: list, enabled: bool, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.parts, self.finished = sum(map(work, parts)), 0, len(parts), 0
        self.enabled, self.terminal = enabled, enabled and self.stream.isatty()
        self.start = time.monotonic()
        self.counted: dict[str, int] = {}  # member-steps the bar has shown of parts still training
        self.bar = tqdm(total=self.total, unit="member-step", unit_scale=True, leave=False, file=self.stream,
                        disable=not self.terminal)

    def steps_of(self, part: Part):
        """The function an in-process population calls at each step: the bar moves by its members."""
        self.counted.setdefault(part.population, 0)

        def step(n: int) -> None:
            self.counted[part.population] += n * part.size
            self.bar.update(n * part.size)
        return step

    def finished_part(self, part: Part) -> None:
        self.done += work(part)
        self.finished += 1
        self.bar.update(work(part) - self.counted.pop(part.population, 0))
        if self.enabled and not self.terminal:
            elapsed = time.monotonic() - self.start
            left = elapsed * (self.total - self.done) / self.done if self.done else 0.0
            print(f"nalm: {part.label}: {part.size} members done (population {self.finished} of "
                  f"{self.parts}; {self.done / self.total:.0%} of {self.total:.3g} member-steps, "
                  f"{elapsed:.0f} s elapsed, about {left:.0f} s left)", file=self.stream, flush=True)

    def close(self) -> None:
        self.bar.close()
