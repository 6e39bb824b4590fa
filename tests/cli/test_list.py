"""``nalm list``: everything that can be named on the command line."""
from __future__ import annotations

import nalm
from nalm.cli.list_cmd import listing
from nalm.cli.main import main
from nalm.experiments import EXPERIMENTS
from nalm.tasks import PRESETS, TARGETS

EXPERIMENT_NAMES = ["blog-static", "trask2018-static", "madsen2020-static", "mistry2022-single"]


def test_listing_returns_the_data_without_printing(capsys):
    data = listing()
    assert capsys.readouterr() == ("", "")  # computing the listing prints nothing
    assert list(data) == ["experiments", "units", "models", "targets", "presets"]
    assert all(isinstance(items, list) and all(isinstance(i, str) for i in items) for items in data.values())
    names = [item.split(":")[0] for item in data["experiments"]]
    assert names == list(EXPERIMENTS)
    assert set(EXPERIMENT_NAMES) <= set(names)
    assert [item.split(":")[0] for item in data["units"]] == list(nalm.UNITS)
    for item, (name, cls) in zip(data["units"], nalm.UNITS.items()):
        assert item == f"{name}: {cls.__name__}"
    assert data["targets"] == list(TARGETS)
    assert {"add", "sub", "mul", "div", "square", "sqrt"} <= set(TARGETS)
    assert data["presets"] == list(PRESETS) and {"blog", "madsen2020", "mistry2022", "trask2018"} <= set(PRESETS)
    assert "mlp-<activation>" in data["models"][0] and "relu6" in data["models"][0]


def test_every_experiment_has_a_description():
    for item in listing()["experiments"]:
        name, description = item.split(": ", 1)
        assert name in EXPERIMENTS and description.strip() == EXPERIMENTS[name].description


def test_nalm_list_prints_the_listing(capsys):
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    expected = []
    for section, items in listing().items():
        expected += [f"{section}:", *(f"  {item}" for item in items)]
    assert lines == expected
    for name in EXPERIMENT_NAMES + list(EXPERIMENTS) + list(nalm.UNITS) + list(TARGETS) + list(PRESETS):
        assert any(line.strip().startswith(name) for line in lines), name
    for section in ("experiments:", "units:", "models:", "targets:", "presets:"):
        assert section in lines


def test_show_and_list_with_an_experiment_print_its_protocol_card(capsys):
    assert main(["show", "madsen2020-static"]) == 0
    shown = capsys.readouterr().out
    assert main(["list", "madsen2020-static"]) == 0
    assert capsys.readouterr().out == shown
    assert shown.startswith("madsen2020-static: ")
    assert "model nau/nmu" in shown and "source:" in shown and "threshold" in shown


def test_show_names_an_unknown_experiment(capsys):
    assert main(["show", "no-such-experiment"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no-such-experiment'" in err and len(err.strip().splitlines()) == 1


def test_a_preset_or_a_misspelt_experiment_is_refused_with_what_was_meant(capsys):
    """A task preset named as an experiment (`nalm show blog`) says what presets are; a near miss
    names the experiment meant; each in one line that lists the experiments."""
    assert main(["show", "blog"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "unknown experiment 'blog': that is a task preset" in err and "did you mean blog-static?" in err
    assert err.rstrip().endswith("known: " + ", ".join(EXPERIMENTS))
    assert main(["run", "madsen2020-statc"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "did you mean madsen2020-static?" in err and "preset" not in err
    assert main(["report", "trask2018"]) == 2
    err = capsys.readouterr().err
    assert "did you mean one of trask2018-identity, trask2018-static," in err and "task preset" in err
    assert main(["show", "no-such-experiment"]) == 2
    assert "did you mean" not in capsys.readouterr().err
