"""An experiment's report on disk: ``report.md``, ``summary.csv`` and ``runs.csv``, beside its figures,
and on request ``report.html``, the same report as one self-contained page (:mod:`nalm.report.html`)."""
from __future__ import annotations

import csv
from pathlib import Path

from ..results import ResultsStore
from .selection import select_stored, stale_section


def write_report(experiment, store: ResultsStore, folder: Path, *, models=None, targets=None,
                 figures: bool = False, versions: str = "current", html: bool = False) -> tuple[str, list[Path]]:
    """Summarize the stored runs of ``experiment`` (only those of ``models`` and ``targets`` when
    given) once, draw their figures when ``figures``, and write the report into ``folder``;
    returns the Markdown and the paths written. The report links every figure in the folder.
    With ``html``, ``report.html`` too: the same report, its figures inlined, with the protocol
    card and the runs its tables name (:func:`nalm.report.html.write_html`).

    Of a unit from outside nalm the report shows its current version (the one the latest ``nalm
    run`` ran, as the store records it) and lists the stale runs under its tables, or every version side by side
    (``versions="all"``): :func:`nalm.report.selection.select`.

    ``experiment`` gives the tables and figures of its kind: ``summarize(runs)``, ``render(cells)``
    and ``plot(runs, folder, cells=...)`` (:class:`nalm.experiments.Experiment`)."""
    selection = select_stored(store, experiment.name, models=models, targets=targets, versions=versions)
    runs = selection.runs
    cells = experiment.summarize(runs)
    folder = Path(folder)
    if figures and runs:
        experiment.plot(runs, folder, cells=cells)
    text = experiment.render(cells)
    note = stale_section(experiment.name, selection)
    if note:
        text += "\n" + "\n".join(note)
    drawn = sorted(folder.glob(f"{experiment.name}-*.png")) if runs else []  # (none of a store holding no runs)
    if drawn:  # by `nalm plot` or `nalm run`; linked relative to report.md
        text += "\n## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n" for p in drawn)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.md", folder / "summary.csv", folder / "runs.csv"]
    paths[0].write_text(text)
    with paths[1].open("w", newline="") as handle:
        rows = [c.as_row() for c in cells]
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["model"])
        writer.writeheader()
        writer.writerows(rows)
    store.export_csv(paths[2], experiment=experiment.name)
    if html:
        from .html import write_html

        paths.append(write_html(experiment, text, runs, folder, figures=drawn))
    return text, paths
