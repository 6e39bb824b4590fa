"""docs/experiment_figures.py: it runs an experiment into a temporary store and replaces the
figures in its folder only once new ones are made, and a SIGTERM stops the run it started."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
TINY = (["--seeds", "1", "--iterations", "50"], "one seed of 50 iterations")


@pytest.fixture
def script(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(DOCS))  # the script imports experiment_pages beside it, as `python docs/...` does
    spec = importlib.util.spec_from_file_location("docs_experiment_figures", DOCS / "experiment_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "IMAGES", tmp_path / "images")
    return module


@pytest.mark.slow
def test_figures_are_replaced_only_once_new_ones_are_made(script, monkeypatch):
    folder = script.IMAGES / "blog-static"
    folder.mkdir(parents=True)
    (folder / "blog-static-old.png").write_bytes(b"old")
    (folder / script.RECORD).write_text('{"figures": ["blog-static-old.png"]}')
    old = sorted(p.name for p in folder.iterdir())
    monkeypatch.setitem(script.REDUCED, "blog-static", (["--iterations", "0"], "refused by nalm run"))
    assert script.main(["--missing", "blog-static"]) == 0  # it has figures: nothing runs
    with pytest.raises(subprocess.CalledProcessError):  # the run fails
        script.main(["blog-static"])
    assert sorted(p.name for p in folder.iterdir()) == old
    monkeypatch.setitem(script.REDUCED, "blog-static", TINY)
    with monkeypatch.context() as m:  # the run ends, the drawing fails
        m.setattr(script, "compact", lambda png: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            script.main(["blog-static"])
    assert sorted(p.name for p in folder.iterdir()) == old and (folder / "blog-static-old.png").read_bytes() == b"old"
    assert script.main(["blog-static"]) == 0
    record = json.loads((folder / script.RECORD).read_text())
    assert record["command"] == "nalm run blog-static --seeds 1 --iterations 50" and record["reduced"] == TINY[1]
    assert record["figures"] and sorted(p.name for p in folder.iterdir()) == sorted([*record["figures"], script.RECORD])
    for file in record["figures"]:
        assert (folder / file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", file


def test_a_sigterm_stops_the_run_it_started(script, tmp_path):
    started = tmp_path / "pid"
    child = [sys.executable, "-c", f"import os, time; open({str(started)!r}, 'w').write(str(os.getpid())); time.sleep(60)"]

    def terminate_when_started():
        while not started.exists() or not started.read_text():
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, script.stop)  # as main() installs it
    try:
        threading.Thread(target=terminate_when_started, daemon=True).start()
        with pytest.raises(SystemExit) as exit_:
            script.run(child, dict(os.environ))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exit_.value.code == 143
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(int(started.read_text()), 0)
