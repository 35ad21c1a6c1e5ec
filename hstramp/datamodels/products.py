"""Where products go and how a set of them is written: one path for every pipeline and subcommand.

* :func:`safe_rootname` turns a ROOTNAME (or a file stem) into a name, never a path;
  :func:`product_path` puts ``<rootname>_<suffix><ext>`` inside the output directory.
* :func:`check_not_input` compares a product path with the input by resolved path and by inode
  (a symlink or a hard link to the input is the input).
* :func:`commit_products` writes a product set all or nothing: every file is staged under a
  temporary name in its directory (``.<name>.hstramp-<pid>.tmp``), then the set is committed:
  existing products are renamed aside (``.<name>.hstramp-<pid>.old``), each new file is linked
  to its final name (``os.link`` fails if the name exists: no check-then-rename window), and
  only then are the old files deleted. A failure while committing puts the old set back.
  SIGINT and SIGTERM are held back during the commit (a few renames), so a signal finds the
  set whole, old or new.
* :func:`clean_leftovers` removes what a killed run left (temporaries of a process that no
  longer exists) and rolls back a commit that a SIGKILL cut in two: the new products it had
  linked are removed and the old ones renamed back.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from pathlib import Path

from hstramp.errors import InputFileError, OutputFileError
from hstramp.signals import signals_deferred

__all__ = ["TEMPORARY", "check_not_input", "check_product_path", "clean_leftovers",
           "commit_products", "product_path", "safe_rootname", "temporary_path"]

log = logging.getLogger(__name__)

#: name of a temporary or set-aside file: ``.<name>.hstramp-<pid>.tmp`` / ``.old``
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.hstramp-(?P<pid>\d+)\.(?P<kind>tmp|old)$")

#: what a rootname may hold: letters, digits, ``_``, ``-``, ``.`` (not leading)
_ROOTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def safe_rootname(rootname, source="the input"):
    """The rootname as a file-name part, lower case; never a path.

    Parameters
    ----------
    rootname : str
        ROOTNAME from a header, or a file stem.
    source : str
        The file it came from, for the message.

    Raises
    ------
    InputFileError
        If the rootname is empty or holds anything but letters, digits, ``_ - .`` (a ``/``,
        ``..``, a leading dot, a NUL, spaces), naming the file and the value.
    """
    text = str(rootname).strip()
    if not _ROOTNAME.match(text) or ".." in text:
        raise InputFileError(
            f"{source}: ROOTNAME {text!r} is not a plain name (letters, digits, '_', '-', '.'; "
            "no path); products are named from it, so fix the header")
    return text.lower()


def product_path(directory, rootname, suffix, ext=".fits", source="the input"):
    """``<directory>/<rootname>_<suffix><ext>``, always inside ``directory``.

    Parameters
    ----------
    directory : str or Path
    rootname : str
        Checked with :func:`safe_rootname`.
    suffix, ext : str
        Chosen by hstramp (``flt``, ``.fits``; ``stats``, ``.png`` ...).
    source : str
        The input, for messages.

    Returns
    -------
    Path
    """
    name = f"{safe_rootname(rootname, source)}_{suffix}{ext}"
    path = Path(directory) / name
    if path.parent != Path(directory) or path.name != name:
        raise OutputFileError(f"product name {name!r} is not a plain file name")
    return path


def _identity(path):
    """(device, inode) of the file ``path`` leads to, or None if there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def check_not_input(path, inputs):
    """Refuse a product path that is one of the inputs (same resolved path or same inode).

    Raises
    ------
    OutputFileError
    """
    path = Path(path)
    identity = _identity(path)
    for source in inputs:
        source = Path(source)
        # realpath, not Path.resolve: a symlink loop at the product path raises no
        # RuntimeError here (check_product_path refuses it with a clear message)
        if os.path.realpath(path) == os.path.realpath(source) or (
                identity is not None and identity == _identity(source)):
            raise OutputFileError(
                f"{path} is the input file; products never replace their input (compared "
                f"by path and by inode with {source}): choose another output_dir")


def check_product_path(path, overwrite):
    """Refuse, before any work, a product path that cannot be written.

    Raises
    ------
    OutputFileError
        The directory is missing, not a directory or not writable; the path is a symlink
        (a loop included), a directory, or an existing file while ``overwrite`` is False.
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise OutputFileError(f"output directory {directory} {what} (for {path.name})")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputFileError(f"output directory {directory} is not writable (for {path.name})")
    if path.is_symlink():
        raise OutputFileError(f"output path {path} is a symbolic link; hstramp never writes "
                              "through one: remove it or choose another output_dir")
    if path.is_dir():
        raise OutputFileError(f"output path {path} is a directory")
    if path.exists() and not overwrite:
        raise OutputFileError(f"output file {path} exists already; remove it or ask for "
                              "overwrite (--overwrite=true / overwrite=True)")


def temporary_path(path, kind="tmp"):
    """``.<name>.hstramp-<pid>.<kind>`` next to ``path``."""
    path = Path(path)
    return path.parent / f".{path.name}.hstramp-{os.getpid()}.{kind}"


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(directory):
    """Undo what killed runs left in ``directory``: their temporaries and set-aside products.

    Only files of the :data:`TEMPORARY` pattern whose process no longer exists are touched,
    one dead run at a time. A run killed (SIGKILL) during its commit had linked some new
    products to their names (a ``.tmp`` and its product are then one file) and not yet
    others: that half-committed set is rolled back, the new products unlinked and the old
    ones (``.old``) renamed back, so the previous set is whole again. A run killed after its
    last link had committed its set: its leftovers are only deleted. A ``.old`` whose product
    is missing is always renamed back.

    Returns
    -------
    list of Path
        The leftover files removed or restored.
    """
    directory = Path(directory)
    runs = {}
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        match = TEMPORARY.match(entry.name)
        if match and entry.is_file(follow_symlinks=False):
            runs.setdefault(int(match["pid"]), []).append((match, Path(entry.path)))
    touched = []
    for pid, leftovers in runs.items():
        if not _pid_alive(pid):
            touched += _undo_dead_run(directory, leftovers)
    return touched


def _linked(temporary, product):
    """True if ``product`` is the same file as ``temporary`` (linked by the commit)."""
    try:
        return os.path.samestat(os.lstat(temporary), os.lstat(product))
    except OSError:
        return False


def _undo_dead_run(directory, leftovers):
    """Roll back or finish tidying one dead run's leftovers (see :func:`clean_leftovers`)."""
    staged = [(path, directory / m["name"]) for m, path in leftovers if m["kind"] == "tmp"]
    set_aside = [(path, directory / m["name"]) for m, path in leftovers if m["kind"] == "old"]
    committed = [final for tmp, final in staged if _linked(tmp, final)]
    half_done = bool(committed) and len(committed) < len(staged)
    touched = []
    try:
        if half_done:
            for final in committed:
                final.unlink()
                log.warning("removed %s, half of a product set a killed run was committing",
                            final)
        for old, product in set_aside:
            if not os.path.lexists(product):
                os.rename(old, product)
                log.warning("restored %s, set aside by a run that was killed", product)
            else:
                old.unlink()
            touched.append(old)
        for tmp, _final in staged:
            tmp.unlink(missing_ok=True)
            log.info("removed %s, left by a run that was killed", tmp)
            touched.append(tmp)
    except OSError as exc:
        log.warning("cannot clean up what a killed run left in %s: %s", directory, exc)
    return touched


def _link_no_clobber(source, target):
    """Give ``source`` the name ``target``, failing if ``target`` exists (atomic)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # no hard links on this file system: a rename, checked just before
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from exc
        os.rename(source, target)


def commit_products(staged, overwrite):
    """Move a staged product set to its final names, all or nothing.

    Parameters
    ----------
    staged : list of (Path, Path)
        ``(temporary, final)`` of every product, each temporary fully written and in the
        final's directory.
    overwrite : bool
        Replace existing products; without it an existing product (even one made by another
        run after the checks) stops the commit and nothing changes.

    Raises
    ------
    OutputFileError
        A product exists (no ``overwrite``) or a rename fails; the message says what was put
        back: the old products are whole and the new ones were not kept.
    """
    with signals_deferred():  # a signal waits until the set is whole, old or new
        set_aside, committed = [], []
        try:
            for tmp, final in staged:
                if overwrite and os.path.lexists(final):
                    old = temporary_path(final, "old")
                    os.rename(final, old)
                    set_aside.append((old, final))
                _link_no_clobber(tmp, final)
                committed.append(final)
        except OSError as exc:
            for final in committed:
                Path(final).unlink(missing_ok=True)
            for old, final in set_aside:
                os.replace(old, final)
            for tmp, _final in staged:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, FileExistsError):
                raise OutputFileError(
                    f"output file {exc.filename} appeared while this run was writing "
                    "(another run?); nothing of this set was kept, existing files are "
                    "untouched") from exc
            raise OutputFileError(
                f"writing {exc.filename or 'the products'} failed: {exc.strerror or exc}; "
                "nothing of this set was kept, the previous products are whole") from exc
        except BaseException:
            for final in committed:
                Path(final).unlink(missing_ok=True)
            for old, final in set_aside:
                os.replace(old, final)
            raise
        finally:
            for tmp, _final in staged:
                Path(tmp).unlink(missing_ok=True)
        for old, _final in set_aside:
            Path(old).unlink(missing_ok=True)
