"""Named task presets: published protocols (see shared/PROTOCOLS.md), and nalm's own designs, named ``nalm-*``.

=============  ==========================================================================
``blog``       The seed blog's reproduction of Trask et al.'s Table 1 (kevinzakka's port):
               [a, b] from sums of 5 entries of one fixed v ∈ U[5, 10]^100, 500 training
               samples. Extrapolation (absent in the blog) sums entries of v ∈ U[10, 20]^100.
``trask2018``  Trask et al. (2018), static function learning: 100 inputs, a and b sums of
               subsets. The paper fixed only the input size; our choices for what it left
               open: random non-contiguous subsets of 25 inputs each (independent, so they
               may overlap), interpolation U[0, 1], extrapolation U[1, 5].
``madsen2020`` Madsen & Johansen (2020), section 4.1: 100 inputs, contiguous subsets of 25
               overlapping by 12 at a random offset per seed, interpolation U[1, 2],
               extrapolation U[2, 6].
``mistry2022`` Mistry et al. (2022), single-module benchmark: 2 inputs, a = x1, b = x2, one
               of nine interpolation → extrapolation range pairs (``mistry2022_ranges``).
``madsen2020-  Madsen & Johansen's recurrent static-function dataset, as last run (stable-nalu
recurrent``    c434f99, before e088f71 made its constructor refuse its own defaults): 10 inputs
               per time step; per seed, a and b each a contiguous range of random start and
               length, drawn independently; x ∈ U[1, 2] at every step; training sequences of
               10 steps, extrapolation sequences of 1000 steps from the same range.
``nalm-        nalm's own recurrent design, not from a publication: the madsen2020 static
recurrent-     layout per step (100 inputs, contiguous subsets of 25 overlapping by 12 at a
100``          random offset per seed), x ∈ U[1, 2], 10 training and 1000 extrapolation steps.
=============  ==========================================================================
"""
from __future__ import annotations

from .ranges import Range
from .recurrent import RecurrentTask
from .static import PoolTask, StaticTask

MISTRY2022_RANGES = (
    ("[-20,-10]", "[-40,-20]"),
    ("[-2,-1]", "[-6,-2]"),
    ("[-1.2,-1.1]", "[-6.1,-1.2]"),
    ("[-0.2,-0.1]", "[-2,-0.2]"),
    ("[-2,2]", "[-6,-2]U[2,6]"),
    ("[0.1,0.2]", "[0.2,2]"),
    ("[1,2]", "[2,6]"),
    ("[1.1,1.2]", "[1.2,6]"),
    ("[10,20]", "[20,40]"),
)


def blog() -> PoolTask:
    return PoolTask()


def trask2018() -> StaticTask:
    return StaticTask(placement="scattered", subset_ratio=0.25, interpolation=[0, 1], extrapolation=[1, 5])


def madsen2020() -> StaticTask:
    return StaticTask()


def madsen2020_recurrent() -> RecurrentTask:
    """stable-nalu c434f99: ``SimpleFunctionRecurrentDataset`` (its
    ``stable_nalu/dataset/simple_function_recurrent.py:5``, ``vector_size=10``), subsets drawn
    by ``_simple_function_abstact.py:52-60``, inputs U[min, min + range) with min 1 (``:94-95``)
    and range 1 (``fork``'s default, ``simple_function_recurrent.py:8``); 10 training steps and
    1000 extrapolation steps (``experiments/simple_function_recurrent.py:74-76``)."""
    return RecurrentTask(input_size=10, placement="ranges", interpolation=[1, 2], extrapolation=[1, 2],
                         length=10, extrapolation_length=1000)


def nalm_recurrent_100() -> RecurrentTask:
    """nalm's own design: the :func:`madsen2020` layout at every step, values and lengths as in
    :func:`madsen2020_recurrent`."""
    return RecurrentTask(interpolation=[1, 2], extrapolation=[1, 2], length=10, extrapolation_length=1000)


def mistry2022(interpolation: str, extrapolation: str) -> StaticTask:
    return StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                      interpolation=Range.parse(interpolation), extrapolation=Range.parse(extrapolation))


def mistry2022_ranges() -> list[StaticTask]:
    """The nine single-module tasks, in the benchmark's order."""
    return [mistry2022(i, e) for i, e in MISTRY2022_RANGES]


PRESETS = {"blog": blog, "trask2018": trask2018, "madsen2020": madsen2020, "mistry2022": mistry2022_ranges,
           "madsen2020-recurrent": madsen2020_recurrent, "nalm-recurrent-100": nalm_recurrent_100}
