"""Which stored runs a report shows, and the rows that list runs.

A report shows the models and targets asked for (``--units``, ``--targets``) and, of each unit
from outside nalm, one version of its source: the *current* one. The runs of other versions are
*stale*: left out, and listed under the report's tables (:func:`stale_section`), so that a
researcher who edits a unit and reruns sees the new version, and is told what became of the old.
On request (``--versions all``) every version is shown instead, each its own model named
``MODEL@VERSION``, side by side.

A run's version is the SHA-256 of each of its units' source that its config records
(``custom_units``, :func:`nalm.units.custom.source_record`), written as the first 8 hex digits
(joined by ``+`` for a model of two units from outside nalm). A unit's current version is the
one the latest ``nalm run`` or :func:`nalm.run` of the experiment ran, the file as it was then,
which they record in the store (:meth:`~nalm.results.ResultsStore.pin_versions`) even where they
train nothing (a unit edited and put back); in a store without that record, the one of its
newest stored run (the highest run id: ids grow as runs are stored). A report never imports a unit to hash its file: a store from elsewhere must not make
nalm run code (:func:`nalm.units.custom.importing_only`).

:func:`run_rows` are the rows of ``nalm runs list`` and :meth:`nalm.api.Results.runs`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterable

from ..errors import warn
from ..results import RunRecord
from ..results.records import unit_versions

VERSIONS = ("current", "all")
"""What a report shows of a unit from outside nalm: its current version, or every version."""
SHORT = 8  # hex digits of a source's SHA-256 that name its version
UNREADABLE = "unread"  # the version of a unit whose source could not be read when it ran

RUN_COLUMNS = ("run_id", "model", "target", "seed", "steps", "success", "unit_version", "stale", "stored")
"""The columns of :func:`run_rows`."""


def short(digest: str | None) -> str:
    return UNREADABLE if digest is None else digest[:SHORT]


def version_label(config: dict) -> str | None:
    """A run's version as reports write it (``1a2b3c4d``, ``1a2b3c4d+5e6f7a8b``); ``None`` for a
    model of nalm's own units."""
    versions = unit_versions(config)
    return "+".join(short(versions[name]) for name in sorted(versions)) if versions else None


def versioned_name(run: RunRecord) -> str:
    """The run's model named by its version (``mymod:MyUnit@1a2b3c4d``); the model itself for nalm's units."""
    label = version_label(run.config)
    return run.model if label is None else f"{run.model}@{label}"


def current_versions(runs: Iterable[RunRecord], pinned: dict | None = None) -> dict[str, str | None]:
    """Each unit's current version: the one ``pinned`` (the store's record of the latest run),
    else that of its newest stored run."""
    newest: dict[str, str | None] = {}
    for run in sorted(runs, key=lambda r: r.run_id or 0):  # stable: unstored runs keep their order
        newest.update(unit_versions(run.config))
    return {**newest, **(pinned or {})}


def is_stale(run: RunRecord, current: dict) -> bool:
    """Whether one of the run's units is of another version than the current one."""
    return any(current.get(name, digest) != digest for name, digest in unit_versions(run.config).items())


def matches(run: RunRecord, models=None, targets=None, seeds=None) -> bool:
    """Whether a run passes the filters (``None``: any). A model is named as stored
    (``mymod:MyUnit``), or with a version (``mymod:MyUnit@1a2b3c4d``) for that version only."""
    return ((models is None or run.model in models or versioned_name(run) in models)
            and (targets is None or run.target in targets) and (seeds is None or run.seed in seeds))


@dataclass
class Selection:
    """The runs a report shows (named by version where asked), and those it leaves out as stale."""

    runs: list[RunRecord]
    stale: list[RunRecord] = field(default_factory=list)
    current: dict = field(default_factory=dict)  # unit name -> its current version's SHA-256
    versions: str = "current"


def select_stored(store, experiment: str, **filters) -> Selection:
    """:func:`select` of ``experiment``'s runs in ``store``, its units' current versions as the
    store records them (:meth:`~nalm.results.ResultsStore.pinned_versions`): what every reader shows."""
    return select(store.runs(experiment), pinned=store.pinned_versions(experiment), **filters)


def select(runs: list[RunRecord], *, models=None, targets=None, versions: str = "current",
           pinned: dict | None = None) -> Selection:
    """The runs of ``models`` and ``targets`` (``None``: all) that a report shows.

    ``versions="current"`` keeps of each unit from outside nalm its current version
    (:func:`current_versions`, ``pinned`` first) and leaves the other runs out as stale;
    ``"all"`` keeps every run, each of a unit from outside nalm renamed ``MODEL@VERSION``. A
    model named with a version in ``models`` is shown under that name, stale or not.
    """
    if versions not in VERSIONS:
        raise ValueError(f"versions must be one of {', '.join(VERSIONS)}, got {versions!r}")
    runs = list(runs)
    current = current_versions(runs, pinned)
    shown, stale = [], []
    for run in runs:
        if not matches(run, models, targets):
            continue
        name = versioned_name(run)
        if name != run.model and (versions == "all" or (models is not None and name in models)):
            shown.append(dataclasses.replace(run, model=name))
        elif is_stale(run, current):
            stale.append(run)
        else:
            shown.append(run)
    return Selection(shown, stale, current, versions)


def current_label(model: str, current: dict) -> str:
    """The current version of a model's units from outside nalm, as :func:`version_label` writes it."""
    names = sorted(name for name in current if name in model.split("/"))
    return "+".join(short(current[name]) for name in names)


def stale_section(experiment: str, selection: Selection, shown_in: str = "the tables above") -> list[str]:
    """Markdown under a report's tables: the runs left out as stale (how many, of which versions,
    how to include or delete them), or, showing every version, how the models are named."""
    if selection.versions == "all":
        versions: dict[str, list[RunRecord]] = {}
        for run in selection.runs:
            if "@" in run.model:
                versions.setdefault(run.model, []).append(run)
        if not versions:
            return []
        oldest_first = sorted(versions.items(), key=lambda item: item[1][0].run_id or 0)
        rows = [f"| {model} | {'no' if is_stale(group[0], selection.current) else 'yes'} | {len(group)} | "
                f"{stored_span(group)} |" for model, group in oldest_first]
        return ["## Versions of units from outside nalm", "",
                f"Each version of a unit from outside nalm is its own model, MODEL@VERSION (the first {SHORT} hex "
                "digits of the SHA-256 of its source), oldest first:", "",
                "| model | current | runs | stored |", "|---|---|---|---|", *rows, ""]
    if not selection.stale:
        return []
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in selection.stale:
        groups.setdefault((run.model, version_label(run.config)), []).append(run)
    rows = [f"| {model} | {label} | {len(group)} | {stored_span(group)} | "
            f"{current_label(model, selection.current)} |" for (model, label), group in sorted(groups.items())]
    count = len(selection.stale)
    return ["## Stale runs", "",
            f"Left out of {shown_in}: {count} run{'s' * (count != 1)} of a unit from outside nalm of another version "
            "than its current one, the one the latest `nalm run` ran.", "",
            "| model | version | runs | stored | current version |", "|---|---|---|---|---|", *rows, "",
            f"Compare the versions side by side: `nalm report {experiment} --versions all` (likewise `nalm plot`). "
            f"List the stale runs: `nalm runs list {experiment} --stale`; delete them: "
            f"`nalm runs delete {experiment} --stale`.", ""]


def stored_span(runs: list[RunRecord]) -> str:
    """When the runs were stored: a date and time, or the first and last (UTC, to the minute)."""
    times = sorted(run.created[:16].replace("T", " ") for run in runs if run.created)
    if not times:
        return "–"
    return times[0] if times[0] == times[-1] else f"{times[0]} to {times[-1]}"


def run_rows(runs: Iterable[RunRecord], current: dict) -> list[dict]:
    """One row per run (:data:`RUN_COLUMNS`), in the order they were stored (by id): its id,
    model, target, seed, training steps, success (``None`` where the run's metrics have none), its
    units' version (:func:`version_label`), whether that is stale, and when it was stored (UTC,
    ISO 8601)."""
    return [{"run_id": run.run_id, "model": run.model, "target": run.target, "seed": run.seed,
             "steps": run.config.get("train", {}).get("iterations"), "success": run.metrics.get("success"),
             "unit_version": version_label(run.config), "stale": is_stale(run, current), "stored": run.created}
            for run in sorted(runs, key=lambda r: r.run_id or 0)]


def built_model(run: RunRecord) -> str:
    """The model a run's network is built as: its name without the version a report gave it."""
    return run.model.partition("@")[0]


def rebuildable(runs: list[RunRecord], figure: str) -> list[RunRecord]:
    """The runs whose networks the units importable now can rebuild: each unit from outside nalm
    of the version the run was trained with. The others are left out of ``figure``, with a
    warning (a network rebuilt by another version of its unit's code is not the one trained)."""
    from ..units.custom import changed_units  # imports the units, as drawing from weights must

    kept, left_out = [], {}
    for run in runs:
        changed = changed_units(run.config)
        if changed:
            left_out.setdefault(run.model, []).append(run)
        else:
            kept.append(run)
    if left_out:
        said = ", ".join(f"{len(group)} of {built_model(group[0])}@{version_label(group[0].config)}"
                         for group in left_out.values())
        warn(f"the {figure} figure leaves out runs whose unit's source has changed since they ran, which its "
             f"code now cannot rebuild: {said}")
    return kept
