"""``nalm show`` keeps each card it prints in the user's cache, under nalm's source and the
command's inputs: the same command prints it again without importing PyTorch."""
from __future__ import annotations

import os
import subprocess
import sys

import nalm.cache

SHOW = """
import sys
from nalm.cli.main import main
code = main({argv!r})
print("torch imported:", "torch" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def show(*argv, cache) -> tuple[int, str, str]:
    """``nalm show ARGV`` in a fresh interpreter with its cache in ``cache``."""
    env = {**os.environ, "NALM_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", SHOW.format(argv=["show", *argv])], capture_output=True, text=True,
                          env=env, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_a_card_shown_again_is_read_from_the_cache_without_pytorch(tmp_path):
    argv = ("madsen2020-static", "--units", "nau", "--iterations", "3000")
    code, first, err = show(*argv, cache=tmp_path)
    assert code == 0 and "torch imported: True" in err, err
    assert "never turns on in 3,000 iterations" in first  # the card of this command, not the experiment's default
    code, again, err = show(*argv, cache=tmp_path)
    assert code == 0 and again == first and "torch imported: False" in err, err
    code, other, err = show("madsen2020-static", "--units", "nau", "--iterations", "60000", cache=tmp_path)
    assert code == 0 and other != first and "never turns on" not in other, err


def test_cards_are_kept_per_source_and_not_for_units_from_outside_nalm(tmp_path, monkeypatch, run_nalm):
    monkeypatch.setenv("NALM_CACHE_DIR", str(tmp_path))
    code, first, err = run_nalm(["show", "blog-static"])
    assert code == 0 and len(list((tmp_path / "cards").iterdir())) == 1, err
    monkeypatch.setattr(nalm.cache, "source_digest", lambda: "edited")  # nalm's code changed: computed again
    code, again, err = run_nalm(["show", "blog-static"])
    assert code == 0 and again == first and len(list((tmp_path / "cards").iterdir())) == 2, err
    code, out, err = run_nalm(["show", "blog-static", "--units", "tests.units.test_custom:PlainNAU"])
    assert code == 0 and "PlainNAU" in out, err
    assert len(list((tmp_path / "cards").iterdir())) == 2  # a unit of one's own: its card depends on its source
    code, out, err = run_nalm(["show", "nope"])
    assert code == 2 and len(list((tmp_path / "cards").iterdir())) == 2  # refused, nothing kept


def test_a_bad_unit_option_is_refused_in_one_line_as_nalm_run_refuses_it(tmp_path, monkeypatch, run_nalm):
    monkeypatch.setenv("NALM_CACHE_DIR", str(tmp_path))
    argv = ["madsen2020-static", "--units", "nalu", "--config", '{"unit_options": {"nalu": {"bogus": 1}}}']
    said = []
    for command in (["show", *argv], ["run", *argv, "--results", tmp_path / "r.sqlite"]):
        code, out, err = run_nalm(command)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        said.append(err)
    assert said[0] == said[1] and "unexpected keyword argument 'bogus'" in said[0]
    assert not (tmp_path / "cards").exists() and not (tmp_path / "r.sqlite").exists()
