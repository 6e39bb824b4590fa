"""Keep freed memory in the process, so that a population step does not fault its pages in again.

A population's tensors are large: a madsen2020 batch for 100 members, (100, 128, 100) in
float32, is 5 MB, and each step allocates and frees several of that size. glibc's defaults
hand such blocks back to the system when they are freed (through ``munmap``, or by trimming
the top of the heap), so the next step pays a page fault for every 4 KB it touches again.
``python benchmarks/population_speed.py --glibc-defaults`` measures what that costs.

:func:`keep_freed_memory`, which the training loop calls, raises both thresholds once per process:
blocks under 32 MB come from the heap, and the heap keeps up to 256 MB of free memory for
reuse. Larger blocks (evaluation chunks) are still mapped and unmapped directly. It does
nothing outside glibc, or when the environment sets ``NALM_GLIBC_DEFAULTS=1``.
"""
from __future__ import annotations

import ctypes
import functools
import os
import platform

_M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # the ceiling of glibc's own adaptive threshold
TRIM_THRESHOLD = 256 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for large, repeated allocations; True if set.

    Setting them also turns off glibc's adaptive thresholds, which in a training loop (several
    5 MB blocks freed every step) trim the heap again at every step.
    """
    if platform.libc_ver()[0] != "glibc" or os.environ.get("NALM_GLIBC_DEFAULTS") == "1":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
