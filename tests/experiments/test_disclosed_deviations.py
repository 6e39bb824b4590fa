"""Departures from the references that nalm keeps are stated where a reader looks: on the
protocol card (`nalm show`) and under the report's tables, with the reference's file and line."""
import pytest

from nalm.experiments import EXPERIMENTS, DataSet
from nalm.experiments.protocol import protocol_card, render_card
from nalm.report.markdown import deviations_section


def report_text(experiment) -> str:
    """The part of a report that states the deviations (a data-set report renders them itself)."""
    if isinstance(experiment.workload, DataSet):
        return experiment.render(experiment.summarize([]))
    return "\n".join(deviations_section(experiment))


@pytest.mark.parametrize("name, setting, words", [
    # one evaluation set for every seed and model in the reference
    ("trask2018-mnist", "evaluation", ("47430696", "88253339", "experiments/sequential_mnist.py:263-273",
                                       "widens the success bound")),
    # the reference's solved seeds chosen by hand, and its t quantile
    ("trask2018-mnist", "success", ("prod_long.r:70", "qt(0.99, 8)", "qt(0.99, n-1)", "10 times")),
    # fixed sequences per seed, their order reshuffled every epoch
    ("trask2018-mnist", "sequences", ("permuted once per seed", "reshuffled every epoch", "5,500")),
    # run lengths per target; the ramp's fixed steps
    ("trask2018-mnist", "iterations", ("86,000", "388,000", "84%", "10k-100k")),
    # the thresholds script's ε against the setup's
    ("mistry2022-single", "threshold", ("ε = 1e-4", "generate_exp_thresholds.r:100-105", "1e-5", "100 times")),
    # every unit on every operation
    ("mistry2022-single", "models", ("single_layer_benchmark.sh:24-310", "extra cells")),
])
def test_the_card_and_the_report_state_the_deviation(name, setting, words):
    experiment = EXPERIMENTS[name]
    (deviation,) = [d for d in experiment.deviations if d.setting == setting and all(
        word in f"{d.reference} {d.ours} {d.reason}" for word in words)]
    line = f"source: {deviation.reference}; nalm: {deviation.ours}. Reason: {deviation.reason}"
    assert line in render_card(protocol_card(experiment))
    assert deviation.ours in report_text(experiment) and deviation.reference in report_text(experiment)
