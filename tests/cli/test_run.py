"""``nalm run`` and ``nalm report``: what is stored, resuming, and the reports written."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

import nalm
from nalm.results import ResultsStore
from nalm.tasks import GENERATOR
from nalm.units import build_model

MODELS = ["nac", "mlp-relu6"]
TARGETS = ["add", "sub"]


def stored(path):
    with ResultsStore(path) as store:
        return store.runs("blog-static")


def summary_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("blog-static: trained")]
    assert len(lines) == 1, out
    return lines[0]


# -- what one run stores ------------------------------------------------------


def test_run_stores_every_model_target_seed(blog_store):
    runs = stored(blog_store)
    assert len(runs) == 2 * 2 * 2
    assert sorted((r.model, r.target, r.seed) for r in runs) == sorted(
        (m, t, s) for m in MODELS for t in TARGETS for s in (0, 1))
    assert len({r.run_id for r in runs}) == 8
    assert len({r.key for r in runs}) == 8


def test_quiet_writes_no_report(blog_store):
    assert sorted(p.name for p in blog_store.parent.iterdir() if not p.name.startswith("r.sqlite")) == []


def test_quiet_prints_only_the_summary_line(tmp_path, run_nalm, blog_argv):
    path = tmp_path / "r.sqlite"
    code, out, err = run_nalm(blog_argv(path, seeds=1)[:-1] + ["--units", "mlp-none", "--quiet"])
    assert code == 0, err
    assert out.splitlines() == [f"blog-static: trained 2 runs, skipped 0 already stored, 0 diverged; results in {path}"]
    assert err == ""  # no progress bar


def test_each_run_has_its_full_config(blog_store):
    for r in stored(blog_store):
        config = r.config
        assert config["experiment"] == "blog-static"
        assert (config["model"], config["target"], config["seed"]) == (r.model, r.target, r.seed)
        assert config["task_index"] == 0
        assert isinstance(config["task"], dict) and config["task"]["kind"] == "PoolTask"
        train = config["train"]
        assert train["iterations"] == 50
        assert train["eval_samples"] == 64 and train["eval_every"] == 25  # from --config
        assert train["optimizer"] == "rmsprop" and train["lr"] == 1e-3 and train["hidden"] == 2  # the experiment's
        assert config["baseline"] == {"model": "mlp-relu6", "count": 100}
        assert config["threshold"]["eps"] == 1e-5
        assert config["generator"] == GENERATOR and "sampler" not in config


def test_each_run_records_its_environment(blog_store):
    for r in stored(blog_store):
        env = r.environment
        assert env["torch"] == torch.__version__
        assert env["numpy"] == np.__version__
        assert env["nalm"] == nalm.__version__
        assert env["threads"] == 1 and env["device"] == "cpu"
        assert env["kernel"] == "autograd"  # what took its steps: a pool of fixed samples has no fused step
        assert env["python"] and env["platform"]


def test_each_run_has_metrics(blog_store):
    for r in stored(blog_store):
        m = r.metrics
        for key in ("normalized_interpolation", "normalized_extrapolation", "interpolation_mse",
                    "extrapolation_mse", "interpolation_mae", "baseline_interpolation_mae",
                    "baseline_extrapolation_mae", "best_step"):
            assert isinstance(m[key], (int, float)) and math.isfinite(m[key]), key
        assert isinstance(m["success"], bool)
        assert isinstance(m["threshold"], float) and math.isfinite(m["threshold"]) and m["threshold"] >= 0
        assert "solved_at" in m and "diverged_at" in m and "sparsity_error" in m
        assert (m["sparsity_error"] is None) == (r.model == "mlp-relu6")
        assert m["normalized_interpolation"] == pytest.approx(
            100 * m["interpolation_mae"] / m["baseline_interpolation_mae"], rel=1e-12)
        assert r.diverged is False and m["diverged_at"] is None


def test_each_run_has_a_learning_curve(blog_store):
    for r in stored(blog_store):
        curve = r.curve
        assert curve["step"] == [0, 25, 50]  # eval_every 25 over 50 iterations
        assert len(curve["interpolation"]) == len(curve["extrapolation"]) == 3
        assert curve["interpolation"][-1] == pytest.approx(r.metrics["interpolation_mse"])
        assert all(v >= 0 for v in curve["interpolation"] + curve["extrapolation"])


def test_final_weights_match_the_models_state_dict(blog_store):
    for r in stored(blog_store):
        reference = build_model(r.model, 2, 1, hidden=2).state_dict()
        assert set(r.weights) == set(reference)
        for name, value in r.weights.items():
            assert isinstance(value, np.ndarray) and value.shape == tuple(reference[name].shape), name
            assert np.isfinite(value).all()
        # and they load into a standalone network
        net = build_model(r.model, 2, 1, hidden=2, dtype=torch.float64)
        net.load_state_dict({k: torch.as_tensor(v) for k, v in r.weights.items()})


def test_seeds_start_from_different_initializations(blog_store):
    runs = [r for r in stored(blog_store) if r.model == "nac" and r.target == "add"]
    assert len(runs) == 2
    assert not all(np.array_equal(runs[0].weights[k], runs[1].weights[k]) for k in runs[0].weights)


# -- resuming -----------------------------------------------------------------


def test_rerun_trains_nothing_and_keeps_the_runs(store_copy, run_nalm, blog_argv):
    before = stored(store_copy)
    code, out, err = run_nalm(blog_argv(store_copy))
    assert code == 0, err
    assert summary_line(out) == (f"blog-static: trained 0 runs, skipped 8 already stored, 0 diverged; "
                                 f"results in {store_copy}")
    after = stored(store_copy)
    assert [r.run_id for r in after] == [r.run_id for r in before]
    assert [r.created for r in after] == [r.created for r in before]


def test_a_third_seed_trains_only_the_new_runs(store_copy, run_nalm, blog_argv):
    before = {r.key: r.run_id for r in stored(store_copy)}
    code, out, err = run_nalm(blog_argv(store_copy, seeds=3))
    assert code == 0, err
    assert "trained 4 runs, skipped 8 already stored" in summary_line(out)
    after = stored(store_copy)
    assert len(after) == 12
    assert {r.key: r.run_id for r in after if r.key in before} == before  # old runs untouched
    new = [r for r in after if r.key not in before]
    assert sorted((r.model, r.target, r.seed) for r in new) == sorted((m, t, 2) for m in MODELS for t in TARGETS)


def test_a_changed_config_is_a_new_run(store_copy, run_nalm, blog_argv):
    argv = blog_argv(store_copy)
    argv[argv.index("--iterations") + 1] = "30"
    code, out, err = run_nalm(argv)
    assert code == 0, err
    assert "trained 8 runs, skipped 0 already stored" in summary_line(out)
    iterations = sorted(r.config["train"]["iterations"] for r in stored(store_copy))
    assert iterations == [30] * 8 + [50] * 8


# -- reports --------------------------------------------------------------------


@pytest.fixture(scope="module")
def loud_run(tmp_path_factory, run_nalm, blog_argv):
    """``nalm run`` without --quiet: (store path, exit code, stdout)."""
    path = tmp_path_factory.mktemp("loud") / "results" / "r.sqlite"
    code, out, err = run_nalm(blog_argv(path, quiet=False))
    return path, code, out, err


def test_run_without_quiet_prints_a_markdown_table(loud_run):
    path, code, out, err = loud_run
    assert code == 0, err
    assert "trained 8 runs, skipped 0 already stored" in summary_line(out)
    assert "# blog-static" in out
    headers = [line for line in out.splitlines() if line.startswith("| target | ")]
    assert headers and all(sorted(h.strip("| ").split(" | ")[1:]) == sorted(MODELS) for h in headers)
    assert "|---|---|---|" in out
    for target in TARGETS:
        assert any(line.startswith(f"| {target} | ") for line in out.splitlines())
    assert "Our runs: 50 iterations, 2 seeds per cell." in out


def test_run_without_quiet_writes_the_reports_beside_the_store(loud_run):
    path, code, out, _ = loud_run
    folder = path.parent / "blog-static"
    report, summary, runs = folder / "report.md", folder / "summary.csv", folder / "runs.csv"
    assert report.is_file() and summary.is_file() and runs.is_file()
    assert report.read_text() in out  # the printed report is the written one
    assert f"Report written to {report}, {summary}, {runs}" in out
    with summary.open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((row["model"], row["target"]) for row in rows) == sorted((m, t) for m in MODELS for t in TARGETS)
    assert all(row["seeds"] == "2" and row["iterations"] == "50" for row in rows)
    with runs.open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(row["run_id"]) for row in rows) == sorted(r.run_id for r in stored(path))
    assert "normalized_interpolation" in rows[0] and "success" in rows[0]


def test_report_reprints_without_training(loud_run, monkeypatch, run_nalm):
    path, _, trained_out, _ = loud_run

    def no_training(*args, **kwargs):
        raise AssertionError("nalm report must not train")

    monkeypatch.setattr("nalm.runner.parts.train", no_training)  # where every population trains
    before = stored(path)
    (path.parent / "blog-static" / "report.md").unlink()
    code, out, err = run_nalm(["report", "blog-static", "--results", path])
    assert code == 0, err
    after = stored(path)
    assert [r.run_id for r in after] == [r.run_id for r in before] and len(after) == 8
    assert (path.parent / "blog-static" / "report.md").read_text() in out
    report_text = (path.parent / "blog-static" / "report.md").read_text()
    assert report_text in trained_out  # the same report as `nalm run` printed
    assert "trained" not in out.splitlines()[0]


def test_report_shows_the_published_blog_numbers(loud_run, run_nalm):
    path = loud_run[0]
    code, out, err = run_nalm(["report", "blog-static", "--results", path])
    assert code == 0, err
    assert "## Beside the published numbers: seed blog" in out
    nac_rows = [line for line in out.splitlines() if line.startswith("| NAC (`nac`) |")]
    assert len(nac_rows) == 1
    add, sub = [cell.strip() for cell in nac_rows[0].strip("|").split("|")[1:]]
    assert add.endswith(" / 0.049") and sub.endswith(" / 0.462")
    assert "| ReLU6 (`mlp-relu6`) |" in out and "/ 4.84 |" in out  # ReLU6 a+b, 4.837
    assert "| NALU (`nalu`) | – / 0.23 | – / 62.6 |" in out  # not run: only the published value
    assert ("The protocols differ, so compare with care: iterations: ours 50, published 100000; "
            "seeds: ours 2, published 1.") in out


def test_a_learning_rate_sweep_trains_and_reports_each_rate_apart(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    config = json.dumps({"eval_samples": 64, "eval_every": 25, "lr": [0.001, 0.01]})
    code, out, err = run_nalm(["run", "blog-static", "--units", "nac", "--targets", "add", "--seeds", "2",
                               "--iterations", "50", "--config", config, "--results", results])
    assert code == 0, err
    assert "trained 4 runs" in out
    with ResultsStore(results) as store:
        rates = sorted(r.config["train"]["lr"] for r in store.runs("blog-static"))
    assert rates == [0.001, 0.001, 0.01, 0.01]
    assert "50 iterations, lr 0.001" in out and "50 iterations, lr 0.01" in out  # one section per rate
