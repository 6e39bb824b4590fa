import pytest

from nalm.train import TrainConfig


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match="unknown config key 'learning_rate'"):
        TrainConfig.from_dict({"learning_rate": 0.1})


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": "adagrad"}, "unknown optimizer"),
    ({"dtype": "float16"}, "dtype"),
    ({"batch_size": 0}, "batch_size"),
    ({"iterations": -1}, "iterations"),
    ({"lr": 0.0}, "lr"),
])
def test_bad_values_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig().replace(**changes)


def test_round_trip():
    config = TrainConfig(lr=0.5, unit_options={"nmu": {"regularizer_start": 10}})
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_a_field_added_later_is_stored_only_when_set():
    """Runs stored before grad_norm_clip existed keep their config hashes (their configs lack it)."""
    assert "grad_norm_clip" not in TrainConfig().to_dict()
    clipped = TrainConfig(grad_norm_clip=1.0)
    assert clipped.to_dict()["grad_norm_clip"] == 1.0
    assert TrainConfig.from_dict(clipped.to_dict()) == clipped
    assert TrainConfig.from_dict(TrainConfig().to_dict()).grad_norm_clip is None
    with pytest.raises(ValueError, match="grad_norm_clip must be a positive number"):
        TrainConfig(grad_norm_clip=0)
