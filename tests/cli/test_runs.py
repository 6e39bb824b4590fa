"""The researcher's loop on the command line: write a unit, run, edit it, rerun, compare the
versions, delete the stale runs (``nalm runs``); reports filtered by model and target, naming
their runs' ids, written where ``--report-dir`` says."""
from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import sys
import warnings

import pytest

import nalm
from nalm.experiments import Experiment
from nalm.results import ResultsStore

from ..test_api import HALVER as UNIT  # a unit module's source, written where the test runs it
from .test_bad_input import check_refused, snapshot

MODULE = "nalm_test_loop_unit"
NAME = f"{MODULE}:Halver"
TINY = ["--targets", "add", "--seeds", "2", "--iterations", "20", "--config",
        json.dumps({"eval_samples": 32, "eval_every": 10})]


class Terminal(io.StringIO):
    """Standard input that is a terminal, answering ``answer``."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def loop(tmp_path_factory, run_nalm):
    """A store holding 2 runs of the unit's first version and of nac, then 2 of its edited
    version, stored by `nalm run` after the edit; the store and what that run printed."""
    folder = tmp_path_factory.mktemp("loop")
    (folder / f"{MODULE}.py").write_text(UNIT)
    store = folder / "r.sqlite"
    with pytest.MonkeyPatch.context() as monkeypatch, warnings.catch_warnings():
        monkeypatch.syspath_prepend(str(folder))
        monkeypatch.delitem(sys.modules, MODULE, raising=False)  # imported afresh from this folder
        warnings.simplefilter("ignore")  # the unit trains under vmap, as it says
        code, out, err = run_nalm(["run", "blog-static", "--units", NAME, "nac", *TINY, "--results", store,
                                   "--quiet"])
        assert code == 0, err
        (folder / f"{MODULE}.py").write_text(UNIT.replace("clamp(-1, 1)", "clamp(-1.0, 1.0)"))
        monkeypatch.setattr(Experiment, "plot", lambda *args, **kwargs: [])  # no figures: a second saved
        code, out, err = run_nalm(["run", "blog-static", "--units", NAME, *TINY, "--results", store])
        assert code == 0, err
        sys.modules.pop(MODULE, None)
    return store, out


@pytest.fixture
def edited(loop, tmp_path):
    """A private copy of the ``loop`` store, and what its second run printed."""
    store, out = loop
    copy = tmp_path / "r.sqlite"
    shutil.copyfile(store, copy)
    return copy, out


def versions(store) -> list[str]:
    """The unit's versions, oldest first."""
    with ResultsStore(store, readonly=True) as results:
        runs = sorted(results.runs("blog-static", model=NAME), key=lambda run: run.run_id)
    return list(dict.fromkeys(run.config["custom_units"][NAME]["source_sha256"][:8] for run in runs))


def test_after_an_edit_the_rerun_reports_the_new_version_and_lists_the_old_runs_as_stale(edited, run_nalm):
    store, out = edited
    old, new = versions(store)
    assert "trained 2 runs, skipped 0 already stored" in out
    assert f"| – | 20 | 0.001 | {NAME} | add | 2 |" in out
    assert f"| {NAME} | {old} | 2 |" in out.split("## Stale runs")[1]
    code, out, err = run_nalm(["report", "blog-static", "--versions", "all", "--results", store])
    assert code == 0, err
    for version in (old, new):
        assert f"| – | 20 | 0.001 | {NAME}@{version} | add | 2 |" in out
    assert "| – | 20 | 0.001 | nac | add | 2 |" in out and "## Stale runs" not in out
    code, out, err = run_nalm(["report", "blog-static", "--units", f"{NAME}@{old}", "--results", store])
    assert code == 0 and f"| {NAME}@{old} | add | 2 |" in out and "| nac |" not in out


def test_back_at_the_first_version_a_rerun_trains_nothing_and_reports_that_version(edited, run_nalm, monkeypatch):
    """The version `nalm run` ran is current in its report, whatever was stored last."""
    store, _ = edited
    old, new = versions(store)
    (store.parent / f"{MODULE}.py").write_text(UNIT)
    monkeypatch.syspath_prepend(str(store.parent))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.setattr(Experiment, "plot", lambda *args, **kwargs: [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = run_nalm(["run", "blog-static", "--units", NAME, *TINY, "--results", store])
    assert code == 0 and "trained 0 runs, skipped 2 already stored" in out, err
    with ResultsStore(store, readonly=True) as results:
        first = sorted(run.run_id for run in results.runs("blog-static", model=NAME))[:2]
    assert out.split("## Stale runs")[1].count(f"| {NAME} | {new} | 2 |") == 1
    (row,) = [line for line in out.splitlines() if line.startswith(f"| – | 20 | 0.001 | {NAME} | add | 2 |")]
    assert {int(cell) for cell in row.strip(" |").split(" | ")[-2:]} <= set(first)
    sys.modules.pop(MODULE, None)
    # read later, the store still says which version the latest run ran, though the edit's runs are newer
    code, out, err = run_nalm(["report", "blog-static", "--results", store])
    assert code == 0 and out.split("## Stale runs")[1].count(f"| {NAME} | {new} | 2 |") == 1, err
    code, out, err = run_nalm(["runs", "list", "blog-static", "--stale", "--results", store])
    assert code == 0 and {int(line.split()[0]) for line in out.splitlines()[1:3]}.isdisjoint(first), err
    assert [line.split()[6] for line in out.splitlines()[1:3]] == [new, new]
    table = nalm.load(store, "blog-static").runs()
    assert set(table[table["stale"]]["unit_version"]) == {new}
    pytest.importorskip("tensorboard")
    code, out, err = run_nalm(["export", "blog-static", "--tensorboard", store.parent / "tb", "--results", store])
    assert code == 0 and "left out 2 stale runs" in err, err
    exported = {int(path.parent.name.rsplit("-run", 1)[1])
                for path in (store.parent / "tb").rglob("events.out.tfevents.nalm") if "-run" in path.parent.name}
    nac = {run.run_id for run in nalm.load(store, "blog-static").records if run.model == "nac"}
    assert exported == set(first) | nac  # the export shows the version the latest run ran, as the report does


def test_explaining_a_stale_run_warns_that_its_unit_has_changed_since(edited, run_nalm, monkeypatch):
    store, _ = edited
    old, new = versions(store)
    (store.parent / f"{MODULE}.py").write_text(UNIT.replace("clamp(-1, 1)", "clamp(-1.0, 1.0)"))  # as edited
    monkeypatch.syspath_prepend(str(store.parent))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    with ResultsStore(store, readonly=True) as results:
        ids = {run.config["custom_units"][NAME]["source_sha256"][:8]: run.run_id
               for run in results.runs("blog-static", model=NAME)}
    said = {}
    for version in (old, new):
        code, out, err = run_nalm(["explain", str(ids[version]), "--units", NAME, "--results", store])
        assert code == 2 and "no symbolic rule for Halver;" in err  # the class's own name, not its population's
        said[version] = [line for line in err.splitlines() if line.startswith("nalm: warning:")]
    assert said[new] == []
    assert said[old] == [f"nalm: warning: run {ids[old]} was trained with version {old} of {NAME}, whose source has "
                         "changed since: its weights are read into the code as it is now, so the formula may not be "
                         "the trained network's"]
    sys.modules.pop(MODULE, None)


def test_stale_runs_are_listed_and_deleted_after_a_question(edited, run_nalm, monkeypatch):
    store, _ = edited
    old = versions(store)[0]
    code, out, err = run_nalm(["runs", "list", "blog-static", "--stale", "--results", store])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["run", "model", "target", "seed", "steps", "success", "unit", "version", "stale",
                                "stored", "(UTC)"]
    assert [line.split()[1:8] for line in lines[1:3]] == [[NAME, "add", str(seed), "20", "no", old, "yes"]
                                                          for seed in (0, 1)]
    assert lines[3].startswith("2 of 6 stored runs of blog-static; 2 stale")
    stale = [int(line.split()[0]) for line in lines[1:3]]
    before = snapshot(store.parent)
    code, out, err = run_nalm(["runs", "delete", "blog-static", "--stale", "--results", store])
    check_refused(code, out, err, "the input is not a terminal", "--yes")
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, err = run_nalm(["runs", "delete", "blog-static", "--stale", "--results", store])
    assert code == 1 and out.endswith("nothing deleted\n")
    assert {k: v for k, v in snapshot(store.parent).items() if k.endswith("r.sqlite")} == \
        {k: v for k, v in before.items() if k.endswith("r.sqlite")}
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, err = run_nalm(["runs", "delete", "blog-static", "--stale", "--results", store])
    assert code == 0 and out.endswith(f"deleted 2 runs of blog-static from {store}\n"), err
    with ResultsStore(store, readonly=True) as results:
        kept = results.runs("blog-static")
    assert len(kept) == 4 and not set(stale) & {run.run_id for run in kept}
    code, out, err = run_nalm(["report", "blog-static", "--results", store])
    assert code == 0 and "Stale" not in out and f"| – | 20 | 0.001 | {NAME} | add | 2 |" in out


def test_runs_are_listed_by_model_target_and_seed_and_deleted_with_yes(store_copy, run_nalm):
    code, out, err = run_nalm(["runs", "list", "blog-static", "--units", "nac", "--targets", "sub", "--seeds", "1",
                               "--results", store_copy])
    assert code == 0, err
    (row,) = out.splitlines()[1:-1]
    assert row.split()[1:7] == ["nac", "sub", "1", "50", row.split()[5], "–"]
    assert out.splitlines()[-1] == "1 of 8 stored runs of blog-static"
    code, out, err = run_nalm(["runs", "list", "blog-static", "--targets", "mul", "--results", store_copy])
    assert code == 0 and out.startswith("no stored run of blog-static matches (stored: mlp-relu6, nac; targets add, sub")
    code, out, err = run_nalm(["runs", "delete", "blog-static", "--units", "mlp-relu6", "--yes", "--results",
                               store_copy])
    assert code == 0 and "deleted 4 runs" in out, err
    with ResultsStore(store_copy, readonly=True) as store:
        assert {run.model for run in store.runs("blog-static")} == {"nac"}
    code, out, err = run_nalm(["runs", "list", "no-such-experiment", "--results", store_copy])
    check_refused(code, out, err, "no-such-experiment")


def test_deleting_from_a_read_only_or_damaged_store_says_so_in_one_line(store_copy, run_nalm, monkeypatch):
    import nalm.cli.runs_cmd as runs_cmd

    before = store_copy.read_bytes()
    real = runs_cmd.os.access
    monkeypatch.setattr(runs_cmd.os, "access", lambda path, mode: False if mode == runs_cmd.os.W_OK else real(path, mode))
    code, out, err = run_nalm(["runs", "delete", "blog-static", "--yes", "--results", store_copy])
    check_refused(code, out, err, str(store_copy), "read-only", "nothing was deleted")
    assert code == 1 and store_copy.read_bytes() == before
    monkeypatch.undo()
    size = store_copy.stat().st_size
    with open(store_copy, "r+b") as handle:  # every page after the schema's, overwritten
        handle.seek(4096)
        handle.write(bytes([0xA5]) * (size - 4096))
    for action in (["list"], ["delete", "--yes"]):
        code, out, err = run_nalm(["runs", *action, "blog-static", "--results", store_copy])
        check_refused(code, out, err, "is damaged")


def test_reports_and_figures_of_chosen_models_and_targets_name_their_runs_and_go_to_report_dir(
        store_copy, run_nalm, monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(Experiment, "plot", lambda experiment, runs, folder, **kwargs: drawn.append((runs, folder)) or [])
    code, out, err = run_nalm(["report", "blog-static", "--units", "nac", "--targets", "add", "--report-dir",
                               tmp_path / "mine", "--results", store_copy])
    assert code == 0, err
    assert out.endswith(f"Report written to {tmp_path / 'mine' / 'report.md'}, {tmp_path / 'mine' / 'summary.csv'}, "
                        f"{tmp_path / 'mine' / 'runs.csv'}\n")
    assert not (store_copy.parent / "blog-static").exists()
    with (tmp_path / "mine" / "summary.csv").open() as handle:
        (row,) = csv.DictReader(handle)
    assert (row["model"], row["target"]) == ("nac", "add")
    assert "| nac | add | 2 |" in out and out.rstrip().count("| nac | add |") == 1  # the cell, no other
    with ResultsStore(store_copy, readonly=True) as store:
        ids = {run.run_id for run in store.runs("blog-static", model="nac", target="add")}
        assert {int(row["median_run"]), int(row["best_run"])} <= ids
        best = store.get(int(row["best_run"]))
        assert best.metrics["normalized_extrapolation"] == min(store.get(i).metrics["normalized_extrapolation"]
                                                                for i in ids)
    every = [line for line in out.splitlines() if line.startswith("| – | 50 | 0.001 | nac | add |")]
    assert every[0].endswith(f"| {row['median_run']} | {row['best_run']} |")
    code, out, err = run_nalm(["explain", row["best_run"], "--results", store_copy])
    assert code == 0 and out.startswith(f"run {row['best_run']}: nac, target add"), err
    code, out, err = run_nalm(["plot", "blog-static", "--targets", "sub", "--report-dir", tmp_path / "figures",
                               "--results", store_copy])
    assert code == 0, err
    ((runs, folder),) = drawn
    assert {(run.model, run.target) for run in runs} == {("nac", "sub"), ("mlp-relu6", "sub")}
    assert folder == tmp_path / "figures"


def test_report_dir_is_refused_before_anything_trains_where_a_file_is(tmp_path, run_nalm, blog_argv, monkeypatch):
    monkeypatch.setattr(Experiment, "plot", lambda *args, **kwargs: [])
    (tmp_path / "file").write_text("")
    code, out, err = run_nalm(blog_argv(tmp_path / "r.sqlite", "--report-dir", tmp_path / "file"))
    check_refused(code, out, err, f"--report-dir {tmp_path / 'file'} is a file, not a folder")
    assert not (tmp_path / "r.sqlite").exists()
    code, out, err = run_nalm(blog_argv(tmp_path / "r.sqlite", "--report-dir", tmp_path / "mine", quiet=False))
    assert code == 0 and (tmp_path / "mine" / "report.md").exists() and not (tmp_path / "blog-static").exists(), err
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 8


def test_a_figure_may_import_the_units_named_whatever_their_version():
    from nalm.cli.common import named_units

    assert named_units([f"{NAME}/nmu@1a2b3c4d", "nau", NAME]) == [NAME, "nmu", "nau", NAME]
    assert named_units(None) == []
