"""What a results store holds, and how it is written: a run's record, key and checkpoint, their
encoding, the checksum that tells a damaged row, and the store's errors. The store itself is
:mod:`nalm.results.store`.

Everything except the weights is stored as JSON text. Weights are stored as JSON too,
``{name: {"shape": [...], "data": [flat values]}}``: Python writes floats with ``repr``, which
round-trips float64 exactly. NaN and infinities are written as the non-standard
``NaN``/``Infinity`` tokens that :mod:`json` reads back.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import numbers
import sqlite3
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..errors import Fault, NalmWarning

CONTENT = ("experiment", "model", "target", "seed", "config_hash", "config", "environment", "metrics", "curve",
            "weights", "diverged", "created")
"""The columns a run's checksum covers: all but its id and the checksum."""

class StoreError(ValueError):
    """The file is not a results store this version of nalm can open."""


class StoreWriteError(Fault):
    """SQLite could not write to the store (a full disk, an I/O error, a lock held too long)."""


class StoreDamaged(Fault):
    """SQLite cannot read the store's pages: the file is damaged."""


class DamagedRunWarning(NalmWarning):
    """A run's row does not parse or match its checksum: it is left out."""


def damaged_store(path: Path, error: sqlite3.DatabaseError) -> StoreDamaged:
    return StoreDamaged(f"{path}: the store is damaged ({error}): its runs cannot all be read; `sqlite3 {path} "
                        "'.recover'` may rescue what is left")


def checksum(values: Iterable) -> str:
    """SHA-256 of a row's content: each value of :data:`CONTENT` as stored, in order."""
    digest = hashlib.sha256()
    for value in values:
        digest.update(str(value).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    # numpy scalars/arrays turn up in metrics and configs all the time; convert
    # them so that np.float64(0.5) and 0.5 also hash to the same config.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"object of type {type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    # sort_keys + compact separators make the text canonical, which the config
    # hash relies on; allow_nan is the default but we depend on it for metrics.
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), allow_nan=True, default=_json_default
    )


def config_hash(config: dict) -> str:
    """First 16 hex chars of the sha256 of the canonical JSON of ``config``."""
    return hashlib.sha256(dumps(config).encode("utf-8")).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class RunKey:
    """Identity of a member run; two records with the same key are the same run."""

    experiment: str
    model: str
    target: str
    seed: int
    config_hash: str


@dataclasses.dataclass
class RunRecord:
    """Everything recorded about one member run.

    ``weights`` may hold nested lists or numpy arrays on the way in; records
    read from a store always hold float64 numpy arrays.  ``created`` and
    ``run_id`` are filled in by :meth:`ResultsStore.put` once the write has
    committed.
    """

    experiment: str
    model: str
    target: str
    seed: int
    config: dict
    environment: dict
    metrics: dict
    curve: dict
    weights: dict
    diverged: bool = False
    created: str = ""
    run_id: int | None = None

    @property
    def key(self) -> RunKey:
        return RunKey(self.experiment, self.model, self.target, self.seed, config_hash(self.config))


@dataclasses.dataclass
class Checkpoint:
    """The saved state of a population in training: ``population`` identifies its member runs,
    ``state`` is the training loop's checkpoint as bytes (see :func:`nalm.train.train`)."""

    population: str
    experiment: str
    model: str
    runs: int  # how many member runs the population trains
    step: int
    state: bytes
    created: str | None = None
    members: tuple[str, ...] | None = None  # the config hashes of its runs (None: saved before they were kept)


def checkpoint_from_row(row: sqlite3.Row) -> Checkpoint:
    values = {k: row[k] for k in row.keys()}
    members = values.pop("members", None)
    state = values.pop("state")
    return Checkpoint(**values, state=state if isinstance(state, bytes) else b"",
                      members=None if members is None else tuple(json.loads(members)))


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def validate(record: RunRecord) -> None:
    for name in ("experiment", "model", "target"):
        value = getattr(record, name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    seed = record.seed
    # bool is an Integral too, but seed=True is surely a mistake
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    for name in ("config", "environment", "metrics", "curve", "weights"):
        value = getattr(record, name)
        if not isinstance(value, dict):
            raise ValueError(f"{name} must be a dict, got {type(value).__name__}")


def _encode_weights(weights: dict) -> str:
    encoded = {}
    for name, value in weights.items():
        if hasattr(value, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
            value = value.detach().cpu()
        array = np.asarray(value, dtype=np.float64)
        encoded[str(name)] = {"shape": list(array.shape), "data": array.ravel().tolist()}
    return dumps(encoded)


def _decode_weights(text: str) -> dict[str, np.ndarray]:
    return {
        name: np.array(entry["data"], dtype=np.float64).reshape(entry["shape"])
        for name, entry in json.loads(text).items()
    }


def encode_field(record: RunRecord, name: str) -> str:
    try:
        if name == "weights":
            return _encode_weights(record.weights)
        return dumps(getattr(record, name))
    except (TypeError, ValueError) as exc:
        label = f"{record.experiment}/{record.model}/{record.target}/seed={record.seed}"
        raise ValueError(f"run {label}: {name} cannot be stored as JSON: {exc}") from exc


class DamagedRow(Exception):
    """A row that does not parse or match its checksum; the message says which."""


def record_from_row(row: sqlite3.Row) -> RunRecord:
    """The record of ``row``; :class:`DamagedRow` where the row is."""
    verify_row(row)
    try:
        return _decode(row)
    except (ValueError, TypeError, KeyError) as error:
        raise DamagedRow(f"it does not parse: {error}") from None


def verify_row(row: sqlite3.Row) -> None:
    """Raise :class:`DamagedRow` unless ``row`` matches its checksum, or (a row written before rows
    carried one) its JSON fields parse."""
    stored = row["checksum"] if "checksum" in row.keys() else None
    if stored is not None:
        if stored != checksum(row[name] for name in CONTENT):
            raise DamagedRow("its content does not match its checksum")
        return
    try:
        for name in ("config", "environment", "metrics", "curve", "weights"):
            json.loads(row[name])
    except ValueError as error:
        raise DamagedRow(f"it does not parse: {error}") from None


def _decode(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        experiment=row["experiment"],
        model=row["model"],
        target=row["target"],
        seed=row["seed"],
        config=json.loads(row["config"]),
        environment=json.loads(row["environment"]),
        metrics=json.loads(row["metrics"]),
        curve=json.loads(row["curve"]),
        weights=_decode_weights(row["weights"]),
        diverged=bool(row["diverged"]),
        created=row["created"],
        run_id=row["run_id"],
    )


def unit_versions(config: dict) -> dict[str, str | None]:
    """The SHA-256 of each unit from outside nalm a run is made of, by unit name (none for
    nalm's own units)."""
    return {name: record.get("source_sha256") for name, record in config.get("custom_units", {}).items()}


def pinned_versions(configs: Iterable[dict]) -> dict[str, str | None]:
    """The versions of the units in stored configs about to be trained (a plan's): the current ones,
    by unit name."""
    pinned: dict[str, str | None] = {}
    for config in configs:
        pinned.update(unit_versions(config))
    return pinned
