"""Every task kind provides what the training loop, the data and the runner ask of a task."""
import numpy as np
import pytest

from nalm.tasks import TASK_KINDS, Draws, Task, task_from_dict, task_to_dict


@pytest.mark.parametrize("kind", list(TASK_KINDS))
def test_every_task_kind_is_a_task_and_round_trips_through_its_stored_form(kind):
    task = TASK_KINDS[kind]()
    assert isinstance(task, Task)
    assert task_from_dict(task_to_dict(task)) == task
    x = task.sample(3, Draws(0, 1))
    assert x.shape == (3, *task.input_shape) and task.in_features == task.input_shape[-1]
    totals = task.totals(3, Draws(0, 1))
    np.testing.assert_allclose(totals, x.sum(axis=1) if task.recurrent else x)
    assert task.layout(0).shape == (task.in_features, 2)


def test_an_unknown_stored_kind_is_refused():
    with pytest.raises(ValueError, match="unknown task kind 'Bogus'"):
        task_from_dict({"kind": "Bogus"})
