"""The keywords calstis ``cs0.e`` writes in a STIS CCD flt and crj, recorded as a fixture.

One input, made by :func:`make_input` (hstramp's simulator, seeded, so the bytes are the
same on every machine): a 64-row unbinned subarray CR-SPLIT=2 exposure (seed 3, OCCDHTAV 20
and 21 deg C) with every 2-D switch PERFORM (DQICORR ATODCORR BLEVCORR BIASCORR CRCORR
DARKCORR FLATCORR SHADCORR PHOTCORR EXPSCORR; the references of ``side_by_side``).
``record`` runs ``oref=DIR/ cs0.e raw.fits`` on it and writes ``calstis_keywords.json``:
the keywords of every header of the flt (imset 1) and the crj in calstis's order, and the
statistics keywords (NGOODPIX, GOODMIN ...) of every imset. ``test_headers.py`` checks
hstramp's products of the same input against it; with ``CALSTIS`` set it also checks that
the fixture is still what cs0.e writes.

Usage::

    python -m tests.stis.calstis_keywords --calstis /work/hstcal-build/pkg/stis/cs0.e
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from astropy.io import fits

FIXTURE = Path(__file__).with_name("calstis_keywords.json")
ROOTNAME = "osbsh003q"
PRODUCTS = ("flt", "crj")
HEADERS = ("PRIMARY", "SCI", "ERR", "DQ")
STATISTICS = ("NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "SNRMIN", "SNRMAX", "SNRMEAN")


def make_input(directory: Path) -> tuple[Path, Path]:
    """The raw and its ``oref`` directory (made once in ``directory``)."""
    from hstramp.simulate.stis import simulate_stis_exposure
    from hstramp.simulate.stis.calibration import derive_fits
    from tests.stis.side_by_side import _references

    directory = Path(directory).resolve()
    raw = directory / f"{ROOTNAME}_raw.fits"
    if raw.is_file():
        return raw, directory
    sim = simulate_stis_exposure(directory / "sim", subarray=(64, 480), crsplit=2, seed=3,
                                 expscorr=True, occdhtav=[20.0, 21.0], rootname="osbsk003q")
    for path in sim.reference_paths.values():
        shutil.copy(path, directory / path.name)
    switches = {k: "PERFORM" for k in ("ATODCORR", "SHADCORR", "PHOTCORR")}
    derive_fits(sim.raw_path, raw, primary={**switches, **_references(directory, "osbs"),
                                            "ROOTNAME": ROOTNAME, "FILENAME": raw.name})
    return raw, directory


def header_keywords(header) -> list:
    """A header's keywords in order, each once (COMMENT and HISTORY included)."""
    return list(dict.fromkeys(k for k in header if k))


def describe(products: dict) -> dict:
    """What the fixture holds for products ``{"flt": path, "crj": path}``."""
    keywords, statistics = {}, {}
    for suffix, path in products.items():
        with fits.open(path) as hdul:
            keywords[suffix] = {"PRIMARY": header_keywords(hdul[0].header),
                                **{name: header_keywords(hdul[name, 1].header)
                                   for name in HEADERS[1:]}}
            for ver in range(1, hdul[0].header["NEXTEND"] // 3 + 1):
                statistics[f"{suffix}[{ver}]"] = {
                    name: {k: hdul[name, ver].header[k] for k in STATISTICS
                           if k in hdul[name, ver].header} for name in ("SCI", "ERR")}
            version = hdul[0].header["CAL_VER"]
    return {"calstis": version, "keywords": keywords, "statistics": statistics}


def run_calstis(calstis: str, raw: Path, oref: Path, out: Path) -> dict:
    """``cs0.e raw`` in ``out``: ``{"flt": path, "crj": path}``."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copy(raw, out / raw.name)
    done = subprocess.run([calstis, raw.name], cwd=out, env={**os.environ, "oref": f"{oref}/"},
                          capture_output=True, text=True, check=False)
    (out / "log.txt").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{calstis} {raw.name} failed ({done.returncode}); see "
                           f"{out / 'log.txt'}")
    return {suffix: out / f"{ROOTNAME}_{suffix}.fits" for suffix in PRODUCTS}


def record(calstis: str, workdir: Path) -> dict:
    """Run cs0.e on the input and describe its products."""
    raw, oref = make_input(Path(workdir) / "inputs")
    return describe(run_calstis(calstis, raw, oref, Path(workdir) / "calstis"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calstis", default=os.environ.get("CALSTIS"),
                        help="cs0.e (default: $CALSTIS)")
    parser.add_argument("--workdir", type=Path, default=Path("calstis_keywords_work"))
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)
    if not args.calstis:
        parser.error("give --calstis or set CALSTIS")
    found = record(args.calstis, args.workdir)
    found["generated_by"] = ("python -m tests.stis.calstis_keywords --calstis cs0.e "
                             "(hstcal's calstis on make_input's exposure)")
    args.out.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
