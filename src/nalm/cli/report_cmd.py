"""``nalm report EXPERIMENT``: Markdown and CSV from the results store, no training."""
from __future__ import annotations

import csv
from pathlib import Path

from ..experiments import get_experiment
from ..report import render, summarize
from ..results import ResultsStore
from .common import add_results_option, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="tables (Markdown, CSV) of an experiment's stored runs")
    p.add_argument("experiment")
    add_results_option(p)


def write_report(experiment, store: ResultsStore, results: str, models=None, targets=None) -> tuple[str, list[Path]]:
    """Render the report of the stored runs (optionally only some models/targets) and write it."""
    runs = [r for r in store.runs(experiment.name)
            if (models is None or r.model in models) and (targets is None or r.target in targets)]
    cells = summarize(runs)
    folder = report_dir(results, experiment.name)
    figures = sorted(folder.glob(f"{experiment.name}-*.png"))
    text = render(experiment, cells)
    if figures:  # drawn by `nalm plot` (or `nalm run`); linked relative to report.md
        text += "\n## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n" for p in figures)
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


def main(args) -> int:
    experiment = get_experiment(args.experiment)
    if not Path(args.results).exists():
        raise ValueError(f"no results store at {args.results}: run `nalm run {experiment.name}` first")
    with ResultsStore(args.results) as store:
        text, paths = write_report(experiment, store, args.results)
    print(text)
    print("Report written to " + ", ".join(map(str, paths)))
    return 0
