"""The report on disk: one summary of the selected runs feeds the tables and the figures."""
import csv

import pytest

from nalm.experiments import EXPERIMENTS, Experiment
from nalm.report import write
from nalm.results import ResultsStore
from nalm.runner import run_experiment

EXPERIMENT = EXPERIMENTS["blog-static"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("write") / "r.sqlite"
    with ResultsStore(path) as results:
        run_experiment(EXPERIMENT, results, models=["nac", "mlp-relu6"], targets=["add", "sub"], seeds=1,
                       overrides={"iterations": 5, "eval_every": 5, "eval_samples": 32})
    return path


def test_figures_and_tables_show_the_same_selected_runs_summarized_once(store, tmp_path, monkeypatch):
    drawn, summaries = [], []
    monkeypatch.setattr(Experiment, "plot", lambda experiment, runs, folder, cells: drawn.append(runs) or [])
    real = Experiment.summarize
    monkeypatch.setattr(Experiment, "summarize", lambda experiment, runs: summaries.append(runs) or real(experiment, runs))
    with ResultsStore(store) as results:
        write.write_report(EXPERIMENT, results, tmp_path, models=["nac"], targets=["add"], figures=True)
    assert len(summaries) == 1 and len(drawn) == 1
    assert {(r.model, r.target) for r in drawn[0]} == {("nac", "add")}
    with (tmp_path / "summary.csv").open() as handle:
        assert [(row["model"], row["target"]) for row in csv.DictReader(handle)] == [("nac", "add")]


def test_without_figures_nothing_is_drawn(store, tmp_path, monkeypatch):
    monkeypatch.setattr(Experiment, "plot", lambda *a, **k: pytest.fail("drew a figure"))
    with ResultsStore(store) as results:
        text, paths = write.write_report(EXPERIMENT, results, tmp_path)
    assert [p.name for p in paths] == ["report.md", "summary.csv", "runs.csv"] and "# blog-static" in text


def test_a_store_without_runs_links_no_figure_of_another_store(tmp_path):
    """Two stores in one folder share its <experiment>/ folder of reports: one holding no runs
    must not link the other's figures."""
    folder = tmp_path / "blog-static"
    folder.mkdir()
    (folder / "blog-static-heatmap.png").write_bytes(b"another store's figure")
    with ResultsStore(tmp_path / "empty.sqlite") as results:
        text, _ = write.write_report(EXPERIMENT, results, folder, figures=True)
    assert "No stored runs yet" in text and "Figures" not in text and "heatmap" not in text
