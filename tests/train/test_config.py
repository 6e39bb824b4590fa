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
