"""Fixtures of the CRDS tests: simulated WFC3 and STIS exposures, a CRDS cache built from
their reference files, and an environment in which the real crds client works offline."""

from pathlib import Path

import pytest
from astropy.io import fits

from tests.crds.cache import CacheBuilder

#: settings a test must not inherit from the shell
_UNSET = ("CRDS_CONTEXT", "CRDS_READONLY_CACHE", "HSTRAMP_CRDS", "iref", "oref", "IREF", "OREF")
#: settings the client itself writes as 'none' when unset (importing crds sets them)
_NONE = ("CRDS_CONFIG_URI", "CRDS_REFERENCE_URI", "CRDS_MAPPING_URI")


@pytest.fixture(scope="session")
def wfc3_sim(tmp_path_factory):
    """A 64x64 SPARS10 WFC3/IR exposure and its reference files."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("crds_wfc3"), size=64, samp_seq="SPARS10",
                             nsamp=6, seed=16)


@pytest.fixture(scope="session")
def stis_sim(tmp_path_factory):
    """A 4x4-binned CR-SPLIT=2 STIS CCD exposure and its reference files."""
    from hstramp.simulate.stis import simulate_stis_exposure

    return simulate_stis_exposure(tmp_path_factory.mktemp("crds_stis"), binning=4, crsplit=2,
                                  seed=16)


def _values(header, keys):
    return tuple(str(header[k]).strip() for k in keys)


@pytest.fixture(scope="session")
def builder(wfc3_sim, stis_sim, tmp_path_factory):
    """Rules selecting the simulator's files by the keywords HST's rules use.

    WFC3 has a second dark (another SAMP_SEQ) the rules must not select; every type the
    simulator writes no file for (DFLTFILE; STIS's ATODTAB, SHADFILE, IMPHTTAB, TDSTAB) is
    'N/A', as HST's rules give for modes a type does not apply to; STIS selects bias and
    dark by CCDAMP, CCDGAIN and binning, flats by OPT_ELEM.
    """
    from tests.crds.cache import PARKEYS

    made = CacheBuilder()
    for sim, instrument in ((wfc3_sim, "WFC3"), (stis_sim, "STIS")):
        header = fits.getheader(sim.raw_path)
        for keyword, path in sim.reference_paths.items():
            reftype = keyword.lower()
            keys = ("DETECTOR", *PARKEYS[instrument][reftype])
            made.add(instrument, reftype, _values(header, keys), path)
        not_applicable = [t for t in PARKEYS[instrument]
                          if t.upper() not in sim.reference_paths]  # 'N/A' in the rules
        for reftype in not_applicable:
            keys = ("DETECTOR", *PARKEYS[instrument][reftype])
            made.add(instrument, reftype, _values(header, keys), None)
    header = fits.getheader(wfc3_sim.raw_path)
    other = dict(zip(("DETECTOR", *PARKEYS["WFC3"]["darkfile"]),
                     _values(header, ("DETECTOR", *PARKEYS["WFC3"]["darkfile"])), strict=True))
    other["SAMP_SEQ"] = "STEP25"
    made.add("WFC3", "darkfile", tuple(other.values()), wfc3_sim.reference_paths["DARKFILE"])
    return made


def name_of(builder, instrument, reftype, header):
    """The cache file name the rules select for ``reftype`` of an exposure header."""
    from tests.crds.cache import PARKEYS

    keys = ("DETECTOR", *PARKEYS[instrument][reftype])
    return builder.rules[instrument, reftype][_values(header, keys)]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No CRDS server, no iref/oref: the crds client must work from CRDS_PATH alone."""
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    for name in _NONE:
        monkeypatch.setenv(name, "none")
    monkeypatch.setenv("CRDS_MODE", "auto")
    monkeypatch.setenv("CRDS_SERVER_URL", "https://hst-serverless-mode.stsci.edu")
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "crds_cache"))
    return tmp_path / "crds_cache"


@pytest.fixture
def cache(builder, offline):
    """The complete test cache in CRDS_PATH."""
    return builder.write(offline)


def strun(*args):
    """What the ``strun`` command does with ``args`` (stpipe's ``Step.from_cmdline``)."""
    from stpipe import Step

    return Step.from_cmdline([str(a) for a in args])


def hdu0(path):
    """The primary header of a FITS file."""
    return fits.getheader(Path(path), 0)
