"""The docs site's experiment pages, one per experiment in nalm's registry, written at each build
(``docs/hooks.py``): its description, the commands that run it, its protocol card (every
setting with its source, every deviation with its reason), the published numbers nalm puts
beside ours, and its latest figures.

The figures are not drawn here (the site trains nothing): ``docs/experiment_figures.py`` runs
each experiment and leaves them, with ``figures.json`` (the command and the nalm commit that
made them), in ``docs/images/experiments/<name>/``. An experiment without them yet gets a page
that says how to make them.
"""
from __future__ import annotations

import functools
import html
import importlib.util
import json
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images" / "experiments"
RECORD = "figures.json"
SECTION = "Experiments"
"""The nav section the pages go in, after what mkdocs.yml lists there (the overview page)."""
FIGURES_COMMAND = "PYTHONPATH=src python docs/experiment_figures.py {name}"
WIDE = 4000  # pixels: a figure wider is shown at its own size, scrolling sideways

CAPTIONS = {
    "error": "Error against the input value, inside and outside the training range.",
    "lengths": "Error against the length of the test sequence.",
    "digits": "Error against the number of digits of the operands.",
    "heatmap": "Normalized error of each model on each target (median over seeds).",
    "success": "Success rate of each model on each target, with Wilson 95% intervals.",
    "curves": "Learning curves: the median over seeds during training.",
}
"""What each of nalm's figures shows, by its name in ``Experiment.figures``, in the order a page
shows them (an experiment's own figure first); a figure named otherwise comes last, under its name."""


def page_path(name: str) -> str:
    """The page of experiment ``name``, relative to docs/: ``experiments/<name>.md``."""
    return f"experiments/{name}.md"


def registered() -> list[str]:
    """The registered experiments' names, in ``nalm list``'s order."""
    from nalm.experiments import registry

    return list(registry.EXPERIMENTS)


def read_record(name: str, images: Path = IMAGES) -> dict | None:
    """The ``figures.json`` of ``name``'s figures, or ``None`` where none have been made."""
    path = images / name / RECORD
    return json.loads(path.read_text()) if path.exists() else None


def with_experiments(nav: list) -> list:
    """``nav`` (mkdocs.yml's) with a page per registered experiment appended to its Experiments
    section, after the entries mkdocs.yml gives it."""
    for i, item in enumerate(nav):
        if isinstance(item, dict) and SECTION in item:
            given = item[SECTION] if isinstance(item[SECTION], list) else [item[SECTION]]
            pages = [{name: page_path(name)} for name in registered()]
            return [*nav[:i], {SECTION: [*given, *(p for p in pages if p not in given)]}, *nav[i + 1:]]
    raise ValueError(f"mkdocs.yml's nav has no {SECTION!r} section for the experiments' pages")


def pages(images: Path = IMAGES) -> dict[str, str]:
    """Every registered experiment's page, by its path relative to docs/."""
    return {page_path(name): experiment_page(name, images) for name in registered()}


def experiment_page(name: str, images: Path = IMAGES) -> str:
    """The Markdown of experiment ``name``'s page."""
    from nalm.experiments import registry
    from nalm.experiments.protocol import protocol_card

    experiment = registry.EXPERIMENTS[name]
    card = protocol_card(experiment)
    return "\n".join([f"# {name}", "", f"**{experiment.description}**", "", *details(name),
                      *commands(experiment), *figures(name, images),
                      *published(experiment), *card_section(card), *deviations(card)])


def details(name: str) -> list[str]:
    """The experiment's module docstring after its first line (the description), as Markdown."""
    # the registry names an experiment after its module, imported when the experiment was looked up
    module = sys.modules.get(f"nalm.experiments.{name.replace('-', '_')}")
    doc = (module.__doc__ or "") if module else ""
    rest = doc.strip().split("\n", 1)[1].strip() if "\n" in doc.strip() else ""
    if not rest:
        return []
    return [sibling("griffe_rst").markdown(rest), ""]


@functools.cache
def sibling(name: str):
    """The module ``docs/<name>.py``, loaded once per process (mkdocs.yml names the docs' modules by
    their files, and docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"nalm_docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scale(experiment) -> str:
    seeds, iterations = experiment.seeds, experiment.train.iterations
    return f"{seeds} seed{'s' * (seeds != 1)}, {iterations:,} iterations"


def commands(experiment) -> list[str]:
    """The commands that run the experiment, report and draw it, each under what it does."""
    name, paper = experiment.name, experiment.at_paper_scale()
    default, published_scale = scale(experiment), scale(paper)
    rows = [(f"the default scale: {default}", f"nalm run {name}")]
    if published_scale != default:
        rows += [(f"the published protocol's scale: {published_scale}\n"
                  "# (--dry-run first: how long it would take here)", f"nalm run {name} --paper-scale")]
    rows += [("tables from the store (--html: one page with the figures)", f"nalm report {name}"),
             ("the figures below, from the store", f"nalm plot {name}"),
             ("the protocol card below", f"nalm show {name}")]
    note = "" if published_scale != default else f" The default is the published protocol's scale ({default})."
    return ["## Run it", "", "```bash", *(line for what, command in rows for line in (f"# {what}", command)), "```", "",
            f"Runs go to `results/nalm.sqlite` (`--results PATH`), and stored runs are skipped, so the same "
            f"command resumes.{note} Every option: [CLI reference](../cli.md#nalm-run).", ""]


def figures(name: str, images: Path) -> list[str]:
    record = read_record(name, images)
    make = FIGURES_COMMAND.format(name=name)
    if record is None:
        return ["## Figures", "", "!!! note \"No figures yet\"",
                f"    Make them with `{make}` (it runs the experiment into a temporary store, at its default scale or "
                "at a smaller one it names, and draws its figures here), then rebuild the site.", ""]
    out = ["## Figures", "",
           f"Made by `{record['command']}` with nalm at commit `{record['commit']}`, and drawn by nalm's own "
           f"plotting (what `{record['plot']}` draws). `{make}` makes them again.", ""]
    if record.get("reduced"):
        out += ['!!! note "At a reduced scale"', f"    {record['reduced']}.", ""]
    named = {file.removeprefix(f"{name}-").removesuffix(".png"): file for file in record["figures"]}
    order = list(CAPTIONS)
    for figure in sorted(named, key=lambda f: order.index(f) if f in order else len(order)):
        out += [image(images / name / named[figure], f"{name}: {figure}"), "", f"*{CAPTIONS.get(figure, figure)}*", ""]
    return out


def image(path: Path, alt: str) -> str:
    """The figure at ``path``, linked to itself: at page width, or where it is wider than
    ``WIDE`` pixels, at its own size in a box that scrolls sideways (page width would shrink its
    text to nothing). The HTML's path is the site's, from the page's folder (``experiments/<name>/``)."""
    link = f"../images/experiments/{path.parent.name}/{path.name}"
    if png_size(path)[0] <= WIDE:
        return f"[![{alt}]({link})]({link})"
    return (f'<div style="overflow-x: auto"><a href="../{link}"><img alt="{html.escape(alt)}" src="../{link}" '
            'style="max-width: none" /></a></div>')


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    header = path.read_bytes()[:24]
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def published(experiment) -> list[str]:
    out = ["## Published numbers", ""]
    if not experiment.published:
        return out + ["nalm holds no published numbers for this experiment.", ""]
    for entry in experiment.published:
        out += PUBLISHED[type(entry).__name__](entry)
    return out


def published_table(published) -> list[str]:
    """A :class:`~nalm.report.published.Published` table: its rows, our model for each, its targets."""
    from nalm.report.markdown import METRIC_NAMES, published_value, table

    targets = list(dict.fromkeys(t for values in published.values.values() for t in values))
    rows = [[escape(label), f"`{model}`", *(published_value(published, label, t) for t in targets)]
            for label, model in published.models.items()]
    protocol = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in published.protocol.items())
    metric = METRIC_NAMES.get(published.metric, published.metric).split(" (")[0]
    return [f"{escape(published.source)}. Metric: {metric}.", "",
            *table(["published", "nalm model", *targets], rows), "",
            f"Their protocol: {escape(protocol)}. `nalm report` puts ours beside these.", ""]


def published_figure(published) -> list[str]:
    """A :class:`~nalm.report.published.PublishedFigure`: per model, its values by test length."""
    from nalm.report.markdown import table

    lengths = sorted({n for values in published.values.values() for n in values})
    rows = [[f"`{model}`", *("–" if n not in values else f"{values[n]:.1f}" for n in lengths)]
            for model, values in published.values.items()]
    return [f"{escape(published.source)}, {published.target}: {published.metric.replace('_', ' ')} per test "
            f"length ({escape(published.note)}).", "", *table(["model", *(f"length {n}" for n in lengths)], rows), ""]


PUBLISHED = {"Published": published_table, "PublishedFigure": published_figure}
"""How each kind of published result (:mod:`nalm.report.published`) is shown."""


def card_section(card) -> list[str]:
    """The card as ``nalm show`` prints it: each setting, its value and under it its source, in a
    table (HTML, so that the values' own characters are not read as Markdown; long paths wrap)."""
    rows = "\n".join(f'<tr><td style="white-space: nowrap"><code>{html.escape(s.name)}</code></td>'
                     f'<td style="overflow-wrap: anywhere">{html.escape(s.value)}<br>'
                     f'<small>source: {html.escape(s.source)}</small></td></tr>' for s in card.settings)
    return ["## Protocol card", "",
            f"Every setting of the default command, with its source (`nalm show {card.experiment}`).", "",
            '<table style="width: 100%">', "<thead><tr><th>setting</th><th>value and source</th></tr></thead>",
            "<tbody>", rows, "</tbody>", "</table>", ""]


def deviations(card) -> list[str]:
    out = ["## Deviations", ""]
    if not card.deviations:
        return out + ["No deliberate deviations from the source.", ""]
    out += ["Where nalm departs from the source (or follows a quirk of it that a reader would not expect):", "",
            "<ul>"]
    out += [f"<li><code>{html.escape(d.setting)}</code>: source: {html.escape(d.reference)}; "
            f"nalm: {html.escape(d.ours)}. <em>Reason:</em> {html.escape(d.reason)}</li>" for d in card.deviations]
    return out + ["</ul>", ""]


def escape(text: str) -> str:
    """``text`` for a Markdown table cell or paragraph: no character read as Markdown or HTML."""
    return "".join(f"\\{c}" if c in "\\`*_[]|" else c for c in html.escape(text, quote=False))
