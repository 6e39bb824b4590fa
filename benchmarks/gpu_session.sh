#!/usr/bin/env bash
# Everything that needs a GPU, in one run of under five minutes (GPU time comes in short windows):
# the compile figures, the CUDA tests (the compiled Triton trainer against the CPU's draws and fused
# step, the autograd path), then the speeds. Run from the repository root, with nalm[gpu] installed:
#     bash benchmarks/gpu_session.sh [PYTHON]
set -uo pipefail
python=${1:-python}
unset TRITON_INTERPRET
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader || exit 1
timeout 60 "$python" benchmarks/gpu_static.py --networks nau/nmu nalu  # (CI compiles every network)
timeout 120 "$python" -m pytest -q -p no:cacheprovider tests/train/test_triton_cuda.py tests/train/test_cuda.py
timeout 150 "$python" benchmarks/gpu_speed.py --models nau/nmu nalu --members 600 2000 10000 --short 100 --long 600
