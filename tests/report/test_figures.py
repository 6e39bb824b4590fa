"""Tests for nalm.report.figures: the data functions' numbers, and that every plot is written."""
import math

import numpy as np
import pytest

from nalm.report import summarize
from nalm.report.summary import setting
from nalm.report.figures import (
    curve_data, curves_figure, heatmap_data, plot_all, plot_curves, plot_heatmap, plot_success, success_data,
)
from nalm.results import RunRecord
from nalm.scoring.metrics import wilson_interval

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def record(model="nau", target="add", seed=0, *, interpolation=1.0, extrapolation=1.0, success=False,
           steps=(0, 100, 200), curve=None, task_index=0, iterations=200, threshold=1e-4, diverged=False):
    """A hand-made run with only the fields the figures read."""
    curve = [1.0, 0.5, 0.25] if curve is None else curve
    return RunRecord(
        experiment="exp", model=model, target=target, seed=seed,
        config={"task_index": task_index, "task": {"ranges": [task_index, task_index + 1]},
                "train": {"iterations": iterations}},
        environment={},
        metrics={"normalized_interpolation": interpolation, "normalized_extrapolation": extrapolation,
                 "success": success, "solved_at": 100 if success else None, "sparsity_error": None,
                 "threshold": threshold},
        curve={"step": list(steps), "interpolation": list(curve), "extrapolation": list(curve)},
        weights={}, diverged=diverged,
    )


def realistic_runs(models=("nau", "nmu", "nalu", "mlp-relu6"),
                   targets=("add", "sub", "mul", "div", "square", "sqrt"), seeds=5, steps=20):
    """4 models x 6 targets x 5 seeds with curves of 20 evaluations, some diverged or perfect."""
    rng = np.random.default_rng(0)
    grid = np.arange(steps) * 5000
    runs = []
    for m, model in enumerate(models):
        for t, target in enumerate(targets):
            skill = rng.uniform(-3, 3.5)  # log10 of the typical normalized error
            for seed in range(seeds):
                final = 10 ** (skill + rng.normal(0, 0.4))
                start = 10 ** rng.uniform(0, 2)
                curve = np.geomspace(start, start * final / 100, steps) * np.exp(rng.normal(0, 0.2, steps))
                diverged = model == "nalu" and target == "div" and seed < 3
                if diverged:
                    curve[8:] = np.inf
                success = bool(curve[-1] < 1e-3 and not diverged)
                runs.append(record(model, target, seed, interpolation=final / 3,
                                   extrapolation=math.inf if diverged else final,
                                   success=success, steps=grid, curve=curve.tolist(), threshold=1e-3,
                                   diverged=diverged))
    # a perfect model on one target, and a cell nobody ran
    runs = [r for r in runs if not (r.model == "mlp-relu6" and r.target == "sqrt")]
    for r in runs:
        if r.model == "nau" and r.target == "add":
            r.metrics.update(normalized_interpolation=0.0, normalized_extrapolation=0.0)
    return runs


def check_written(paths):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    png, svg = paths
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size > 1000
    assert "<svg" in svg.read_text()


# --------------------------------------------------------------------------- data


def test_heatmap_data_holds_the_median_at_the_right_place():
    runs = [record("nau", "add", s, interpolation=v, extrapolation=10 * v) for s, v in enumerate([1, 2, 3])]
    runs += [record("nmu", "mul", s, interpolation=5.0, extrapolation=math.inf) for s in range(2)]
    targets, models, interpolation, extrapolation = heatmap_data(summarize(runs))
    assert targets == ["add", "mul"] and models == ["nau", "nmu"]
    assert interpolation[0, 0] == 2 and extrapolation[0, 0] == 20
    assert interpolation[1, 1] == 5 and extrapolation[1, 1] == math.inf
    assert np.isnan(interpolation[0, 1]) and np.isnan(interpolation[1, 0])  # cells nobody ran


def test_heatmap_data_keeps_settings_apart():
    runs = [record(task_index=0, interpolation=1.0), record(task_index=1, interpolation=7.0),
            record(task_index=1, iterations=400, interpolation=9.0), record("nmu", "sub", task_index=1)]
    targets, models, interpolation, _ = heatmap_data(summarize(runs))
    assert targets == ["add, task 0, 200 steps", "add, task 1, 200 steps", "sub, task 1, 200 steps",
                       "add, task 1, 400 steps"]
    assert interpolation[:, 0].tolist()[:2] == [1.0, 7.0] and interpolation[3, 0] == 9.0
    targets, _, _, _ = heatmap_data(summarize(runs[:2]))
    assert targets == ["add, task 0", "add, task 1"]


def test_a_learning_rate_that_comes_with_the_model_is_its_column_not_a_row():
    """mistry2022-single gives each unit its own lr: its cells share the rows of their targets,
    where a model run at two rates (a sweep) gets a row for each."""
    def at(model, target, lr, value):
        run = record(model, target, interpolation=value)
        run.config["train"]["lr"] = lr
        return run

    runs = [at("nau", "add", 0.1, 1.0), at("nmu", "add", 0.01, 2.0), at("nau", "sub", 0.1, 3.0),
            at("nmu", "sub", 0.01, 4.0)]
    targets, models, interpolation, _ = heatmap_data(summarize(runs))
    assert targets == ["add", "sub"] and models == ["nau", "nmu"]
    assert interpolation.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert sorted(label for _, label, *_ in success_data(summarize(runs))) == ["add", "add", "sub", "sub"]
    figure = curves_figure(runs)
    assert [ax.get_title() for ax in figure.axes if ax.get_visible()] == ["add", "sub"]
    targets, _, interpolation, _ = heatmap_data(summarize(runs + [at("nau", "add", 0.01, 5.0)]))
    assert targets == ["add, lr 0.01", "sub, lr 0.01", "add, lr 0.1", "sub, lr 0.1"]
    assert interpolation[0].tolist() == [5.0, 2.0] and interpolation[2, 0] == 1.0


def test_success_data_matches_wilson_interval():
    runs = [record("nau", "add", s, success=s < 3) for s in range(5)]
    runs += [record("nmu", "add", s, success=False) for s in range(4)]
    data = success_data(summarize(runs))
    assert data == [("nau", "add", 0.6, *wilson_interval(3, 5)), ("nmu", "add", 0.0, *wilson_interval(0, 4))]


@pytest.mark.parametrize("seeds", [1, 2, 5, 6, 7])
def test_curve_data_equals_numpy_on_finite_values(seeds):
    rng = np.random.default_rng(seeds)
    values = rng.uniform(0, 1, size=(seeds, 4))
    runs = [record(seed=s, curve=values[s].tolist(), steps=[0, 10, 20, 30]) for s in range(seeds)]
    runs.append(record("other", seed=0, curve=[9.0] * 4, steps=[0, 10, 20, 30]))  # another model: ignored
    steps, median, low, high = curve_data(runs, "nau", "add")
    assert steps.tolist() == [0, 10, 20, 30]
    assert median.tolist() == np.median(values, axis=0).tolist()
    assert low.tolist() == np.percentile(values, 25, axis=0).tolist()
    assert high.tolist() == np.percentile(values, 75, axis=0).tolist()


def test_curve_data_uses_only_the_steps_common_to_all_runs():
    runs = [record(seed=0, steps=[0, 10, 20, 30], curve=[1.0, 2.0, 3.0, 4.0]),
            record(seed=1, steps=[0, 20, 30, 40], curve=[5.0, 6.0, 7.0, 8.0]),
            record(seed=2, steps=[0, 10, 20, 30, 40], curve=[9.0, 9.0, 9.0, 9.0, 9.0])]
    steps, median, _, _ = curve_data(runs, "nau", "add")
    assert steps.tolist() == [0, 20, 30]
    assert median.tolist() == [5.0, 6.0, 7.0]  # medians of (1,5,9), (3,6,9), (4,7,9)


def test_curve_data_treats_non_finite_as_worst():
    runs = [record(seed=0, curve=[1.0, 1.0, 1.0]), record(seed=1, curve=[2.0, math.nan, math.inf]),
            record(seed=2, curve=[3.0, math.inf, -math.inf]), record(seed=3, curve=[4.0, 4.0, math.nan])]
    _, median, low, high = curve_data(runs, "nau", "add")
    # sorted columns: (1,2,3,4), (1,4,inf,inf), (1,inf,inf,inf)
    assert median.tolist() == [2.5, math.inf, math.inf]
    assert low.tolist() == [1.75, 3.25, math.inf]
    assert high.tolist() == [3.25, math.inf, math.inf]


def test_curve_data_rejects_mixed_settings_and_missing_runs():
    runs = [record(task_index=0), record(task_index=1, curve=[4.0, 5.0, 6.0])]
    with pytest.raises(ValueError, match="run_setting"):
        curve_data(runs, "nau", "add")
    assert curve_data(runs, "nau", "add", run_setting=setting(runs[1]))[1].tolist() == [4.0, 5.0, 6.0]
    with pytest.raises(ValueError, match="no runs"):
        curve_data(runs, "nmu", "add")
    with pytest.raises(ValueError, match="in common"):
        curve_data([record(seed=0, steps=[0, 1, 2]), record(seed=1, steps=[3, 4, 5])], "nau", "add")


# --------------------------------------------------------------------------- drawing


# Drawing is slow (about a second a figure), so each figure is drawn twice in all: once from
# a small realistic dataset through plot_all, once from pathological values.


def test_plot_all_writes_every_figure_as_png_and_svg(tmp_path):
    pytest.importorskip("matplotlib")
    runs = realistic_runs(models=("nau", "nalu", "mlp-relu6"), targets=("add", "div"), seeds=3, steps=8)
    paths = plot_all("demo", runs, summarize(runs), tmp_path / "figures")
    assert [p.name for p in paths] == [f"demo-{kind}.{ext}" for kind in ("heatmap", "success", "curves")
                                       for ext in ("png", "svg")]
    for png, svg in zip(paths[::2], paths[1::2]):
        check_written([png, svg])
    assert plot_all("empty", [], [], tmp_path) == []


def test_plots_survive_nan_inf_zero_and_empty_curves(tmp_path):
    pytest.importorskip("matplotlib")
    runs = [record("nau", "add", 0, interpolation=math.nan, extrapolation=math.inf, curve=[0.0, math.nan, math.inf]),
            record("nau", "add", 1, interpolation=0.0, extrapolation=math.inf, curve=[math.inf] * 3, diverged=True),
            record("nmu", "mul", 0, interpolation=1e9, extrapolation=1e-9, curve=[0.0, 0.0, 0.0], threshold=None),
            record("nau", "mul", 0, steps=[], curve=[])]  # an empty curve: left out of the curves
    cells = summarize(runs)
    check_written(plot_heatmap(cells, tmp_path / "heat"))
    check_written(plot_success(cells, tmp_path / "success"))
    check_written(plot_curves(runs, tmp_path / "curves", threshold_by_target={"add": 1e-2}))



# --------------------------------------------------------------------------- reading at a glance


def texts(figure) -> list:
    """Every visible, non-empty text artist of ``figure``."""
    from matplotlib.text import Text

    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text()]


def test_blog_figures_follow_the_tables_and_say_why_nothing_succeeded():
    """The heatmap's columns in the report tables' order (the experiment's, not by name); an empty
    success chart names the criterion, the iterations run and the published protocol."""
    pytest.importorskip("matplotlib")
    from nalm.experiments import EXPERIMENTS
    from nalm.report.markdown import render

    experiment = EXPERIMENTS["blog-static"]
    runs = [record(model, "add", seed, steps=[0, 100], curve=[1.0, 0.5])
            for model in ("nac", "faux-nalu", "mlp-relu6", "nalu") for seed in range(2)]
    cells = summarize(runs)
    header = next(line for line in render(experiment, cells).splitlines() if line.startswith("| target |"))
    assert header == "| target | mlp-relu6 | nac | nalu | faux-nalu |"
    figures = experiment.figures(runs, cells)
    for ax in figures["heatmap"].axes[:2]:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["mlp-relu6", "nac", "nalu", "faux-nalu"]
    shown = "\n".join(t.get_text() for t in texts(figures["success"]))
    assert "No seed met the success threshold in 200 iterations" in shown
    assert "0 of 2 seeds" in shown and "reaches 66%" in shown
    assert "100,000 iterations" in shown and "nalm run blog-static --paper-scale" in shown
    assert not figures["success"].axes[0].patches  # no bars (nor dots) at zero


def test_a_small_heatmap_holds_its_title_and_color_bar_and_tells_good_from_bad():
    """One target, two models: every text inside the figure after a draw; 0.4 blue, 95 red."""
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from nalm.report.figures import heatmap_figure

    runs = [record("nau", "add", s, interpolation=0.4, extrapolation=95.0) for s in range(2)]
    runs += [record("nmu", "add", s, interpolation=1e-4, extrapolation=math.inf) for s in range(2)]
    figure = heatmap_figure(summarize(runs), title="blog-static: normalized error, median over seeds "
                                                   "(0 = perfect, 100 = untrained)")
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    for text in texts(figure):
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, (text.get_text(), box)
    image = figure.axes[0].images[0]
    red, _, blue, _ = image.cmap(image.norm(0.4))
    assert blue > red + 0.1  # low error: blue
    image = figure.axes[1].images[0]
    red, _, blue, _ = image.cmap(image.norm(95.0))
    assert red > blue + 0.3  # near the untrained baseline: red
    colorbar_labels = [t.get_text() for t in figure.axes[2].get_yticklabels()]
    assert "100 untrained" in colorbar_labels
    assert "lower is better" in figure.axes[2].get_ylabel()


def test_sixteen_identity_curves_share_no_color():
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from nalm.experiments import EXPERIMENTS
    from nalm.report.identity import identity_figure

    models = EXPERIMENTS["trask2018-identity"].models
    assert len(models) == 16
    grid = np.linspace(-20, 20, 41)
    errors = {model: (1 + i) * (1 + np.abs(grid)) for i, model in enumerate(models)}
    lines = identity_figure(errors, grid, (-5, 5)).axes[0].get_lines()
    colors = [to_hex(line.get_color()) for line in lines]
    assert len(lines) == 16 and len(set(colors)) == 16
    assert [line.get_label() for line in lines[:2]] == ["nac", "nalu"]  # the units first, in the boldest colors
