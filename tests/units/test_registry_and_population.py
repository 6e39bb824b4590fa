"""Every registered unit, the MLP and networks: registry, factory kwargs, shapes, populations
(member m of a population == a standalone unit with member m's parameters), seeding,
gradcheck, and input / argument validation."""
import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

import nalm
from nalm.units import MLP, ArithmeticUnit, Network, UnknownNameError, build_model, parse_model, seed_members_

F64 = torch.float64
IN, OUT, M, B = 3, 2, 5, 4

EXPECTED_UNITS = {"nac", "nac-mul", "nac-mul-sigma", "nac-mul-nmu", "nalu", "faux-nalu", "nau", "nmu", "snmu", "npu", "real-npu", "naive-npu", "real-npu-modified", "inalu", "inalu-sw", "g-nalu", "nalu-separate", "gated-nau-nmu", "nru", "nmru",
                  "mcfc", "mul-mcfc"}

# (id, factory(**factory_kwargs)) -- every registered unit with its defaults, some option variants,
# the MLP, and networks built by name.
def deterministic(module):
    """A unit whose training passes draw noise (the sNMU), in eval mode: these generic tests call
    forward repeatedly and compare; its training path has tests of its own (test_nau_nmu.py)."""
    return module.eval() if getattr(module, "stochastic", False) else module


UNIT_CASES = [(name, (lambda cls: lambda **kw: deterministic(cls(IN, OUT, **kw)))(cls))
              for name, cls in nalm.UNITS.items()]
VARIANT_CASES = [
    ("nalu-scalar-bias-separate", lambda **kw: nalm.NALU(IN, OUT, gate="scalar", gate_bias=True,
                                                         shared_weights=False, **kw)),
    ("faux-nalu-scalar-bias", lambda **kw: nalm.FauxNALU(IN, OUT, gate="scalar", gate_bias=True, **kw)),
    ("nalu-vector-bias", lambda **kw: nalm.NALU(IN, OUT, gate_bias=True, **kw)),
    ("linear-no-bias", lambda **kw: nalm.units.Linear(IN, OUT, bias=False, **kw)),
    ("linear", lambda **kw: nalm.units.Linear(IN, OUT, **kw)),
]
NETWORK_CASES = [
    ("mlp-prelu", lambda **kw: MLP(IN, OUT, hidden=(4, 3), activation="prelu", **kw)),
    ("mlp-relu6", lambda **kw: MLP(IN, OUT, hidden=4, activation="relu6", **kw)),
    ("mlp-none", lambda **kw: MLP(IN, OUT, hidden=4, activation=None, **kw)),
    ("nau/nmu", lambda **kw: build_model("nau/nmu", IN, OUT, hidden=3, **kw)),
    ("nalu-net", lambda **kw: build_model("nalu", IN, OUT, hidden=3, **kw)),
    ("npu/real-npu", lambda **kw: build_model("npu/real-npu", IN, OUT, hidden=2, **kw)),
    ("nau/gated-nau-nmu", lambda **kw: build_model("nau/gated-nau-nmu", IN, OUT, hidden=2, **kw)),
]
ALL_CASES = UNIT_CASES + VARIANT_CASES + NETWORK_CASES


def cases(which):
    return pytest.mark.parametrize("make", [pytest.param(f, id=i) for i, f in which])


def signed_inputs(*shape, seed=0):
    """|x| in [0.5, 2] with random signs: away from every unit's non-differentiable points."""
    g = torch.Generator().manual_seed(seed)
    magnitude = torch.rand(*shape, generator=g, dtype=F64) * 1.5 + 0.5
    sign = torch.where(torch.rand(*shape, generator=g) < 0.5, -1.0, 1.0).to(F64)
    return magnitude * sign


def inputs_for(module, *shape, seed=0):
    """:func:`signed_inputs`, made positive for modules defined on positive inputs only."""
    x = signed_inputs(*shape, seed=seed)
    positive = any(getattr(m, "positive_inputs_only", False) for m in module.modules())
    return x.abs() if positive else x


def perturb_(module, seed=0, scale=0.1):
    """Make every member differ in every parameter (e.g. NPU's W_im = 0, g = 0.5 at init)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def copy_member_(population, standalone, m):
    pop, alone = dict(population.named_parameters()), dict(standalone.named_parameters())
    assert pop.keys() == alone.keys()
    with torch.no_grad():
        for name, p in alone.items():
            assert pop[name].shape[0] == M and pop[name][m].numel() == p.numel(), name
            p.copy_(pop[name][m].reshape(p.shape))


# -- registry ---------------------------------------------------------------------------------
def test_registry_names_and_classes():
    assert set(nalm.UNITS) == EXPECTED_UNITS
    for name, cls in nalm.UNITS.items():
        assert nalm.unit_class(name) is cls
        assert issubclass(cls, ArithmeticUnit)
    assert nalm.UNITS["nau"] is nalm.NAU and nalm.UNITS["npu"] is nalm.NPU
    assert nalm.UNITS["inalu"] is nalm.INALU and nalm.UNITS["real-npu"] is nalm.RealNPU


@pytest.mark.parametrize("call", [lambda: nalm.unit_class("foo"), lambda: build_model("foo", 2, 1),
                                  lambda: build_model("nau/foo", 2, 1), lambda: parse_model("foo")])
def test_unknown_unit_name_lists_the_known_ones(call):
    with pytest.raises(UnknownNameError) as info:
        call()
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert "foo" in message
    for name in EXPECTED_UNITS:
        assert name in message


def test_parse_model():
    assert parse_model("nalu") == ("nalu",)
    assert parse_model("nau/nmu") == ("nau", "nmu")
    assert parse_model("mlp-relu6") == ("mlp", "relu6")
    assert parse_model("mlp-none") == ("mlp", "none")
    with pytest.raises(ValueError, match="two"):
        parse_model("nau/nmu/nac")


def test_build_model_layers():
    net = build_model("nau/nmu", 10, 1, members=4, dtype=F64)
    assert isinstance(net, Network) and net.members == 4
    assert [type(m) for m in net] == [nalm.NAU, nalm.NMU]
    assert [(m.in_features, m.out_features) for m in net] == [(10, 2), (2, 1)]
    assert all(p.dtype == F64 and p.shape[0] == 4 for p in net.parameters())
    net = build_model("nalu", 10, 1, hidden=5)
    assert [type(m) for m in net] == [nalm.NALU, nalm.NALU] and net[0].out_features == 5
    single = build_model("nac", 2, 1, hidden=None)
    assert len(single) == 1 and (single[0].in_features, single[0].out_features) == (2, 1)
    with pytest.raises(ValueError, match="hidden"):
        build_model("nau/nmu", 2, 1, hidden=None)
    mlp = build_model("mlp-relu6", 2, 1, hidden=8)
    assert isinstance(mlp, MLP) and mlp.activation == "relu6"
    assert len(build_model("mlp-tanh", 2, 1, hidden=None)) == 1


def test_build_model_unit_options_go_to_the_named_unit():
    net = build_model("nau/nmu", 4, 1, unit_options={"nmu": {"regularizer_start": 7}, "nau": {"regularizer_end": 9}})
    assert net[1].regularizer_start == 7 and net[0].regularizer_end == 9
    assert net[0].regularizer_start == 5e3 and net[1].regularizer_end == 2e6
    net = build_model("nalu", 4, 1, unit_options={"nalu": {"gate": "scalar"}})
    assert net[0].gate == net[1].gate == "scalar"


# -- factory kwargs, repr, shapes -------------------------------------------------------------
@cases(ALL_CASES)
@pytest.mark.parametrize("members", [None, M])
def test_float64_parameters_and_output(make, members):
    module = make(members=members, device="cpu", dtype=F64)
    params = list(module.parameters())
    assert params and all(p.dtype == F64 and p.device.type == "cpu" for p in params)
    assert module(signed_inputs(B, IN)).dtype == F64
    assert all(p.dtype == torch.float32 for p in make(members=members).parameters())


@cases(ALL_CASES)
@pytest.mark.parametrize("members", [None, M])
def test_device_kwarg_reaches_every_parameter(make, members):
    module = make(members=members, device="meta", dtype=F64)
    assert all(p.device.type == "meta" and p.dtype == F64 for p in module.parameters())
    y = module(torch.empty(B, IN, device="meta", dtype=F64))
    assert y.device.type == "meta" and y.shape == ((B, OUT) if members is None else (M, B, OUT))


@cases(UNIT_CASES + VARIANT_CASES + NETWORK_CASES[:1])
def test_repr_shows_shapes_and_members(make):
    alone, pop = repr(make()), repr(make(members=M))
    for text in (alone, pop):
        assert f"in_features={IN}" in text and f"out_features={OUT}" in text
    assert "members" not in alone
    assert f"members={M}" in pop


@cases(ALL_CASES)
def test_standalone_shapes(make):
    module = make(dtype=F64)
    assert module(signed_inputs(B, IN)).shape == (B, OUT)
    assert module(signed_inputs(2, B, IN)).shape == (2, B, OUT)
    assert module(signed_inputs(IN)).shape == (OUT,)


@cases(ALL_CASES)
def test_population_shapes(make):
    module = make(members=M, dtype=F64)
    assert module(signed_inputs(B, IN)).shape == (M, B, OUT)
    assert module(signed_inputs(M, B, IN)).shape == (M, B, OUT)
    assert module(signed_inputs(M, 1, IN)).shape == (M, 1, OUT)


@cases(ALL_CASES)
def test_population_parameters_have_a_leading_member_dimension(make):
    alone, pop = make(), make(members=M)
    for (name, p), (name2, q) in zip(alone.named_parameters(), pop.named_parameters()):
        assert name == name2 and q.shape[0] == M and q[0].numel() == p.numel()


# -- populations: member m == a standalone unit with member m's parameters -------------------
@cases(ALL_CASES)
@pytest.mark.parametrize("shared_input", [True, False], ids=["shared", "per-member"])
def test_population_member_equals_standalone(make, shared_input):
    torch.manual_seed(0)
    pop = perturb_(make(members=M, dtype=F64))
    x = inputs_for(pop, B, IN, seed=1) if shared_input else inputs_for(pop, M, B, IN, seed=1)
    c = signed_inputs(M, B, OUT, seed=2)  # a different loss weight per member and output
    y = pop(x)
    (y * c).sum().backward()
    pop_grads = {name: p.grad for name, p in pop.named_parameters()}
    for m in range(M):
        alone = make(dtype=F64)
        copy_member_(pop, alone, m)
        x_m = x if shared_input else x[m]
        y_m = alone(x_m)
        torch.testing.assert_close(y[m], y_m, rtol=0, atol=1e-12)
        (y_m * c[m]).sum().backward()
        for name, p in alone.named_parameters():
            torch.testing.assert_close(pop_grads[name][m].reshape(p.shape), p.grad, rtol=0, atol=1e-12,
                                       msg=f"gradient of {name}, member {m}")


@cases(ALL_CASES)
@pytest.mark.parametrize("shared_input", [True, False], ids=["shared", "per-member"])
def test_population_member_is_bit_identical_in_float32(make, shared_input):
    """``functional.linear`` and ``functional.simd`` promise bit-for-bit equality, so that chaotic
    runs (a NALU under Adam) train identically inside and outside a population."""
    torch.manual_seed(0)
    pop = perturb_(make(members=M, dtype=F64)).float()
    x = (inputs_for(pop, B, IN, seed=1) if shared_input else inputs_for(pop, M, B, IN, seed=1)).float()
    c = signed_inputs(M, B, OUT, seed=2).float()
    y = pop(x)
    (y * c).sum().backward()
    pop_params = dict(pop.named_parameters())
    for m in range(M):
        alone = make()
        copy_member_(pop, alone, m)
        y_m = alone(x if shared_input else x[m])
        assert torch.equal(y[m], y_m), f"output of member {m}"
        (y_m * c[m]).sum().backward()
        for name, p in alone.named_parameters():
            assert torch.equal(pop_params[name].grad[m].reshape(p.shape), p.grad), (name, m)


@cases(ALL_CASES)
@pytest.mark.parametrize("members", [None, M])
def test_every_parameter_of_every_member_gets_a_gradient(make, members):
    torch.manual_seed(0)
    module = perturb_(make(members=members, dtype=F64))
    module(inputs_for(module, 16, IN, seed=3)).pow(2).sum().backward()
    for name, p in module.named_parameters():
        grads = [p.grad] if members is None else list(p.grad)
        for g in grads:
            assert torch.isfinite(g).all() and g.abs().sum() > 0, name


@cases(UNIT_CASES + VARIANT_CASES)
def test_member_zero_is_initialized_like_a_standalone_unit(make):
    torch.manual_seed(123)
    pop = make(members=M)
    torch.manual_seed(123)
    alone = make()
    for (name, p), q in zip(alone.named_parameters(), pop.parameters()):
        assert torch.equal(q[0], p), name
    # the members draw one after another from the generator: they are not copies of member 0
    flat = [torch.cat([p[m].reshape(-1) for p in pop.parameters()]) for m in range(M)]
    assert all(not torch.equal(flat[0], flat[m]) for m in range(1, M))


@pytest.mark.parametrize("build", [
    pytest.param(lambda **kw: build_model("nau/nmu", 10, 1, **kw), id="nau/nmu"),
    pytest.param(lambda **kw: build_model("nalu", 10, 1, **kw), id="nalu"),
    pytest.param(lambda **kw: build_model("mlp-prelu", 10, 1, hidden=(8, 8), **kw), id="mlp-prelu"),
    pytest.param(lambda **kw: build_model("inalu/npu", 10, 1, **kw), id="inalu/npu"),
    pytest.param(lambda **kw: build_model("nau/gated-nau-nmu", 10, 1, **kw), id="nau/gated-nau-nmu"),
])
def test_seed_members_reproduces_standalone_models(build):
    seeds = [3, 7, 11, 0]
    torch.manual_seed(999)
    pop = build(members=4)
    state = torch.get_rng_state()
    seed_members_(pop, seeds)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left as it was
    for m, seed in enumerate(seeds):
        torch.manual_seed(seed)
        alone = build()
        pop_params = dict(pop.named_parameters())
        for name, p in alone.named_parameters():
            assert torch.equal(pop_params[name][m].reshape(p.shape), p.detach()), (name, m)
    first = next(pop.parameters())
    assert not torch.equal(first[0], first[1])


def test_seed_members_rejects_a_wrong_number_of_seeds():
    with pytest.raises(ValueError):
        seed_members_(build_model("nau/nmu", 4, 1, members=3), [1, 2])
    with pytest.raises(ValueError):
        seed_members_(build_model("nau/nmu", 4, 1), [1, 2])


# -- gradcheck --------------------------------------------------------------------------------
def assert_gradcheck(module, x):
    names = [name for name, _ in module.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in module.parameters())

    def f(x, *params):
        return functional_call(module, dict(zip(names, params)), (x,))

    assert gradcheck(f, (x.clone().requires_grad_(True), *params), eps=1e-6, atol=1e-6, rtol=1e-4)


@cases(UNIT_CASES + VARIANT_CASES + [c for c in NETWORK_CASES if c[0] in ("mlp-none", "nau/nmu", "nalu-net")]
       + [("mlp-tanh", lambda **kw: MLP(IN, OUT, hidden=4, activation="tanh", **kw))])
@pytest.mark.parametrize("members", [None, 2])
def test_gradcheck_input_and_parameters(make, members):
    torch.manual_seed(0)
    module = perturb_(make(members=members, dtype=F64), scale=0.05)
    # inside the clamp ranges: NAU W in (-1, 1), NMU W in (0, 1), NPU gate in (0, 1)
    for layer in module.modules():
        if isinstance(layer, (nalm.NAU, nalm.NMU, nalm.MultiplicativeNACNMU)):
            assert ((layer.W > layer.lower + 0.01) & (layer.W < 0.99)).all()
        if isinstance(layer, nalm.RealNPU) and not isinstance(layer, nalm.NaiveNPU):  # the NaiveNPU has no gate
            assert ((layer.g > 0.01) & (layer.g < 0.99)).all()
    assert_gradcheck(module, inputs_for(module, 3, IN, seed=4))


# -- regularization defaults ------------------------------------------------------------------
@cases([c for c in UNIT_CASES + VARIANT_CASES if c[0] in
        ("nac", "nac-mul", "nac-mul-sigma", "nalu", "faux-nalu", "inalu", "nalu-scalar-bias-separate", "linear")])
@pytest.mark.parametrize("members", [None, M])
def test_units_without_a_regularizer_return_zeros(make, members):
    module = perturb_(make(members=members, dtype=F64), scale=5.0)
    before = [p.detach().clone() for p in module.parameters()]
    for step in (0, 1, 10**4, 10**7):
        reg = module.regularization(step)
        assert reg.shape == (() if members is None else (members,))
        assert reg.dtype == F64 and (reg == 0).all()
    module.project_()  # nothing to project either
    assert all(torch.equal(p, b) for p, b in zip(module.parameters(), before))


# -- bad input and bad arguments --------------------------------------------------------------
@cases(ALL_CASES)
def test_wrong_feature_count_names_both_shapes(make):
    module = make()
    with pytest.raises(ValueError) as info:
        module(torch.rand(B, IN + 2))
    assert f"(*, {IN})" in str(info.value) and str((B, IN + 2)) in str(info.value)
    with pytest.raises(ValueError):
        module(torch.tensor(1.0))


@cases(ALL_CASES)
def test_population_rejects_wrong_member_count(make):
    module = make(members=M)
    with pytest.raises(ValueError) as info:
        module(torch.rand(M + 1, B, IN))
    message = str(info.value)
    assert f"{M} members" in message and str((M + 1, B, IN)) in message
    for shape in ((M - 1, B, IN), (1, B, IN), (B, IN + 1), (IN,), (2, M, B, IN), (M, B, IN + 1)):
        with pytest.raises(ValueError):
            module(torch.rand(shape))


BAD_ARGS = [dict(in_features=0), dict(out_features=0), dict(in_features=-2), dict(in_features=2.5),
            dict(members=0), dict(members=-1), dict(members=2.0)]


@pytest.mark.parametrize("cls", [pytest.param(c, id=n) for n, c in nalm.UNITS.items()]
                         + [pytest.param(nalm.units.Linear, id="linear"), pytest.param(MLP, id="mlp")])
@pytest.mark.parametrize("bad", BAD_ARGS, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()))
def test_bad_constructor_arguments(cls, bad):
    args = {"in_features": 3, "out_features": 2, **bad}
    members = args.pop("members", None)
    with pytest.raises(ValueError):
        cls(args["in_features"], args["out_features"], members=members)


def test_boolean_member_count_is_rejected():
    """``True`` is an int to isinstance; it must still be refused with a ValueError."""
    for cls in [*nalm.UNITS.values(), nalm.units.Linear, MLP]:
        with pytest.raises(ValueError):
            cls(3, 2, members=True)


def test_bad_hidden_width_and_gate():
    with pytest.raises(ValueError):
        MLP(3, 2, hidden=0)
    with pytest.raises(ValueError):
        MLP(3, 2, hidden=(4, 0))
    with pytest.raises(ValueError, match="gate"):
        nalm.NALU(3, 2, gate="bogus")
    with pytest.raises(ValueError, match="gate"):
        nalm.FauxNALU(3, 2, gate="bogus")


def test_a_network_of_units_refuses_a_list_of_hidden_widths():
    with pytest.raises(ValueError, match=r"model 'nau' is a network of units, which takes one hidden size .*\[8, 8\]"):
        build_model("nau", 2, 1, hidden=[8, 8])
