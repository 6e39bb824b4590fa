"""nalm.train.allocator: glibc keeps freed blocks for reuse, unless the environment opts out."""
import platform

import pytest

from nalm.train import allocator

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")


@pytest.fixture
def fresh():
    allocator.keep_freed_memory.cache_clear()
    yield allocator.keep_freed_memory
    allocator.keep_freed_memory.cache_clear()


@glibc
def test_glibc_accepts_both_thresholds(fresh, monkeypatch):
    monkeypatch.delenv("NALM_GLIBC_DEFAULTS", raising=False)
    assert fresh() is True


def test_the_environment_can_keep_glibcs_defaults(fresh, monkeypatch):
    monkeypatch.setenv("NALM_GLIBC_DEFAULTS", "1")
    assert fresh() is False
