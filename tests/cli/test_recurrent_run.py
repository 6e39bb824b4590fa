"""``nalm run trask2018-recurrent``: recurrent runs go through the same store, metrics and report."""
import json
import math
import re

from nalm.results import ResultsStore

TINY = ["--seeds", "1", "--iterations", "20", "--config", json.dumps({"eval_samples": 16, "eval_every": 10}),
        "--quiet"]


def test_recurrent_runs_are_stored_scored_and_reported(run_nalm, tmp_path):
    store = tmp_path / "r.sqlite"
    code, out, err = run_nalm(["run", "trask2018-recurrent", "--units", "nau/nmu", "lstm", "--targets", "add", "mul",
                               "--results", store, *TINY])
    assert code == 0, err
    assert "trained 4 runs" in out
    with ResultsStore(store) as results:
        runs = results.runs("trask2018-recurrent")
    assert sorted((r.model, r.target) for r in runs) == [("lstm", "add"), ("lstm", "mul"), ("nau/nmu", "add"),
                                                         ("nau/nmu", "mul")]
    for run in runs:
        task = run.config["task"]
        assert task["kind"] == "RecurrentTask" and (task["length"], task["extrapolation_length"]) == (10, 100)
        assert run.config["baseline"]["model"] == "lstm"
        metrics = run.metrics
        assert metrics["threshold"] > 0 and math.isfinite(metrics["normalized_extrapolation"])
        assert metrics["formula"] is None  # formulas are extracted from feed-forward networks only
        assert len(run.curve["step"]) == 3
    nau_nmu = [r for r in runs if r.model == "nau/nmu"]
    assert all(r.metrics["sparsity_error"] is not None for r in nau_nmu)
    assert {"cell.W", "output.W"} <= set(nau_nmu[0].weights)

    code, out, err = run_nalm(["report", "trask2018-recurrent", "--results", store])
    assert code == 0, err
    assert "100 = untrained LSTM" in out
    for model in ("lstm", "nau/nmu"):  # one cell row each: 1 seed, 0 diverged
        assert re.search(rf"\| {model} \| mul \| 1 \| 0 \|", out), out

    code, out, err = run_nalm(["plot", "trask2018-recurrent", "--results", store])
    assert code == 0, err
    assert "trask2018-recurrent-lengths.png" in out and "trask2018-recurrent-heatmap.png" in out


def test_static_models_are_refused_before_anything_is_written(run_nalm, tmp_path):
    store = tmp_path / "r.sqlite"
    code, out, err = run_nalm(["run", "trask2018-recurrent", "--units", "mlp-relu6", "--results", store, *TINY])
    assert code == 2
    assert "'mlp-relu6' is not recurrent" in err and len(err.strip().splitlines()) == 1
    assert not store.exists()
    code, out, err = run_nalm(["run", "madsen2020-static", "--units", "lstm", "--results", store, *TINY])
    assert code == 2 and "'lstm' is recurrent" in err
    assert not store.exists()
