"""Argument types every subcommand shares (both instruments): bounded integers, finite
numbers, directories and files to write. Each refuses a bad value while the command line is
parsed, so the refusal is one line naming the option (``hstramp demo: error: argument
--size: ...``) and exit status 2, before any work.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

__all__ = ["finite_float", "integer_in", "output_directory", "output_file"]


def integer_in(low, high=None):
    """An argparse type: an integer from ``low`` to ``high`` (None: no upper bound)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"{value} is not an integer {bounds}")
        return value
    parse.__name__ = "integer"
    return parse


def finite_float(minimum=None, *, strictly=False):
    """An argparse type: a finite number (above ``minimum``, or at least it)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        low_ok = minimum is None or (value > minimum if strictly else value >= minimum)
        if not (math.isfinite(value) and low_ok):
            bound = "" if minimum is None else f" {'>' if strictly else '>='} {minimum:g}"
            raise argparse.ArgumentTypeError(f"{text} is not a finite number{bound}")
        return value
    parse.__name__ = "number"
    return parse


def _check_directory(path, shown):
    """Refuse a ``path`` that leads nowhere, is not a directory or cannot be written."""
    if path.is_symlink() and not path.exists():
        raise argparse.ArgumentTypeError(f"{shown} is a symbolic link that leads nowhere "
                                         "(or a loop)")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{shown} is a file, not a directory")
    if not os.access(path, os.W_OK):
        raise argparse.ArgumentTypeError(f"directory {shown} is not writable")


def _writable_ancestor(path):
    """The nearest existing ancestor of ``path``, checked by :func:`_check_directory`."""
    for parent in path.absolute().parents:
        if parent.exists() or parent.is_symlink():
            _check_directory(parent, parent)
            return parent
    return None


def output_directory(text):
    """An argparse type: a directory to write in, existing or to be created.

    Refused before any work: a path naming a file, a dangling or looping symbolic link, a
    path below a file, or one that cannot be written.
    """
    path = Path(text)
    if path.exists() or path.is_symlink():
        _check_directory(path, text)
    else:
        _writable_ancestor(path)
    return path


def output_file(text):
    """An argparse type: a file to write (a PNG, an HTML page) in an existing directory.

    Refused: a directory, a symbolic link (hstramp never writes through one), a directory
    that does not exist or cannot be written.
    """
    path = Path(text)
    if path.is_symlink():
        raise argparse.ArgumentTypeError(f"{text} is a symbolic link; hstramp never writes "
                                         "through one")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory")
    if not path.absolute().parent.is_dir():
        _writable_ancestor(path)
        raise argparse.ArgumentTypeError(f"directory {path.parent} does not exist")
    _writable_ancestor(path)
    return path
