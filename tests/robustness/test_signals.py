"""Issue 17, signals: SIGTERM handled like Ctrl-C, SIGKILL's leftovers undone by the next run.

Real ``strun wfc3ir_pipeline`` children calibrate a 256x256 exposure and are stopped at three
points (:mod:`tests.robustness.faults`: before a step, with every product staged, in the
middle of the commit over an older set); afterwards there is no product or a whole set (the
old one, or after a SIGTERM held back by the commit, the new one), and once the next run has
cleaned up, no leftover; a rerun succeeds.
"""

import dataclasses
import os
import signal
import threading

import pytest
from astropy.io import fits

from hstramp.batch import verified_fits
from hstramp.datamodels.products import clean_leftovers
from hstramp.signals import Terminated, exit_status_of, terminate_cleanly
from tests.robustness.processes import (
    child_environment,
    children,
    finish,
    leftovers,
    paused,
    start,
    wait_until,
)

pytestmark = pytest.mark.hostile("leftover")

PRODUCTS = ("ima", "flt")


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    """A 256x256 5-read exposure and its references in one directory."""
    from hstramp.simulate import simulate_exposure

    directory = tmp_path_factory.mktemp("signals")
    return simulate_exposure(directory, size=256, samp_seq="SPARS10", nsamp=5, seed=17)


def _product_paths(exposure, output):
    return {suffix: output / exposure.raw_path.name.replace("raw", suffix)
            for suffix in PRODUCTS}


def _old_set(paths):
    """Small, whole FITS files standing for an older product set; their bytes."""
    for suffix, path in paths.items():
        fits.PrimaryHDU(header=fits.Header([("OLDSET", suffix)])).writeto(path, checksum=True)
    return {suffix: path.read_bytes() for suffix, path in paths.items()}


def _rerun_succeeds(exposure, output):
    """The next run (in this process) writes a whole set and leaves nothing else."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", f"{exposure.raw_path.parent}/")
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(output), overwrite=True)
    assert leftovers(output) == []
    assert all(verified_fits(p) for p in _product_paths(exposure, output).values())


#: name -> (pause point, signal, over an older product set)
STOPS = {
    "sigterm-staged": ("staged", signal.SIGTERM, False),
    "sigkill-staged": ("staged", signal.SIGKILL, False),
    "sigterm-commit": ("commit", signal.SIGTERM, True),
    "sigkill-commit": ("commit", signal.SIGKILL, True),
}


@dataclasses.dataclass
class Stopped:
    """One child stopped at a point: what was staged, its status and stderr, the old set."""

    output: object
    products: dict
    old: dict | None
    staged: list = None
    status: int = None
    stderr: str = ""


@pytest.fixture(scope="module")
def stopped(exposure, tmp_path_factory):
    """Every :data:`STOPS` case, run side by side (the children's start-up dominates)."""
    runs, children_ = {}, {}
    for name, (point, _signum, over_old) in STOPS.items():
        directory = tmp_path_factory.mktemp(name)
        output, pauses = directory / "out", directory / "pauses"
        output.mkdir()
        pauses.mkdir()
        products = _product_paths(exposure, output)
        runs[name] = Stopped(output, products, _old_set(products) if over_old else None)
        children_[name] = (start(["strun", point, pauses, "wfc3ir_pipeline", exposure.raw_path,
                                  f"--output_dir={output}", "--overwrite=true"],
                                 child_environment(exposure.raw_path.parent)), pauses)
    for name, (child, pauses) in children_.items():
        point, signum, _over_old = STOPS[name]
        wait_until(lambda pauses=pauses: paused(pauses), child, f"the pause at {point}")
        runs[name].staged = leftovers(runs[name].output)
        child.send_signal(signum)
        if signum == signal.SIGTERM:
            (pauses / "go").touch()  # a SIGTERM held back by the commit ends it first
    for name, (child, _pauses) in children_.items():
        runs[name].status, runs[name].stderr = finish(child)
    return runs


@pytest.mark.parametrize("name", ["sigterm-staged", "sigkill-staged"])
def test_killed_with_every_product_staged_leaves_no_product(name, stopped):
    run = stopped[name]
    assert sorted(n.split(".hstramp-")[0] for n in run.staged) == sorted(
        f".{p.name}" for p in run.products.values())
    assert not any(p.exists() for p in run.products.values())
    if name == "sigterm-staged":  # unwound: the run removed its temporaries itself
        assert run.status == 143, run.stderr[-2000:]
        assert "terminated by SIGTERM" in run.stderr
        assert leftovers(run.output) == []
    else:  # the next run writing there removes what SIGKILL left
        assert run.status == -signal.SIGKILL
        assert leftovers(run.output) == run.staged
        clean_leftovers(run.output)  # what the next run writing there does first
        assert leftovers(run.output) == []


@pytest.mark.hostile("data-loss")
def test_sigkill_in_the_middle_of_the_commit_is_rolled_back(stopped, exposure):
    run = stopped["sigkill-commit"]
    assert run.status == -signal.SIGKILL
    # the set was cut in two: one new product linked, one old product set aside
    assert any(name.endswith(".old") for name in leftovers(run.output))
    clean_leftovers(run.output)  # what the next run writing there does first
    assert leftovers(run.output) == []
    assert {s: p.read_bytes() for s, p in run.products.items()} == run.old
    _rerun_succeeds(exposure, run.output)


@pytest.mark.hostile("data-loss")
def test_sigterm_waits_for_the_commit_to_finish(stopped):
    run = stopped["sigterm-commit"]
    assert run.status == 143, run.stderr[-2000:]
    assert all(verified_fits(p) for p in run.products.values())
    assert all(p.read_bytes() != run.old[s] for s, p in run.products.items())  # new, whole
    assert leftovers(run.output) == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killed_during_a_step_leaves_nothing(signum, exposure, tmp_path):
    output, pauses = tmp_path / "out", tmp_path / "pauses"
    output.mkdir()
    pauses.mkdir()
    child = start(["strun", "steps", pauses, "wfc3ir_pipeline", exposure.raw_path,
                   f"--output_dir={output}"], child_environment(exposure.raw_path.parent))
    wait_until(lambda: paused(pauses), child, "the pause before ramp_fit")
    assert children(child.pid) == []  # the pipeline starts no process of its own
    child.send_signal(signum)
    status, err = finish(child)
    assert status == (143 if signum == signal.SIGTERM else -signal.SIGKILL), err[-2000:]
    assert list(output.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killed_as_soon_as_a_temporary_appears(signum, exposure, tmp_path):
    """No instrumentation: whatever the moment, a whole set or none."""
    output = tmp_path / "out"
    output.mkdir()
    child = start(["strun", "none", tmp_path, "wfc3ir_pipeline", exposure.raw_path,
                   f"--output_dir={output}"], child_environment(exposure.raw_path.parent))
    wait_until(lambda: leftovers(output) or any(output.iterdir()), child, "a staged product")
    child.send_signal(signum)
    status, err = finish(child)
    assert status in (0, 143, -signal.SIGKILL), err[-2000:]
    clean_leftovers(output)
    present = [p for p in _product_paths(exposure, output).values() if p.exists()]
    assert present == [] or (len(present) == len(PRODUCTS) and all(map(verified_fits, present)))
    assert leftovers(output) == []


# ---------------------------------------------------------------- in-process behaviour
def test_terminated_is_an_exit_with_the_shell_status():
    assert exit_status_of(signal.SIGTERM) == 143 and exit_status_of(signal.SIGINT) == 130
    error = Terminated()
    assert isinstance(error, SystemExit) and not isinstance(error, Exception)
    assert error.code == 143 and str(error) == "terminated by SIGTERM"


def test_handlers_are_installed_only_around_the_block_and_restored():
    def theirs(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, theirs)
    try:
        with terminate_cleanly():  # a caller's handler is left alone
            assert signal.getsignal(signal.SIGTERM) is theirs
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with terminate_cleanly():
            ours = signal.getsignal(signal.SIGTERM)
            assert ours not in (signal.SIG_DFL, theirs)
            with terminate_cleanly():  # nested: the outer block's handler stays
                assert signal.getsignal(signal.SIGTERM) is ours
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_raises_terminated_once_then_is_ignored_while_unwinding():
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cleaned = []
    try:
        with pytest.raises(Terminated), terminate_cleanly():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                pytest.fail("SIGTERM did not interrupt the block")
            finally:
                os.kill(os.getpid(), signal.SIGTERM)  # a second one cannot cut this short
                cleaned.append(True)
        assert cleaned == [True]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_nothing_is_installed_from_another_thread():
    seen = []

    def run():
        with terminate_cleanly():
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [before]
