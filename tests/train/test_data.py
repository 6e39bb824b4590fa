"""Tests for nalm.train.data: Member and PopulationData.

Targets are recomputed here from the inputs with the task's subsets and the direct formulas.
"""

import numpy as np
import pytest
import torch

from nalm.tasks import PoolTask, StaticTask
from nalm.train.data import Member, PopulationData

TASK = StaticTask()  # madsen2020: d = 100, subsets of 25 overlapping by 12
FORMULAS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a, b: a * a,
    "sqrt": lambda a, b: torch.sqrt(a),
}


def _data(members, batch_size=32, eval_samples=64, dtype=torch.float64):
    return PopulationData(members, batch_size=batch_size, eval_samples=eval_samples, device="cpu", dtype=dtype)


def _operands(task, seed, x):
    """a, b recomputed from x (batch, d) with the seed's subsets."""
    a_idx, b_idx = task.subsets(seed)
    return x[:, torch.as_tensor(a_idx)].sum(1), x[:, torch.as_tensor(b_idx)].sum(1)


def _check_targets(members, x, y):
    """y[i] == target_i(a, b) for the inputs member i sees."""
    assert y.shape == (len(members), x.shape[-2], 1)
    for i, m in enumerate(members):
        xi = x if x.dim() == 2 else x[i]
        if isinstance(m.task, PoolTask):
            a, b = xi[:, 0], xi[:, 1]
        else:
            a, b = _operands(m.task, m.seed, xi)
        torch.testing.assert_close(y[i, :, 0], FORMULAS[m.target](a, b), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- Member


def test_member_fields():
    m = Member(3, "mul", TASK)
    assert m.model_seed == 3
    assert Member(3, "mul", TASK, init_seed=8).model_seed == 8
    assert Member(0, "add", TASK).seed == 0


@pytest.mark.parametrize("seed", [-1, -100, 1.5, "3", None])
def test_member_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        Member(seed, "add", TASK)


@pytest.mark.parametrize("target", ["foo", "ADD", "", "addition"])
def test_member_rejects_unknown_target(target):
    with pytest.raises(ValueError, match="unknown target"):
        Member(0, target, TASK)


# --------------------------------------------------------------------------- independence


def test_member_batches_do_not_depend_on_the_population():
    alone = _data([Member(3, "add", TASK)])
    crowd = _data([Member(s, "add", TASK) for s in range(6)])
    for step in range(4):
        x1, y1 = alone.train_batch(step)
        x6, y6 = crowd.train_batch(step)
        assert x1.shape == (1, 32, 100) and x6.shape == (6, 32, 100)
        torch.testing.assert_close(x6[3], x1[0], rtol=0, atol=0)
        torch.testing.assert_close(y6[3], y1[0], rtol=0, atol=0)
    for which in ("interpolation", "extrapolation"):
        torch.testing.assert_close(crowd.eval_sets[which][3], alone.eval_sets[which][0], rtol=0, atol=0)


def test_member_batches_do_not_depend_on_other_targets_or_order():
    alone = _data([Member(3, "mul", TASK)])
    mixed = _data([Member(5, "div", TASK), Member(3, "add", TASK), Member(0, "sub", TASK),
                   Member(3, "mul", TASK), Member(5, "sqrt", TASK)])
    for step in range(3):
        x1, y1 = alone.train_batch(step)
        xm, ym = mixed.train_batch(step)
        assert xm.shape == (5, 32, 100)
        torch.testing.assert_close(xm[3], x1[0], rtol=0, atol=0)
        torch.testing.assert_close(ym[3], y1[0], rtol=0, atol=0)
        _check_targets(mixed.members, xm, ym)


def test_consecutive_batches_are_fresh():
    data = _data([Member(s, "add", TASK) for s in range(3)])
    x1, _ = data.train_batch(0)
    x2, _ = data.train_batch(1)
    assert not torch.equal(x1, x2)
    assert not torch.equal(x1[0], x1[1])  # different seeds, different data


def test_seeds_are_reproducible_across_instances():
    members = [Member(s, "mul", TASK) for s in (1, 2)]
    d1, d2 = _data(members), _data(members)
    for step in range(2):
        torch.testing.assert_close(d1.train_batch(step), d2.train_batch(step), rtol=0, atol=0)


# --------------------------------------------------------------------------- shared inputs, targets


def test_same_seed_different_targets_share_inputs():
    members = [Member(7, t, TASK) for t in FORMULAS]
    data = _data(members, batch_size=50)
    x, y = data.train_batch(0)
    assert x.shape == (6, 50, 100)  # one stream, repeated per member
    assert y.shape == (6, 50, 1)
    for i in range(1, 6):
        assert torch.equal(x[i], x[0])
    a, b = _operands(TASK, 7, x[0])
    for i, t in enumerate(FORMULAS):
        torch.testing.assert_close(y[i, :, 0], FORMULAS[t](a, b))
    # a in [25, 50], b in [25, 50]
    assert torch.all((a >= 25) & (a <= 50)) and torch.all((b >= 25) & (b <= 50))
    # each member computes exactly what it would alone
    for i, t in enumerate(FORMULAS):
        xa, ya = _data([Member(7, t, TASK)], batch_size=50).train_batch(0)
        torch.testing.assert_close(xa[0], x[i], rtol=0, atol=0)
        torch.testing.assert_close(ya[0], y[i], rtol=0, atol=0)


def test_same_seed_members_share_inputs_within_a_population():
    members = [Member(s, t, TASK) for s in (1, 2) for t in ("add", "mul", "div")]
    data = _data(members)
    x, y = data.train_batch(0)
    assert x.shape == (6, 32, 100)
    for i in range(6):
        for j in range(6):
            same_seed = members[i].seed == members[j].seed
            assert torch.equal(x[i], x[j]) == same_seed
    _check_targets(members, x, y)
    a, b = _operands(TASK, 1, x[0])
    torch.testing.assert_close(y[0, :, 0], a + b)
    torch.testing.assert_close(y[1, :, 0], a * b)
    torch.testing.assert_close(y[2, :, 0], a / b)


def test_targets_use_each_seeds_layout():
    # seeds with different offsets: each member's targets use its own subsets
    seeds = [s for s in range(10)]
    offsets = {s: int(TASK.subsets(s)[0][0]) for s in seeds}
    assert len(set(offsets.values())) > 1
    members = [Member(s, "sub", TASK) for s in seeds]
    data = _data(members)
    x, y = data.train_batch(0)
    _check_targets(members, x, y)


def test_different_tasks_same_seed_are_separate_streams():
    scattered = StaticTask(placement="scattered")
    members = [Member(2, "add", TASK), Member(2, "add", scattered)]
    x, y = _data(members).train_batch(0)
    assert x.shape == (2, 32, 100)
    _check_targets(members, x, y)


# --------------------------------------------------------------------------- shapes and dtypes


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shapes_and_dtype(dtype):
    one = _data([Member(0, "add", TASK)], batch_size=16, dtype=dtype)
    x, y = one.train_batch(0)
    assert x.shape == (1, 16, 100) and y.shape == (1, 16, 1)
    assert x.dtype == y.dtype == dtype
    shared = _data([Member(0, "add", TASK), Member(0, "mul", TASK)], batch_size=16, dtype=dtype)
    x, y = shared.train_batch(0)
    assert x.shape == (2, 16, 100) and y.shape == (2, 16, 1)
    assert torch.equal(x[0], x[1])
    assert x.is_contiguous()
    several = _data([Member(s, "add", TASK) for s in range(3)], batch_size=16, dtype=dtype)
    x, y = several.train_batch(0)
    assert x.shape == (3, 16, 100) and y.shape == (3, 16, 1)
    assert x.dtype == y.dtype == dtype
    repeated = _data([Member(0, "add", TASK), Member(1, "add", TASK), Member(0, "mul", TASK)],
                     batch_size=16, dtype=dtype)
    x, y = repeated.train_batch(0)
    assert x.shape == (3, 16, 100) and y.shape == (3, 16, 1)
    _check_targets(repeated.members, x, y)


def test_two_input_task_shapes():
    task = StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                      interpolation="[-2,2]", extrapolation="[-6,-2]U[2,6]")
    members = [Member(s, "mul", task) for s in range(4)]
    data = _data(members, batch_size=8)
    x, y = data.train_batch(0)
    assert x.shape == (4, 8, 2) and y.shape == (4, 8, 1)
    torch.testing.assert_close(y[..., 0], x[..., 0] * x[..., 1])
    xe = data.eval_sets["extrapolation"]
    assert not torch.any((xe > -2) & (xe < 2))


# --------------------------------------------------------------------------- evaluation sets


def test_eval_sets_shapes_ranges_and_independence():
    members = [Member(s, "add", TASK) for s in range(3)]
    data = _data(members, eval_samples=200)
    xi, xe = data.eval_sets["interpolation"], data.eval_sets["extrapolation"]
    assert xi.shape == xe.shape == (3, 200, 100)
    assert xi.min() >= 1 and xi.max() <= 2
    assert xe.min() >= 2 and xe.max() <= 6
    # fixed: a second instance draws the same sets; training batches come from another stream
    again = _data(members, eval_samples=200)
    assert torch.equal(again.eval_sets["interpolation"], xi)
    x, _ = data.train_batch(0)
    assert not torch.equal(x[:, :32], xi[:, :32])


@pytest.mark.parametrize("seeds, max_elements", [
    ((4,), 2 * 100 * 7),  # one stream (two members), chunks of 7 rows
    ((0, 1, 2), 3 * 100 * 10),  # chunks of 10 rows
    ((0, 1, 2), 1),  # chunks of one row
    ((0, 1, 2), 1 << 22),  # one chunk
])
@pytest.mark.parametrize("which", ["interpolation", "extrapolation"])
def test_eval_chunks_cover_the_set_exactly_once(seeds, max_elements, which):
    members = [Member(s, t, TASK) for s in seeds for t in ("add", "div")]
    data = _data(members, eval_samples=45)
    chunks = list(data.eval_chunks(which, max_elements=max_elements))
    xs = [x for x, _ in chunks]
    ys = [y for _, y in chunks]
    assert sum(x.shape[-2] for x in xs) == 45
    full = data.eval_sets[which]  # (S, n, d)
    assert all(x.shape[0] == len(members) for x in xs)
    x = torch.cat(xs, dim=1)
    expected = torch.stack([full[seeds.index(m.seed)] for m in members])
    torch.testing.assert_close(x, expected, rtol=0, atol=0)
    y = torch.cat(ys, dim=1)
    assert y.shape == (len(members), 45, 1)
    _check_targets(members, x, y)
    torch.testing.assert_close(y, data.per_member(full)[1])


def test_eval_chunks_respect_memory_bound():
    members = [Member(s, "add", TASK) for s in range(4)]
    data = _data(members, eval_samples=100)
    chunks = list(data.eval_chunks("interpolation", max_elements=4 * 100 * 25))
    assert len(chunks) == 4
    assert all(x.shape == (4, 25, 100) for x, _ in chunks)


# --------------------------------------------------------------------------- fixed training sets


def test_fixed_training_set_is_the_same_every_call():
    task = PoolTask(train_samples=500)
    members = [Member(0, "add", task), Member(0, "mul", task)]
    data = _data(members, batch_size=32)
    x1, y1 = data.train_batch(0)
    assert x1.shape == (2, 500, 2) and y1.shape == (2, 500, 1)  # full batch, not batch_size
    assert torch.equal(x1[0], x1[1])
    x1 = x1[0]
    for step in range(3):
        x, y = data.train_batch(step)
        torch.testing.assert_close(x[0], x1, rtol=0, atol=0)
        torch.testing.assert_close(y, y1, rtol=0, atol=0)
    torch.testing.assert_close(y1[0, :, 0], x1[:, 0] + x1[:, 1])
    torch.testing.assert_close(y1[1, :, 0], x1[:, 0] * x1[:, 1])
    # every a and b is a sum of 5 entries of the seed's vector
    v = np.sort(task.pool(0, False))
    assert x1.min().item() >= v[:5].sum() - 1e-9 and x1.max().item() <= v[-5:].sum() + 1e-9
    # 500 distinct samples
    assert len(torch.unique(x1[:, 0])) > 400


def test_fixed_training_sets_per_seed():
    task = PoolTask(train_samples=500)
    alone = _data([Member(2, "sub", task)])
    crowd = _data([Member(s, "sub", task) for s in range(4)])
    x1, y1 = alone.train_batch(0)
    x4, y4 = crowd.train_batch(0)
    assert x4.shape == (4, 500, 2)
    torch.testing.assert_close(x4[2], x1[0], rtol=0, atol=0)
    torch.testing.assert_close(y4[2], y1[0], rtol=0, atol=0)
    assert not torch.equal(x4[0], x4[1])
    torch.testing.assert_close(crowd.train_batch(0)[0], x4, rtol=0, atol=0)
    # evaluation sets are drawn apart from the training set
    assert not torch.equal(crowd.eval_sets["interpolation"][:, :10], x4[:, :10])
    xe = crowd.eval_sets["extrapolation"]
    assert xe.min() >= 50 and xe.max() <= 100  # sums of 5 entries of v in U[10, 20]


def test_static_task_with_train_samples_is_fixed():
    task = StaticTask(train_samples=40)
    data = _data([Member(1, "mul", task)], batch_size=8)
    x1, y1 = data.train_batch(0)
    x2, y2 = data.train_batch(0)
    assert x1.shape == (1, 40, 100)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    _check_targets(data.members, x1, y1)
