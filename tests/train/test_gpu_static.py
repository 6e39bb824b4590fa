"""The sm_90 compile check: every network the Triton trainer trains compiles for an H100 without spills.

It compiles in a process of its own (benchmarks/gpu_static.py), without TRITON_INTERPRET, which
tests/train/test_triton.py sets for this one; it needs no GPU, only Triton's bundled ptxas and
cuobjdump, and skips without them. Several seconds: marked slow.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_static.py"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="Triton is not installed")
def test_every_network_compiles_for_sm90_without_spills():
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env["PYTHONPATH"]]) if env.get("PYTHONPATH") else src
    done = subprocess.run([sys.executable, str(SCRIPT), "--json"], capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0 and ("cuobjdump" in done.stderr or "ptxas" in done.stderr):
        pytest.skip(f"no compile toolchain: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert set(figures) == {"nau/nmu", "nau/nau", "nmu/nau", "nau", "nmu"}
    for network, f in figures.items():
        assert f["spilled_bytes"] == 0, (network, f)
        assert 0 < f["registers"] <= 255 and f["loops"] == 4, (network, f)
        assert f["thread_instructions_per_model_step"] > 1e5, (network, f)
