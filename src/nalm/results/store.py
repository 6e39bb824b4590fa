"""SQLite store of experiment results, one row per member run.

A *member run* is one (experiment, model, target, seed, config) combination.
The store is what makes long experiment sweeps resumable: a runner asks
:meth:`ResultsStore.has` / :meth:`ResultsStore.completed_keys` before training
and calls :meth:`ResultsStore.put` after, so a killed sweep picks up where it
stopped.

Durability: the database runs in WAL mode with ``synchronous=FULL`` and every
``put``/``put_many`` is a single transaction, so killing the process at any
moment loses at most the transaction in flight and never corrupts the file.
(WAL needs a local filesystem; do not put the store on NFS.)

A population in training keeps its latest checkpoint in the ``checkpoints`` table
(:meth:`ResultsStore.put_checkpoint`), one row per population, replaced as it goes; the
transaction that stores the population's runs deletes it. Reports read ``runs`` only. A
command claims the runs it trains in the ``claims`` table (:mod:`nalm.runner.claims`).

Everything is stored as JSON text (:mod:`nalm.results.records`), readable with any SQLite
client.

Damage: each run's row carries the SHA-256 of its content (``checksum``; rows written before
nalm kept one have none). A row that does not parse or match its checksum is *damaged*: it is
left out of what :meth:`ResultsStore.runs` returns, named in a warning
(:class:`DamagedRunWarning`), and trained again by ``nalm run``. A store whose pages SQLite
cannot read is damaged as a whole (:class:`StoreDamaged`).

Readers (``nalm report``, ``plot``, ``explain``) open a store read-only
(``ResultsStore(path, readonly=True)``): an archived or shared store need not be writable,
and nothing is written beside it.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from ..errors import UnknownNameError, warn
from .records import (CONTENT, Checkpoint, DamagedRow, DamagedRunWarning, RunKey, RunRecord, StoreDamaged, StoreError,
                      StoreWriteError, checkpoint_from_row, checksum, config_hash, damaged_store, dumps, encode_field,
                      record_from_row, utc_now, validate, verify_row)

__all__ = [
    "SCHEMA_VERSION",
    "Checkpoint",
    "ResultsStore",
    "RunKey",
    "RunRecord",
    "StoreDamaged",
    "StoreError",
    "config_hash",
]

SCHEMA_VERSION = 1
APPLICATION = "nalm"

LOCK_TIMEOUT = 30.0  # seconds a connection waits for another's lock before failing
LOCK_RETRY = 0.05  # seconds between tries of a statement SQLite will not wait for itself

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    -- AUTOINCREMENT so that a replaced or deleted run's id is never reused
    run_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment  TEXT NOT NULL,
    model       TEXT NOT NULL,
    target      TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    config      TEXT NOT NULL,
    environment TEXT NOT NULL,
    metrics     TEXT NOT NULL,
    curve       TEXT NOT NULL,
    weights     TEXT NOT NULL,
    diverged    INTEGER NOT NULL,
    created     TEXT NOT NULL,
    checksum    TEXT,  -- SHA-256 of the row's content (checksum), none in rows written before it was kept
    UNIQUE (experiment, model, target, seed, config_hash)
);
-- the state of each population in training, deleted by the transaction that stores its runs
CREATE TABLE IF NOT EXISTS checkpoints (
    population  TEXT PRIMARY KEY,
    experiment  TEXT NOT NULL,
    model       TEXT NOT NULL,
    runs        INTEGER NOT NULL,
    step        INTEGER NOT NULL,
    state       BLOB NOT NULL,
    created     TEXT NOT NULL,
    members     TEXT  -- its runs' config hashes (JSON), none in checkpoints saved before they were kept
);
-- the runs a command is training, so that another command on the store waits for them
CREATE TABLE IF NOT EXISTS claims (
    run         TEXT PRIMARY KEY,  -- its config hash
    owner       TEXT NOT NULL,
    expires     REAL NOT NULL  -- seconds since the epoch: a claim not renewed by then has lapsed
);
"""

_ORDER = "ORDER BY experiment, model, target, seed, config_hash, run_id"
_FILTERABLE = ("model", "target", "seed", "config_hash")
_BATCH = 500  # run ids per statement, well under SQLite's limit on parameters


def _checked_path(path: str | os.PathLike) -> Path:
    """``path`` as a store's, or a :class:`StoreError` saying why it cannot be one."""
    if not os.fspath(path):
        raise StoreError("the results store's path is empty")
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a results store (name a file in it, e.g. {path / 'nalm.sqlite'})")
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file (a results store is an SQLite file)")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise StoreError(f"{path}: {parent} is a file, not a folder")
    return path


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that reads ``path`` and writes nothing, in it or beside it. A store in
    write-ahead-log mode needs its index file (``-shm``) even to be read: it is read in place
    where one is open, else the store is read as an immutable file, whose log, if a writer
    left one, is empty after a clean close."""
    uri = path.resolve().as_uri()
    beside = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    if all(p.exists() for p in beside):  # a writer is at work, or was killed: read through its log
        return sqlite3.connect(uri + "?mode=ro", uri=True, timeout=LOCK_TIMEOUT)
    return sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True)


def _check_store(conn: sqlite3.Connection, path: Path, *, empty_ok: bool = False) -> None:
    """Raise StoreError unless ``conn`` is a nalm store we understand. ``empty_ok``: an SQLite
    database without a single table passes, as the store another process is creating looks
    between its first write and the commit of its tables."""
    not_ours = StoreError(f"{path}: not a nalm results store")
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StoreError(f"{path}: not a nalm results store (not an SQLite database)") from None
        raise damaged_store(path, exc) from None  # a corrupt file with a valid header
    if empty_ok and not tables:
        return
    if meta.get("application") != APPLICATION:
        raise not_ours
    try:
        version = int(meta["schema_version"])
    except (KeyError, ValueError):
        raise not_ours from None
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer nalm (store schema version {version}; "
            f"this nalm supports schema version {SCHEMA_VERSION})"
        )


_PINNED = "current_version/"
"""The prefix of the ``meta`` keys of :meth:`ResultsStore.pin_versions`: ``current_version/EXPERIMENT/UNIT``."""


class ResultsStore:
    """One SQLite file of member-run results; see the module docstring.

    ``readonly``: open an existing store for reading only, leaving no file behind; a missing
    one is an error (:class:`StoreError`).
    """

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False):
        self.path, self.readonly = _checked_path(path), readonly
        self.damaged: dict[int, str] = {}  # run id -> why, of the damaged rows read so far
        if self.path.exists() and self.path.stat().st_size > 0:
            self._check_existing()
        elif readonly:
            raise StoreError(f"no results store at {self.path}")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if readonly:
            self._conn = _connect_readonly(self.path)
            self._conn.row_factory = sqlite3.Row
            return
        # timeout: parallel sweep workers may share one store and wait on its lock
        self._conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        try:
            self._use_wal()
            self._conn.execute("PRAGMA synchronous = FULL")
            with self._transaction():
                # not executescript(): it would COMMIT our transaction early
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('application', ?), "
                    "('schema_version', ?)",
                    (APPLICATION, str(SCHEMA_VERSION)),
                )
                for table, column in (("runs", "checksum"), ("checkpoints", "members")):
                    columns = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
                    if column not in columns:  # a store written before nalm kept it
                        self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
            # re-check: another process may have created the file since we looked
            _check_store(self._conn, self.path)
        except BaseException:
            self._conn.close()
            raise

    def _use_wal(self) -> None:
        """Switch to write-ahead logging, waiting for a lock as every other statement does.

        SQLite answers this pragma "database is locked" at once, without its busy handler, while
        another connection is creating the store or recovering its log (seen when a second
        process opened a store the first was creating), so it is retried here up to the timeout.
        """
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_RETRY)

    def _check_existing(self) -> None:
        """Refuse foreign files without writing a single byte to them, reading them through SQLite
        only: a file that Python opens and closes drops the locks of every connection of this
        process to it (POSIX locks belong to the process), and another process may then delete
        the store's write-ahead log under them."""
        conn = _connect_readonly(self.path)
        try:
            _check_store(conn, self.path, empty_ok=not self.readonly)
        finally:
            conn.close()

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All of the block's writes or none. SQLite's own failures to write (a full disk, an I/O
        error, a lock held past the timeout) become an error saying that the store
        keeps what it held (:class:`StoreWriteError`): the transaction is rolled back, and SQLite's
        journal guarantees it."""
        # IMMEDIATE takes the write lock up front, so a concurrent writer waits
        # on the busy timeout instead of failing halfway through.
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            raise StoreWriteError(f"{self.path}: cannot write ({error}); nothing of this write was kept, and what "
                                  "the store held before is intact") from None
        except sqlite3.DatabaseError as error:  # pages SQLite cannot read: the file is damaged
            raise damaged_store(self.path, error) from None

    # -- writing -------------------------------------------------------------

    def put(self, record: RunRecord) -> None:
        """Store one member run.

        A run with the same key (experiment, model, target, seed, config hash)
        is *replaced*: the old row is deleted and the new one gets a new run_id.
        """
        self.put_many([record])

    def put_many(self, records: Iterable[RunRecord], *, finishes: str | None = None) -> None:
        """Store several runs in one transaction: either all are written or none.
        ``finishes`` names the population whose checkpoint the runs replace: it is deleted in
        the same transaction, with every other checkpoint whose runs are all stored now (one
        saved when the runs were split otherwise, e.g. by another ``--workers``).

        Raises ValueError naming the run and field if any record is invalid or
        cannot be serialised; nothing from the call is then written.
        """
        written: list[tuple[RunRecord, str, int]] = []
        now = utc_now()
        with self._transaction():
            if finishes is not None:
                self._conn.execute("DELETE FROM checkpoints WHERE population = ?", (finishes,))
            for record in records:
                validate(record)
                created = record.created or now
                row = {name: encode_field(record, name)
                       for name in ("config", "environment", "metrics", "curve", "weights")}
                content = (record.experiment, record.model, record.target, int(record.seed),
                           config_hash(record.config), row["config"], row["environment"], row["metrics"],
                           row["curve"], row["weights"], int(bool(record.diverged)), created)
                cursor = self._conn.execute(
                    f"INSERT OR REPLACE INTO runs ({', '.join(CONTENT)}, checksum)"
                    f" VALUES ({', '.join('?' * (len(CONTENT) + 1))})", (*content, checksum(content)))
                written.append((record, created, cursor.lastrowid))
            if written:
                self._delete_finished_checkpoints(written[0][0].experiment)
        # only touch the caller's objects once the data is safely committed
        for record, created, run_id in written:
            record.created, record.run_id = created, run_id

    def delete(self, run_ids: Iterable[int]) -> int:
        """Delete the runs of ``run_ids`` in one transaction: all of them or none; the number
        deleted. An id no longer stored is skipped: a run replaced since it was read has a new id
        (ids are never reused), so its new row is kept."""
        ids = sorted({int(run_id) for run_id in run_ids})
        deleted = 0
        with self._transaction():
            for start in range(0, len(ids), _BATCH):
                batch = ids[start:start + _BATCH]
                deleted += self._conn.execute(f"DELETE FROM runs WHERE run_id IN ({', '.join('?' * len(batch))})",
                                              batch).rowcount
        return deleted

    # -- the current version of each unit from outside nalm --------------------------------

    def pin_versions(self, experiment: str, versions: dict[str, str | None]) -> None:
        """Record ``versions`` (unit name -> SHA-256 of its source) as the current ones of
        ``experiment``: those the latest ``nalm run`` ran, which reports show even where it trained
        nothing (a unit edited, then put back, has no newer run than the edit's)."""
        if versions:
            with self._transaction():
                self._conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                       [(f"{_PINNED}{experiment}/{unit}", digest or "")
                                        for unit, digest in versions.items()])

    def pinned_versions(self, experiment: str) -> dict[str, str | None]:
        """The versions :meth:`pin_versions` recorded for ``experiment`` (none in a store written
        by a nalm that did not record them: reports then take each unit's newest stored run)."""
        prefix = f"{_PINNED}{experiment}/"
        rows = self._conn.execute("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return {key[len(prefix):]: value or None for key, value in rows}

    def _delete_finished_checkpoints(self, experiment: str) -> None:
        """Delete the checkpoints of ``experiment`` whose runs are all stored (within a transaction)."""
        rows = self._conn.execute("SELECT population, members FROM checkpoints WHERE experiment = ? AND members "
                                  "IS NOT NULL", (experiment,)).fetchall()
        for population, members in rows:
            hashes = json.loads(members)
            stored = self._conn.execute(
                f"SELECT count(*) FROM runs WHERE experiment = ? AND config_hash IN ({', '.join('?' * len(hashes))})",
                (experiment, *hashes)).fetchone()[0]
            if hashes and stored == len(set(hashes)):
                self._conn.execute("DELETE FROM checkpoints WHERE population = ?", (population,))

    def put_checkpoint(self, checkpoint: "Checkpoint") -> None:
        """Store (or replace) the checkpoint of a population in training, in one transaction."""
        with self._transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO checkpoints (population, experiment, model, runs, step, state, created, members)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (checkpoint.population, checkpoint.experiment, checkpoint.model, checkpoint.runs,
                 checkpoint.step, sqlite3.Binary(checkpoint.state), checkpoint.created or utc_now(),
                 None if checkpoint.members is None else dumps(list(checkpoint.members))))

    def checkpoint(self, population: str) -> "Checkpoint | None":
        """The latest checkpoint of ``population``, if it has one."""
        rows = self._read("SELECT * FROM checkpoints WHERE population = ?", (population,))
        return checkpoint_from_row(rows[0]) if rows else None

    def checkpoints(self, experiment: str | None = None) -> list["Checkpoint"]:
        """Every population in training (of ``experiment``), without their states."""
        sql = "SELECT population, experiment, model, runs, step, created, members, '' AS state FROM checkpoints"
        rows = self._read(sql + (" WHERE experiment = ?" if experiment else "") + " ORDER BY population",
                          (experiment,) if experiment else ())
        return [checkpoint_from_row(row) for row in rows]

    # -- claims on runs in training -------------------------------------------

    def claim(self, runs: Iterable[str], owner: str, seconds: float) -> set[str]:
        """Claim for ``owner``, for ``seconds``, the runs (config hashes) no other owner holds a
        claim on that has not lapsed; the runs of ``runs`` that ``owner`` holds now."""
        runs = list(runs)
        now = time.time()
        with self._transaction():
            self._conn.execute("DELETE FROM claims WHERE expires < ?", (now,))
            self._conn.executemany("INSERT OR IGNORE INTO claims (run, owner, expires) VALUES (?, ?, ?)",
                                   [(run, owner, now + seconds) for run in runs])
            held = {row[0] for row in self._conn.execute("SELECT run FROM claims WHERE owner = ?", (owner,))}
        return held.intersection(runs)

    def renew(self, owner: str, seconds: float) -> None:
        """Extend every claim of ``owner`` by ``seconds`` from now."""
        with self._transaction():
            self._conn.execute("UPDATE claims SET expires = ? WHERE owner = ?", (time.time() + seconds, owner))

    def release(self, owner: str) -> None:
        """Give up every claim of ``owner``."""
        with self._transaction():
            self._conn.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def claimants(self, runs: Iterable[str]) -> set[str]:
        """The owners of the claims on ``runs`` that have not lapsed."""
        runs = list(runs)
        rows = self._read(f"SELECT DISTINCT owner FROM claims WHERE expires >= ? AND run IN ({', '.join('?' * len(runs))})",
                          (time.time(), *runs)) if runs else []
        return {row[0] for row in rows}

    # -- reading -------------------------------------------------------------

    def has(self, key: RunKey) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM runs WHERE experiment = ? AND model = ? AND target = ?"
            " AND seed = ? AND config_hash = ?",
            (key.experiment, key.model, key.target, key.seed, key.config_hash),
        ).fetchone()
        return row is not None

    def completed_keys(self, experiment: str) -> set[RunKey]:
        rows = self._conn.execute(
            "SELECT experiment, model, target, seed, config_hash FROM runs WHERE experiment = ?",
            (experiment,),
        )
        return {RunKey(*row) for row in rows}

    def runs(self, experiment: str | None = None, **filters: Any) -> list[RunRecord]:
        """Records ordered by experiment, model, target, seed; damaged rows are left out, each
        named once in a :class:`DamagedRunWarning` and kept in :attr:`damaged`.

        ``filters`` may name model, target, seed or config_hash (exact match).
        """
        unknown = set(filters) - set(_FILTERABLE)
        if unknown:
            raise TypeError(f"unknown filter(s) {sorted(unknown)}; allowed: {list(_FILTERABLE)}")
        if experiment is not None:
            filters = {"experiment": experiment, **filters}
        where = " AND ".join(f"{name} = ?" for name in filters)
        records = []
        for row in self._read(f"SELECT * FROM runs {'WHERE ' + where if where else ''} {_ORDER}",
                              tuple(filters.values())):
            try:
                records.append(record_from_row(row))
            except DamagedRow as damage:
                self._left_out(row["run_id"], str(damage))
        return records

    def intact_keys(self, experiment: str) -> set[RunKey]:
        """The keys of the runs of ``experiment`` whose rows are intact (a damaged one is trained again)."""
        keys = set()
        for row in self._read("SELECT * FROM runs WHERE experiment = ?", (experiment,)):
            try:
                verify_row(row)
            except DamagedRow as damage:
                self._left_out(row["run_id"], str(damage))
                continue
            keys.add(RunKey(*(row[name] for name in ("experiment", "model", "target", "seed", "config_hash"))))
        return keys

    def get(self, run_id: int) -> RunRecord:
        rows = self._read("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise UnknownNameError(f"no run with run_id {run_id} in {self.path}")
        try:
            return record_from_row(rows[0])
        except DamagedRow as damage:
            raise StoreError(f"run {run_id} in {self.path} is damaged: {damage}") from None

    def experiments(self) -> list[str]:
        return [row[0] for row in self._read("SELECT DISTINCT experiment FROM runs ORDER BY experiment")]

    def _read(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and "malformed" not in str(error):
                raise
            raise damaged_store(self.path, error) from None

    def _left_out(self, run_id: int, why: str) -> None:
        if run_id not in self.damaged:
            self.damaged[run_id] = why
            warn(f"run {run_id} in {self.path} is damaged ({why}) and left out; `nalm run` trains it again",
                 DamagedRunWarning)

    def export_csv(self, path_or_file: str | os.PathLike | IO[str],
                   experiment: str | None = None) -> int:
        """Write one CSV row per run and return the number of rows written.

        Columns: run_id, experiment, model, target, seed, config_hash, diverged,
        created, then one column per metric key (union over the runs, sorted;
        empty where a run lacks it), then ``config`` as canonical JSON.  A metric
        whose name clashes with a fixed column is written as ``metric.<name>``.
        """
        records = self.runs(experiment)
        fixed = ["run_id", "experiment", "model", "target", "seed", "config_hash",
                 "diverged", "created"]
        metric_keys = sorted({key for record in records for key in record.metrics})
        reserved = set(fixed) | {"config"}
        metric_columns = {key: f"metric.{key}" if key in reserved else key for key in metric_keys}
        header = fixed + list(metric_columns.values()) + ["config"]

        def write(handle: IO[str]) -> None:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            for record in records:
                row = {
                    "run_id": record.run_id, "experiment": record.experiment,
                    "model": record.model, "target": record.target, "seed": record.seed,
                    "config_hash": record.key.config_hash, "diverged": int(record.diverged),
                    "created": record.created,
                }
                for key, value in record.metrics.items():
                    # scalars go in as-is (float repr round-trips); anything else as JSON
                    scalar = value is None or isinstance(value, (str, int, float))
                    row[metric_columns[key]] = value if scalar else dumps(value)
                row["config"] = dumps(record.config)
                writer.writerow(row)

        if hasattr(path_or_file, "write"):
            write(path_or_file)  # type: ignore[arg-type]
        else:
            with open(path_or_file, "w", newline="", encoding="utf-8") as handle:
                write(handle)
        return len(records)
