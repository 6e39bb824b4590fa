"""``report.html``: one page that needs nothing else, whose tables hold the stored numbers, and
in which nothing from the store becomes markup; checked as parsed HTML and in a real browser."""
import base64
import dataclasses
import re
import struct
import zlib
from html.parser import HTMLParser

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.report import write
from nalm.report.html import markdown_to_html
from nalm.results import ResultsStore
from nalm.runner import run_experiment

from .chromium import Page, browser

EXPERIMENT = EXPERIMENTS["blog-static"]
EVIL = 'evil"><script>alert(1)</script><img src=http://x.invalid/a.png>'


def png(width: int, height: int) -> bytes:
    """A valid grey PNG of the given size."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two models on two targets, one seed, and a copy of one run under a model name and formula
    that are markup."""
    path = tmp_path_factory.mktemp("html") / "r.sqlite"
    with ResultsStore(path) as results:
        run_experiment(EXPERIMENT, results, models=["nac", "mlp-relu6"], targets=["add", "sub"], seeds=1,
                       overrides={"iterations": 10, "eval_every": 5, "eval_samples": 32})
        first = results.runs(EXPERIMENT.name, model="nac")[0]
        results.put(dataclasses.replace(first, model=EVIL, run_id=None, created="",
                                        metrics={**first.metrics, "formula": "<b>y</b> = a & b"}))
    return path


@pytest.fixture(scope="module")
def page(store, tmp_path_factory):
    """The report written with a stand-in figure: (folder, HTML, Markdown, runs by id)."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "blog-static-heatmap.png").write_bytes(png(30, 20))
    with ResultsStore(store) as results:
        text, paths = write.write_report(EXPERIMENT, results, folder, html=True)
        runs = {r.run_id: r for r in results.runs(EXPERIMENT.name)}
    assert paths[-1] == folder / "report.html" and paths[0] == folder / "report.md"
    return folder, paths[-1].read_text(), text, runs


class Parsed(HTMLParser):
    """The tags, attributes, texts and ids of a page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.texts, self.ids = [], [], set()
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])

    def handle_data(self, data):
        self.texts.append(data)


def test_the_page_needs_no_network_and_no_other_file(page):
    folder, html, _, _ = page
    parsed = Parsed(html)
    names = [tag for tag, _ in parsed.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    images = [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert base64.b64decode(images[0].split(",", 1)[1]) == (folder / "blog-static-heatmap.png").read_bytes()
    for tag, attrs in parsed.tags:
        for name in ("src", "href"):
            assert "http" not in attrs.get(name, "") and not attrs.get(name, "#").startswith(("/", "file:"))
    assert "url(" not in html and "@import" not in html  # nothing fetched by the style sheet either
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert links and all(href[1:] in parsed.ids for href in links)  # every link lands in the page


def test_names_and_formulas_from_the_store_are_text_not_markup(page):
    _, html, _, _ = page
    parsed = Parsed(html)
    assert "<script" not in html and "x.invalid" not in [a.get("src") for _, a in parsed.tags]
    assert [tag for tag, _ in parsed.tags].count("img") == 1  # the figure; the name's <img> is text
    assert "<b>y</b>" not in html and "&lt;b&gt;y&lt;/b&gt; = a &amp; b" in html
    text = "".join(parsed.texts)
    assert EVIL in text and "<b>y</b> = a & b" in text  # shown as it is stored


def test_every_run_the_tables_name_has_its_formula_and_curves(page):
    _, html, markdown, runs = page
    named = set(map(int, re.findall(r'<a href="#run-(\d+)">', html)))
    medians = {int(row.split("|")[-3]) for row in markdown.splitlines() if row.startswith("| – |")}
    assert named == medians and len(named) == 5
    for run_id in named:
        row = html.split(f'<tr id="run-{run_id}">', 1)[1].split("</tr>", 1)[0]
        formula = runs[run_id].metrics.get("formula")
        assert (formula is None) or (Parsed(row).texts and formula in "".join(Parsed(row).texts))
        assert row.count("<svg") == len(runs[run_id].curve) - 1  # one per curve but the steps
    assert "Protocol card" in html and "rmsprop, lr 0.001" in html


def test_an_image_the_report_did_not_draw_is_never_read():
    html = markdown_to_html("![p](../secret.png)\n\n![q](drawn.png)", images={})
    assert "<img" not in html and "![p](../secret.png)" in html


@pytest.mark.skipif(browser() is None, reason="no Chromium on PATH: the browser test needs the system's chromium")
def test_the_page_in_a_real_browser(store, tmp_path):
    """Loaded in headless Chromium with the experiment's real figures: no console error, no request
    but the page and its data: URIs, every image decoded, a run id's link lands on its run, and the
    tables' numbers the summary's."""
    from nalm.report.markdown import number

    with ResultsStore(store) as results:
        runs = [r for r in results.runs(EXPERIMENT.name) if r.model != EVIL]
        _, paths = write.write_report(EXPERIMENT, results, tmp_path, models=["nac", "mlp-relu6"], figures=True,
                                      html=True)
    cells = {(c.model, c.target): c for c in EXPERIMENT.summarize(runs)}
    with Page(paths[-1].as_uri(), tmp_path / "profile") as tab:
        images = tab.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        tables = tab.evaluate("[...document.querySelectorAll('table')].map(t => [...t.rows].map("
                              "r => [...r.cells].map(c => c.textContent)))")
        landed = tab.evaluate("(() => { const link = document.querySelector('a[href^=\"#run-\"]'); link.click();"
                              "const row = document.querySelector(':target'); return [link.getAttribute('href'), "
                              "row.id, row.cells[0].textContent, row.getBoundingClientRect().top, window.scrollY, innerHeight]; })()")
        problems, requests = tab.problems, tab.requests()
    assert problems == []
    assert [u for u in requests if not u.startswith("data:")] == [paths[-1].as_uri()]
    assert len(images) == 3 and all(done and width > 0 and height > 0 for done, width, height in images)
    href, target, first_cell, top, scrolled, height = landed  # a run id's link scrolls its run's row into view
    assert href == "#" + target and target == f"run-{first_cell}" and scrolled > 0 and 0 <= top < height
    every_cell = next(t for t in tables if t[0][-2:] == ["median run", "best run"])
    header = every_cell[0]
    assert len(every_cell) - 1 == len(cells) == 4
    for row in every_cell[1:]:
        cell = cells[row[header.index("model")], row[header.index("target")]]
        median, low, high = cell.normalized_extrapolation
        assert row[header.index("norm. extrap.")] == f"{number(median)} [{number(low)}, {number(high)}]"
        stored = sorted(r.metrics["normalized_extrapolation"] for r in runs
                        if (r.model, r.target) == (cell.model, cell.target))
        assert float(row[header.index("norm. extrap.")].split()[0]) == pytest.approx(stored[0], rel=1e-2)
        assert int(row[header.index("median run")]) in {r.run_id for r in runs if r.model == cell.model
                                                       and r.target == cell.target}
