"""wfc3tools reads hstramp's ima: pstack, pstat and sampinfo (skipped without wfc3tools)."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.pipeline.wfc3ir import WFC3IRPipeline

wfc3tools = pytest.importorskip("wfc3tools")
pytest.importorskip("matplotlib").use("Agg")


@pytest.fixture(scope="module")
def ima(tmp_path_factory):
    """The ima of a small simulated SPARS10 exposure."""
    from hstramp.simulate import simulate_exposure

    directory = tmp_path_factory.mktemp("downstream")
    exposure = simulate_exposure(directory / "sim", size=64, samp_seq="SPARS10", nsamp=9,
                                 seed=15)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(exposure.iref))
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(directory / "out"))
    return directory / "out" / f"{exposure.rootname}_ima.fits"


def test_pstack_reads_every_read_of_a_pixel(ima):
    times, values = wfc3tools.pstack(str(ima), column=30, row=30, units="rate", plot=False)
    with fits.open(ima) as hdul:
        nsamp = hdul[0].header["NSAMP"]
        expected = [hdul["SCI", ver].data[30, 30] for ver in range(1, nsamp + 1)]
        samptime = [hdul["SCI", ver].header["SAMPTIME"] for ver in range(1, nsamp + 1)]
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    np.testing.assert_allclose(times, samptime)


def test_pstat_gives_a_statistic_per_read(ima):
    times, values = wfc3tools.pstat(str(ima), units="rate", stat="mean", plot=False)
    with fits.open(ima) as hdul:
        expected = [hdul["SCI", ver].data.mean() for ver in range(1, hdul[0].header["NSAMP"] + 1)]
    # the zeroth read (time 0) has no rate: pstat reports 0 there
    np.testing.assert_allclose(values[:-1], expected[:-1], rtol=1e-5)
    assert len(times) == len(expected) and values[-1] == 0


def test_sampinfo_lists_the_reads(ima, capsys):
    wfc3tools.sampinfo(str(ima))
    out = capsys.readouterr().out
    assert "SPARS10" in out and "49.971" in out
