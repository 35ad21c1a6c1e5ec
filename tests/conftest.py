"""Shared fixtures: paths to the real WFC3 files and a small synthetic ramp model."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "wfc3ir"


def pytest_addoption(parser):
    parser.addoption(
        "--lean-asdf", action="store_true",
        help="run the tests in a process whose asdf plugins are loaded as a batch worker's "
             "(hstramp.asdf_plugins.load_plugins_except): every test then shows that no "
             "hstramp code needs the plugins a worker leaves out")


def pytest_configure(config):
    if config.getoption("--lean-asdf"):
        from hstramp.asdf_plugins import load_plugins_except

        if not load_plugins_except():
            raise pytest.UsageError("--lean-asdf: asdf's plugins were loaded already, or its "
                                    "entry-point listing is not as hstramp.asdf_plugins expects")


def _shared(name):
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"real WFC3 file {path} is not available")
    return path


@pytest.fixture
def real_file():
    """Return a function giving the path of a real file in ../shared/data/wfc3ir."""
    return _shared


def sha256(path):
    """Checksum of a file, to prove inputs are never modified."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def small_ramp():
    """A small RampModel with uneven read times and WFC3 metadata (seeded)."""
    from hstramp.datamodels import RampModel

    rng = np.random.default_rng(42)
    times = np.array([0.0, 0.112705, 7.29408, 14.475455, 21.65683])
    data = (100.0 * times[:, None, None] + rng.normal(0, 5, (5, 12, 10))).astype(np.float32)
    model = RampModel(data=data, times=times)
    model.meta.filename = "test0001q_raw.fits"
    model.meta.instrument.name = "WFC3"
    model.meta.instrument.detector = "IR"
    model.meta.instrument.filter = "F160W"
    model.meta.observation.rootname = "test0001q"
    model.meta.exposure.nsamp = 5
    model.meta.exposure.samp_seq = "SPARS10"
    model.meta.subarray.ltv1 = -438.0
    model.meta.subarray.ltv2 = -438.0
    model.meta.cal_step.dqicorr = "PERFORM"
    model.meta.bunit_data = "COUNTS"
    model.meta.headers.primary = [["INSTRUME", "WFC3", "instrument"], ["DETECTOR", "IR", ""],
                                  ["ROOTNAME", "test0001q", ""], ["NSAMP", 5, ""]]
    model.meta.headers.sci = [["LTV1", -438.0, ""], ["LTV2", -438.0, ""]]
    return model
