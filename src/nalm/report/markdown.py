"""Markdown reports: the published table's shape, our numbers, the published ones beside them."""
from __future__ import annotations

import json
import math

from ..tasks import task_to_dict
from .published import Published
from .summary import Cell, baseline_name, model_order, task_key

METRIC_NAMES = {
    "normalized_interpolation": "normalized error, interpolation (median over seeds; 100 = untrained {baseline}, 0 = perfect)",
    "normalized_extrapolation": "normalized error, extrapolation (median over seeds; 100 = untrained {baseline}, 0 = perfect)",
    "success_rate": "success rate (Madsen & Johansen's criterion) with a Wilson 95% interval",
    "extrapolation_mae": "mean absolute error of the final model on the extrapolation set (median over seeds)",
    "extrapolation_mse": "mean squared error of the final model on the extrapolation set (median over seeds)",
    "best_extrapolation_mse": "extrapolation MSE at the best interpolation step, the error success is judged on "
                              "(median over seeds)",
    "formulas": "seeds whose network computes the target exactly: its simplest formula is the target and reproduces "
                "the network within 1e-3 of the size of its terms (`nalm explain`; runs.csv's formula_error says how "
                "close each formula is; –: no formula, or one read back by an earlier nalm: `nalm explain RUN_ID` "
                "reads it again)",
}


def task_note(experiment, task_index: int, task: str) -> str:
    """How a stored task differs from the experiment's: nothing, the paper's, or custom."""
    def key(t) -> str:
        return task_key(task_to_dict(t))

    workload = experiment.workload
    if task == key(workload.tasks[task_index]):
        return ""
    if task in map(key, workload.paper_tasks):
        return "the paper's task, "
    stored = json.loads(task)
    lengths = f", {stored['length']} → {stored['extrapolation_length']} steps" if "length" in stored else ""
    return f"custom ranges {stored['interpolation']} → {stored['extrapolation']}{lengths}, "


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "inf"
    if value == 0:
        return "0"
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e5 else f"{value:.2e}"


def run_id(value: int | None) -> str:
    return "–" if value is None else str(value)


def percent(rate: float) -> str:
    return f"{100 * rate:.0f}%"


def value(cell: Cell, metric: str) -> str:
    if metric == "formulas":
        return "–" if cell.formulas is None else f"{cell.formulas}/{cell.seeds}"
    if metric == "success_rate":
        low, high = cell.success_interval
        return f"{percent(cell.success_rate)} [{percent(low)}, {percent(high)}]"
    if getattr(cell, metric) is None:
        return "–"
    median, *bounds = getattr(cell, metric)
    return interval(median, bounds)


def published_value(published: Published, label: str, target: str) -> str:
    v = published.values.get(label, {}).get(target)
    if v is None:
        return "–"
    return percent(v) if published.metric == "success_rate" else number(v)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def render(experiment, cells: list[Cell]) -> str:
    """The whole report of an experiment on arithmetic tasks
    (:class:`~nalm.experiments.arithmetic.ArithmeticTasks`) as Markdown."""
    workload = experiment.workload
    if not cells:
        return f"# {experiment.name}\n\nNo stored runs yet: `nalm run {experiment.name}` first.\n"
    models = model_order(experiment.models, (c.model for c in cells))
    targets = [t for t in experiment.targets if any(c.target == t for c in cells)]
    targets += sorted({c.target for c in cells} - set(targets))
    iterations = sorted(set().union(*(c.iterations for c in cells)))
    seeds = sorted({c.seeds for c in cells})
    out = [f"# {experiment.name}", "", experiment.description, "",
           f"Our runs: {', '.join(map(str, iterations))} iterations, {'/'.join(map(str, seeds))} seeds per cell.", ""]
    settings = list(dict.fromkeys(c.setting for c in cells))
    rates = {s.lr for s in settings}
    for run_setting in settings:
        label = workload.task_label(run_setting.task_index)
        if len(settings) > 1:
            custom = task_note(experiment, run_setting.task_index, run_setting.task)
            rate = f", lr {run_setting.lr:g}" if len(rates) > 1 else ""
            out += [f"## {label + ', ' if label else ''}{custom}{run_setting.iterations} iterations{rate}", ""]
        by_key = {(c.model, c.target): c for c in cells if c.setting == run_setting}
        for metric in dict.fromkeys([workload.primary, "normalized_extrapolation", "success_rate", "formulas"]):
            out += [f"**{METRIC_NAMES[metric].format(baseline=baseline_name(workload.baseline_model))}**", ""]
            rows = [[t] + [value(by_key[(m, t)], metric) if (m, t) in by_key else "–" for m in models] for t in targets]
            out += table(["target", *models], rows) + [""]
    if len(workload.tasks) > 1:
        out += success_matrix(workload, cells, models, targets)
    for published in experiment.published:
        by_key, _ = comparable_cells(experiment, cells, published.task)
        out += published_section(experiment, published, by_key, targets, seeds)
    out += deviations_section(experiment)
    out += ["## Every cell", "", "Median run, best run: the ids of the cell's run at the median and at the lowest "
            "normalized extrapolation error; `nalm explain ID` reads its formula, `nalm runs list "
            f"{experiment.name}` lists every run.", ""]
    rows = [[workload.task_label(c.task_index) or "–", str(c.setting.iterations), f"{c.setting.lr:g}", c.model,
             c.target, str(c.seeds), str(c.diverged),
             value(c, "normalized_interpolation"), value(c, "normalized_extrapolation"), value(c, "success_rate"),
             number(c.solved_at[0]) if c.solved_at else "–", number(c.sparsity_error), value(c, "formulas"),
             run_id(c.median_run), run_id(c.best_run)]
            for c in cells]
    out += table(["range", "iterations", "lr", "model", "target", "seeds", "diverged", "norm. interp.", "norm. extrap.",
                  "success", "solved at (median)", "sparsity error", "formula = target", "median run", "best run"], rows)
    return "\n".join(out) + "\n"


def comparable_cells(experiment, cells: list[Cell], task_index: int) -> tuple[dict, list[int]]:
    """The cells a published table is compared with, by (model, target): the longest runs of each
    on the experiment's own task ``task_index`` (not one given by ``--interpolation``; a target
    tested on tasks of its own, such as heim2020-npu's √x, on the first of those), at the model's
    own learning rate where that was run; and their iterations (one count, unless the source
    ran some models shorter, as heim2020-npu-arithmetic's NMU)."""
    workload = experiment.workload
    if task_index >= len(workload.tasks):  # the tasks were replaced (--interpolation)
        return {}, []

    def own_task(target: str) -> tuple[int, str]:
        indices = workload.task_indices(target)
        index = task_index if task_index in indices else indices[0]
        return index, task_key(task_to_dict(workload.tasks[index]))

    def own_rate(cell: Cell) -> bool:
        return cell.setting.lr == experiment.train_overrides(cell.model, cell.target).get("lr", experiment.train.lr)

    tasks = {target: own_task(target) for target in {c.target for c in cells}}
    comparable = [c for c in cells if (c.setting.task_index, c.setting.task) == tasks[c.target]]
    longest: dict[tuple[str, str], int] = {}
    for c in comparable:
        longest[c.model, c.target] = max(longest.get((c.model, c.target), 0), max(c.iterations))
    comparable = [c for c in comparable if max(c.iterations) == longest[c.model, c.target]]
    if any(own_rate(c) for c in comparable):
        comparable = [c for c in comparable if own_rate(c)]
    return {(c.model, c.target): c for c in comparable}, sorted({max(c.iterations) for c in comparable})


def success_matrix(workload, cells: list[Cell], models: list[str], targets: list[str]) -> list[str]:
    """Every task side by side: successes/seeds per (model, target), one column per task."""
    indices = sorted({c.task_index for c in cells})
    by_key = {(c.model, c.target, c.task_index): c for c in cells}
    rows = [[model, target] + [f"{by_key[key].successes}/{by_key[key].seeds}" if key in by_key else "–"
                               for key in ((model, target, i) for i in indices)]
            for model in models for target in targets if any((model, target, i) in by_key for i in indices)]
    header = ["model", "target", *(workload.task_label(i) or str(i) for i in indices)]
    return ["## Successes by task", "", "Successful seeds / seeds (Madsen & Johansen's criterion).", ""] + \
        table(header, rows) + [""]


def deviations_section(experiment) -> list[str]:
    """Where the experiment departs from its source, as on its protocol card (`nalm show`)."""
    out = ["## Where this protocol departs from its source", ""]
    if not experiment.all_deviations():
        return out + [f"Nowhere: every setting follows its source (`nalm show {experiment.name}`).", ""]
    out += [f"- **{d.setting}**: source: {d.reference}; nalm: {d.ours}. Reason: {d.reason}" for d in experiment.all_deviations()]
    return out + ["", f"Every setting and its source: `nalm show {experiment.name}`.", ""]


def published_iterations(paper, published: Published, model: str, target: str) -> int:
    """The steps the published ``model`` trained for on ``target``: the published protocol's, or
    the model's own where the experiment at paper scale (``paper``) runs it for a count of its
    own, as the source did (heim2020-npu-arithmetic's NMU)."""
    own = paper.config_for(model, target).iterations
    return own if own != paper.train.iterations else published.protocol["iterations"]


def published_section(experiment, published: Published, by_key: dict, targets: list[str], seeds) -> list[str]:
    """Ours beside the published numbers, and where the protocols differ: each cell's iterations
    against its published model's (:func:`published_iterations`), and the seeds."""
    ours_metric = published.metric
    out = [f"## Beside the published numbers: {published.source}", ""]
    rows = []
    for label, model in published.models.items():
        row = [f"{label} (`{model}`)"]
        for t in targets:
            cell = by_key.get((model, t))
            ours = "–" if cell is None else (
                percent(cell.success_rate) if ours_metric == "success_rate"
                else "–" if getattr(cell, ours_metric) is None else number(getattr(cell, ours_metric)[0]))
            row.append(f"{ours} / {published_value(published, label, t)}")
        rows.append(row)
    out += ["Each cell: ours / published.", ""] + table(["model", *targets], rows) + [""]
    out += solved_and_sparsity(published, by_key, targets)
    differences = []
    if "iterations" in published.protocol:
        paper = experiment.at_paper_scale()
        pairs = sorted({(max(cell.iterations), published_iterations(paper, published, model, target))
                        for (model, target), cell in by_key.items() if model in published.models.values()})
        differences += [f"iterations: ours {ours}, published {theirs}" for ours, theirs in pairs if ours != theirs]
    if "seeds" in published.protocol and list(seeds) != [published.protocol["seeds"]]:
        differences.append(f"seeds: ours {', '.join(map(str, seeds))}, published {published.protocol['seeds']}")
    if differences:
        out += ["The protocols differ, so compare with care: " + "; ".join(differences) + ".", ""]
    else:
        out += ["Our protocol matches the published one in iterations and seeds.", ""]
    return out


def interval(mean: float | None, bounds) -> str:
    """``mean [low, high]``, or the mean alone where there is no interval (one value)."""
    if mean is None:
        return "–"
    if bounds is None or any(b is None or math.isnan(b) for b in bounds):
        return number(mean)
    return f"{number(mean)} [{number(bounds[0])}, {number(bounds[1])}]"


def solved_and_sparsity(published: Published, by_key: dict, targets: list[str]) -> list[str]:
    """Ours beside the published solved-at steps and sparsity errors, one row per (target,
    model) where either side has a successful seed; nothing where the table gives neither."""
    if not published.solved_at and not published.sparsity_error:
        return []
    rows = []
    for t in targets:  # grouped by target, as the published table is
        for label, model in published.models.items():
            cell = by_key.get((model, t))
            solved = published.solved_at.get(label, {}).get(t)
            sparsity = published.sparsity_error.get(label, {}).get(t)
            if not (solved or sparsity or (cell is not None and cell.solved_at)):
                continue
            ours_solved = cell.solved_at if cell is not None and cell.solved_at else None
            rows.append([
                t, f"{label} (`{model}`)",
                f"{number(ours_solved[0]) if ours_solved else '–'} / {number(solved[0]) if solved else '–'}",
                f"{interval(cell.solved_at_mean, ours_solved[1:]) if ours_solved else '–'} / "
                f"{interval(solved[1], solved[2:]) if solved else '–'}",
                f"{interval(cell.sparsity_error, cell.sparsity_interval) if cell is not None else '–'} / "
                f"{interval(sparsity[0], sparsity[1:]) if sparsity else '–'}",
            ])
    if not rows:
        return []
    header = ["target", "model", "solved at, median", "solved at, mean [95%]", "sparsity error, mean [95%]"]
    return ["Over the successful seeds: the first evaluated step whose extrapolation error is under the threshold "
            "(solved at), and the largest distance of a weight from -1, 0 or 1 at the best step (sparsity error). "
            "Each cell: ours / published. Our intervals are Student-t intervals of the mean; the published ones "
            f"are {published.intervals or 'as the source computed them'}. Steps compare only between runs of one "
            "length.", ""] + table(header, rows) + [""]
