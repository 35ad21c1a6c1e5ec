"""The simulator: determinism, the exact raw format, the reference set and the truth."""

import hashlib

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.geometry import FULL_FRAME_LTV, ScienceGeometry, reference_offset
from hstramp.core.phot import photmode
from hstramp.datamodels import dqflags
from hstramp.reference import (
    read_bpixtab,
    read_ccdtab,
    read_crrejtab,
    read_darkfile,
    read_flats,
    read_imphttab,
    read_nlinfile,
    read_oscntab,
    resolve_reference_path,
)
from hstramp.simulate import (
    TVBProfile,
    detector_pixel_indices,
    simulate_exposure,
    simulate_tvb_twins,
)
from hstramp.simulate.ramp import FULL_WELL_MARGIN, invert_linearity, linearity_correction

COMMENTARY = {"", "COMMENT", "HISTORY"}
REFERENCE_KEYWORDS = ("CCDTAB", "OSCNTAB", "BPIXTAB", "NLINFILE", "DARKFILE", "PFLTFILE",
                      "DFLTFILE", "LFLTFILE", "CRREJTAB", "IMPHTTAB")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _reads(raw_path):
    """Raw reads in time order (float64) and the primary header."""
    with fits.open(raw_path) as hdul:
        nsamp = hdul[0].header["NSAMP"]
        reads = np.array([hdul["SCI", nsamp - i].data for i in range(nsamp)], dtype=np.float64)
        return reads, hdul[0].header.copy()


def _truth(path):
    with fits.open(path) as hdul:
        images = {hdu.name: np.array(hdu.data) for hdu in hdul[1:] if hdu.is_image}
        tables = {name: hdul[name].data.copy() for name in ("READS", "CRS", "STARS")}
        return images, tables, hdul[0].header.copy()


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    return simulate_exposure(tmp_path_factory.mktemp("noisy"), size=64, seed=11)


@pytest.fixture(scope="module")
def noiseless(tmp_path_factory):
    return simulate_exposure(tmp_path_factory.mktemp("noiseless"), size=64, seed=12,
                             noise=False, tvb=TVBProfile(amplitude=1.5), delta_flat=True)


def test_same_seed_gives_identical_bytes(noisy, tmp_path):
    simulate_exposure(tmp_path, size=64, seed=11)
    originals = sorted(noisy.iref.glob(f"{noisy.rootname}_*.fits"))
    assert len(originals) == 11  # raw, truth and nine reference files (DFLTFILE is N/A)
    for path in originals:
        assert _digest(path) == _digest(tmp_path / path.name), path.name
    other = simulate_exposure(tmp_path / "other", size=64, seed=13, rootname=noisy.rootname)
    assert _digest(other.raw_path) != _digest(noisy.raw_path)


def test_raw_structure_is_that_of_a_real_raw(real_file, tmp_path):
    real_path = real_file("ibh7a7lsq_raw.fits")  # SQ128SUB SPARS10 NSAMP 9
    sim = simulate_exposure(tmp_path, size=128, samp_seq="SPARS10", nsamp=9, seed=1,
                            filter="G141")
    with fits.open(real_path) as real, fits.open(sim.raw_path) as ours:
        assert [(h.name, h.ver) for h in real] == [(h.name, h.ver) for h in ours]
        for keyword in set(real[0].header) - COMMENTARY:
            assert keyword in ours[0].header, f"primary lacks {keyword}"
        assert ours[0].header["NEXTEND"] == 45 and ours[0].header["BITPIX"] == 16
        for a, b in zip(real[1:], ours[1:], strict=True):
            missing = set(a.header) - set(b.header) - COMMENTARY
            assert not missing, f"{b.name},{b.ver} lacks {sorted(missing)}"
            for key in ("BITPIX", "NAXIS", "NPIX1", "NPIX2", "BUNIT", "LTV1", "LTV2", "SAMPNUM",
                        "SAMPTIME", "BZERO", "SIZAXIS1", "SDQFLAGS"):
                if key in a.header:
                    assert a.header[key] == pytest.approx(b.header[key], abs=1e-6), (b.name, key)
            if a.name in ("ERR", "DQ", "SAMP", "TIME"):
                assert b.data is None and a.header["PIXVALUE"] == b.header["PIXVALUE"]
            else:
                assert b.data.dtype == np.uint16 and b.data.shape == a.data.shape
                assert b.header["DELTATIM"] == pytest.approx(a.header["DELTATIM"], abs=1e-6)
        for key in ("SUBARRAY", "SUBTYPE", "SAMP_SEQ", "NSAMP", "SAMPZERO", "CCDGAIN", "CCDAMP",
                    "DETECTOR", "INSTRUME"):
            assert ours[0].header[key] == real[0].header[key], key
        for key in REFERENCE_KEYWORDS:
            value = ours[0].header[key]
            assert value == "N/A" or value.startswith("iref$"), key
        assert ours[0].header["EXPTIME"] == real[0].header["EXPTIME"]
        ours.verify("exception")


def test_every_reference_reads_back_consistently(noiseless, monkeypatch):
    monkeypatch.setenv("iref", str(noiseless.iref))
    _, header = _reads(noiseless.raw_path)
    images, _, _ = _truth(noiseless.truth_path)
    paths = {k: resolve_reference_path(header[k], k) for k in REFERENCE_KEYWORDS}
    assert paths == noiseless.reference_paths
    geometry = noiseless.geometry
    ccd = read_ccdtab(paths["CCDTAB"], ccdgain=header["CCDGAIN"])
    osc = read_oscntab(paths["OSCNTAB"], nx=geometry.shape[1], ny=geometry.shape[0])
    assert osc.trimx[:2] == (5, 5)
    np.testing.assert_array_equal(read_bpixtab(paths["BPIXTAB"], geometry), images["BADPIX"])
    assert np.count_nonzero(images["BADPIX"]) > 10
    lin = read_nlinfile(paths["NLINFILE"], geometry)
    science = (slice(5, -5), slice(5, -5))
    np.testing.assert_array_equal(lin.zsci[science], images["BIAS"][science])
    dark = read_darkfile(paths["DARKFILE"], times=noiseless.times, shape=geometry.shape,
                         samp_seq=header["SAMP_SEQ"], subtype=header["SUBTYPE"])
    np.testing.assert_allclose(dark.data[-1], images["DARK_DN"] * noiseless.times[-1],
                               rtol=1e-6, atol=1e-6)
    hot = images["DARK_E"] > 1.0
    assert np.all(dark.dq[:, hot] == dqflags.HOT)
    flat = read_flats(paths["PFLTFILE"], paths["DFLTFILE"], paths["LFLTFILE"],
                      geometry=geometry, filter=header["FILTER"])
    np.testing.assert_array_equal(flat.data, images["FLAT"])
    assert read_crrejtab(paths["CRREJTAB"], nsamp=header["NSAMP"],
                         exptime=header["EXPTIME"]).threshold == 4.0
    phot = read_imphttab(paths["IMPHTTAB"], photmode(header["FILTER"],
                                                             header["EXPSTART"]))
    assert 1e-20 < phot.photflam < 3e-20
    np.testing.assert_allclose(images["GAIN"][6, 6], ccd.gain[1], rtol=1e-6)  # amp B


def test_noiseless_reads_are_the_formula(noiseless, monkeypatch):
    monkeypatch.setenv("iref", str(noiseless.iref))
    reads, header = _reads(noiseless.raw_path)
    images, tables, keys = _truth(noiseless.truth_path)
    lin = read_nlinfile(resolve_reference_path(header["NLINFILE"], "NLINFILE"),
                        noiseless.geometry)
    times, t_reset = noiseless.times, keys["T_RESET"]
    assert t_reset == header["SAMPZERO"] == noiseless.t_reset
    drift = tables["READS"]["DRIFT"]
    assert drift[0] == 0.0 and np.any(drift != 0.0)
    flat_dn = images["FLAT"].astype(np.float64) / keys["MEANGAIN"]
    science = np.zeros(noiseless.geometry.shape, bool)
    science[5:-5, 5:-5] = True
    crs = tables["CRS"]
    assert len(crs) > 0
    for i, t in enumerate(times):
        charge = ((images["RATE_DN"].astype(np.float64) + images["DARK_DN"]) * (t + t_reset)
                  + np.where(science, tables["READS"]["TVB_E"][i] * flat_dn, 0.0))
        hit = crs["READ"] <= i
        np.add.at(charge, (crs["Y"][hit], crs["X"][hit]), crs["AMPLITUDE"][hit])
        signal = invert_linearity(charge, lin.coeffs, lin.node)
        expected = images["BIAS"] + drift[i] + np.minimum(signal, lin.node + FULL_WELL_MARGIN)
        assert np.max(np.abs(reads[i] - expected)) <= 0.5 + 1e-3, i
        unsaturated = science & (signal <= lin.node)
        linear = linearity_correction(reads[i] - images["BIAS"] - drift[i], lin.coeffs)
        np.testing.assert_allclose(linear[unsaturated], charge[unsaturated], atol=0.6)
    np.testing.assert_allclose(images["ZEROSIG"],
                               (images["RATE_DN"] + images["DARK_DN"]) * t_reset, rtol=1e-5,
                               atol=1e-4)


def _calibrate_like_calwf3(sim, monkeypatch):
    """ZSIG, BLEV, ZOFF, NLIN, DARK and a line fit, as in calwf3 (no CR rejection)."""
    monkeypatch.setenv("iref", str(sim.iref))
    reads, header = _reads(sim.raw_path)
    geometry = sim.geometry
    paths = {k: resolve_reference_path(header[k], k) for k in REFERENCE_KEYWORDS}
    lin = read_nlinfile(paths["NLINFILE"], geometry)
    osc = read_oscntab(paths["OSCNTAB"], nx=geometry.shape[1], ny=geometry.shape[0])
    dark = read_darkfile(paths["DARKFILE"], times=sim.times, shape=geometry.shape,
                         samp_seq=header["SAMP_SEQ"], subtype=header["SUBTYPE"])
    zsig = reads[0] - lin.zsci
    rows = osc.science_slices[0]
    blev = np.array([np.mean(np.concatenate([r[rows, osc.biassect_a].ravel(),
                                             r[rows, osc.biassect_b].ravel()]))
                     for r in reads])
    data = reads - blev[:, None, None]
    data = data - data[0]
    signal = data + zsig
    corrected = linearity_correction(signal, lin.coeffs) - zsig - dark.data
    saturated = (signal > lin.node)[1:].any(axis=0)
    design = np.vstack([sim.times[1:], np.ones(sim.times.size - 1)]).T
    fit = np.linalg.lstsq(design, corrected[1:].reshape(sim.times.size - 1, -1), rcond=None)[0]
    return fit[0].reshape(geometry.shape), saturated, blev


def test_calwf3_steps_recover_the_truth(noiseless, monkeypatch):
    slope, saturated, blev = _calibrate_like_calwf3(noiseless, monkeypatch)
    images, tables, keys = _truth(noiseless.truth_path)
    np.testing.assert_allclose(blev - blev[0], tables["READS"]["DRIFT"], atol=0.1)
    b = slice(5, -5)
    crs = tables["CRS"]
    clean = ~saturated
    clean[crs["Y"], crs["X"]] = False
    # the TVB adds its mean rate; subtract its exact line fit to compare with the steady truth
    tvb = np.polyfit(noiseless.times[1:], tables["READS"]["TVB_E"][1:], 1)[0]
    expected = images["RATE_DN"] + tvb * images["FLAT"] / keys["MEANGAIN"]
    residual = (slope - expected)[b, b][clean[b, b]]
    assert residual.size > 3000
    assert np.max(np.abs(residual)) < 0.05  # DN/s: only the rounding of raw DN remains
    assert np.all(images["FIRSTSAT"][saturated] >= 1)


def test_saturation_and_zero_read_signal_are_present(noisy):
    images, tables, _ = _truth(noisy.truth_path)
    first = images["FIRSTSAT"]
    assert np.any(first == -1) and np.any(first >= 1)
    assert images["ZEROSIG"].max() > 300.0  # strong zeroth-read signal on the bright star
    stars = tables["STARS"]
    assert stars["FLUX"].max() >= 3e5 and len(stars) >= 5


def test_noisy_reads_have_the_read_noise(noisy):
    reads, _ = _reads(noisy.raw_path)
    images, tables, _ = _truth(noisy.truth_path)
    ccd = read_ccdtab(noisy.reference_paths["CCDTAB"])
    diff = (reads[1] - reads[0] - (tables["READS"]["DRIFT"][1]))[5:-5, 5:-5]
    faint = images["RATE_DN"][5:-5, 5:-5] < 2.0
    # CDS noise of two reads: READNSE / gain (READNSE is for a CDS pair, in e-)
    expected = np.mean(ccd.read_noise) / ccd.mean_gain
    assert np.std(diff[faint]) == pytest.approx(expected, rel=0.08)


def test_reference_and_science_levels(noisy):
    reads, _ = _reads(noisy.raw_path)
    zeroth = reads[0]
    border = np.ones(zeroth.shape, bool)
    border[5:-5, 5:-5] = False
    assert 14050 < np.median(zeroth[border]) < 14250
    assert 10550 < np.percentile(zeroth[~border], 5) and np.median(zeroth[~border]) < 10900


def test_subarray_border_reads_detector_reference_pixels():
    geometry = ScienceGeometry.for_science_size(64)
    rows, cols = detector_pixel_indices(geometry)
    assert list(cols[:5]) == [0, 1, 2, 3, 4] and list(cols[-5:]) == [1019, 1020, 1021, 1022,
                                                                     1023]
    offset = reference_offset(geometry.ltv, FULL_FRAME_LTV)[0]
    assert cols[5] == 5 + offset == 512 - 32 and np.array_equal(rows, cols)


def test_cosmic_rays_truth(noisy):
    reads, _ = _reads(noisy.raw_path)
    _, tables, keys = _truth(noisy.truth_path)
    crs = tables["CRS"]
    assert keys["NCR"] == len(crs) > 3
    big = crs["AMPLITUDE"] > 500
    jumps = reads[crs["READ"], crs["Y"], crs["X"]] - reads[crs["READ"] - 1, crs["Y"], crs["X"]]
    assert np.all(jumps[big] > 0.8 * crs["AMPLITUDE"][big])
    assert np.all((crs["READ"] >= 1) & (crs["READ"] < noisy.times.size))


def test_tvb_twins(tmp_path):
    steady, affected = simulate_tvb_twins(tmp_path, seed=5, size=64)
    s_images, s_tables, s_keys = _truth(steady.truth_path)
    a_images, a_tables, a_keys = _truth(affected.truth_path)
    for name in ("CRS", "STARS"):
        assert np.array_equal(s_tables[name], a_tables[name])
    np.testing.assert_array_equal(s_images["RATE_E"], a_images["RATE_E"])
    assert not s_keys["TVB"] and a_keys["TVB"]
    rate = a_tables["READS"]["TVB_RATE"]
    assert rate[0] == 0.0 and 0.5 <= rate[-1] <= 1.5 and np.all(np.diff(rate) >= 0)
    assert np.all(s_tables["READS"]["TVB_E"] == 0.0)
    s_reads, _ = _reads(steady.raw_path)
    a_reads, _ = _reads(affected.raw_path)
    extra = np.median((a_reads[-1] - s_reads[-1])[5:-5, 5:-5])
    expected = a_tables["READS"]["TVB_E"][-1] / a_keys["MEANGAIN"]
    assert extra == pytest.approx(expected, abs=1.5)
    assert np.median((a_reads[1] - s_reads[1])[5:-5, 5:-5]) == pytest.approx(0.0, abs=1.0)


@pytest.mark.parametrize(("kwargs", "error"), [({"size": 100}, "size"),
                                               ({"samp_seq": "SPARS7"}, "samp_seq"),
                                               ({"nsamp": 17}, "nsamp"),
                                               ({"tvb": "yes"}, "tvb")])
def test_bad_arguments(tmp_path, kwargs, error):
    with pytest.raises((ValueError, TypeError), match=error):
        simulate_exposure(tmp_path, **kwargs)


def test_twins_need_a_background(tmp_path):
    with pytest.raises(ValueError, match="tvb"):
        simulate_tvb_twins(tmp_path, seed=1, tvb=None)


@pytest.mark.slow
def test_full_frame_sixteen_reads(tmp_path, monkeypatch):
    sim = simulate_exposure(tmp_path, size=1014, samp_seq="SPARS10", nsamp=16, seed=2)
    reads, header = _reads(sim.raw_path)
    assert reads.shape == (16, 1024, 1024) and not header["SUBARRAY"]
    assert sim.geometry.ltv == FULL_FRAME_LTV
    with fits.open(sim.raw_path) as hdul:
        assert hdul["SCI", 1].header["LTV1"] == 5.0
    monkeypatch.setenv("iref", str(sim.iref))
    lin = read_nlinfile(resolve_reference_path(header["NLINFILE"], "NLINFILE"), sim.geometry)
    images, _, _ = _truth(sim.truth_path)
    np.testing.assert_array_equal(lin.zsci, images["BIAS"])  # no cut for full frame


def test_references_are_what_calwf3_accepts(noisy):
    """calwf3 selects the IR CCDTAB row with CCDOFSTx equal to 0 (getkeys.c reads the
    commanded offsets only for UVIS) and refuses an IMPHTTAB without PARNUM (getphttab.c)."""
    with fits.open(noisy.reference_paths["CCDTAB"]) as ccdtab:
        for amp in "ABCD":
            assert (ccdtab[1].data[f"CCDOFST{amp}"] == 0).all()
    with fits.open(noisy.reference_paths["IMPHTTAB"]) as imphttab:
        assert imphttab[0].header["PARNUM"] == 1
        assert all(f"{hdu.name}1" in hdu.columns.names for hdu in imphttab[1:])
