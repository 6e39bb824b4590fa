"""What pytest collects from this checkout: the Triton kernel modules import Triton, the
``nalm[gpu]`` extra, so where Triton is not installed it has nothing to doctest (its tests,
tests/train/test_triton.py, skip there). Triton is looked up, not imported: importing it here
would compile its library before the interpreter tests set ``TRITON_INTERPRET``."""
import importlib.util

collect_ignore = [] if importlib.util.find_spec("triton") else [
    f"src/nalm/train/gpu/{name}.py" for name in ("kernel", "draws", "weights")]
