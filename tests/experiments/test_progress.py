"""One progress report for a whole run: a bar in a terminal, a line per population in a log."""
from __future__ import annotations

import io

from nalm.experiments import EXPERIMENTS
from nalm.experiments.progress import Progress, work
from nalm.experiments.runner import execute, prepare
from nalm.experiments.workers import Part
from nalm.results import ResultsStore

TINY = {"iterations": 20, "eval_every": 10, "eval_samples": 16, "batch_size": 8}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_finished_population_and_no_bar(tmp_path, capsys):
    plan = prepare(EXPERIMENTS["madsen2020-static"], models=["nau", "nmu"], targets=["add"], seeds=2, overrides=TINY)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        execute(plan, store, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()  # pytest's stderr is not a terminal
    # the untrained baselines, then one population per model; 2·20 + 2·20 + 20·1 member-steps in all
    assert [line.split(":")[1].strip() for line in lines] == ["baselines add", "nau", "nmu"]
    assert lines[-1].startswith("nalm: nmu: 2 members done (population 3 of 3; 100% of 100 member-steps,")
    assert all("elapsed, about" in line for line in lines)


def test_a_terminal_gets_one_bar_of_member_steps():
    plan = prepare(EXPERIMENTS["madsen2020-static"], models=["nau"], targets=["add"], seeds=2, overrides=TINY)
    parts = [Part("p", "x", "nau", [run.member for run in plan.runs], plan.runs[0].config)]
    terminal = Terminal()
    progress = Progress(parts, enabled=True, stream=terminal)
    step = progress.steps_of(parts[0])
    for _ in range(5):  # an in-process population reports its steps as it takes them
        step(1)
    assert progress.bar.n == 5 * 2
    progress.finished_part(parts[0])
    assert progress.bar.n == progress.total == work(parts[0]) == 40 and progress.done == 40
    progress.close()
    assert "member-step" in terminal.getvalue() and "done (population" not in terminal.getvalue()
    quiet = io.StringIO()
    Progress(parts, enabled=False, stream=quiet).finished_part(parts[0])
    assert quiet.getvalue() == ""
