"""The Triton trainer: a whole population trained many steps per kernel launch (``kernel: "triton"``).

:class:`~nalm.train.gpu.trainer.TritonSteps` plugs into the training loop
(:func:`nalm.train.train`) in place of its step: the loop evaluates, tracks each member's best
step, checkpoints and records divergence between launches, and each launch of
:func:`~nalm.train.gpu.kernel.train_kernel` trains every member up to the next evaluation. On a
GPU it runs compiled; on the CPU it runs through Triton's interpreter (``TRITON_INTERPRET=1``
set before Triton is imported), slowly, which is how it is tested without a GPU.

Supported so far: float32 networks of NAU, NMU, NAC, NAC•, NAC•,σ, NAC•,NMU and MC-FC layers, alone
or in pairs (hidden width up to 16), without ``regularizer_z``, and NALU and G-NALU layers alone or
in pairs (a shared weight, a gate per output, no gate bias): each
layer's weight computed from its parameters as :class:`~nalm.units.base.KernelLayer` describes
(``parameters``, ``weight_map``); static tasks with fresh batches drawn from one interval, whose operands sum
runs of consecutive inputs; Adam, RMSprop and SGD, with ``grad_clip``. Anything else is refused
with a ValueError naming it. It is the default on a CUDA device where Triton is installed
(:func:`~nalm.train.gpu.trainer.kernel_layers`).

This package imports Triton only when a trainer is built (:mod:`nalm.train.gpu.kernel`).
"""
