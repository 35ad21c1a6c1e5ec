"""Determinism (issue 9): the same exposure and parameters give byte-identical products.

Only the DATE card (the day a file was written) may differ; it is masked. Runs are compared
within one process (caches, module state) and against a fresh process with another hash seed
(set and dict ordering), which is how strun and batch workers run.
"""

import os
import subprocess

import pytest
from astropy.io import fits

from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from tests.fits_bytes import masked_bytes
from tests.pipeline.test_pipeline import strun_command

#: parameters away from the defaults, so more of the code runs (jump with CRs, both flats)
PARAMETERS = {"steps": {"jump": {"rejection_threshold": 5.0}}}


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    """A small noisy exposure with cosmic rays, a time-variable background and a delta flat."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("sim"), size=64, samp_seq="SPARS25",
                             nsamp=8, seed=23, tvb=0.5, delta_flat=True)


def calibrate(exposure, out):
    """Run the pipeline in this process into ``out``; return ``{name: path}`` of the products."""
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(out), **PARAMETERS)
    return product_files(out)


@pytest.fixture(scope="module")
def first_run(exposure, tmp_path_factory):
    """The products of one run (module-wide, never modified)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("iref", str(exposure.iref))
        return calibrate(exposure, tmp_path_factory.mktemp("first"))


def product_files(directory):
    """``{name: path}`` of every file in ``directory``."""
    return {p.name: p for p in sorted(directory.iterdir())}


def assert_identical(first, second):
    """Same product names, byte-identical once the DATE cards are masked."""
    assert sorted(first) == sorted(second)
    for name in first:
        assert masked_bytes(first[name]) == masked_bytes(second[name]), name


def test_two_runs_give_byte_identical_products(first_run, exposure, tmp_path, monkeypatch):
    monkeypatch.setenv("iref", str(exposure.iref))
    assert sorted(first_run) == [f"{exposure.rootname}_flt.fits",
                                 f"{exposure.rootname}_ima.fits"]
    assert_identical(first_run, calibrate(exposure, tmp_path))
    with fits.open(first_run[f"{exposure.rootname}_flt.fits"]) as flt:
        assert flt[0].header["CRCORR"] == "COMPLETE"  # the fit ran: the data are not trivial
        assert flt["SCI"].data.std() > 0


@pytest.mark.slow
def test_a_fresh_process_with_another_hash_seed_gives_the_same_bytes(first_run, exposure,
                                                                      tmp_path):
    env = {**os.environ, "iref": str(exposure.iref), "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        strun_command("wfc3ir_pipeline", str(exposure.raw_path), f"--output_dir={tmp_path}",
                      "--steps.jump.rejection_threshold=5.0"),
        capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_identical(first_run, product_files(tmp_path))


def test_the_mask_hides_only_the_date(first_run, exposure, tmp_path):
    """The comparison can fail: a changed pixel shows through the mask, a changed DATE not."""
    flt = tmp_path / "copy_flt.fits"
    flt.write_bytes(first_run[f"{exposure.rootname}_flt.fits"].read_bytes())
    original = masked_bytes(flt)
    with fits.open(flt, mode="update") as hdul:
        hdul[0].header["DATE"] = "1999-12-31"
    assert masked_bytes(flt) == original
    with fits.open(flt, mode="update") as hdul:
        hdul["SCI"].data[3, 3] += 1.0
    assert masked_bytes(flt) != original
