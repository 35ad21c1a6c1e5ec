"""``hstramp refs --simulate``: a real raw runs with iref=DIR and no overrides, marked."""

import logging
import shutil

import numpy as np
import pytest
from astropy.io import fits

from hstramp.cli import main
from hstramp.datamodels import dqflags
from hstramp.reference import is_dummy
from tests.conftest import sha256
from tests.crds.conftest import hdu0, strun

REAL_RAWS = ["ibh7a7lsq_raw.fits", "ibxy01aoq_raw.fits", "ibxy07q9q_raw.fits"]


def simulated_warnings(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "SIMULATED" in r.getMessage()]


def simulate_and_run(raw, out, variable, pipeline, monkeypatch, capsys, caplog):
    """``hstramp refs --simulate RAW --out out/refs``, then ``<variable>=out/refs strun``.

    Returns the simulated reference directory; checks the printed command and one warning.
    """
    refs = out / "refs"
    assert main(["refs", "--simulate", str(raw), "--out", str(refs)]) == 0
    assert f"{variable}={refs.resolve()} strun {pipeline}" in capsys.readouterr().out
    monkeypatch.setenv(variable, str(refs))
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        strun(pipeline, raw, f"--output_dir={out}")
    assert len(simulated_warnings(caplog)) == 1
    return refs


@pytest.mark.parametrize("name", REAL_RAWS)
def test_a_real_raw_runs_with_simulated_references_named_as_its_header_asks(
        name, real_file, offline, tmp_path, monkeypatch, capsys, caplog):
    raw = real_file(name)
    before = sha256(raw)
    refs = simulate_and_run(raw, tmp_path, "iref", "wfc3ir_pipeline", monkeypatch, capsys,
                            caplog)
    header = hdu0(raw)
    for keyword in ("CCDTAB", "OSCNTAB", "BPIXTAB", "NLINFILE", "DARKFILE", "PFLTFILE",
                    "IMPHTTAB"):
        path = refs / header[keyword].split("$")[1]
        assert hdu0(path)["SIMULATD"] is True and not is_dummy(path)
    assert not (refs / "N/A").exists() and header["LFLTFILE"] == "N/A"
    root = name.split("_")[0]
    for suffix in ("ima", "flt"):
        product = hdu0(tmp_path / f"{root}_{suffix}.fits")
        assert product["SIMREFS"] is True
        assert "simulated by hstramp" in str(product["HISTORY"])
        assert product["DARKFILE"] == header["DARKFILE"]
    with fits.open(tmp_path / f"{root}_ima.fits") as ima:
        zeroth = ima["DQ", ima[0].header["NSAMP"]].data[5:-5, 5:-5]
    # the super-zero comes from the exposure: no quadrant pattern of ZERO_READ_SIGNAL
    assert np.mean((zeroth & dqflags.ZERO_READ_SIGNAL) != 0) < 0.01
    assert sha256(raw) == before


def test_a_stis_raw_runs_with_simulated_references_through_oref(
        stis_sim, offline, tmp_path, monkeypatch, capsys, caplog):
    raw = tmp_path / stis_sim.raw_path.name
    shutil.copyfile(stis_sim.raw_path, raw)
    out = tmp_path / "out"
    refs = simulate_and_run(raw, out, "oref", "stis_ccd_pipeline", monkeypatch, capsys, caplog)
    assert hdu0(refs / hdu0(raw)["BIASFILE"].split("$")[1])["SIMULATD"] is True
    assert hdu0(out / f"{stis_sim.rootname}_crj.fits")["SIMREFS"] is True


def test_products_of_the_simulator_s_own_references_are_not_marked(wfc3_sim, tmp_path,
                                                                  monkeypatch):
    """A simulated exposure with its own set is self-consistent: no mark, no warning."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    monkeypatch.setenv("iref", str(wfc3_sim.iref))
    WFC3IRPipeline.call(str(wfc3_sim.raw_path), output_dir=str(tmp_path))
    assert "SIMREFS" not in hdu0(tmp_path / f"{wfc3_sim.rootname}_flt.fits")


def test_simulate_refuses_bad_input_and_writes_nothing(wfc3_sim, tmp_path, capsys):
    raw = tmp_path / "in" / wfc3_sim.raw_path.name
    raw.parent.mkdir()
    shutil.copyfile(wfc3_sim.raw_path, raw)
    with fits.open(raw, mode="update") as hdul:
        for keyword in ("CCDTAB", "OSCNTAB", "BPIXTAB", "NLINFILE", "DARKFILE", "PFLTFILE",
                        "DFLTFILE", "LFLTFILE", "IMPHTTAB", "CRREJTAB"):
            del hdul[0].header[keyword]
    out = tmp_path / "refs"
    assert main(["refs", "--simulate", str(raw), "--out", str(out)]) == 2
    assert "names no reference file" in capsys.readouterr().err and not out.exists()
    with fits.open(raw, mode="update") as hdul:
        hdul[0].header["INSTRUME"] = "ACS"
    assert main(["refs", "--simulate", str(raw), "--out", str(out)]) == 2
    assert "INSTRUME = 'ACS'" in capsys.readouterr().err and not out.exists()


def test_simulate_does_not_overwrite_unless_asked(wfc3_sim, tmp_path, capsys):
    out = tmp_path / "refs"
    assert main(["refs", "--simulate", str(wfc3_sim.raw_path), "--out", str(out)]) == 0
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["refs", "--simulate", str(wfc3_sim.raw_path), "--out", str(out)]) == 2
    assert "exist already" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamp
    assert main(["refs", "--simulate", str(wfc3_sim.raw_path), "--out", str(out),
                 "--overwrite"]) == 0
