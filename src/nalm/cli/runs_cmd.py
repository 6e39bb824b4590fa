"""``nalm runs list|delete EXPERIMENT``: an experiment's stored runs, one line each, and deleting
them (the stale runs of a unit's earlier versions, a model or target no longer wanted)."""
from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from .common import add_experiment_argument, add_results_option, add_targets_option, open_store

HEADINGS = {"run_id": "run", "unit_version": "unit version", "stored": "stored (UTC)"}
"""Printed headings of the columns of :func:`nalm.report.selection.run_rows` not shown by their names."""


def add_parser(sub) -> None:
    p = sub.add_parser("runs", help="list or delete an experiment's stored runs",
                       description="List an experiment's stored runs, or delete some: the stale runs of a unit's "
                                   "earlier versions, a model or target no longer wanted.",
                       epilog="examples:\n  nalm runs list madsen2020-static --stale\n"
                              "  nalm runs delete madsen2020-static --stale --yes")
    actions = p.add_subparsers(dest="action", required=True, metavar="{list,delete}")
    listing = actions.add_parser("list", help="one line per stored run: id, model, target, seed, steps, success, "
                                              "unit version, when stored",
                                 description="One line per stored run of an experiment: run id, model, target, "
                                             "seed, steps, success, unit version, when stored.",
                                 epilog="examples:\n  nalm runs list blog-static --units nac --targets sub\n"
                                        "  nalm runs list madsen2020-static --stale")
    deleting = actions.add_parser("delete", help="delete stored runs: those the filters select (it lists them and "
                                                 "asks first, unless --yes)",
                                  description="Delete the stored runs the filters select, in one transaction: it "
                                              "lists them and asks first, unless --yes.",
                                  epilog="examples:\n  nalm runs delete madsen2020-static --stale\n"
                                         "  nalm runs delete blog-static --units nalu --yes")
    for q in (listing, deleting):
        add_experiment_argument(q)
        q.add_argument("--units", "--models", nargs="+", dest="models", metavar="MODEL",
                       help="only these models, named as on `nalm run`, or MODEL@VERSION for one version of a unit "
                            "from outside nalm")
        add_targets_option(q, "only these targets")
        q.add_argument("--seeds", nargs="+", type=int, metavar="SEED",
                       help="only these seeds, e.g. 0 1 2 (seed numbers, not a count as on `nalm run`)")
        q.add_argument("--stale", action="store_true",
                       help="only the stale runs: of a unit from outside nalm of another version than its current "
                            "one (the one the latest `nalm run` ran)")
        add_results_option(q)
    deleting.add_argument("--yes", action="store_true",
                          help="delete without asking (needed where the input is not a terminal)")


def main(args) -> int:
    from ..report.selection import current_versions, is_stale, matches, run_rows

    with open_store(args.results, args.experiment) as store:
        runs, pinned = store.runs(args.experiment), store.pinned_versions(args.experiment)
    if not runs:
        from ..experiments import get_experiment

        get_experiment(args.experiment)  # an unknown name is refused, listing the experiments
        raise ValueError(f"the store {args.results} holds no runs of {args.experiment}")
    current = current_versions(runs, pinned)
    chosen = [run for run in runs if matches(run, args.models, args.targets, args.seeds)
              and (not args.stale or is_stale(run, current))]
    if not chosen:
        print(f"no stored run of {args.experiment} matches (stored: {', '.join(sorted({r.model for r in runs}))}; "
              f"targets {', '.join(sorted({r.target for r in runs}))}; {len(runs)} runs)")
        return 0
    rows = run_rows(chosen, current)
    print(text_table(rows))
    stale = sum(row["stale"] for row in rows)
    print(f"{len(rows)} of {len(runs)} stored runs of {args.experiment}"
          + (f"; {stale} stale (`nalm runs delete {args.experiment} --stale` deletes them)" if stale and
             args.action == "list" else ""))
    if args.action == "list":
        return 0
    with writable(args.results) as store:  # a read-only store is refused before the question
        if not args.yes and not confirmed(f"Delete these {len(rows)} runs from {args.results}? [y/N] "):
            print("nothing deleted")
            return 1
        deleted = store.delete(row["run_id"] for row in rows)
    gone = f"; {len(rows) - deleted} had been deleted or replaced meanwhile" if deleted < len(rows) else ""
    print(f"deleted {deleted} runs of {args.experiment} from {args.results}{gone}")
    return 0


def writable(path: str):
    """The store at ``path`` opened for writing; a one-line :class:`~nalm.results.StoreWriteError`
    where it cannot be written: a read-only file, or a read-only folder, where SQLite cannot
    write the log it keeps beside the store."""
    from ..results import ResultsStore, StoreWriteError

    if not (os.access(path, os.W_OK) and os.access(Path(path).resolve().parent, os.W_OK)):
        raise StoreWriteError(f"{path}: the store or its folder is read-only, so no run can be deleted from it; "
                              "nothing was deleted")
    try:
        return ResultsStore(path)
    except sqlite3.OperationalError as error:
        raise StoreWriteError(f"{path}: cannot write ({error}); nothing was deleted") from None


def confirmed(question: str) -> bool:
    """Whether the user answers yes on the terminal; a ValueError where there is none to ask on."""
    if not sys.stdin.isatty():
        raise ValueError("nalm runs delete asks before deleting, and the input is not a terminal: add --yes to "
                         "delete without asking")
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def text_table(rows: list[dict]) -> str:
    """The rows as aligned columns (their keys' order, :data:`HEADINGS`), numbers to the right."""
    keys = list(rows[0])
    cells = [[shown(key, row[key]) for key in keys] for row in rows]
    headings = [HEADINGS.get(key, key) for key in keys]
    widths = [max(len(heading), *(len(line[i]) for line in cells)) for i, heading in enumerate(headings)]
    right = {"run_id", "seed", "steps"}

    def line(values) -> str:
        return "  ".join(v.rjust(w) if key in right else v.ljust(w) for key, v, w in zip(keys, values, widths)).rstrip()

    return "\n".join([line(headings), *map(line, cells)])


def shown(key: str, value) -> str:
    if key == "stored":
        return value.replace("T", " ").removesuffix("+00:00") if value else "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "–" if value is None else str(value)
