"""``nalm run EXPERIMENT``: train what the store lacks, then print the report."""
from __future__ import annotations

import json

from ..experiments import get_experiment
from ..experiments.runner import execute, prepare
from ..results import ResultsStore
from ..report import one_table, write_report
from .common import add_results_option, report_dir


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train an experiment (resumes: stored runs are skipped)")
    p.add_argument("experiment")
    p.add_argument("--units", "--models", nargs="+", dest="models", metavar="MODEL",
                   help="models: a unit name (nalu), two joined by a slash (nau/nmu), mlp-<activation>, "
                        "or for recurrent experiments lstm, gru, rnn-tanh, rnn-relu")
    p.add_argument("--targets", nargs="+", metavar="TARGET", help="add sub mul div square sqrt")
    p.add_argument("--seeds", type=int, help="number of seeds (0..N-1)")
    p.add_argument("--iterations", type=int)
    p.add_argument("--paper-scale", action="store_true",
                   help="the published protocol's iterations and seeds (and tasks, where they differ)")
    p.add_argument("--device", help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, help="CPU threads for PyTorch (default 1)")
    p.add_argument("--interpolation", metavar="RANGE", help="training range, e.g. '[1,2]' (one-task experiments)")
    p.add_argument("--extrapolation", metavar="RANGE", help="test range, e.g. '[-6,-2]U[2,6]'")
    p.add_argument("--config", metavar="JSON", help="training config overrides, e.g. '{\"lr\": 0.01}'")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    add_results_option(p)


def overrides(args) -> dict:
    """Training overrides from the command line; unknown keys are rejected later by TrainConfig."""
    out = {}
    if args.config:
        try:
            extra = json.loads(args.config)
        except json.JSONDecodeError as error:
            raise ValueError(f"--config is not valid JSON: {error}") from None
        if not isinstance(extra, dict):
            raise ValueError("--config must be a JSON object")
        out.update(extra)
    for key in ("iterations", "device", "threads"):
        if getattr(args, key) is not None:
            out[key] = getattr(args, key)
    return out


def main(args) -> int:
    experiment = get_experiment(args.experiment)
    if args.paper_scale:
        experiment = experiment.at_paper_scale()
    experiment = experiment.with_ranges(args.interpolation, args.extrapolation)
    plan = prepare(experiment, models=args.models, targets=args.targets, seeds=args.seeds, overrides=overrides(args))
    with ResultsStore(args.results) as store:
        if not args.quiet:  # the report would refuse the stored runs beside the new ones: say so before training
            one_table([run.config for run in store.runs(experiment.name)] + [run.stored for run in plan.runs])
        summary = execute(plan, store, progress=not args.quiet)
        print(f"{experiment.name}: trained {summary.trained} runs, skipped {summary.skipped} already stored, "
              f"{summary.diverged} diverged; results in {args.results}")
        if not args.quiet:
            text, paths = write_report(experiment, store, report_dir(args.results, experiment.name),
                                       models=plan.models, targets=plan.targets, figures=True)
            print(text)
            print("Report written to " + ", ".join(map(str, paths)))
    return 0
