"""The units of Madsen & Johansen (2020)'s appendix: the gated NAU/NMU, the NALU with separate
weights, and the NAU's and NMU's ``clip`` option (the ablation's "no W-clamp"), checked in float64
against the reference's layers written out here (stable-nalu ``layer/_abstract_nalu.py``,
``re_regualized_linear_nac.py``, ``re_regualized_linear_mnac.py``, ``functional/regualizer.py``)."""
import pytest
import torch

import nalm
from nalm.units import NALU, NAU, NMU, ArithmeticUnit, GatedNAUNMU, SeparateNALU, build_model, reinitialize_member_, seed_members_
from nalm.units.base import population_layers

F64 = torch.float64


def inputs(n=16, features=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    sign = torch.where(torch.rand(n, features, generator=g) < 0.5, -1.0, 1.0).to(F64)
    return sign * (torch.rand(n, features, generator=g, dtype=F64) * 3 + 0.2)


def reference_gated(x, G, w_add, w_mul):
    """stable-nalu's NALU with --nalu-two-nac --nalu-mul mnac, --oob-mode clip: g = σ(x Gᵀ),
    a = x clamp(W_a, -1, 1)ᵀ, m = Π (W_m x + 1 - W_m) with W_m in [0, 1], y = g a + (1 - g) m."""
    g = torch.sigmoid(x @ G.T)
    a = x @ w_add.clamp(-1, 1).T
    w = w_mul.clamp(0, 1)
    m = torch.prod(w[None] * x[:, None, :] + 1 - w[None], dim=-1)
    return g * a + (1 - g) * m


def test_gated_forward_is_the_reference_with_weights_out_of_bounds():
    torch.manual_seed(0)
    unit = GatedNAUNMU(3, 2, dtype=F64)
    w_add = torch.tensor([[1.4, -0.3, 0.0], [-1.2, 0.5, 1.0]], dtype=F64)
    w_mul = torch.tensor([[1.3, 0.4, -0.2], [0.0, 0.7, 1.0]], dtype=F64)
    with torch.no_grad():
        unit.add.W.copy_(w_add)
        unit.mul.W.copy_(w_mul)
    x = inputs()
    torch.testing.assert_close(unit(x), reference_gated(x, unit.G.detach(), w_add, w_mul), rtol=1e-13, atol=0)


def test_gated_hand_computed_output():
    unit = GatedNAUNMU(2, 1, dtype=F64)
    with torch.no_grad():
        unit.add.W.copy_(torch.tensor([[1.0, 1.0]]))
        unit.mul.W.copy_(torch.tensor([[1.0, 1.0]]))
        unit.G.zero_()  # g = 1/2: half the sum, half the product
    assert unit(torch.tensor([[3.0, 4.0]], dtype=F64)).item() == pytest.approx(0.5 * 7 + 0.5 * 12, abs=1e-14)


def test_gated_inits_each_path_as_its_unit_and_the_gate_as_the_nalu():
    torch.manual_seed(1)
    unit = GatedNAUNMU(100, 2, members=40, dtype=F64)
    r = min(0.5, (3 * 2 / 102) ** 0.5)  # the NAU's U[-r, r]
    assert unit.add.W.abs().max() <= r and unit.add.W.abs().max() > 0.95 * r
    assert unit.mul.W.min() >= 0.25 and unit.mul.W.max() <= 0.75 and unit.mul.W.max() > 0.74
    bound = (6 / 102) ** 0.5  # xavier_uniform_, gain 1
    assert unit.G.abs().max() <= bound and unit.G.abs().max() > 0.95 * bound


def test_gated_regularizer_is_one_ramp_over_both_paths_means():
    torch.manual_seed(2)
    unit = GatedNAUNMU(3, 2, members=4, dtype=F64)
    assert (unit.add.regularizer_scale, unit.add.regularizer_start, unit.add.regularizer_end) == (10.0, 1e6, 2e6)
    assert (unit.mul.regularizer_scale, unit.mul.regularizer_start, unit.mul.regularizer_end) == (10.0, 1e6, 2e6)
    a, m = unit.add.W.detach(), unit.mul.W.detach()
    # Regualizer _nac_bias_linear and _mnac_bias_linear, each a mean over its layer, summed, times λ(t)
    expected = (torch.minimum(a.abs(), (1 - a.abs()).abs()).flatten(1).mean(1)
                + torch.minimum(m.abs(), (1 - m).abs()).flatten(1).mean(1))
    torch.testing.assert_close(unit.regularization(1_500_000), 5.0 * expected, rtol=1e-14, atol=0)
    assert torch.equal(unit.regularization(10), torch.zeros(4, dtype=F64))
    other = GatedNAUNMU(3, 2, regularizer_scale=1.0, regularizer_start=0, regularizer_end=10)
    assert (other.add.regularizer_end, other.mul.regularizer_scale) == (10, 1.0)


def test_gated_projects_both_paths_and_measures_the_worse_one():
    unit = GatedNAUNMU(2, 1, dtype=F64)
    with torch.no_grad():
        unit.add.W.copy_(torch.tensor([[1.5, -0.9]], dtype=F64))
        unit.mul.W.copy_(torch.tensor([[-0.2, 0.6]], dtype=F64))
        unit.G.fill_(3.0)
    unit.project_()
    assert unit.add.W.tolist() == [[1.0, -0.9]] and unit.mul.W.tolist() == [[0.0, 0.6]]
    assert unit.G.tolist() == [[3.0, 3.0]]  # the gate is not clipped
    assert unit.sparsity_error().item() == pytest.approx(0.4)  # the NMU's 0.6; the NAU's is 0.1


def test_gated_network_trains_through_autograd():
    """No fused layer kind describes the gate between an NAU and an NMU: the loop's autograd path."""
    net = build_model("nau/gated-nau-nmu", 4, 1, hidden=2, members=3)
    assert net[1].kernel_layer() is None
    assert [type(u).__name__ for u in population_layers(net)] == ["NAU", "GatedNAUNMU"]


def test_gated_member_reinitialized_alone_is_seeded_as_its_population():
    seeds = [5, 6]
    net = build_model("nau/gated-nau-nmu", 4, 1, hidden=2, members=2, dtype=F64)
    seed_members_(net, seeds)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        for p in net.parameters():
            p[1].fill_(0.3)
    reinitialize_member_(net, 1, seeds[1])
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_separate_nalu_is_the_nalu_with_two_nacs():
    torch.manual_seed(3)
    unit = SeparateNALU(3, 2, dtype=F64)
    torch.manual_seed(3)
    plain = NALU(3, 2, shared_weights=False, dtype=F64)
    assert not unit.shared_weights and "shared_weights=False" in repr(unit)
    for (name, p), q in zip(unit.named_parameters(), plain.parameters()):
        assert torch.equal(p, q), name
    x = inputs(seed=4)
    assert torch.equal(unit(x), plain(x))
    assert {"W_hat_mul", "M_hat_mul"} <= {name for name, _ in unit.named_parameters()}
    # The shared NALU under the separate name would mislabel a model and its report.
    with pytest.raises(ValueError, match="separate weights: for shared ones, use NALU"):
        build_model("nalu-separate", 3, 1, hidden=None, unit_options={"nalu-separate": {"shared_weights": True}})


@pytest.mark.parametrize("cls, bounds", [(NAU, (-1.0, 1.0)), (NMU, (0.0, 1.0))])
def test_without_clip_the_weight_stays_out_of_bounds_but_the_forward_clamps(cls, bounds):
    raw = torch.tensor([[1.3, -1.2, 0.4]], dtype=F64)
    clipped, free = cls(3, 1, dtype=F64), cls(3, 1, clip=False, dtype=F64)
    for unit in (clipped, free):
        with torch.no_grad():
            unit.W.copy_(raw)
    x = inputs(seed=5)
    assert torch.equal(free(x), clipped(x))  # the forward pass clamps either way
    free.project_(), clipped.project_()
    assert torch.equal(free.W.detach(), raw)
    assert torch.equal(clipped.W.detach(), raw.clamp(*bounds))
    # the fused steps clip after each step, so a unit without clip trains through its forward pass
    assert free.trains_through_forward and not clipped.trains_through_forward
    assert "clip=False" in repr(free) and "clip" not in repr(clipped)


def test_nmu_regularizer_on_an_unclipped_weight_is_the_references():
    """_mnac_bias_linear: min(|W|, |1 - W|), which pulls W = -0.8 toward 0 (the NAU's form would
    measure 0.2, toward -1)."""
    unit = NMU(2, 1, clip=False, regularizer_scale=1.0, regularizer_start=0, regularizer_end=0, dtype=F64)
    with torch.no_grad():
        unit.W.copy_(torch.tensor([[-0.8, 1.25]], dtype=F64))
    assert unit.regularization(5).item() == pytest.approx((0.8 + 0.25) / 2, abs=1e-15)


def test_clip_must_be_a_boolean():
    with pytest.raises(ValueError, match="clip must be true or false"):
        NMU(2, 1, clip="no")


def test_registered():
    assert nalm.UNITS["gated-nau-nmu"] is GatedNAUNMU and nalm.UNITS["nalu-separate"] is SeparateNALU


def test_a_unit_made_of_units_is_regularized_projected_and_trained_as_its_parts_by_default():
    class Sum(ArithmeticUnit):  # no regularizer, projection or forward flag of its own
        def __init__(self, in_features, out_features, **paths):
            super().__init__(in_features, out_features)
            self.add, self.mul = NAU(in_features, out_features, **paths), NMU(in_features, out_features, **paths)

        def forward(self, x):
            return self.add(x) + self.mul(x)

    unit = Sum(2, 1, regularizer_scale=1.0, regularizer_start=0, regularizer_end=0, dtype=F64)
    with torch.no_grad():
        unit.add.W.copy_(torch.tensor([[1.5, 0.4]], dtype=F64))
        unit.mul.W.copy_(torch.tensor([[-0.2, 0.75]], dtype=F64))
    expected = unit.add.regularization(5) + unit.mul.regularization(5)
    assert expected.item() > 0 and torch.equal(unit.regularization(5), expected)
    unit.project_()
    assert unit.add.W.tolist() == [[1.0, 0.4]] and unit.mul.W.tolist() == [[0.0, 0.75]]
    assert not unit.trains_through_forward and Sum(2, 1, clip=False).trains_through_forward
