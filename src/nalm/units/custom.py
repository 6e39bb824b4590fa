"""Units from outside nalm: by import path (``mypkg.units:MyUnit``), by entry point (the
``nalm.units`` group), or registered in Python (:func:`register_unit`).

A unit class is called as ``cls(in_features, out_features, **options)``. One that also takes
``members=`` (an :class:`~nalm.units.base.ArithmeticUnit`) trains as a population as the
built-in units do. One that does not is wrapped in :class:`Memberwise`: its M members' parameters
are stacked along a first dimension and its forward pass runs once for all of them under
``torch.func.vmap``, or, where vmap cannot run it, once per member: about half and a fifth of
the speed of a unit written for populations, for a NAU-sized unit on the madsen2020 task
(``python -m benchmarks.custom_unit_speed``). Either way member m computes
what ``torch.manual_seed(seed_m); cls(in_features, out_features)`` computes alone.

A plain unit's buffers are not stacked: its members share them, so a unit whose buffers change
while it trains (BatchNorm's running statistics) needs ``members=`` support of its own.

Optional methods a plain unit may have, each used per member: ``regularization(step)`` (a
scalar added to the loss), ``project_()`` (an in-place correction after each optimizer step),
``sparsity_error()``; without the last, the distance of a parameter named ``weight`` or ``W``
from {-1, 0, 1} is used, if there is one.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import sys
import textwrap
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable, Iterator

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from ..errors import UnknownNameError, warn
from .base import ArithmeticUnit

ENTRY_POINT_GROUP = "nalm.units"

_REGISTERED: dict[str, type] = {}  # name -> class, from register_unit
_IMPORTABLE: set[str] | None = None  # import paths a reader of stored runs may import (None: any, see importing_only)


def is_import_path(name: str) -> bool:
    return ":" in name


def register_unit(cls: type, name: str | None = None) -> str:
    """Make ``cls`` usable by name in this process (its import path by default); returns the name.

    >>> from nalm.units.nau_nmu import NAU
    >>> register_unit(NAU, "my-nau")
    'my-nau'
    """
    check_unit_class(cls, name or import_path(cls))
    name = name or import_path(cls)
    _REGISTERED[name] = cls
    return name


def import_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


@contextmanager
def importing_only(names: Iterable[str]) -> Iterator[None]:
    """Within the block, a unit named by import path is imported only if it is one of ``names``
    (those the user named); registered units and entry points as always. For commands that read
    stored runs, which name their units: a crafted store must not make nalm import a module."""
    global _IMPORTABLE
    before, _IMPORTABLE = _IMPORTABLE, set(names)
    try:
        yield
    finally:
        _IMPORTABLE = before


def find_unit(name: str) -> type | None:
    """The class of a unit named by import path, entry point or :func:`register_unit`; ``None``
    when ``name`` is none of these (the caller then lists the built-in units)."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if is_import_path(name):
        if _IMPORTABLE is not None and name not in _IMPORTABLE:
            raise ValueError(f"unit {name!r} of a stored run is imported from module {name.partition(':')[0]!r} only "
                             f"if you name it: add --units {name}")
        return check_unit_class(_import(name), name)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            try:
                cls = entry.load()
            except (Exception, SystemExit) as error:  # whatever the plugin raises on import, sys.exit too
                raise ValueError(f"unit {name!r}: its entry point {entry.value} does not load: "
                                 f"{type(error).__name__}: {error}") from None
            return check_unit_class(cls, name)
    return None


def _import(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"unit {path!r}: an import path is MODULE:CLASS, e.g. mypkg.units:MyUnit")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or not (module_name + ".").startswith(error.name + "."):
            raise ValueError(f"unit {path!r}: module {module_name!r} does not import: ModuleNotFoundError: "
                             f"{error}") from None  # a module it imports is missing
        raise ValueError(f"unit {path!r}: no module named {error.name!r}{not_on_path(error.name)}") from None
    except (Exception, SystemExit) as error:  # anything the module raises while importing, sys.exit too
        raise ValueError(f"unit {path!r}: module {module_name!r} does not import: "
                         f"{type(error).__name__}: {error}") from None
    target = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"unit {path!r}: module {module_name!r} has no {qualname!r}") from None
    return target


def not_on_path(module: str) -> str:
    """Why ``module`` may not import although it is here: ``""`` unless the current directory holds
    it (``module.py``, or a folder ``module``) and is not on Python's import path, as under the
    ``nalm`` command (``python -m`` and a script's folder put it there)."""
    top = module.partition(".")[0]
    if not (os.path.isfile(f"{top}.py") or os.path.isdir(top)):
        return ""
    here = os.path.realpath(os.getcwd())
    if any(os.path.realpath(entry or os.curdir) == here for entry in sys.path):
        return ""
    found = f"{top}.py" if os.path.isfile(f"{top}.py") else f"{top}/"
    return (f": {found} is in the current directory, which is not on Python's import path; run with "
            "PYTHONPATH=. or install the package")


def check_unit_class(cls, name: str) -> type:
    """``cls`` if it is a ``torch.nn.Module`` class whose constructor takes (in_features, out_features)."""
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"unit {name!r} is not a torch.nn.Module class (it is {cls!r})")
    try:
        inspect.signature(cls).bind(1, 1)
    except TypeError as error:
        raise ValueError(f"unit {name!r}: its constructor must take (in_features, out_features): {error}") from None
    return cls


def takes_members(cls: type) -> bool:
    """Whether the class builds populations itself: an ArithmeticUnit, or a ``members=`` keyword."""
    return issubclass(cls, ArithmeticUnit) or "members" in inspect.signature(cls).parameters


def population_class(cls: type) -> type:
    """``cls`` itself if it takes ``members=``, else :class:`Memberwise` of it."""
    if takes_members(cls):
        return cls
    return type(f"Memberwise{cls.__name__}", (Memberwise,), {"base": cls, "__module__": __name__})


def source_record(cls: type) -> dict:
    """What identifies a custom unit's version in a stored run: its import path and the SHA-256
    of the file that defines it; for a class of ``__main__`` (a notebook, a script), of the
    class's own source; ``None`` when neither can be read."""
    try:
        if cls.__module__ == "__main__":
            data = inspect.getsource(cls).encode()
        else:
            data = Path(inspect.getsourcefile(cls)).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
    except (TypeError, OSError):
        digest = None
    return {"import": import_path(cls), "source_sha256": digest}


class CustomUnitError(ValueError):
    """A unit from outside nalm failed: the message names the unit and what it raised."""


class _Call(nn.Module):
    """``module.method(*args)`` as a forward pass, so that ``functional_call`` can run any method."""

    def __init__(self, module: nn.Module, method: str):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args):
        return getattr(self.module, self.method)(*args)


_ANNOUNCED: set[tuple[str, str]] = set()


class Memberwise(ArithmeticUnit):
    """A population of a unit class that does not take ``members=`` (set as ``base``).

    Member m's parameters are the m-th slices of this module's parameters, which carry the
    plain unit's names with dots as double underscores. ``members=None`` holds one unit.
    """

    base: type

    def __init__(self, in_features: int, out_features: int, *, members=None, device=None, dtype=None, **options):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.unit_options = options
        template = self.base(in_features, out_features, **options).to(device=device, dtype=dtype)
        self._template = [template]  # a list: not a submodule, so its own parameters are not trained
        self._check_template()
        self._calls: dict[str, _Call] = {}  # method -> its forward wrapper (a dict: not submodules either)
        self._names = [name for name, _ in template.named_parameters()]
        for name, p in template.named_parameters():
            self.register_parameter(name.replace(".", "__"), self.new_parameter(*p.shape))
        if members is None:  # the unit as constructed, as torch.manual_seed(s); base(...) would give it
            with torch.no_grad():
                for name, p in template.named_parameters():
                    getattr(self, name.replace(".", "__")).copy_(p)
        else:
            self.reset_parameters()
        self.path = "vmap"
        if members is not None:
            self.path = self._choose_path()

    @property
    def template(self) -> nn.Module:
        return self._template[0]

    def _check_template(self) -> None:
        """Refuse, in one line, a unit that has nothing to train or whose forward pass does not
        give one tensor of ``(batch, out_features)``."""
        name = import_path(self.base)
        if not any(True for _ in self.template.parameters()):
            raise CustomUnitError(f"unit {name}: it has no parameters, so there is nothing to train")
        probe = torch.ones(2, self.in_features, dtype=next(self.template.parameters()).dtype)
        try:
            out = self.template(probe)
        except Exception as error:
            raise CustomUnitError(f"unit {name} raised {type(error).__name__} in its forward: {error}") from error
        if not isinstance(out, Tensor) or out.shape != (2, self.out_features):
            got = type(out).__name__ if not isinstance(out, Tensor) else f"a tensor of shape {tuple(out.shape)}"
            raise CustomUnitError(f"unit {name}: its forward must return one tensor of (batch, out_features) = "
                                  f"(2, {self.out_features}) for 2 inputs, got {got}")

    def init_member(self, **parameters: Tensor) -> None:
        # A fresh unit draws from the global generator as the standalone unit does.
        fresh = self.base(self.in_features, self.out_features, **self.unit_options)
        for name, p in fresh.named_parameters():
            parameters[name.replace(".", "__")].copy_(p)

    def _params(self) -> dict[str, Tensor]:
        return {name: getattr(self, name.replace(".", "__")) for name in self._names}

    def _per_member(self, method: str, *args, batched=None):
        """``template.method(*args)`` for every member: under vmap, or one member at a time; what it
        raises is said to come from the unit (:class:`CustomUnitError`)."""
        try:
            return self._run(method, *args, batched=batched)
        except CustomUnitError:
            raise
        except Exception as error:
            raise CustomUnitError(f"unit {import_path(self.base)} raised {type(error).__name__} in its {method}: "
                                  f"{str(error).splitlines()[0] if str(error) else ''}") from error

    def _run(self, method: str, *args, batched=None):
        call = self._calls.setdefault(method, _Call(self.template, method))
        params = {f"module.{k}": v for k, v in self._params().items()}
        if self.members is None:
            return functional_call(call, params, args)
        if self.path == "vmap":
            dims = tuple(0 if b else None for b in (batched or [False] * len(args)))
            return vmap(lambda p, *a: functional_call(call, p, a), in_dims=(0, *dims))(params, *args)
        out = []
        for m in range(self.members):
            member_args = [a[m] if b else a for a, b in zip(args, batched or [False] * len(args))]
            out.append(functional_call(call, {k: v[m] for k, v in params.items()}, tuple(member_args)))
        return torch.stack(out)

    def _choose_path(self) -> str:
        """vmap if the unit runs under it (a trial forward pass), else one member after another."""
        trial = torch.ones(self.members, 2, self.in_features, dtype=next(self.parameters()).dtype)
        self.path = "vmap"
        try:
            self._run("forward", trial, batched=[True])
        except Exception as error:  # whatever vmap refuses: in-place ops, .item(), data-dependent control flow
            reason = f"{type(error).__name__}: {textwrap.shorten(str(error).splitlines()[0], 120, placeholder=' ...')}"
            # the same words for every share of a population, so that a run split between processes says them once
            self._announce("loop", "one member after another (a forward pass per member and step, about a fifth "
                                   "of the speed of a unit written for populations; torch.func.vmap cannot run it: "
                                   f"{reason})")
            return "loop"
        self._announce("vmap", "torch.func.vmap over its members (one batched pass per step, about half the speed "
                               "of a unit written for populations)")
        return "vmap"

    def _announce(self, path: str, how: str) -> None:
        key = (import_path(self.base), path)
        if key not in _ANNOUNCED:
            _ANNOUNCED.add(key)
            warn(f"{self.base.__name__} does not take members=; a population trains it through {how}")

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        if self.members is None:
            return self._per_member("forward", x)
        return self._per_member("forward", x, batched=[x.dim() == 3])

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        if not hasattr(self.base, "regularization"):
            return self.new_zeros_per_member()
        value = self._per_member("regularization", step)
        return torch.as_tensor(value, dtype=next(self.parameters()).dtype)

    @torch.no_grad()
    def project_(self) -> None:
        if not hasattr(self.base, "project_"):
            return
        template, params = self.template, self._params()
        own = dict(template.named_parameters())
        for m in [None] if self.members is None else range(self.members):
            for name, p in params.items():
                own[name].copy_(p if m is None else p[m])
            template.project_()
            for name, p in params.items():
                (p if m is None else p[m]).copy_(own[name])

    def sparsity_error(self) -> Tensor:
        if not hasattr(self.base, "sparsity_error"):
            return super().sparsity_error()  # the stacked `weight` or `W`, else nan
        with torch.no_grad():
            return torch.as_tensor(self._per_member("sparsity_error"))

    def options(self) -> dict:
        return {"unit": import_path(self.base), **self.unit_options}


def unknown_unit(name: str, known) -> UnknownNameError:
    return UnknownNameError(f"unknown unit {name!r}; known units: {', '.join(known)}; or MODULE:CLASS for a unit of "
                            f"your own, or the name of an installed unit in the '{ENTRY_POINT_GROUP}' entry-point group")


def changed_units(config: dict) -> list[str]:
    """The units from outside nalm of a stored run's config (``custom_units``) whose source is
    now another version than the run was trained with: its weights would be loaded into other code."""
    return [name for name, record in config.get("custom_units", {}).items()
            if source_record(_class_of(name))["source_sha256"] != record.get("source_sha256")]


def _class_of(name: str) -> type:
    cls = find_unit(name)
    if cls is None:
        raise UnknownNameError(f"unit {name!r} of a stored run is neither importable nor installed")
    return cls
