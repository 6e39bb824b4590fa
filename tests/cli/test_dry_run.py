"""``nalm run --dry-run``: the work a command implies and its measured cost, with nothing stored."""
from __future__ import annotations

from nalm.cli.run_cmd import duration, render_estimate
from nalm.runner import estimate
from nalm.runner.calibration import Span
from nalm.runner.estimate import PopulationEstimate


def test_dry_run_counts_the_work_trains_nothing_and_creates_no_store(tmp_path, run_nalm, blog_argv):
    results = tmp_path / "r.sqlite"
    code, out, err = run_nalm(blog_argv(results, "--dry-run"))
    assert code == 0, err
    lines = out.splitlines()
    # nac and mlp-relu6 on add and sub, 2 seeds, 50 iterations: one population per model
    assert lines[0] == "blog-static: 2 populations, 8 runs to train (0 stored already), 400 model-steps"
    nac = next(line for line in lines if line.startswith("  nac add sub: 4 members × 50 steps, 3 evaluations;"))
    assert "model-steps/s here (autograd)," in nac  # as calibrated: a pool of fixed samples has no fused step
    assert lines[-3].startswith("estimated: ") and lines[-1] == "nothing was trained or stored"
    assert not results.exists()


def test_dry_run_leaves_out_what_the_store_holds(tmp_path, run_nalm, blog_argv):
    results = tmp_path / "r.sqlite"
    assert run_nalm(blog_argv(results, seeds=1))[0] == 0
    before = results.read_bytes()
    code, out, _ = run_nalm(blog_argv(results, "--dry-run"))
    assert code == 0
    assert out.splitlines()[0] == "blog-static: 2 populations, 4 runs to train (4 stored already), 200 model-steps"
    assert results.read_bytes() == before


def test_a_second_dry_run_reads_the_calibrations_and_says_so(tmp_path, run_nalm, blog_argv):
    results = tmp_path / "r.sqlite"
    code, out, _ = run_nalm(blog_argv(results, "--dry-run"))
    assert code == 0
    estimated = next(line for line in out.splitlines() if line.startswith("estimated: "))
    ranged = " to " in estimated  # the range is said to be what it is only where one is printed
    assert [line for line in out.splitlines() if line.startswith("calibration: ")] == [
        "calibration: 2 cost shapes measured now in " + out.split("measured now in ")[1].split(";")[0]
        + ("; the range spans the spread of step times and how costs grow beyond the members sampled, not what "
           "samples miss" if ranged else "")
        + "; long runs of hundreds of members took 1.25-1.6 times their estimates (docs/experiments.md: Planning)"]
    code, out, _ = run_nalm(blog_argv(results, "--dry-run", "--iterations", "5000"))
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("calibration: "))
    assert line.startswith("calibration: 2 read from this machine's cache (measured 20")
    assert "NALM_RECALIBRATE=1 measures again" in line


def test_the_summary_gives_the_likely_cost_and_its_range():
    def population(label, low, likely, high, shares=1):
        share = Span(low / shares, likely / shares, high / shares)
        return PopulationEstimate(label, 10, 1000, 2, Span(low, likely, high), (share,) * shares)

    e = estimate.Estimate("x", 3, [population("nau", 100, 120, 200, shares=2), population("nmu", 60, 60, 60)],
                          [population("baselines add", 1, 1, 1)], workers=2, measured=2, cached=1,
                          calibration_seconds=1.25, cached_since=0.0)
    assert (e.members, e.model_steps) == (20, 20_000)
    assert e.core_seconds == Span(161, 181, 261)
    # on two workers: the baselines and a nau share on one, the other share and the nmus on the other
    assert e.wall_seconds == Span(110, 120, 160)
    lines = render_estimate(e).splitlines()
    assert lines[0] == "x: 2 populations, 20 runs to train (3 stored already), 2e+04 model-steps"
    assert lines[1] == ("  nau: 10 members × 1,000 steps, 2 evaluations; 83 model-steps/s here (autograd), formulas included "
                        "→ 2 min 0 s (1 min 40 s to 3 min 20 s)")
    assert lines[2].endswith("→ 1 min 0 s")  # no range where the samples agree
    assert lines[3] == "  untrained baselines: 1.0 s"
    assert lines[4] == ("estimated: 3 min 1 s (2 min 41 s to 4 min 21 s) on one core, 2 min 0 s (1 min 50 s to 2 min 40 s) "
                        "on 2 workers if they scale perfectly (docs/performance.md: Workers)")
    assert lines[5].startswith("calibration: 2 cost shapes measured now in 1.2 s, 1 read from this machine's cache "
                               "(measured 19")
    assert lines[-1] == "nothing was trained or stored"


def test_durations_read_at_a_glance():
    assert [duration(s) for s in (0.034, 4.24, 12.4, 303, 11_520)] == ["0.03 s", "4.2 s", "12 s", "5 min 3 s",
                                                                       "3 h 12 min"]
