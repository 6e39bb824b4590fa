"""The published numbers beside ours: Madsen & Johansen's solved-at steps and sparsity errors as
transcribed, the cells that carry ours, and the report's table of both (hand-made runs)."""
from __future__ import annotations

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.report import render, summarize
from nalm.scoring import metrics as M

from .test_summary import table_rows, ten_seeds


def test_cell_keeps_the_solved_at_mean_and_a_sparsity_interval():
    (cell,) = summarize(ten_seeds())
    solved, sparsity = [100, 200, 300, 400, 500, 600, 700], [0.01 * k for k in range(1, 8)]
    assert cell.solved_at_mean == pytest.approx(400.0)
    assert cell.sparsity_interval == pytest.approx(M.mean_interval(sparsity)[1:])
    assert cell.solved_at[1:] == pytest.approx(M.mean_interval(solved)[1:])


def test_madsen_published_cells_as_transcribed_from_sft_short_csv():
    """AndreasMadsen/stable-nalu@f371c1e paper/results/sft-short.csv, rows read there."""
    published = EXPERIMENTS["madsen2020-static"].published[0]
    assert published.values["NAC•,NMU"]["mul"] == 0.93 and published.values["NAC•,σ"]["mul"] == 1.0
    assert published.values["NAC•,NMU"]["sqrt"] == 0.03
    assert published.solved_at["NMU"]["mul"] == (1434500, 1520970.3448828245, 1455520.983798807, 1569098.1494700755)
    assert published.solved_at["NAU"]["add"] == (18000, 390919.1237556279, 353873.64803, 434566.753774287)
    assert published.sparsity_error["NAC•,σ"]["mul"] == (4.60893400772216e-5, 4.0506454816611315e-5,
                                                         5.104494249601079e-5)
    assert published.sparsity_error["NMU"]["square"] == (3.6637595790409705e-5, 0, 9.06801644473495e-5)
    assert "div" not in published.solved_at["NMU"]  # no success: NA in the csv
    assert published.models["NAC•,σ"] == "nac/nac-mul-sigma" and published.models["NAC•,NMU"] == "nau/nac-mul-nmu"


def test_render_madsen_solved_at_and_sparsity_beside_the_published_ones():
    runs = ten_seeds("nau/nac-mul-nmu", "mul", experiment="madsen2020-static")
    text = render(EXPERIMENTS["madsen2020-static"], summarize(runs))
    assert table_rows(text, "NAC•,NMU (`nau/nac-mul-nmu`)") == [["NAC•,NMU (`nau/nac-mul-nmu`)", "70% / 93%"]]
    solved = M.mean_interval([100, 200, 300, 400, 500, 600, 700])
    sparsity = M.mean_interval([0.01 * k for k in range(1, 8)])
    rows = {tuple(row[:2]): row[2:] for row in table_rows(text, "mul")}
    assert rows[("mul", "NAC•,NMU (`nau/nac-mul-nmu`)")] == [
        "400 / 1.75e+06",
        f"400 [{solved[1]:.3g}, {solved[2]:.3g}] / 1.93e+06 [1.84e+06, 2.01e+06]",
        f"0.04 [{sparsity[1]:.3g}, {sparsity[2]:.3g}] / 9.45e-07 [5.27e-07, 1.36e-06]"]
    assert rows[("mul", "NMU (`nau/nmu`)")] == ["– / 1.43e+06", "– / 1.52e+06 [1.46e+06, 1.57e+06]",
                                                "– / 4.21e-07 [3.91e-07, 4.50e-07]"]
    assert ("mul", "NALU (`nalu`)") not in rows  # neither side solved it
    assert "gamma fit (solved at) and a beta fit (sparsity error)" in text


def test_render_madsen_gating_table_for_the_nac_under_a_shared_weight_nalu():
    """stable-nalu paper/results/function_task_static_nalu.tex: NALU (shared), 34% on +, 24% on ×."""
    gate = EXPERIMENTS["madsen2020-static"].published[1]
    assert gate.models["NALU (shared)"] == "nac/nalu"
    assert gate.solved_at["NALU (shared)"]["mul"] == pytest.approx((2.9e6, 3.3e6, 2.94e6, 3.67e6))
    assert gate.sparsity_error["NALU (shared)"]["add"] == pytest.approx((0.18, 0.159, 0.203))
    runs = ten_seeds("nac/nalu", "mul", experiment="madsen2020-static")
    text = render(EXPERIMENTS["madsen2020-static"], summarize(runs))
    assert table_rows(text, "NALU (shared) (`nac/nalu`)") == [["NALU (shared) (`nac/nalu`)", "70% / 24%"]]
    rows = {tuple(row[:2]): row[2:] for row in table_rows(text, "mul")}
    assert rows[("mul", "NALU (shared) (`nac/nalu`)")][0] == "400 / 2.90e+06"


def test_madsen_gating_rows_as_transcribed_from_function_task_static_nalu_tex():
    """stable-nalu@b3296ac paper/results/function_task_static_nalu.tex, cells read there: the
    printed mean with its printed +/- offsets."""
    gate = EXPERIMENTS["madsen2020-static"].published[1]
    assert gate.models == {"Gated NAU/NMU": "nau/gated-nau-nmu", "NALU (separate)": "nac/nalu-separate",
                           "NALU (shared)": "nac/nalu"}
    assert gate.values["Gated NAU/NMU"] == {"add": 0.37, "mul": 0.62}
    assert gate.values["NALU (separate)"] == {"add": 0.51, "mul": 0.22}
    assert gate.solved_at["Gated NAU/NMU"]["add"] == pytest.approx((1.9e4, 4.2e5, 4.2e5 - 6.7e4, 4.2e5 + 7.3e4))
    assert gate.solved_at["NALU (separate)"]["mul"] == pytest.approx((2.8e6, 3.3e6, 2.94e6, 3.69e6))
    assert gate.sparsity_error["Gated NAU/NMU"]["mul"] == pytest.approx((5.0e-5, 3.2e-5, 7.3e-5))
    assert gate.sparsity_error["NALU (separate)"]["add"] == pytest.approx((0.18, 0.166, 0.194))
    static = EXPERIMENTS["madsen2020-static"]
    for model in gate.models.values():  # the table's rows run on + and × only, as the script ran them
        assert model in static.models
        assert [t for t in static.targets if static.runs_by_default(model, t)] == ["add", "mul"]


def test_render_the_gated_nau_nmu_beside_its_published_row():
    runs = ten_seeds("nau/gated-nau-nmu", "add", experiment="madsen2020-static")
    text = render(EXPERIMENTS["madsen2020-static"], summarize(runs))
    assert table_rows(text, "Gated NAU/NMU (`nau/gated-nau-nmu`)") == [
        ["Gated NAU/NMU (`nau/gated-nau-nmu`)", "70% / 37%"]]
