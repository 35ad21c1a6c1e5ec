"""Local worker processes that know which task each one runs: a dead worker costs one task.

``concurrent.futures.ProcessPoolExecutor`` marks every pending task failed when one worker
dies (``BrokenProcessPool``) and cannot say which task killed it. :func:`run_on_workers`
keeps its own workers, one task at a time each, so that:

* a worker that dies (``os._exit``, SIGKILL, the kernel's out-of-memory killer, a crash in C)
  fails only the task it was running, reported with how the process ended
  (:class:`WorkerDied`); the worker is replaced and the other tasks go on. The task is not
  retried: the attribution is exact, so no other task was lost, and a poison task cannot
  kill worker after worker;
* when the caller stops (an exception, Ctrl-C, SIGTERM raising
  :class:`~hstramp.signals.Terminated`, or simply closing the generator), the busy workers
  get SIGTERM, which a hstramp pipeline turns into an orderly unwinding that removes its
  staged products; a worker still alive after :data:`STOP_GRACE` seconds is killed. Idle
  workers are told to exit. No worker outlives the call;
* a worker whose parent disappears without a word (the parent was SIGKILLed) sends itself
  SIGTERM: each worker watches a pipe whose only writing end the parent holds, and that
  pipe reads end-of-file when the parent is gone;
* Ctrl-C in a terminal reaches the whole process group: workers ignore SIGINT and leave the
  decision to the parent.

Workers are started with ``spawn`` (no forked threads or locks), as dask's are.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque

__all__ = ["STOP_GRACE", "WorkerDied", "describe_exit", "run_on_workers"]

log = logging.getLogger(__name__)

#: seconds a worker gets to unwind after SIGTERM before it is killed
STOP_GRACE = 10.0


class WorkerDied(RuntimeError):
    """A worker process ended while it ran a task (the task's result is never known)."""


def describe_exit(exitcode):
    """How a process ended, from ``multiprocessing``'s exit code (negative: a signal)."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name}"
    return f"exited with status {exitcode}"


def _watch_parent(lifeline):
    """Wait for end-of-file on ``lifeline`` (the parent is gone), then SIGTERM this process."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def _worker_main(connection, lifeline):
    """A worker: run ``(index, function, kwargs)`` messages from ``connection``, send back
    ``(index, result)``; end on ``None`` or end-of-file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(lifeline,), daemon=True).start()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, function, kwargs = message
        connection.send((index, function(**kwargs)))


class _Worker:
    """One worker process, its end of the task pipe, and the task it runs (None: idle)."""

    def __init__(self, context, lifeline):
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(theirs, lifeline),
                                       daemon=True, name="hstramp-worker")
        self.process.start()
        theirs.close()  # the worker's end lives only in the worker: its death reads as EOF
        self.connection = ours
        self.task = None
        self.signalled = False

    def send(self, index, function, kwargs):
        """Give the worker task ``index``; False if the worker is gone."""
        try:
            self.connection.send((index, function, kwargs))
        except OSError:
            return False
        self.task = index
        return True

    def terminate(self):
        """Send SIGTERM to a busy worker (a hstramp pipeline unwinds, removing its temporaries;
        an idle worker would simply end)."""
        if self.task is not None and self.process.is_alive() and not self.signalled:
            self.process.terminate()
            self.signalled = True

    def stop(self, deadline):
        """End the worker: told to exit if idle, SIGTERM if busy (see :meth:`terminate`; sent
        once), killed if still alive at ``deadline`` (a :func:`time.monotonic` time)."""
        if self.process.is_alive() and self.task is None:
            try:
                self.connection.send(None)
            except OSError:
                pass
        elif self.process.exitcode is None and not self.signalled:
            self.terminate()
        self.process.join(max(0.0, deadline - time.monotonic()))
        if self.process.is_alive():
            log.warning("worker %s did not stop within %.0f s; killed", self.process.pid,
                        STOP_GRACE)
            self.process.kill()
            self.process.join()
        self.connection.close()


def run_on_workers(function, tasks, workers, lost):
    """Run ``function(**task)`` for every task on ``workers`` local processes.

    Parameters
    ----------
    function : callable
        A module-level function (workers import it by name); it should return its failures
        rather than raise them.
    tasks : list of dict
        Keyword arguments of each call.
    workers : int
        Worker processes (at most one task each at a time).
    lost : callable
        ``lost(task, error)`` -> the result to report for a task whose worker died, given a
        :class:`WorkerDied` naming the process and how it ended.

    Yields
    ------
    tuple
        ``(index, result)`` of each task, as they finish.
    """
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    lifeline, parent_alive = context.Pipe(duplex=False)
    pending, idle, busy = deque(range(len(tasks))), [], []
    try:
        while pending or busy:
            while pending and len(busy) < workers:
                worker = idle.pop() if idle else _Worker(context, lifeline)
                if worker.send(pending[0], function, tasks[pending[0]]):
                    pending.popleft()
                    busy.append(worker)
                else:  # died while idle: no task lost
                    worker.stop(time.monotonic())
            ready = set(wait([w.connection for w in busy] + [w.process.sentinel for w in busy]))
            for worker in [w for w in busy if {w.connection, w.process.sentinel} & ready]:
                busy.remove(worker)
                index = worker.task
                try:
                    index, result = worker.connection.recv()
                except (EOFError, OSError):
                    worker.process.join(STOP_GRACE)
                    error = WorkerDied(f"worker process {worker.process.pid} "
                                       f"{describe_exit(worker.process.exitcode)} while "
                                       "running this task; the other tasks went on")
                    log.error("%s (task %d)", error, index)
                    worker.stop(time.monotonic() + STOP_GRACE)
                    yield index, lost(tasks[index], error)
                    continue
                worker.task = None
                idle.append(worker)
                yield index, result
    finally:
        deadline = time.monotonic() + STOP_GRACE
        for worker in busy:  # SIGTERM to every busy worker first, then wait for them all
            worker.terminate()
        for worker in busy + idle:
            worker.stop(deadline)
        parent_alive.close()
        lifeline.close()
