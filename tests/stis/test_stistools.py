"""The real stistools on hstramp's STIS CCD products (issue 15, part 5).

The stistools utilities that take a calibrated 2-D CCD product and need no network and no
calstis binary: ``stisnoise`` (pattern-noise power spectrum and filter), ``sshift`` (align
flts dithered along the slit), ``ctestis`` (CTE correction from the crj's header) and
``add_stis_s_region`` (S_REGION from the aperture and the image's WCS, with pysiaf's HST
SIAF, which pysiaf ships). Each test checks what the tool computed from hstramp's product
against what it must be, not only that it ran. ``basic2d``, ``ocrreject``, ``calstis``,
``x1d``, ``x2d`` and ``wavecal`` run calstis's binaries; ``wx2d``, ``mktrace``, ``tastis``,
``doppinfo``, ``inttag``, ``evaldisp`` take spectra, acquisitions or MAMA TIME-TAG data, and
``ocrreject_exam`` an extracted spectrum beside the flt, none of which hstramp writes.

Skipped only where stistools is absent (the ``test`` extra installs it, so CI runs them).
stistools leaves files open (``stisnoise``, ``sshift`` and ``ctestis`` call ``fits.open``
and never close): the "unclosed file" ResourceWarning those files give when they are
collected is ignored around those calls alone (:func:`stistools_leaks`, which collects
them there); any other warning still fails the test.
"""

import contextlib
import gc
import math
import warnings

import numpy as np
import pytest
from astropy.io import fits

with warnings.catch_warnings():
    # stistools' package __init__ imports stsci.tools' nmpfit and gfit, which announce
    # their own deprecation when imported: not a warning about hstramp or its products
    warnings.filterwarnings("ignore", message=r"(NMPFIT|GFIT) is deprecated",
                            category=UserWarning)
    pytest.importorskip("stistools")
    from stistools.add_stis_s_region import add_s_region
    from stistools.ctestis import ctestis
    from stistools.sshift import sshift
    from stistools.stisnoise import stisnoise

from tests.stis.calstis_keywords import ROOTNAME, make_input


@contextlib.contextmanager
def stistools_leaks():
    """Run a stistools call that leaves files open, and collect them here, where their
    "unclosed file" ResourceWarning is expected and ignored."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unclosed file", category=ResourceWarning)
        yield
        gc.collect()


#: stisnoise's serial shift period, s, and parallel shift time in serial periods
SERIAL_SHIFT = 22.0e-6
PARALLEL_SHIFTS = 640.0 / 22.0
#: the pattern put into the raw: frequency (Hz) and amplitude (DN)
PATTERN_HZ, PATTERN_DN = 7000.0, 4.0


def _calibrate(raw, oref, out):
    from hstramp.pipeline.stis import STISCCDPipeline

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("oref", str(oref))
        STISCCDPipeline.call(str(raw), output_dir=str(out))
    return out


@pytest.fixture(scope="module")
def subarray(tmp_path_factory):
    """The raw of tests/stis/calstis_keywords.py (64-row subarray, CR-SPLIT=2, EXPSCORR)."""
    return make_input(tmp_path_factory.mktemp("stistools"))


# ------------------------------------------------------------------ stisnoise
def _with_pattern(raw, out):
    """``raw`` with a sine of PATTERN_HZ in readout time (amplifier D reads the image
    rotated by 180 degrees, each line followed by the parallel shift), as stisnoise models
    the CCD's readout."""
    with fits.open(raw) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    assert hdul[0].header["CCDAMP"] == "D"
    data = hdul["SCI", 1].data.astype(np.float64)
    rows, cols = np.mgrid[0 : data.shape[0], 0 : data.shape[1]]
    rows, cols = data.shape[0] - 1 - rows, data.shape[1] - 1 - cols
    seconds = (rows * (data.shape[1] + PARALLEL_SHIFTS) + cols) * SERIAL_SHIFT
    data += PATTERN_DN * np.sin(2 * math.pi * PATTERN_HZ * seconds)
    hdul["SCI", 1].data = np.round(data).astype(np.uint16)
    hdul.writeto(out)
    return out


@pytest.fixture(scope="module")
def full_frame_flt(tmp_path_factory):
    """hstramp's flt of a full-frame exposure (sky only) whose raw has a 7 kHz pattern."""
    from hstramp.simulate.stis import simulate_stis_exposure

    directory = tmp_path_factory.mktemp("stisnoise")
    sim = simulate_stis_exposure(directory / "sim", crsplit=1, exptime=100.0, seed=5,
                                 expscorr=True, n_stars=0, cosmic_rays=False)
    raw = _with_pattern(sim.raw_path, directory / f"{sim.rootname}_raw.fits")
    out = _calibrate(raw, sim.oref, directory / "out")
    return raw, out / f"{sim.rootname}_flt.fits"


def _peak(freq, magn):
    k = int(np.argmax(magn))
    return freq[k], magn[k]


def test_stisnoise_finds_the_raws_pattern_in_hstramps_flt(full_frame_flt, tmp_path):
    raw, flt = full_frame_flt
    with stistools_leaks():
        raw_freq, raw_magn = stisnoise(str(raw), verbose=0)
        freq, magn = stisnoise(str(flt), verbose=0)
    assert len(freq) == len(raw_freq) == 2**19
    at, height = _peak(freq, magn)
    assert at == pytest.approx(PATTERN_HZ, abs=freq[1])
    assert _peak(raw_freq, raw_magn)[0] == at
    # calibrated in DN like the raw (no gain applied on the CCD): the same pattern height,
    # far above the white noise of the sky
    assert height == pytest.approx(_peak(raw_freq, raw_magn)[1], rel=0.1)
    assert height > 100 * np.median(magn)
    # filtered around the pattern, the peak is gone and the cleaned image is hstramp's
    # flt less the pattern
    cleaned = tmp_path / "clean.fits"
    with stistools_leaks():
        after_freq, after = stisnoise(str(flt), verbose=0, outfile=str(cleaned),
                                      window=[PATTERN_HZ, 200.0, 50.0])
    near = np.abs(after_freq - PATTERN_HZ) < 20.0
    assert after[near].max() < 0.05 * height
    with fits.open(cleaned) as out, fits.open(flt) as calibrated:
        assert out[1].data.shape == calibrated["SCI", 1].data.shape == (1024, 1024)
        assert out[0].header["CCDAMP"] == calibrated[0].header["CCDAMP"]
        residual = out[1].data - calibrated["SCI", 1].data
        assert np.std(residual) == pytest.approx(PATTERN_DN / math.sqrt(2), rel=0.15)


# ------------------------------------------------------------------ sshift
@pytest.fixture(scope="module")
def dithered_flts(subarray, tmp_path_factory):
    """hstramp's flts of the subarray exposure at POSTARG2 0 and +2 pixels (0.05077"/px,
    sshift's plate scale), with the visit keywords sshift compares."""
    from hstramp.simulate.stis.calibration import derive_fits

    raw, oref = subarray
    directory = tmp_path_factory.mktemp("sshift")
    flts = []
    for k, postarg2 in enumerate((0.0, 2 * 0.05077)):
        rootname = f"osbsd{k}03q"
        dithered = derive_fits(raw, directory / f"{rootname}_raw.fits", primary={
            "ROOTNAME": rootname, "OBSET_ID": "sd", "CENWAVE": 0, "POSTARG1": 0.0,
            "POSTARG2": postarg2})
        _calibrate(dithered, oref, directory / "out")
        flts.append(directory / "out" / f"{rootname}_flt.fits")
    return flts


def test_sshift_aligns_hstramps_dithered_flts(dithered_flts, capsys):
    outputs = [path.with_name(path.name.replace("_flt", "_sfl")) for path in dithered_flts]
    with stistools_leaks():
        sshift([str(p) for p in dithered_flts], output=[str(p) for p in outputs])
    assert "pixel-shift" in capsys.readouterr().out
    # the reference is the exposure nearer row 512 (the +2 px one, as CRPIX2 is 32.5): the
    # other one moves 2 rows up; every extension of every imset, headers kept
    expected_shift = {0: 2, 1: 0}
    for k, (flt, sfl) in enumerate(zip(dithered_flts, outputs, strict=True)):
        with fits.open(flt) as before, fits.open(sfl) as after:
            assert len(after) == len(before) == 7
            assert "SSHIFT complete ..." in [str(h) for h in after[0].header["HISTORY"]]
            shift = expected_shift[k]
            for old, new in zip(before[1:], after[1:], strict=True):
                assert new.header["EXTNAME"] == old.header["EXTNAME"]
                assert new.header["NGOODPIX" if old.name != "DQ" else "BUNIT"] == \
                    old.header["NGOODPIX" if old.name != "DQ" else "BUNIT"]
                np.testing.assert_array_equal(new.data[shift:], old.data[: old.data.shape[0]
                                                                          - shift])
                assert not new.data[:shift].any()


# ------------------------------------------------------------------ ctestis
@pytest.fixture(scope="module")
def subarray_products(subarray):
    raw, oref = subarray
    out = _calibrate(raw, oref, raw.parent / "hstramp")
    return raw, {suffix: out / f"{ROOTNAME}_{suffix}.fits" for suffix in ("flt", "crj")}


def test_ctestis_reads_hstramps_crj_as_the_exposure_was_taken(subarray_products, capsys):
    """ctestis takes MJD (TEXPSTRT), the reads combined (NCOMBINE of SCI,1), the binning,
    gain and amplifier from the crj: the same answer as with the exposure's own values."""
    raw, products = subarray_products
    primary = fits.getheader(raw, 0)
    with stistools_leaks():
        from_header = ctestis(40.0, 2000.0, 15.0, stisimage=str(products["crj"]))
    by_hand = ctestis(40.0, 2000.0, 15.0, mjd=primary["TEXPSTRT"], nread=primary["CRSPLIT"],
                      ybin=primary["BINAXIS2"], gain=float(primary["CCDGAIN"]),
                      amp=primary["CCDAMP"])
    capsys.readouterr()
    assert from_header == by_hand
    fluxc, dmagc, dyc = from_header
    # the counts of one of the 2 reads, CTE loss corrected: brighter, and shifted up
    assert fluxc > 2000.0 / 2 and dmagc < 0 and dyc > 0


# ------------------------------------------------------------------ add_stis_s_region
@pytest.fixture(scope="module")
def siaf():
    import pysiaf

    return pysiaf.Siaf("HST")


@pytest.mark.parametrize("suffix", ["crj", "flt"])
def test_add_s_region_from_hstramps_wcs(subarray, siaf, suffix, tmp_path, capsys):
    """S_REGION of each SCI extension from RA_APER/DEC_APER/PA_APER and hstramp's WCS: the
    64-row subarray limits the footprint in y (CRPIX2 and NAXIS2 of the trimmed product),
    the 50CCD aperture in x."""
    from hstramp.simulate.stis.calibration import derive_fits

    raw, oref = subarray
    ra, dec = 150.1, 2.2
    imsets = fits.getheader(raw, 0)["NEXTEND"] // 3
    pointed = derive_fits(raw, tmp_path / f"{ROOTNAME}_raw.fits", sci=[
        {"RA_APER": ra, "DEC_APER": dec, "PA_APER": 0.0, "CTYPE1": "RA---TAN",
         "CTYPE2": "DEC--TAN"}] * imsets)
    product = _calibrate(pointed, oref, tmp_path / "out") / f"{ROOTNAME}_{suffix}.fits"
    add_s_region(str(product), siaf)
    capsys.readouterr()
    with fits.open(product) as hdul:
        scis = [hdu for hdu in hdul if hdu.name == "SCI"]
        assert len(scis) == (1 if suffix == "crj" else 2)
        for sci in scis:
            words = sci.header["S_REGION"].split()
            assert words[:2] == ["POLYGON", "ICRS"]
            corners = np.array(words[2:], float).reshape(-1, 2)
            scale = math.hypot(sci.header["CD2_1"], sci.header["CD2_2"]) * 3600.0
            bottom = -scale * sci.header["CRPIX2"]
            top = scale * (sci.header["NAXIS2"] - sci.header["CRPIX2"])
            np.testing.assert_allclose(corners[:, 1], dec + np.array(
                [bottom, top, top, bottom, bottom]) / 3600.0, rtol=0, atol=1e-9)
            width = (corners[:, 0].max() - corners[:, 0].min()) * 3600.0 * math.cos(
                math.radians(dec))
            assert 45.0 < width <= 1024 * scale + 1e-6      # the 50" aperture
            middle = (corners[:, 0].max() + corners[:, 0].min()) / 2
            assert middle == pytest.approx(ra, abs=1.0 / 3600)
