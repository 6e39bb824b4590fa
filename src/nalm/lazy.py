"""Names whose objects are imported when first used, so that ``import nalm`` and the command
line's parser import no PyTorch, SymPy or numba (``nalm --help`` answers in a tenth of a second).

A package exports its names with :func:`lazy_exports` (PEP 562's module ``__getattr__``): ``import
nalm`` imports nothing heavy, and ``nalm.NAU`` imports :mod:`nalm.units.nau_nmu` on first use.
A registry of names (units, experiments, activations) is a :class:`LazyTable`: its names are
known at once, each object is imported when it is looked up.

>>> from nalm.lazy import LazyTable
>>> table = LazyTable({"sqrt": "math:sqrt", "join": "os.path:join"})
>>> list(table), "sqrt" in table, table.name_of("join")
(['sqrt', 'join'], True, 'join')
>>> table["sqrt"](9.0)
3.0
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Callable, Iterator


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[Callable, Callable, list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` (its ``__name__``), which
    exports the names of ``exports`` (a module, relative to the package, e.g. ``".units"`` or
    ``"..philox"``, mapped to the names taken from it). A name is imported from its module on
    first use, then kept in the package.

    An exported name may also be a submodule's (``nalm.explain``, the function, and the package
    :mod:`nalm.explain`): importing a submodule sets the package's attribute of its name to the
    module, so the package refuses that for exported names, which stay what they were when
    imported eagerly (``from .explain import explain`` rebinds the name after the import).
    """
    where = {name: module for module, names in exports.items() for name in names}
    package_module = sys.modules[package]

    class Package(type(package_module)):
        def __setattr__(self, name: str, value: Any) -> None:
            if name in where and isinstance(value, ModuleType):
                return  # the import system setting a submodule of an exported name's name
            super().__setattr__(name, value)

    package_module.__class__ = Package

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__, list(where)


class LazyTable(Mapping):
    """A read-only mapping of names to objects given by import paths (``"MODULE:ATTRIBUTE"``,
    ``MODULE`` relative to ``package`` where it starts with a dot): its names, their order and
    their paths are known without importing anything; an object is imported when it is looked up."""

    def __init__(self, paths: dict[str, str], package: str | None = None):
        self._paths = dict(paths)
        self._package = package
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            module, _, attribute = self._paths[name].partition(":")  # KeyError for an unknown name, as a dict
            self._loaded[name] = getattr(importlib.import_module(module, self._package), attribute)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def name_of(self, name: str) -> str:
        """The name the object of ``name`` has in its module (a unit's class name), without importing it."""
        return self._paths[name].partition(":")[2]

    def __repr__(self) -> str:
        return f"LazyTable({self._paths!r})"
