"""Issue 17, batch faults: duplicate products, dead workers, clusters without workers, signals.

A dead local worker (``os._exit``, SIGKILL) fails only its own exposure; SIGTERM, SIGINT or
even SIGKILL to ``hstramp batch`` leaves no worker running, no staged file and closed pipes.
"""

import shutil
import signal
import subprocess
import sys
import threading

import pytest
from astropy.io import fits

from hstramp.batch import run_batch
from hstramp.cli import main
from hstramp.errors import HstrampError, InputFileError
from tests.robustness import faults
from tests.robustness.processes import (
    ROOT,
    alive,
    child_environment,
    finish,
    leftovers,
    paused,
    start,
    wait_until,
)

pytestmark = pytest.mark.hostile("hang")

SEEDS = (31, 32, 33)


@pytest.fixture(scope="module")
def exposures(tmp_path_factory):
    """Three small exposures with their references in one directory."""
    from hstramp.simulate import simulate_exposure

    directory = tmp_path_factory.mktemp("batch_faults")
    return [simulate_exposure(directory, size=64, samp_seq="SPARS10", nsamp=3, seed=seed).raw_path
            for seed in SEEDS]


def _twin(raw, directory, rootname):
    """A copy of ``raw`` in ``directory`` whose ROOTNAME is ``rootname``."""
    directory.mkdir(exist_ok=True)
    copy = shutil.copy(raw, directory / f"{rootname.lower()}_raw.fits")
    fits.setval(copy, "ROOTNAME", value=rootname)
    return copy


@pytest.mark.hostile("data-loss")
@pytest.mark.parametrize("rootname", ["dupl01aaq", "DUPL01AAQ"])
def test_two_exposures_writing_one_product_are_refused_before_any_work(
        rootname, exposures, tmp_path, capsys):
    first = _twin(exposures[0], tmp_path / "a", "dupl01aaq")
    second = _twin(exposures[1], tmp_path / "b", rootname)
    output = tmp_path / "out"
    with pytest.raises(InputFileError, match="would both write") as error:
        run_batch([first, second], output_dir=output)
    assert str(first) in str(error.value) and str(second) in str(error.value)
    assert list(output.iterdir()) == []
    status = main(["batch", str(first), str(second), "--output-dir", str(output)])
    assert status == 2 and "would both write" in capsys.readouterr().err


@pytest.mark.hostile("data-loss")
@pytest.mark.parametrize("death", ["exit", pytest.param("kill", marks=pytest.mark.slow)])
def test_a_dead_worker_costs_only_its_own_exposure(death, exposures, tmp_path, monkeypatch):
    monkeypatch.setenv("iref", f"{exposures[0].parent}/")
    monkeypatch.setenv("HSTRAMP_TEST_POISON", exposures[1].name)
    monkeypatch.setenv("HSTRAMP_TEST_DEATH", death)
    monkeypatch.setattr("hstramp.batch.calibrate_exposure", faults.calibrate_with_faults)
    results = run_batch(exposures, workers=2, output_dir=tmp_path)
    assert [r.status for r in results] == ["done", "failed", "done"]
    dead = results[1]
    assert dead.step == "worker" and dead.error.startswith("WorkerDied: worker process ")
    assert ("exited with status 3" if death == "exit" else "killed by SIGKILL") in dead.error
    assert not any(tmp_path.glob(f"{exposures[1].name[:9]}*")) and leftovers(tmp_path) == []
    assert all(len(r.products) == 2 for r in (results[0], results[2]))


def test_dask_cluster_without_workers_fails_after_the_timeout(exposures, tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster, \
            pytest.raises(HstrampError, match=r"has no workers after 1 s; start some"):
        run_batch(exposures[:1], scheduler=cluster.scheduler_address, output_dir=tmp_path,
                  dask_timeout=1)


def test_unreachable_dask_scheduler_fails_after_the_timeout(exposures, tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(HstrampError, match=r"cannot reach the dask scheduler at .* within 1 s"):
        run_batch(exposures[:1], scheduler="tcp://127.0.0.1:9", output_dir=tmp_path,
                  dask_timeout=1)


def test_dask_cluster_losing_its_last_worker_fails_the_rest_after_the_timeout(exposures, tmp_path):
    """The last worker (no nanny, so nothing restarts it) is killed while it calibrates: the
    batch does not wait for ever, every unfinished exposure fails after ``dask_timeout``."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    pauses = tmp_path / "pauses"
    pauses.mkdir()
    environment = child_environment(exposures[0].parent, HSTRAMP_TEST_POINT="steps",
                                    HSTRAMP_TEST_PAUSE_DIR=str(pauses))
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
             "--no-nanny", "--nthreads", "1", "--no-dashboard"],
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            def kill_the_worker_once_it_calibrates():
                wait_until(lambda: paused(pauses), worker, "a worker calibrating")
                worker.kill()

            killer = threading.Thread(target=kill_the_worker_once_it_calibrates, daemon=True)
            killer.start()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("hstramp.batch.calibrate_exposure", faults.calibrate_with_faults)
                results = run_batch(exposures, scheduler=cluster.scheduler_address,
                                    output_dir=tmp_path / "out", dask_timeout=2)
            killer.join(timeout=10)
        finally:
            worker.kill()
            worker.wait(timeout=30)
    assert [r.status for r in results] == ["failed"] * 3
    assert all("has had no workers for 2 s" in r.error for r in results)
    assert not (tmp_path / "out").exists() or leftovers(tmp_path / "out") == []


@pytest.mark.hostile("unclear")
def test_dask_timeout_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["batch", "x_raw.fits", "--dask-timeout", "0"])
    assert exit_.value.code == 2 and "0 is not a finite number > 0" in capsys.readouterr().err


@pytest.mark.hostile("leftover")
@pytest.mark.parametrize("signum", [
    signal.SIGTERM,
    pytest.param(signal.SIGINT, marks=pytest.mark.slow),
    pytest.param(signal.SIGKILL, marks=pytest.mark.slow),
])
def test_stopping_the_batch_stops_its_workers(signum, exposures, tmp_path):
    """Both workers paused with their products staged; the batch gets ``signum``."""
    output, pauses = tmp_path / "out", tmp_path / "pauses"
    pauses.mkdir()
    child = start(["batch", "staged", pauses, *exposures[:2], "--workers", "2",
                   "--output-dir", output, "--no-progress"],
                  child_environment(exposures[0].parent))
    wait_until(lambda: paused(pauses, 2), child, "both workers' pauses")
    workers = paused(pauses, 2)
    assert len(leftovers(output)) == 4  # ima and flt staged by each worker
    child.send_signal(signum)
    status, err = finish(child)  # returns once no process holds the batch's pipes
    expected = {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -signal.SIGKILL}
    assert status == expected[signum], err[-2000:]
    assert not any(alive(pid) for pid in workers)
    # each worker unwound (SIGTERM from the batch, or from itself when its parent vanished)
    assert leftovers(output) == []
    assert not any(output.glob("*.fits"))
    if signum != signal.SIGKILL:
        assert "hstramp batch: stopped" in err
