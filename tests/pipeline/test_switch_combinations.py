"""Switch combinations: hstramp gives the products calwf3 gives for each, or says why not.

The calwf3 column was measured with calwf3.e 3.7.3 (hstcal, built here) on this very exposure
(``simulate_exposure(size=64, nsamp=6, seed=3)``, references made readable by calwf3 as
``benchmarks/_measure.calwf3_references`` does), the raw's switches set as in the row and the
rest OMIT. The medians are of the first SCI extension (the last read of the ima; the flt).
"""

import logging

import numpy as np
import pytest
from astropy.io import fits

from hstramp.pipeline.wfc3ir import WFC3IRPipeline

SWITCHES = ("DQICORR", "ZSIGCORR", "BLEVCORR", "ZOFFCORR", "NLINCORR", "DARKCORR", "PHOTCORR",
            "UNITCORR", "CRCORR", "FLATCORR")
ALL = frozenset(SWITCHES)

# name: (switches PERFORM, calwf3's ima (BUNIT, median), calwf3's flt (BUNIT, median))
# None: calwf3 writes no product ("CALWF3 did NOT process", exit status 0): GetIRFlags
# (wf3ir/getirflags.c) counts no step to do, because UNITCORR and the noise are not counted.
CASES = {
    "every switch OMIT": (frozenset(), None, None),
    "UNITCORR alone": (frozenset({"UNITCORR"}), None, None),
    # PHOTCORR alone is a step (checkPhot); CRCORR OMIT: the flt is the last read (wf3ir.c)
    "PHOTCORR alone": (frozenset({"PHOTCORR"}), ("COUNTS", 10767.0), ("COUNTS", 10746.0)),
    # CRCORR without UNITCORR: cridcalc.c multiplies the fit by its time (counts), and
    # flatcorr.c then makes them ELECTRONS
    "CRCORR without UNITCORR": (ALL - {"UNITCORR"}, ("ELECTRONS", 25.64),
                                ("ELECTRONS", 32.67)),
    # what the archive runs for spatial scans: the flt is the last read, in electrons
    "CRCORR and UNITCORR OMIT (scans)": (ALL - {"UNITCORR", "CRCORR"}, ("ELECTRONS", 25.64),
                                         ("ELECTRONS", 33.52)),
    # ZSIGCORR without ZOFFCORR: the reads keep the zeroth read (calwf3 does not object)
    "ZSIGCORR without ZOFFCORR": (ALL - {"ZOFFCORR"}, ("ELECTRONS/S", -262.47),
                                  ("ELECTRONS/S", 1.124)),
    # UNITCORR and CRCORR alone: no bias, dark or flat; the fit of raw DN per second
    "UNITCORR and CRCORR alone": (frozenset({"UNITCORR", "CRCORR"}), ("COUNTS/S", 376.72),
                                  ("COUNTS/S", 0.5612)),
}


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("sim"), size=64, nsamp=6, seed=3)


def _raw_with(exposure, directory, perform):
    directory.mkdir()
    raw = directory / exposure.raw_path.name
    with fits.open(exposure.raw_path) as hdul:
        for switch in SWITCHES:
            hdul[0].header[switch] = "PERFORM" if switch in perform else "OMIT"
        hdul.writeto(raw)
    return raw


def _first_sci(path):
    with fits.open(path) as hdul:
        return hdul["SCI", 1].header["BUNIT"], float(np.median(hdul["SCI", 1].data))


@pytest.mark.parametrize("name", list(CASES))
def test_switch_combination_gives_calwf3s_products(name, exposure, monkeypatch, tmp_path,
                                                   caplog):
    perform, ima, flt = CASES[name]
    monkeypatch.setenv("iref", str(exposure.iref))
    raw = _raw_with(exposure, tmp_path / "in", perform)
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        WFC3IRPipeline.call(str(raw), output_dir=str(out))
    for suffix, expected in (("ima", ima), ("flt", flt)):
        path = out / f"{exposure.rootname}_{suffix}.fits"
        if expected is None:
            assert not path.exists()
            assert "nothing to do" in caplog.text and "no products written" in caplog.text
            continue
        unit, median = _first_sci(path)
        assert unit == expected[0]
        # the ima's reads are calwf3's to the rounding; the fitted flt within the 1 % that
        # hstramp's read-time weights differ by from calwf3's index weights
        assert median == pytest.approx(expected[1], rel=0.01, abs=0.01)


def test_a_per_step_switch_is_work_even_when_the_header_says_nothing(exposure, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setenv("iref", str(exposure.iref))
    raw = _raw_with(exposure, tmp_path / "in", {"UNITCORR"})
    WFC3IRPipeline.call(str(raw), output_dir=str(tmp_path / "out"),
                        steps={"dq_init": {"switch": "perform"}})
    assert (tmp_path / "out" / f"{exposure.rootname}_ima.fits").exists()
