"""WFC3/IR ima and flt pass fitsverify with no warning, as calwf3's do."""

from tests.fitsverify import fitsverify_counts
from tests.wfc3_compat.test_headers import products  # noqa: F401 (fixture)


def test_ima_and_flt_pass_fitsverify(products):  # noqa: F811
    for suffix in ("ima", "flt"):
        assert fitsverify_counts(products[suffix]) == (0, 0), suffix
