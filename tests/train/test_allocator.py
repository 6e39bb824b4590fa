"""nalm.train.allocator: glibc keeps freed blocks for reuse, unless the environment opts out."""
import os
import platform
import subprocess
import sys

import pytest

from nalm.train import allocator

# Six 5 MB tensors alive at once and freed per "step", as in a population's training step
# (batch, targets' operands, activations, gradients); prints the page faults of 20 steps
# after a warm-up step.
STEPS = """
import resource, torch
from nalm.train.allocator import keep_freed_memory
keep_freed_memory()
def step():
    blocks = [torch.ones(1_310_720) for _ in range(6)]
    return float(sum(b[0] for b in blocks))
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(glibc_defaults: bool) -> int:
    env = {k: v for k, v in os.environ.items() if k != "NALM_GLIBC_DEFAULTS"}
    if glibc_defaults:
        env["NALM_GLIBC_DEFAULTS"] = "1"
    out = subprocess.run([sys.executable, "-c", STEPS], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.slow  # 5 s
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    # Measured: 1,280 faults kept against 70,000 to 153,000 with glibc's defaults (5 runs each;
    # three tensors per step instead of six left glibc's adaptive threshold trimming only now and then).
    assert 10 * page_faults(glibc_defaults=False) < page_faults(glibc_defaults=True)


def test_the_environment_can_keep_glibcs_defaults(monkeypatch):
    allocator.keep_freed_memory.cache_clear()
    monkeypatch.setenv("NALM_GLIBC_DEFAULTS", "1")
    try:
        assert allocator.keep_freed_memory() is False
    finally:
        allocator.keep_freed_memory.cache_clear()
