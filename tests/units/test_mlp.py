"""The MLP baseline and its population-capable Linear layer."""
import math

import pytest
import torch
from torch import nn

import nalm
from nalm.units import ACTIVATIONS, MLP, Linear, Network

F64 = torch.float64
TRASK_FIGURE_1 = ["hardtanh", "sigmoid", "relu6", "tanh", "tanhshrink", "hardshrink", "leakyrelu",
                  "softshrink", "softsign", "relu", "prelu", "softplus", "elu", "selu"]


def test_activations_include_trask_figure_1():
    assert set(TRASK_FIGURE_1) <= set(ACTIVATIONS)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_is_initialized_and_computes_like_torch_linear(bias):
    torch.manual_seed(0)
    ours = Linear(5, 3, bias=bias, dtype=F64)
    torch.manual_seed(0)
    ref = nn.Linear(5, 3, bias=bias, dtype=F64)
    assert torch.equal(ours.weight.detach(), ref.weight.detach())
    if bias:
        assert torch.equal(ours.bias.detach(), ref.bias.detach())
    else:
        assert ours.bias is None and set(dict(ours.named_parameters())) == {"weight"}
    x = torch.randn(4, 2, 5, dtype=F64)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-14, atol=1e-14)


def acts_as(module, reference):
    t = torch.linspace(-10, 10, 201)
    return torch.equal(module(t), reference(t))


def test_structure():
    mlp = MLP(2, 1, hidden=(8, 8, 8), activation="relu6")
    assert len(mlp) == 7
    linears, acts = list(mlp)[0::2], list(mlp)[1::2]
    assert all(type(m) is Linear for m in linears)
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 8), (8, 8), (8, 8), (8, 1)]
    assert all(acts_as(m, nn.ReLU6()) for m in acts)
    assert not any(list(m.parameters()) for m in acts)
    assert isinstance(mlp, Network) and mlp.members is None
    default = MLP(3, 2)  # one hidden layer of 2, relu6
    assert len(default) == 3 and acts_as(default[1], nn.ReLU6())
    assert (default[0].in_features, default[0].out_features, default[2].out_features) == (3, 2, 2)
    tanh = MLP(3, 2, hidden=5, activation="tanh")
    assert len(tanh) == 3 and acts_as(tanh[1], torch.tanh)
    single = MLP(3, 2, hidden=())
    assert len(single) == 1 and (single[0].in_features, single[0].out_features) == (3, 2)
    assert MLP(3, 2, members=4).members == 4


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_a_plain_torch_mlp(name):
    torch.manual_seed(1)
    mlp = MLP(3, 2, hidden=(4, 5), activation=name, dtype=F64)
    linears = [m for m in mlp if isinstance(m, Linear)]
    act = nn.PReLU(init=0.25, dtype=F64) if name == "prelu" else ACTIVATIONS[name]()
    x = torch.randn(16, 3, dtype=F64) * 3
    h = x
    for i, lin in enumerate(linears):
        if i:
            h = act(h)
        h = h @ lin.weight.detach().T + lin.bias.detach()
    torch.testing.assert_close(mlp(x), h, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("activation", [None, "none"])
def test_no_activation_is_a_linear_network(activation):
    torch.manual_seed(2)
    mlp = MLP(3, 2, hidden=(4, 5), activation=activation, dtype=F64)
    assert all(type(m) in (Linear, nn.Identity) for m in mlp)
    x, z = torch.randn(6, 3, dtype=F64), torch.randn(6, 3, dtype=F64)
    f0 = mlp(torch.zeros(1, 3, dtype=F64))
    torch.testing.assert_close(mlp(2.5 * x - z) - f0, 2.5 * (mlp(x) - f0) - (mlp(z) - f0), rtol=1e-12, atol=1e-12)
    assert nalm.build_model("mlp-none", 3, 2, hidden=4).activation is None


def test_prelu_has_one_slope_per_member():
    torch.manual_seed(3)
    pop = MLP(2, 1, hidden=3, activation="prelu", members=3, dtype=F64)
    slope = pop[1].weight
    assert torch.equal(slope.detach().reshape(-1), torch.full((3,), 0.25, dtype=F64))
    with torch.no_grad():
        slope.copy_(torch.tensor([0.0, 0.5, -1.0], dtype=F64).reshape(3, 1))
        pop[0].weight.fill_(1.0)
        pop[0].bias.fill_(0.0)
        pop[2].weight.fill_(1.0)
        pop[2].bias.fill_(0.0)
    x = torch.tensor([[-1.0, -1.0]], dtype=F64)  # every hidden pre-activation is -2
    torch.testing.assert_close(pop(x)[:, 0, 0], torch.tensor([0.0, -3.0, 6.0], dtype=F64))


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        MLP(2, 1, hidden=4, activation="swishy")
    for known in ("swishy", "relu6", "tanh", "prelu", "none"):
        assert known in str(info.value)
    with pytest.raises(ValueError) as info:
        nalm.build_model("mlp-swishy", 2, 1)
    assert "relu6" in str(info.value) and "swishy" in str(info.value)


@pytest.mark.parametrize("hidden", [4, ()])
def test_unknown_activation_is_rejected_whatever_the_depth(hidden):
    with pytest.raises(ValueError, match="relu6"):
        MLP(2, 1, hidden=hidden, activation="swishy")


def test_mlp_has_no_regularizer_and_nothing_to_project():
    torch.manual_seed(4)
    for members in (None, 3):
        mlp = MLP(2, 1, hidden=4, members=members)
        for step in (0, 10**6):
            reg = mlp.regularization(step)
            assert reg.shape == (() if members is None else (members,)) and (reg == 0).all()
        before = [p.detach().clone() for p in mlp.parameters()]
        with torch.no_grad():
            mlp[0].weight.mul_(100)
        before[0] = before[0] * 100
        mlp.project_()
        assert all(torch.equal(p, b) for p, b in zip(mlp.parameters(), before))


def test_population_state_slices_load_into_a_standalone_mlp():
    # Stored results keep member slices of population parameters; they must load as they are.
    population = MLP(3, 1, hidden=(4, 4), activation="prelu", members=5)
    alone = MLP(3, 1, hidden=(4, 4), activation="prelu")
    alone.load_state_dict({name: p[2] for name, p in population.state_dict().items()})
    x = torch.rand(6, 3)
    torch.testing.assert_close(alone(x), population(x)[2])


# -- stable-nalu's initialization ------------------------------------------------------------
def assert_uniform_bound(t, bound):
    assert t.abs().max() <= bound and t.max() > 0.95 * bound and t.min() < -0.95 * bound


@pytest.mark.parametrize("activation, bound", [
    ("relu", math.sqrt(2) * math.sqrt(3 / 100)),  # kaiming_uniform_(nonlinearity='relu'), basic.py:41-42
    ("relu6", math.sqrt(2) * math.sqrt(3 / 100)),  # basic.py:27-28
    ("none", math.sqrt(6 / (100 + 40))),  # xavier_uniform_ gain 1, basic.py:44-45
    ("tanh", 5 / 3 * math.sqrt(6 / (100 + 40))),  # basic.py:21-22
    ("selu", math.sqrt(3 / 100)),  # basic.py:33-34
])
def test_stable_nalu_init_of_the_hidden_layer(activation, bound):
    torch.manual_seed(0)
    mlp = MLP(100, 1, hidden=40, activation=activation, init="stable-nalu", members=20, dtype=torch.float64)
    first, last = mlp[0], mlp[-1]
    assert_uniform_bound(first.weight.detach(), bound)
    # the output layer is stable-nalu's 'linear' layer (simple_function_static.py:32-33): xavier, gain 1
    assert_uniform_bound(last.weight.detach(), math.sqrt(6 / (40 + 1)))
    for layer in (first, last):  # basic.py:72-73
        assert torch.equal(layer.bias.detach(), torch.zeros_like(layer.bias))


def test_torch_init_is_the_default_and_keeps_nn_linears_bias():
    torch.manual_seed(0)
    mlp = MLP(100, 1, hidden=40, activation="relu", members=20)
    assert mlp.init == "torch"
    assert_uniform_bound(mlp[0].weight.detach(), 1 / math.sqrt(100))
    assert mlp[0].bias.abs().max() > 0


def test_build_model_passes_the_mlp_options():
    mlp = nalm.build_model("mlp-relu6", 100, 1, hidden=2, unit_options={"mlp": {"init": "stable-nalu"}})
    assert mlp.init == "stable-nalu" and [m.init for m in mlp.units()] == ["kaiming-relu", "xavier"]


def test_stable_nalu_init_refuses_an_activation_it_does_not_have():
    with pytest.raises(ValueError, match="hardshrink"):
        MLP(2, 1, activation="hardshrink", init="stable-nalu")


def test_stable_nalu_init_of_a_population_member_is_the_standalone_mlp():
    torch.manual_seed(3)
    alone = MLP(5, 1, hidden=3, activation="relu", init="stable-nalu", dtype=torch.float64)
    pop = MLP(5, 1, hidden=3, activation="relu", init="stable-nalu", members=2, dtype=torch.float64)
    nalm.units.base.seed_members_(pop, [3, 3])
    for a, p in zip(alone.parameters(), pop.parameters()):
        assert torch.equal(a.detach(), p.detach()[1])
