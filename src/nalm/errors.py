"""Errors that mean the user asked for something that cannot be done, or that something
outside nalm failed.

The library raises ``ValueError`` (or a subclass) for bad input: a name that is not registered,
a value out of range, a file that is not a results store. ``nalm``'s command line prints those
as one line and exits with code 2. A :class:`Fault` (a full disk, a worker process killed) is
printed as one line with exit code 1; any other exception is a bug and shows its traceback.

What nalm has to say that is not an error is a :class:`NalmWarning` (:func:`warn`): the command
line prints each as one ``nalm: warning:`` line, wherever it was raised (a worker process too).
"""
from __future__ import annotations

import os
import sys
import warnings


class UnknownNameError(KeyError, ValueError):
    """An unknown name (a unit, an experiment, a stored run) was looked up; the message says
    which names there are. A ``KeyError``, as a failed lookup, and a ``ValueError``, as bad input."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Fault(RuntimeError):
    """Something outside nalm failed while it worked (the disk, a worker process); the message
    says what was kept. Stored runs and saved checkpoints survive every fault."""


class NalmWarning(UserWarning):
    """Something nalm tells while it works (a custom unit's slower path, a damaged run left out)."""


PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = NalmWarning) -> None:
    """Warn as from the first caller outside nalm, whose line Python shows with the message (a
    notebook cell's, a script's): nalm's own line would tell the reader nothing."""
    frame, level = sys._getframe(1), 2  # stacklevel 2: warn's caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
