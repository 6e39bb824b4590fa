"""Bad input: a non-zero exit, one line on stderr naming the problem, and nothing written."""
from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

import pytest

from nalm.results import ResultsStore
from nalm.tasks import GENERATOR

SMALL = '{"eval_samples": 64, "eval_every": 25}'


def base(results, **change) -> list[str]:
    """A valid tiny ``nalm run`` command line with some options changed."""
    options = {"experiment": "blog-static", "--units": ["nac"], "--targets": ["add"], "--seeds": ["1"],
               "--iterations": ["5"], "--config": [SMALL]}
    options.update(change)
    argv = ["run", options.pop("experiment")]
    for flag, values in options.items():
        argv += [flag, *values]
    return argv + ["--results", str(results), "--quiet"]


# (argv changes, a word the message must contain)
BAD_RUNS = {
    "unknown experiment": ({"experiment": "no-such-experiment"}, "no-such-experiment"),
    "unknown unit": ({"--units": ["nac/bogus"]}, "bogus"),
    "unknown single unit": ({"--units": ["nac", "nalu2"]}, "nalu2"),
    "three layers": ({"--units": ["nac/nau/nmu"]}, "nac/nau/nmu"),
    "unknown target": ({"--targets": ["add", "modulo"]}, "modulo"),
    "unknown MLP activation": ({"--units": ["mlp-foo"]}, "mlp-foo"),
    "unknown config key": ({"--config": ['{"bogus": 1}']}, "bogus"),
    "invalid JSON": ({"--config": ['{"lr": 0.01']}, "JSON"),
    "JSON not an object": ({"--config": ["[1, 2]"]}, "JSON object"),
    "negative iterations": ({"--iterations": ["-5"]}, "iterations"),
    "no iterations": ({"--iterations": ["0"]}, "--iterations"),  # it trained nothing and stored it
    "zero seeds": ({"--seeds": ["0"]}, "seeds"),
    "negative seeds": ({"--seeds": ["-2"]}, "seeds"),
    "a billion seeds": ({"--seeds": ["1000000000"]}, "1,000,000,000 runs"),  # refused in bounded memory, at once
    "unit options not a mapping": ({"--config": ['{"unit_options": 5}']}, "unit_options"),
    "a unit option of the wrong type": ({"--units": ["nau"], "--config": [
        '{"unit_options": {"nau": {"regularizer_scale": "x"}}}']}, "regularizer_scale"),  # it crashed mid-training
    "a range too wide for floats": ({"--interpolation": ["[-1e308,1e308]"]}, "overflows"),
    "a billion seeds, dry run": ({"--seeds": ["1000000000"], "--dry-run": []}, "1,000,000,000 runs"),
    "bad config value": ({"--config": ['{"lr": -1}']}, "lr"),
    "bad optimizer": ({"--config": ['{"optimizer": "lbfgs"}']}, "lbfgs"),
    "unknown kernel": ({"--config": ['{"kernel": "cuda"}']}, "unknown kernel 'cuda'"),
    "a unit the kernel does not train": ({"experiment": "madsen2020-static", "--units": ["mul-mcfc"],
                                          "--config": ['{"kernel": "triton"}']},
                                         "MulMCFC→MulMCFC is not supported yet"),  # refused alike with or without Triton
    "zero threads": ({"--threads": ["0"]}, "threads"),
    "zero workers": ({"--workers": ["0"]}, "--workers"),
    "no time between checkpoints": ({"--checkpoint-every": ["0"]}, "--checkpoint-every"),
}


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_refused(code: int, out: str, err: str, *words: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    assert lines[0].startswith("nalm: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in err and "trained" not in out


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory (so that a stray default ``results/`` would show up)."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_run_without_a_store_writes_nothing(case, workdir, run_nalm):
    change, word = BAD_RUNS[case]
    results = workdir / "results" / "r.sqlite"
    code, out, err = run_nalm(base(results, **change))
    check_refused(code, out, err, word)
    assert not results.exists()
    assert list(workdir.iterdir()) == []  # not even the results folder


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_run_leaves_an_existing_store_unchanged(case, workdir, blog_store, run_nalm):
    change, word = BAD_RUNS[case]
    results = workdir / "r.sqlite"
    results.write_bytes(blog_store.read_bytes())
    before = snapshot(workdir)
    code, out, err = run_nalm(base(results, **change))
    check_refused(code, out, err, word)
    assert snapshot(workdir) == before


def test_a_text_file_is_not_a_store(workdir, run_nalm):
    results = workdir / "notes.txt"
    results.write_text("these are my notes, not a results store\n")
    before = snapshot(workdir)
    code, out, err = run_nalm(base(results))
    check_refused(code, out, err, "not a nalm results store", "notes.txt")
    assert snapshot(workdir) == before


def test_a_foreign_sqlite_database_is_not_a_store(workdir, run_nalm):
    results = workdir / "other.sqlite"
    conn = sqlite3.connect(results)
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)")
    conn.execute("INSERT INTO runs (what) VALUES ('somebody else''s data')")
    conn.commit()
    conn.close()
    before = snapshot(workdir)
    code, out, err = run_nalm(base(results))
    check_refused(code, out, err, "not a nalm results store", "other.sqlite")
    assert snapshot(workdir) == before


def test_report_refuses_a_text_file(workdir, run_nalm):
    results = workdir / "notes.txt"
    results.write_text("not a store\n")
    before = snapshot(workdir)
    code, out, err = run_nalm(["report", "blog-static", "--results", results])
    check_refused(code, out, err, "not a nalm results store")
    assert snapshot(workdir) == before


def test_report_without_a_store_creates_nothing(workdir, run_nalm):
    results = workdir / "results" / "r.sqlite"
    code, out, err = run_nalm(["report", "blog-static", "--results", results])
    check_refused(code, out, err, "no results store", str(results))
    assert out == ""
    assert list(workdir.iterdir()) == []


def test_report_of_an_unknown_experiment(workdir, blog_store, run_nalm):
    results = workdir / "r.sqlite"
    results.write_bytes(blog_store.read_bytes())
    before = snapshot(workdir)
    code, out, err = run_nalm(["report", "no-such-experiment", "--results", results])
    check_refused(code, out, err, "no-such-experiment")
    assert snapshot(workdir) == before


def store_of(blog_store, results: Path, *generators) -> Path:
    """A store holding the tiny blog store's runs once per generator, as if drawn by it (None:
    stored before runs named their generator)."""
    with ResultsStore(blog_store) as store:
        runs = store.runs("blog-static")
    assert runs and all(run.config["generator"] == GENERATOR for run in runs)
    with ResultsStore(results) as store:
        for generator in generators:
            configs = [{k: v for k, v in run.config.items() if k != "generator"} for run in runs]
            if generator is not None:
                configs = [{**config, "generator": generator} for config in configs]
            store.put_many([dataclasses.replace(run, config=config, created="", run_id=None)
                            for run, config in zip(runs, configs)])
        assert len(store.runs("blog-static")) == len(generators) * len(runs)
    return results


MIXES = {
    "before generators were stored": (None, "PCG64 (before philox4x32-10)"),
    "another version": ({**GENERATOR, "version": 2}, "philox4x32-10 version 2"),
}


@pytest.mark.parametrize("command", ["report", "plot"])
@pytest.mark.parametrize("mix", list(MIXES))
def test_report_and_plot_refuse_runs_drawn_by_two_generators(command, mix, workdir, blog_store, run_nalm):
    other, name = MIXES[mix]
    results = store_of(blog_store, workdir / "r.sqlite", GENERATOR, other)
    before = snapshot(workdir)
    code, out, err = run_nalm([command, "blog-static", "--results", results])
    check_refused(code, out, err, "2 generators", name, "philox4x32-10 version 1", "its own store", "rerun")
    assert out == ""
    assert snapshot(workdir) == before  # the store as it was, and no report or figure written


def test_run_refuses_to_train_beside_runs_of_another_generator(workdir, blog_store, run_nalm):
    results = store_of(blog_store, workdir / "r.sqlite", None)
    before = snapshot(workdir)
    code, out, err = run_nalm(base(results, **{"--seeds": ["3"]})[:-1])  # without --quiet, it would report
    check_refused(code, out, err, "2 generators", "PCG64 (before philox4x32-10)", "philox4x32-10 version 1")
    assert snapshot(workdir) == before


# Bad input that only a build of the model or the threshold simulation reveals: it must
# still be refused before the store is created.
LATE_CHECKS = {
    "target invalid for a range": (
        {"experiment": "mistry2022-single", "--units": ["nau"], "--targets": ["sqrt"]}, "sqrt"),
    "two-layer model without a hidden size": (
        {"--units": ["nau/nmu"], "--config": ['{"hidden": null}']}, "nau/nmu"),
    "unknown unit option": ({"--config": ['{"unit_options": {"nac": {"bogus": 1}}}']}, "bogus"),
    "unknown device": ({"--device": ["bogus"]}, "bogus"),
}


@pytest.mark.parametrize("case", list(LATE_CHECKS))
def test_bad_run_detected_late_writes_nothing(case, workdir, run_nalm):
    change, word = LATE_CHECKS[case]
    results = workdir / "r.sqlite"
    code, out, err = run_nalm(base(results, **change))
    check_refused(code, out, err, word)
    assert list(workdir.iterdir()) == []


def test_an_unknown_run_id_is_one_unquoted_line(workdir, blog_store, run_nalm):
    code, out, err = run_nalm(["explain", "99999", "--results", blog_store])
    check_refused(code, out, err, "no run with run_id 99999")
    assert err.strip() == f"nalm: error: no run with run_id 99999 in {blog_store}"  # unquoted, unlike a KeyError


def test_a_bug_is_not_reported_as_bad_input(monkeypatch):
    """Only bad input (ValueError, nalm.errors) becomes a one-line error: an internal KeyError
    keeps its traceback."""
    from nalm.cli import main as cli

    def broken(args):
        return {}["missing"]

    monkeypatch.setattr(cli.COMMANDS["list"], "main", broken)
    with pytest.raises(KeyError, match="missing"):
        cli.main(["list"])


@pytest.mark.parametrize("address, message", [
    ("127.0.0.1:1", "cannot reach a Ray cluster at '127.0.0.1:1' (Connection refused)"),
    ("nonsense", "a Ray address is auto or HOST:PORT"),
])
def test_an_unreachable_ray_address_is_one_line_before_the_store_is_touched(address, message, workdir, run_nalm,
                                                                            blog_argv):
    pytest.importorskip("ray")
    results = workdir / "ray.sqlite"
    code, out, err = run_nalm(blog_argv(results, "--ray", address))
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("nalm: error: ")
    assert message in err and not results.exists()


@pytest.mark.parametrize("where", ["folder", "empty", "fifo", "under a file"])
def test_a_results_path_that_cannot_be_a_store_is_refused_in_one_line(where, workdir, run_nalm):
    (workdir / "folder").mkdir()
    (workdir / "file").write_text("a file\n")
    if where == "fifo":
        os.mkfifo(workdir / "fifo")
    results = {"folder": workdir / "folder", "empty": "", "fifo": workdir / "fifo",
               "under a file": workdir / "file" / "r.sqlite"}[where]
    before = snapshot(workdir)
    code, out, err = run_nalm(base(results))
    check_refused(code, out, err, {"folder": "is a folder", "empty": "path is empty", "fifo": "not a regular file",
                                   "under a file": "is a file, not a folder"}[where])
    assert snapshot(workdir) == before
