"""The tutorial notebook (docs/tutorial.ipynb): saved with the outputs the docs site shows, and
those outputs are what running it gives.

After changing the notebook, or what it prints, run it and save its outputs with
``python docs/execute_tutorial.py`` (about a minute on 2 cores; needs the docs extra).
Running it here is a slow test (``pytest -m slow``), skipped without nbclient and ipykernel.
"""
import importlib.util
import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
MAX_BYTES = 400_000  # figures as PNG at the inline backend's resolution: about 250 kB in all
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# A number the notebook prints may differ in its last digits where another CPU rounds otherwise;
# one that moved by a quarter means the notebook no longer shows what the page says.
RELATIVE, ABSOLUTE = 0.25, 1e-3


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def joined(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def shown(cell: dict) -> str:
    """What a cell shows as text: its standard output and the text of its results (a figure's
    ``<Figure size ...>``, a table's columns), without standard error, whose warnings name the
    kernel's temporary files."""
    parts = []
    for output in cell["outputs"]:
        if output["output_type"] == "stream" and output["name"] == "stdout":
            parts.append(joined(output["text"]))
        elif output["output_type"] in ("execute_result", "display_data"):
            parts.append(joined(output["data"].get("text/plain", "")))
    return "".join(parts)


def kinds(cell: dict) -> list[str]:
    """The kinds of a cell's outputs, in order: ``stdout``, ``stderr``, or a result's MIME types."""
    return [output["name"] if output["output_type"] == "stream" else "+".join(sorted(output.get("data", {})))
            for output in cell["outputs"]]


def same_kinds(new: list[str], old: list[str]) -> bool:
    """Whether two runs of a cell show the same: the same results in order, and output on the
    same streams (how a kernel's stdout and stderr messages interleave depends on timing)."""
    streams = ("stdout", "stderr")
    return ([k for k in new if k not in streams] == [k for k in old if k not in streams]
            and {k for k in new if k in streams} == {k for k in old if k in streams})


def warnings_shown(cell: dict) -> list[str]:
    """The warning lines (``FILE:LINE: CategoryWarning: ...``) of a cell's standard error."""
    text = "".join(joined(o["text"]) for o in cell["outputs"] if o["output_type"] == "stream" and o["name"] == "stderr")
    return [line for line in text.splitlines() if re.match(r"\S.*:\d+: \w+: ", line)]


def differences(saved: str, run: str) -> list[str]:
    """Where ``run`` shows other words, another integer, or a number off by more than the
    tolerance, than ``saved``."""
    if NUMBER.split(saved) != NUMBER.split(run):
        return [f"text differs:\n{saved}\n---\n{run}"]
    found = []
    for a, b in zip(NUMBER.findall(saved), NUMBER.findall(run)):
        integers = not re.search(r"[.eE]", a + b)
        if (a != b) if integers else not math.isclose(float(a), float(b), rel_tol=RELATIVE, abs_tol=ABSOLUTE):
            found.append(f"{a} saved, {b} run")
    return found


def test_saved_notebook_shows_what_the_docs_render():
    assert NOTEBOOK.stat().st_size < MAX_BYTES
    notebook = json.loads(NOTEBOOK.read_text())
    cells = code_cells(notebook)
    # run from top to bottom in one kernel, as docs/execute_tutorial.py runs it
    assert [cell["execution_count"] for cell in cells] == list(range(1, len(cells) + 1))
    figures = 0
    for cell in cells:
        source, output_kinds = joined(cell["source"]), kinds(cell)
        assert "error" not in [o["output_type"] for o in cell["outputs"]], source
        if "print(" in source:
            assert "stdout" in output_kinds, source
        # a figure shown (plt.show(), or a Figure as the cell's value) is saved as a PNG
        if "plt.show()" in source or source.splitlines()[-1].startswith("figures["):
            assert any("image/png" in kind for kind in output_kinds), source
            figures += 1
        assert all("NalmWarning" in line for line in warnings_shown(cell)), source
    assert figures == 5
    assert any("y = x0*x1" in shown(cell) for cell in cells)  # the NALU's formula, read back


def test_same_kinds_ignores_how_streams_interleave_only():
    assert same_kinds(["stdout", "stderr", "image/png"], ["stderr", "stdout", "stdout", "image/png"])
    assert not same_kinds(["stdout"], ["stdout", "stderr"])
    assert not same_kinds(["image/png", "text/plain"], ["text/plain", "image/png"])


def test_differences_tolerate_last_digits_only():
    assert differences("error 0.19 outside, 27 of 32", "error 0.2 outside, 27 of 32") == []
    assert differences("27 of 32", "26 of 32") == ["27 saved, 26 run"]
    assert differences("error 0.19", "error 15.3") == ["0.19 saved, 15.3 run"]
    assert differences("y = x0*x1", "y = x1") != []


def load_executor():
    spec = importlib.util.spec_from_file_location("docs_execute_tutorial", ROOT / "docs" / "execute_tutorial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_notebook_runs_and_shows_its_saved_outputs():
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    run = code_cells(load_executor().execute())  # a cell's error raises CellExecutionError
    saved = code_cells(json.loads(NOTEBOOK.read_text()))
    assert [joined(cell["source"]) for cell in run] == [joined(cell["source"]) for cell in saved]
    for new, old in zip(run, saved):
        source = joined(new["source"])
        assert same_kinds(kinds(new), kinds(old)), source
        assert differences(shown(old), shown(new)) == [], source
        # nothing but nalm's own warnings, which the notebook explains, on standard error
        assert all("NalmWarning" in line for line in warnings_shown(new)), source
