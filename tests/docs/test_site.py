"""The docs site: ``mkdocs build --strict`` passes (about 2 s; skipped without the docs extra), its
CLI reference is every command's help, and every experiment has its page."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nalm.cli.main import COMMANDS, build_parser
from nalm.experiments import registry

ROOT = Path(__file__).resolve().parents[2]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_page_is_every_commands_help():
    page = load("hooks").cli_page()
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subcommands) == set(COMMANDS)
    for name, sub in subcommands.items():
        assert f"## `nalm {name}`" in page
    assert "## `nalm runs list`" in page and "## `nalm runs delete`" in page
    # each section is the parser's help itself, at the page's fixed width, not a summary of it
    assert subcommands["run"].format_help().splitlines()[0] in page
    assert "--paper-scale" in page and "--tensorboard" in page


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("material")
    site = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                           cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    cli = (site / "cli" / "index.html").read_text()
    for name in COMMANDS:
        assert f'id="nalm-{name}"' in cli, name
    api = (site / "api" / "index.html").read_text()
    for name in ("nalm.api.run", "nalm.api.load", "nalm.api.Results", "nalm.explain.formula.explain",
                 "nalm.units.base.ArithmeticUnit", "nalm.units.nac.NAC", "nalm.units.nau_nmu.NAU",
                 "nalm.units.nau_nmu.NMU", "nalm.units.nalu.NALU"):
        assert f'id="{name}"' in api, name
    assert ":func:`" not in api and ":class:`" not in api  # roles read as Markdown (docs/griffe_rst.py)
    tutorial = (site / "tutorial" / "index.html").read_text()  # the notebook with its saved outputs
    assert tutorial.count('src="data:image/png;base64,') == 5 and "y = x0*x1" in tutorial
    overview = (site / "experiments" / "index.html").read_text()
    for name in registry.EXPERIMENTS:  # a page each (docs/experiment_pages.py), in the nav, its figures shown
        page = (site / "experiments" / name / "index.html").read_text()
        assert 'id="protocol-card"' in page and f'href="{name}/"' in overview, name
        for image in re.findall(r'<img alt="[^"]*" src="([^"]+)"', page):
            assert (site / "experiments" / name / image).resolve().is_file(), image
