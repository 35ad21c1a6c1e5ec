"""The step base records what each run did (``meta.provenance``): the products' HISTORY."""

from pathlib import Path

from astropy.io import fits

from hstramp.steps.blev import BiasLevelStep
from hstramp.steps.dq_init import DQInitStep


def test_a_run_records_its_switch_and_each_reference_with_pedigree_and_descrip(
        raw_model, exposure):
    result = DQInitStep.call(raw_model)
    bpixtab = exposure.reference_paths["BPIXTAB"]
    header = fits.getheader(bpixtab, 0)
    assert result.meta.instance["provenance"] == [{
        "switch": "DQICORR", "status": "COMPLETE",
        "references": [{"keyword": "BPIXTAB", "name": f"iref${Path(bpixtab).name}",
                        "pedigree": header["PEDIGREE"], "descrip": header["DESCRIP"]}]}]
    assert raw_model.meta.instance.get("provenance") in (None, [])  # the caller's is untouched


def test_a_step_that_does_not_run_records_nothing_and_a_skip_is_recorded(
        raw_model, exposure, tmp_path):
    omitted = BiasLevelStep.call(raw_model, switch="omit")
    assert omitted.meta.instance.get("provenance") in (None, [])
    dummy = tmp_path / "dummy_bpx.fits"
    with fits.open(exposure.reference_paths["BPIXTAB"]) as hdul:
        hdul[0].header["PEDIGREE"] = "DUMMY"
        hdul.writeto(dummy)
    skipped = DQInitStep.call(raw_model, override_bpixtab=str(dummy))
    assert skipped.meta.cal_step.dqicorr == "SKIPPED"
    (record,) = skipped.meta.instance["provenance"]
    assert (record["switch"], record["status"]) == ("DQICORR", "SKIPPED")
    assert [(r["keyword"], r["name"], r["pedigree"]) for r in record["references"]] == [
        ("BPIXTAB", str(dummy), "DUMMY")]
