"""Shared setup for the tests of ``nalm.units``.

The units are tiny, so PyTorch's intra-op threads only add overhead (see PROTOCOLS.md, section 5):
every test runs on one thread.
"""
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_thread_and_default_dtype():
    """Keep one thread and float32 as the default dtype, whatever a test did before."""
    torch.set_num_threads(1)
    dtype = torch.get_default_dtype()
    yield
    torch.set_default_dtype(dtype)
