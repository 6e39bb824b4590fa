"""``nalm``: the root command; each subcommand lives in its own module."""
from __future__ import annotations

import argparse
import sys

from . import explain_cmd, list_cmd, plot_cmd, report_cmd, run_cmd, show_cmd
from ..errors import Fault
from .common import INTERRUPTED

COMMANDS = {"run": run_cmd, "report": report_cmd, "plot": plot_cmd, "list": list_cmd,
            "explain": explain_cmd, "show": show_cmd}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nalm", description="Neural arithmetic units: benchmarks and reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].main(args) or 0
    except ValueError as error:  # bad input (nalm.errors): one line, no traceback; anything else is a bug
        print(f"nalm: error: {error}", file=sys.stderr)
        return 2
    except Fault as error:  # the disk, a worker process: one line saying what was kept
        print(f"nalm: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a command that saves work on Ctrl-C says so itself (run_cmd)
        print("nalm: interrupted; nothing in flight was saved", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
