"""drizzlepac's AstroDrizzle on hstramp flts: one alone, and a dithered pair with driz_cr.

Offline as CI is: ``updatewcs=False`` (no IDCTAB, no astrometry database) and
``ASTROMETRY_STEP_CONTROL=OFF``. AstroDrizzle edits its inputs (MDRIZSKY, CR flags), so it
runs on copies.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from hstramp.pipeline.wfc3ir import WFC3IRPipeline

astrodrizzle = pytest.importorskip("drizzlepac.astrodrizzle")

pytestmark = [
    # drizzlepac's own, not hstramp's: the long cards it writes, the files it leaves open
    pytest.mark.filterwarnings("ignore:Card is too long:astropy.io.fits.verify.VerifyWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    # as for a calwf3 flt drizzled without updatewcs: the IDC scale comes from the CD matrix
    pytest.mark.filterwarnings("ignore:IDCSCALE is missing:UserWarning"),
    # stsci.image's num_combine makes its output with np.empty_like and its C combine casts
    # the pixels every input masks from it: whether that warns depends on what the memory
    # held before (seen once in a CI run, 2026-12-06), not on the inputs
    pytest.mark.filterwarnings(
        "ignore:invalid value encountered in cast:RuntimeWarning:stsci.image.combine"),
]

#: the pair's dither, whole pixels (x, y)
DITHER = (4, 3)


def flt_of(simulated, out):
    """Run hstramp on a simulated exposure; the path of its flt."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(simulated.iref))
        WFC3IRPipeline.call(str(simulated.raw_path), output_dir=str(out), save_ima=False)
    return out / f"{simulated.rootname}_flt.fits"


@pytest.fixture(scope="module")
def flts(tmp_path_factory):
    """Two hstramp flts of the same scene: with cosmic rays, and without (another rootname)."""
    from hstramp.simulate import simulate_exposure

    base = tmp_path_factory.mktemp("drizzle")
    first = simulate_exposure(base / "a", size=64, nsamp=9, seed=21, rootname="idrz01aaq")
    second = simulate_exposure(base / "b", size=64, nsamp=9, seed=21, rootname="idrz01abq",
                               cosmic_rays=False)
    return flt_of(first, base / "out"), flt_of(second, base / "out")


def dithered_copy(flt, path, shift):
    """The same exposure seen ``shift`` whole pixels away: every extension moved by
    ``shift`` and CRPIX with it, so each source keeps its sky position; the uncovered strip
    gets DQ 4 (no data) and SCI 0."""
    dx, dy = shift
    with fits.open(flt) as hdul:
        for hdu in hdul[1:]:
            moved = np.zeros_like(hdu.data)
            moved[dy:, dx:] = hdu.data[:hdu.data.shape[0] - dy, :hdu.data.shape[1] - dx]
            if hdu.name == "DQ":
                moved[:dy, :] = 4
                moved[:, :dx] = 4
            hdu.data = moved
            hdu.header["CRPIX1"] += dx
            hdu.header["CRPIX2"] += dy
        hdul.writeto(path)
    return path


def drizzle(inputs, workdir, output, **options):
    """AstroDrizzle as a user runs it offline; the path of its drz."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASTROMETRY_STEP_CONTROL", "OFF")
        patch.chdir(workdir)
        astrodrizzle.AstroDrizzle([str(p.name) for p in inputs], output=output,
                                  updatewcs=False, build=True, clean=True, in_memory=True,
                                  context=False, final_pixfrac=1.0, final_wht_type="EXP",
                                  **options)
    return workdir / f"{output}_drz.fits"


def brightest_source(path):
    """Sky position of the brightest good pixel of an flt, and the flt's background-subtracted
    flux in a 9x9 box around it (e-/s)."""
    with fits.open(path) as hdul:
        data, dq = hdul["SCI"].data, hdul["DQ"].data
        good = np.where(dq == 0, data, -np.inf)
        y, x = np.unravel_index(np.argmax(good[6:-6, 6:-6]), (data.shape[0] - 12,
                                                              data.shape[1] - 12))
        y, x = y + 6, x + 6
        flux = box_flux(data, y, x)
        return WCS(hdul["SCI"].header).pixel_to_world(x, y), flux


def box_flux(data, y, x, half=4):
    """Sum in a (2 half + 1)^2 box, less the image median per pixel."""
    box = data[y - half:y + half + 1, x - half:x + half + 1]
    assert np.isfinite(box).all()
    return float(box.sum() - box.size * np.nanmedian(data))


def drizzled_flux(drz, position):
    with fits.open(drz) as hdul:
        data = hdul["SCI"].data
        x, y = (round(float(v)) for v in WCS(hdul["SCI"].header).world_to_pixel(position))
        return box_flux(data, y, x)


def test_astrodrizzle_drizzles_an_flt_alone(flts, tmp_path):
    flt = Path(shutil.copy(flts[0], tmp_path))
    drz = drizzle([flt], tmp_path, "alone", driz_separate=False,
                  median=False, blot=False, driz_cr=False)
    with fits.open(drz) as hdul:
        assert hdul["SCI"].data.shape[0] >= 60 and hdul["WHT"].data.max() > 0
        assert np.isfinite(hdul["SCI"].data[hdul["WHT"].data > 0]).all()
        assert hdul[0].header["NDRIZIM"] == 1
    with fits.open(flt) as drizzled_input:
        assert drizzled_input["SCI"].header["MDRIZSKY"] > 0  # the sky it measured
    position, flux = brightest_source(flts[0])
    assert flux > 100
    assert drizzled_flux(drz, position) == pytest.approx(flux, rel=0.05)


def faintest_corner(path):
    """A 2x2 patch of sky (no source, good DQ) of an flt, away from the edges: (y, x)."""
    with fits.open(path) as hdul:
        data = np.where(hdul["DQ"].data == 0, hdul["SCI"].data, np.inf)
    patches = data[:-1, :-1] + data[1:, :-1] + data[:-1, 1:] + data[1:, 1:]
    inner = patches[10:-10, 10:-10]
    y, x = np.unravel_index(np.argmin(np.abs(inner - np.median(inner))), inner.shape)
    return y + 10, x + 10


def add_cosmic_ray(path, y, x, rate):
    """Put a 2x2 cosmic ray the ramp fit did not see into an flt (``rate`` e-/s per pixel)."""
    with fits.open(path, mode="update") as hdul:
        hdul["SCI"].data[y:y + 2, x:x + 2] += rate


def test_astrodrizzle_combines_a_dithered_pair_with_driz_cr(flts, tmp_path):
    first = Path(shutil.copy(flts[0], tmp_path))
    second = dithered_copy(flts[1], tmp_path / flts[1].name, DITHER)
    y, x = faintest_corner(first)
    add_cosmic_ray(first, y, x, rate=500.0)
    with fits.open(first) as hdul:
        hit = WCS(hdul["SCI"].header).pixel_to_world(x + 0.5, y + 0.5)
    drz = drizzle([first, second], tmp_path, "pair", driz_cr=True)
    with fits.open(drz) as hdul:
        assert hdul[0].header["NDRIZIM"] == 2
        data, weight = hdul["SCI"].data, hdul["WHT"].data
        assert np.isfinite(data[weight > 0]).all()
        # the dither widens the combined field by its size
        assert data.shape[1] >= 64 + DITHER[0] - 1
        cx, cy = (int(np.floor(float(v))) for v in WCS(hdul["SCI"].header).world_to_pixel(hit))
        # driz_cr took the cosmic ray out: the sky there is what the other exposure saw
        assert np.abs(data[cy:cy + 2, cx:cx + 2]).max() < 50.0
    with fits.open(first) as hdul:  # and flagged it (4096) in the input's DQ
        assert (hdul["DQ"].data[y:y + 2, x:x + 2] & 4096).all()
        assert "MDRIZSKY" in hdul["SCI"].header
    position, flux = brightest_source(flts[0])
    assert drizzled_flux(drz, position) == pytest.approx(flux, rel=0.05)
