"""Which runs a report shows: the current version of a unit from outside nalm, the stale runs
listed, every version side by side on request, and the rows of ``nalm runs list`` (hand-made
runs, no training)."""
from __future__ import annotations

import csv
import warnings

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.report import write_report
from nalm.report.selection import (RUN_COLUMNS, current_versions, rebuildable, run_rows, select, stale_section,
                                   version_label)
from nalm.results import ResultsStore
from nalm.units.custom import source_record
from nalm.units.nau_nmu import NAU

from .test_summary import record

OLD, NEW = "a" * 64, "b" * 64
UNIT = "mymod:MyUnit"


def custom(version: str, seed: int = 0, run_id: int = 0, model: str = UNIT, target: str = "add", **metrics):
    """A run of ``model`` whose unit ``mymod:MyUnit`` is of source ``version``."""
    run = record(model, target, seed, experiment="madsen2020-static", **metrics)
    run.config["custom_units"] = {UNIT: {"import": UNIT, "source_sha256": version}}
    run.run_id, run.created = run_id, f"2025-01-0{1 + (version == NEW)}T10:00:00+00:00"
    return run


def loop() -> list:
    """Two seeds of the old version (ids 1, 2), a NAU beside them (3, 4), two of the new (5, 6)."""
    nau = [record("nau", "add", seed, experiment="madsen2020-static") for seed in (0, 1)]
    for run_id, run in zip((3, 4), nau):
        run.run_id = run_id
    return [custom(OLD, 0, 1), custom(OLD, 1, 2), *nau, custom(NEW, 0, 5), custom(NEW, 1, 6)]


def test_a_report_shows_the_newest_stored_version_and_lists_the_older_runs_as_stale():
    selection = select(loop())
    assert [(r.model, r.run_id) for r in selection.runs] == [("nau", 3), ("nau", 4), (UNIT, 5), (UNIT, 6)]
    assert [r.run_id for r in selection.stale] == [1, 2] and selection.current == {UNIT: NEW}
    text = "\n".join(stale_section("madsen2020-static", selection))
    assert "## Stale runs" in text and "Left out of the tables above: 2 runs of a unit from outside nalm of another version" in text
    assert "| mymod:MyUnit | aaaaaaaa | 2 | 2025-01-01 10:00 | bbbbbbbb |" in text
    for command in ("nalm report madsen2020-static --versions all", "nalm runs list madsen2020-static --stale",
                    "nalm runs delete madsen2020-static --stale"):
        assert f"`{command}`" in text


def test_the_version_a_command_trained_is_current_whatever_was_stored_last():
    """Back to the old file after a rerun of the new: `nalm run` trains nothing (its runs are
    stored), and its report shows the version it ran, not the newest stored."""
    selection = select(loop(), pinned={UNIT: OLD})
    assert {r.run_id for r in selection.runs if r.model == UNIT} == {1, 2}
    assert [r.run_id for r in selection.stale] == [5, 6]


def test_every_version_side_by_side_each_its_own_model():
    selection = select(loop(), versions="all")
    assert not selection.stale
    assert sorted({r.model for r in selection.runs}) == ["mymod:MyUnit@aaaaaaaa", "mymod:MyUnit@bbbbbbbb", "nau"]
    text = "\n".join(stale_section("madsen2020-static", selection))
    assert "| mymod:MyUnit@aaaaaaaa | no | 2 |" in text and "| mymod:MyUnit@bbbbbbbb | yes | 2 |" in text
    assert text.index("@aaaaaaaa") < text.index("@bbbbbbbb")  # oldest first


def test_a_version_named_in_the_models_is_shown_under_its_name_stale_or_not():
    selection = select(loop(), models=["mymod:MyUnit@aaaaaaaa", "nau"], targets=["add"])
    assert [(r.model, r.run_id) for r in selection.runs] == [
        ("mymod:MyUnit@aaaaaaaa", 1), ("mymod:MyUnit@aaaaaaaa", 2), ("nau", 3), ("nau", 4)]
    assert select(loop(), models=[UNIT], targets=["sub"]).runs == []
    with pytest.raises(ValueError, match="versions must be one of current, all"):
        select(loop(), versions="newest")


def test_a_model_of_two_units_has_one_version_per_unit():
    run = custom(OLD, model=f"{UNIT}/other:Unit")
    run.config["custom_units"]["other:Unit"] = {"import": "other:Unit", "source_sha256": None}
    assert version_label(run.config) == "aaaaaaaa+unread"
    assert version_label(record("nau/nmu").config) is None


def test_the_report_tables_the_current_version_with_run_ids_and_the_stale_runs_under(tmp_path):
    path = tmp_path / "r.sqlite"
    runs = loop()
    for seed, run in enumerate(runs):
        run.metrics["normalized_extrapolation"] = [5.0, 1.0, 3.0, 2.0, 9.0, 4.0][seed]
        run.run_id = None  # the store numbers them, in this order
    with ResultsStore(path) as store:
        store.put_many(runs)
        text, paths = write_report(EXPERIMENTS["madsen2020-static"], store, tmp_path / "report")
        every = [line for line in text.splitlines() if line.startswith("| – |")]
        assert [line.split(" | ")[3] for line in every] == [UNIT, "nau"]  # one cell of the unit: its new version
        assert every[0].endswith("| 6 | 6 |") and every[1].endswith("| 4 | 4 |")  # median run, best run
        assert "## Stale runs" in text and "| mymod:MyUnit | aaaaaaaa | 2 |" in text
        with (tmp_path / "report" / "summary.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert [(row["model"], row["seeds"], row["median_run"], row["best_run"]) for row in rows] == [
            (UNIT, "2", "6", "6"), ("nau", "2", "4", "4")]
        text, _ = write_report(EXPERIMENTS["madsen2020-static"], store, tmp_path / "report", versions="all")
        assert "| mymod:MyUnit@aaaaaaaa | add |" in text and "| mymod:MyUnit@bbbbbbbb | add |" in text


def test_the_rows_of_runs_list_in_the_order_stored():
    runs = loop()
    rows = run_rows(runs[::-1], current_versions(runs))
    assert [tuple(row) for row in rows] == [RUN_COLUMNS] * 6
    assert [row["run_id"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0] == {"run_id": 1, "model": UNIT, "target": "add", "seed": 0, "steps": 1000, "success": False,
                       "unit_version": "aaaaaaaa", "stale": True, "stored": "2025-01-01T10:00:00+00:00"}
    assert [(row["unit_version"], row["stale"]) for row in rows[2:]] == [(None, False)] * 2 + [("bbbbbbbb", False)] * 2


def test_a_figure_from_weights_leaves_out_runs_its_units_code_can_no_longer_rebuild():
    name = f"{NAU.__module__}:NAU"
    same, edited, builtin = record("nau"), record("nau"), record("nac")
    same.config["custom_units"] = {name: source_record(NAU)}
    edited.config["custom_units"] = {name: {**source_record(NAU), "source_sha256": OLD}}
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert rebuildable([same, edited, builtin], "identity error") == [same, builtin]
    assert [str(w.message) for w in said] == [
        "the identity error figure leaves out runs whose unit's source has changed since they ran, which its code now "
        "cannot rebuild: 1 of nau@aaaaaaaa"]
