#!/usr/bin/env bash
# Everything that needs a GPU, in one run of at most five minutes (each step has its cap; GPU time
# comes in short windows):
# the compile figures, the CUDA tests (the compiled Triton trainer against the CPU's draws and fused
# step, the autograd path), then the speeds. Run from the repository root, with nalm[gpu] installed:
#     bash benchmarks/gpu_session.sh [PYTHON]
set -uo pipefail
python=${1:-python}
unset TRITON_INTERPRET
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader || exit 1
timeout 30 "$python" benchmarks/gpu_static.py --networks nau/nmu nalu  # (CI compiles every network)
timeout 90 "$python" -m pytest -q -p no:cacheprovider tests/train/test_triton_cuda.py tests/train/test_cuda.py
timeout 100 "$python" benchmarks/gpu_speed.py --models nau/nmu nalu --members 600 2000 10000 --short 100 --long 600
# The --dry-run estimate on the GPU (its calibration on the device, by the Triton trainer), then
# the run it estimates, timed: 200 NAU→NMU members on a·b × 20,000 steps (with its baselines and formulas).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
command=(-m nalm.cli.main run madsen2020-static --units nau/nmu --targets mul --seeds 200 --iterations 20000
         --device cuda --results "$scratch/r.sqlite")
NALM_CACHE_DIR=$scratch timeout 30 "$python" "${command[@]}" --dry-run
time NALM_CACHE_DIR=$scratch timeout 50 "$python" "${command[@]}" --quiet
