"""The one registry of names a model is made of: units (``UNITS``), MLP activations
(``ACTIVATIONS``) and recurrent baseline cells (``BASELINE_CELLS``); the CLI, networks and
experiments use only these.

Each is a :class:`~nalm.lazy.LazyTable` of import paths: ``nalm list`` and the command line's help
read the names without importing PyTorch; a class is imported when it is looked up.
"""
from __future__ import annotations

from ..lazy import LazyTable

UNITS = LazyTable({
    "nac": ".nac:NAC",
    "nac-mul": ".nac:MultiplicativeNAC",
    "nac-mul-sigma": ".nac_mul_variants:MultiplicativeNACSigma",
    "nac-mul-nmu": ".nac_mul_variants:MultiplicativeNACNMU",
    "nalu": ".nalu:NALU",
    "faux-nalu": ".nalu:FauxNALU",
    "nau": ".nau_nmu:NAU",
    "nmu": ".nau_nmu:NMU",
    "snmu": ".nau_nmu:StochasticNMU",
    "npu": ".npu:NPU",
    "real-npu": ".npu:RealNPU",
    "naive-npu": ".npu:NaiveNPU",
    "real-npu-modified": ".npu:ModifiedRealNPU",
    "inalu": ".inalu:INALU",
    "inalu-sw": ".inalu:SharedINALU",
    "g-nalu": ".nalu:GNALU",
    "nalu-separate": ".nalu:SeparateNALU",
    "gated-nau-nmu": ".gated:GatedNAUNMU",
    "nru": ".nru_nmru:NRU",
    "nmru": ".nru_nmru:NMRU",
    "mcfc": ".mcfc:MCFC",
    "mul-mcfc": ".mcfc:MulMCFC",
}, package=__package__)

ACTIVATIONS = LazyTable({
    "hardtanh": "torch.nn:Hardtanh",
    "sigmoid": "torch.nn:Sigmoid",
    "relu6": "torch.nn:ReLU6",
    "tanh": "torch.nn:Tanh",
    "tanhshrink": "torch.nn:Tanhshrink",
    "hardshrink": "torch.nn:Hardshrink",
    "leakyrelu": "torch.nn:LeakyReLU",
    "softshrink": "torch.nn:Softshrink",
    "softsign": "torch.nn:Softsign",
    "relu": "torch.nn:ReLU",
    "prelu": ".mlp:PReLU",
    "softplus": "torch.nn:Softplus",
    "elu": "torch.nn:ELU",
    "selu": "torch.nn:SELU",
    "gelu": "torch.nn:GELU",
    "silu": "torch.nn:SiLU",
}, package=__package__)
"""Activations of ``mlp-<activation>`` by name (module classes, built without arguments): the 14
of Trask et al.'s Figure 1, plus gelu and silu."""

BASELINE_CELLS = LazyTable({
    "rnn-tanh": ".recurrent:rnn_tanh",
    "rnn-relu": ".recurrent:rnn_relu",
    "gru": ".recurrent:GRUCell",
    "lstm": ".recurrent:LSTMCell",
}, package=__package__)
"""Recurrent baselines by model name (cells built as ``cell(input_size, hidden, **factory)``);
each is read out by a linear layer."""


def unit_class(name: str) -> type:
    """The unit class called ``name``: a built-in unit, or one from outside nalm (an import path
    ``MODULE:CLASS``, an entry point of the ``nalm.units`` group, or :func:`~nalm.units.custom.register_unit`),
    as a class that builds populations (:func:`~nalm.units.custom.population_class`). An unknown
    name lists the known ones."""
    if name in UNITS:
        return UNITS[name]
    from .custom import find_unit, population_class, unknown_unit  # PyTorch: only once a name is not built in

    found = find_unit(name)
    if found is None:
        raise unknown_unit(name, UNITS)
    return population_class(found)


def custom_unit(name: str) -> type | None:
    """The user's own class behind a unit name from outside nalm; ``None`` for a built-in unit."""
    if name in UNITS:
        return None
    from .custom import find_unit

    return find_unit(name)
