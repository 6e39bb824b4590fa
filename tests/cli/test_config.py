"""A command in a file (``--config FILE``), its resolved configs printed (``--print-config``),
its protocol card (``nalm show`` with the run's options), and the warning that a run cuts a
unit's step schedule short."""
from __future__ import annotations

import json
import sys

import pytest

from nalm.experiments import EXPERIMENTS, ArithmeticTasks
from nalm.runner import RunSummary, prepare

WARNING = "nalm: warning: "


@pytest.fixture
def no_training(monkeypatch):
    """``nalm run`` plans (every check, every warning) but trains nothing; the thresholds, which
    are not under test here, are not simulated."""
    import nalm.runner

    monkeypatch.setattr(nalm.runner, "execute", lambda plan, store, **kwargs: RunSummary(0, 0, 0))
    monkeypatch.setattr(ArithmeticTasks, "threshold", lambda self, task_index, target: 1.0)


def printed(run_nalm, *argv) -> dict:
    code, out, err = run_nalm(["run", *argv, "--print-config"])
    assert code == 0, err
    return json.loads(out)


# -- the warning: a run that cuts a unit's step schedule short --------------------------------
def test_a_short_run_warns_of_the_nau_regularizer_it_never_turns_on(tmp_path, run_nalm, no_training):
    command = ["run", "madsen2020-static", "--units", "nau", "nau/nmu", "--targets", "add", "--seeds", "1",
               "--results", tmp_path / "r.sqlite", "--quiet"]
    code, out, err = run_nalm([*command, "--iterations", "2000"])
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith(WARNING)]
    assert len(warnings) == 1, err  # the NMU's ramp scales with the run: nau/nmu is not warned of
    assert warnings[0].startswith(f"{WARNING}model nau: the NAU's regularizer")
    for said in ("regularizer_start", "regularizer_end", "5,000 → 50,000", "never turns on in 2,000 iterations"):
        assert said in warnings[0], said
    code, out, err = run_nalm(command)  # the default scale: 50,000 iterations hold the NAU's ramp
    assert code == 0 and err == "", err
    code, out, err = run_nalm(["run", "madsen2020-static", "--seeds", "1", "--results", tmp_path / "r.sqlite",
                               "--quiet"])  # nor any other model's, at the default scale
    assert code == 0 and err == "", err
    code, out, err = run_nalm([*command, "--iterations", "2000", "--config", '{"lr": -1}'])
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("nalm: error: ")  # refused: no warning


def test_a_ramp_the_run_ends_inside_says_how_far_it_got(tmp_path, run_nalm, no_training):
    code, out, err = run_nalm(["run", "madsen2020-static", "--units", "nau", "--targets", "add", "--seeds", "1",
                               "--iterations", "27500", "--results", tmp_path / "r.sqlite", "--quiet"])
    assert code == 0
    assert "model nau: the NAU's regularizer" in err and "reaches 50% of its weight (λ 0.005 of 0.01)" in err


# -- the card of a command ------------------------------------------------------------------
def card_rows(run_nalm, *argv) -> dict[str, str]:
    code, out, err = run_nalm(["show", "madsen2020-static", *argv])
    assert code == 0, err
    rows = {}
    for line in out.splitlines():
        if line.startswith("  ") and not line.strip().startswith("source:") and "  " in line.strip():
            name, value = line.strip().split("  ", 1)
            rows[name] = value.strip()
    return rows


def test_the_card_shows_the_schedules_in_steps_of_the_run(run_nalm):
    rows = card_rows(run_nalm, "--units", "nau", "nau/nmu", "--iterations", "2000", "--seeds", "3",
                     "--targets", "add", "mul")
    assert rows["iterations"].startswith("2,000") and rows["seeds"].startswith("3")
    assert rows["models"] == "nau, nau/nmu" and rows["targets"] == "add, mul"
    assert "model nac" not in rows
    assert "schedules: NAU regularizer λ 0 → 0.01 over steps 5,000 → 50,000" in rows["model nau"]
    assert "never turns on in 2,000 iterations" in rows["model nau"]
    assert "regularizer_start=400.0" in rows["model nau/nmu"]  # 20% of this run, not of the default's
    assert "NAU and NMU regularizer λ 0 → 10 over steps 400 → 800" in rows["model nau/nmu"]
    assert "never" not in rows["model nau/nmu"]


def test_the_default_card_shows_whole_schedules(run_nalm):
    rows = card_rows(run_nalm)
    assert "over steps 5,000 → 50,000 (regularizer_start, regularizer_end)" in rows["model nau"]
    assert "over steps 10,000 → 20,000" in rows["model nau/nmu"]
    assert not any("never" in value or "reaches" in value for value in rows.values())


def test_the_card_of_a_config_file_is_that_of_its_flags(tmp_path, run_nalm):
    path = tmp_path / "c.toml"
    path.write_text('units = ["nau", "nau/nmu"]\niterations = 2000\nseeds = 3\ntargets = ["add", "mul"]\n')
    assert card_rows(run_nalm, "--config", path) == card_rows(
        run_nalm, "--units", "nau", "nau/nmu", "--iterations", "2000", "--seeds", "3", "--targets", "add", "mul")


def test_the_card_at_paper_scale(run_nalm):
    rows = card_rows(run_nalm, "--paper-scale", "--units", "nau/nmu")
    assert rows["iterations"].startswith("5,000,000") and rows["seeds"].startswith("100")
    assert "over steps 1,000,000 → 2,000,000" in rows["model nau/nmu"]


# -- config files -----------------------------------------------------------------------------
SETTINGS = {"lr": 0.01, "eval_every": 100, "unit_options": {"nau": {"regularizer_scale": 0.1}}}
TOML = 'lr = 0.01\neval_every = 100\n[unit_options.nau]\nregularizer_scale = 0.1\n'


def test_toml_and_json_files_give_what_inline_json_gives(tmp_path, run_nalm):
    (tmp_path / "c.toml").write_text(TOML)
    (tmp_path / "c.json").write_text(json.dumps(SETTINGS))
    common = ["madsen2020-static", "--units", "nau", "--targets", "add"]
    inline = printed(run_nalm, *common, "--config", json.dumps(SETTINGS))
    assert inline["models"]["nau"]["lr"] == 0.01
    assert inline["models"]["nau"]["unit_options"]["nau"] == {"regularizer_scale": 0.1}  # replaces the experiment's
    assert printed(run_nalm, *common, "--config", tmp_path / "c.toml") == inline
    assert printed(run_nalm, *common, "--config", tmp_path / "c.json") == inline


def test_a_file_holds_the_whole_command_and_flags_override_it(tmp_path, run_nalm):
    path = tmp_path / "c.toml"
    path.write_text('experiment = "madsen2020-static"\nunits = ["nau", "nau/nmu"]\ntargets = ["add"]\nseeds = 3\n'
                    'iterations = 2000\n[models.nau]\nlr = 0.05\niterations = 900\n')
    config = printed(run_nalm, "madsen2020-static", "--config", path)
    assert config["units"] == ["nau", "nau/nmu"] and config["targets"] == ["add"] and config["seeds"] == 3
    assert config["models"]["nau"]["lr"] == 0.05 and config["models"]["nau"]["iterations"] == 900
    assert config["models"]["nau/nmu"]["lr"] == 0.001 and config["models"]["nau/nmu"]["iterations"] == 2000
    flags = printed(run_nalm, "madsen2020-static", "--config", path, "--units", "nau", "--seeds", "2",
                    "--iterations", "300")
    assert flags["units"] == ["nau"] and flags["seeds"] == 2
    assert flags["models"]["nau"]["iterations"] == 300 and flags["models"]["nau"]["lr"] == 0.05  # the flag wins


BAD_CONFIGS = {  # file name, its text, a word of the message
    "missing file": ("absent.toml", None, "no config file at"),
    "bad TOML": ("c.toml", "lr = = 1\n", "not valid TOML"),
    "bad JSON": ("c.json", '{"lr": 0.01', "not valid JSON"),
    "JSON not a table": ("c.json", "[1, 2]", "table of settings"),
    "a selection of the wrong kind": ("c.json", '{"seeds": "3"}', "seeds must be a positive integer"),
    "another experiment's": ("c.json", '{"experiment": "blog-static"}', "blog-static"),
    "a misspelt model": ("c.json", '{"models": {"nua": {"lr": 0.1}}}', "models.nua"),
    "a model's settings not a table": ("c.toml", 'models = {nau = 3}\n', "models.nau"),
    "an unknown setting of a model": ("c.json", '{"models": {"nau": {"bogus": 1}}}', "bogus"),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_a_bad_config_file_is_one_line(case, tmp_path, run_nalm):
    name, text, word = BAD_CONFIGS[case]
    if text is not None:
        (tmp_path / name).write_text(text)
    for command in ("run", "show"):
        code, out, err = run_nalm([command, "madsen2020-static", "--units", "nau", "--config", tmp_path / name,
                                   *(["--print-config"] if command == "run" else [])])
        assert code == 2 and out == "" and len(err.splitlines()) == 1, err
        assert err.startswith("nalm: error: ") and word in err, err


def test_without_tomllib_or_tomli_toml_is_refused_in_one_line(tmp_path, run_nalm, monkeypatch):
    (tmp_path / "c.toml").write_text(TOML)
    monkeypatch.setitem(sys.modules, "tomllib", None)  # Python 3.10: no tomllib
    monkeypatch.setitem(sys.modules, "tomli", None)
    code, out, err = run_nalm(["show", "madsen2020-static", "--config", tmp_path / "c.toml"])
    assert code == 2 and "nalm[toml]" in err and len(err.splitlines()) == 1


# -- the resolved config, printed and read back -------------------------------------------------
def test_the_printed_config_reads_back_to_the_same_config(tmp_path, run_nalm):
    first = printed(run_nalm, "mistry2022-single", "--units", "npu", "nau", "--iterations", "300",
                    "--config", '{"eval_samples": 100}')
    npu = first["models"]["npu"]
    assert npu["lr"] == 0.005 and npu["iterations"] == 300 and npu["eval_samples"] == 100
    assert npu["targets"]["div"]["unit_options"]["npu"]["beta_start"] == 1e-9  # per target where they differ
    assert npu["targets"]["add"]["unit_options"]["npu"]["beta_start"] == 1e-7 and "unit_options" not in npu
    path = tmp_path / "resolved.json"
    path.write_text(json.dumps(first))
    assert printed(run_nalm, "mistry2022-single", "--config", path) == first


def test_a_run_from_the_printed_config_is_the_same_runs(tmp_path, run_nalm):
    """Fed back, the printed config plans runs with the same stored configs (the same keys: a
    rerun resumes); a data-set experiment's settings are printed by its own names."""
    experiment = EXPERIMENTS["trask2018-translation"]
    overrides = {"iterations": 7, "batch_size": 4, "eval_sequences": 8}
    path = tmp_path / "resolved.json"
    path.write_text(json.dumps(printed(run_nalm, experiment.name, "--units", "lstm+nau", "--targets", "number",
                                       "--seeds", "2", "--config", json.dumps(overrides))))
    from nalm.cli.command import read_config

    again = read_config(str(path))
    assert "device" not in again["models"]["lstm+nau"]
    for name in ("experiment", "units", "targets", "seeds"):
        again.pop(name)
    kwargs = {"models": ["lstm+nau"], "targets": ["number"], "seeds": 2}
    assert ([run.stored for run in prepare(experiment, overrides=again, **kwargs).runs]
            == [run.stored for run in prepare(experiment, overrides=overrides, **kwargs).runs])


def test_printing_the_config_writes_nothing(tmp_path, run_nalm, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed(run_nalm, "madsen2020-static", "--units", "nau", "--results", tmp_path / "r.sqlite")
    assert list(tmp_path.iterdir()) == []
