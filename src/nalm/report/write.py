"""An experiment's report on disk: ``report.md``, ``summary.csv`` and ``runs.csv``, beside its figures."""
from __future__ import annotations

import csv
from pathlib import Path

from ..results import ResultsStore
from .markdown import render
from .summary import summarize


def write_report(experiment, store: ResultsStore, folder: Path, *, models=None, targets=None,
                 figures: bool = False) -> tuple[str, list[Path]]:
    """Summarize the stored runs of ``experiment`` (only those of ``models`` and ``targets`` when
    given) once, draw their figures when ``figures``, and write the report into ``folder``;
    returns the Markdown and the paths written. The report links every figure in the folder."""
    from . import plot_experiment

    from ..experiments.dataset_spec import DatasetExperiment

    runs = [r for r in store.runs(experiment.name)
            if (models is None or r.model in models) and (targets is None or r.target in targets)]
    dataset = isinstance(experiment, DatasetExperiment)
    cells = experiment.summarize(runs) if dataset else summarize(runs)
    folder = Path(folder)
    if figures and runs:
        plot_experiment(experiment, runs, folder, cells=cells)
    text = render_dataset(experiment, cells) if dataset else render(experiment, cells)
    drawn = sorted(folder.glob(f"{experiment.name}-*.png"))
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
    return text, paths


def render_dataset(experiment, cells: list) -> str:
    """A data-set experiment's report: its title, its own tables and its deviations."""
    deviations = "".join(f"- **{d.setting}**: {d.ours}. Source: {d.reference}. Why: {d.reason}.\n"
                         for d in experiment.all_deviations())
    return (f"# {experiment.name}\n\n{experiment.description}\n\n{experiment.render(cells)}\n"
            f"## Deviations from the source\n\n{deviations}")
