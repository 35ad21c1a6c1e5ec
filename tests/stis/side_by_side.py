"""hstramp's ``strun stis_ccd_pipeline`` against calstis ``cs0.e`` on the same simulated raws.

Two inputs, simulated once into ``WORKDIR/inputs`` (with ``oref`` = that directory):

(a) ``a``: a full-frame unbinned CR-SPLIT=2 exposure (seed 3, OCCDHTAV 20 and 21 deg C) with
    every 2-D switch PERFORM: DQICORR ATODCORR BLEVCORR BIASCORR CRCORR DARKCORR FLATCORR
    SHADCORR PHOTCORR EXPSCORR (an ATODTAB with a differential non-linearity, a dark with
    REF_TEMP/DRK_VS_T, a shutter-shading file, an IMPHTTAB and a TDSTAB);
(b) ``rpt``: the same raw as a repeated exposure (RPTCORR = PERFORM, CRCORR = OMIT,
    CRSPLIT = 1, NRPTEXP = 2).

Each raw is calibrated in its own directory by ``oref=DIR/ cs0.e raw.fits`` and by
``strun stis_ccd_pipeline raw.fits --output_dir=...``. For every product calstis writes (the
crj, and the flt imset by imset) it reports: the median of ``h / c`` of SCI, the robust
spread ``1.4826 * MAD`` of ``(h - c) / err_c``, the pixels whose DQ differ where both flag,
and the pixels only one of them flags; and whether hstramp wrote the same set of products.

Usage::

    python -m tests.stis.side_by_side --calstis /work/hstcal-build/pkg/stis/cs0.e WORKDIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits

#: the issue's criteria
MEDIAN_RATIO_TOLERANCE = 1e-3
SPREAD_LIMIT = 0.1
ATOD_NELEM = 65536
#: header switches that must agree in every product
SWITCHES = ("DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR", "CRCORR", "RPTCORR", "EXPSCORR",
            "DARKCORR", "FLATCORR", "SHADCORR", "PHOTCORR")


def _references(directory: Path, rootname: str) -> dict:
    """ATODTAB, DARKFILE (with REF_TEMP, DRK_VS_T), SHADFILE, IMPHTTAB, TDSTAB: keyword ->
    the ``oref$`` value."""
    from hstramp.simulate.stis.calibration import (
        write_atodtab,
        write_shadfile,
        write_stis_imphttab,
        write_tdstab,
        write_temperature_dark,
    )

    rng = np.random.default_rng(17)
    levels = np.arange(ATOD_NELEM, dtype=np.float64)
    atod = levels + 0.25 * (levels % 4) - 0.375              # a differential non-linearity
    yy, xx = np.mgrid[0:1024, 0:1024]
    paths = {
        "ATODTAB": write_atodtab(directory / f"{rootname}_a2d.fits", [
            {"ccdamp": "D", "ccdgain": 1, "ref_key": "OCCDHTAV", "ref_key_value": 20.0,
             "atod": atod}]),
        "DARKFILE": write_temperature_dark(
            directory / f"{rootname}_tdk.fits",
            rng.gamma(2.0, 0.0025, (1024, 1024)).astype(np.float32), ref_temp=18.5,
            drk_vs_t=0.06),
        "SHADFILE": write_shadfile(directory / f"{rootname}_ssc.fits",
                                   (0.02 + 0.01 * np.hypot(xx - 512, yy - 512) / 724)
                                   .astype(np.float32)),
        "IMPHTTAB": write_stis_imphttab(directory / f"{rootname}_imp.fits", {
            "stis,50ccd,mirror,ccd,mjd#": ([52000.0, 58000.0], [2.0e-19, 2.6e-19], 5800.0,
                                           2000.0)}),
        "TDSTAB": write_tdstab(directory / f"{rootname}_tds.fits", {
            "MIRROR": ([2000.0, 6000.0, 10000.0], [0.001, 0.003, 0.005], 18.0)}),
    }
    return {keyword: f"oref${path.name}" for keyword, path in paths.items()}


def make_inputs(workdir: Path) -> tuple[dict, Path]:
    """The two raws (name -> path) and the ``oref`` directory."""
    from hstramp.simulate.stis import simulate_stis_exposure
    from hstramp.simulate.stis.calibration import derive_fits, repeated_exposure_raw

    directory = (workdir / "inputs").resolve()
    raws = {"a": directory / "osbsa003q_raw.fits", "rpt": directory / "osbsr003q_raw.fits"}
    if all(p.is_file() for p in raws.values()):
        return raws, directory
    sim = simulate_stis_exposure(directory / "sim", crsplit=2, seed=3, expscorr=True,
                                 occdhtav=[20.0, 21.0], rootname="osbss003q")
    for path in sim.reference_paths.values():
        shutil.copy(path, directory / path.name)
    references = _references(directory, "osbs")
    switches = {k: "PERFORM" for k in ("ATODCORR", "SHADCORR", "PHOTCORR")}
    derive_fits(sim.raw_path, raws["a"], primary={
        **switches, **references, "ROOTNAME": "osbsa003q", "FILENAME": raws["a"].name})
    repeated_exposure_raw(raws["a"], directory / "tmp_raw.fits")
    derive_fits(directory / "tmp_raw.fits", raws["rpt"],
                primary={"ROOTNAME": "osbsr003q", "FILENAME": raws["rpt"].name})
    (directory / "tmp_raw.fits").unlink()
    shutil.copy(sim.truth_path, directory / "osbs_truth.fits")
    return raws, directory


def run_both(raw: Path, oref: Path, workdir: Path, calstis: str) -> dict:
    """Run cs0.e and strun on ``raw`` (each in its own directory): tool -> (command, dir)."""
    env = {**os.environ, "oref": f"{oref}/"}
    runs = {}
    for tool in ("calstis", "hstramp"):
        out = workdir / raw.name.split("_")[0] / tool
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        if tool == "calstis":
            shutil.copy(raw, out / raw.name)
            command = [calstis, raw.name]
            cwd = out
        else:
            command = ["strun", "stis_ccd_pipeline", str(raw), f"--output_dir={out}"]
            cwd = workdir
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              check=False)
        (out / "log.txt").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}); see "
                               f"{out / 'log.txt'}")
        runs[tool] = (command, out)
    return runs


def compare_imset(h_sci, h_dq, c_sci, c_err, c_dq) -> dict:
    """The figures for one imset (calstis's ERR as the error)."""
    sci_c = np.asarray(c_sci, np.float64)
    sci_h = np.asarray(h_sci, np.float64)
    usable = (np.asarray(c_err) > 0) & np.isfinite(sci_h) & np.isfinite(sci_c)
    positive = usable & (np.abs(sci_c) > 0)
    pull = (sci_h - sci_c)[usable] / np.asarray(c_err, np.float64)[usable]
    mad = float(np.median(np.abs(pull - np.median(pull))))
    h_dq, c_dq = np.asarray(h_dq).astype(np.uint16), np.asarray(c_dq).astype(np.uint16)
    both = (h_dq != 0) & (c_dq != 0)
    return {"median_ratio": float(np.median(sci_h[positive] / sci_c[positive])),
            "spread": 1.4826 * mad,
            "max_abs_pull": float(np.max(np.abs(pull))),
            "dq_differ_where_both_flag": int(np.count_nonzero(both & (h_dq != c_dq))),
            "dq_only_hstramp": int(np.count_nonzero((h_dq != 0) & (c_dq == 0))),
            "dq_only_calstis": int(np.count_nonzero((h_dq == 0) & (c_dq != 0))),
            "pixels": int(sci_c.size)}


def compare_products(runs: dict, rootname: str) -> dict:
    """Every product calstis wrote, compared imset by imset: ``"crj[1]"`` -> figures."""
    calstis_dir, hstramp_dir = runs["calstis"][1], runs["hstramp"][1]
    c_products = sorted(p.name for p in calstis_dir.glob(f"{rootname}_*.fits")
                        if not p.name.endswith("_raw.fits"))
    h_products = sorted(p.name for p in hstramp_dir.glob(f"{rootname}_*.fits"))
    if c_products != h_products:
        raise AssertionError(f"calstis wrote {c_products}, hstramp {h_products}")
    figures = {}
    for name in c_products:
        suffix = name.split("_")[-1].removesuffix(".fits")
        with fits.open(calstis_dir / name) as c, fits.open(hstramp_dir / name) as h:
            nimsets = int(c[0].header["NEXTEND"]) // 3
            for ver in range(1, nimsets + 1):
                figures[f"{suffix}[{ver}]"] = compare_imset(
                    h["SCI", ver].data, h["DQ", ver].data, c["SCI", ver].data,
                    c["ERR", ver].data, c["DQ", ver].data)
            figures[f"{suffix} switches differ"] = {
                k: (c[0].header.get(k), h[0].header.get(k)) for k in SWITCHES
                if c[0].header.get(k) != h[0].header.get(k)}
    return figures


def failures(figures: dict) -> list:
    """What breaks the issue's criteria (empty when all pass)."""
    bad = []
    for key, value in figures.items():
        if key.endswith("switches differ"):
            if value:
                bad.append(f"{key}: {value}")
            continue
        if abs(value["median_ratio"] - 1) > MEDIAN_RATIO_TOLERANCE:
            bad.append(f"{key}: median ratio {value['median_ratio']:.6f}")
        if value["spread"] >= SPREAD_LIMIT:
            bad.append(f"{key}: spread {value['spread']:.4f}")
        if value["dq_differ_where_both_flag"]:
            bad.append(f"{key}: DQ differs on {value['dq_differ_where_both_flag']} pixels")
    return bad


def side_by_side(workdir: Path, calstis: str) -> dict:
    """Make the inputs, run both, compare: input name -> (commands, figures)."""
    workdir = Path(workdir).resolve()
    raws, oref = make_inputs(workdir)
    results = {}
    for name, raw in raws.items():
        runs = run_both(raw, oref, workdir, calstis)
        commands = {tool: " ".join(command) for tool, (command, _out) in runs.items()}
        results[name] = (commands, compare_products(runs, raw.name.split("_")[0]))
    return results


def _format(results: dict) -> str:
    lines = []
    for name, (commands, figures) in results.items():
        lines.append(f"== {name}")
        lines += [f"   {tool}: {command}" for tool, command in commands.items()]
        for key, value in figures.items():
            if key.endswith("switches differ"):
                lines.append(f"   {key}: {value or 'none'}")
                continue
            lines.append(
                f"   {key:8s} median h/c {value['median_ratio']:.6f}  spread "
                f"{value['spread']:.4f}  max|pull| {value['max_abs_pull']:.3g}  DQ differ "
                f"(both flag) {value['dq_differ_where_both_flag']}  only h "
                f"{value['dq_only_hstramp']}  only c {value['dq_only_calstis']}  of "
                f"{value['pixels']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--calstis", default=os.environ.get("CALSTIS"),
                        help="cs0.e (default: $CALSTIS)")
    args = parser.parse_args(argv)
    if not args.calstis:
        parser.error("give --calstis or set CALSTIS")
    results = side_by_side(args.workdir, args.calstis)
    print(_format(results))
    bad = [f"{name}: {b}" for name, (_c, figures) in results.items() for b in failures(figures)]
    print("\n".join(bad) if bad else "all products within the criteria")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
