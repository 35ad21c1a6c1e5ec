"""The small simulated exposures the robustness tests spoil (session-wide, never modified)."""

import pytest


@pytest.fixture(scope="session")
def wfc3(tmp_path_factory):
    """A 64x64 SPARS10 WFC3/IR raw (9 reads, ROOTNAME isim0019q) and its references."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("wfc3"), size=64, samp_seq="SPARS10",
                             nsamp=9, seed=19)


@pytest.fixture(scope="session")
def stis(tmp_path_factory):
    """A 4x4-binned STIS CCD CR-SPLIT=2 raw and its references."""
    from hstramp.simulate.stis import simulate_stis_exposure

    return simulate_stis_exposure(tmp_path_factory.mktemp("stis"), binning=4, crsplit=2, seed=7)
