"""IMPHTTAB: obsmode rows, linear interpolation in MJD, PHOTFNU, errors."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.phot import FNU_PER_FLAM_ANGSTROM2 as PHOTFNU_FACTOR
from hstramp.core.phot import photmode
from hstramp.reference import ReferenceFileError, read_imphttab
from hstramp.simulate.references import binary_table, reference_primary, write_imphttab

GRID = np.array([55000.0, 56000.0, 58000.0])


def _write(path, *, parameterized=True, filetype="IMAGE PHOTOMETRY TABLE", zpt=True):
    hdus = []
    for name, values in (("PHOTFLAM", [2.0e-20, 2.2e-20, 2.6e-20]),
                         ("PHOTPLAM", [15000.0, 15000.0, 15000.0]),
                         ("PHOTBW", [800.0, 800.0, 800.0])):
        if parameterized:
            columns = [("OBSMODE", "30A", np.array(["wfc3,ir,f160w,mjd#", "wfc3,ir,f125w,mjd#"])),
                       ("DATACOL", "12A", np.array([f"{name}1"] * 2)),
                       (name, "D", np.array([0.0, 0.0])),
                       (f"{name}1", "5D", np.array([[*values, 0, 0], [1.0] * 5])),
                       ("PAR1NAMES", "12A", np.array(["MJD#"] * 2)),
                       ("NELEM1", "J", np.array([3, 5], np.int32)),
                       ("PAR1VALUES", "5D", np.array([[*GRID, 0, 0], np.arange(5.0)]))]
        else:
            columns = [("OBSMODE", "30A", np.array(["wfc3,ir,f160w,mjd#"])),
                       ("DATACOL", "12A", np.array([name])),
                       (name, "D", np.array([values[0]])),
                       ("NELEM1", "J", np.array([0], np.int32))]
        hdus.append(binary_table(columns, name))
    extra = [("PHOTZPT", -21.1, "")] if zpt else []
    header = reference_primary(filetype, "test photometry", 3, extra)
    fits.HDUList([fits.PrimaryHDU(header=header), *hdus]).writeto(path)
    return path


def test_photmode_string():
    assert photmode(" f160w", 55834.39281422) == "WFC3 IR F160W MJD#55834.3928"


@pytest.mark.parametrize("mode", ["WFC3 IR F160W MJD#57000.0", "wfc3,ir,f160w,mjd#57000.0"])
def test_photflam_interpolated_in_mjd(tmp_path, mode):
    keywords = read_imphttab(_write(tmp_path / "i.fits"), mode)
    assert keywords.obsmode == "wfc3,ir,f160w,mjd#57000.0"
    assert keywords.photflam == pytest.approx(2.4e-20, rel=1e-12)
    assert keywords.photplam == 15000.0 and keywords.photbw == 800.0
    assert keywords.photfnu == pytest.approx(3.33564e4 * 2.4e-20 * 15000.0**2, rel=1e-12)
    assert keywords.photfnu == PHOTFNU_FACTOR * keywords.photflam * keywords.photplam**2
    assert keywords.photzpt == -21.1


def test_grid_end_points(tmp_path):
    path = _write(tmp_path / "i.fits")
    assert read_imphttab(path, "WFC3 IR F160W MJD#55000").photflam == pytest.approx(2.0e-20)
    assert read_imphttab(path, "WFC3 IR F160W MJD#58000").photflam == pytest.approx(2.6e-20)


def test_unparameterized_rows_and_default_zeropoint(tmp_path):
    keywords = read_imphttab(_write(tmp_path / "i.fits", parameterized=False, zpt=False),
                             "WFC3 IR F160W MJD#60000.0")
    assert keywords.photflam == 2.0e-20 and keywords.photzpt == -21.10


@pytest.mark.parametrize(("mode", "match"), [
    ("WFC3 IR F160W MJD#50000", "outside the table range"),
    ("WFC3 IR F814W MJD#56000", "does not contain obsmode 'wfc3,ir,f814w,mjd#'"),
])
def test_errors(tmp_path, mode, match):
    with pytest.raises(ReferenceFileError, match=match):
        read_imphttab(_write(tmp_path / "i.fits"), mode)


def test_wrong_filetype(tmp_path):
    with pytest.raises(ReferenceFileError, match=r"IMPHTTAB .* FILETYPE='DARK'"):
        read_imphttab(_write(tmp_path / "i.fits", filetype="DARK"), "WFC3 IR F160W MJD#56000")


def test_simulated_imphttab(tmp_path):
    path = write_imphttab(tmp_path / "s_imp.fits")
    keywords = read_imphttab(path, photmode("F160W", 55834.3928))
    assert keywords.photflam == pytest.approx(1.924e-20, rel=2e-4)
    assert keywords.photplam == pytest.approx(15370.0)
