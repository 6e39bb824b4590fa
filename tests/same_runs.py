"""One check shared by the tests of resumed, parallel and clustered runs."""
from __future__ import annotations

import numpy as np


def assert_same_runs(runs: dict, other: dict, count: int | None = None) -> None:
    """Two stores' runs (``{key: RunRecord}``) are the same runs, bit for bit: metrics, curves, weights."""
    assert set(runs) == set(other) and (count is None or len(runs) == count)
    for key, run in runs.items():
        assert run.metrics == other[key].metrics and run.curve == other[key].curve
        for name in run.weights:
            np.testing.assert_array_equal(run.weights[name], other[key].weights[name])
