"""Errors that mean the user asked for something that cannot be done, or that something
outside nalm failed.

The library raises ``ValueError`` (or a subclass) for bad input: a name that is not registered,
a value out of range, a file that is not a results store. ``nalm``'s command line prints those
as one line and exits with code 2. A :class:`Fault` (a full disk, a worker process killed) is
printed as one line with exit code 1; any other exception is a bug and shows its traceback.
"""


class UnknownNameError(KeyError, ValueError):
    """An unknown name (a unit, an experiment, a stored run) was looked up; the message says
    which names there are. A ``KeyError``, as a failed lookup, and a ``ValueError``, as bad input."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Fault(RuntimeError):
    """Something outside nalm failed while it worked (the disk, a worker process); the message
    says what was kept. Stored runs and saved checkpoints survive every fault."""
