"""Run the tutorial notebook (docs/tutorial.ipynb) from top to bottom and save its outputs, which
the docs site shows as they are saved (mkdocs-jupyter, ``execute: false``)::

    python docs/execute_tutorial.py

It needs the docs extra (``pip install -e '.[docs]'``: nbclient, ipykernel). The kernel is
``python3`` run by this interpreter, in the repository's root, so it imports the nalm this
interpreter imports. tests/docs/test_tutorial.py runs the notebook the same way and compares
what it prints with the saved outputs.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"
TIMEOUT = 600  # seconds a cell may take: the whole notebook takes about a minute on 2 cores


def execute(path: Path = NOTEBOOK):
    """The notebook at ``path``, run from top to bottom in a fresh kernel, with its new outputs
    (nbformat's NotebookNode); a cell's error raises ``nbclient.exceptions.CellExecutionError``."""
    import nbformat  # the docs extra: imported here so that the default suite collects this file without it
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # record_timing=False: saved outputs change only when what the cells show changes; and
    # coalesce_streams: a cell's prints are one output however the kernel's messages fall in time
    NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3", record_timing=False, coalesce_streams=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook


def main() -> None:
    import nbformat

    start = time.perf_counter()
    notebook = execute()
    nbformat.write(notebook, NOTEBOOK)
    size = NOTEBOOK.stat().st_size
    print(f"{NOTEBOOK.relative_to(ROOT)}: run in {time.perf_counter() - start:.0f} s, saved ({size / 1e3:.0f} kB)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
