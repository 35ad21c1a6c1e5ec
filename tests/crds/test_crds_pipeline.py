"""The pipelines resolve references through CRDS (real client, test-built cache) when asked."""

import logging
from pathlib import Path

import pytest

from hstramp.cli import main
from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from hstramp.reference.crds import CRDSError
from tests.crds.conftest import hdu0, name_of, strun

WFC3_USED = ("ccdtab", "oscntab", "bpixtab", "nlinfile", "darkfile", "pfltfile", "lfltfile",
             "imphttab")


def test_strun_wfc3_with_use_crds_and_no_iref_uses_the_selected_files(
        cache, wfc3_sim, builder, tmp_path, monkeypatch, capsys):
    strun("wfc3ir_pipeline", wfc3_sim.raw_path, f"--output_dir={tmp_path}", "--use_crds=True")
    flt = hdu0(tmp_path / f"{wfc3_sim.rootname}_flt.fits")
    raw = hdu0(wfc3_sim.raw_path)
    for reftype in WFC3_USED:
        assert flt[reftype.upper()] == f"iref${name_of(builder, 'WFC3', reftype, raw)}"
    assert flt["DARKCORR"] == flt["FLATCORR"] == "COMPLETE"
    assert "SIMREFS" not in flt


def test_strun_stis_with_hstramp_crds_and_no_oref_uses_the_selected_files(
        cache, stis_sim, builder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HSTRAMP_CRDS", "1")
    strun("stis_ccd_pipeline", stis_sim.raw_path, f"--output_dir={tmp_path}")
    crj = hdu0(tmp_path / f"{stis_sim.rootname}_crj.fits")
    raw = hdu0(stis_sim.raw_path)
    for reftype in ("biasfile", "darkfile", "pfltfile", "crrejtab", "ccdtab", "bpixtab"):
        assert crj[reftype.upper()] == f"oref${name_of(builder, 'STIS', reftype, raw)}"


def test_a_file_missing_from_the_cache_is_one_error_naming_keyword_file_and_command(
        builder, offline, wfc3_sim, tmp_path, monkeypatch, capsys):
    dark = name_of(builder, "WFC3", "darkfile", hdu0(wfc3_sim.raw_path))
    builder.write(offline, include=set(builder.files) - {dark})
    with pytest.raises(CRDSError) as error:
        WFC3IRPipeline.call(str(wfc3_sim.raw_path), output_dir=str(tmp_path), use_crds=True)
    message = str(error.value)
    assert "DARKFILE" in message and dark in message
    assert f"hstramp refs --sync {wfc3_sim.raw_path.name}" in message
    assert not list(tmp_path.glob("*.fits"))


def test_iref_and_overrides_still_win(cache, wfc3_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("HSTRAMP_CRDS", "1")
    monkeypatch.setenv("iref", str(wfc3_sim.iref))
    WFC3IRPipeline.call(str(wfc3_sim.raw_path), output_dir=str(tmp_path / "a"))
    assert hdu0(tmp_path / "a" / f"{wfc3_sim.rootname}_flt.fits")["DARKFILE"] == \
        hdu0(wfc3_sim.raw_path)["DARKFILE"]
    monkeypatch.delenv("iref")
    dark = str(wfc3_sim.reference_paths["DARKFILE"])
    WFC3IRPipeline.call(str(wfc3_sim.raw_path), output_dir=str(tmp_path / "b"),
                        steps={"dark": {"override_darkfile": dark}})
    flt = hdu0(tmp_path / "b" / f"{wfc3_sim.rootname}_flt.fits")
    assert flt["DARKFILE"] == dark and flt["CCDTAB"].startswith("iref$s")


def test_use_crds_false_wins_over_the_environment(cache, wfc3_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("HSTRAMP_CRDS", "1")
    with pytest.raises(Exception, match=r"environment variable 'iref' is not set"):
        WFC3IRPipeline.call(str(wfc3_sim.raw_path), output_dir=str(tmp_path), use_crds=False)


def test_xray_takes_use_crds_overrides_and_parameter_files(cache, wfc3_sim, tmp_path, capsys,
                                                          caplog):
    x, y = 30, 30
    dark = str(wfc3_sim.reference_paths["DARKFILE"])
    with caplog.at_level(logging.DEBUG, logger="hstramp"):
        assert main(["xray", str(wfc3_sim.raw_path), "--pixel", str(x), str(y), "--use-crds",
                     f"--steps.dark.override_darkfile={dark}", "--output-dir",
                     str(tmp_path)]) == 0
    flt = hdu0(tmp_path / f"{wfc3_sim.rootname}_flt.fits")
    assert flt["DARKFILE"] == dark and flt["CCDTAB"].startswith("iref$s")
    assert "SAMP 6," in capsys.readouterr().out  # all 6 reads in the fit
    config = Path(__file__).parents[2] / "config" / "wfc3ir_last_minus_first.asdf"
    assert main(["xray", str(wfc3_sim.raw_path), "--pixel", str(x), str(y), "--use-crds",
                 "--config", str(config)]) == 0
    assert "SAMP 2," in capsys.readouterr().out  # the parameter file's last-minus-first


def test_xray_refuses_an_unknown_step_parameter_naming_the_valid_ones(cache, wfc3_sim, capsys):
    assert main(["xray", str(wfc3_sim.raw_path), "--pixel", "3", "3", "--use-crds",
                 "--steps.dark.overide_darkfile=x.fits"]) == 2
    err = capsys.readouterr().err
    assert "overide_darkfile" in err and "override_darkfile" in err


def test_batch_takes_use_crds(cache, wfc3_sim, tmp_path, capsys):
    assert main(["batch", str(wfc3_sim.raw_path), "--use-crds", "--workers", "1",
                 "--output-dir", str(tmp_path), "--no-progress"]) == 0
    assert hdu0(tmp_path / f"{wfc3_sim.rootname}_flt.fits")["DARKFILE"].startswith("iref$s")
