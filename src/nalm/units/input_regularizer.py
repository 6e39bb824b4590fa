"""Madsen & Johansen's input regularizer R_z, for the units that offer it (NAU, NMU and NAC+)."""
from __future__ import annotations

import torch
from torch import Tensor


class InputRegularized:
    r"""The input regularizer R_z, mixed into an :class:`~nalm.units.base.ArithmeticUnit`
    before it in the bases: :math:`R_z = \text{mean}((1 - |W|) \cdot (z - \bar x)^2)` per member,
    weighted by ``regularizer_z`` (0: off), with :math:`\bar x` the mean input (per input) of
    the training forward passes since the last optimizer step and z the input that leaves an
    output unchanged (``z_input``: 0 for addition, 1 for the NMU). It pulls |W| toward 1 where
    an input is far from neutral, so that inputs near it do not hide a wrong weight.

    stable-nalu ``stable_nalu/functional/regualizer_nau_z.py:9-17`` and
    ``regualizer_nmu_z.py:9-17``, the inputs kept by the layers' ``forward`` in training
    (``layer/re_regualized_linear_nac.py:63``, ``re_regualized_linear_mnac.py:68``,
    ``layer/nac.py:69-71``) and dropped after each optimizer step (``optimize``). The gradient
    flows into :math:`\bar x`, as in the reference (the inputs are not detached).

    A unit calls :meth:`_init_input_regularizer` in its constructor, :meth:`remember_input` in
    its ``forward``, :meth:`forget_inputs` after each optimizer step (its ``project_``), and adds
    ``regularizer_z * input_regularizer()`` to its regularization; :meth:`z_magnitude` is |W|
    unless the unit says otherwise.
    """

    z_input: float | None = None  # R_z's neutral input (addition 0, NMU 1); None: the unit has no R_z

    def _init_input_regularizer(self, regularizer_z) -> None:
        if isinstance(regularizer_z, bool) or not isinstance(regularizer_z, (int, float)) or regularizer_z < 0:
            raise ValueError(f"regularizer_z must be a non-negative number, got {regularizer_z!r}")
        if regularizer_z and self.z_input is None:
            raise ValueError(f"{type(self).__name__} has no input regularizer R_z; regularizer_z is for the NAU, "
                             f"the NMU and the NAC")
        self.regularizer_z = float(regularizer_z)
        self._inputs: list[Tensor] = []  # training inputs since the last optimizer step, for R_z

    def input_regularizer(self) -> Tensor:
        """R_z per member over the weight of :meth:`z_magnitude`; zero before any input is kept."""
        if not self._inputs:
            return self.new_zeros_per_member()
        rows = torch.cat([self._input_rows(x) for x in self._inputs], dim=-2)
        x_mean = rows.mean(dim=-2, keepdim=True)  # (1, in) or (M, 1, in)
        return self.per_member_mean((1 - self.z_magnitude()) * (self.z_input - x_mean) ** 2)

    def _input_rows(self, x: Tensor) -> Tensor:
        """An input as rows: (n, in) for a standalone unit, (M, n, in) for a population (a
        shared (batch, in) input seen by every member)."""
        if self.members is None:
            return x.reshape(-1, x.shape[-1])
        return x.expand(self.members, -1, -1) if x.dim() == 2 else x

    def z_magnitude(self) -> Tensor:
        """|W|, R_z's weight magnitude (the NAU's form, on the weight the unit trains)."""
        return self.W.abs()

    def remember_input(self, x: Tensor) -> None:
        """Keep a training forward pass's input for :meth:`input_regularizer` (only when it is on)."""
        if self.regularizer_z and self.training:
            self._inputs.append(x)

    def forget_inputs(self) -> None:
        """Drop the kept inputs: the next optimizer step's R_z starts afresh."""
        self._inputs = []

    def input_regularization(self) -> Tensor | None:
        """``regularizer_z`` times R_z, or ``None`` while R_z is off."""
        return self.regularizer_z * self.input_regularizer() if self.regularizer_z else None

    def input_regularizer_options(self) -> dict:
        """``{"regularizer_z": ...}`` while R_z is on, else nothing (an option left at its default)."""
        return {"regularizer_z": self.regularizer_z} if self.regularizer_z else {}

    @property
    def trains_through_forward(self) -> bool:
        """While R_z is on: it needs every training forward pass's input."""
        return bool(self.regularizer_z)
