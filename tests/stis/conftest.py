"""Fixtures of the STIS CCD tests: small seeded simulations shared per module."""

import pytest


@pytest.fixture(scope="session")
def binned_sim(tmp_path_factory):
    """A 4x4-binned CR-SPLIT=2 exposure (261 x 270 raw) with EXPSCORR, a hot overscan column."""
    from hstramp.simulate.stis import simulate_stis_exposure

    return simulate_stis_exposure(tmp_path_factory.mktemp("stis_b4"), binning=4, crsplit=2,
                                  seed=7, expscorr=True, hot_overscan_column=True)


@pytest.fixture
def oref(binned_sim, monkeypatch):
    monkeypatch.setenv("oref", str(binned_sim.oref))
    return binned_sim.oref
