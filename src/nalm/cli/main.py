"""``nalm``: the root command; each subcommand lives in its own module."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from pathlib import Path

from . import explain_cmd, list_cmd, plot_cmd, report_cmd, run_cmd, show_cmd
from ..errors import Fault, NalmWarning
from .common import INTERRUPTED, STOP_SIGNALS, Interrupted

COMMANDS = {"run": run_cmd, "report": report_cmd, "plot": plot_cmd, "list": list_cmd,
            "explain": explain_cmd, "show": show_cmd}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nalm", description="Neural arithmetic units: benchmarks and reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        module.add_parser(sub)
    return parser


def stop(signum, frame):
    raise Interrupted(signum)


PACKAGE = Path(__file__).resolve().parents[1]


def show_warning(message, category, filename, lineno, file=None, line=None, default=warnings.showwarning) -> None:
    """nalm's own warnings (a :class:`~nalm.errors.NalmWarning`, or any raised in nalm's code) as
    one ``nalm: warning:`` line each; others as Python shows them."""
    if issubclass(category, NalmWarning) or Path(filename).resolve().is_relative_to(PACKAGE):
        print(f"nalm: warning: {message}", file=sys.stderr)
    else:
        default(message, category, filename, lineno, file, line)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = {}
    if threading.current_thread() is threading.main_thread():  # only the main thread receives signals
        previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}  # SIGTERM, SIGHUP as Ctrl-C
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            return COMMANDS[args.command].main(args) or 0
    except ValueError as error:  # bad input (nalm.errors): one line, no traceback; anything else is a bug
        print(f"nalm: error: {error}", file=sys.stderr)
        return 2
    except Fault as error:  # the disk, a worker process: one line saying what was kept
        print(f"nalm: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupted:  # a command that saves work when stopped says so itself (run_cmd)
        print("nalm: interrupted; nothing in flight was saved", file=sys.stderr)
        return interrupted.exit_code if isinstance(interrupted, Interrupted) else INTERRUPTED
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


if __name__ == "__main__":
    sys.exit(main())
