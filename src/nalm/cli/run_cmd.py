"""``nalm run EXPERIMENT``: train what the store lacks, then print the report."""
from __future__ import annotations

import json
import math
import signal
import sys
import threading
from contextlib import contextmanager

from ..train.defaults import CHECKPOINT_EVERY
from .command import add_command_options, command, printed_config
from .common import STOP_SIGNALS, Interrupted, add_experiment_argument, add_report_dir_option, add_results_option, report_dir


EXAMPLES = """examples:
  nalm run blog-static                                      the whole table at the default scale
  nalm run madsen2020-static --units nau/nmu nmu --targets mul --seeds 10
  nalm run blog-static --units myunit:MyUnit nac            a unit of your own (PYTHONPATH=.)
  nalm run madsen2020-static --paper-scale --dry-run        what the published scale would take here
  nalm run blog-static --config my-run.toml --print-config  the configs a config file gives"""


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train an experiment (resumes: stored runs are skipped)",
                       description="Train what the results store lacks of an experiment, then print and write its "
                                   "report. Stored runs are skipped, so the same command resumes.", epilog=EXAMPLES)
    add_experiment_argument(p)
    add_command_options(p)
    p.add_argument("--device", help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for PyTorch (default 1)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes to train in, one thread each; a population's members are split between them "
                        "(default: one per available core, fewer for runs too short to gain from more)")
    p.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="train on a Ray cluster (default address: auto, the cluster this machine belongs to), "
                        "one task per sub-population (per population for data-set experiments); "
                        "needs pip install 'nalm[ray]'")
    p.add_argument("--checkpoint-every", type=float, default=CHECKPOINT_EVERY / 60, metavar="MINUTES",
                   help="save the population in training to the store this often; Ctrl-C saves it too, and the "
                        "same command resumes it")
    p.add_argument("--dry-run", action="store_true",
                   help="train nothing: print the populations, members and model-steps the command implies, and "
                        "the time they should take here, from a few seconds of measured training per population")
    p.add_argument("--print-config", action="store_true",
                   help="train nothing: print each model's training config as JSON (per target where they "
                        "differ), a file that --config reads back")
    p.add_argument("--data", metavar="PATH",
                   help="data-set experiments: the source's data (trask2018-mnist: a folder with MNIST's four IDX "
                        "files); without it, the bundled substitute")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    add_report_dir_option(p)
    add_results_option(p)


TRAINING_FLAGS = ("iterations", "device", "threads")
"""The flags of ``nalm run`` that are training settings of every model."""


@contextmanager
def stop_on_signals():
    """Yield the signals received so far, as a list: training stops at the end of its step once
    it is not empty (saving its checkpoints). Ctrl-C, SIGTERM and SIGHUP each ask for that
    (:data:`~nalm.cli.common.STOP_SIGNALS`); a second one interrupts at once."""
    received: list[int] = []

    def handler(signum, frame):
        if received:
            raise Interrupted(signum)
        received.append(signum)

    if threading.current_thread() is not threading.main_thread():  # only the main thread receives signals
        yield received
        return
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


def render_estimate(e) -> str:
    """The lines of ``--dry-run``: what the command implies (an :class:`~nalm.runner.estimate.Estimate`)."""
    count = len(e.populations)
    lines = [f"{e.experiment}: {count} population{'s' * (count != 1)}, {e.members:,} runs to train "
             f"({e.stored:,} stored already), {e.model_steps:.3g} model-steps"]
    for p in e.populations:
        rate = p.model_steps / p.seconds.likely if p.seconds.likely else math.inf
        lines.append(f"  {p.label}: {p.members:,} members × {p.iterations:,} steps, {p.evaluations:,} evaluations; "
                     f"{rate:,.0f} model-steps/s here ({p.kernel}), formulas included → {span(p.seconds)}")
    if e.baselines:
        lines.append(f"  untrained baselines: {span(e.baseline_seconds)}")
    lines.append(f"estimated: {span(e.core_seconds)} on one core"
                 + (f", {span(e.wall_seconds)} on {e.workers} workers if they scale perfectly (docs/performance.md: Workers)"
                    if e.workers > 1 else ""))
    if e.measured or e.cached:
        lines.append(calibration_line(e))
    lines.append("nothing was trained or stored")
    return "\n".join(lines)


def span(seconds) -> str:
    """``2 min 10 s (1 min 50 s to 2 min 40 s)``: a cost's likely value and its range, where it has one."""
    likely, low, high = (duration(s) for s in (seconds.likely, seconds.low, seconds.high))
    return likely if low == high else f"{likely} ({low} to {high})"


def calibration_line(e) -> str:
    """How sure the estimate (an :class:`~nalm.runner.estimate.Estimate`) is: what was measured now,
    what came from the cache, and when."""
    import time

    from ..runner.calibration import RECALIBRATE

    said = []
    if e.measured:
        said.append(f"{e.measured} cost shape{'s' * (e.measured != 1)} measured now in {e.calibration_seconds:.1f} s")
    if e.cached:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.cached_since))
        said.append(f"{e.cached} read from this machine's cache (measured {when}; {RECALIBRATE}=1 measures again)")
    ranged = "(" in span(e.core_seconds)  # a range is printed only where its ends differ
    return ("calibration: " + ", ".join(said)
            + ("; the range spans the spread of step times and how costs grow beyond the members sampled, not what "
               "samples miss" if ranged else "")
            + "; long runs of hundreds of members took 1.25-1.6 times their estimates (docs/experiments.md: Planning)")


def duration(seconds: float) -> str:
    """3 h 12 min, 5 min 3 s, 12 s, 4.2 s, 0.35 s."""
    if seconds < 9.95:
        return f"{seconds:.2f} s" if seconds < 0.995 else f"{seconds:.1f} s"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours:,} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def main(args) -> int:
    from ..results import ResultsStore
    from ..runner import RunInterrupted, cluster, estimate, execute, prepare
    from ..runner.plan import resolve

    cmd = command(args, TRAINING_FLAGS)
    experiment = cmd.experiment
    if args.print_config:  # resolved as prepare resolves it; nothing is built, trained or stored
        chosen = resolve(experiment, models=cmd.models, targets=cmd.targets, seeds=cmd.seeds, overrides=cmd.overrides)
        print(json.dumps(printed_config(cmd, chosen), indent=2))
        return 0
    if args.ray is not None:
        cluster.connect(args.ray)  # says how to install Ray, or that the cluster is unreachable, before the store is touched
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    if not args.checkpoint_every > 0:
        raise ValueError(f"--checkpoint-every must be a positive number of minutes, got {args.checkpoint_every:g}")
    folder = report_dir(args.results, experiment.name, args.report_dir)  # refused before anything trains
    plan = prepare(experiment, models=cmd.models, targets=cmd.targets, seeds=cmd.seeds, overrides=cmd.overrides,
                   data=args.data)
    if args.dry_run:
        print(render_estimate(estimate.estimate(plan, args.results, args.workers)))
        return 0
    with ResultsStore(args.results) as store:
        if not args.quiet:  # the report would refuse the stored runs beside the new ones: say so before training
            experiment.workload.check_table([run.config for run in store.runs(experiment.name)]
                                            + [run.stored for run in plan.runs])
        try:
            with stop_on_signals() as received:
                summary = execute(plan, store, progress=not args.quiet, checkpoint_every=60 * args.checkpoint_every,
                                  stop=lambda: bool(received), workers=args.workers, ray=args.ray)
        except RunInterrupted as interrupted:
            return interrupted_message(args, interrupted, received[0])
        except Interrupted as again:  # a second signal: stopped at once, mid-step
            print(f"nalm: interrupted again, at once: the runs stored and the checkpoints saved so far are kept in "
                  f"{args.results}; the same command resumes", file=sys.stderr)
            return again.exit_code
        finished(args, experiment, store, plan, summary, folder)
    return 0


def finished(args, experiment, store, plan, summary, folder) -> None:
    """What a finished ``nalm run`` prints: the counts, then (unless quiet) the report it writes
    into ``folder``, of the units' versions just trained (stored runs of others are stale)."""
    from ..report import write_report

    print(f"{experiment.name}: trained {summary.trained} runs, skipped {summary.skipped} already stored, "
          f"{summary.diverged} diverged; results in {args.results}")
    if not args.quiet:
        text, paths = write_report(experiment, store, folder, models=plan.models, targets=plan.targets, figures=True)
        print(text)
        print("Report written to " + ", ".join(map(str, paths)))


def interrupted_message(args, interrupted, signum: int) -> int:
    """Say in one line what an interrupted run saved and that the same command resumes; the exit
    code, 128 + the signal that stopped it."""
    steps = sorted(interrupted.checkpoints)
    saved = ("" if not steps else f" and the population in training at step {steps[0]:,}" if len(steps) == 1
             else f" and {len(steps)} populations in training at steps {steps[0]:,} to {steps[-1]:,}")
    print(f"nalm: interrupted: {interrupted.summary.trained} runs stored{saved} in {args.results}; "
          "the same command resumes", file=sys.stderr)
    return Interrupted(signum).exit_code
