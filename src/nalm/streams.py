"""Every random stream of a seed, in one place.

A seed's numbers come from independent streams, one per use. ``LAYOUT`` is numpy's PCG64 keyed
by ``SeedSequence([seed, LAYOUT])`` (:func:`nalm.tasks.static.stream`); every other stream is a
Philox stream, its id half of Philox's key (:class:`nalm.philox.Draws`). A new use of
random numbers takes a new id here: two uses of one id would draw the same numbers.
"""

LAYOUT = 0
"""Which inputs a and b sum (numpy)."""
TRAIN = 1
"""Training batches, one set of rows per step."""
INTERPOLATION = 2
"""The interpolation evaluation set."""
EXTRAPOLATION = 3
"""The extrapolation evaluation set."""
POOL = 4
""":class:`~nalm.tasks.static.PoolTask`'s pool of input vectors (the seed blog's task)."""
EXTRAPOLATION_POOL = 5
"""Its extrapolation pool."""
THRESHOLD = 6
"""The success-threshold simulation's samples (:mod:`nalm.scoring.thresholds`)."""
SNMU_NOISE = 7
"""The stochastic NMU's training noise (:class:`nalm.units.nau_nmu.StochasticNMU`), keyed by a number
each member draws at initialization rather than by its seed."""
FIGURE = 100
"""Draws made for figures: the recurrent table's error against sequence length (:mod:`nalm.report.lengths`)."""
VERIFY = 1000
"""``nalm explain``'s verification samples (:mod:`nalm.explain.verify`): they never meet training or evaluation data."""
