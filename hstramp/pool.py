"""Local worker processes that know which task each one runs: a dead worker costs one task.

``concurrent.futures.ProcessPoolExecutor`` marks every pending task failed when one worker
dies (``BrokenProcessPool``) and cannot say which task killed it. :class:`WorkerPool` (and
:func:`run_on_workers`, which starts one for a list of tasks) keeps its own workers, one
task at a time each, so that:

* the workers can be started before the tasks are known (:class:`WorkerPool` starts them
  when it is made, :meth:`WorkerPool.run` gives them their tasks), and each runs a
  ``warm_up`` function first, while it waits (a batch imports the pipeline and makes its
  first datamodel there, while the parent plans); a warm-up that raises is ignored (the
  task then meets the same failure and reports it). A worker still warming up when the
  pool is closed gets SIGTERM (it holds no task, so it has nothing to unwind);
* a worker that dies (``os._exit``, SIGKILL, the kernel's out-of-memory killer, a crash in C)
  fails only the task it was running, reported with how the process ended
  (:class:`WorkerDied`); the worker is replaced and the other tasks go on. The task is not
  retried: the attribution is exact, so no other task was lost, and a poison task cannot
  kill worker after worker;
* when the caller stops (an exception, Ctrl-C, SIGTERM raising
  :class:`~hstramp.signals.Terminated`, or simply closing the generator), the busy workers
  get SIGTERM, which a hstramp pipeline turns into an orderly unwinding that removes its
  staged products; a worker still alive after :data:`STOP_GRACE` seconds is killed. Idle
  workers are told to exit. No worker outlives the call (or the pool: closing it, or
  leaving its ``with`` block, stops them the same way);
* a worker whose parent disappears without a word (the parent was SIGKILLed) sends itself
  SIGTERM: each worker watches (from before its warm-up) a pipe whose only writing end
  the parent holds, and that pipe reads end-of-file when the parent is gone;
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

from hstramp.signals import freeze_for_exit

__all__ = ["STOP_GRACE", "WorkerDied", "WorkerPool", "describe_exit", "run_on_workers"]

log = logging.getLogger(__name__)

#: seconds a worker gets to unwind after SIGTERM before it is killed
STOP_GRACE = 10.0

#: what a worker sends once, when its warm-up is over (before any result)
_READY = "ready"


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


def _worker_main(connection, lifeline, warm_up=None):
    """A worker: run ``warm_up()`` (its failure ignored) and send :data:`_READY`; then run
    ``(index, function, kwargs)`` messages from ``connection``, send back ``(index, result)``;
    end on ``None`` or end-of-file, with the objects it holds frozen out of the garbage
    collections of the process's exit (:func:`hstramp.signals.freeze_for_exit`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(lifeline,), daemon=True).start()
    if warm_up is not None:
        try:
            warm_up()
        except Exception:  # the first task meets the same failure and reports it
            log.debug("warm-up failed", exc_info=True)
    try:
        _serve(connection)
    finally:
        freeze_for_exit()


def _serve(connection):
    """Say the worker is ready, then run the tasks ``connection`` brings until it ends."""
    try:
        connection.send(_READY)
    except OSError:
        return
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
    """One worker process, its end of the task pipe, the task it runs (None: idle), and
    whether it has said its warm-up is over."""

    def __init__(self, context, lifeline, warm_up=None):
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(theirs, lifeline, warm_up),
                                       daemon=True, name="hstramp-worker")
        self.process.start()
        theirs.close()  # the worker's end lives only in the worker: its death reads as EOF
        self.connection = ours
        self.task = None
        self.signalled = False
        self.ready = False

    def receive(self):
        """The next message that is not :data:`_READY` (which sets :attr:`ready`), or None
        if only that one was waiting. Raises EOFError or OSError if the worker is gone."""
        message = self.connection.recv()
        if message == _READY:
            self.ready = True
            return None
        return message

    def warming_up(self):
        """True if the worker has not said its warm-up is over (reads what it sent)."""
        try:
            while not self.ready and self.connection.poll():
                self.receive()
        except (EOFError, OSError):
            pass
        return not self.ready

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
        """End the worker: told to exit if idle (and SIGTERM if it is still warming up: it
        has nothing to unwind, and need not finish), SIGTERM if busy (see
        :meth:`terminate`; sent once), killed if still alive at ``deadline`` (a
        :func:`time.monotonic` time)."""
        if self.process.is_alive() and self.task is None:
            try:
                self.connection.send(None)
            except OSError:
                pass
            if self.warming_up() and self.process.is_alive():
                self.process.terminate()
                self.signalled = True
        elif self.process.exitcode is None and not self.signalled:
            self.terminate()
        self.process.join(max(0.0, deadline - time.monotonic()))
        if self.process.is_alive():
            log.warning("worker %s did not stop within %.0f s; killed", self.process.pid,
                        STOP_GRACE)
            self.process.kill()
            self.process.join()
        self.connection.close()


class WorkerPool:
    """Local worker processes, started at once and given their tasks later.

    Use it as a context manager (or call :meth:`close`): leaving the block stops every
    worker, as described in the module docstring.

    Parameters
    ----------
    workers : int
        Worker processes to start now (at most one task each at a time); 0 starts none.
    warm_up : callable, optional
        A module-level function (workers import it by name) each worker calls, with no
        argument, before its first task; what it raises is ignored. It should do only what
        the first task would do anyway (imports, caches).
    """

    def __init__(self, workers, warm_up=None):
        import multiprocessing

        self.size = workers
        self._context = multiprocessing.get_context("spawn")
        self._warm_up = warm_up
        self._lifeline, self._parent_alive = self._context.Pipe(duplex=False)
        self._idle, self._busy = [], []
        self._closed = False
        try:
            for _ in range(workers):
                self._idle.append(self._start())
        except BaseException:
            self.close()
            raise

    def _start(self):
        return _Worker(self._context, self._lifeline, self._warm_up)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Stop every worker (busy ones get SIGTERM first, then all are waited for, at most
        :data:`STOP_GRACE` seconds); the pool cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + STOP_GRACE
        busy, idle, self._busy, self._idle = self._busy, self._idle, [], []
        for worker in busy:  # SIGTERM to every busy worker first, then wait for them all
            worker.terminate()
        for worker in busy + idle:
            worker.stop(deadline)
        self._parent_alive.close()
        self._lifeline.close()

    def run(self, function, tasks, lost):
        """Run ``function(**task)`` for every task on the pool's workers, then close the pool.

        Workers beyond the number of tasks are stopped first; a worker that dies is
        replaced (the replacement warms up too).

        Parameters
        ----------
        function : callable
            A module-level function (workers import it by name); it should return its
            failures rather than raise them.
        tasks : list of dict
            Keyword arguments of each call.
        lost : callable
            ``lost(task, error)`` -> the result to report for a task whose worker died,
            given a :class:`WorkerDied` naming the process and how it ended.

        Yields
        ------
        tuple
            ``(index, result)`` of each task, as they finish.
        """
        from multiprocessing.connection import wait

        if self._closed:
            raise RuntimeError("the worker pool is closed")
        workers = max(1, self.size)
        pending, idle, busy = deque(range(len(tasks))), self._idle, self._busy
        # the warmest workers first; the ones not needed are stopped now
        idle.sort(key=lambda w: not w.warming_up())
        surplus = len(idle) - min(workers, len(tasks))
        if surplus > 0:
            deadline = time.monotonic() + STOP_GRACE
            for worker in idle[:surplus]:
                worker.stop(deadline)
            del idle[:surplus]
        try:
            while pending or busy:
                while pending and len(busy) < workers:
                    worker = idle.pop() if idle else self._start()
                    if worker.send(pending[0], function, tasks[pending[0]]):
                        pending.popleft()
                        busy.append(worker)
                    else:  # died while idle: no task lost
                        worker.stop(time.monotonic())
                ready = set(wait([w.connection for w in busy]
                                 + [w.process.sentinel for w in busy]))
                for worker in [w for w in busy if {w.connection, w.process.sentinel} & ready]:
                    index = worker.task
                    try:
                        message = worker.receive()
                    except (EOFError, OSError):
                        busy.remove(worker)
                        worker.process.join(STOP_GRACE)
                        error = WorkerDied(f"worker process {worker.process.pid} "
                                           f"{describe_exit(worker.process.exitcode)} while "
                                           "running this task; the other tasks went on")
                        log.error("%s (task %d)", error, index)
                        worker.stop(time.monotonic() + STOP_GRACE)
                        yield index, lost(tasks[index], error)
                        continue
                    if message is None:  # only its warm-up is over; the task goes on
                        continue
                    busy.remove(worker)
                    index, result = message
                    worker.task = None
                    idle.append(worker)
                    yield index, result
        finally:
            self.close()


def run_on_workers(function, tasks, workers, lost, warm_up=None):
    """Run ``function(**task)`` for every task on ``workers`` local processes.

    The processes are started now, as many as there are tasks at most (a
    :class:`WorkerPool`), and all stopped when the generator ends or is closed.

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
    warm_up : callable, optional
        See :class:`WorkerPool`.

    Yields
    ------
    tuple
        ``(index, result)`` of each task, as they finish.
    """
    with WorkerPool(min(workers, len(tasks)), warm_up) as pool:
        yield from pool.run(function, tasks, lost)
