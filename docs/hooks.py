"""mkdocs hooks (mkdocs.yml ``hooks:``): pages written from nalm itself at each build.

- The CLI reference, from nalm's own parsers, so that it says what ``nalm COMMAND --help`` says,
  at a fixed width (``COLUMNS``), so that a build does not depend on the terminal it runs in.
- A page per registered experiment (:mod:`experiment_pages`), listed in the nav's Experiments
  section after its overview page.

Both are built from this checkout's ``src``, whatever nalm is installed.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PAGE = "cli.md"
WIDTH = "100"  # argparse fills help to the terminal's width: COLUMNS fixes it
SRC = Path(__file__).resolve().parents[1] / "src"
DOCS = Path(__file__).resolve().parent

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


def use_src() -> None:
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))


def experiment_pages():
    """docs/experiment_pages.py, imported once per process: mkdocs puts docs/ on the path only
    while it loads this file, so it goes on for good here."""
    use_src()
    if str(DOCS) not in sys.path:
        sys.path.insert(0, str(DOCS))
    import experiment_pages

    return experiment_pages


def cli_page() -> str:
    """The CLI reference page's Markdown: a section per command, its help in a code block."""
    use_src()
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


def on_config(config):
    """List each registered experiment's page in the nav's Experiments section."""
    config["nav"] = experiment_pages().with_experiments(config["nav"])
    return config


def on_files(files, config):
    """Add the CLI reference and the experiments' pages to the site's files (mkdocs 1.6's
    generated files)."""
    from mkdocs.structure.files import File

    use_src()
    files.append(File.generated(config, PAGE, content=cli_page()))
    for path, content in experiment_pages().pages().items():
        files.append(File.generated(config, path, content=content))
    return files
