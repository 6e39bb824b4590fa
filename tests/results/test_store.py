"""Tests for nalm.results.store."""

import csv
import io
import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nalm.results import (Checkpoint, ResultsStore, RunKey, RunRecord, SCHEMA_VERSION, StoreError, StoreWriteError,
                          config_hash)

SRC = Path(__file__).resolve().parents[2] / "src"

# Values with no short decimal form, so a lossy float encoding would show.
WEIGHT_MATRIX = [[0.1, 1 / 3, -2.5e-310], [math.pi, -1e300, 2.0 ** -52]]


def make_record(model="nau", target="add", seed=0, experiment="exp", **overrides):
    fields = dict(
        experiment=experiment,
        model=model,
        target=target,
        seed=seed,
        config={"lr": 1e-3, "hidden": 2, "sparsity": {"start": 10, "end": 20}},
        environment={"torch": "2.3.0", "device": "cpu", "threads": 4},
        metrics={"extrapolation_mse": 1.5e-7, "success": True, "sparsity_error": float("nan")},
        curve={"step": [0, 100, 200], "interpolation": [1.0, 0.5, 0.25],
               "extrapolation": [2.0, float("inf"), 0.5]},
        weights={"W1": np.array(WEIGHT_MATRIX), "W2": [[1.0], [0.0]]},
        diverged=False,
    )
    fields.update(overrides)
    return RunRecord(**fields)


@pytest.fixture
def store(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as s:
        yield s


def test_round_trip_every_field(tmp_path):
    path = tmp_path / "sub" / "dir" / "results.sqlite"  # parent dirs are created
    record = make_record(diverged=True)
    with ResultsStore(path) as s:
        s.put(record)
        assert record.run_id is not None and record.created
    with ResultsStore(path) as s:  # reopen: data must come from disk
        [back] = s.runs()
        for got in (back, s.get(record.run_id)):
            assert (got.experiment, got.model, got.target, got.seed) == ("exp", "nau", "add", 0)
            assert got.config == record.config
            assert got.environment == record.environment
            assert got.metrics["extrapolation_mse"] == 1.5e-7
            assert got.metrics["success"] is True
            assert math.isnan(got.metrics["sparsity_error"])
            assert got.curve["step"] == [0, 100, 200]
            assert got.curve["extrapolation"][1] == float("inf")
            assert got.diverged is True
            assert got.created == record.created
            assert got.run_id == record.run_id
            assert got.key == record.key
            w1 = got.weights["W1"]
            assert isinstance(w1, np.ndarray) and w1.dtype == np.float64 and w1.shape == (2, 3)
            assert np.array_equal(w1, np.array(WEIGHT_MATRIX))  # exact, not allclose
            assert got.weights["W2"].shape == (2, 1)
            assert set(got.weights) == {"W1", "W2"}


def test_get_unknown_run_id_raises(store):
    with pytest.raises(KeyError):
        store.get(12345)


def test_resume_has_and_completed_keys(store):
    done = [make_record(seed=s) for s in range(3)]
    for r in done:
        store.put(r)
    store.put(make_record(seed=0, experiment="other"))
    assert store.completed_keys("exp") == {r.key for r in done}
    assert store.has(done[1].key)
    assert not store.has(make_record(seed=3).key)
    assert store.completed_keys("missing") == set()
    assert store.experiments() == ["exp", "other"]


def test_put_same_key_replaces(store):
    store.put(make_record(metrics={"mse": 1.0}))
    store.put(make_record(metrics={"mse": 2.0}))
    [only] = store.runs()
    assert only.metrics == {"mse": 2.0}


def test_different_config_is_a_different_key(store):
    a = make_record(config={"lr": 1e-3})
    b = make_record(config={"lr": 1e-2})
    assert a.key != b.key
    store.put(a)
    store.put(b)
    assert len(store.runs()) == 2
    assert {r.key for r in store.runs()} == {a.key, b.key}


def test_config_hash_is_canonical():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    h = config_hash({"a": 1})
    assert len(h) == 16 and int(h, 16) >= 0
    assert isinstance(RunKey("e", "m", "t", 0, h), RunKey)


def test_runs_order_and_filters(store):
    for model, target, seed in [("nmu", "mul", 1), ("nau", "sub", 0), ("nau", "add", 2),
                                ("nau", "add", 1)]:
        store.put(make_record(model=model, target=target, seed=seed))
    store.put(make_record(experiment="aaa", seed=9))
    order = [(r.experiment, r.model, r.target, r.seed) for r in store.runs()]
    assert order == [("aaa", "nau", "add", 9), ("exp", "nau", "add", 1), ("exp", "nau", "add", 2),
                     ("exp", "nau", "sub", 0), ("exp", "nmu", "mul", 1)]
    assert [r.seed for r in store.runs("exp", model="nau", target="add")] == [1, 2]
    assert [(r.experiment, r.seed) for r in store.runs(seed=9)] == [("aaa", 9)]
    with pytest.raises(TypeError):
        store.runs(colour="red")


@pytest.mark.parametrize("field, value", [
    ("seed", -1), ("seed", 1.5), ("seed", True), ("seed", "3"),
    ("experiment", ""), ("model", ""), ("target", None),
])
def test_invalid_fields_are_rejected(store, field, value):
    with pytest.raises(ValueError, match=field):
        store.put(make_record(**{field: value}))
    assert store.runs() == []


def test_put_many_is_all_or_nothing(store):
    store.put(make_record(seed=0))
    good = make_record(seed=1)
    bad = make_record(seed=2, config={"callback": object()})
    with pytest.raises(ValueError, match="config"):
        store.put_many([good, bad])  # good is inserted before bad fails: must roll back
    assert [r.seed for r in store.runs()] == [0]
    assert good.run_id is None
    with pytest.raises(ValueError, match="seed"):
        store.put_many([make_record(seed=3), make_record(seed=-1)])
    assert [r.seed for r in store.runs()] == [0]
    store.put_many(make_record(seed=s) for s in (4, 5))  # any iterable works
    assert [r.seed for r in store.runs()] == [0, 4, 5]


# -- refusing files that are not ours -------------------------------------------------------


def assert_refused(path, match):
    before = path.read_bytes()
    with pytest.raises(StoreError, match=match) as info:
        ResultsStore(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == before
    return str(info.value)


def test_refuses_text_file(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 10)
    assert_refused(path, "not a nalm results store")


def test_refuses_foreign_sqlite_database(tmp_path):
    path = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('ada')")
    conn.commit()
    conn.close()
    assert_refused(path, "not a nalm results store")
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables == {"customers"}


def test_refuses_meta_table_of_another_application(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('application', 'someone-else'), ('schema_version', '1')")
    conn.commit()
    conn.close()
    assert_refused(path, "not a nalm results store")


def test_refuses_store_from_newer_version(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as s:
        s.put(make_record())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    message = assert_refused(path, "newer nalm")
    assert "version 99" in message and f"version {SCHEMA_VERSION}" in message


def test_empty_file_is_treated_as_new(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.touch()
    with ResultsStore(path) as s:
        s.put(make_record())
    with ResultsStore(path) as s:
        assert len(s.runs()) == 1


def test_a_store_another_process_is_creating_is_not_refused(tmp_path):
    # the moment two commands starting at once on a new store can meet: the first has written
    # the database's header (switching to write-ahead logging) but not yet committed its tables
    path = tmp_path / "new.sqlite"
    creator = sqlite3.connect(path)
    creator.execute("PRAGMA journal_mode = WAL")
    try:
        assert path.stat().st_size > 0
        with ResultsStore(path) as s:
            s.put(make_record())
        with ResultsStore(path, readonly=True) as s:
            assert len(s.runs()) == 1
    finally:
        creator.close()


# -- crash safety ---------------------------------------------------------------------------

BATCH = 4


def crash_weights(seed):
    # non-trivial floats, so a record cut short could not still compare equal
    return np.arange(4000, dtype=np.float64).reshape(40, 100) / 7 + seed


WRITER = f"""
import sys
import numpy as np
from nalm.results import ResultsStore, RunRecord

def crash_weights(seed):
    return np.arange(4000, dtype=np.float64).reshape(40, 100) / 7 + seed

with ResultsStore(sys.argv[1]) as store:
    for batch in range(100000):
        seeds = range(batch * {BATCH}, (batch + 1) * {BATCH})
        store.put_many(
            RunRecord("crash", "nau", "add", i, {{"i": i}}, {{}}, {{"i": i}},
                      {{"step": list(range(200))}}, {{"W": crash_weights(i)}})
            for i in seeds
        )
        print(batch, flush=True)  # only after the commit: this batch is durable
"""


def test_sigkill_mid_write_leaves_a_valid_store(tmp_path):
    path = tmp_path / "results.sqlite"
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        acknowledged = -1
        while acknowledged < 10:
            line = proc.stdout.readline()
            assert line, "writer exited early"
            acknowledged = int(line)
        # land the kill at an arbitrary point of a later batch, not right after a commit
        time.sleep(random.uniform(0.0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(path)  # recovers the journal, like any later open would
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with ResultsStore(path) as s:
        records = s.runs("crash")
        seeds = sorted(r.seed for r in records)
        # every acknowledged batch survived; nothing partial or out of order did
        assert seeds == list(range(len(seeds)))
        assert len(seeds) % BATCH == 0 and len(seeds) >= (acknowledged + 1) * BATCH
        for r in records:
            assert np.array_equal(r.weights["W"], crash_weights(r.seed))
            assert r.metrics == {"i": r.seed} and r.config == {"i": r.seed}
            assert len(r.curve["step"]) == 200
        s.put(make_record(experiment="after-crash"))  # still writable
        assert s.experiments() == ["after-crash", "crash"]


# -- CSV export -----------------------------------------------------------------------------


def test_export_csv(store, tmp_path):
    store.put(make_record(seed=1, metrics={"mse": 0.25, "success": 1}, diverged=True))
    store.put(make_record(seed=0, metrics={"mse": float("nan"), "steps": 300}))
    store.put(make_record(experiment="zzz", metrics={"other": 1.0}))

    out = tmp_path / "out.csv"
    assert store.export_csv(out, experiment="exp") == 2
    with open(out, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["run_id", "experiment", "model", "target", "seed", "config_hash",
                                 "diverged", "created", "mse", "steps", "success", "config"]
    first, second = rows  # ordered by seed
    by_seed = {r.seed: r for r in store.runs("exp")}
    assert first["seed"] == "0" and second["seed"] == "1"
    assert first["run_id"] == str(by_seed[0].run_id)
    assert first["created"] == by_seed[0].created
    assert (first["experiment"], first["model"], first["target"]) == ("exp", "nau", "add")
    assert first["config_hash"] == by_seed[0].key.config_hash
    assert json.loads(first["config"]) == by_seed[0].config
    assert math.isnan(float(first["mse"])) and first["steps"] == "300" and first["success"] == ""
    assert float(second["mse"]) == 0.25 and second["steps"] == "" and second["success"] == "1"
    assert (first["diverged"], second["diverged"]) == ("0", "1")

    buffer = io.StringIO()  # file objects work too, and no filter exports everything
    assert store.export_csv(buffer) == 3
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [r["experiment"] for r in rows] == ["exp", "exp", "zzz"]
    assert rows[2]["other"] == "1.0" and rows[0]["other"] == ""


def fill_the_disk(store: ResultsStore) -> None:
    """Let the store's file grow no further: SQLite's own 'database or disk is full' from now on."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.put_checkpoint(Checkpoint("p", "e", "nau", 1, 10, b"first" * 100))
        fill_the_disk(store)
        with pytest.raises(StoreWriteError, match="cannot write .database or disk is full.; nothing of this write was kept"):
            store.put_checkpoint(Checkpoint("p", "e", "nau", 1, 20, b"second" * 100_000))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        saved = store.checkpoint("p")
        assert (saved.step, saved.state) == (10, b"first" * 100)
        assert store.runs() == []


class _WalLockedAtFirst:
    """A connection whose first ``refusals`` switches to WAL answer "database is locked" at once,
    as SQLite does, without its busy handler, while another process creates the store."""

    def __init__(self, conn, refusals):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "refusals", refusals)

    def execute(self, sql, *args):
        if sql.startswith("PRAGMA journal_mode") and self.refusals:
            object.__setattr__(self, "refusals", self.refusals - 1)
            raise sqlite3.OperationalError("database is locked")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def __setattr__(self, name, value):
        setattr(self._conn, name, value)


@pytest.mark.parametrize("refusals, opens", [(3, True), (10 ** 9, False)])
def test_opening_a_store_waits_for_a_lock_sqlite_will_not_wait_for(tmp_path, monkeypatch, refusals, opens):
    import nalm.results.store as store_module

    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _WalLockedAtFirst(connect(*a, **k), refusals))
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.5)
    path = tmp_path / "store.sqlite"
    if opens:
        with ResultsStore(path) as store:
            assert store.runs() == []
    else:
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # no longer than the timeout
            ResultsStore(path)


def test_a_store_opened_read_only_writes_nothing(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as s:
        s.put(make_record())
    before = sorted(p.name for p in tmp_path.iterdir())
    with ResultsStore(path, readonly=True) as s:
        assert len(s.runs()) == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            s._conn.execute("CREATE TABLE other (x)")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with pytest.raises(StoreError, match="no results store"):
        ResultsStore(tmp_path / "missing.sqlite", readonly=True)
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_row_of_a_store_written_before_checksums_reads_and_gets_one_when_replaced(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as s:
        s.put(make_record())
    conn = sqlite3.connect(path)  # as nalm wrote a store before rows carried a checksum
    conn.execute("CREATE TABLE runs_old AS SELECT * FROM runs")
    conn.execute("DROP TABLE runs")
    conn.execute("ALTER TABLE runs_old DROP COLUMN checksum")
    conn.execute("ALTER TABLE runs_old RENAME TO runs")
    conn.commit()
    conn.close()
    with ResultsStore(path, readonly=True) as s:
        assert len(s.runs()) == 1 and not s.damaged
    with ResultsStore(path) as s:  # opened for writing: the column is added, the old row kept
        assert len(s.runs()) == 1
        s.put(make_record(seed=1))
        assert s._conn.execute("SELECT count(checksum) FROM runs").fetchone()[0] == 1


def test_a_claim_holds_runs_for_its_owner_until_released_or_lapsed(store):
    assert store.claim(["a", "b"], "one", 60.0) == {"a", "b"}
    assert store.claim(["b", "c"], "two", 60.0) == {"c"}  # b is one's
    assert store.claimants(["b", "c"]) == {"one", "two"}
    store.release("one")
    assert store.claim(["b"], "two", 60.0) == {"b"} and store.claimants(["a"]) == set()
    assert store.claim(["d"], "killed", -1.0) == {"d"}  # a claim never renewed: its owner was killed
    assert store.claimants(["d"]) == set() and store.claim(["d"], "two", 60.0) == {"d"}


def test_a_second_store_open_in_one_process_keeps_the_first_ones_log(tmp_path):
    """Two stores of one file open in one process (a command and its thread that renews claims):
    another process that opens and closes the file must not find it unused and delete its
    write-ahead log, which the first store is still writing (a Python open() of the file, since
    removed, dropped the process's locks)."""
    path = tmp_path / "results.sqlite"
    other = [sys.executable, "-c", f"from nalm.results import ResultsStore; ResultsStore({str(path)!r}).close()"]
    env = dict(os.environ, PYTHONPATH=str(SRC))
    with ResultsStore(path) as first:
        first.put(make_record())
        with ResultsStore(path) as second:
            subprocess.run(other, env=env, check=True)
            assert Path(f"{path}-wal").exists()
            second.put(make_record(seed=1))
        subprocess.run(other, env=env, check=True)
        assert Path(f"{path}-wal").exists()
        first.put(make_record(seed=2))
    with ResultsStore(path, readonly=True) as store:
        assert sorted(r.seed for r in store.runs()) == [0, 1, 2]


class _FailingDelete:
    """A connection whose second DELETE fails as a full disk would, after the first succeeded."""

    def __init__(self, conn):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "deletes", 0)

    def execute(self, sql, *args):
        if sql.startswith("DELETE FROM runs"):
            object.__setattr__(self, "deletes", self.deletes + 1)
            if self.deletes == 2:
                raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_deleting_runs_is_one_transaction_and_skips_runs_no_longer_stored(tmp_path, monkeypatch):
    import nalm.results.store as store_module

    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        store.put_many(make_record(seed=s) for s in range(5))
        ids = [r.run_id for r in store.runs()]
        monkeypatch.setattr(store_module, "_BATCH", 2)  # ids[:4] in two statements, the second fails
        conn, store._conn = store._conn, _FailingDelete(store._conn)
        with pytest.raises(StoreWriteError, match="cannot write .database or disk is full.; nothing of this write"):
            store.delete(ids[:4])
        store._conn = conn
        assert [r.seed for r in store.runs()] == [0, 1, 2, 3, 4]
        assert store.delete([ids[0], ids[3], ids[3], 10 ** 6]) == 2  # an id not stored is skipped
        assert [r.seed for r in store.runs()] == [1, 2, 4]
        store.put(make_record(seed=0))
        assert store.runs(seed=0)[0].run_id > max(ids)  # ids are never reused
    with ResultsStore(path, readonly=True) as store:
        with pytest.raises(StoreWriteError, match="cannot write"):
            store.delete([ids[1]])
        assert len(store.runs()) == 4
