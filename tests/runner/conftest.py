import pytest
import torch


@pytest.fixture(autouse=True)
def _restore_threads():
    """The training loop sets PyTorch's thread count from the config; restore it after each test."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
