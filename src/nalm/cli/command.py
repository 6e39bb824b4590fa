"""The options that choose what a command trains, shared by ``nalm run`` and ``nalm show``, and
the config file (``--config FILE``) that may hold them.

A config is a table of settings, given inline as JSON or in a ``.toml`` or ``.json`` file:

* the command's selection (each optional): ``units``, ``targets``, ``seeds``, ``paper_scale``,
  ``interpolation``, ``extrapolation``; ``experiment``, if given, must be the command's;
* training settings for every model (``lr``, ``iterations``, ``unit_options``, ...);
* ``models``: settings of one model, ``{"nau": {"lr": 0.01, "targets": {"mul": {...}}}}``, after
  those for every model (:func:`~nalm.experiments.spec.overrides_for`).

A flag given on the command line overrides the file: a selection flag replaces the file's
value, and ``--iterations``, ``--device`` and ``--threads`` apply to every model, whatever its
entry in ``models`` says. ``nalm run ... --print-config`` prints a file of this form that gives
the same command (:func:`printed_config`).

Only argparse is imported here: the experiments are imported when a command runs.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

SELECTION = {"units": "models", "targets": "targets", "seeds": "seeds", "paper_scale": "paper_scale",
             "interpolation": "interpolation", "extrapolation": "extrapolation"}
"""The selection a config may hold, by its key there, with the attribute of its flag."""
KINDS = {"units": (list, "a list of model names"), "targets": (list, "a list of target names"),
         "seeds": (int, "a positive integer"), "paper_scale": (bool, "true or false"),
         "interpolation": (str, "a range, e.g. \"[1,2]\""), "extrapolation": (str, "a range, e.g. \"[2,6]\"")}


def add_command_options(parser) -> None:
    """The options that change what a command trains, and so its protocol card."""
    from ..units.registry import BASELINE_CELLS, UNITS
    from .common import add_targets_option

    parser.add_argument("--units", "--models", nargs="+", dest="models", metavar="MODEL",
                        help=f"models (default: the experiment's): a unit name ({', '.join(UNITS)}), two joined by "
                             "a slash (nau/nmu: first layer, second layer), mlp-<activation>, or for recurrent "
                             f"experiments {', '.join(BASELINE_CELLS)}; a unit of your own as MODULE:CLASS (the "
                             "module importable: PYTHONPATH=. or installed) or by its 'nalm.units' entry point "
                             "(docs/units.md)")
    add_targets_option(parser, "targets (default: the experiment's)")
    parser.add_argument("--seeds", type=int, metavar="N", help="number of seeds, 0..N-1 (default: the experiment's)")
    parser.add_argument("--iterations", type=int, metavar="N", help="training steps (default: the experiment's)")
    parser.add_argument("--paper-scale", action=argparse.BooleanOptionalAction, default=None,
                        help="the published protocol's iterations and seeds (and tasks, where they differ)")
    parser.add_argument("--interpolation", metavar="RANGE",
                        help="training range, e.g. '[1,2]' (one-task experiments; default: the experiment's)")
    parser.add_argument("--extrapolation", metavar="RANGE",
                        help="test range, e.g. '[-6,-2]U[2,6]' (default: the experiment's)")
    parser.add_argument("--config", metavar="FILE|JSON",
                        help="a .toml or .json file, or inline JSON: training settings (e.g. '{\"lr\": 0.01}'), "
                             "per-model settings under \"models\", and any of the options above (units, targets, "
                             "seeds, paper_scale, ...); flags given here override the file (docs/config.md)")


@dataclass
class Command:
    """What a command line asks for: the experiment (at paper scale and with the ranges asked for),
    the selection (``None``: the experiment's), the overrides, and the selection as given."""

    experiment: object  # nalm.experiments.Experiment
    models: list[str] | None
    targets: list[str] | None
    seeds: int | None
    overrides: dict
    given: dict  # the selection given, by its config key (printed back by --print-config)


def command(args, training: tuple[str, ...] = ("iterations",)) -> Command:
    """The command of ``args``: its config (``--config``) with the flags over it. ``training``:
    the flags that are training settings of every model."""
    from ..experiments import get_experiment

    config = read_config(args.config) if getattr(args, "config", None) else {}
    named = config.pop("experiment", args.experiment)
    if named != args.experiment:
        raise ValueError(f"the config is for {named!r}, not {args.experiment!r}")
    given = {}
    for key, attribute in SELECTION.items():
        value = getattr(args, attribute, None)
        if value is None and key in config:
            value = checked(key, config[key])
        config.pop(key, None)
        if value is not None:
            given[key] = value
    if getattr(args, "iterations", None) is not None and args.iterations < 1:
        raise ValueError(f"--iterations must be a positive integer, got {args.iterations} (nothing would train)")
    flags = {name: getattr(args, name) for name in training if getattr(args, name, None) is not None}
    overrides = {**config, **flags}
    if flags and isinstance(overrides.get("models"), dict):  # a flag applies to every model: drop the file's own
        overrides["models"] = {model: without(settings, flags) for model, settings in overrides["models"].items()}
    experiment = get_experiment(args.experiment)
    if given.get("paper_scale"):
        experiment = experiment.at_paper_scale()
    experiment = experiment.with_ranges(given.get("interpolation"), given.get("extrapolation"))
    return Command(experiment, given.get("units"), given.get("targets"), given.get("seeds"), overrides, given)


def without(settings, flags: dict):
    """A model's settings without those the flags set, in its targets' settings too."""
    if not isinstance(settings, dict):
        return settings  # not a table: refused, by name, where it is read
    out = {k: v for k, v in settings.items() if k not in flags}
    if isinstance(out.get("targets"), dict):
        out["targets"] = {t: without(s, flags) for t, s in out["targets"].items()}
    return out


def checked(key: str, value):
    """A selection value of a config, of its kind."""
    kind, text = KINDS[key]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if ok and kind is list:
        ok = all(isinstance(item, str) for item in value)
    if not ok:
        raise ValueError(f"the config's {key} must be {text}, got {value!r}")
    return value


def read_config(value: str) -> dict:
    """The config ``--config`` gives: a ``.toml`` or ``.json`` file, or inline JSON; a table."""
    if value.lower().endswith((".toml", ".json")):
        path = Path(value)
        if not path.is_file():
            raise ValueError(f"no config file at {value}")
        text = path.read_text(encoding="utf-8")
        config = parse_toml(text, value) if value.lower().endswith(".toml") else parse_json(text, f"{value}")
        where = f"the config file {value}"
    else:
        config, where = parse_json(value, "--config"), "--config"
    if not isinstance(config, dict):
        raise ValueError(f"{where} must hold a table of settings (a JSON object), got {type(config).__name__}")
    return config


def parse_json(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        hint = "" if where != "--config" else " (a config file's name ends in .toml or .json)"
        raise ValueError(f"{where} is not valid JSON{hint}: {error}") from None


def parse_toml(text: str, where: str) -> dict:
    """TOML, read by the standard library's tomllib (Python 3.11 on), or by tomli where it is
    installed (``pip install 'nalm[toml]'`` on Python 3.10)."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise ValueError(f"reading {where} needs Python 3.11 or tomli (pip install 'nalm[toml]'); "
                             "or give the config as JSON") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{where} is not valid TOML: {error}") from None


def printed_config(cmd: Command, chosen) -> dict:
    """The config file of the command ``cmd`` whose selection resolved to ``chosen``
    (:class:`~nalm.runner.plan.Selection`): its selection as given (the units and seeds always),
    and each model's training settings as its runs store them, per target where they differ.
    Given back to ``--config``, it makes the same configs."""
    workload = cmd.experiment.workload
    models = {}
    for model in chosen.models:
        per_target = {t: workload.stored_settings(chosen.configs[model, t]) for t in chosen.targets_of(model)}
        first = next(iter(per_target.values()), {})
        common = {k: v for k, v in first.items() if all(s.get(k) == v for s in per_target.values())}
        models[model] = {**common, "targets": {t: {k: v for k, v in s.items() if k not in common}
                                               for t, s in per_target.items()}}
    return {"experiment": cmd.experiment.name, **cmd.given, "units": chosen.models, "seeds": len(chosen.seeds),
            "models": models}
