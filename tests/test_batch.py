"""hstramp batch: local process pool and dask, failures reported, current products skipped."""

import os
import shutil
import time

import numpy as np
import pytest
from astropy.io import fits

import hstramp.batch
from hstramp.batch import (
    ExposureResult,
    planned_products,
    products_are_current,
    run_batch,
    summary_table,
)
from hstramp.cli import main
from hstramp.errors import InputFileError, ParameterError
from hstramp.pool import STOP_GRACE
from hstramp.signals import Terminated
from tests.robustness.processes import alive, spawned

GOOD_SEEDS = (11, 12, 13)
BAD_SEED = 14


@pytest.fixture(scope="module")
def exposures(tmp_path_factory):
    """Three good 64x64 exposures and one whose flat field is unusable (fails in ``flat``),
    all with their references in one ``iref`` directory."""
    from hstramp.simulate import simulate_exposure

    directory = tmp_path_factory.mktemp("batch_inputs")
    good = [simulate_exposure(directory, size=64, samp_seq="SPARS10", nsamp=5, seed=seed)
            for seed in GOOD_SEEDS]
    bad = simulate_exposure(directory, size=64, samp_seq="SPARS10", nsamp=5, seed=BAD_SEED)
    with fits.open(bad.reference_paths["PFLTFILE"], mode="update") as flat:
        for hdu in flat[1:]:
            if hdu.data is not None:
                hdu.data = np.ones((3, 3), hdu.data.dtype)
    return {"iref": directory, "good": [e.raw_path for e in good], "bad": bad.raw_path}


@pytest.fixture(scope="module")
def local_run(exposures, tmp_path_factory):
    """One local batch of 2 workers over the good exposures with the bad one in the middle."""
    output = tmp_path_factory.mktemp("batch_local")
    inputs = [*exposures["good"][:2], exposures["bad"], exposures["good"][2]]
    seen = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(exposures["iref"]))
        results = run_batch(inputs, workers=2, output_dir=output,
                            progress=lambda result, n, total: seen.append((result.path, n, total)))
    return {"inputs": inputs, "output": output, "results": results, "progress": seen}


def test_local_batch_calibrates_good_exposures_and_reports_the_bad_one(local_run):
    results = local_run["results"]
    assert [r.path for r in results] == [str(p) for p in local_run["inputs"]]
    assert [r.status for r in results] == ["done", "done", "failed", "done"]
    failed = results[2]
    assert failed.step == "flat"
    assert "PFLTFILE" in failed.error or "LFLTFILE" in failed.error
    for result in results[:2] + results[3:]:
        assert result.step is None and result.error is None and result.seconds > 0
        assert sorted(os.path.basename(p)[-8:] for p in result.products) == ["flt.fits",
                                                                             "ima.fits"]
        assert all(os.path.getsize(p) > 0 for p in result.products)
    assert all(r.worker and r.worker != f"{os.uname().nodename}:{os.getpid()}" for r in results)


def test_progress_is_called_once_per_exposure(local_run):
    seen = local_run["progress"]
    assert sorted(path for path, _n, _total in seen) == sorted(map(str, local_run["inputs"]))
    assert [n for _path, n, _total in seen] == [1, 2, 3, 4]
    assert {total for _path, _n, total in seen} == {4}


def test_rerun_skips_current_products_through_the_cli(local_run, exposures, monkeypatch,
                                                      capsys):
    monkeypatch.setenv("iref", str(exposures["iref"]))
    good = [str(p) for p in exposures["good"]]
    before = {p: os.path.getmtime(p) for r in local_run["results"] for p in r.products}
    status = main(["batch", *good, "--output-dir", str(local_run["output"]), "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0
    assert "0 done, 3 skipped, 0 failed of 3 exposures" in out
    assert {p: os.path.getmtime(p) for p in before} == before


@pytest.fixture
def workers_at_planning(monkeypatch):
    """The batch's worker processes, listed when its planning starts (``_make_pipeline``)."""
    seen = []
    make = hstramp.batch._make_pipeline

    def planner(*args):
        seen.append(spawned(os.getpid()))
        return make(*args)

    monkeypatch.setattr("hstramp.batch._make_pipeline", planner)
    return seen


def test_an_all_skipped_rerun_stops_its_workers_at_once(local_run, exposures, monkeypatch,
                                                         workers_at_planning):
    monkeypatch.setenv("iref", str(exposures["iref"]))
    start = time.monotonic()
    results = run_batch(exposures["good"], workers=2, output_dir=local_run["output"])
    assert time.monotonic() - start < STOP_GRACE  # the workers were not waited for
    assert {r.status for r in results} == {"skipped"}
    [started] = workers_at_planning
    assert len(started) == 2  # started before the planning, for the 3 exposures
    assert not any(alive(pid) for pid in started) and spawned(os.getpid()) == []


def _twins(raw, directory):
    """Two copies of ``raw`` with one ROOTNAME (they would write the same products)."""
    copies = []
    for name in ("a", "b"):
        (directory / name).mkdir()
        copies.append(shutil.copy(raw, directory / name / raw.name))
    return copies


@pytest.mark.parametrize("error", ["clash", "parameter"])
def test_planning_errors_come_first_and_stop_the_started_workers(
        error, exposures, tmp_path, monkeypatch, capsys, workers_at_planning):
    monkeypatch.setenv("iref", str(exposures["iref"]))
    output = tmp_path / "out"
    if error == "clash":
        inputs, options = _twins(exposures["good"][0], tmp_path), []
        raised, message = InputFileError, "would both write"
    else:
        inputs, options = exposures["good"][:2], ["--steps.jump.rejection_threshold=abc"]
        raised, message = ParameterError, '"abc" is of the wrong type'
    parameters = {"steps": {"jump": {"rejection_threshold": "abc"}}} if options else None
    with pytest.raises(raised, match=message):
        run_batch(inputs, workers=3, output_dir=output, parameters=parameters)
    status = main(["batch", *map(str, inputs), "--output-dir", str(output), "--workers", "3",
                   "--no-progress", *options])
    assert status == 2 and message in capsys.readouterr().err
    assert [len(started) for started in workers_at_planning] == [2, 2]
    assert not any(alive(pid) for started in workers_at_planning for pid in started)
    assert spawned(os.getpid()) == [] and list(output.iterdir()) == []


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Terminated])
def test_stopped_while_planning_stops_the_workers_still_warming_up(stop, exposures, tmp_path,
                                                                   monkeypatch):
    """Ctrl-C or SIGTERM (``Terminated``) in the parent while its workers warm up."""
    started = []

    def interrupted(*args):
        started.extend(spawned(os.getpid()))
        raise stop()

    monkeypatch.setattr("hstramp.batch._make_pipeline", interrupted)
    begin = time.monotonic()
    with pytest.raises(stop):
        run_batch(exposures["good"], workers=2, output_dir=tmp_path)
    assert time.monotonic() - begin < STOP_GRACE  # not waited for: SIGTERM
    assert len(started) == 2 and not any(alive(pid) for pid in started)
    assert spawned(os.getpid()) == [] and list(tmp_path.iterdir()) == []


def test_planned_products_name_what_the_pipeline_wrote(local_run):
    done = local_run["results"][0]
    planned = planned_products(done.path, output_dir=local_run["output"])
    assert sorted(str(p) for p in planned.values()) == sorted(done.products)


def _product_copy(local_run, tmp_path):
    """A fresh copy of one good input and its products, with the products newer."""
    done = local_run["results"][0]
    source = shutil.copy2(done.path, tmp_path)
    products = {}
    for product in done.products:
        products[product[-8:-5]] = tmp_path / os.path.basename(product)
        shutil.copy2(product, products[product[-8:-5]])
    stamp = os.path.getmtime(source)
    for path in products.values():
        os.utime(path, (stamp + 10, stamp + 10))
    return source, products


def _truncate(path, nbytes=100):
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) - nbytes)


def _rewrite(path, change):
    """Change the bytes of ``path`` in place, keeping its modification time."""
    stamp = os.path.getmtime(path)
    path.write_bytes(change(path.read_bytes()))
    os.utime(path, (stamp, stamp))


def _drop_last_extension(path):
    """The product without its last HDU, every remaining HDU with valid checksums."""
    with fits.open(path) as hdulist:
        kept = fits.HDUList([hdu.copy() for hdu in hdulist[:-1]])
    stamp = os.path.getmtime(path)
    kept.writeto(path, overwrite=True, checksum=True)
    os.utime(path, (stamp, stamp))


def _flip_a_bit(data):
    data = bytearray(data)
    data[-3000] ^= 0x01
    return bytes(data)


def _make_older(path, source):
    stamp = os.path.getmtime(source) - 10
    os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("spoil, current", [
    (None, True),
    (lambda products, source: products["flt"].unlink(), False),
    (lambda products, source: _truncate(products["ima"]), False),
    (lambda products, source: _make_older(products["flt"], source), False),
    # whole FITS blocks, right size class: only the checksums can tell (issue 17)
    pytest.param(lambda products, source: _truncate(products["flt"], 10 * 2880), False,
                 marks=pytest.mark.hostile("silent"), id="cut-by-ten-blocks"),
    pytest.param(lambda products, source: _rewrite(products["ima"], lambda d: bytes(2880)),
                 False, marks=pytest.mark.hostile("silent"), id="2880-zero-bytes"),
    pytest.param(lambda products, source: _rewrite(products["flt"], _flip_a_bit), False,
                 marks=pytest.mark.hostile("silent"), id="one-bit-flipped"),
    pytest.param(lambda products, source: _rewrite(
        products["flt"], lambda d: d[:len(d) // 2880 // 2 * 2880]), False,
                 marks=pytest.mark.hostile("silent"), id="second-half-missing"),
    pytest.param(lambda products, source: _drop_last_extension(products["ima"]), False,
                 marks=pytest.mark.hostile("silent"), id="last-extension-missing"),
])
def test_products_are_current(local_run, tmp_path, spoil, current):
    source, products = _product_copy(local_run, tmp_path)
    if spoil is not None:
        spoil(products, source)
    assert products_are_current(source, products) is current


def test_cli_reports_the_failing_step_and_exit_status(exposures, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("iref", str(exposures["iref"]))
    status = main(["batch", str(exposures["bad"]), "--workers", "1",
                   "--output-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 1
    row = next(line for line in captured.out.splitlines() if line.startswith("isim"))
    assert row.split()[:2] == [exposures["bad"].name, "failed"]
    assert " flat " in row and "ReferenceFileError" in row
    assert "1/1" in captured.err  # the progress line (tqdm or the plain one)


def test_association_members_are_expanded(exposures, tmp_path, monkeypatch, capsys):
    good = exposures["good"]
    table = fits.BinTableHDU.from_columns([
        fits.Column(name="MEMNAME", format="14A", array=[p.name[:9] for p in good]),
        fits.Column(name="MEMTYPE", format="14A", array=["EXP-DTH"] * len(good)),
        fits.Column(name="MEMPRSNT", format="L", array=[True] * len(good)),
    ])
    asn = exposures["iref"] / "ibatch010_asn.fits"
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(asn, overwrite=True)
    output = tmp_path / "out"
    output.mkdir()
    for path in good:  # products that are current (newer, checksums), so nothing runs
        for suffix in ("ima", "flt"):
            product = output / path.name.replace("raw", suffix)
            fits.PrimaryHDU().writeto(product, checksum=True)
    results = run_batch([asn, good[0]], output_dir=output)
    assert [r.path for r in results] == [str(p) for p in good]
    assert {r.status for r in results} == {"skipped"}


def test_summary_table_counts():
    results = [ExposureResult("/a/x_raw.fits", "done", seconds=1.5),
               ExposureResult("/a/y_raw.fits", "failed", "dark", "OSError: gone", 0.2),
               ExposureResult("/a/z_raw.fits", "skipped")]
    table = summary_table(results)
    assert "y_raw.fits  failed       0.20  dark        OSError: gone" in table
    assert table.splitlines()[-1] == "1 done, 1 skipped, 1 failed of 3 exposures"


def test_missing_input_is_refused_before_any_work(tmp_path):
    from hstramp.errors import InputFileError

    with pytest.raises(InputFileError, match="missing"):
        run_batch([tmp_path / "nope_raw.fits"])


def test_dask_local_cluster(exposures, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    monkeypatch.setenv("iref", str(exposures["iref"]))
    inputs = [*exposures["good"], exposures["bad"]]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        results = run_batch(inputs, scheduler=cluster.scheduler_address, output_dir=tmp_path)
    assert [r.status for r in results] == ["done", "done", "done", "failed"]
    assert results[3].step == "flat"
    assert all(r.worker and str(os.getpid()) not in r.worker for r in results)
    assert sorted(p.name for p in tmp_path.glob("*.fits")) == sorted(
        p.name.replace("raw", suffix) for p in exposures["good"] for suffix in ("flt", "ima"))
