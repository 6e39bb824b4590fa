"""The sm_90 compile check: every network the Triton trainer trains compiles for an H100 without spills.

It compiles in a process of its own (benchmarks/gpu_static.py), without TRITON_INTERPRET (Triton
decides at import whether it compiles or interprets); it needs no GPU, only Triton's bundled
ptxas and cuobjdump, and skips without them. Stopped by SIGTERM (gpu_session.sh's ``timeout``), it
exits through its cleanup. Several seconds each: marked slow.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_static.py"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="Triton is not installed")
def test_every_network_compiles_for_sm90_without_spills():
    done = subprocess.run([sys.executable, str(SCRIPT), "--json"], capture_output=True, text=True, env=_environment(),
                          timeout=600)
    if done.returncode != 0 and ("cuobjdump" in done.stderr or "ptxas" in done.stderr):
        pytest.skip(f"no compile toolchain: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert set(figures) == {"nau/nmu", "nau/nau", "nmu/nau", "nau", "nmu", "nac", "nac-mul", "nac/nac-mul-sigma",
                            "nau/nac-mul-nmu", "nac/nac-mul", "nalu", "nalu/nmu", "nalu/nalu", "mcfc", "mcfc/nmu",
                            "nau/mcfc"}
    for network, f in figures.items():
        assert f["spilled_bytes"] == 0, (network, f)
        assert 0 < f["registers"] <= 255 and f["loops"] == 4, (network, f)
        assert f["thread_instructions_per_model_step"] > 1e5, (network, f)


def _environment(**changes) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env["PYTHONPATH"]]) if env.get("PYTHONPATH") else src
    return {**env, **changes}


@pytest.mark.slow  # a process that imports nalm: several seconds
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="Triton is not installed")
def test_stopped_by_sigterm_it_exits_143_and_removes_its_temporary_folder(tmp_path):
    """gpu_session.sh's ``timeout`` sends SIGTERM: here while cuobjdump runs (a stand-in that
    waits) on the cubin in its temporary folder (the compile is stubbed out: no toolchain needed)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    stub = textwrap.dedent(f"""
        import importlib.util, sys, time, types
        from pathlib import Path
        spec = importlib.util.spec_from_file_location("gpu_static", {str(SCRIPT)!r})
        gpu_static = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gpu_static)
        def waiting(*args, **kwargs):
            print("running", flush=True)
            time.sleep(60)
        gpu_static.compile_kernel = lambda *args: (b"cubin", {{"BR": 16}})
        gpu_static.cuobjdump = lambda: Path(sys.executable)
        gpu_static.subprocess = types.SimpleNamespace(run=waiting)
        sys.argv = ["gpu_static.py", "--networks", "nau"]
        gpu_static.main()
    """)
    process = subprocess.Popen([sys.executable, "-c", stub], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=_environment(TMPDIR=str(temporary)))
    try:
        assert process.stdout.readline() == "running\n", process.stderr.read()
        assert len(list(temporary.iterdir())) == 1  # the cubin's folder
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 143
    assert list(temporary.iterdir()) == []
