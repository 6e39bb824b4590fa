"""Damaged and read-only stores: a damaged row is named and left out while the rest reports, and
trained again; a store with damaged pages says so in one line; runs trained but not storable are
kept beside the store; readers write nothing."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from nalm.results import DamagedRunWarning, ResultsStore

from .test_bad_input import check_refused, snapshot


def damage(path: Path, change) -> int:
    """Change one run's stored metrics behind nalm's back (as a flipped byte on disk would): the
    text becomes ``change(text)``; the run's id."""
    conn = sqlite3.connect(path)
    run_id, metrics = conn.execute("SELECT run_id, metrics FROM runs WHERE model = 'nac' AND target = 'add' "
                                   "AND seed = 1").fetchone()
    conn.execute("UPDATE runs SET metrics = ? WHERE run_id = ?", (change(metrics), run_id))
    conn.commit()
    conn.close()
    return run_id


def flip_a_digit(text: str) -> str:
    """The first digit after the first colon, changed: still JSON, another number."""
    at = next(i for i in range(text.index(":"), len(text)) if text[i].isdigit())
    return text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1:]


def break_the_json(text: str) -> str:
    return text.replace(":", "}", 1)


def unchecked(path: Path) -> Path:
    """The store as nalm wrote it before rows carried a checksum."""
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET checksum = NULL")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("change, checked, why", [
    (flip_a_digit, True, "its content does not match its checksum"),
    (break_the_json, True, "its content does not match its checksum"),
    (break_the_json, False, "it does not parse"),  # a row written before rows carried a checksum
], ids=["a digit flipped", "JSON broken", "JSON broken, no checksum"])
def test_a_damaged_row_is_named_and_left_out_and_the_rest_reports(store_copy, run_nalm, change, checked, why):
    run_id = damage(store_copy if checked else unchecked(store_copy), change)
    code, out, err = run_nalm(["report", "blog-static", "--results", store_copy])
    assert code == 0, err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"nalm: warning: run {run_id} in {store_copy} is damaged ({why}") and "left out" in line
    assert "`nalm run` trains it again" in line
    with ResultsStore(store_copy, readonly=True) as store, pytest.warns(DamagedRunWarning, match=f"run {run_id} "):
        runs = store.runs("blog-static")
    assert len(runs) == 7 and run_id not in {r.run_id for r in runs}
    assert "| – | 50 | 0.001 | nac | add | 1 |" in out  # the cell of nac on add has one seed left
    code, out, err = run_nalm(["plot", "blog-static", "--results", store_copy])
    assert code == 0 and "is damaged" in err
    code, out, err = run_nalm(["explain", run_id, "--results", store_copy])
    check_refused(code, out, err, f"run {run_id}", "damaged")


def test_nalm_run_trains_a_damaged_run_again(store_copy, run_nalm, blog_argv):
    run_id = damage(store_copy, break_the_json)
    code, out, err = run_nalm(blog_argv(store_copy))
    assert code == 0, err
    assert "trained 1 runs, skipped 7 already stored" in out
    with ResultsStore(store_copy) as store:
        runs = store.runs("blog-static")
        assert len(runs) == 8 and run_id not in {r.run_id for r in runs} and not store.damaged
    code, out, err = run_nalm(blog_argv(store_copy))  # the damaged row was replaced: nothing is left to train
    assert code == 0 and "trained 0 runs, skipped 8" in out and "damaged" not in err


def test_a_store_with_damaged_pages_says_so_in_one_line(store_copy, run_nalm, blog_argv):
    size = store_copy.stat().st_size
    with open(store_copy, "r+b") as handle:  # every page after the schema's, overwritten
        handle.seek(4096)
        handle.write(bytes([0xA5]) * (size - 4096))
    for argv in (["report", "blog-static", "--results", store_copy], blog_argv(store_copy)):
        code, out, err = run_nalm(argv)
        assert code == 1, err
        check_refused(code, out, err, "is damaged")
        assert "not a nalm results store" not in err


def test_runs_trained_but_not_storable_are_kept_beside_the_store(tmp_path, run_nalm, blog_argv, monkeypatch):
    from nalm.results import StoreWriteError

    path = tmp_path / "r.sqlite"
    original = ResultsStore.put_many

    def put_many(store, records, **kwargs):  # the store fails once training is over
        if store.path == path:
            raise StoreWriteError(f"{path}: cannot write (disk I/O error); nothing of this write was kept")
        return original(store, records, **kwargs)

    monkeypatch.setattr(ResultsStore, "put_many", put_many)
    code, out, err = run_nalm(blog_argv(path))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    beside = err.split(" are kept in ")[1].strip()
    assert "runs just trained are kept in" in err and Path(beside).name.startswith("r.unstored-")
    monkeypatch.setattr(ResultsStore, "put_many", original)
    with ResultsStore(beside, readonly=True) as kept:
        assert len(kept.runs("blog-static")) >= 2  # the first population trained
    code, out, err = run_nalm(["report", "blog-static", "--results", beside])
    assert code == 0, err


def test_readers_write_nothing_in_or_beside_the_store(store_copy, run_nalm):
    folder = store_copy.parent
    with ResultsStore(store_copy, readonly=True) as store:
        run_id = store.runs("blog-static", model="nac")[0].run_id
    os.chmod(store_copy, 0o444)
    before = snapshot(folder)
    stamp = store_copy.stat().st_mtime_ns
    for argv in (["report", "blog-static", "--results", store_copy],
                 ["explain", run_id, "--results", store_copy]):
        code, out, err = run_nalm(argv)
        assert code == 0, err
    reports = folder / "blog-static"
    after = {name: data for name, data in snapshot(folder).items() if not name.startswith("blog-static/")}
    assert after == before and store_copy.stat().st_mtime_ns == stamp and reports.is_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["blog-static", "r.sqlite"]  # no -wal, no -shm
