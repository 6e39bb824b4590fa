"""nalm.run and nalm.load: the CLI's store and resume from Python, tables and figures."""
import hashlib
import sys
import warnings

import pytest

import nalm
from nalm.units import NAU


def test_run_resumes_and_load_reads_the_same_runs(tmp_path):
    store = tmp_path / "nalm.sqlite"
    with pytest.warns(UserWarning) as said:  # as the command line warns of a schedule the run cuts short
        first = nalm.run("madsen2020-static", units=[(NAU, "nmu"), "nau"], targets=["add"], seeds=2, iterations=30,
                         results=store, eval_every=10, eval_samples=32)
    assert any(str(w.message).startswith("model nau: the NAU's regularizer λ 0 → 0.01 over steps 5,000 → 50,000")
               and "never turns on in 30 iterations" in str(w.message) for w in said)
    assert first.trained.trained == 4 and first.trained.skipped == 0
    assert {r.model for r in first.records} == {"nalm.units.nau_nmu:NAU/nmu", "nau"}
    again = nalm.run("madsen2020-static", units=[(NAU, "nmu"), "nau"], targets=["add"], seeds=2, iterations=30,
                     results=store, eval_every=10, eval_samples=32)
    assert again.trained.trained == 0 and again.trained.skipped == 4
    loaded = nalm.load(store)
    assert sorted(r.run_id for r in loaded.records) == sorted(r.run_id for r in first.records)
    table = loaded.summary()
    assert list(table["seeds"]) == [2, 2] and set(table["target"]) == {"add"}
    rows = loaded.rows()
    assert len(rows) == 4 and {"success", "interpolation_mse", "seed"} <= set(rows.columns)
    figures = loaded.plot()
    assert sorted(figures) == ["curves", "heatmap", "success"] and figures["success"].axes


def test_a_data_set_experiment_runs_from_python_as_from_the_command_line(tmp_path):
    store = tmp_path / "nalm.sqlite"
    results = nalm.run("trask2018-program", units=["lstm", "lstm+nau"], targets=["add"], seeds=2, iterations=4,
                       results=store, eval_every=2, eval_sequences=8, batch_size=4)
    assert results.trained.trained == 4 and {r.model for r in results.records} == {"lstm", "lstm+nau"}
    assert nalm.run("trask2018-program", units=["lstm", "lstm+nau"], targets=["add"], seeds=2, iterations=4,
                    results=store, eval_every=2, eval_sequences=8, batch_size=4).trained.skipped == 4
    table = nalm.load(store).summary()
    assert set(table["model"]) == {"lstm", "lstm+nau"} and set(table["runs"]) == {2}
    # no threshold with no solved model: successes, success_rate and threshold_mse are missing, as numbers
    assert all(str(table[c].dtype) in ("int64", "Int64", "float64") for c in table.columns if c not in ("model", "target"))
    assert table["threshold_mse"].isna().all() and table["length"].dtype == "int64"
    assert sorted(results.plot()) == ["digits"]
    curves = results.curves()
    for run in results.records:  # every stored point of every data-set curve, by run, metric and step
        mine = curves[curves["run_id"] == run.run_id]
        assert {m: mine[mine["metric"] == m]["value"].tolist() for m in set(mine["metric"])} == \
            {m: values for m, values in run.curve.items() if m != "step"}
        assert set(mine["step"]) == set(run.curve["step"]) and set(mine["seed"]) == {run.seed}


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    """nac and nau on add and sub, 2 seeds of 20 steps: no run succeeds, so nothing is solved."""
    return nalm.run("blog-static", units=["nac", "nau"], targets=["add", "sub"], seeds=2, iterations=20,
                    results=tmp_path_factory.mktemp("api") / "nalm.sqlite")


def test_summary_columns_are_numbers_and_missing_values_nan(blog):
    table = blog.summary()
    assert len(table) == 4 and not blog.rows()["success"].any()
    for column in ("task_index", "seeds", "diverged", "iterations"):
        assert table[column].dtype == "int64", column
    assert list(table["iterations"]) == [20] * 4
    for column in ("solved_at_median", "sparsity_error_mean", "success_rate", "normalized_extrapolation_median"):
        assert table[column].dtype == "float64", column
    assert table["solved_at_median"].isna().all() and table["sparsity_error_mean"].isna().all()
    assert str(table["formula_matches"].dtype) in ("int64", "Int64")
    rows = blog.rows()
    assert rows["solved_at"].dtype == "float64" and rows["solved_at"].isna().all()  # no run was solved
    assert rows["best_step"].dtype == "int64" and rows["success"].dtype == "bool"


def test_curves_are_one_row_per_stored_point(blog):
    curves = blog.curves()
    assert list(curves.columns) == ["run_id", "model", "target", "seed", "step", "metric", "value"]
    assert [str(t) for t in curves.dtypes[["run_id", "seed", "step", "value"]]] == ["int64"] * 3 + ["float64"]
    assert len(curves) == sum(len(r.curve["step"]) * (len(r.curve) - 1) for r in blog.records) == 8 * 2 * 2
    for run in blog.records:
        for metric in ("interpolation", "extrapolation"):
            mine = curves[(curves["run_id"] == run.run_id) & (curves["metric"] == metric)]
            assert mine["step"].tolist() == run.curve["step"] and mine["value"].tolist() == run.curve[metric]
            assert set(mine["model"]) == {run.model} and set(mine["target"]) == {run.target}


def test_tables_without_pandas_say_which_extra_to_install(blog, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` fails, as where it is not installed
    for table in (blog.summary, blog.rows, blog.curves):
        with pytest.raises(ImportError, match=rf"^Results\.{table.__name__}\(\) needs pandas, an optional extra: "
                                              r"pip install 'nalm\[pandas\]'$"):
            table()


def test_bad_calls_fail_with_one_line(tmp_path):
    with pytest.raises(ValueError, match="unknown training setting"):
        nalm.run("trask2018-mnist", eval_samples=8, results=tmp_path / "r.sqlite")
    with pytest.raises(ValueError, match="no results store at"):
        nalm.load(tmp_path / "nope.sqlite")
    with pytest.raises(ValueError, match="a unit is a name, a unit class or a pair"):
        nalm.run("madsen2020-static", units=[3], results=tmp_path / "r.sqlite")
    with pytest.raises(ValueError, match="unknown config|unknown training|bogus"):
        nalm.run("madsen2020-static", units=["nau"], bogus=1, results=tmp_path / "r.sqlite")
    assert not (tmp_path / "r.sqlite").exists()


HALVER = '''
import torch
from torch import nn


class Halver(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-0.5, 0.5))

    def forward(self, x):
        return x @ self.weight.clamp(-1, 1).T
'''


def test_results_show_the_version_just_run_and_list_the_runs_as_nalm_runs_list(tmp_path, monkeypatch):
    """Edit a unit, rerun, go back to the first version: its runs are stored already, so nothing
    trains, and its table shows the version it ran; so does the store loaded again, though the
    edit's run is newer."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "nalm_test_api_unit", raising=False)
    source = tmp_path / "nalm_test_api_unit.py"
    store = tmp_path / "nalm.sqlite"

    def run(text: str):
        source.write_text(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unit trains under vmap, as it says
            return nalm.run("blog-static", units=["nalm_test_api_unit:Halver"], targets=["add"], seeds=1,
                            iterations=10, results=store, eval_every=5, eval_samples=16)

    first = run(HALVER)
    assert run(HALVER.replace("clamp(-1, 1)", "clamp(-1.0, 1.0)")).trained.trained == 1
    back = run(HALVER)
    assert back.trained.trained == 0 and len(back.records) == 2
    with pytest.warns(UserWarning, match="left out 1 stale runs of nalm_test_api_unit:Halver, of another version"):
        table = back.summary()
    (version,) = back.pinned.values()
    assert list(table["median_run"]) == [first.records[0].run_id] and version == source_hash(source)
    table = back.summary(versions="all")
    assert [model.split("@")[1] for model in table["model"]] == sorted(r.config["custom_units"][
        "nalm_test_api_unit:Halver"]["source_sha256"][:8] for r in back.records)
    runs = nalm.load(store).runs()
    assert list(runs.columns) == ["run_id", "model", "target", "seed", "steps", "success", "unit_version", "stale",
                                  "stored"]
    assert list(runs["run_id"]) == sorted(r.run_id for r in back.records)
    assert list(runs["stale"]) == [False, True] and list(runs["steps"]) == [10, 10]  # the edit's run is stale
    assert list(back.runs()["stale"]) == [False, True]  # the version run is current
    assert runs["stored"][0] <= runs["stored"][1] and runs["stored"][0].endswith("+00:00")


def source_hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
