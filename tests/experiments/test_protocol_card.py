"""Protocol cards: every setting of every experiment is shown with its source."""
import pytest

from nalm.experiments import EXPERIMENTS, DataSet, Deviation
from nalm.experiments.protocol import MISSING, protocol_card, render_card


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_setting_of_every_experiment_names_its_source(name):
    card = protocol_card(EXPERIMENTS[name])
    assert card.missing_sources() == []
    names = [s.name for s in card.settings]
    required = (("data", "iterations", "optimizer", "evaluation", "loss", "best step")
                if isinstance(EXPERIMENTS[name].workload, DataSet) else
                ("task", "ranges", "iterations", "optimizer", "evaluation", "threshold", "baseline"))
    for setting in required:
        assert setting in names
    assert [s.name for s in card.settings if s.name.startswith("model ")] == [
        f"model {m}" for m in EXPERIMENTS[name].models]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_deviations_name_a_setting_of_the_card(name):
    card = protocol_card(EXPERIMENTS[name])
    names = {s.name for s in card.settings}
    for deviation in card.deviations:
        assert deviation.setting in names, deviation
        assert deviation.reference and deviation.ours and deviation.reason


def test_the_card_shows_the_options_each_model_runs_with():
    card = protocol_card(EXPERIMENTS["mistry2022-single"])
    rows = {s.name: s.value for s in card.settings}
    assert "lr 0.005" in rows["model npu"]
    assert "regularizer_start=20000" in rows["model nmu"]
    assert "with init U[0.25, 0.75]" in rows["model nmu"] and "with init W_re Glorot" in rows["model npu"]
    assert "init='stable-nalu'" in rows["model nac"]  # an init that is an option shows as one


def test_rendered_card_lists_settings_sources_and_deviations():
    import dataclasses

    experiment = dataclasses.replace(
        EXPERIMENTS["blog-static"],
        deviations=(Deviation("iterations", "1e5 iterations", "1e4 by default", "a CPU budget"),))
    text = render_card(protocol_card(experiment))
    assert "iterations" in text and "source:" in text
    assert "source: 1e5 iterations; nalm: 1e4 by default. Reason: a CPU budget" in text
    assert MISSING not in render_card(protocol_card(EXPERIMENTS["blog-static"]))
