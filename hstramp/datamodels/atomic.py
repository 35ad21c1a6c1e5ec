"""Atomic product writing: a temporary file in the destination directory, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from hstramp.errors import OutputFileError

__all__ = ["atomic_output"]


@contextlib.contextmanager
def atomic_output(path, overwrite=False):
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    A crash (exception, SIGINT) inside the block removes the temporary file, so no half
    product is ever left behind and an existing product is untouched.

    Parameters
    ----------
    path : str or Path
        Final product path.
    overwrite : bool
        If False, an existing ``path`` is an error (raised before anything is written).

    Yields
    ------
    Path
        The temporary path to write to.

    Raises
    ------
    OutputFileError
        If ``path`` exists and ``overwrite`` is False, or its directory is missing or not
        writable.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if path.exists() and not overwrite:
        raise OutputFileError(
            f"output file {path} exists already; remove it or ask for overwrite "
            "(--overwrite / overwrite=True)"
        )
    if not directory.is_dir():
        raise OutputFileError(f"output directory {directory} does not exist (for {path.name})")
    if not os.access(directory, os.W_OK):
        raise OutputFileError(f"output directory {directory} is not writable (for {path.name})")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
