"""Fixtures of the view tests: one small simulated exposure with its references."""

import pytest


@pytest.fixture(scope="package")
def simulated(tmp_path_factory):
    """A 64x64 SPARS10 exposure of 9 reads with cosmic rays and stars (seeded)."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("views_sim"), size=64, samp_seq="SPARS10",
                             nsamp=9, seed=5)
