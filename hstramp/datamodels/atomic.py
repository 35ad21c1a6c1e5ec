"""Atomic product writing: temporary files in the destination directory, then a commit."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from hstramp.datamodels.products import (
    check_product_path,
    clean_leftovers,
    commit_products,
    temporary_path,
)
from hstramp.errors import OutputFileError

__all__ = ["atomic_output", "staged_outputs"]


@contextlib.contextmanager
def staged_outputs(paths, overwrite=False):
    """Yield a temporary path for each of ``paths``; commit them all only on success.

    The temporaries (``.<name>.hstramp-<pid>.tmp``, in each product's directory) are moved
    to their final names by :func:`hstramp.datamodels.products.commit_products`: all or
    nothing, old products renamed aside and put back on a failure, no clobbering without
    ``overwrite`` (an atomic link). A crash (exception, SIGINT, SIGTERM as
    :func:`hstramp.signals.terminate_cleanly` turns it into an exception) inside the block or
    before the commit removes the temporaries; during the commit the signals wait until the
    set is whole; what a SIGKILL leaves is removed or rolled back by the next run
    (:func:`~hstramp.datamodels.products.clean_leftovers`). Products get the
    permissions of a file opened normally (0666 less the umask).

    Parameters
    ----------
    paths : list of str or Path
        Final product paths.
    overwrite : bool
        If False, an existing path is an error (raised before anything is written).

    Yields
    ------
    list of Path
        The temporary paths to write to, in the order of ``paths``.

    Raises
    ------
    OutputFileError
        A path that cannot be written (see :func:`check_product_path`), or the write fails
        (an ``OSError`` in the block, e.g. a full disk; the original error is chained).
    """
    paths = [Path(path) for path in paths]
    for path in paths:
        check_product_path(path, overwrite)
        clean_leftovers(path.parent)
    staged = [(temporary_path(path), path) for path in paths]
    try:
        yield [tmp for tmp, _path in staged]
        mode = _UMASKED_MODE & ~_current_umask()
        for tmp, _path in staged:
            os.chmod(tmp, mode)
    except OSError as exc:
        _remove(staged)
        if isinstance(exc, OutputFileError):
            raise
        raise OutputFileError(f"writing {exc.filename or paths[0]} failed: "
                              f"{exc.strerror or exc}; nothing was written") from exc
    except BaseException:
        _remove(staged)
        raise
    try:
        commit_products(staged, overwrite)
    except BaseException:  # a signal just before the commit held signals back
        _remove(staged)
        raise


def _remove(staged):
    for tmp, _path in staged:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path, overwrite=False):
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success
    (:func:`staged_outputs` of one file)."""
    with staged_outputs([path], overwrite) as (tmp,):
        yield tmp


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
