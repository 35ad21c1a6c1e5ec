"""Fault injection for the signal and batch-fault tests: hstramp run with a pause or a death at
a chosen point, in a real child process.

``python -m tests.robustness.faults strun POINT DIR <strun arguments>`` runs strun with a
pause at POINT; ``... batch POINT DIR <hstramp batch arguments>`` runs ``hstramp batch`` whose
workers pause at POINT. A paused process writes ``DIR/<pid>.paused`` and waits (at most
:data:`PAUSE_LIMIT` seconds) for ``DIR/go``; the test sends its signal meanwhile. Points:

``steps``
    before the ramp_fit step (nothing staged yet);
``staged``
    every product written to its temporary file, the commit not begun;
``commit``
    inside the commit, after the first product was linked to its name;
``none``
    no pause.

Workers of a batch run :func:`calibrate_with_faults`, which also dies (``os._exit(3)``, or
SIGKILL to itself) on the exposure whose file name is in ``$HSTRAMP_TEST_POISON``, as
``$HSTRAMP_TEST_DEATH`` (``exit`` or ``kill``) says.
"""

import os
import signal
import sys
import time
from pathlib import Path

#: seconds a paused process waits for the test at most
PAUSE_LIMIT = 60.0


def pause(directory):
    """Say where we are (``<pid>.paused``), then wait for ``go`` (signals interrupt this)."""
    directory = Path(directory)
    (directory / f"{os.getpid()}.paused").write_text("")
    deadline = time.monotonic() + PAUSE_LIMIT
    while not (directory / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.005)


def install(point, directory):
    """Patch hstramp (in this process) to :func:`pause` at ``point``."""
    if point == "steps":
        from hstramp.pipeline.base import HstrampPipeline

        real_stage = HstrampPipeline.run_stage

        def run_stage(self, name, model, label=None):
            if name == "ramp_fit":
                pause(directory)
            return real_stage(self, name, model, label)

        HstrampPipeline.run_stage = run_stage
    elif point == "staged":
        from hstramp.datamodels import atomic

        real_commit = atomic.commit_products

        def commit_products(staged, overwrite):
            pause(directory)
            return real_commit(staged, overwrite)

        atomic.commit_products = commit_products
    elif point == "commit":
        from hstramp.datamodels import products

        real_link, links = products._link_no_clobber, []

        def link(source, target):
            links.append(target)
            if len(links) == 2:
                pause(directory)
            return real_link(source, target)

        products._link_no_clobber = link
    elif point != "none":
        raise ValueError(f"unknown pause point {point!r}")


def calibrate_with_faults(**task):
    """A batch worker's task with the faults the environment asks for (see the module)."""
    from hstramp.batch import calibrate_exposure

    if Path(task["path"]).name == os.environ.get("HSTRAMP_TEST_POISON"):
        if os.environ.get("HSTRAMP_TEST_DEATH") == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(3)
    point = os.environ.get("HSTRAMP_TEST_POINT", "none")
    if point != "none":
        install(point, os.environ["HSTRAMP_TEST_PAUSE_DIR"])
    return calibrate_exposure(**task)


def main(argv):
    """``strun|batch POINT DIR args...`` (see the module docstring)."""
    command, point, directory, *rest = argv
    if command == "strun":
        install(point, directory)
        from stpipe._cli.strun import main as strun

        sys.argv = ["strun", *rest]
        return strun()
    import hstramp.batch
    from hstramp.cli import main as hstramp_main
    from tests.robustness import faults  # by its name, not __main__, for the workers

    os.environ.update(HSTRAMP_TEST_POINT=point, HSTRAMP_TEST_PAUSE_DIR=directory)
    hstramp.batch.calibrate_exposure = faults.calibrate_with_faults
    return hstramp_main(["batch", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
