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
    product is ever left behind and an existing product is untouched. The product gets the
    permissions of a file opened normally (0666 less the umask), not mkstemp's 0600.

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
        If ``path`` exists and ``overwrite`` is False, its directory is missing or not
        writable, or the write fails (an ``OSError`` in the block, e.g. a full disk; the
        original error is chained).
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
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputFileError(f"cannot create a file in {directory} (for {path.name}): "
                              f"{exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, _UMASKED_MODE & ~_current_umask())  # mkstemp made it 0600
        os.replace(tmp, path)
    except OutputFileError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputFileError(f"writing {path} failed: {exc.strerror or exc}; nothing was "
                              "written") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: mode of a new file before the umask, as ``open(path, "w")`` creates it
_UMASKED_MODE = 0o666


def _current_umask():
    """The process umask: from /proc on Linux (no change to the process state), else by
    setting it and putting it back at once."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
