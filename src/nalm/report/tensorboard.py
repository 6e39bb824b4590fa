"""Stored runs as TensorBoard logs: ``nalm export EXPERIMENT --tensorboard DIR`` and
:meth:`nalm.api.Results.to_tensorboard` (``pip install 'nalm[tensorboard]'``).

Each run is one TensorBoard run, a folder ``MODEL/TARGET/seedK-runID`` under DIR (a model of two
units is two folders, ``nau/nmu``; characters other than letters, digits and ``._+=@-`` become
``_``). Where the exported runs differ in their task, iterations or learning rate, a folder for
the setting comes before the seed, e.g. ``nac/add/iterations20_lr0.01/seed0-run3`` (a task named
by the first 8 hex digits of its stored config's SHA-256), so that a regular expression in
TensorBoard's run filter picks a model, target or setting.

A run's folder holds one event file, with:

* scalars ``curves/METRIC``: each of its learning curves (``interpolation`` and
  ``extrapolation`` MSE for the arithmetic tasks; ``valid_mae``, ... for the data sets) at the
  steps it was evaluated;
* scalars ``final/METRIC``: each stored metric that is a number (a flag as 0 or 1), at its last step;
* its hyperparameters for the HParams tab: run_id, model, target, seed, lr, iterations,
  optimizer, batch_size, task (its stored config as JSON) and, of a unit from outside nalm,
  unit_version (:func:`~nalm.report.selection.version_label`).

DIR's own event file tells the HParams tab its columns: those hyperparameters and the final metrics.

TensorBoard stores a scalar as a 32-bit float: a value beyond its range (about 3.4e38) reads
back as infinity. The logs are written deterministically: one file per folder, named
``events.out.tfevents.nalm``, every event dated when its run was stored; exporting again
rewrites the same files and leaves anything else in DIR as it is.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import numbers
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from ..errors import Fault
from ..results import RunRecord
from .selection import version_label

EXTRA = "pip install 'nalm[tensorboard]'"
EVENTS = "events.out.tfevents.nalm"  # TensorBoard reads any file whose name holds "tfevents"
HPARAMS = ("run_id", "model", "target", "seed", "lr", "iterations", "optimizer", "batch_size", "task", "unit_version")
"""The hyperparameters written of each run (those it has), in the HParams tab's order."""
UNSAFE = re.compile(r"[^A-Za-z0-9._+=@-]")


@dataclass(frozen=True)
class Export:
    """What an export wrote: ``runs`` run folders holding ``scalars`` points in all, under ``folder``."""

    runs: int
    scalars: int
    folder: Path

    def __str__(self) -> str:
        return (f"Wrote {self.runs} run{'s' * (self.runs != 1)} ({self.scalars} scalars, with hyperparameters) to "
                f"{self.folder}: view them with `tensorboard --logdir {self.folder}`")


def tensorboard_modules() -> SimpleNamespace:
    """What is used of TensorBoard (its event and summary protos, the hparams plugin's API and
    data, its record writer), or a ValueError naming the extra."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.hparams import plugin_data_pb2, summary_v2
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError:
        raise ValueError(f"exporting to TensorBoard needs TensorBoard, an optional extra: {EXTRA}") from None
    return SimpleNamespace(Event=event_pb2.Event, Summary=summary_pb2.Summary, hparams=summary_v2,
                           HParamsPluginData=plugin_data_pb2.HParamsPluginData, RecordWriter=RecordWriter)


def export_tensorboard(runs: list[RunRecord], folder: str | Path) -> Export:
    """Write ``runs`` (as selected for a report: :func:`~nalm.report.selection.select`) as
    TensorBoard logs under ``folder``, made if missing; see the module's docstring for the layout."""
    modules = tensorboard_modules()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"the TensorBoard folder {folder} is a file: name a folder")
    if not runs:
        raise ValueError("no runs to export")
    names = run_names(runs)
    written = {folder / names[run.run_id] / EVENTS: run_events(run, names[run.run_id], modules) for run in runs}
    metrics = sorted({tag for run in runs for tag in final_metrics(run)})
    written[folder / EVENTS] = [modules.Event(wall_time=max(map(stored_time, runs)), summary=experiment_summary(
        runs, metrics, modules))]
    for path, events in written.items():
        write_events(path, events, modules)
    scalars = sum(value.HasField("simple_value") for events in written.values() for event in events
                  for value in event.summary.value)
    return Export(len(runs), scalars, folder)


def run_names(runs: list[RunRecord]) -> dict[int, str]:
    """Each run's folder, by run id (see the module's docstring)."""
    parts = {run.run_id: setting_parts(run) for run in runs}
    varying = [i for i in range(3) if len({part[i] for part in parts.values()}) > 1]
    names = {}
    for run in runs:
        setting = "_".join(parts[run.run_id][i] for i in varying)
        path = [*run.model.split("/"), run.target, *([setting] if setting else []), f"seed{run.seed}-run{run.run_id}"]
        names[run.run_id] = "/".join(UNSAFE.sub("_", part) for part in path)
    return names


def setting_parts(run: RunRecord) -> tuple[str, str, str]:
    """What may tell runs of one model, target and seed apart: their task, iterations and learning rate."""
    train = run.config.get("train", {})
    task = hashlib.sha256(json.dumps(run.config.get("task", {}), sort_keys=True).encode()).hexdigest()[:8]
    return f"task-{task}", f"iterations{train.get('iterations')}", f"lr{train.get('lr')}"


def hyperparameters(run: RunRecord) -> dict:
    """The run's :data:`HPARAMS` that it has, as TensorBoard holds them (text, numbers, flags)."""
    train = run.config.get("train", {})
    values = {"run_id": run.run_id, "model": run.model, "target": run.target, "seed": run.seed,
              "lr": train.get("lr"), "iterations": train.get("iterations"), "optimizer": train.get("optimizer"),
              "batch_size": train.get("batch_size"), "unit_version": version_label(run.config),
              "task": json.dumps(run.config["task"], sort_keys=True) if "task" in run.config else None}
    return {name: values[name] for name in HPARAMS if values[name] is not None}


def final_metrics(run: RunRecord) -> dict[str, float]:
    """The run's stored metrics that are numbers (a flag as 0 or 1), as ``final/METRIC`` tags."""
    return {f"final/{name}": float(value) for name, value in sorted(run.metrics.items())
            if isinstance(value, numbers.Real)}


def last_step(run: RunRecord) -> int:
    steps = run.curve.get("step") or [run.config.get("train", {}).get("iterations") or 0]
    return int(steps[-1])


def stored_time(run: RunRecord) -> float:
    """When the run was stored, in seconds since 1970 (0 where unknown): every event's date."""
    return datetime.datetime.fromisoformat(run.created).timestamp() if run.created else 0.0


def run_events(run: RunRecord, name: str, modules) -> list:
    """The run's events: its hyperparameters, then its scalars step by step."""
    time = stored_time(run)
    points: dict[int, list] = {}
    steps = run.curve.get("step", [])
    for metric, values in run.curve.items():
        if metric == "step":
            continue
        for step, value in zip(steps, values):
            if value is not None:
                points.setdefault(int(step), []).append((f"curves/{metric}", value))
    points.setdefault(last_step(run), []).extend(final_metrics(run).items())
    hparams = in_order(modules.hparams.hparams_pb(hyperparameters(run), trial_id=name, start_time_secs=time), modules)
    events = [modules.Event(wall_time=time, summary=hparams)]
    for step in sorted(points):
        values = [modules.Summary.Value(tag=tag, simple_value=value) for tag, value in points[step]]
        events.append(modules.Event(wall_time=time, step=step, summary=modules.Summary(value=values)))
    return events


def in_order(summary, modules):
    """An hparams summary whose plugin data (a serialized map, in any order) is serialized in order."""
    for value in summary.value:
        data = modules.HParamsPluginData.FromString(value.metadata.plugin_data.content)
        value.metadata.plugin_data.content = data.SerializeToString(deterministic=True)
    return summary


def experiment_summary(runs: list[RunRecord], metrics: list[str], modules):
    """The HParams tab's columns: each hyperparameter (with its values, where all are of one
    kind) and each final metric."""
    summary_v2 = modules.hparams
    values: dict[str, set] = {}
    for run in runs:
        for name, value in hyperparameters(run).items():
            values.setdefault(name, set()).add(value)
    hparams = []
    for name in HPARAMS:
        if name not in values:
            continue
        kinds = {bool if isinstance(v, bool) else str if isinstance(v, str) else float for v in values[name]}
        domain = summary_v2.Discrete(sorted(map(kinds.pop(), values[name]))) if len(kinds) == 1 else None
        hparams.append(summary_v2.HParam(name, domain))
    config = summary_v2.hparams_config_pb(hparams, [summary_v2.Metric(tag) for tag in metrics],
                                          time_created_secs=max(map(stored_time, runs)))
    return in_order(config, modules)


def write_events(path: Path, events: list, modules) -> None:
    """``events`` as the event file ``path``, in TensorBoard's record format, after the event that
    names the format; made whole, then written."""
    buffer = io.BytesIO()
    writer = modules.RecordWriter(buffer)
    first = modules.Event(wall_time=events[0].wall_time, file_version="brain.Event:2")
    for event in [first, *events]:
        writer.write(event.SerializeToString(deterministic=True))  # maps (the hparams) in order
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue())
    except OSError as error:
        raise Fault(f"cannot write {path}: {error.strerror or error}") from None
