"""Units from outside nalm: by import path, entry point or registration; populations of units
that know nothing of members (vmap, or one member after another); their runs' stored versions."""
from __future__ import annotations

import io
import os
import warnings
from contextlib import redirect_stderr
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from nalm.report.summary import one_table, one_version_per_model
from nalm.tasks import presets
from nalm.train import Member, TrainConfig, train_population
from nalm.units import NAU, build_model, seed_members_, unit_class
from nalm.units.custom import ENTRY_POINT_GROUP, Memberwise, register_unit, source_record

HERE = __name__  # this module's import path, e.g. tests.units.test_custom


class PlainNAU(nn.Module):
    """A NAU-like unit that knows nothing of populations: clipped weights, a sparsity regularizer."""

    def __init__(self, in_features, out_features, scale: float = 0.1):
        super().__init__()
        self.scale = scale
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.uniform_(self.weight, -0.5, 0.5)

    def forward(self, x):
        return x @ self.weight.T

    def regularization(self, step):
        w = self.weight.abs()
        return self.scale * torch.minimum(w, 1 - w).mean() * min(step / 100, 1.0)

    def project_(self):
        self.weight.clamp_(-1, 1)


class Unvmappable(PlainNAU):
    """vmap cannot run it (a Python branch on a tensor's value)."""

    def forward(self, x):
        if float(self.weight.sum()) > 1e9:
            return x
        return x @ self.weight.T


class NotAModule:
    def __init__(self, in_features, out_features):
        pass


class WrongArguments(nn.Module):
    def __init__(self, size):
        super().__init__()


def test_an_import_path_names_a_plain_unit_and_its_members_start_as_it_does_alone():
    cls = unit_class(f"{HERE}:PlainNAU")
    assert issubclass(cls, Memberwise) and cls.base is PlainNAU
    with pytest.warns(UserWarning, match="PlainNAU does not take members=; .*torch.func.vmap"):
        net = build_model(f"nau/{HERE}:PlainNAU", 4, 1, hidden=3, members=3, dtype=torch.float64)
    seed_members_(net, [0, 1, 2])
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    torch.manual_seed(2)
    alone = build_model(f"nau/{HERE}:PlainNAU", 4, 1, hidden=3, dtype=torch.float64)
    assert torch.allclose(net(x)[2], alone(x[2]), rtol=0, atol=1e-12)
    torch.manual_seed(2)
    NAU(4, 3, dtype=torch.float64)  # the first layer draws first
    raw = PlainNAU(3, 1).double()
    assert torch.equal(alone[1].weight, raw.weight)
    assert net[1].regularization(50).shape == (3,)
    assert torch.allclose(net[1].regularization(50)[2], alone[1].regularization(50))


@pytest.mark.parametrize("cls, path", [(PlainNAU, "vmap"), (Unvmappable, "loop")])
def test_a_plain_unit_trains_on_the_madsen_task_as_it_would_alone(cls, path):
    name = register_unit(cls)
    config = TrainConfig(iterations=60, eval_every=20, eval_samples=64, hidden=None, dtype="float64", lr=0.05,
                         unit_options={name: {"scale": 1.0}})
    task = presets.madsen2020()
    members = [Member(seed, "add", task) for seed in (0, 1, 2)]
    with warnings.catch_warnings():  # said once per class and path (the first test checks it)
        warnings.simplefilter("ignore")
        population = train_population(name, members, config)
    alone = train_population(name, members[1:2], config)[0]
    for key, value in alone.weights.items():
        assert np.allclose(population[1].weights[key], value, rtol=0, atol=1e-10), key
    assert population[1].metrics["interpolation_mse"] == pytest.approx(alone.metrics["interpolation_mse"], rel=1e-9)
    assert np.abs(population[1].weights["0.weight"]).max() <= 1  # project_ ran on every member
    assert population[1].metrics["sparsity_error"] is not None
    assert unit_class(name)(100, 1, members=2).path == path


BAD = {
    "no module": ("nalm_no_such_module:Unit", "unit 'nalm_no_such_module:Unit': no module named 'nalm_no_such_module'"),
    "no class": (f"{HERE}:Missing", "has no 'Missing'"),
    "not a module class": (f"{HERE}:NotAModule", "is not a torch.nn.Module class"),
    "wrong constructor": (f"{HERE}:WrongArguments", "constructor must take (in_features, out_features)"),
    "half a path": (":PlainNAU", "an import path is MODULE:CLASS"),
    "unknown name": ("no-such-unit", "unknown unit 'no-such-unit'; known units: nac, "),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_unit_names_fail_in_one_line(case):
    name, message = BAD[case]
    with pytest.raises(ValueError) as error:
        unit_class(name)
    assert message in str(error.value) and "\n" not in str(error.value)


def install_units(folder, monkeypatch, **entries: str) -> None:
    """Make ``folder`` hold an installed package whose ``nalm.units`` entry points are ``entries``
    (name -> MODULE:CLASS), as ``pip install`` would, and put it on the import path."""
    info = folder / "my_units-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-units\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(folder))


def test_an_installed_package_registers_units_by_entry_point(tmp_path, monkeypatch):
    install_units(tmp_path, monkeypatch, **{"plain-nau": f"{HERE}:PlainNAU", "broken": "nalm_no_such_module:Unit"})
    assert unit_class("plain-nau").base is PlainNAU
    with pytest.raises(ValueError, match="its entry point nalm_no_such_module:Unit does not load"):
        unit_class("broken")


def test_runs_of_two_versions_of_a_unit_share_a_report_but_never_one_cell():
    record = source_record(PlainNAU)
    assert record["import"] == f"{HERE}:PlainNAU" and len(record["source_sha256"]) == 64
    config = {"generator": {}, "custom_units": {f"{HERE}:PlainNAU": record}}
    changed = {"generator": {}, "custom_units": {f"{HERE}:PlainNAU": {**record, "source_sha256": "0" * 64}}}
    one_table([config, changed])  # one report: each version its own model (nalm.report.selection)
    runs = [SimpleNamespace(model=f"{HERE}:PlainNAU", config=c) for c in (config, changed)]
    one_version_per_model(runs[:1] * 2)
    with pytest.raises(ValueError, match=f"the runs of {HERE}:PlainNAU come from 2 versions of its units' source "
                                         f"\\(00000000, {record['source_sha256'][:8]}\\)"):
        one_version_per_model(runs)


def runs_of_cli(tmp_path, argv: list[str]):
    """``nalm run EXPERIMENT ...`` (one process, quiet, its warnings about plain units silenced) into a
    fresh store; the experiment's stored runs."""
    from nalm.cli.main import main
    from nalm.results import ResultsStore

    results = tmp_path / "r.sqlite"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["run", *argv, "--workers", "1", "--results", str(results), "--quiet"]) == 0
    with ResultsStore(results) as store:
        return store.runs(argv[0])


def test_the_command_line_takes_an_import_path_and_stores_the_units_version(tmp_path, monkeypatch):
    runs = runs_of_cli(tmp_path, ["madsen2020-static", "--units", f"{HERE}:PlainNAU", "--targets", "add", "--seeds",
                                  "2", "--iterations", "20", "--config", '{"eval_samples": 32, "eval_every": 10}'])
    assert {r.model for r in runs} == {f"{HERE}:PlainNAU"} and len(runs) == 2
    assert runs[0].config["custom_units"] == {f"{HERE}:PlainNAU": source_record(PlainNAU)}


STATIC = ["blog-static", "trask2018-identity", "trask2018-static", "trask2018-recurrent", "madsen2020-static",
          "mistry2022-single"]


@pytest.mark.parametrize("experiment", STATIC)
def test_a_unit_of_ones_own_runs_in_every_static_experiment(experiment, tmp_path, monkeypatch):
    """By entry point (an installed package's name) as well as by import path, through the CLI."""
    from nalm.experiments import get_experiment

    install_units(tmp_path, monkeypatch, **{"plain-nau": f"{HERE}:PlainNAU"})
    target = get_experiment(experiment).targets[0]
    runs = runs_of_cli(tmp_path, [experiment, "--units", "plain-nau", f"{HERE}:PlainNAU", "--targets", target,
                                  "--seeds", "1", "--iterations", "4", "--config", '{"eval_samples": 16, "eval_every": 2}'])
    assert {r.model for r in runs} == {"plain-nau", f"{HERE}:PlainNAU"}
    assert all(r.config["custom_units"] for r in runs)


FAILING = """
import sys
import torch
from torch import nn


class NoParameters(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()

    def forward(self, x):
        return x[..., :1] * 2


class TwoOutputs(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(out_features, in_features))

    def forward(self, x):
        return x @ self.weight.T, 1


class FailsWhileTraining(nn.Module):
    calls = 0

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(out_features, in_features) / 4)

    def forward(self, x):
        FailsWhileTraining.calls += 1
        if FailsWhileTraining.calls > 20:
            raise RuntimeError("the unit's own bug")
        return x @ self.weight.T
"""


@pytest.mark.parametrize("unit, message", [
    ("failing_units:NoParameters", "unit failing_units:NoParameters: it has no parameters, so there is nothing to train"),
    ("failing_units:TwoOutputs", "unit failing_units:TwoOutputs: its forward must return one tensor"),
    ("exits_on_import:Unit", "module 'exits_on_import' does not import: SystemExit: 3"),
    ("failing_units:FailsWhileTraining", "unit failing_units:FailsWhileTraining raised RuntimeError in its forward: "
                                         "the unit's own bug"),
])
def test_a_unit_that_fails_says_so_in_one_line_naming_the_unit(unit, message, tmp_path, monkeypatch):
    from nalm.cli.main import main

    (tmp_path / "failing_units.py").write_text(FAILING)
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    err = io.StringIO()
    with redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["run", "madsen2020-static", "--units", unit, "--targets", "add", "--seeds", "1", "--iterations",
                     "50", "--config", '{"eval_samples": 16, "eval_every": 25}', "--workers", "1", "--quiet",
                     "--results", str(tmp_path / "r.sqlite")])
    lines = err.getvalue().strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], lines


def test_a_stored_run_makes_nalm_import_only_a_module_the_user_names(tmp_path, monkeypatch, capsys):
    """A crafted store names a module in a run: `nalm explain` imports it only when told to."""
    from nalm.cli.main import main

    (tmp_path / "crafted_unit.py").write_text(FAILING + "\nimport os\nos.environ['NALM_CRAFTED_IMPORTED'] = '1'\n"
                                               "Unit = FailsWhileTraining\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("NALM_CRAFTED_IMPORTED", raising=False)
    store = tmp_path / "r.sqlite"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["run", "madsen2020-static", "--units", "crafted_unit:Unit", "--targets", "add", "--seeds", "1",
                     "--iterations", "2", "--config", '{"eval_samples": 16, "eval_every": 2, "hidden": null}',
                     "--workers", "1", "--quiet", "--results", str(store)]) == 0
    import sys

    sys.modules.pop("crafted_unit")  # a fresh process: nothing imported yet
    monkeypatch.delenv("NALM_CRAFTED_IMPORTED")
    capsys.readouterr()
    assert main(["explain", "1", "--results", str(store)]) == 2
    err = capsys.readouterr().err
    assert "imported from module 'crafted_unit' only if you name it: add --units crafted_unit:Unit" in err
    assert "NALM_CRAFTED_IMPORTED" not in os.environ and "crafted_unit" not in sys.modules
    main(["explain", "1", "--units", "crafted_unit:Unit", "--results", str(store)])  # named: imported, then read
    assert os.environ.get("NALM_CRAFTED_IMPORTED") == "1" and "only if you name it" not in capsys.readouterr().err
