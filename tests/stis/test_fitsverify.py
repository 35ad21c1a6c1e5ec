"""STIS products pass fitsverify with no warning, as calstis's do (issue 15, part 5)."""

import pytest

from tests.fitsverify import fitsverify_counts


@pytest.fixture(scope="module")
def stis_products(binned_sim, tmp_path_factory):
    from hstramp.pipeline.stis import STISCCDPipeline

    out = tmp_path_factory.mktemp("stis_fitsverify")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("oref", str(binned_sim.oref))
        STISCCDPipeline.call(str(binned_sim.raw_path), output_dir=str(out))
    return sorted(out.glob("*.fits"))


def test_every_stis_product_passes_fitsverify(stis_products):
    assert {p.name.rsplit("_", 1)[1] for p in stis_products} == {"crj.fits", "flt.fits"}
    for path in stis_products:
        assert fitsverify_counts(path) == (0, 0), path.name
