"""The fused CPU step against PyTorch's autograd, the reference.

Gradients of one step agree to rounding for every layer kind and combination; trained
weights agree after 100 steps (float64 within 1e-10, float32 within 1e-4 relative; marked
slow); and a member of a fused population computes bit for bit what it computes alone.
"""
import numpy as np
import pytest
import torch

from nalm.tasks import PoolTask, RecurrentTask, StaticTask, presets
from nalm.train import Member, TrainConfig, train_population
from nalm.train.data import PopulationData
from nalm.train.fused import FusedStep
from nalm.units import build_model, seed_members_

TASK = presets.madsen2020()
MEMBERS = [Member(s, t, TASK) for s in (0, 1) for t in ("add", "mul", "div")]
# Each layer kind alone and in each position: every kernel a step can be built from (NAU is
# NAC's kind, "linear"). Each pair is compiled on its own (5-13 s); the default suite keeps a set
# in which every layer kind runs in every role (first layer, second layer with its input
# gradient, alone), and the rest are marked slow.
_SLOW = pytest.mark.slow
FUSED_MODELS = ["nac", "nalu", "nau/nmu", "nmu/nau", "nac-mul/nalu", "nau/nac-mul", "nalu/nalu", "g-nalu", "mcfc",
                pytest.param("nmu", marks=_SLOW), pytest.param("nac-mul", marks=_SLOW),
                pytest.param("nac/nac", marks=_SLOW), pytest.param("nalu/nac", marks=_SLOW)]
NALU_VARIANTS = [{"gate": "scalar"}, {"gate_bias": True}, {"shared_weights": False}]


def _population(model, members=MEMBERS, dtype=torch.float64, unit_options=None, hidden=2):
    net = build_model(model, 100, 1, hidden=hidden, members=len(members), dtype=dtype, unit_options=unit_options)
    seed_members_(net, [m.seed for m in members])
    data = PopulationData(members, batch_size=32, eval_samples=4, device="cpu", dtype=dtype)
    return net, data


def _gradients(net, data, step, fused):
    for p in net.parameters():
        p.grad = None
    if fused:
        step_ = FusedStep.of(net, data)
        fit = step_.fit(step)
        step_.backward(fit.new_zeros(()))
    else:
        x, y = data.train_batch(step)
        fit = ((net(x) - y) ** 2).mean(dim=(1, 2))
        fit.sum().backward()
    return fit.detach(), {name: p.grad.clone() for name, p in net.named_parameters()}


@pytest.mark.parametrize("model", FUSED_MODELS)
def test_one_step_loss_and_gradients_match_autograd(model):
    hidden = None if "/" not in model and model in ("nac", "nau", "nmu", "nac-mul", "nalu", "g-nalu", "mcfc") else 2
    net, data = _population(model, hidden=hidden)
    fit, grads = _gradients(net, data, 3, fused=True)
    fit_ref, grads_ref = _gradients(net, data, 3, fused=False)
    torch.testing.assert_close(fit, fit_ref, rtol=1e-12, atol=0)
    for name, grad in grads_ref.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-10, atol=1e-14, msg=f"{model} {name}")


@pytest.mark.parametrize("model", ["nau/nmu", "nalu"])
def test_rows_left_over_from_the_blocks_of_four_match_autograd(model):
    net = build_model(model, 100, 1, hidden=2, members=2, dtype=torch.float64)
    seed_members_(net, [0, 1])
    data = PopulationData(MEMBERS[:2], batch_size=30, eval_samples=4, device="cpu", dtype=torch.float64)
    fit, grads = _gradients(net, data, 3, fused=True)
    fit_ref, grads_ref = _gradients(net, data, 3, fused=False)
    torch.testing.assert_close(fit, fit_ref, rtol=1e-12, atol=0)
    for name, grad in grads_ref.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-10, atol=1e-14, msg=f"{model} {name}")


@pytest.mark.parametrize("model", ["nau/nmu", "nmu/nau"])
def test_clamped_weights_at_and_beyond_their_bounds_match_autograd(model):
    """The fused step clamps a NAU's and an NMU's W itself (KernelLayer.weight_bounds): weights
    on a bound keep their gradient, weights beyond it (and nan) get none, as through torch.clamp."""
    net, data = _population(model)
    first, second = net.units()
    with torch.no_grad():
        low, high = first.bounds
        first.W[:, 0, :6] = torch.tensor([low, high, low - 0.5, high + 0.5, low - 1e-12, high + 1e-12], dtype=torch.float64)
        second.W[:, 0, :] = torch.tensor(second.bounds[::-1])  # (the first hidden unit is used)
    fit, grads = _gradients(net, data, 3, fused=True)
    fit_ref, grads_ref = _gradients(net, data, 3, fused=False)
    torch.testing.assert_close(fit, fit_ref, rtol=1e-12, atol=0)
    for name, grad in grads_ref.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-10, atol=1e-14, msg=name)
    on, beyond = grads_ref["0.W"][:, 0, :2], grads_ref["0.W"][:, 0, 2:6]
    assert (on != 0).all() and (beyond == 0).all() and (grads_ref["1.W"] != 0).all()  # the cases are what they say
    with torch.no_grad():
        first.W[:, 0, 0] = float("nan")
    fit, grads = _gradients(net, data, 3, fused=True)
    assert fit.isnan().all() and (grads["0.W"][:, 0, 0] == 0).all()


def test_every_target_is_the_one_autograd_trains_on():
    from nalm.tasks import TARGETS

    members = [Member(0, target, TASK) for target in TARGETS]
    net, data = _population("nac", members=members)
    fit, _ = _gradients(net, data, 0, fused=True)
    fit_ref, _ = _gradients(net, data, 0, fused=False)
    torch.testing.assert_close(fit, fit_ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("model", ["nalu", "g-nalu"])  # the G-NALU's gate and bias enter scaled by ln φ
@pytest.mark.parametrize("options", NALU_VARIANTS, ids=lambda o: next(iter(o)))
def test_nalu_variants_match_autograd(options, model):
    net, data = _population(model, unit_options={model: options})
    fit, grads = _gradients(net, data, 0, fused=True)
    fit_ref, grads_ref = _gradients(net, data, 0, fused=False)
    torch.testing.assert_close(fit, fit_ref, rtol=1e-12, atol=0)
    for name, grad in grads_ref.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-10, atol=1e-14, msg=name)


def _train(model, fused, dtype="float64", optimizer="adam", members=MEMBERS, **options):
    config = TrainConfig(iterations=100, eval_every=50, eval_samples=64, dtype=dtype, fused=fused,
                         optimizer=optimizer, **options)
    return train_population(model, members, config)


def _largest_difference(a, b, relative=False):
    worst = 0.0
    for ra, rb in zip(a, b):
        for name, w in rb.weights.items():
            diff = np.abs(ra.weights[name] - w)
            worst = max(worst, float((diff / np.maximum(np.abs(w), 1e-3)).max() if relative else diff.max()))
    return worst


REGULARIZED = {"unit_options": {"nau": {"regularizer_start": 10, "regularizer_end": 50},
                                "nmu": {"regularizer_start": 20, "regularizer_end": 80}}}


@pytest.mark.slow
@pytest.mark.parametrize("model, hidden", [("nau/nmu", 2), ("nac", 2), ("nmu/nau", 2), ("nac-mul", None)])
def test_after_100_adam_steps_float64_weights_agree_within_1e_10(model, hidden):
    assert _largest_difference(_train(model, True, hidden=hidden, **REGULARIZED),
                               _train(model, False, hidden=hidden, **REGULARIZED)) < 1e-10


@pytest.mark.slow
@pytest.mark.parametrize("hidden", [None, 2])
def test_after_100_adam_steps_nalu_float64_weights_agree_within_1e_10(hidden):
    """On the single-module task (x1, x2 in [1, 2]). On madsen2020's 100 inputs a NALU's
    trajectory is chaotic: its multiplicative path multiplies tens of inputs, its gradients are
    huge, and Adam moves weights whose gradient is pure rounding noise by lr-sized steps, so two
    exact implementations part after some tens of steps (the next test checks the first ones)."""
    task = presets.mistry2022("[1,2]", "[2,6]")
    members = [Member(s, t, task) for s in (0, 1, 2) for t in ("add", "sub", "mul", "div")]
    assert _largest_difference(_train("nalu", True, members=members, hidden=hidden),
                               _train("nalu", False, members=members, hidden=hidden)) < 1e-10


def test_nalu_under_adam_agrees_for_its_first_steps():
    config = dict(iterations=5, eval_every=5, eval_samples=64, dtype="float64")
    fused = train_population("nalu", MEMBERS, TrainConfig(**config))
    reference = train_population("nalu", MEMBERS, TrainConfig(fused=False, **config))
    assert _largest_difference(fused, reference) < 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("model", ["nau/nmu", "nac"])
def test_after_100_steps_float32_weights_agree_within_1e_4(model):
    assert _largest_difference(_train(model, True, dtype="float32"), _train(model, False, dtype="float32"),
                               relative=True) < 1e-4


@pytest.mark.parametrize("model", ["nau/nmu", "nalu"])
def test_a_fused_member_computes_what_it_computes_alone(model):
    crowd = _train(model, True, dtype="float32")
    for index in (0, 4):
        alone = _train(model, True, dtype="float32", members=[MEMBERS[index]])[0]
        for name, w in alone.weights.items():
            np.testing.assert_array_equal(crowd[index].weights[name], w)
        assert crowd[index].curve == alone.curve


@pytest.mark.parametrize("model, task, options", [
    ("mlp-relu6", TASK, {}),
    ("npu", TASK, {}),
    ("inalu", TASK, {}),
    ("nau/nmu", PoolTask(), {}),
    ("nau/nmu", StaticTask(train_samples=50), {}),
    ("nau", RecurrentTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, length=3), {"recurrent": True}),
])
def test_what_the_kernel_does_not_cover_trains_with_autograd(model, task, options):
    members = [Member(0, "add", task)]
    net = build_model(model, task.in_features, 1, hidden=2, members=1, recurrent=options.get("recurrent", False))
    data = PopulationData(members, batch_size=8, eval_samples=2, device="cpu", dtype=torch.float32)
    assert FusedStep.of(net, data) is None


def test_the_fused_option_is_validated_and_stored():
    with pytest.raises(ValueError, match="fused"):
        TrainConfig(fused="yes")
    assert TrainConfig().to_dict()["fused"] is True
