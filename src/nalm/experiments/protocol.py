"""An experiment's protocol card: every setting it runs with, where each comes from, and
where it deliberately departs from its source.

The card is computed from the :class:`~nalm.experiments.spec.Experiment` itself (its workload,
training config, each model's resolved unit options and the options the built units
report), so it cannot drift from what ``nalm run`` does; given a command's selection and
overrides (:func:`~nalm.runner.plan.resolve`), it is that command's card, the steps of each
unit's schedules those of its run. Its rows are the workload's
(:meth:`~nalm.experiments.spec.Workload.card`: :func:`arithmetic_card`, :func:`dataset_card`).
Sources are the experiment's own ``sources`` entries, looked up by the setting's name; a
model's row falls back to the sources of the units it is built from (``"unit <name>"``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..philox import GENERATOR
from ..runner.plan import Selection, resolve, schedule_texts
from ..tasks import task_to_dict
from ..units import build_model
from .spec import Deviation, Experiment

MISSING = "(no source given)"
TRAINING_STEP_SOURCE = ("nalm (nalm.train.fused); it agrees with autograd to rounding: gradients within 1e-10, "
                        "weights after 100 Adam steps within 1e-10 in float64 (tests/train/test_fused.py)")
RANDOM_NUMBERS_SOURCE = ("Salmon, Moraes, Dror & Shaw 2011 (Philox4x32-10), checked against Random123's "
                         "known-answer vectors; the layout is nalm's (nalm.philox)")


@dataclass(frozen=True)
class Setting:
    """One line of a protocol card."""

    name: str
    value: str
    source: str


@dataclass(frozen=True)
class ProtocolCard:
    experiment: str
    description: str
    settings: tuple[Setting, ...]
    deviations: tuple[Deviation, ...]

    def missing_sources(self) -> list[str]:
        """Names of the settings that cite no source."""
        return [s.name for s in self.settings if s.source == MISSING]


def protocol_card(experiment: Experiment, chosen: Selection | None = None, overrides: dict | None = None) -> ProtocolCard:
    """The card of ``experiment`` (paper scale noted beside): of its default command, or of the
    command that selects ``chosen`` (:func:`~nalm.runner.plan.resolve`) with ``overrides``."""
    chosen = chosen or resolve(experiment, overrides=overrides)
    return ProtocolCard(experiment.name, experiment.description,
                        tuple(experiment.workload.card(experiment, chosen, overrides)), experiment.all_deviations())


def arithmetic_card(e: Experiment, workload, chosen: Selection, overrides: dict | None = None) -> list[Setting]:
    """The rows of an experiment on arithmetic tasks: its tasks, training, threshold and baseline,
    each model as built with its options and step schedules, and the published tables."""
    train, tasks = e.common_config(overrides), workload.tasks
    iterations = per_value(workload, train, "iterations", lambda n: f"{n:,}")
    rows: list[tuple[str, str]] = [
        ("task", tasks[0].describe() if len(tasks) == 1 else describe_tasks(tasks)),
        ("ranges", ranges_text(workload)),
        ("targets", ", ".join(chosen.targets)),
        ("models", ", ".join(chosen.models)),
        ("seeds", seeds_text(e, chosen)),
        ("iterations", iterations + paper(e, "iterations", scaled=iterations != f"{train.iterations:,}")),
        ("optimizer", f"{train.optimizer}, lr {rates(train)}"),
        ("batch size", batch_text(train, tasks)),
        ("network", describe_network(train.hidden) if per_value(workload, train, "hidden", str) == str(train.hidden)
         else f"two layers, hidden size {per_value(workload, train, 'hidden', str)}"),
        ("evaluation", f"every {train.eval_every:,} steps on {train.eval_samples:,} interpolation and "
                       f"{train.eval_samples:,} extrapolation samples" + paper(e, "eval_samples")),
        ("threshold", workload.threshold_rule.describe()),
        ("baseline", f"{workload.baseline_models} untrained {workload.baseline_model} networks "
                     f"({describe_network(workload.baseline_config(e, chosen.targets[0], overrides).hidden)}) on each "
                     "member's data, "
                     "the same for every model"),
        ("metric", workload.primary),
        ("random numbers", f"{GENERATOR['name']} version {GENERATOR['version']}: {GENERATOR['layout']}"),
        ("training step", "the fused CPU step where every layer is a NAC, NAC•, NAU, NMU, NALU, G-NALU or MC-FC and batches are "
                          "fresh, PyTorch's autograd otherwise" if train.fused else "PyTorch's autograd"),
    ]
    if workload.paper_tasks:
        rows.insert(2, ("paper task", describe_tasks(workload.paper_tasks)))
    if workload.axis is not None:
        rows.insert(0, ("axis", workload.axis.describe()))
    sources = {"random numbers": RANDOM_NUMBERS_SOURCE, "training step": TRAINING_STEP_SOURCE, **e.sources}
    settings = [Setting(name, value, sources.get(name, MISSING)) for name, value in rows]
    settings += [model_setting(e, workload, model, chosen, train) for model in chosen.models]
    settings += [Setting(f"published: {p.metric}", p.source, p.source) for p in e.published]
    return settings


def dataset_card(e: Experiment, workload, chosen: Selection, overrides: dict | None = None) -> list[Setting]:
    """A data-set experiment's rows: its data, tasks, models (with their options) and training."""
    train = e.common_config(overrides)
    rows: list[tuple[str, str]] = [
        ("data", "bundled substitute by default; --data PATH for the source's own data"),
        *[(f"task {target}", workload.task(target).describe()) for target in chosen.targets],
        ("models", ", ".join(chosen.models)),
        ("seeds", seeds_text(e, chosen)),
        ("iterations", f"{train.iterations:,}" + paper(e, "iterations")),
        ("optimizer", f"{train.optimizer}, lr {rates(train)}"),
        ("batch size", f"{train.batch_size}, drawn fresh every step"),
        ("evaluation", f"every {train.eval_every:,} steps "
                       + workload.evaluation.format(**workload.stored_settings(train)) + paper(e, "eval_samples")),
        *workload.settings.items(),
        ("random numbers", f"{GENERATOR['name']} version {GENERATOR['version']}: {GENERATOR['layout']}"),
    ]
    sources = {"random numbers": RANDOM_NUMBERS_SOURCE, **e.sources}
    settings = [Setting(name, value, sources.get(name, MISSING)) for name, value in rows]
    for model in chosen.models:
        options = {t: chosen.configs[model, t].unit_options for t in chosen.targets_of(model)}
        used = {t: {k: v for k, v in o.items() if k == model} for t, o in options.items()}
        text = ", ".join(options) + " only" if len(options) < len(chosen.targets) else "every target"
        if any(used.values()):
            text += "; options " + json.dumps(next(iter(used.values())))
        source = sources.get(f"model {model}", sources.get("cell", sources.get("models", MISSING)))
        settings.append(Setting(f"model {model}", text, source))
    settings += [Setting(f"published: {p.target} {p.metric}", p.note, p.source) for p in e.published]
    return settings


def seeds_text(experiment: Experiment, chosen: Selection) -> str:
    return f"{len(chosen.seeds)}" + (f" (paper: {experiment.paper_seeds})" if experiment.paper_seeds else "")


def rates(train) -> str:
    return ", ".join(f"{lr:g}" for lr in train.rates)


def paper(experiment: Experiment, key: str, scaled: bool = False) -> str:
    """The paper scale's value of ``key``, noted beside ours; ``scaled``: ours varies per value
    of a sweep's axis, and the paper scale's varies alike."""
    value = experiment.paper_scale.get(key)
    if value is None:
        return ""
    return f" (--paper-scale: {value:,}" + (" times the same factors)" if scaled else ")")


def describe_tasks(tasks) -> str:
    """The fields the tasks share (ranges apart), as ``Kind(field value, ...)``."""
    fields = [task_to_dict(t) for t in tasks]
    shared = {k: v for k, v in fields[0].items()
              if k not in ("kind", "interpolation", "extrapolation") and all(f.get(k) == v for f in fields)}
    return f"{fields[0]['kind']}({', '.join(f'{k} {json.dumps(v)}' for k, v in shared.items())})"


def ranges_text(workload) -> str:
    """The tasks' ranges: the one pair they share, else each task's label."""
    pairs = {(str(t.interpolation), str(t.extrapolation)) for t in workload.tasks}
    if len(pairs) > 1 and workload.task_labels:
        return "; ".join(workload.task_labels)
    task = workload.tasks[0]
    return f"interpolation {task.interpolation}, extrapolation {task.extrapolation}"


def per_value(workload, train, field: str, text) -> str:
    """``text`` of the config's ``field``; of each value's where a sweep's axis changes it.

    >>> from nalm.experiments import get_experiment
    >>> e = get_experiment("madsen2020-hidden-size")
    >>> per_value(e.workload, e.common_config(), "hidden", str)
    '2, 3, 4, 5, 6, 7, 8, 9, 10 (one per value of the axis)'
    """
    axis = workload.axis
    values = [getattr(axis.config(train, i), field) for i in range(len(axis.values))] if axis else []
    if len(set(map(repr, values))) < 2:
        return text(getattr(train, field))
    return f"{', '.join(map(text, values))} (one per value of the axis)"


def describe_network(hidden) -> str:
    if hidden is None:
        return "a single layer"
    if isinstance(hidden, list):
        return f"hidden layers of {', '.join(map(str, hidden))}"
    return f"two layers, hidden size {hidden}"


def model_setting(experiment: Experiment, workload, model: str, chosen: Selection, common) -> Setting:
    """A model's layers with every option they run with and their step schedules in steps of
    the run (per target where they differ), after the settings it runs with beyond ``common``."""
    by_layers: dict[str, list[str]] = {}
    targets = chosen.targets_of(model)
    shared = common.to_dict()
    for target in targets:
        config = chosen.configs[model, target]
        net = build_model(model, workload.tasks[0].in_features, 1, hidden=config.hidden,
                          unit_options=config.unit_options, recurrent=workload.tasks[0].recurrent)
        extra = ", ".join(f"{k} {v}" for k, v in config.to_dict().items()
                          if k != "unit_options" and v != shared.get(k))
        schedules = "; ".join(schedule_texts(net, config.iterations))
        text = (extra + "; " if extra else "") + describe_layers(net) + (f"; schedules: {schedules}" if schedules else "")
        by_layers.setdefault(text, []).append(target)
    if len(by_layers) == 1:
        value = next(iter(by_layers))
        if len(targets) < len(chosen.targets):
            value = f"{', '.join(targets)} only: {value}"
    else:
        value = "; ".join(f"{', '.join(targets)}: {text}" for text, targets in by_layers.items())
    return Setting(f"model {model}", value, model_source(experiment, workload, model))


def model_source(experiment: Experiment, workload, model: str) -> str:
    """The model's own entries (``model M``, ``model training: M``) and those of each part it
    is built from (``unit options: U``, ``init: U``; ``mlp`` for MLPs, ``recurrent`` for the
    recurrent network); a part of the model without any entry leaves it unsourced."""
    sources = experiment.sources
    own = [sources[k] for k in (f"model {model}", f"model training: {model}") if k in sources]
    parts = ["mlp"] if model.startswith("mlp-") else model.split("/")
    if workload.tasks[0].recurrent:
        parts.append("recurrent")
    found = {part: [sources[k] for k in (f"unit options: {part}", f"init: {part}") if k in sources]
             for part in dict.fromkeys(parts)}
    if not own and not all(found.values()):
        return MISSING
    return "; ".join(own + [text for texts in found.values() for text in texts])


def batch_text(train, tasks) -> str:
    fixed = {getattr(t, "train_samples", None) for t in tasks}
    if fixed != {None}:
        return f"full batch: the task's {', '.join(map(str, sorted(fixed)))} fixed training samples"
    return f"{train.batch_size}, drawn fresh every step"


def describe_layers(net) -> str:
    """``NAU(in_features=100, ...) → NMU(...)``: each child module with its options, and its
    init where that is fixed, or an option left at its default (:meth:`~nalm.units.base.ArithmeticUnit.init_description`)."""
    parts = []
    for name, child in net.named_children():
        label = "" if name.isdigit() else f"{name}: "
        describe = getattr(child, "init_description", None)  # a unit's; not other modules'
        scheme = describe() if describe else None
        init = f" with init {scheme}" if scheme else ""
        parts.append(f"{label}{type(child).__name__}({child.extra_repr()}){init}")
    return " → ".join(parts)


def render_card(card: ProtocolCard) -> str:
    """The card as plain text, for ``nalm show``."""
    out = [f"{card.experiment}: {card.description}", ""]
    width = max(len(s.name) for s in card.settings)
    for s in card.settings:
        out.append(f"  {s.name.ljust(width)}  {s.value}")
        out.append(f"  {'':{width}}  source: {s.source}")
    out.append("")
    if card.deviations:
        out.append("Where nalm departs from the source (or follows a quirk of it that a reader would not expect):")
        for d in card.deviations:
            out.append(f"  - {d.setting}: source: {d.reference}; nalm: {d.ours}. Reason: {d.reason}")
    else:
        out.append("No deliberate deviations from the source.")
    return "\n".join(out) + "\n"
