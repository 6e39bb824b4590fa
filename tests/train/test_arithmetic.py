"""Populations on arithmetic tasks: members train exactly as they would alone, divergence is contained."""
from pathlib import Path

import numpy as np
import pytest
import torch

from nalm.tasks import StaticTask, presets
from nalm.train import Checkpointing, Member, TrainConfig, TrainingInterrupted, train_population
from nalm.units import build_model, seed_members_, sparsity_error

TASK = presets.madsen2020()


def max_weight_difference(a, b) -> float:
    return max(float(np.abs(a.weights[k] - b.weights[k]).max()) for k in a.weights)


@pytest.mark.parametrize("model", ["nalu", "nau/nmu", "nac/nac-mul", "mlp-relu6"])
def test_member_of_64_matches_the_same_seed_trained_alone(model):
    config = TrainConfig(iterations=150, eval_every=50, eval_samples=64, dtype="float64")
    members = [Member(seed, target, TASK) for seed in range(16) for target in ("add", "sub", "mul", "div")]
    population = train_population(model, members, config)
    for index in (0, 37, 63):
        alone = train_population(model, [members[index]], config)[0]
        assert max_weight_difference(population[index], alone) <= 1e-10
        assert population[index].curve == alone.curve


def test_trained_weights_move_and_differ_between_seeds():
    config = TrainConfig(iterations=50, eval_every=25, eval_samples=32)
    members = [Member(0, "add", TASK), Member(1, "add", TASK)]
    first, second = train_population("nac", members, config)
    torch.manual_seed(0)
    initial = build_model("nac", 100, 1).state_dict()
    assert max_weight_difference(first, second) > 1e-3
    assert np.abs(first.weights["0.W_hat"] - initial["0.W_hat"].numpy()).max() > 1e-3


CUDA = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"))


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_a_diverging_member_is_frozen_and_the_others_train_on(device):
    # NAC• on inputs up to 1e30 overflows exp for a large enough learning rate.
    huge = StaticTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                      interpolation=[1e20, 1e30], extrapolation=[1e30, 1e31])
    sane = StaticTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first")
    members = [Member(0, "add", sane), Member(0, "mul", huge), Member(1, "add", sane)]
    config = TrainConfig(iterations=200, eval_every=50, eval_samples=32, lr=0.05, device=device)
    results = train_population("nac-mul", members, config)
    alone = train_population("nac-mul", [members[0]], config)[0]
    assert results[1].diverged and results[1].diverged_at is not None
    assert all(np.isfinite(w).all() for w in results[1].weights.values())  # frozen at finite weights
    assert not results[0].diverged and not results[2].diverged
    # On a GPU a member alone runs other kernels than in a population of three (cuBLAS picks
    # by batch size), so the float32 weights (about 9) agree to some ulps, not bit for bit.
    assert max_weight_difference(results[0], alone) < (1e-6 if device == "cpu" else 1e-5)


def test_nac_population_learns_addition_and_mlp_does_not_extrapolate():
    task = StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                      interpolation=[1, 2], extrapolation=[100, 1000])
    # the blog's init: stable-nalu's (the default) draws a 2 -> 1 NAC from U[-9.47, 9.47], and a
    # saturated seed may need far more than these 1500 steps
    config = TrainConfig(iterations=1500, eval_every=500, eval_samples=256, lr=0.1, hidden=None,
                         unit_options={"nac": {"init": "blog"}})
    members = [Member(seed, "add", task) for seed in range(4)]
    nac = train_population("nac", members, config)
    mlp = train_population("mlp-relu6", members, config.replace(hidden=8, lr=0.01))
    for r in nac:  # a+b ≈ 1100 on [100, 1000]; Adam's β2 = 0.999 makes the last digits slow
        assert r.metrics["extrapolation_mae"] / 1100 < 2e-2
        assert r.metrics["interpolation_mae"] < 0.05
    for r in mlp:
        assert r.metrics["interpolation_mae"] < 0.2  # it fits where it was trained...
        assert r.metrics["extrapolation_mae"] / 1100 > 0.5  # ...and nowhere else


def test_best_step_is_the_lowest_interpolation_error():
    config = TrainConfig(iterations=400, eval_every=100, eval_samples=64)
    result = train_population("nau", [Member(3, "add", TASK)], config)[0]
    curve = result.curve
    best = int(np.argmin(curve["interpolation"]))
    assert result.metrics["best_step"] == curve["step"][best]
    assert result.metrics["best_extrapolation_mse"] == curve["extrapolation"][best]
    assert curve["step"] == [0, 100, 200, 300, 400]


def test_the_sparsity_error_is_the_best_steps_measured_on_the_population():
    """Evaluated at 0 and 60 only, each member's best weights are its initial or its final ones;
    its sparsity error is theirs (lr 1 leaves some members worse than they started)."""
    config = TrainConfig(iterations=60, eval_every=60, eval_samples=64, dtype="float64", hidden=2, lr=1.0)
    members = [Member(seed, target, TASK) for seed in range(4) for target in ("add", "mul")]
    initial = train_population("nau/nmu", members, config.replace(iterations=0))
    trained = train_population("nau/nmu", members, config)

    def alone(weights):
        return float(sparsity_error("nau/nmu", config.load_network("nau/nmu", TASK, weights)))

    assert {r.metrics["best_step"] for r in trained} == {0, 60}  # both cases occur
    for start, result in zip(initial, trained):
        weights = result.weights if result.metrics["best_step"] == 60 else start.weights
        assert result.metrics["sparsity_error"] == alone(weights)
        assert alone(result.weights) != alone(start.weights)
    assert train_population("mlp-relu6", members[:1], config)[0].metrics["sparsity_error"] is None


def test_population_rejects_mixed_input_sizes_and_empty_populations():
    config = TrainConfig(iterations=1)
    other = StaticTask(input_size=10)
    with pytest.raises(ValueError, match="input sizes"):
        train_population("nac", [Member(0, "add", TASK), Member(0, "add", other)], config)
    with pytest.raises(ValueError, match="at least one member"):
        train_population("nac", [], config)


def test_seed_members_matches_seeded_construction():
    net = build_model("nalu", 5, 1, members=3)
    seed_members_(net, [7, 8, 9])
    torch.manual_seed(8)
    alone = build_model("nalu", 5, 1)
    for name, p in alone.named_parameters():
        assert torch.equal(dict(net.named_parameters())[name][1], p)


def test_population_rejects_mixing_fixed_training_sets_and_fresh_batches():
    fixed = StaticTask(train_samples=64)
    with pytest.raises(ValueError, match="fixed training sets"):
        train_population("nac", [Member(0, "add", TASK), Member(0, "add", fixed)], TrainConfig(iterations=1))


def test_learning_rates_are_a_population_dimension():
    config = TrainConfig(iterations=120, eval_every=60, eval_samples=64, dtype="float64", lr=[1e-3, 1e-2])
    members = [Member(seed, "add", TASK, lr=lr) for seed in range(3) for lr in (1e-3, 1e-2)]
    population = train_population("nalu", members, config)
    for index in (1, 4):
        alone = train_population("nalu", [members[index]], config.replace(lr=members[index].lr))[0]
        assert max_weight_difference(population[index], alone) == 0.0
    # the rate matters: same seed, different rates, different weights
    assert max_weight_difference(population[0], population[1]) > 1e-4


def test_a_list_of_rates_needs_a_rate_per_member():
    with pytest.raises(ValueError, match="rate per member"):
        train_population("nac", [Member(0, "add", TASK)], TrainConfig(iterations=1, lr=[1e-3, 1e-2]))


SANE = StaticTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first")
PLATEAU = {"inalu": {"reinitialize": {"every": 5, "min_stored": 10, "threshold": 1.0}}}


def test_members_reinitialize_at_their_own_steps_exactly_as_alone():
    task = presets.mistry2022_ranges()[0]
    config = TrainConfig(iterations=80, eval_every=10, eval_samples=64, dtype="float64", hidden=None, lr=0.1,
                         grad_clip=0.1, unit_options=PLATEAU)
    members = [Member(seed, target, task) for seed in range(3) for target in ("add", "mul", "div")]
    population = train_population("inalu", members, config)
    times = [r.metrics["reinitialized_at"] for r in population]
    assert len({tuple(t) for t in times}) >= 3  # members plateau at different steps, some never
    for index in (0, 1, 2, 8):
        alone = train_population("inalu", [members[index]], config)[0]
        assert alone.metrics["reinitialized_at"] == times[index]
        assert max_weight_difference(population[index], alone) <= 1e-10
        assert population[index].curve == alone.curve


def test_plateau_rule_and_reinitialization_from_the_members_own_seed():
    from nalm.train.plateau import PlateauWatch
    from nalm.units import INALU, PlateauReset

    torch.manual_seed(0)
    net = INALU(2, 1, members=3, dtype=torch.float64)
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    watch = PlateauWatch(PlateauReset(every=1, min_stored=3, threshold=1.0), seeds=[7, 8, 9])
    watch.evaluated(0, np.array([2.0, 0.5, 4.0]))
    watch.evaluated(2, np.array([2.0, 0.5, 1.0]))
    watch.check(2, net, None)  # 3 stored: not more than min_stored
    assert watch.reinitialized_at == [[], [], []]
    # Steps 0-1 store e(0), steps 2-3 e(2). Member 0: 2 <= 2 + 0 and 2 > 1: plateau. Member 1:
    # its error 0.5 is below the threshold. Member 2: 4 > 1 + 0: still falling.
    watch.check(3, net, None)
    assert watch.reinitialized_at == [[3], [], []]
    assert watch.since.tolist() == [4, 0, 0]
    seed = int(np.random.SeedSequence([7, 1]).generate_state(1, np.uint64)[0])
    expected = INALU(2, 1, members=3, dtype=torch.float64)
    seed_members_(expected, [seed] * 3)
    for name, p in net.named_parameters():
        assert torch.equal(p[0], getattr(expected, name)[0]) and not torch.equal(p[0], before[name][0])
        assert torch.equal(p[1:], before[name][1:])
    watch.check(4, net, np.array([False, True, True]))  # diverged members are never reinitialized
    assert watch.reinitialized_at == [[3], [], []]


def test_a_frozen_member_keeps_the_best_step_it_had_before_it_diverged():
    from nalm.train.tracking import BestSteps

    net = build_model("nau", 2, 1, hidden=None, members=2, dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)  # one fixed evaluation batch, y = x1 + x2

    def evaluate():
        with torch.no_grad():
            return {"interpolation": ((net(x) - x.sum(1, keepdim=True)) ** 2).mean(dim=(1, 2))}

    tracker = BestSteps(net, 2, "interpolation")
    with torch.no_grad():
        net[0].W.fill_(0.0)
    tracker.evaluated(0, evaluate(), torch.tensor([False, False]))
    with torch.no_grad():
        net[0].W.fill_(1.0)  # exact for both members: better than step 0
    tracker.evaluated(100, evaluate(), torch.tensor([False, True]))  # member 1 diverged before step 100
    assert tracker.step == [100, 0]
    assert torch.equal(tracker.params["0.W"][1], torch.zeros(1, 2, dtype=torch.float64))


# -- checkpoints -------------------------------------------------------------------


def saved_and_loaded(state):
    """A checkpoint as the store keeps it: through torch.save and back."""
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


HUGE = StaticTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                  interpolation=[1e20, 1e30], extrapolation=[1e30, 1e31])  # a NAC• overflows on it
REINITIALIZING = {"inalu": {"reinitialize": {"every": 10, "min_stored": 20, "threshold": 0.0}}}  # often


@pytest.mark.parametrize("model, members, options, dtype", [
    ("nau/nmu", [Member(seed, target, TASK) for seed in range(3) for target in ("add", "mul")], {}, "float64"),
    pytest.param("nalu", [Member(seed, "mul", TASK) for seed in range(3)], {}, "float64", marks=pytest.mark.slow),
    pytest.param("inalu", [Member(seed, "add", TASK) for seed in range(3)], REINITIALIZING, "float64",
                 marks=pytest.mark.slow),
    ("nac-mul", [Member(0, "add", SANE), Member(0, "mul", HUGE), Member(1, "mul", SANE)], {}, "float32"),  # diverges
])
def test_a_population_resumed_from_checkpoints_ends_bit_identical(model, members, options, dtype):
    """Stopped twice, at step 73 (between evaluations) and at 190 (with a checkpoint by time at
    every step before it), each time resumed from the last checkpoint: the same weights,
    curves and metrics as never stopped."""
    config = TrainConfig(iterations=240, eval_every=50, eval_samples=64, dtype=dtype, hidden=2, unit_options=options)
    whole = train_population(model, members, config)
    saved, resume = [], None
    for stop_at, every in ((73, 1e9), (190, 0.0)):
        start = resume["step"] if resume else 0
        polls = iter(range(start + 1, 10**6))  # stop() is polled at every step after the first
        checkpointing = Checkpointing(save=lambda state: saved.append(saved_and_loaded(state)), every=every,
                                      resume=resume, stop=lambda: next(polls) == stop_at)
        with pytest.raises(TrainingInterrupted) as stopped:
            train_population(model, members, config, checkpointing=checkpointing)
        assert stopped.value.step == saved[-1]["step"] == stop_at
        resume = saved[-1]
    polled = []  # stop() is polled once per step after the one it starts at: it must start at the checkpoint
    resumed = train_population(model, members, config, checkpointing=Checkpointing(
        save=saved.append, resume=resume, stop=lambda: polled.append(1) and False))
    assert len(polled) == config.iterations - resume["step"] == 240 - 190
    assert [r.diverged_at for r in whole] == [r.diverged_at for r in resumed]
    for a, b in zip(whole, resumed):
        assert a.curve == b.curve and a.metrics == b.metrics
        for name in a.weights:
            np.testing.assert_array_equal(a.weights[name], b.weights[name])
    if model == "inalu":
        assert all(r.metrics["reinitialized_at"] for r in whole)
    if model == "nac-mul":
        assert whole[1].diverged


def test_a_checkpoint_of_another_population_is_refused():
    members = [Member(0, "add", TASK)]
    config = TrainConfig(iterations=20, eval_every=10, eval_samples=16)
    saved = []
    with pytest.raises(TrainingInterrupted):
        train_population("nau", members, config, checkpointing=Checkpointing(save=saved.append, stop=lambda: True))
    with pytest.raises(ValueError, match="not of this population"):
        train_population("nmu", members, config, checkpointing=Checkpointing(save=saved.append, resume=saved[0]))
    older = {**saved[0], "version": 0}  # a checkpoint another nalm saved: never resumed
    with pytest.raises(ValueError, match="saved by another version of nalm .checkpoint format 0, this nalm reads 2"):
        train_population("nau", members, config, checkpointing=Checkpointing(save=saved.append, resume=older))


def test_a_checkpoint_saved_before_the_one_training_loop_resumes_bit_identical():
    """tests/train/checkpoints/format1-nau-nmu.pt is what nalm a4faf14 saved at step 73 of this
    population (checkpoint format 1): ``train_population("nau/nmu", MEMBERS, CONFIG,
    checkpointing=Checkpointing(save=..., every=1e9, stop=...))`` stopped before step 73."""
    members = [Member(seed, target, TASK) for seed in range(2) for target in ("add", "mul")]
    config = TrainConfig(iterations=240, eval_every=50, eval_samples=64, dtype="float64", hidden=2)
    saved = torch.load(Path(__file__).parent / "checkpoints" / "format1-nau-nmu.pt", weights_only=True)
    assert saved["version"] == 1 and saved["step"] == 73
    whole = train_population("nau/nmu", members, config)
    resumed = train_population("nau/nmu", members, config, checkpointing=Checkpointing(save=[].append, resume=saved))
    for a, b in zip(whole, resumed):
        assert a.curve == b.curve and a.metrics == b.metrics and a.best_step == b.best_step
        for name in a.weights:
            np.testing.assert_array_equal(a.weights[name], b.weights[name])
