"""The docs site's experiment pages (docs/experiment_pages.py): one per registered experiment, in
the nav, written from its protocol card, with its commands, published numbers and figures
(made by docs/experiment_figures.py)."""
import dataclasses
import html
import importlib.util
import sys
from pathlib import Path

import pytest

from nalm.experiments import get_experiment, registry
from nalm.experiments.protocol import protocol_card

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TODAY = ("blog-static", "trask2018-identity", "trask2018-static", "trask2018-recurrent", "madsen2020-static",
         "mistry2022-single", "trask2018-mnist", "trask2018-translation", "trask2018-program")
"""The experiments registered when the pages were made: each must have its figures on the site."""
MAX_BYTES = 3_000_000  # every experiment's figures together


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages():
    return load("experiment_pages")


def text(value: str) -> str:
    """``value`` as the page's HTML card writes it."""
    return html.escape(value)


def test_every_registered_experiment_has_a_page_in_the_nav(pages):
    names = list(registry.EXPERIMENTS)
    assert set(TODAY) <= set(names)
    nav = [{"Home": "index.md"}, {"Experiments": [{"Overview": "experiments.md"}]}, {"API reference": "api.md"}]
    section = pages.with_experiments(nav)[1]["Experiments"]
    assert section == [{"Overview": "experiments.md"}, *({name: f"experiments/{name}.md"} for name in names)]
    assert pages.with_experiments(pages.with_experiments(nav)) == pages.with_experiments(nav)  # no page twice
    with pytest.raises(ValueError, match="no 'Experiments' section"):
        pages.with_experiments([{"Home": "index.md"}])


def test_mkdocs_nav_gets_the_pages_through_the_hook():
    yaml = pytest.importorskip("yaml")
    nav = load("hooks").on_config(yaml.safe_load((ROOT / "mkdocs.yml").read_text()))["nav"]
    section = next(item["Experiments"] for item in nav if isinstance(item, dict) and "Experiments" in item)
    assert section[0] == {"Overview": "experiments.md"}
    assert [next(iter(entry)) for entry in section[1:]] == list(registry.EXPERIMENTS)


def test_page_is_the_protocol_card_commands_and_published_numbers(pages):
    name = "madsen2020-static"
    page = pages.experiment_page(name)
    experiment = get_experiment(name)
    card = protocol_card(experiment)
    assert page.startswith(f"# {name}\n") and experiment.description in page
    assert "Model names follow the paper's rows" in page  # the module's docstring, beyond its first line
    for command in (f"nalm run {name}", f"nalm run {name} --paper-scale", f"nalm show {name}"):
        assert f"\n{command}\n" in page
    assert "the published protocol's scale: 100 seeds, 5,000,000 iterations" in page
    for setting in card.settings:
        assert (f"<code>{text(setting.name)}</code></td><td style=\"overflow-wrap: anywhere\">{text(setting.value)}"
                f"<br><small>source: {text(setting.source)}</small>") in page
    for deviation in card.deviations:
        assert text(deviation.reason) in page and text(deviation.ours) in page
    published = experiment.published[0]
    for label, model in published.models.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| {pages.escape(label)} | `{model}` |"))
        assert row.count("%") == len(published.values[label])  # success rates, per target


def test_published_figure_values_by_length(pages):
    page = pages.experiment_page("trask2018-mnist")
    for figure in get_experiment("trask2018-mnist").published:
        lengths = sorted({n for values in figure.values.values() for n in values})
        for model, values in figure.values.items():
            cells = ("–" if n not in values else f"{values[n]:.1f}" for n in lengths)
            assert f"| `{model}` | " + " | ".join(cells) + " |" in page


def test_a_new_experiment_gets_a_page_without_figures_saying_how_to_make_them(pages, monkeypatch, tmp_path):
    new = dataclasses.replace(get_experiment("blog-static"), name="my-experiment", description="A new experiment.")
    monkeypatch.setattr(registry, "EXPERIMENTS", {**dict(registry.EXPERIMENTS), "my-experiment": new})
    section = pages.with_experiments([{"Experiments": "experiments.md"}])[0]["Experiments"]
    assert section[0] == "experiments.md" and section[-1] == {"my-experiment": "experiments/my-experiment.md"}
    page = pages.experiment_page("my-experiment", images=tmp_path)
    assert page.startswith("# my-experiment\n\n**A new experiment.**")
    assert "No figures yet" in page and "python docs/experiment_figures.py my-experiment" in page
    assert "\nnalm run my-experiment\n" in page and "](../images/" not in page


def test_every_experiment_registered_today_has_its_figures_on_its_page(pages):
    total = 0
    for name in TODAY:
        record = pages.read_record(name)
        assert record is not None, f"{name} has no figures: PYTHONPATH=src python docs/experiment_figures.py {name}"
        folder = pages.IMAGES / name
        assert sorted(p.name for p in folder.iterdir()) == sorted([*record["figures"], pages.RECORD]), name
        assert record["figures"] and record["command"].startswith(f"nalm run {name}") and record["commit"]
        page = "\n".join(pages.figures(name, pages.IMAGES))  # the page's figures section
        assert f"Made by `{record['command']}`" in page and f"at commit `{record['commit']}`" in page
        for file in record["figures"]:
            assert (folder / file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", file
            assert f"../images/experiments/{name}/{file}" in page  # a Markdown image, or a wide one's HTML
            total += (folder / file).stat().st_size
        if record["reduced"]:
            assert f'!!! note "At a reduced scale"\n    {record["reduced"]}.' in page
    assert total < MAX_BYTES


def test_figures_script_refuses_an_unknown_experiment(capsys):
    sys.path.insert(0, str(DOCS))  # the script imports experiment_pages beside it, as `python docs/...` does
    try:
        script = load("experiment_figures")
        with pytest.raises(SystemExit) as exit_:
            script.main(["no-such-experiment"])
    finally:
        sys.path.remove(str(DOCS))
    assert exit_.value.code == 2 and "unknown experiments: no-such-experiment" in capsys.readouterr().err


def test_a_very_wide_figure_scrolls_at_its_own_size(pages, tmp_path):
    def png(width: int, height: int) -> Path:
        path = tmp_path / "e" / f"e-{width}.png"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR"
                         + width.to_bytes(4, "big") + height.to_bytes(4, "big"))
        return path

    link = "../images/experiments/e/e-800.png"
    assert pages.image(png(800, 400), "e: curves") == f"[![e: curves]({link})]({link})"
    wide = pages.image(png(pages.WIDE + 1, 300), "e: success")
    assert wide.startswith('<div style="overflow-x: auto">') and 'style="max-width: none"' in wide
    assert f'src="../../images/experiments/e/e-{pages.WIDE + 1}.png"' in wide  # from the page's folder, experiments/e/


def test_the_docs_modules_are_loaded_once_for_all_pages(pages, monkeypatch):
    loaded = []
    load_file = importlib.util.spec_from_file_location
    monkeypatch.setattr(importlib.util, "spec_from_file_location",
                        lambda name, path, *a, **k: loaded.append(Path(path).name) or load_file(name, path, *a, **k))
    pages.sibling.cache_clear()
    assert len(pages.pages()) == len(registry.EXPERIMENTS)
    assert loaded == ["griffe_rst.py"]
