"""The data behind Figure 1: MLPs fail outside the training range, a NAC does not."""
import numpy as np
import pytest

from nalm.experiments import EXPERIMENTS
from nalm.report.identity import error_by_input, identity_figure
from nalm.results import ResultsStore
from nalm.runner import run_experiment

EXPERIMENT = EXPERIMENTS["trask2018-identity"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("identity") / "r.sqlite"
    with ResultsStore(path) as store:
        run_experiment(EXPERIMENT, store, models=["mlp-relu6", "mlp-tanh", "nac"], seeds=2,
                       overrides={"iterations": 1000, "eval_every": 500, "eval_samples": 256})
        return store.runs(EXPERIMENT.name)


def test_mlps_fail_outside_the_training_range_and_the_nac_does_not(runs):
    grid = np.linspace(-20, 20, 81)
    errors = error_by_input(runs, grid)
    inside, outside = np.abs(grid) <= 5, np.abs(grid) >= 18
    for mlp in ("mlp-relu6", "mlp-tanh"):
        assert errors[mlp][inside].mean() < 0.5
        assert errors[mlp][outside].mean() > 10 * errors[mlp][inside].mean()
        assert errors[mlp][outside].mean() > 5  # a bounded activation saturates: |f(±20) - ±20| is large
    assert errors["nac"].max() < 0.02 * 20  # within 2% of |x| = 20 everywhere


def test_every_figure_is_written(runs, tmp_path):
    paths = EXPERIMENT.plot(runs, tmp_path)
    names = {p.name for p in paths}
    for stem in ("error", "heatmap", "success", "curves"):
        for suffix in ("png", "svg"):
            assert f"{EXPERIMENT.name}-{stem}.{suffix}" in names
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 1000
        assert data.startswith(b"\x89PNG") if p.suffix == ".png" else b"<svg" in data


def test_every_plotted_model_is_visible_when_one_spikes():
    """A NALU spiking to 5e3 near x = 0 must not push a NAC accurate to 1e-6 below the axis."""
    grid = np.linspace(-20, 20, 401)
    rng = np.random.default_rng(0)
    errors = {"nac": 1e-6 * (1 + rng.random(grid.size)),
              "nalu": 1 + 5e3 * np.exp(-grid ** 2 * 50),
              "mlp-relu6": np.abs(grid) * 0.8,
              "nau": np.where(grid == 0, 0.0, 1e-3)}  # exact at one input: must not stretch the axis
    ax = identity_figure(errors, grid, (-5, 5)).axes[0]
    bottom, top = ax.get_ylim()
    for model, error in errors.items():
        typical = np.median(error[error > 0])
        assert bottom < typical < top, (model, typical, bottom, top)
    assert bottom > 1e-9


@pytest.mark.slow  # 4 s of drawing
def test_every_figure_is_the_same_bytes_when_drawn_again(runs, tmp_path):
    """PNG and SVG alike: no date or software version, stable SVG ids (nalm.report.style)."""
    first = {p.name: p.read_bytes() for p in EXPERIMENT.plot(runs, tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in EXPERIMENT.plot(runs, tmp_path / "b")}
    assert len(first) == 8 and first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name
