"""An experiment's report as one self-contained HTML page: ``nalm report EXPERIMENT --html``
writes ``report.html`` beside ``report.md``.

The page is the Markdown report (:func:`nalm.report.write.write_report`) turned into HTML by
:func:`markdown_to_html`, a converter of the subset nalm's reports use (headings, paragraphs,
bold, code spans, pipe tables, lists, figures), followed by the experiment's protocol card
(:func:`nalm.experiments.protocol.protocol_card`) and a table of the runs the report's tables
name by id (each id links to its row; of every run where they name none and there are few):
model, target and seed, the formula read back when the run was stored, and each of its learning
curves as a small inline SVG. Figures are inlined as ``data:`` URIs and the
style sheet is in the page, so it needs no network and no other file to be read; it holds no
script.

Everything taken from the store or the experiment (model names, import paths of units from
outside nalm, formulas) is escaped, so a store from elsewhere cannot put markup in the page.
"""
from __future__ import annotations

import base64
import math
import re
from html import escape
from pathlib import Path

from ..results import RunRecord

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
h1, h2, h3, p, ul, figure { max-width: 1180px; }
h1 { font-size: 1.8em; margin-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 13px; }
th, td { border: 1px solid #d4d4d8; padding: 3px 6px; text-align: left; vertical-align: top; white-space: nowrap; }
th { background: #f4f4f5; white-space: normal; }
tbody tr:nth-child(even) { background: #fafafa; }
code { font: 12.5px ui-monospace, monospace; background: #f4f4f5; padding: 0 3px; border-radius: 3px; }
figure { margin: 1em 0; }
figure img { max-width: min(100%, 960px); height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
.card { max-width: 1180px; }
.card td { white-space: normal; }
.card td:first-child { white-space: nowrap; font-weight: 600; }
.runs td.formula { white-space: normal; min-width: 16em; max-width: 28em; }
.runs tr:target { background: #fff4c2; }
.runs svg { display: block; }
.spark { font-size: 11px; color: #555; }
.source { color: #555; }
"""

IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
RULE = re.compile(r"\|(\s*:?-+:?\s*\|)+")
SPARK_WIDTH, SPARK_HEIGHT = 150, 30
EVERY_RUN_UP_TO = 100
"""Where the tables name no run, the page lists every run of the report if there are at most this many."""


def write_html(experiment, markdown: str, runs: list[RunRecord], folder: Path, figures: list[Path]) -> Path:
    """Write ``folder/report.html`` from the report's ``markdown``, inlining ``figures`` (the PNG
    files it links), with the protocol card of ``experiment`` and a section on each run of
    ``runs`` whose id its tables name (on each of ``runs`` where they name none and there are at
    most :data:`EVERY_RUN_UP_TO`); returns the path."""
    from ..experiments.protocol import protocol_card

    by_id = {run.run_id: run for run in runs if run.run_id is not None}
    named: list[int] = []
    body = markdown_to_html(markdown, images={p.name: p for p in figures}, run_ids=set(by_id), named=named)
    body += card_html(protocol_card(experiment))
    if named:
        body += runs_html([by_id[i] for i in dict.fromkeys(named)], "The runs named in the tables")
    elif len(runs) <= EVERY_RUN_UP_TO:
        body += runs_html(runs, "Every run")
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>nalm report: {escape(experiment.name)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n{body}</body>\n</html>\n")
    path = Path(folder) / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def markdown_to_html(text: str, images: dict[str, Path] | None = None, run_ids=frozenset(),
                     named: list[int] | None = None) -> str:
    """HTML of ``text``, Markdown as nalm's reports write it: ``#`` headings, paragraphs, ``**bold**``,
    ```code``` spans, pipe tables, ``-`` lists and lines that are one image ``![alt](name)``.

    An image is inlined from ``images`` (file name -> path); one not there stays as text, so a
    name in the text never reads a file. In a table, a cell under a header naming a run (``median
    run``) that holds only a number of ``run_ids`` links to that run's section (``#run-ID``); the
    ids linked are appended to ``named``, in order.

    >>> print(markdown_to_html("# A <b>\\n\\nSome **bold** and `x < 1`.\\n\\n- one\\n- two"))
    <h1>A &lt;b&gt;</h1>
    <p>Some <strong>bold</strong> and <code>x &lt; 1</code>.</p>
    <ul>
    <li>one</li>
    <li>two</li>
    </ul>
    >>> print(markdown_to_html("| model | best run |\\n|---|---|\\n| nac | 3 |", run_ids={3}))
    <div class="scroll"><table>
    <thead><tr><th>model</th><th>best run</th></tr></thead>
    <tbody>
    <tr><td>nac</td><td><a href="#run-3">3</a></td></tr>
    </tbody>
    </table></div>
    >>> inline("**bold `a*b` <i>**")
    '<strong>bold <code>a*b</code> &lt;i&gt;</strong>'
    """
    images = images or {}
    named = [] if named is None else named
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        heading = re.match(r"(#{1,6}) (.*)", line)
        if heading:
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            i += 1
        elif line.startswith("|") and i + 1 < len(lines) and RULE.fullmatch(lines[i + 1].strip()):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            out.append(table_html(lines[i], lines[i + 2:end], run_ids, named))
            i = end
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
        elif IMAGE.fullmatch(line.strip()) and IMAGE.fullmatch(line.strip()).group(2) in images:
            alt, name = IMAGE.fullmatch(line.strip()).groups()
            out.append(figure_html(images[name], alt))
            i += 1
        else:
            paragraph = []
            while i < len(lines) and lines[i].strip() and not starts_block(lines, i):
                paragraph.append(inline(lines[i]))
                i += 1
            if not paragraph:  # a line that looks like a block but is not one (a lone "|"): text
                paragraph.append(inline(lines[i]))
                i += 1
            out.append("<p>" + "\n".join(paragraph) + "</p>")
    return "\n".join(out) + "\n"


def starts_block(lines: list[str], i: int) -> bool:
    line = lines[i]
    return (line.startswith(("#", "- ")) or IMAGE.fullmatch(line.strip()) is not None
            or (line.startswith("|") and i + 1 < len(lines) and RULE.fullmatch(lines[i + 1].strip()) is not None))


def inline(text: str) -> str:
    """Escaped ``text`` with its ```code``` spans and ``**bold**`` marked up (nothing inside a code
    span is; bold may hold code spans)."""
    codes: list[str] = []

    def hold(match) -> str:  # a code span, kept aside as \0N\0 while bold is marked
        codes.append(f"<code>{escape(match.group(1))}</code>")
        return f"\0{len(codes) - 1}\0"

    held = re.sub(r"`([^`]*)`", hold, text.replace("\0", ""))
    marked = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(held))
    return re.sub(r"\0(\d+)\0", lambda m: codes[int(m.group(1))], marked)


def cells_of(row: str) -> list[str]:
    row = row.strip()
    return [c.strip() for c in row[1:-1 if row.endswith("|") else None].split("|")]


def table_html(header: str, rows: list[str], run_ids, named: list[int]) -> str:
    names = cells_of(header)
    links = [re.search(r"\brun\b", n, re.IGNORECASE) is not None for n in names]
    body = []
    for row in rows:
        cells = []
        for k, cell in enumerate(cells_of(row)):
            if k < len(links) and links[k] and cell.isdigit() and int(cell) in run_ids:
                named.append(int(cell))
                cells.append(f'<td><a href="#run-{int(cell)}">{int(cell)}</a></td>')
            else:
                cells.append(f"<td>{inline(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = "<tr>" + "".join(f"<th>{inline(n)}</th>" for n in names) + "</tr>"
    return (f'<div class="scroll"><table>\n<thead>{head}</thead>\n<tbody>\n' + "\n".join(body)
            + "\n</tbody>\n</table></div>")


def figure_html(path: Path, alt: str) -> str:
    """A figure file inlined as a ``data:`` URI."""
    kind = {".png": "image/png", ".svg": "image/svg+xml"}.get(path.suffix.lower(), "application/octet-stream")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:{kind};base64,{data}" alt="{escape(alt)}">'
            f"<figcaption>{escape(path.name)}</figcaption></figure>")


def card_html(card) -> str:
    """The protocol card (:class:`~nalm.experiments.protocol.ProtocolCard`) as a table: each
    setting, its value and its source. Its deviations are a section of the report's Markdown."""
    rows = "\n".join(f"<tr><td>{escape(s.name)}</td><td>{escape(s.value)}</td>"
                     f"<td class=\"source\">{escape(s.source)}</td></tr>" for s in card.settings)
    return (f'<h2 id="protocol-card">Protocol card</h2>\n<p>Every setting of <code>nalm run '
            f"{escape(card.experiment)}</code> (its default command: the stored runs may have run with others, "
            f"which runs.csv gives) and where it comes from, as <code>nalm show {escape(card.experiment)}</code> "
            "prints it with the deviations from its sources (the report's section on them, where it has runs).</p>\n"
            f'<table class="card">\n<thead><tr><th>setting</th><th>value</th><th>source</th></tr></thead>\n'
            f"<tbody>\n{rows}\n</tbody>\n</table>\n")


def runs_html(runs: list[RunRecord], heading: str) -> str:
    """A row for each of ``runs``: its id (the links' anchor), model, target, seed, the formula
    read back when it was stored, and a column for each of its learning curves."""
    if not runs:
        return ""
    names = list(dict.fromkeys(name for run in runs for name in run.curve if name != "step"))
    rows = []
    for run in runs:
        formula = run.metrics.get("formula")
        error = run.metrics.get("formula_error")
        read = "–" if formula is None else f"<code>{escape(str(formula))}</code>"
        if formula is not None and isinstance(error, (int, float)) and math.isfinite(error):
            read += f" <span class=\"source\">(formula error {error:.2g})</span>"
        curves = "".join(f"<td>{sparkline(name, run.curve.get('step', ()), run.curve.get(name, ()))}</td>"
                         for name in names)
        rows.append(f'<tr id="run-{run.run_id}"><td>{run.run_id}</td><td>{escape(run.model)}</td>'
                    f"<td>{escape(run.target)}</td><td>{run.seed}</td><td>{'yes' if run.diverged else 'no'}</td>"
                    f'<td class="formula">{read}</td>{curves}</tr>')
    head = "".join(f"<th>{escape(name.replace('_', ' '))}</th>" for name in names)
    return (f'<h2 id="runs">{heading}</h2>\n<p>The formula each run\'s network was read back '
            "as when it was stored, with its formula error, how far it is from the network relative to the size "
            "of its terms (<code>nalm explain RUN_ID</code> reads it again and checks it against the target), and "
            "its learning curves from the first evaluation to the last (log scale where every value is positive; "
            "hover a curve for its numbers).</p>\n"
            '<div class="scroll"><table class="runs">\n<thead><tr><th>run</th><th>model</th><th>target</th>'
            f"<th>seed</th><th>diverged</th><th>formula</th>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(rows) + "\n</tbody>\n</table></div>\n")


def sparkline(name: str, steps, values) -> str:
    """One learning curve as a small inline SVG, its first and last values under it."""
    points = [(float(s), float(v)) for s, v in zip(steps, values)
              if isinstance(s, (int, float)) and isinstance(v, (int, float)) and math.isfinite(v)]
    if not points:
        return "–"
    log = all(v > 0 for _, v in points)
    ys = [math.log10(v) if log else v for _, v in points]
    xs = [s for s, _ in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def x(s):
        return 2 + (SPARK_WIDTH - 4) * ((s - x0) / (x1 - x0) if x1 > x0 else 0.5)

    def y(v):
        return SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * ((v - y0) / (y1 - y0) if y1 > y0 else 0.5)

    path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in zip(xs, ys))
    first, last = points[0][1], points[-1][1]
    title = escape(f"{name}: {first:.3g} at step {points[0][0]:g} → {last:.3g} at step {points[-1][0]:g}"
                   + (" (log scale)" if log else ""))
    return (f'<svg width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
            f'role="img" aria-label="{title}"><title>{title}</title>'
            f'<rect width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" fill="#f8f8fa"/>'
            f'<polyline points="{path}" fill="none" stroke="#2563eb" stroke-width="1.5"/></svg>'
            f'<span class="spark">{first:.3g} → {last:.3g}</span>')
