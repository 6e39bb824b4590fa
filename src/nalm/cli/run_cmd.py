"""``nalm run EXPERIMENT``: train what the store lacks, then print the report."""
from __future__ import annotations

import json
import math
import signal
import sys
import threading
from contextlib import contextmanager

from ..experiments import get_experiment
from ..report import write_report
from ..results import ResultsStore
from ..runner import RunInterrupted, estimate, execute, prepare
from ..runner import cluster
from ..train import CHECKPOINT_EVERY
from .common import STOP_SIGNALS, Interrupted, add_results_option, report_dir


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
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes to train in, one thread each; a population's members are split between them "
                        "(default: one per available core, fewer for runs too short to gain from more)")
    p.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="train on a Ray cluster (default address: auto, the cluster this machine belongs to), "
                        "one task per sub-population (per population for data-set experiments); "
                        "needs pip install 'nalm[ray]'")
    p.add_argument("--checkpoint-every", type=float, default=CHECKPOINT_EVERY / 60, metavar="MINUTES",
                   help=f"save the population in training to the store this often (default "
                        f"{CHECKPOINT_EVERY / 60:g}); Ctrl-C saves it too, and the same command resumes it")
    p.add_argument("--dry-run", action="store_true",
                   help="train nothing: print the populations, members and model-steps the command implies, and "
                        "the time they should take here, from a few seconds of measured training per population")
    p.add_argument("--data", metavar="PATH",
                   help="data-set experiments: the source's data (trask2018-mnist: a folder with MNIST's four IDX "
                        "files); without it, the bundled substitute")
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


def render_estimate(e: estimate.Estimate) -> str:
    count = len(e.populations)
    lines = [f"{e.experiment}: {count} population{'s' * (count != 1)}, {e.members:,} runs to train "
             f"({e.stored:,} stored already), {e.model_steps:.3g} model-steps"]
    for p in e.populations:
        rate = p.model_steps / p.seconds.likely if p.seconds.likely else math.inf
        lines.append(f"  {p.label}: {p.members:,} members × {p.iterations:,} steps, {p.evaluations:,} evaluations; "
                     f"{rate:,.0f} model-steps/s here, formulas included → {span(p.seconds)}")
    if e.baselines:
        lines.append(f"  untrained baselines: {span(e.baseline_seconds)}")
    lines.append(f"estimated: {span(e.core_seconds)} on one core"
                 + (f", {span(e.wall_seconds)} on {e.workers} workers if they scale perfectly (README: Workers)"
                    if e.workers > 1 else ""))
    if e.measured or e.cached:
        lines.append(calibration_line(e))
    lines.append("nothing was trained or stored")
    return "\n".join(lines)


def span(seconds) -> str:
    """``2 min 10 s (1 min 50 s to 2 min 40 s)``: a cost's likely value and its range, where it has one."""
    likely, low, high = (duration(s) for s in (seconds.likely, seconds.low, seconds.high))
    return likely if low == high else f"{likely} ({low} to {high})"


def calibration_line(e: estimate.Estimate) -> str:
    """How sure the estimate is: what was measured now, what came from the cache, and when."""
    import time

    from ..runner.calibration import RECALIBRATE

    said = []
    if e.measured:
        said.append(f"{e.measured} cost shape{'s' * (e.measured != 1)} measured now in {e.calibration_seconds:.1f} s")
    if e.cached:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.cached_since))
        said.append(f"{e.cached} read from this machine's cache (measured {when}; {RECALIBRATE}=1 measures again)")
    text = "calibration: " + ", ".join(said)
    return text + ("; the range spans the spread of step times and how costs grow beyond the members sampled")


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
    experiment = get_experiment(args.experiment)
    if args.paper_scale:
        experiment = experiment.at_paper_scale()
    experiment = experiment.with_ranges(args.interpolation, args.extrapolation)
    if args.ray is not None:
        cluster.connect(args.ray)  # says how to install Ray, or that the cluster is unreachable, before the store is touched
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {args.workers}")
    if args.iterations is not None and args.iterations < 1:
        raise ValueError(f"--iterations must be a positive integer, got {args.iterations} (nothing would train)")
    if not args.checkpoint_every > 0:
        raise ValueError(f"--checkpoint-every must be a positive number of minutes, got {args.checkpoint_every:g}")
    plan = prepare(experiment, models=args.models, targets=args.targets, seeds=args.seeds, overrides=overrides(args),
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
        finished(args, experiment, store, plan, summary)
    return 0


def finished(args, experiment, store: ResultsStore, plan, summary) -> None:
    """What a finished ``nalm run`` prints: the counts, then (unless quiet) the report it writes."""
    print(f"{experiment.name}: trained {summary.trained} runs, skipped {summary.skipped} already stored, "
          f"{summary.diverged} diverged; results in {args.results}")
    if not args.quiet:
        text, paths = write_report(experiment, store, report_dir(args.results, experiment.name),
                                   models=plan.models, targets=plan.targets, figures=True)
        print(text)
        print("Report written to " + ", ".join(map(str, paths)))


def interrupted_message(args, interrupted: RunInterrupted, signum: int) -> int:
    """Say in one line what an interrupted run saved and that the same command resumes; the exit
    code, 128 + the signal that stopped it."""
    steps = sorted(interrupted.checkpoints)
    saved = ("" if not steps else f" and the population in training at step {steps[0]:,}" if len(steps) == 1
             else f" and {len(steps)} populations in training at steps {steps[0]:,} to {steps[-1]:,}")
    print(f"nalm: interrupted: {interrupted.summary.trained} runs stored{saved} in {args.results}; "
          "the same command resumes", file=sys.stderr)
    return Interrupted(signum).exit_code
