"""NAU and NMU: exact sums and products, clamping, projection, and the ramped regularizer."""
import math

import numpy as np
import pytest
import torch

import nalm
from nalm.units import NAU, NMU, Network

F64 = torch.float64


def set_(param, value):
    with torch.no_grad():
        param.copy_(torch.as_tensor(value, dtype=param.dtype).expand_as(param))


# -- NAU ----------------------------------------------------------------------------------------
def test_nau_subtracts_exactly():
    g = torch.Generator().manual_seed(0)
    nau = NAU(2, 2, dtype=F64)
    set_(nau.W, [[1.0, -1.0], [1.0, 1.0]])
    x = (torch.rand(1000, 2, generator=g, dtype=F64) * 2 - 1) * 1e6
    y = nau(x)
    assert torch.equal(y[:, 0], x[:, 0] - x[:, 1])
    assert torch.equal(y[:, 1], x[:, 0] + x[:, 1])


def test_nau_is_linear_for_any_weight_inside_the_range():
    torch.manual_seed(1)
    nau = NAU(4, 3, dtype=F64)
    set_(nau.W, torch.rand(3, 4, dtype=F64) * 2 - 1)
    x = torch.randn(5, 4, dtype=F64)
    torch.testing.assert_close(nau(x), x @ nau.W.detach().T, rtol=1e-14, atol=1e-14)


def test_nau_clamps_its_weight_in_forward():
    nau = NAU(3, 1, dtype=F64)
    set_(nau.W, [[3.0, -2.0, 0.5]])
    x = torch.tensor([[5.0, 2.0, 4.0]], dtype=F64)
    assert torch.equal(nau.weight, torch.tensor([[1.0, -1.0, 0.5]], dtype=F64))
    assert torch.equal(nau(x), torch.tensor([[5.0]], dtype=F64))
    assert torch.equal(nau.W.detach(), torch.tensor([[3.0, -2.0, 0.5]], dtype=F64))  # not in place


@pytest.mark.parametrize("n_in, n_out, r", [(10, 1, 0.5), (100, 2, math.sqrt(3) * math.sqrt(2 / 102))])
def test_nau_init_is_uniform_in_plus_minus_r(n_in, n_out, r):
    torch.manual_seed(2)
    nau = NAU(n_in, n_out, members=50, dtype=F64)
    w = nau.W.detach()
    assert w.abs().max() <= r
    assert w.max() > 0.97 * r and w.min() < -0.97 * r


# -- NMU ----------------------------------------------------------------------------------------
def test_nmu_multiplies_exactly_including_negative_inputs():
    nmu = NMU(3, 2, dtype=F64)
    set_(nmu.W, [[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    x = torch.tensor([[-3.0, 4.0, 1e9], [-3.0, -4.0, 0.0], [7.0, -11.0, -5.0], [0.0, 13.0, 2.0]], dtype=F64)
    expected = torch.stack([x[:, 0] * x[:, 1], x[:, 1] * x[:, 2]], dim=1)
    assert torch.equal(nmu(x), expected)
    assert nmu(x)[0, 0] == -12 and nmu(x)[1, 0] == 12


def test_nmu_product_of_real_inputs():
    g = torch.Generator().manual_seed(3)
    nmu = NMU(2, 1, dtype=F64)
    set_(nmu.W, [[1.0, 1.0]])
    x = (torch.rand(500, 2, generator=g, dtype=F64) * 2 - 1) * 1e3
    torch.testing.assert_close(nmu(x)[:, 0], x[:, 0] * x[:, 1], rtol=1e-12, atol=1e-9)


def test_nmu_follows_its_formula_for_fractional_weights():
    torch.manual_seed(4)
    nmu = NMU(3, 2, dtype=F64)
    w = torch.rand(2, 3, dtype=F64)
    set_(nmu.W, w)
    x = torch.randn(6, 3, dtype=F64)
    expected = torch.ones(6, 2, dtype=F64)
    for j in range(2):
        for i in range(3):
            expected[:, j] *= w[j, i] * x[:, i] + 1 - w[j, i]
    torch.testing.assert_close(nmu(x), expected, rtol=1e-13, atol=1e-14)


def test_nmu_clamps_its_weight_to_zero_one_in_forward():
    nmu = NMU(3, 1, dtype=F64)
    set_(nmu.W, [[2.0, -1.0, 1.0]])  # acts as [1, 0, 1]
    x = torch.tensor([[3.0, 100.0, -5.0]], dtype=F64)
    assert torch.equal(nmu.weight, torch.tensor([[1.0, 0.0, 1.0]], dtype=F64))
    assert torch.equal(nmu(x), torch.tensor([[-15.0]], dtype=F64))


def test_nmu_init_is_uniform_quarter_to_three_quarters():
    torch.manual_seed(5)
    w = NMU(20, 10, members=5).W.detach()
    assert w.min() >= 0.25 and w.max() <= 0.75
    assert w.min() < 0.26 and w.max() > 0.74


# -- projection -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, expected", [
    (NAU, [-1.0, -0.5, 0.0, 0.2, 1.0, 1.0]),
    (NMU, [0.0, 0.0, 0.0, 0.2, 1.0, 1.0]),
])
@pytest.mark.parametrize("members", [None, 3])
def test_project_clips_the_weight_in_place(cls, expected, members):
    unit = cls(6, 1, members=members, dtype=F64)
    set_(unit.W, [[-3.0, -0.5, 0.0, 0.2, 1.0, 7.5]])
    param = unit.W
    unit.project_()
    assert unit.W is param  # same Parameter, so an optimizer keeps tracking it
    assert torch.equal(unit.W.detach(), torch.tensor([expected], dtype=F64).expand_as(unit.W))


# -- regularization ---------------------------------------------------------------------------
def sparsity(w, lower):
    w = w.abs()
    return torch.minimum(w, (1 - w).abs()).mean()


def reg_unit(cls, members=None, scale=0.5, start=100, end=300):
    torch.manual_seed(6)
    unit = cls(4, 3, members=members, dtype=F64, regularizer_scale=scale,
               regularizer_start=start, regularizer_end=end)
    low = -1.0 if cls is NAU else 0.0
    set_(unit.W, torch.rand_like(unit.W) * (1 - low) + low)
    return unit


@pytest.mark.parametrize("cls", [NAU, NMU])
def test_regularizer_ramps_from_start_to_end(cls):
    unit = reg_unit(cls)
    lower = unit.lower
    r = sparsity(unit.W.detach(), lower)
    assert r > 0
    for step in (0, 50, 99, 100):
        reg = unit.regularization(step)
        assert reg.shape == () and reg.item() == 0.0
    torch.testing.assert_close(unit.regularization(150), 0.5 * 0.25 * r, rtol=1e-12, atol=0)
    torch.testing.assert_close(unit.regularization(200), 0.5 * 0.5 * r, rtol=1e-12, atol=0)
    for step in (300, 301, 10**7):
        torch.testing.assert_close(unit.regularization(step), 0.5 * r, rtol=1e-12, atol=0)


@pytest.mark.parametrize("cls", [NAU, NMU])
def test_regularizer_of_a_population_is_one_value_per_member(cls):
    unit = reg_unit(cls, members=4)
    reg = unit.regularization(10**6)
    assert reg.shape == (4,)
    expected = torch.stack([sparsity(unit.W.detach()[m], unit.lower) for m in range(4)])
    torch.testing.assert_close(reg, 0.5 * expected, rtol=1e-12, atol=0)
    assert unit.regularization(0).shape == (4,) and (unit.regularization(0) == 0).all()


@pytest.mark.parametrize("cls", [NAU, NMU])
def test_regularizer_is_zero_at_zero_one_and_minus_one(cls):
    unit = reg_unit(cls)
    values = [[-1.0, 0.0, 1.0, 1.0]] if cls is NAU else [[0.0, 0.0, 1.0, 1.0]]
    set_(unit.W, values)
    assert unit.regularization(10**6).item() == 0.0
    set_(unit.W, 0.5)
    assert unit.regularization(10**6).item() == pytest.approx(0.5 * 0.5)


@pytest.mark.parametrize("cls, W, grad", [
    # d/dW of mean(min(|W|, |1 - |W||)) over 4 weights, scale 1: 0 exactly at the targets,
    # ±1/4 between them (stable-nalu regualizer.py:21-25 and :42-47, on the raw W).
    (NAU, [[-1.0, 0.0, 1.0, 0.25]], [[0.0, 0.0, 0.0, 0.25]]),
    (NAU, [[-0.75, 0.75, -0.25, 0.5]], [[0.25, -0.25, -0.25, 0.0]]),
    (NMU, [[0.0, 1.0, 1.0, 0.25]], [[0.0, 0.0, 0.0, 0.25]]),
    (NMU, [[0.75, 0.5, 0.0, 0.0]], [[-0.25, 0.0, 0.0, 0.0]]),
])
def test_regularizer_gradient_is_zero_exactly_at_the_targets(cls, W, grad):
    """A clamped weight would see a pull of ∓λ at ±1, pushing it out of range each step."""
    unit = cls(4, 1, dtype=F64, regularizer_scale=1.0, regularizer_start=0, regularizer_end=1)
    set_(unit.W, W)
    unit.regularization(10).backward()
    assert torch.equal(unit.W.grad, torch.tensor(grad, dtype=F64))


def test_regularizer_reads_the_raw_weight():
    """stable-nalu passes the parameter itself (re_regualized_linear_nac.py:56): an out-of-range
    weight (before projection) counts by its distance from the nearest of -1, 0, 1."""
    unit = NAU(2, 1, dtype=F64, regularizer_scale=1.0, regularizer_start=0, regularizer_end=1)
    set_(unit.W, [[1.5, -1.25]])
    assert unit.regularization(10).item() == (0.5 + 0.25) / 2


@pytest.mark.parametrize("cls", [NAU, NMU])
def test_regularizer_has_a_gradient(cls):
    unit = reg_unit(cls)
    unit.regularization(10**6).backward()
    assert unit.W.grad is not None and (unit.W.grad.abs() > 0).all()


def test_paper_default_schedules():
    nau, nmu = NAU(2, 1), NMU(2, 1)
    assert (nau.regularizer_scale, nau.regularizer_start, nau.regularizer_end) == (0.01, 5e3, 5e4)
    assert (nmu.regularizer_scale, nmu.regularizer_start, nmu.regularizer_end) == (10.0, 1e6, 2e6)


def test_network_regularization_sums_its_layers():
    options = {"nau": {"regularizer_start": 0, "regularizer_end": 10, "regularizer_scale": 1.0},
               "nmu": {"regularizer_start": 0, "regularizer_end": 20, "regularizer_scale": 3.0}}
    for members in (None, 3):
        torch.manual_seed(7)
        net = nalm.build_model("nau/nmu", 4, 1, hidden=3, unit_options=options, members=members, dtype=F64)
        assert isinstance(net, Network)
        nau, nmu = net
        assert nau.regularizer_end == 10 and nmu.regularizer_end == 20
        for step in (0, 5, 10, 15, 100):
            expected = nau.regularization(step) + nmu.regularization(step)
            reg = net.regularization(step)
            assert reg.shape == (() if members is None else (members,))
            torch.testing.assert_close(reg, expected, rtol=1e-14, atol=0)
        # and it is the independently computed value
        w0, w1 = nau.W.detach(), nmu.W.detach()
        if members is None:
            expected = 1.0 * 0.5 * sparsity(w0, -1) + 3.0 * 0.25 * sparsity(w1, 0)
        else:
            expected = torch.stack([0.5 * sparsity(w0[m], -1) + 0.75 * sparsity(w1[m], 0)
                                    for m in range(members)])
        torch.testing.assert_close(net.regularization(5), expected, rtol=1e-12, atol=0)


def test_network_project_projects_every_layer():
    net = nalm.build_model("nau/nmu", 2, 1, hidden=2)
    set_(net[0].W, 5.0)
    set_(net[1].W, -5.0)
    net.project_()
    assert (net[0].W == 1).all() and (net[1].W == 0).all()


# -- the stochastic NMU (Mistry et al. 2022) ---------------------------------------------------
def snmu_noise(key: int, step: int, rows: int, columns: int, low=1.0, high=5.0) -> np.ndarray:
    from nalm import streams
    from nalm.philox import Draws, uniform
    return low + (high - low) * uniform(Draws(key, streams.SNMU_NOISE, step), (rows, columns))


def test_snmu_trains_on_noisy_inputs_and_divides_the_noise_out():
    from nalm.units.nau_nmu import StochasticNMU
    snmu = StochasticNMU(3, 2, dtype=torch.float64)
    with torch.no_grad():
        snmu.W.copy_(torch.tensor([[0.3, 1.0, 0.0], [0.9, 0.5, 0.2]], dtype=torch.float64))
    x = torch.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=torch.float64)
    w = snmu.W.detach().numpy()

    def nmu(v):
        return np.prod(v[:, None, :] * w + 1 - w, axis=-1)

    key = int(snmu.noise_key)
    for step in range(3):
        n = snmu_noise(key, step, 2, 3)
        expected = nmu(x.numpy() * n) / nmu(n)
        assert np.allclose(snmu(x).detach().numpy(), expected, rtol=1e-13, atol=0)
    assert int(snmu.noise_step) == 3
    snmu.eval()
    assert np.allclose(snmu(x).detach().numpy(), nmu(x.numpy()), rtol=1e-13)
    assert int(snmu.noise_step) == 3  # evaluation draws nothing


def test_snmu_noise_cancels_at_integer_weights_and_its_state_resumes():
    from nalm.units.nau_nmu import StochasticNMU
    snmu = StochasticNMU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        snmu.W.copy_(torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    x = torch.tensor([[3.0, 7.0]], dtype=torch.float64)
    assert torch.allclose(snmu(x), torch.tensor([[3.0]], dtype=torch.float64), rtol=1e-14)
    state = snmu.state_dict()
    assert set(state) == {"W", "noise_key", "noise_step"} and int(state["noise_step"]) == 1
    again = StochasticNMU(2, 1, dtype=torch.float64)
    again.load_state_dict(state)
    with torch.no_grad():
        snmu.W.fill_(0.5), again.W.fill_(0.5)
    assert torch.equal(snmu(x), again(x))  # a checkpoint resumes the same noise
    again.load_state_dict({"W": state["W"]})  # stored runs keep parameters only
    with pytest.raises(ValueError, match="noise_range"):
        StochasticNMU(2, 1, noise_range=(5.0, 1.0))


def test_an_snmu_member_trains_as_it_would_alone():
    from nalm.tasks import presets
    from nalm.train import Member, TrainConfig, train_population
    config = TrainConfig(iterations=40, eval_every=10, eval_samples=64, hidden=None, dtype="float64",
                         unit_options={"snmu": {"regularizer_start": 10, "regularizer_end": 30}})
    task = presets.mistry2022_ranges()[0]
    members = [Member(seed, "mul", task) for seed in (3, 4, 5)]
    population = train_population("snmu", members, config)
    alone = train_population("snmu", members[1:2], config)[0]
    assert np.allclose(population[1].weights["0.W"], alone.weights["0.W"], rtol=0, atol=1e-12)
    assert not np.allclose(population[0].weights["0.W"], alone.weights["0.W"])
    plain = train_population("nmu", members[1:2], config)[0]
    assert not np.allclose(plain.weights["0.W"], alone.weights["0.W"])  # the noise changed training


# --------------------------------------------------------------------------- R_z, the input regularizer


def _kept_inputs(unit, *inputs):
    for x in inputs:
        unit(x)
    return unit.regularization(0)


@pytest.mark.parametrize("cls, z", [(NAU, 0.0), (NMU, 1.0)])
def test_input_regularizer_follows_its_formula(cls, z):
    """R_z = mean((1 - |W|)·(z - x̄)²), x̄ the mean input over every training pass since the
    last optimizer step (stable-nalu functional/regualizer_n{a,m}u_z.py), weighted by regularizer_z."""
    torch.manual_seed(0)
    unit = cls(3, 2, regularizer_z=0.5, regularizer_start=10, regularizer_end=20, dtype=torch.float64)
    x1, x2 = torch.rand(4, 3, dtype=torch.float64) * 3, torch.rand(2, 3, dtype=torch.float64) * 3
    x_mean = torch.cat([x1, x2]).mean(0)
    expected = 0.5 * ((1 - unit.W.abs()) * (z - x_mean) ** 2).mean()
    torch.testing.assert_close(_kept_inputs(unit, x1, x2), expected, rtol=1e-14, atol=0)
    with torch.no_grad(), nalm.units.evaluating(unit):
        unit(torch.full((5, 3), 100.0, dtype=torch.float64))  # evaluation passes are not kept
    torch.testing.assert_close(unit.regularization(0), expected, rtol=1e-14, atol=0)
    unit.project_()  # after the optimizer step: a new batch of inputs
    assert unit.regularization(0).item() == 0


def test_input_regularizer_gradient_reaches_the_inputs_and_the_nmus_weight_at_zero():
    """As the reference: x̄ is not detached, and the NMU's term is 1 - W (gradient -1 at W = 0,
    where |W| would give 0); the NAU's is 1 - |W|."""
    nmu = NMU(2, 1, regularizer_z=1.0, dtype=torch.float64)
    with torch.no_grad():
        nmu.W.copy_(torch.tensor([[0.0, 0.5]]))
    x = torch.tensor([[3.0, 5.0]], dtype=torch.float64, requires_grad=True)
    nmu(x)
    nmu.input_regularizer().backward()
    torch.testing.assert_close(nmu.W.grad, torch.tensor([[-(1 - 3.0) ** 2 / 2, -(1 - 5.0) ** 2 / 2]], dtype=torch.float64))
    assert x.grad is not None and (x.grad != 0).all()
    nau = NAU(2, 1, regularizer_z=1.0, dtype=torch.float64)
    with torch.no_grad():
        nau.W.copy_(torch.tensor([[0.0, -0.5]]))
    nau(torch.tensor([[3.0, 5.0]], dtype=torch.float64))
    nau.input_regularizer().backward()
    torch.testing.assert_close(nau.W.grad, torch.tensor([[0.0, 5.0 ** 2 / 2]], dtype=torch.float64))


@pytest.mark.parametrize("cls", [NAU, NMU])
@pytest.mark.parametrize("shared", [True, False], ids=["shared input", "one input per member"])
def test_input_regularizer_of_a_member_is_what_it_is_alone(cls, shared):
    seeds = [3, 4, 5]
    population = cls(4, 2, members=3, regularizer_z=1.0, dtype=torch.float64)
    nalm.units.seed_members_(population, seeds)
    inputs = [torch.rand(6, 4, dtype=torch.float64) if shared else torch.rand(3, 6, 4, dtype=torch.float64)
              for _ in range(2)]
    terms = _kept_inputs(population, *inputs)
    for m, seed in enumerate(seeds):
        torch.manual_seed(seed)
        alone = cls(4, 2, regularizer_z=1.0, dtype=torch.float64)
        own = [x if shared else x[m] for x in inputs]
        torch.testing.assert_close(terms[m], _kept_inputs(alone, *own), rtol=1e-12, atol=0)


def test_input_regularizer_turns_the_fused_step_off_and_is_refused_where_undefined():
    from nalm.explain.layers import linear_map
    from nalm.tasks import presets
    from nalm.train.data import Member, PopulationData
    from nalm.train.fused import FusedStep

    data = PopulationData([Member(0, "add", presets.madsen2020())], batch_size=4, eval_samples=2, device="cpu",
                          dtype=torch.float32)
    for z, fused in ((0.0, True), (1.0, False)):  # every training pass's input is needed
        net = nalm.build_model("nau/nmu", 100, 1, hidden=2, members=1, unit_options={"nau": {"regularizer_z": z}})
        assert (FusedStep.of(net, data) is not None) == fused
        assert net[0].trains_through_forward == (not fused)
        assert linear_map(net[0]) is not None  # still a linear map to explain
    assert FusedStep.of(nalm.build_model("nau/snmu", 100, 1, hidden=2, members=1), data) is None  # noisy forward
    recurrent = nalm.build_model("nau", 10, 1, recurrent=True, unit_options={"nau": {"regularizer_z": 1.0}})
    recurrent(torch.rand(4, 3, 10))
    assert len(recurrent.cell._inputs) == 3  # each time step through the cell's forward, no shortcut
    assert "regularizer_z=1.0" in repr(NMU(3, 1, regularizer_z=1))
    for bad in (-1.0, True, "1"):
        with pytest.raises(ValueError, match="regularizer_z"):
            NAU(3, 1, regularizer_z=bad)
    for cls in (nalm.units.NRU, nalm.units.NMRU, nalm.units.nau_nmu.StochasticNMU):
        with pytest.raises(ValueError, match="no input regularizer"):
            cls(3, 1, regularizer_z=1.0)


def test_small_uniform_init_is_heim_et_al_s_rand_over_ten():
    """nmheim/NeuralPowerUnits src/arithmetic_models.jl:37-38 (rand(Float32, a, b)/10) for the NAU,
    NMU and NALU of its arithmetic task (:50-65); the NALU's gate bias starts at 0."""
    torch.manual_seed(0)
    units = [nalm.NAU(100, 100, init="small-uniform"), nalm.NMU(100, 100, init="small-uniform", members=2),
             nalm.NALU(100, 100, init="small-uniform", gate_bias=True)]
    for unit in units:
        for name, p in unit.named_parameters():
            if name == "gate_bias":
                assert (p == 0).all()
                continue
            assert p.min() >= 0 and 0.099 < p.max() < 0.1 and abs(p.mean().item() - 0.05) < 2e-3, (unit, name)
    assert "init='small-uniform'" in repr(units[0]) and "init=" not in repr(nalm.NAU(2, 1))
    with pytest.raises(ValueError, match="NRU init must be one of"):
        nalm.NRU(2, 1, init="small-uniform")  # an init its class does not draw is refused
