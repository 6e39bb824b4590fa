"""Recurrent networks: PyTorch's cells reproduced, exact running sums, populations, gradients."""
import pytest
import torch

from nalm import NAC, NAU, NMU, build_model
from nalm.units import GRUCell, LSTMCell, RecurrentNetwork, RNNCell, seed_members_

TORCH_CELLS = [
    (lambda: RNNCell(3, 4, nonlinearity="tanh", dtype=torch.float64), lambda: torch.nn.RNNCell(3, 4, dtype=torch.float64)),
    (lambda: RNNCell(3, 4, nonlinearity="relu", dtype=torch.float64),
     lambda: torch.nn.RNNCell(3, 4, nonlinearity="relu", dtype=torch.float64)),
    (lambda: GRUCell(3, 4, dtype=torch.float64), lambda: torch.nn.GRUCell(3, 4, dtype=torch.float64)),
    (lambda: LSTMCell(3, 4, dtype=torch.float64), lambda: torch.nn.LSTMCell(3, 4, dtype=torch.float64)),
]


@pytest.mark.parametrize("ours, theirs", TORCH_CELLS)
def test_baseline_cells_are_pytorchs_cells_under_the_same_seed(ours, theirs):
    torch.manual_seed(7)
    cell = ours()
    torch.manual_seed(7)
    reference = theirs()
    for name, p in reference.named_parameters():
        torch.testing.assert_close(getattr(cell, name), p, rtol=0, atol=0)
    x, h, c = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    if isinstance(cell, LSTMCell):
        for mine, ref in zip(cell(x, (h, c)), reference(x, (h, c))):
            torch.testing.assert_close(mine, ref, rtol=1e-12, atol=1e-12)
    else:
        torch.testing.assert_close(cell(x, (h,))[0], reference(x, h), rtol=1e-12, atol=1e-12)


def saturated_nac(weights) -> NAC:
    w = torch.tensor(weights, dtype=torch.float64)
    nac = NAC(w.shape[1], w.shape[0], dtype=torch.float64)
    with torch.no_grad():
        nac.W_hat.copy_(40 * w)
        nac.M_hat.copy_(torch.where(w != 0, 40.0, -40.0))
    return nac


def test_exact_nac_cell_keeps_running_sums_over_a_thousand_steps():
    # h1 += x0 + x1, h2 += x1 - x2; y = h1 - h2 = x0 + x2 summed over time
    cell = saturated_nac([[1, 1, 0, 1, 0], [0, 1, -1, 0, 1]])
    net = RecurrentNetwork(cell, saturated_nac([[1, -1]]), input_size=3)
    x = torch.rand(8, 1000, 3, dtype=torch.float64)
    expected = (x[..., 0] + x[..., 2]).sum(1, keepdim=True)
    torch.testing.assert_close(net(x), expected, rtol=1e-12, atol=1e-9)


def test_nau_cell_with_nmu_readout_multiplies_the_running_sums():
    cell = NAU(2 + 2, 2, dtype=torch.float64)
    out = NMU(2, 1, dtype=torch.float64)
    with torch.no_grad():
        cell.W.copy_(torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 1]]))
        out.W.fill_(1.0)
    net = RecurrentNetwork(cell, out, input_size=2)
    x = torch.rand(6, 50, 2, dtype=torch.float64)
    torch.testing.assert_close(net(x), (x[..., 0].sum(1) * x[..., 1].sum(1)).unsqueeze(1))


@pytest.mark.parametrize("model", ["nac", "nalu", "nau/nmu", "lstm", "gru", "rnn-tanh", "rnn-relu"])
def test_population_member_computes_what_the_seeded_network_computes_alone(model):
    x = torch.rand(4, 6, 12, 5, dtype=torch.float64)
    population = build_model(model, 5, 1, hidden=2, recurrent=True, members=4, dtype=torch.float64)
    seed_members_(population, [10, 11, 12, 13])
    y = population(x)  # (4, 6, 1)
    for m in (0, 3):
        torch.manual_seed(10 + m)
        alone = build_model(model, 5, 1, hidden=2, recurrent=True, dtype=torch.float64)
        torch.testing.assert_close(y[m], alone(x[m]), rtol=1e-12, atol=1e-12)
    assert population(x[0]).shape == (4, 6, 1)  # a shared (batch, T, d) input


@pytest.mark.parametrize("model", ["nac", "nalu", "lstm", "gru"])
def test_gradients_match_finite_differences(model):
    torch.manual_seed(0)
    net = build_model(model, 3, 1, hidden=2, recurrent=True, dtype=torch.float64)
    x = torch.rand(4, 5, 3, dtype=torch.float64) + 0.5
    names = [name for name, _ in net.named_parameters()]
    values = tuple(p.detach().clone().requires_grad_() for p in net.parameters())
    x.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, *v: torch.func.functional_call(net, dict(zip(names, v)), (x,)), (x, *values))


def test_initial_state_is_zero_unless_learned():
    torch.manual_seed(0)
    fixed = build_model("nac", 3, 1, hidden=2, recurrent=True)
    assert "initial_state" not in dict(fixed.named_parameters()) and "initial_state" not in fixed.state_dict()
    learned = RecurrentNetwork(NAC(5, 2), NAC(2, 1), input_size=3, learn_initial_state=True)
    assert torch.equal(dict(learned.named_parameters())["initial_state"], torch.zeros(1, 2))
    lstm = RecurrentNetwork(LSTMCell(3, 2, members=4), NAC(2, 1, members=4), input_size=3, learn_initial_state=True)
    assert lstm.initial_state.shape == (4, 2, 2)  # (h, c) per member


def test_network_options_reach_the_network_and_a_learned_state_trains_member_by_member():
    # stable-nalu c434f99 simple_function_recurrent.py:16-25,41-46: a parameter of zeros that the
    # optimizer moves. Member m's gradient is the one it gets alone (float64).
    x = torch.rand(3, 4, 5, 3, dtype=torch.float64)  # (members, batch, T, d)
    options = {"recurrent": {"learn_initial_state": True}}
    pop = build_model("nac", 3, 1, hidden=2, recurrent=True, members=3, dtype=torch.float64, unit_options=options)
    seed_members_(pop, [0, 1, 2])
    assert torch.equal(pop.initial_state, torch.zeros(3, 1, 2, dtype=torch.float64))
    pop(x).sum().backward()
    for m in range(3):
        torch.manual_seed(m)
        alone = build_model("nac", 3, 1, hidden=2, recurrent=True, dtype=torch.float64, unit_options=options)
        alone(x[m]).sum().backward()
        torch.testing.assert_close(pop.initial_state.grad[m], alone.initial_state.grad, rtol=0, atol=1e-12)
        assert alone.initial_state.grad.abs().sum() > 0
    lstm = build_model("lstm", 3, 1, hidden=2, recurrent=True, unit_options=options)
    assert dict(lstm.named_parameters())["initial_state"].shape == (2, 2)  # h and c both learned


def test_bad_shapes_and_models_are_refused():
    net = build_model("lstm", 3, 1, hidden=2, recurrent=True, members=2)
    with pytest.raises(ValueError, match=r"expected input of shape \(2, batch, T, 3\)"):
        net(torch.rand(3, 4, 5, 3))
    with pytest.raises(ValueError, match="expected input of shape"):
        net(torch.rand(4, 3))
    with pytest.raises(ValueError, match="in_features = input_size \\+ hidden = 5"):
        RecurrentNetwork(NAC(3, 2), NAC(2, 1), input_size=3)
    with pytest.raises(ValueError, match="'mlp-relu6' is not recurrent"):
        build_model("mlp-relu6", 3, 1, recurrent=True)
    with pytest.raises(ValueError, match="'lstm' is recurrent"):
        build_model("lstm", 3, 1)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCell(3, 2, nonlinearity="sigmoid")


def test_explain_refuses_recurrent_networks():
    from nalm.explain import ExplainError, explain

    with pytest.raises(ExplainError, match="feed-forward"):
        explain(build_model("nac", 3, 1, hidden=2, recurrent=True))


@pytest.mark.parametrize("model", ["nac", "nau"])
def test_linear_cells_compute_what_the_unit_computes_step_by_step(model):
    torch.manual_seed(3)
    net = build_model(model, 4, 1, hidden=2, recurrent=True, members=3, dtype=torch.float64)
    with torch.no_grad():  # an NAU's weights beyond its bounds: the one-product path must clamp them too
        next(net.cell.parameters()).mul_(4)
    x = torch.rand(3, 5, 7, 4, dtype=torch.float64)
    h = torch.zeros(3, 5, 2, dtype=torch.float64)
    for t in range(7):
        h = net.cell(torch.cat([x[:, :, t], h], dim=-1))
    torch.testing.assert_close(net(x), net.output(h), rtol=1e-12, atol=1e-12)
