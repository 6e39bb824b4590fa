"""``nalm report EXPERIMENT --html``: report.html beside report.md, its figures inside it."""
import re


def test_report_html_writes_one_page_beside_the_markdown(blog_store, tmp_path, run_nalm):
    plain, with_html = tmp_path / "plain", tmp_path / "html"
    code, out, err = run_nalm(["report", "blog-static", "--results", blog_store, "--report-dir", plain])
    assert code == 0 and not (plain / "report.html").exists() and not list(plain.glob("*.png"))
    code, out_html, err = run_nalm(["report", "blog-static", "--results", blog_store, "--report-dir", with_html,
                                    "--html"])
    assert code == 0, err
    page = with_html / "report.html"
    assert f"{with_html / 'runs.csv'}, {page}" in out_html
    assert (with_html / "report.md").read_text() == (plain / "report.md").read_text() + "\n## Figures\n\n" + "".join(
        f"![{p.stem}]({p.name})\n" for p in sorted(with_html.glob("blog-static-*.png")))
    html = page.read_text()
    figures = re.findall(r'<img src="data:image/png;base64,', html)
    assert len(figures) == 3 and len(list(with_html.glob("blog-static-*.png"))) == 3
    assert '<a href="#run-' in html and "Protocol card" in html
