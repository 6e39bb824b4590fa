"""``nalm export EXPERIMENT --tensorboard DIR``: the event files, read back with TensorBoard's own
reader, hold every stored run's curves, final metrics and hyperparameters; the selection options
are honoured; a missing extra and a bad folder are one line each, with nothing written."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import nalm
from nalm.results import ResultsStore

from .test_bad_input import check_refused, snapshot

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer  # noqa: E402
from tensorboard.plugins.hparams import metadata  # noqa: E402


def read_back(folder) -> dict:
    """Every TensorBoard run under ``folder`` by its name, as TensorBoard's reader loads it (all points kept)."""
    multiplexer = EventMultiplexer(size_guidance={"scalars": 0, "tensors": 0})
    multiplexer.AddRunsFromDirectory(str(folder))
    multiplexer.Reload()
    return {name: multiplexer.GetAccumulator(name) for name in multiplexer.Runs()}


def same(read: float, stored: float) -> bool:
    """A stored float64 as TensorBoard keeps it: a float32, NaN as NaN."""
    return math.isnan(stored) and math.isnan(read) or read == float(np.float32(stored))


def final_metrics(run) -> dict[str, float]:
    """The stored metrics that are numbers (flags too), which the export writes as ``final/NAME``."""
    return {f"final/{name}": float(value) for name, value in run.metrics.items() if isinstance(value, (int, float))}


def check_export(folder, runs) -> None:
    """The runs under ``folder`` are ``runs``: each one's every curve point, final metric and hyperparameter."""
    board = read_back(folder)
    by_id = {int(name.rpartition("-run")[2]): accumulator for name, accumulator in board.items() if name != "."}
    assert sorted(by_id) == sorted(run.run_id for run in runs)
    for run in runs:
        accumulator = by_id[run.run_id]
        curves = {f"curves/{metric}": values for metric, values in run.curve.items() if metric != "step"}
        finals = final_metrics(run)
        assert set(accumulator.Tags()["scalars"]) == {*curves, *finals}
        for tag, values in curves.items():
            events = accumulator.Scalars(tag)
            assert [e.step for e in events] == run.curve["step"]
            assert all(same(e.value, value) for e, value in zip(events, values)), tag
        last = run.curve["step"][-1]
        for tag, value in finals.items():
            (event,) = accumulator.Scalars(tag)
            assert event.step == last and same(event.value, value), tag
        content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_START_INFO_TAG]
        hparams = metadata.parse_session_start_info_plugin_data(content).hparams
        assert hparams["model"].string_value == run.model and hparams["target"].string_value == run.target
        assert hparams["seed"].number_value == run.seed and hparams["run_id"].number_value == run.run_id
        assert hparams["lr"].number_value == run.config["train"]["lr"]
        assert hparams["iterations"].number_value == run.config["train"]["iterations"]
        assert "unit_version" not in hparams  # nalm's own units
    content = board["."].PluginTagToContent(metadata.PLUGIN_NAME)[metadata.EXPERIMENT_TAG]
    experiment = metadata.parse_experiment_plugin_data(content)
    assert {"model", "target", "seed", "lr", "iterations", "task"} <= {h.name for h in experiment.hparam_infos}
    assert {m.name.tag for m in experiment.metric_infos} == {tag for run in runs for tag in final_metrics(run)}


def test_every_run_of_an_arithmetic_experiment_reads_back_as_stored(blog_store, tmp_path, run_nalm):
    folder = tmp_path / "board"
    code, out, err = run_nalm(["export", "blog-static", "--tensorboard", folder, "--results", blog_store])
    assert code == 0, err
    with ResultsStore(blog_store, readonly=True) as store:
        runs = store.runs("blog-static")
    scalars = sum(len(run.curve["step"]) * (len(run.curve) - 1) + len(final_metrics(run)) for run in runs)
    assert out.strip() == (f"Wrote 8 runs ({scalars} scalars, with hyperparameters) to {folder}: view them with "
                           f"`tensorboard --logdir {folder}`")
    check_export(folder, runs)
    nac = next(r for r in runs if r.model == "nac" and r.target == "sub" and r.seed == 1)
    assert (folder / "nac" / "sub" / f"seed1-run{nac.run_id}").is_dir()

    again = tmp_path / "again"  # the same bytes, from Python too
    assert str(nalm.load(blog_store).to_tensorboard(again)) == out.strip().replace(str(folder), str(again))
    assert snapshot(again) == snapshot(folder)


def test_the_selection_options_choose_the_runs(blog_store, tmp_path, run_nalm):
    folder = tmp_path / "board"
    code, out, err = run_nalm(["export", "blog-static", "--tensorboard", folder, "--units", "nac", "--targets", "add",
                               "--results", blog_store])
    assert code == 0, err
    with ResultsStore(blog_store, readonly=True) as store:
        runs = store.runs("blog-static", model="nac", target="add")
    assert len(runs) == 2 and "Wrote 2 runs" in out
    check_export(folder, runs)

    code, out, err = run_nalm(["export", "blog-static", "--tensorboard", tmp_path / "none", "--units", "nau",
                               "--results", blog_store])
    check_refused(code, out, err, "no stored runs of blog-static", "nalm runs list")
    assert not (tmp_path / "none").exists()


def test_runs_of_a_data_set_and_of_several_settings_read_back(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    tiny = ["--seeds", "1", "--config", '{"eval_every": 5, "hidden": 4}', "--results", results, "--quiet"]
    for iterations in ("5", "10"):  # two settings: each run's folder names its iterations
        code, out, err = run_nalm(["run", "trask2018-translation", "--units", "lstm", "--iterations", iterations, *tiny])
        assert code == 0, err
    folder = tmp_path / "board"
    code, out, err = run_nalm(["export", "trask2018-translation", "--tensorboard", folder, "--results", results])
    assert code == 0, err
    with ResultsStore(results, readonly=True) as store:
        runs = store.runs("trask2018-translation")
    assert {"valid_mae", "test_accuracy"} <= set(runs[0].curve)
    check_export(folder, runs)
    assert sorted(read_back(folder)) == [".", "lstm/number/iterations10/seed0-run2", "lstm/number/iterations5/seed0-run1"]


def test_without_tensorboard_it_names_the_extra_and_writes_nothing(blog_store, tmp_path, run_nalm, monkeypatch):
    for name in [name for name in sys.modules if name == "tensorboard" or name.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)  # import tensorboard... now fails
    code, out, err = run_nalm(["export", "blog-static", "--tensorboard", tmp_path / "board", "--results", blog_store])
    assert code == 2
    check_refused(code, out, err, "pip install 'nalm[tensorboard]'")
    assert not (tmp_path / "board").exists()


def test_a_file_as_the_folder_is_refused(blog_store, tmp_path, run_nalm):
    file = tmp_path / "board"
    file.write_text("notes")
    code, out, err = run_nalm(["export", "blog-static", "--tensorboard", file, "--results", blog_store])
    assert code == 2
    check_refused(code, out, err, str(file), "is a file")
    assert file.read_text() == "notes"
