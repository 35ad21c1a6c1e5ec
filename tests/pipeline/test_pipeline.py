"""WFC3IRPipeline: entry points, parameters, re-entry, associations, products, logging."""

import logging
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels import ImageModel, read_multiaccum
from hstramp.errors import OutputFileError, ParameterError
from hstramp.pipeline.parameters import parameter_tree
from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from tests.conftest import sha256
from tests.fits_bytes import masked_bytes

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    """A small simulated SPARS10 exposure with its references (module-wide, read-only)."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("sim"), size=64, samp_seq="SPARS10",
                             nsamp=9, seed=11)


@pytest.fixture
def iref(exposure, monkeypatch):
    monkeypatch.setenv("iref", str(exposure.iref))
    return exposure.iref


def strun_command(*args):
    """Run strun as users do (the console script of stpipe)."""
    return [shutil.which("strun") or "strun", *args]


def test_three_entry_points_give_identical_products(exposure, iref, tmp_path):
    raw = str(exposure.raw_path)
    outputs = {name: tmp_path / name for name in ("call", "alias", "config")}
    WFC3IRPipeline.call(raw, output_dir=str(outputs["call"]),
                        steps={"jump": {"rejection_threshold": 5.0}})
    for name, target in (("alias", "wfc3ir_pipeline"), ("config", str(CONFIG / "wfc3ir.asdf"))):
        done = subprocess.run(
            strun_command(target, raw, f"--output_dir={outputs[name]}",
                          "--steps.jump.rejection_threshold=5.0"),
            capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    rootname = exposure.rootname
    for suffix in ("ima", "flt"):
        reference = masked_bytes(outputs["call"] / f"{rootname}_{suffix}.fits")
        for name in ("alias", "config"):
            assert masked_bytes(outputs[name] / f"{rootname}_{suffix}.fits") == reference
    assert sorted(p.name for p in outputs["alias"].iterdir()) == [
        f"{rootname}_flt.fits", f"{rootname}_ima.fits"]


def test_products_have_calwf3_layout(exposure, iref, tmp_path):
    image = WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    assert isinstance(image, ImageModel)
    with fits.open(tmp_path / f"{exposure.rootname}_flt.fits") as flt:
        assert [h.name for h in flt[1:]] == ["SCI", "ERR", "DQ", "SAMP", "TIME"]
        assert flt["SCI"].data.shape == (64, 64)
        assert flt["SCI"].header["BUNIT"] == "ELECTRONS/S"
        assert flt["SCI"].header["LTV1"] == exposure.geometry.ltv[0] - 5
        assert flt["SCI"].header["NGOODPIX"] > 0
        for switch in ("DQICORR", "ZSIGCORR", "BLEVCORR", "ZOFFCORR", "NLINCORR", "DARKCORR",
                       "PHOTCORR", "UNITCORR", "CRCORR", "FLATCORR"):
            assert flt[0].header[switch] == "COMPLETE", switch
        assert flt[0].header["PHOTFLAM"] > 0
    with fits.open(tmp_path / f"{exposure.rootname}_ima.fits") as ima:
        assert len(ima) == 1 + 5 * 9
        assert ima["SCI", 1].data.shape == (74, 74)
        assert ima["SCI", 1].header["SAMPNUM"] == 8
        assert "MEANBLEV" in ima["SCI", 1].header
        assert ima["SCI", 1].header["BUNIT"] == "ELECTRONS/S"


def test_config_file_matches_code_defaults():
    import asdf

    with asdf.open(CONFIG / "wfc3ir.asdf") as af:
        stored = {"class": af.tree["class"], "name": af.tree["name"],
                  "parameters": dict(af.tree["parameters"]),
                  "steps": [dict(s, parameters=dict(s["parameters"])) for s in af.tree["steps"]]}
    assert stored == parameter_tree(WFC3IRPipeline)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": {"jumpp": {}}}, r"unknown step 'jumpp'.*did you mean 'jump'.*valid names: "
                                   r"blev, dark, dq_init, flat, .*jump, nlin"),
        ({"steps": {"jump": {"rejection_threshhold": 5}}},
         r"unknown parameter 'rejection_threshhold' of steps/jump.*rejection_threshold"),
        ({"steps": {"jump": {"rejection_threshold": -1}}},
         r"'steps/jump/rejection_threshold': the value \"-1.0\" is too small; "
         r"allowed: float\(min=0\)"),
        ({"steps": {"ramp_fit": {"weighting": "best"}}},
         r"allowed: option\('optimal', 'unweighted'\)"),
        ({"overwrit": True}, r"unknown parameter 'overwrit'.*did you mean 'overwrite'"),
    ],
)
def test_bad_parameters_are_refused_with_the_valid_choices(exposure, iref, kwargs, message,
                                                           tmp_path):
    with pytest.raises(ParameterError, match=message):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path), **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_strun_refuses_a_misspelt_step_with_nonzero_exit(exposure, iref, tmp_path):
    done = subprocess.run(
        strun_command("wfc3ir_pipeline", str(exposure.raw_path), f"--output_dir={tmp_path}",
                      "--steps.jump.rejection_threshhold=5"),
        capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "rejection_threshhold" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_step_overrides_reach_the_steps(exposure, iref, tmp_path):
    pipeline = WFC3IRPipeline(output_dir=str(tmp_path), save_ima=False, steps={
        "jump": {"rejection_threshold": 7.5}, "dark": {"skip": True},
        "zsig": {"override_nlinfile": str(exposure.reference_paths["NLINFILE"])}})
    image = pipeline.run(str(exposure.raw_path))
    assert pipeline.jump.core_parameters().rejection_threshold == 7.5
    assert image.meta.cal_step.darkcorr == "SKIPPED"
    assert image.meta.ref_file.nlinfile == str(exposure.reference_paths["NLINFILE"])
    assert "dark" not in pipeline.timings
    assert not (tmp_path / f"{exposure.rootname}_ima.fits").exists()


def test_header_switch_omit_is_followed(exposure, iref, tmp_path):
    raw = tmp_path / exposure.raw_path.name
    shutil.copy(exposure.raw_path, raw)
    with fits.open(raw, mode="update") as hdul:
        hdul[0].header["DARKCORR"] = "OMIT"
    pipeline = WFC3IRPipeline(output_dir=str(tmp_path / "out"))
    image = pipeline.run(str(raw))
    assert "dark" not in pipeline.timings
    assert image.meta.cal_step.darkcorr == "OMIT"
    forced = WFC3IRPipeline(output_dir=str(tmp_path / "forced"),
                            steps={"dark": {"switch": "perform"}})
    assert forced.run(str(raw)).meta.cal_step.darkcorr == "COMPLETE"


def test_reentry_from_ima_runs_only_the_ramp_fit_and_flat(exposure, iref, tmp_path):
    raw = tmp_path / exposure.raw_path.name
    shutil.copy(exposure.raw_path, raw)
    with fits.open(raw, mode="update") as hdul:
        hdul[0].header["CRCORR"] = "OMIT"
        hdul[0].header["FLATCORR"] = "OMIT"
    first = WFC3IRPipeline(output_dir=str(tmp_path / "first"), save_flt=False)
    first.run(str(raw))
    ima = tmp_path / "first" / f"{exposure.rootname}_ima.fits"
    with fits.open(ima, mode="update") as hdul:
        assert hdul[0].header["UNITCORR"] == "COMPLETE"
        hdul[0].header["CRCORR"] = "PERFORM"
        hdul[0].header["FLATCORR"] = "PERFORM"
    again = WFC3IRPipeline(output_dir=str(tmp_path / "again"))
    image = again.run(str(ima))
    assert list(again.timings) == ["jump", "ramp_fit", "flat", "flat (flt)"]
    direct = WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path / "direct"))
    np.testing.assert_allclose(image.data, direct.data, rtol=1e-4, atol=1e-4)


def test_association_runs_every_member(exposure, iref, tmp_path):
    names = ["ibaa01aaq", "ibaa01abq"]
    for name in names:
        shutil.copy(exposure.raw_path, tmp_path / f"{name}_raw.fits")
        with fits.open(tmp_path / f"{name}_raw.fits", mode="update") as hdul:
            hdul[0].header["ROOTNAME"] = name
    table = fits.BinTableHDU.from_columns([
        fits.Column(name="MEMNAME", format="14A", array=np.array([*names, "ibaa01010"])),
        fits.Column(name="MEMTYPE", format="14A",
                    array=np.array(["EXP-DTH", "EXP-DTH", "PROD-DTH"])),
        fits.Column(name="MEMPRSNT", format="L", array=np.array([True, True, False])),
    ])
    asn = tmp_path / "ibaa01010_asn.fits"
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(asn)
    results = WFC3IRPipeline.call(str(asn), output_dir=str(tmp_path / "out"))
    assert len(results) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{n}_{s}.fits" for n in names for s in ("flt", "ima"))


def test_existing_products_are_refused_before_any_work(exposure, iref, tmp_path, caplog):
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    flt = tmp_path / f"{exposure.rootname}_flt.fits"
    before = sha256(flt)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hstramp"), \
            pytest.raises(OutputFileError, match="exists already"):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    assert sha256(flt) == before
    assert not any("done in" in r.message for r in caplog.records)
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path), overwrite=True)


def test_products_never_replace_the_input(exposure, iref, tmp_path):
    first = WFC3IRPipeline(output_dir=str(tmp_path), save_flt=False)
    first.run(str(exposure.raw_path))
    ima = tmp_path / f"{exposure.rootname}_ima.fits"
    before = sha256(ima)
    with pytest.raises(OutputFileError, match="is the input file"):
        WFC3IRPipeline.call(str(ima), output_dir=str(tmp_path), overwrite=True)
    assert sha256(ima) == before


def test_input_file_is_never_modified(exposure, iref, tmp_path):
    before = sha256(exposure.raw_path)
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    assert sha256(exposure.raw_path) == before


def test_one_info_line_per_step_with_time_and_memory(exposure, iref, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="hstramp"):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    done = [r.message for r in caplog.records
            if r.name == "hstramp.steps.base" and " done in " in r.message]
    steps = [m.split()[0] for m in done]
    assert steps == ["dq_init", "zsig", "blev", "zoff", "noise", "nlin", "dark", "phot", "unit",
                     "jump", "ramp_fit", "flat", "flat"]
    assert all(re.search(r"done in \d+\.\d+ s, peak memory \d+ MB", m) for m in done)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_real_raw_runs_end_to_end(real_file, tmp_path):
    from hstramp.simulate.matching import references_for

    raw = real_file("ibh7a7lsq_raw.fits")
    refs = references_for(raw, tmp_path / "refs")
    steps = {name: {f"override_{k}": str(v) for k, v in refs.items()
                    if k in step.reference_file_types}
             for name, step in WFC3IRPipeline.step_defs.items() if step.reference_file_types}
    image = WFC3IRPipeline.call(str(raw), output_dir=str(tmp_path), steps=steps)
    assert image.data.shape == (128, 128)
    with fits.open(tmp_path / "ibh7a7lsq_flt.fits") as flt:
        assert flt["SCI"].header["LTV1"] == -443.0
        assert flt[0].header["DARKFILE"] == str(refs["darkfile"])
    ima = read_multiaccum(tmp_path / "ibh7a7lsq_ima.fits")
    np.testing.assert_array_equal(ima.times, read_multiaccum(raw).times)
    assert np.isfinite(image.data).all()


def test_a_reference_replaced_between_runs_is_read_again(exposure, iref, tmp_path, monkeypatch):
    """Reference data are cached per process (a batch worker): a flat, a CCDTAB or a DUMMY
    pedigree that changes on disk between two exposures must be seen by the second."""
    refs = tmp_path / "refs"
    shutil.copytree(exposure.iref, refs)
    monkeypatch.setenv("iref", str(refs))
    first = WFC3IRPipeline(output_dir=str(tmp_path / "a"), save_ima=False).run(
        str(exposure.raw_path))
    pflt = refs / Path(exposure.reference_paths["PFLTFILE"]).name
    with fits.open(pflt) as hdul:  # a new version of the file: flat twice as high
        hdul["SCI", 1].data = hdul["SCI", 1].data * np.float32(2.0)
        replaced = fits.HDUList([hdu.copy() for hdu in hdul])
    pflt.unlink()
    replaced.writeto(pflt)
    second = WFC3IRPipeline(output_dir=str(tmp_path / "b"), save_ima=False).run(
        str(exposure.raw_path))
    good = (first.dq == 0) & (second.dq == 0) & (first.data != 0)
    np.testing.assert_allclose(second.data[good], first.data[good] / 2, rtol=1e-5)
    ccdtab = refs / Path(exposure.reference_paths["CCDTAB"]).name
    with fits.open(ccdtab) as hdul:  # now a DUMMY: the steps that need it are skipped
        hdul[0].header["PEDIGREE"] = "DUMMY"
        replaced = fits.HDUList([hdu.copy() for hdu in hdul])
    ccdtab.unlink()
    replaced.writeto(ccdtab)
    third = WFC3IRPipeline(output_dir=str(tmp_path / "c"), save_ima=False).run(
        str(exposure.raw_path))
    assert third.meta.cal_step.noiscorr == "SKIPPED"


def test_every_stage_is_reported_to_the_stage_hooks(exposure, iref, tmp_path):
    """One hook serves the x-ray, the batch and the timings; nothing is monkeypatched."""
    from hstramp.batch import track_stages
    from hstramp.pipeline.wfc3ir import RAMP_STEPS

    pipeline = WFC3IRPipeline(output_dir=str(tmp_path))
    events, started = [], []
    pipeline.add_stage_hook(events.append)
    track_stages(pipeline, started.append)
    image = pipeline.run(str(exposure.raw_path))
    assert started == ["read", "check", *RAMP_STEPS, "ramp_fit", "flat", "flat (flt)", "write"]
    assert [e.stage for e in events if e.finished] == started
    outcomes = {e.stage: e.outcome for e in events if e.outcome is not None}
    assert outcomes["flatten_ramp"].status == "NOT RUN"  # mode=off
    assert outcomes["flat (flt)"].status == "COMPLETE"
    assert [e.model for e in events if e.finished][-2] is image
    assert list(pipeline.timings) == [s for s in started[2:-1] if s != "flatten_ramp"]
    assert not {"prepare_input", "run_stage", "write_products"} & set(vars(pipeline))


def test_what_the_first_read_loads_is_frozen_before_the_steps(exposure, iref, tmp_path,
                                                              monkeypatch):
    """What the first exposure's read leaves alive (in a new process: asdf's configuration)
    is frozen before stpipe's collection at every step, once per run; the objects created
    by the read are among them; nothing stays frozen after the run."""
    import gc

    from hstramp.pipeline import base

    counts, made = {}, []
    pipeline = WFC3IRPipeline(output_dir=str(tmp_path / "a"))
    real_prepare = pipeline.prepare_input

    def prepare(input_data):
        counts["before_read"] = gc.get_freeze_count()
        made.append([object() for _ in range(1000)])  # objects the read leaves alive
        made.append([[] for _ in range(1000)])  # (tracked by the collector)
        return real_prepare(input_data)

    monkeypatch.setattr(pipeline, "prepare_input", prepare)
    freezes = []
    real_freeze = gc.freeze
    monkeypatch.setattr(base.gc, "freeze", lambda: freezes.append(1) or real_freeze())
    pipeline.add_stage_hook(
        lambda event: event.stage == "check" and not event.finished
        and counts.setdefault("at_check", gc.get_freeze_count()))
    pipeline.run(str(exposure.raw_path))
    assert counts["at_check"] >= counts["before_read"] + 1000
    assert len(freezes) == 2  # the run's start, after the first read
    assert gc.get_freeze_count() == 0
    freezes.clear()
    pipeline.overwrite = True
    pipeline.calibrate(str(exposure.raw_path))  # not inside run(): no freezing
    assert not freezes and gc.get_freeze_count() == 0


def test_run_freezes_what_was_alive_and_collects_only_its_own_garbage(exposure, iref, tmp_path):
    """No full collection at the start (the process's objects are frozen, not scanned); the
    run's own cyclic garbage is collected at the end; nothing is left frozen; a caller's own
    freezing is left alone."""
    import gc

    gc.collect()
    seen = []

    def watch(phase, info):
        if phase == "start":
            seen.append((info["generation"], gc.get_freeze_count()))

    pipeline = WFC3IRPipeline(output_dir=str(tmp_path / "a"))
    gc.callbacks.append(watch)
    try:
        pipeline.run(str(exposure.raw_path))
    finally:
        gc.callbacks.remove(watch)
    assert seen and all(frozen > 0 for _generation, frozen in seen)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        WFC3IRPipeline(output_dir=str(tmp_path / "b")).run(str(exposure.raw_path))
        assert gc.get_freeze_count() > before // 2  # still frozen (a few freed by refcount)
    finally:
        gc.unfreeze()
