"""mkdocs hooks (mkdocs.yml ``hooks:``): the CLI reference page, written from nalm's own parsers at
each build, so that it says what ``nalm COMMAND --help`` says.

The page is built from this checkout's ``src``, whatever nalm is installed, and at a fixed width
(``COLUMNS``), so that a build does not depend on the terminal it runs in.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PAGE = "cli.md"
WIDTH = "100"  # argparse fills help to the terminal's width: COLUMNS fixes it
SRC = Path(__file__).resolve().parents[1] / "src"

INTRO = """# CLI reference

Each command's `--help`, as `nalm` prints it. This page is written from the command line's own
parsers each time the site is built.
"""


def commands(parser: argparse.ArgumentParser, prog: str = "nalm"):
    """``(name, parser)`` of ``parser`` and of every subcommand under it, depth first, in the order
    the parser lists them."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prog} {name}")


def cli_page() -> str:
    """The CLI reference page's Markdown: a section per command, its help in a code block."""
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    from nalm.cli.main import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        sections = [f"## `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"
                    for name, parser in commands(build_parser())]
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join([INTRO, *sections])


def on_files(files, config):
    """Add the CLI reference page to the site's files (mkdocs 1.6's generated files)."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=cli_page()))
    return files
