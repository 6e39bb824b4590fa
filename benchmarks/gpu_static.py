"""The Triton trainer compiled for an H100 (sm_90) without a GPU: registers, spills, instructions.

For each network of :data:`NETWORKS` (every layer kind and weight map the kernel trains) it compiles
:func:`nalm.train.gpu.kernel.train_kernel` for the madsen2020 task (input 100, batch 128,
hidden 2, float32, Adam) with ``triton.compile(..., target=GPUTarget("cuda", 90, 32))`` and
reads the cubin with the ``cuobjdump`` Triton ships: registers per thread (``REG``), spilled
bytes (``LOCAL``), static SASS instructions, and an estimate of the thread-instructions one
model-step issues. The estimate weighs each instruction by the trips of the loops around it
(backward branches in the SASS: the step loop once, the batch-tile loop ``batch / rows`` times,
the operand loops that draw a's and b's inputs again ``blocks`` times each, blocks ≈ 7.75 for
runs of 25 inputs), counts every instruction of a loop body as issued (division and square-root
slow paths included, so it is an upper estimate) and multiplies by ``32 · warps`` threads. The
ceiling divides an H100's ~3.3·10¹³ thread-instructions/s by it.

    python benchmarks/gpu_static.py                 # every network, the trainer's rows per tile and warps
    python benchmarks/gpu_static.py --rows 32 --warps 2 --json

Run without ``TRITON_INTERPRET`` (the interpreter does not compile).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

H100_THREAD_INSTRUCTIONS = 3.3e13  # per second: 132 SMs × 4 schedulers × 32 lanes × 1.98 GHz
NETWORKS = ("nau/nmu", "nau/nau", "nmu/nau", "nau", "nmu", "nac", "nac-mul", "nac/nac-mul-sigma", "nau/nac-mul-nmu",
            "nac/nac-mul", "nalu", "nalu/nmu", "nalu/nalu", "mcfc", "mcfc/nmu", "nau/mcfc")
POINTERS = {name: "*fp32" for name in ("P1", "Q1", "G1", "P2", "Q2", "G2", "S1", "S2", "rates", "lows", "widths",
                                        "highs", "Y", "bias1s", "root_bias2s", "lambdas1", "lambdas2", "losses")}
POINTERS.update({"offsets": "*i64", "keys": "*i64", "c3s": "*i64", "spans": "*i64", "ops": "*i32", "frozen": "*i8",
                 "diverged_at": "*i64"})
INTEGERS = {"state_columns": "i32", "start": "i64", "count": "i32", "row_blocks": "i32"}


def cuobjdump() -> Path:
    import triton

    return Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"


def compile_kernel(network: str, batch: int, inputs: int, rows: int, warps: int) -> tuple[bytes, dict]:
    """The cubin of the training kernel for ``network`` on sm_90 and its constexprs: those the
    trainer launches it with (:func:`nalm.train.gpu.trainer.constexprs`) for the network's layers."""
    import numpy as np
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from nalm.philox import blocks_per_row
    from nalm.train.gpu.kernel import train_kernel
    from nalm.train.gpu.trainer import constexprs
    from nalm.units import build_model

    units = build_model(network, inputs, 1, hidden=2 if "/" in network else None, members=1).units()
    layers = [unit.kernel_layer() for unit in units]
    constants = constexprs([(layer.kind, layer.weight_map) for layer in layers], units[0].out_features, batch, inputs,
                           blocks_per_row(inputs, np.float32), "adam", rows=rows)
    signature = {name: "constexpr" if name in constants else POINTERS.get(name, INTEGERS.get(name, "fp32"))
                 for name in train_kernel.arg_names}
    kernel = triton.compile(ASTSource(train_kernel, signature, constexprs=constants),
                            target=GPUTarget("cuda", 90, 32), options={"num_warps": warps, "enable_fp_fusion": False})
    return kernel.asm["cubin"], constants


def loop_trips(loops: list[tuple[int, int]], tiles: int, blocks: float) -> list[float]:
    """Each loop's trips per trip of the loop around it (``loops``: SASS address ranges): the
    outermost is the step loop (once per model-step), the largest within it the tile loop
    (``tiles``), any other an operand loop (``blocks``)."""
    step = max(loops, key=lambda loop: loop[1] - loop[0])
    inner = [loop for loop in loops if loop != step]
    tile = max(inner, key=lambda loop: loop[1] - loop[0]) if inner else None
    return [1.0 if loop == step else float(tiles) if loop == tile else blocks for loop in loops]


def figures(cubin: bytes, tiles: int, blocks: float, warps: int) -> dict:
    """Registers, spilled bytes, static instructions and thread-instructions per model-step."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kernel.cubin"
        path.write_bytes(cubin)
        usage = subprocess.run([cuobjdump(), "-res-usage", path], capture_output=True, text=True, check=True).stdout
        sass = subprocess.run([cuobjdump(), "-sass", path], capture_output=True, text=True, check=True).stdout
    registers = int(re.search(r"REG:(\d+)", usage).group(1))
    spilled = int(re.search(r"LOCAL:(\d+)", usage).group(1))
    instructions = [(int(a, 16), rest) for a, rest in re.findall(r"/\*([0-9a-f]{4,})\*/\s+([^;]*);", sass)]
    loops = [(int(target, 16), address) for address, rest in instructions
             for target in re.findall(r"\bBRA\s+(0x[0-9a-f]+)", rest) if int(target, 16) < address]
    trips = loop_trips(loops, tiles, blocks)
    per_step = sum(math.prod(t for (start, end), t in zip(loops, trips) if start <= address <= end)
                   for address, _ in instructions if any(start <= address <= end for start, end in loops))
    thread_instructions = per_step * 32 * warps
    return {"registers": registers, "spilled_bytes": spilled, "static_instructions": len(instructions),
            "loops": len(loops), "thread_instructions_per_model_step": thread_instructions,
            "ceiling_model_steps_per_s": H100_THREAD_INSTRUCTIONS / thread_instructions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--rows", type=int, default=None, help="batch rows per tile (a power of two; the trainer's "
                        "by default)")
    parser.add_argument("--warps", type=int, default=None, help="warps per program (the trainer's by default)")
    parser.add_argument("--operand-blocks", type=float, default=7.75,
                        help="Philox blocks drawn again per operand (25 consecutive inputs: 7 or 8)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    # gpu_session.sh's timeout stops it with SIGTERM: exit through the context managers, which
    # remove their temporary folders.
    signal.signal(signal.SIGTERM, _terminated)
    if os.environ.get("TRITON_INTERPRET") == "1":
        raise SystemExit("gpu_static: unset TRITON_INTERPRET; the interpreter compiles nothing")
    if importlib.util.find_spec("triton") is None:
        raise SystemExit("gpu_static: Triton is not installed (pip install 'nalm[gpu]')")
    if not cuobjdump().exists():
        raise SystemExit(f"gpu_static: Triton's cuobjdump is missing ({cuobjdump()})")
    from nalm.train.gpu.trainer import ROWS, WARPS

    args.rows = ROWS if args.rows is None else args.rows
    args.warps = WARPS if args.warps is None else args.warps
    out = {}
    for network in args.networks:
        cubin, constants = compile_kernel(network, args.batch, args.inputs, args.rows, args.warps)
        out[network] = figures(cubin, -(-args.batch // constants["BR"]), args.operand_blocks, args.warps)
    if args.json:
        print(json.dumps(out))
        return
    print(f"sm_90, batch {args.batch}, input {args.inputs}, rows {args.rows} per tile, {args.warps} warps, "
          "Adam, float32")
    for network, f in out.items():
        print(f"{network:8s} {f['registers']:4d} registers, {f['spilled_bytes']} bytes spilled, "
              f"{f['static_instructions']:5d} instructions ({f['loops']} loops), "
              f"{f['thread_instructions_per_model_step']:.2e} thread-instructions per model-step, "
              f"ceiling {f['ceiling_model_steps_per_s']:.1e} model-steps/s")
    sys.stdout.flush()


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signal.SIGTERM)


if __name__ == "__main__":
    main()
