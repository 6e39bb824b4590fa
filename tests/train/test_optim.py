"""Population optimizers follow torch.optim, and frozen members do not move."""
import pytest
import torch

from nalm.train import PopulationOptimizer

REFERENCE = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_matches_torch_optim(name):
    torch.manual_seed(0)
    ours = torch.nn.Parameter(torch.randn(3, 4, 5, dtype=torch.float64))
    theirs = torch.nn.Parameter(ours.detach().clone())
    optimizer = PopulationOptimizer([ours], name, lr=0.01)
    reference = REFERENCE[name]([theirs], lr=0.01)
    for step in range(20):
        target = torch.randn(3, 4, 5, dtype=torch.float64)
        for p in (ours, theirs):
            p.grad = None
            ((p - target) ** 2).sum().backward()
        optimizer.step()
        reference.step()
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_inactive_members_keep_parameters_and_state():
    p = torch.nn.Parameter(torch.zeros(3, 2))
    optimizer = PopulationOptimizer([p], "adam", lr=0.1)
    p.grad = torch.tensor([[1.0, 1.0], [float("nan"), 1.0], [1.0, -1.0]])
    optimizer.step(torch.tensor([True, False, True]))
    assert torch.equal(p[1].detach(), torch.zeros(2))
    assert torch.isfinite(optimizer.state[0][0]).all() and torch.isfinite(optimizer.state[0][1]).all()
    assert (p[0] != 0).all() and (p[2] != 0).all()


def test_gradient_clipping_is_per_element():
    p = torch.nn.Parameter(torch.zeros(2, 1))
    optimizer = PopulationOptimizer([p], "sgd", lr=1.0, grad_clip=0.1)
    p.grad = torch.tensor([[5.0], [-0.05]])
    optimizer.step()
    torch.testing.assert_close(p.detach(), torch.tensor([[-0.1], [0.05]]))


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_gradient_norm_clipping_is_per_member_as_clip_grad_norm(name):
    """Each member is clipped over all its parameters together, as torch.nn.utils.clip_grad_norm_
    clips one model: a member with a short gradient is untouched by its neighbours' long ones."""
    torch.manual_seed(0)
    ours = [torch.nn.Parameter(torch.randn(3, 4, 2, dtype=torch.float64)),
            torch.nn.Parameter(torch.randn(3, 5, dtype=torch.float64))]
    alone = [[torch.nn.Parameter(p[m].detach().clone()) for p in ours] for m in range(3)]
    optimizer = PopulationOptimizer(ours, name, lr=0.05, grad_norm_clip=1.0)
    references = [REFERENCE[name](params, lr=0.05) for params in alone]
    for step in range(10):
        scale = torch.tensor([0.01, 1.0, 30.0], dtype=torch.float64)  # member 0 never reaches the bound
        for p in ours:
            p.grad = None
            (scale.view(-1, *[1] * (p.dim() - 1)) * p ** 2).sum().backward()
        optimizer.step()
        for m, (params, reference) in enumerate(zip(alone, references)):
            for p in params:
                p.grad = None
            sum(scale[m] * (p ** 2).sum() for p in params).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            reference.step()
    for m in range(3):
        for p, q in zip(ours, alone[m]):
            torch.testing.assert_close(p[m], q, rtol=1e-12, atol=1e-12)


def test_rejects_unknown_optimizer_and_bad_lr():
    p = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
        PopulationOptimizer([p], "adagrad")
    with pytest.raises(ValueError, match="learning rate"):
        PopulationOptimizer([p], "adam", lr=0)


def test_per_member_rates_match_separate_optimizers():
    torch.manual_seed(1)
    start = torch.randn(2, 3, dtype=torch.float64)
    together = torch.nn.Parameter(start.clone())
    apart = [torch.nn.Parameter(start[i:i + 1].clone()) for i in range(2)]
    optimizer = PopulationOptimizer([together], "adam", lr=[0.1, 0.001])
    separate = [PopulationOptimizer([apart[0]], "adam", lr=0.1), PopulationOptimizer([apart[1]], "adam", lr=0.001)]
    for _ in range(5):
        target = torch.randn(2, 3, dtype=torch.float64)
        together.grad = 2 * (together.detach() - target)
        optimizer.step()
        for i in range(2):
            apart[i].grad = 2 * (apart[i].detach() - target[i:i + 1])
            separate[i].step()
    assert torch.equal(together.detach(), torch.cat([a.detach() for a in apart]))


def test_rates_must_match_the_member_count():
    with pytest.raises(ValueError, match="one per member"):
        PopulationOptimizer([torch.nn.Parameter(torch.zeros(3, 2))], "adam", lr=[0.1, 0.2])


@pytest.mark.parametrize("name", list(REFERENCE))
def test_several_parameters_step_together_as_each_alone_and_one_without_gradient_rests(name):
    torch.manual_seed(1)
    shapes = [(3, 4, 5), (3, 2), (3, 1, 7)]
    ours = [torch.nn.Parameter(torch.randn(*s, dtype=torch.float64)) for s in shapes]
    alone = [torch.nn.Parameter(p.detach().clone()) for p in ours]
    together = PopulationOptimizer(ours, name, lr=0.01)  # one flat state for all three
    apart = [PopulationOptimizer([p], name, lr=0.01) for p in alone]
    for step in range(10):
        rest = step >= 5  # then the last parameter gets no gradient: it and its state must not move
        for group in (ours, alone):
            for p in group:
                p.grad = None
            sum(((p - 1) ** 2).sum() for p in (group[:2] if rest else group)).backward()
        together.step()
        for p, optimizer in zip(alone, apart):
            if p.grad is not None:
                optimizer.step()
    for p, q in zip(ours, alone):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(REFERENCE))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_compiled_cpu_step_is_the_pytorch_step_to_rounding(name, dtype, monkeypatch):
    from nalm.train import optim
    compiled_calls = []
    step_rows = optim._step_rows
    monkeypatch.setattr(optim, "_step_rows", lambda *a: compiled_calls.append(a[0]) or step_rows(*a))
    torch.manual_seed(2)
    shapes = [(4, 2, 9), (4, 3)]
    compiled = [torch.nn.Parameter(torch.randn(*s, dtype=dtype)) for s in shapes]
    reference = [torch.nn.Parameter(p.detach().clone()) for p in compiled]
    rates = [0.1, 0.01, 0.003, 0.05]
    ours = PopulationOptimizer(compiled, name, lr=rates, grad_clip=0.7)
    theirs = PopulationOptimizer(reference, name, lr=rates, grad_clip=0.7)
    theirs._step_compiled = theirs._step_flat  # PyTorch's operations, as on a GPU
    active = torch.tensor([True, False, True, True])
    for step in range(12):
        grads = [torch.randn(*s, dtype=dtype) * 2 for s in shapes]
        for group in (compiled, reference):
            for p, g in zip(group, grads):
                p.grad = g.clone()
        ours.step(active if step % 3 == 1 else None)
        theirs.step(active if step % 3 == 1 else None)
    assert len(compiled_calls) == 12 * len(shapes)  # the CPU path is the compiled one, the reference is not
    tolerance = 1e-6 if dtype == torch.float32 else 1e-14
    for p, q in zip(compiled, reference):
        torch.testing.assert_close(p, q, rtol=tolerance, atol=tolerance)
    for s, t in zip(ours.flat_state, theirs.flat_state):
        torch.testing.assert_close(s, t, rtol=tolerance, atol=tolerance)
