"""hstramp.pool: workers started before their tasks, warmed up while they wait, stopped
promptly (a worker still warming up gets SIGTERM), watched by their parent's lifeline."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hstramp.pool import STOP_GRACE, WorkerPool, run_on_workers
from tests.robustness.processes import ROOT, alive, spawned

#: the directory the warm-up marks (inherited by the workers at their start)
WARM_DIR = "HSTRAMP_TEST_WARM_DIR"


def mark_warm():
    """A warm-up: ``<pid>.warm`` in the directory :data:`WARM_DIR` names."""
    (Path(os.environ[WARM_DIR]) / f"{os.getpid()}.warm").touch()


def fail_to_warm_up():
    """A warm-up that raises."""
    raise RuntimeError("no warm-up today")


def warm_up_for_ever():
    """A warm-up that would take five minutes."""
    time.sleep(300)


def task(value):
    """A task: which process ran it, the value, and whether that process had warmed up."""
    directory = os.environ.get(WARM_DIR)
    warm = directory is not None and (Path(directory) / f"{os.getpid()}.warm").exists()
    return os.getpid(), value, warm


def lost(task, error):
    return "lost", str(error)


@pytest.fixture
def warm_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(WARM_DIR, str(tmp_path))
    return tmp_path


def test_workers_start_with_the_pool_and_warm_up_before_their_first_task(warm_dir):
    with WorkerPool(2, warm_up=mark_warm) as pool:
        started = spawned(os.getpid())
        assert len(started) == 2  # running before any task is known
        results = dict(pool.run(task, [{"value": i} for i in range(5)], lost))
    assert sorted(results) == list(range(5))
    assert all(value == i and warm for i, (_pid, value, warm) in results.items())
    assert {pid for pid, _value, _warm in results.values()} <= set(started)
    assert not any(alive(pid) for pid in started) and spawned(os.getpid()) == []


def test_a_failing_warm_up_leaves_the_worker_to_its_tasks():
    with WorkerPool(1, warm_up=fail_to_warm_up) as pool:
        results = dict(pool.run(task, [{"value": 7}, {"value": 8}], lost))
    assert [value for _pid, value, _warm in results.values()] == [7, 8]


def test_workers_beyond_the_tasks_are_stopped_before_the_tasks_run(warm_dir):
    with WorkerPool(3, warm_up=mark_warm) as pool:
        started = spawned(os.getpid())
        stream = pool.run(task, [{"value": 1}], lost)
        index, (pid, value, warm) = next(stream)
        assert (index, value, warm) == (0, 1, True)
        assert spawned(os.getpid()) == [pid]  # the two others are gone already
        assert list(stream) == []
    assert not any(alive(p) for p in started)


def test_closing_a_pool_still_warming_up_is_prompt():
    pool = WorkerPool(2, warm_up=warm_up_for_ever)
    workers = [w.process for w in pool._idle]
    start = time.monotonic()
    pool.close()
    assert time.monotonic() - start < STOP_GRACE / 2
    assert [w.exitcode for w in workers] == [-signal.SIGTERM] * 2
    assert spawned(os.getpid()) == []
    pool.close()  # closing again does nothing
    with pytest.raises(RuntimeError, match="closed"):
        next(pool.run(task, [{"value": 1}], lost))


def test_run_on_workers_starts_no_more_workers_than_tasks():
    assert list(run_on_workers(task, [], 4, lost)) == []
    results = dict(run_on_workers(task, [{"value": 3}], 4, lost))
    assert [value for _pid, value, _warm in results.values()] == [3]


def test_a_worker_warming_up_ends_when_its_parent_is_killed(tmp_path):
    """The parent is SIGKILLed while its worker warms up: the worker ends by itself."""
    code = ("import os, signal\n"
            "from hstramp.pool import WorkerPool\n"
            "from tests.test_pool import warm_up_for_ever\n"
            "pool = WorkerPool(1, warm_up=warm_up_for_ever)\n"
            "print(pool._idle[0].process.pid, flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    parent = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    worker = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 60
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(worker)


def test_a_worker_told_to_stop_freezes_its_objects_before_it_ends(monkeypatch):
    """The worker loop, in this process: it warms up, serves its task, ends on None and only
    then freezes (the exit's garbage collections are spared, hstramp.signals.freeze_for_exit).
    The lifeline's watcher is left out: here it would signal the test process."""
    import multiprocessing

    from hstramp import pool

    events = []
    monkeypatch.setattr(pool, "freeze_for_exit", lambda: events.append("freeze"))
    monkeypatch.setattr(pool, "_watch_parent", lambda lifeline: None)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # SIGINT stays as pytest has it
    ours, theirs = multiprocessing.Pipe()
    ours.send((0, task, {"value": 7}))
    ours.send(None)
    pool._worker_main(theirs, None, warm_up=lambda: events.append("warm"))
    assert ours.recv() == "ready"
    assert ours.recv() == (0, (os.getpid(), 7, False))
    assert events == ["warm", "freeze"]
