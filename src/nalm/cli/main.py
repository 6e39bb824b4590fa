"""``nalm``: the root command; each subcommand lives in its own module.

The command line answers at once: ``nalm --help``, a subcommand's ``--help``, ``nalm --version``
and a refused command line import no PyTorch, SymPy, numba, matplotlib, pandas or Ray
(tests/cli/test_help.py checks it). The rule for a subcommand module (``*_cmd.py``):

* ``add_parser(sub)`` imports nothing heavy: the module's top imports only what the parser needs,
  names read from light registries (:data:`~nalm.experiments.registry.EXPERIMENTS`,
  :data:`~nalm.units.registry.UNITS`, :data:`~nalm.tasks.targets.TARGETS`, ...); ``main(args)``
  imports the rest, where it runs;
* its parser has a description and an example in its epilog (``nalm NAME ...``); defaults are
  shown by the formatter, choices and names are listed in the help;
* an ``EXPERIMENT`` positional is :func:`~nalm.cli.common.add_experiment_argument`'s (listed in
  the help, completed by the shell, checked by the command with a one-line error);
* it is registered in :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import threading
import warnings
from pathlib import Path

from . import completion_cmd, explain_cmd, export_cmd, list_cmd, plot_cmd, report_cmd, run_cmd, runs_cmd, show_cmd
from ..errors import Fault, NalmWarning
from .common import INTERRUPTED, STOP_SIGNALS, Interrupted

BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader's early exit (git log | head)
COMMANDS = {"run": run_cmd, "report": report_cmd, "plot": plot_cmd, "list": list_cmd,
            "explain": explain_cmd, "show": show_cmd, "runs": runs_cmd, "export": export_cmd,
            "completion": completion_cmd}


class HelpFormatter(argparse.HelpFormatter):
    """A description or epilog of one paragraph is filled to the terminal's width, one with line
    breaks kept as written (examples); an option's help ends with its default where it has one
    (not None, False or empty) and does not say it already. Lines break between words, never
    at a hyphen inside a name (``madsen2020-interpolation-range``)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "%(default)" in text:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """nalm's parser: every subcommand's parser is one too (``add_subparsers`` makes parsers of
    the parser's class), so each formats its help with :class:`HelpFormatter`."""

    def __init__(self, *args, formatter_class=HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


class Version(argparse.Action):
    """``--version``: what a bug report needs, found without importing PyTorch (its version is
    read from the installed package's metadata)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def version_text() -> str:
    """``nalm 0.1.0`` and where it is installed, then Python's and the main dependencies' versions."""
    import platform
    from importlib import metadata

    from .. import __version__

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    dependencies = ", ".join(f"{name} {installed(name)}" for name in ("torch", "numpy", "numba", "sympy"))
    return (f"nalm {__version__} ({Path(__file__).resolve().parents[1]})\n"
            f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}\n"
            f"{dependencies}")


EPILOG = """examples:
  nalm list                        experiments, units, targets and presets
  nalm show madsen2020-static      an experiment's protocol, every setting with its source
  nalm run blog-static --units nac nalu --targets add sub --seeds 3
  nalm report blog-static          the tables again, from the results store
  nalm COMMAND --help              a command's options"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="nalm", description="Neural arithmetic units: benchmarks and reports.", epilog=EPILOG)
    parser.add_argument("--version", action=Version, help="print nalm's version and its environment's, and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
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
    except BrokenPipeError:  # the reader has gone (nalm runs list | head): it took all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # else flushing at exit fails once more
        return BROKEN_PIPE
    except KeyboardInterrupt as interrupted:  # a command that saves work when stopped says so itself (run_cmd)
        print("nalm: interrupted; nothing in flight was saved", file=sys.stderr)
        return interrupted.exit_code if isinstance(interrupted, Interrupted) else INTERRUPTED
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


if __name__ == "__main__":
    sys.exit(main())
