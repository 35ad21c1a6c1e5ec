"""SIGTERM handled like Ctrl-C: the run unwinds, removing its temporary files, then exits.

Python turns SIGINT (Ctrl-C) into :class:`KeyboardInterrupt`, which unwinds the stack so that
every ``finally`` and ``except BaseException`` runs: the staged products of
:func:`hstramp.datamodels.atomic.staged_outputs` are removed and a commit in progress is
rolled back. SIGTERM (``kill``, a batch system ending a job, ``docker stop``) would by default
end the process at once and leave the temporaries behind. :func:`terminate_cleanly` makes
SIGTERM raise :class:`Terminated` instead: a :class:`SystemExit` with the status a shell
expects of a process ended by that signal (128 + 15 = 143), so the run unwinds like Ctrl-C
and the process still ends, unless a caller catches it on purpose.

The handlers are installed only around hstramp's own work (a pipeline's ``run``, a
subcommand) and the previous ones are put back afterwards; only the default dispositions are
replaced (a handler the caller installed, or an ignored signal, is left alone), and nothing
is installed from a thread other than the main one (Python allows signal handlers only there;
a dask worker runs tasks in threads). While the run unwinds, a repeated SIGTERM or SIGINT is
ignored, so that a second Ctrl-C cannot cut the clean-up short.

The end of a process hstramp owns (the ``hstramp`` program, a batch worker) is quick too:
:func:`freeze_for_exit` spares it the garbage collections CPython's finalization runs over
every object the imports made.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading

__all__ = ["Terminated", "exit_status_of", "freeze_for_exit", "signals_deferred",
           "terminate_cleanly"]

log = logging.getLogger(__name__)


def exit_status_of(signum):
    """The status a shell reports for a process ended by signal ``signum``: 128 + signum
    (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(signum)


class Terminated(SystemExit):
    """Raised in the main thread when SIGTERM arrives during hstramp's work.

    A :class:`SystemExit` (``except Exception`` does not catch it): uncaught, the process
    exits with :attr:`code` 143 after the clean-up, as a shell expects of a process ended by
    SIGTERM.

    Attributes
    ----------
    signum : int
        The signal received.
    code : int
        ``128 + signum``.
    """

    def __init__(self, signum=signal.SIGTERM):
        super().__init__(exit_status_of(signum))
        self.signum = int(signum)

    def __str__(self):
        return f"terminated by {signal.Signals(self.signum).name}"


class _Handlers:
    """The handlers :func:`terminate_cleanly` installs; ``unwinding`` is set by the first
    signal, after which repeated signals are ignored until the handlers are removed."""

    def __init__(self):
        self.unwinding = False

    def __call__(self, signum, frame):
        if self.unwinding:
            log.warning("%s received again while cleaning up; ignored",
                        signal.Signals(signum).name)
            return
        self.unwinding = True
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)


def _replaceable(signum):
    """True if ``signum`` still has Python's default disposition (so ours may replace it)."""
    current = signal.getsignal(signum)
    if signum == signal.SIGINT:
        return current is signal.default_int_handler
    return current == signal.SIG_DFL


@contextlib.contextmanager
def terminate_cleanly():
    """Within the block, SIGTERM raises :class:`Terminated` and SIGINT ``KeyboardInterrupt``
    once; later ones are ignored while the run unwinds. The previous handlers are restored
    on leaving the block.

    Nested blocks and blocks entered outside the main thread change nothing; a signal whose
    handler is not Python's default (one the caller installed, or ``SIG_IGN``) is left as it
    is. If the block ends by :class:`Terminated`, a warning says so.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if any(isinstance(signal.getsignal(s), _Handlers) for s in (signal.SIGINT, signal.SIGTERM)):
        yield  # an outer block handles them
        return
    handler = _Handlers()
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if _replaceable(signum):
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    except Terminated as exc:
        log.warning("%s: stopped; temporary files removed, no partial product left", exc)
        raise
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def signals_deferred():
    """Hold SIGINT and SIGTERM back for the block (a few renames that must not be cut in
    two); a signal that arrives meanwhile is raised again on leaving it, to the handler
    that was in place before.

    The handlers are swapped rather than the signals masked: a process-directed signal goes
    to any thread that does not block it, and libraries start threads. Outside the main
    thread the block runs unprotected (Python runs signal handlers only in the main thread,
    so a signal then interrupts the main thread, not this block).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def hold(signum, frame):
        received.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(signum) is not None}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


def freeze_for_exit():
    """Freeze every object alive out of garbage collection (``gc.freeze``), for a process that
    ends next.

    CPython's finalization collects the garbage of the objects left several times over as it
    clears the modules; with stpipe, astropy and asdf's configuration loaded (about 150,000
    objects), that is about 0.3 s of a process's end, against 0.03 s with the objects frozen
    (measured on the benchmark machine, docs/performance.md). The exit handlers still run,
    the modules are still cleared and every object whose last reference goes is still
    finalized; only unreachable cycles left at the very end stay uncollected, as the
    operating system reclaims the memory anyway. hstramp's products and logs are closed
    before this point. Call it only where the process ends next: the ``hstramp`` program
    (:func:`hstramp.cli.command`) and a batch worker that has been told to stop, never in
    library code, since it would change the collections of a caller's process.
    """
    gc.freeze()
