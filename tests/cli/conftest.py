"""Shared helpers for the CLI tests: run ``nalm`` in-process, and one small trained store.

Every run uses a tiny scale (2 models x 2 targets x 2 seeds, 50 iterations, 64 evaluation
samples) so that the whole CLI suite trains for a few seconds only.
"""
from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import torch

from nalm.cli.main import main

SMALL = json.dumps({"eval_samples": 64, "eval_every": 25})
MODELS = ["nac", "mlp-relu6"]
TARGETS = ["add", "sub"]


def _blog_argv(results, *extra, seeds: int = 2, quiet: bool = True) -> list[str]:
    """``nalm run blog-static`` at the tiny scale the brief asks for."""
    argv = ["run", "blog-static", "--units", *MODELS, "--targets", *TARGETS, "--seeds", str(seeds),
            "--iterations", "50", "--config", SMALL, "--results", str(results), *extra]
    return argv + (["--quiet"] if quiet else [])


def _run_nalm(argv: list[str]) -> tuple[int, str, str]:
    """``nalm ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def run_nalm():
    """``run_nalm(argv) -> (exit code, stdout, stderr)``: ``nalm ARGV`` in this process."""
    return _run_nalm


@pytest.fixture(scope="session")
def blog_argv():
    """``blog_argv(results, *extra, seeds=2, quiet=True)``: the tiny blog-static command line."""
    return _blog_argv


@pytest.fixture(autouse=True)
def _one_thread():
    """The training loop sets PyTorch's thread count from the config; restore it after each test."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def blog_store(tmp_path_factory) -> Path:
    """A store holding the 8 runs of the tiny blog-static command (trained once, never modified)."""
    path = tmp_path_factory.mktemp("blog") / "r.sqlite"
    code, out, err = _run_nalm(_blog_argv(path))
    assert code == 0, err
    return path


@pytest.fixture
def store_copy(blog_store, tmp_path) -> Path:
    """A private copy of ``blog_store`` that a test may modify."""
    path = tmp_path / "copy" / "r.sqlite"
    path.parent.mkdir()
    shutil.copyfile(blog_store, path)
    return path
