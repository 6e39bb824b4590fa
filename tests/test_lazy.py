"""``import nalm`` imports no PyTorch; each name is imported on first use, as it was before
(nalm.lazy)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nalm
from nalm.lazy import LazyTable

SRC = str(Path(nalm.__file__).resolve().parents[1])


def test_import_nalm_imports_no_pytorch_and_its_names_on_first_use():
    script = textwrap.dedent("""
        import sys
        import nalm, nalm.units, nalm.train, nalm.tasks, nalm.experiments, nalm.explain, nalm.report, nalm.runner
        assert not {"torch", "sympy", "numba", "numpy"} & set(sys.modules), sorted(sys.modules)
        assert "NAU" in dir(nalm) and "UNITS" in nalm.__all__
        assert sorted(nalm.UNITS)[:2] == ["faux-nalu", "g-nalu"] and "torch" not in sys.modules
        import nalm.explain.verify, nalm.runner.execute  # submodules named as functions the packages export
        from nalm.explain import verify
        assert nalm.explain.__module__ == "nalm.explain.formula" and verify.__module__ == "nalm.explain.verify"
        assert callable(nalm.runner.execute) and nalm.NAU is nalm.UNITS["nau"] is nalm.units.NAU
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={"PYTHONPATH": SRC, "PATH": ""}, timeout=120)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_a_package_names_what_it_lacks():
    with pytest.raises(AttributeError, match="module 'nalm.units' has no attribute 'NoSuchUnit'"):
        nalm.units.NoSuchUnit


def test_a_lazy_table_imports_an_object_when_it_is_looked_up():
    table = LazyTable({"nau": ".nau_nmu:NAU", "missing": "nalm.no_such_module:X"}, package="nalm.units")
    assert list(table) == ["nau", "missing"] and len(table) == 2 and "nau" in table and "nmu" not in table
    assert table["nau"] is nalm.NAU and table.name_of("missing") == "X"
    with pytest.raises(KeyError):
        table["nmu"]
    with pytest.raises(ModuleNotFoundError):
        table["missing"]
