"""Child processes for the signal and batch-fault tests: start, wait (polling, with time
limits, never a bare sleep), find children, list leftovers."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: the worktree whose hstramp the children import
ROOT = Path(__file__).resolve().parents[2]

#: generous limits for a loaded 2-core machine; a healthy run takes a fraction of them
START_LIMIT = 60.0
EXIT_LIMIT = 60.0


def child_environment(iref, **extra):
    """The environment of a child: this worktree first on the path, ``iref`` set."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "iref": f"{iref}/", **extra}


def start(args, environment):
    """``python -m tests.robustness.faults <args>`` with stdout and stderr piped."""
    return subprocess.Popen([sys.executable, "-m", "tests.robustness.faults", *map(str, args)],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until(condition, child, what, limit=START_LIMIT):
    """Poll ``condition()`` until true; fail if ``child`` ends first or after ``limit`` s."""
    deadline = time.monotonic() + limit
    while not condition():
        if child.poll() is not None:
            _out, err = child.communicate()
            pytest.fail(f"the child ended ({child.returncode}) before {what}:\n{err[-3000:]}")
        if time.monotonic() > deadline:
            child.kill()
            child.communicate()
            pytest.fail(f"no {what} within {limit} s")
        time.sleep(0.002)


def paused(directory, count=1):
    """The pids that reached their pause point (``<pid>.paused`` files), once ``count`` have."""
    pids = [int(p.name.split(".")[0]) for p in Path(directory).glob("*.paused")]
    return pids if len(pids) >= count else []


def finish(child, limit=EXIT_LIMIT):
    """Wait for ``child`` and for every process holding its pipes (``communicate`` returns
    only when all writers closed them); returns ``(status, stderr)``."""
    try:
        _out, err = child.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"the child or a process holding its pipes is still running after {limit} s")
    return child.returncode, err


def children(pid):
    """Pids whose parent is ``pid`` (from /proc; empty where there is none)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.parent.name))
    return found


def spawned(pid):
    """Pids of ``pid``'s ``multiprocessing`` spawn children (local batch workers; not its
    resource tracker)."""
    found = []
    for child in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def alive(pid):
    """True if ``pid`` is a live process (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def leftovers(directory):
    """Temporary and set-aside files of hstramp in ``directory``."""
    return sorted(p.name for p in Path(directory).iterdir() if ".hstramp-" in p.name)
