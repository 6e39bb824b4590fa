"""Compiled CPU kernels (numba): training data drawn where it is used, and fused training steps.

A population step on the CPU was bound by memory: 100 fresh (128, 100) batches drawn, written
out, then read back by the targets, the forward pass and the weight gradient. Here a row of data
is drawn (Philox, :mod:`nalm.philox`), mapped to the task's range and reduced to its operands a
and b while in cache (:mod:`nalm.train.kernels.draw`); the fused step
(:mod:`nalm.train.kernels.step`) draws a member's batch into a buffer that stays in cache and runs
it through a network of up to two layers (:mod:`nalm.train.kernels.layers`) and back, with a
logarithm and an exponential that vectorize (:mod:`nalm.train.kernels.logexp`).

Every kernel is compiled with ``error_model="numpy"``: x / 0 gives inf or nan, as in PyTorch,
where Python's model raises ZeroDivisionError (and its check keeps a loop with a division from
vectorizing).
"""
