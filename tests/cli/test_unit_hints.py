"""A unit module that the command cannot import, and what nalm says while it trains a unit of
one's own: one line each, with a hint where the current directory holds the module."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import nalm

UNITS = """
import torch
from torch import nn


class Plain(nn.Module):  # no members=: a population trains it through torch.func.vmap
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-0.5, 0.5))

    def forward(self, x):
        return x @ self.weight.T


class Branchy(Plain):  # vmap cannot run .item(): one member after another
    def forward(self, x):
        if self.weight.sum().item() > 1e9:
            return x[:, :1]
        return x @ self.weight.T
"""

SMALL = ["--targets", "add", "sub", "--seeds", "1", "--iterations", "2", "--config",
         '{"eval_samples": 16, "eval_every": 2}', "--quiet"]


def hint(unit: str, found: str) -> str:
    module = unit.partition(":")[0]
    return (f"nalm: error: unit {unit!r}: no module named {module.partition('.')[0]!r}: {found} is in the current "
            "directory, which is not on Python's import path; run with PYTHONPATH=. or install the package")


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """A current directory holding hint_units.py and a package hint_pkg/, and not on the import
    path, as under the ``nalm`` command."""
    (tmp_path / "hint_units.py").write_text(UNITS)
    (tmp_path / "hint_pkg").mkdir()
    (tmp_path / "hint_pkg" / "__init__.py").write_text("")
    (tmp_path / "hint_pkg" / "units.py").write_text(UNITS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    return tmp_path


def test_a_unit_module_in_the_current_directory_gets_a_hint_and_another_the_module_named(here, run_nalm,
                                                                                       monkeypatch):
    store = here / "r.sqlite"
    for unit, found in (("hint_units:Plain", "hint_units.py"), ("hint_pkg.units:Plain", "hint_pkg/")):
        code, out, err = run_nalm(["run", "blog-static", "--units", unit, *SMALL, "--results", store])
        assert (code, err) == (2, hint(unit, found) + "\n")
    code, out, err = run_nalm(["run", "blog-static", "--units", "hint_unitz:Plain", *SMALL, "--results", store])
    assert (code, err) == (2, "nalm: error: unit 'hint_unitz:Plain': no module named 'hint_unitz'\n")  # a typo: no hint
    (here / "lib").mkdir()
    (here / "lib" / "needs_missing.py").write_text("import hint_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(here / "lib"))  # found, but what it imports is not
    code, out, err = run_nalm(["run", "blog-static", "--units", "needs_missing:Plain", *SMALL, "--results", store])
    assert (code, err) == (2, "nalm: error: unit 'needs_missing:Plain': module 'needs_missing' does not import: "
                              "ModuleNotFoundError: No module named 'hint_no_such_dependency'\n")
    assert not store.exists()


def test_explain_of_a_custom_run_gets_the_same_hint(here, run_nalm, monkeypatch):
    store = here / "r.sqlite"
    with monkeypatch.context() as importable:
        importable.syspath_prepend(str(here))
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # said once per process: this test's own class is said here
            code, out, err = run_nalm(["run", "blog-static", "--units", "hint_units:Plain", *SMALL,
                                       "--workers", "1", "--results", store])
        assert code == 0, err
        # told as from this test (outside nalm), still one line of nalm's
        assert err.splitlines() == ["nalm: warning: Plain does not take members=; a population trains it through "
                                    "torch.func.vmap over its members (one batched pass per step, about half the "
                                    "speed of a unit written for populations)"]
    monkeypatch.delitem(sys.modules, "hint_units")  # a fresh command: not imported yet
    run_id = nalm.load(store).records[0].run_id
    code, out, err = run_nalm(["explain", run_id, "--units", "hint_units:Plain", "--results", store])
    assert (code, err) == (2, hint("hint_units:Plain", "hint_units.py") + "\n")


LAUNCHER = "import sys\nfrom nalm.cli.main import main\nif __name__ == '__main__':\n    sys.exit(main())\n"
"""The ``nalm`` console script: a script whose own folder, not the current directory, is on the
import path (and which worker processes import without running it)."""


@pytest.mark.slow  # three fresh processes, one training in two workers: about 15 s
def test_the_command_hints_once_and_says_the_vmap_notice_in_one_line(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "nalm").write_text(LAUNCHER)
    work = tmp_path / "work"
    work.mkdir()
    (work / "hint_units.py").write_text(UNITS)
    source = str(Path(nalm.__file__).resolve().parents[1])  # this nalm, wherever the command runs

    def command(*argv, path=(source,)):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
        return subprocess.run([sys.executable, str(tmp_path / "bin" / "nalm"), *argv], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)

    store = str(tmp_path / "r.sqlite")
    trained = command("run", "blog-static", "--units", "hint_units:Branchy", *SMALL, "--workers", "2",
                      "--results", store, path=(source, "."))
    assert trained.returncode == 0, trained.stderr
    # both workers' populations take the slower path; the run says so once, in nalm's words only
    assert trained.stderr.splitlines() == [
        "nalm: warning: Branchy does not take members=; a population trains it through one member after another "
        "(a forward pass per member and step, about a fifth of the speed of a unit written for populations; "
        "torch.func.vmap cannot run it: RuntimeError: vmap: It looks like you're calling .item() on a Tensor. "
        "We don't support vmap over calling .item() on a Tensor, ...)"]
    for argv in (["explain", "1", "--units", "hint_units:Branchy", "--results", store],
                 ["run", "blog-static", "--units", "hint_units:Branchy", *SMALL, "--results", store]):
        refused = command(*argv)
        assert (refused.returncode, refused.stderr) == (2, hint("hint_units:Branchy", "hint_units.py") + "\n")
