"""nalm.run and nalm.load: the CLI's store and resume from Python, tables and figures."""
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
    assert {r.model for r in first.runs} == {"nalm.units.nau_nmu:NAU/nmu", "nau"}
    again = nalm.run("madsen2020-static", units=[(NAU, "nmu"), "nau"], targets=["add"], seeds=2, iterations=30,
                     results=store, eval_every=10, eval_samples=32)
    assert again.trained.trained == 0 and again.trained.skipped == 4
    loaded = nalm.load(store)
    assert sorted(r.run_id for r in loaded.runs) == sorted(r.run_id for r in first.runs)
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
    assert results.trained.trained == 4 and {r.model for r in results.runs} == {"lstm", "lstm+nau"}
    assert nalm.run("trask2018-program", units=["lstm", "lstm+nau"], targets=["add"], seeds=2, iterations=4,
                    results=store, eval_every=2, eval_sequences=8, batch_size=4).trained.skipped == 4
    table = nalm.load(store).summary()
    assert set(table["model"]) == {"lstm", "lstm+nau"} and set(table["runs"]) == {2}
    assert sorted(results.plot()) == ["digits"]


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
