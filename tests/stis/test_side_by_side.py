"""hstramp against calstis cs0.e on the same simulated raws (runs when CALSTIS names cs0.e):
every product calstis writes, within the issue's criteria (see ``side_by_side``)."""

import os

import pytest

from tests.stis.side_by_side import failures, side_by_side

CALSTIS = os.environ.get("CALSTIS")


@pytest.mark.slow
@pytest.mark.skipif(not CALSTIS or not os.access(CALSTIS, os.X_OK),
                    reason="set CALSTIS to calstis's cs0.e")
def test_every_calstis_product_agrees(tmp_path):
    results = side_by_side(tmp_path, CALSTIS)
    assert set(results) == {"a", "rpt"}
    for name, (_commands, figures) in results.items():
        assert {"crj[1]", "flt[1]", "flt[2]"} <= set(figures), name
        assert failures(figures) == [], name
