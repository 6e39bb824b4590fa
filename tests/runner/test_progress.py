"""One progress report for a whole run: a bar in a terminal, a line per population in a log."""
from __future__ import annotations

import io
from collections import Counter

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.results import ResultsStore
from nalm.runner import execute, prepare
from nalm.runner.backends import in_processes
from nalm.runner.parts import Part, Session
from nalm.runner.progress import Progress, name

MADSEN = EXPERIMENTS["madsen2020-static"]
MISTRY = EXPERIMENTS["mistry2022-single"]  # planned at once: its thresholds are not simulated

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
    assert [line.split(":")[1].strip() for line in lines] == ["baselines add", "nau add", "nmu add"]
    assert lines[-1].startswith("nalm: nmu add: 2 members done (population 3 of 3; 100% of 100 member-steps,")
    assert all("elapsed, about" in line for line in lines)


def test_a_terminal_gets_one_bar_of_member_steps():
    plan = prepare(EXPERIMENTS["madsen2020-static"], models=["nau"], targets=["add"], seeds=2, overrides=TINY)
    parts = [Part("p", "x", "nau", [run.member for run in plan.runs], plan.runs[0].config, MADSEN.workload)]
    terminal = Terminal()
    progress = Progress(parts, enabled=True, stream=terminal)
    step = progress.steps_of(parts[0])
    for _ in range(5):  # an in-process population reports its steps as it takes them
        step(1)
    assert progress.bar.n == 5 * 2
    progress.finished_part(parts[0])
    assert progress.bar.n == progress.total == parts[0].work == 40 and progress.done == 40
    progress.close()
    assert "member-step" in terminal.getvalue() and "done (population" not in terminal.getvalue()
    quiet = io.StringIO()
    Progress(parts, enabled=False, stream=quiet).finished_part(parts[0])
    assert quiet.getvalue() == ""


def test_the_bar_names_the_populations_in_training_and_their_steps():
    plan = prepare(MISTRY, models=["nau", "nmu"], targets=["mul"], seeds=1, overrides=TINY)
    nau, nmu = ([run.member for run in plan.runs if run.model == model] for model in ("nau", "nmu"))
    config = plan.runs[0].config.replace(iterations=50_000)
    parts = [Part("a", "x", "nau/nmu", nmu, config, MISTRY.workload),
             Part("b", "x", "nau", nau, config, MISTRY.workload),
             Part("c", "x", "nau", nau, config, MISTRY.workload, label="nau on mul")]
    terminal = Terminal()
    progress = Progress(parts, enabled=True, stream=terminal)
    first = progress.steps_of(parts[0])
    first(11_999)
    first(1)
    assert progress.describe() == "nau/nmu mul: step 12,000/50,000"
    progress.bar.refresh()
    assert "nau/nmu mul: step 12,000/50,000" in terminal.getvalue()
    progress.steps_of(parts[1])(800)
    assert progress.describe() == "nau/nmu mul 12,000/50,000, nau mul 800/50,000"
    progress.steps_of(parts[2])(5)  # a label that names its target already
    assert progress.describe() == "nau/nmu mul 12,000/50,000, nau mul 800/50,000 and 1 more"
    progress.finished_part(parts[0])
    progress.finished_part(parts[1])
    assert progress.describe() == "nau on mul: step 5/50,000"
    progress.close()


def test_a_population_of_many_targets_is_named_by_their_number():
    plan = prepare(MISTRY, models=["nau"], targets=["add", "sub", "mul", "div"], seeds=1, overrides=TINY)
    members = [run.member for run in plan.runs]
    assert name(Part("p", "x", "nau", members, plan.runs[0].config, MISTRY.workload)) == "nau, 4 targets"
    by_target = [members[0], members[9], members[18]]
    assert name(Part("p", "x", "nau", by_target, plan.runs[0].config, MISTRY.workload)) == "nau add sub mul"


def long_parts(count: int, iterations: int) -> list[Part]:
    """``count`` two-member NAU populations of ``iterations`` steps each (seconds of training)."""
    plan = prepare(EXPERIMENTS["madsen2020-static"], models=["nau"], targets=["add"], seeds=2 * count,
                   overrides={"iterations": iterations, "eval_every": iterations, "eval_samples": 16})
    members, config = [run.member for run in plan.runs], plan.runs[0].config
    return [Part(f"p{i}", "madsen2020-static", "nau", members[2 * i:2 * i + 2], config, MADSEN.workload)
            for i in range(count)]


class Counting:
    """A progress for :func:`~nalm.runner.backends.in_processes` and :func:`~nalm.runner.cluster.in_ray`
    that adds each part's steps to ``told``."""

    def __init__(self, told: Counter):
        self.told = told

    def steps_of(self, part):
        return lambda n: self.told.update({part.population: n})


def counting_into(told: Counter, store, stop=lambda: False) -> Session:
    """A run's session whose progress adds each part's steps to ``told``."""
    return Session(store, 600.0, stop, Counting(told))


def told_before_finishing(outcomes, told: Counter) -> dict[str, int]:
    """The steps each part's reporter had been told of when the part's results came back."""
    return {part.population: told[part.population] for part, outcome in outcomes if outcome.finished}


@pytest.mark.slow  # two worker processes, a few seconds of training each
def test_worker_processes_move_the_bar_while_they_train(tmp_path):
    parts, told = long_parts(2, 5_000), Counter()
    store = ResultsStore(tmp_path / "r.sqlite")
    outcomes = in_processes(parts, 2, counting_into(told, store))
    seen = told_before_finishing(outcomes, told)
    assert set(seen) == {"p0", "p1"}
    assert all(0 < steps <= 5_000 for steps in seen.values()), seen  # told while training, never too much


def test_the_time_left_is_that_of_every_member_step_taken_and_said_only_once_a_tenth_is(monkeypatch):
    """A log's lines estimate from the member-steps taken so far, those of parts still training in
    other processes too: the untrained baselines, done first in seconds, once made the first line
    say hours for a minute's run."""
    import nalm.runner.progress as progress_module

    plan = prepare(MADSEN, models=["nau"], targets=["add"], seeds=2, overrides=TINY)
    members, config = [run.member for run in plan.runs], plan.runs[0].config
    baselines = Part("baselines add", "x", "mlp-relu6", members, config.replace(iterations=0), MADSEN.workload)
    long = Part("p", "x", "nau", members, config.replace(iterations=1000), MADSEN.workload)
    now = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    log = io.StringIO()
    progress = Progress([baselines, long], enabled=True, stream=log)
    tell = progress.steps_of(long)
    now[0] = 10.0
    tell(50)  # 100 of 2002 member-steps: under a tenth
    progress.finished_part(baselines)
    tell(450)  # 1000 of 2002
    now[0] = 20.0
    progress.finished_part(long)
    first, last = log.getvalue().splitlines()
    assert first.endswith("10 s elapsed)")  # nothing said yet
    assert last.endswith("20 s elapsed, about 0 s left)")
    now[0] = 0.0
    progress = Progress([baselines, long], enabled=True, stream=io.StringIO())
    progress.steps_of(long)(900)  # 1800 of 2002, in 10 s: 202 more at that rate take about 1 s
    now[0] = 10.0
    progress.finished_part(baselines)
    assert progress.stream.getvalue().strip().endswith("10 s elapsed, about 1 s left)")
