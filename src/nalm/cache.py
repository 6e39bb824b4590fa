"""What nalm keeps in the user's cache, never in a results store: what it measured or computed
that this code on this machine would compute again, keyed so that it is never read for other
code. Only the standard library is imported here.

Two kinds of entries: the dry run's calibrations (:mod:`nalm.runner.calibration`) and the
protocol cards ``nalm show`` prints (:func:`cached_text`). A file that cannot be read is ignored
and replaced; one that cannot be written leaves the result to this command.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """``$NALM_CACHE_DIR``, else ``$XDG_CACHE_HOME/nalm``, else ``~/.cache/nalm``."""
    if os.environ.get("NALM_CACHE_DIR"):
        return Path(os.environ["NALM_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nalm"


def source_digest() -> str:
    """The SHA-256 of nalm's Python files (their paths and contents): about 10 ms."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key_of(what: dict) -> str:
    """A file name's key for ``what`` (JSON), nalm's source and the installed PyTorch's version."""
    from importlib import metadata

    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    text = json.dumps({"what": what, "source": source_digest(), "torch": torch}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path``, whole or not at all (another command may read it meanwhile);
    nothing where the cache cannot be written."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as file:
            temporary = file.name
            file.write(text)
        os.replace(temporary, path)
    except OSError:
        pass
    finally:  # a full disk, or a signal before the rename: no half-written file is left in the cache
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


def cached_text(kind: str, what: dict | None, compute) -> str:
    """The text ``compute()`` gives for ``what``, from the cache where this code computed it
    before. ``what=None``: the text depends on more than nalm's code and ``what`` (a unit of
    one's own), so it is computed and not kept."""
    if what is None:
        return compute()
    path = cache_dir() / kind / f"{key_of(what)}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    text = compute()
    write_atomically(path, text)
    return text
