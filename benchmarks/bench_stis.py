"""STIS CCD: ``strun stis_ccd_pipeline`` against calstis ``cs0.e``, one exposure and a batch.

Simulates ``--exposures`` (20) full-frame unbinned CR-SPLIT=2 exposures once (into
``--workdir``, reused; they share one ``oref`` directory), then, side by side (the order
flips every round, each run in a fresh output directory):

(a) one exposure: the whole process ``strun stis_ccd_pipeline raw.fits`` against
    ``cs0.e raw.fits``, ``--repeat`` rounds (median);
(b) the batch: one Python process that imports the pipeline once and calibrates every
    exposure in turn (what one batch worker does: ``hstramp batch`` runs only the WFC3/IR
    pipeline; and, as a batch worker does, it ends without CPython's final garbage
    collections, :func:`hstramp.signals.freeze_for_exit`), against ``cs0.e`` on each
    exposure one after another (one shell), ``--batch-repeat`` rounds. The Python process
    also reports its resident memory after the imports and, per exposure, its peak above
    that.

Wall and CPU time and peak RSS come from the OS (:func:`_measure.run_process`). With no
``--calstis`` (or ``CALSTIS``) only hstramp runs and no ratio is given.

Usage::

    python benchmarks/bench_stis.py --calstis /work/hstcal-build/pkg/stis/cs0.e
    python benchmarks/bench_stis.py --exposures 4 --repeat 2 --batch-repeat 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from _measure import (
    Contender,
    add_bytecode_option,
    anchor_contender,
    anchor_executable,
    console_script,
    cpu_seconds,
    format_table,
    hstramp_tree,
    load_average,
    machine,
    peak_mb,
    prepare_bytecode,
    ratio,
    reset_peak,
    resident_mb,
    round_ratio_text,
    side_by_side,
    write_report,
)
from bench_pipeline import DEFAULT_WORKDIR


def simulated_stis(directory: Path, seed: int) -> Path:
    """A full-frame CR-SPLIT=2 exposure in ``directory`` (made once); its raw file."""
    from hstramp.simulate.stis import simulate_stis_exposure

    rootname = f"osim{seed:04d}q"
    raw = directory / f"{rootname}_raw.fits"
    if not raw.is_file():
        simulate_stis_exposure(directory, crsplit=2, seed=seed, rootname=rootname)
    return raw


def make_inputs(workdir: Path, count: int) -> tuple[list[Path], Path]:
    """``count`` exposures sharing one ``oref`` directory (made two at a time)."""
    directory = (workdir / "stis_full_crsplit2").resolve()
    with ProcessPoolExecutor(max_workers=2) as pool:
        raws = list(pool.map(partial(simulated_stis, directory), range(301, 301 + count)))
    return raws, directory


def crj_of(raw_name: str) -> tuple[str]:
    """The crj file name of a raw file name."""
    return (raw_name.removesuffix("_raw.fits") + "_crj.fits",)


# ------------------------------------------------------------------ (b): the Python batch


def calibrate_in_turn(output_dir: Path, raws: list[str]) -> dict:
    """Import the pipeline, then calibrate each exposure in turn; times and memory."""
    start = time.perf_counter()
    from hstramp.pipeline.stis import STISCCDPipeline

    imported = time.perf_counter() - start
    rss_imports = resident_mb("VmRSS")
    pipeline = STISCCDPipeline(output_dir=str(output_dir))
    exposures = []
    for raw in raws:
        reset_peak()
        begin, begin_cpu, rss_before = time.perf_counter(), cpu_seconds(), resident_mb("VmRSS")
        pipeline.run(raw)
        exposures.append({"seconds": time.perf_counter() - begin,
                          "cpu_seconds": cpu_seconds() - begin_cpu,
                          "rss_before_mb": rss_before, "peak_mb": peak_mb(),
                          "peak_above_imports_mb": peak_mb() - rss_imports})
    return {"import_seconds": imported, "rss_after_imports_mb": rss_imports,
            "exposures": exposures}


def batch_contender(raws: list[Path], oref: Path) -> Contender:
    """(b)'s Python process; its own figures are read back from ``batch.json``."""
    def command(where: Path) -> list:
        return [sys.executable, __file__, "--child", str(where), *map(str, raws)]

    def collect(where: Path) -> dict:
        inside = json.loads((where / "batch.json").read_text())
        exposures = inside["exposures"]
        later = exposures[1:] or exposures
        return {"inside": inside,
                "first_exposure_seconds": exposures[0]["seconds"],
                "later_exposure_seconds_median": statistics.median(e["seconds"] for e in later),
                "later_exposure_cpu_seconds_median":
                    statistics.median(e["cpu_seconds"] for e in later),
                "import_seconds": inside["import_seconds"],
                "rss_after_imports_mb": inside["rss_after_imports_mb"],
                "exposure_peak_above_imports_mb_max":
                    max(e["peak_above_imports_mb"] for e in exposures)}

    products = tuple(name for raw in raws for name in crj_of(raw.name))
    return Contender("hstramp, one process, in turn", command, env={"oref": str(oref)},
                     products=products, collect=collect)


# ------------------------------------------------------------------ the driver


def comparison_table(rows: dict, count: int) -> str:
    """Text table of one side-by-side comparison, with the ratios when there are two rows."""
    table = [{"what": name, **row, "per_exposure": row["seconds"] / count}
             for name, row in rows.items()]
    text = format_table(table, [("what", "process (median)", "<32"), ("seconds", "wall s", ">.2f"),
                                ("per_exposure", "s/exposure", ">.2f"),
                                ("cpu_seconds", "cpu s", ">.2f"), ("peak_mb", "peak MB", ">.0f")])
    if len(rows) < 2:
        return text + "\ncalstis not run (--calstis): no ratio"
    ours, theirs = rows.values()
    return (f"{text}\nhstramp / cs0.e, side by side: wall "
            f"{ratio(ours['seconds'], theirs['seconds']):.2f}x"
            f"{round_ratio_text(ours, theirs)}, cpu "
            f"{ratio(ours['cpu_seconds'], theirs['cpu_seconds']):.2f}x, peak RSS "
            f"{ratio(ours['peak_mb'], theirs['peak_mb']):.2f}x")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calstis", help="cs0.e to run side by side [$CALSTIS]")
    parser.add_argument("--exposures", type=int, default=20, help="batch exposures [20]")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of (a) [5]")
    parser.add_argument("--batch-repeat", type=int, default=2, help="rounds of (b) [2]")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="simulated inputs (kept and reused) [%(default)s]")
    parser.add_argument("--output", default="bench_stis.json", help="JSON [%(default)s]")
    add_bytecode_option(parser)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        where, *raws = args.child
        result = calibrate_in_turn(Path(where), raws)
        (Path(where) / "batch.json").write_text(json.dumps(result))
        from hstramp.signals import freeze_for_exit

        freeze_for_exit()  # the process ends here, as a batch worker does
        return
    calstis = anchor_executable(args.calstis, "CALSTIS")
    bytecode = prepare_bytecode([hstramp_tree()], compiled=not args.no_bytecode)
    raws, oref = make_inputs(Path(args.workdir), args.exposures)
    print(f"{len(raws)} full-frame CR-SPLIT=2 exposures in {oref}, load {load_average()}")
    strun = console_script("strun")
    single = [Contender("strun stis_ccd_pipeline",
                        lambda where: [strun, "stis_ccd_pipeline", str(raws[0]),
                                       f"--output_dir={where}"],
                        env={"oref": str(oref)}, products=crj_of(raws[0].name))]
    batch = [batch_contender(raws, oref)]
    if calstis is not None:
        env = {"oref": f"{oref}/"}
        single.append(anchor_contender("cs0.e", calstis, raws[:1], crj_of, env))
        batch.append(anchor_contender("cs0.e, one after another", calstis, raws, crj_of, env))
    from hstramp.core.native import kernels_used

    report = {"machine": machine(), "calstis": str(calstis) if calstis else None,
              "exposures": len(raws), "kernels": kernels_used(), "bytecode": bytecode}
    print(f"compiled kernels: {report['kernels']}")
    with tempfile.TemporaryDirectory(prefix="bench_stis_") as parent:
        report["single"] = side_by_side(single, args.repeat, parent)
        print("\n(a) one exposure\n" + comparison_table(report["single"], 1), flush=True)
        report["batch"] = side_by_side(batch, args.batch_repeat, parent)
    ours = report["batch"][batch[0].name]
    print(f"\n(b) {len(raws)} exposures\n" + comparison_table(report["batch"], len(raws)))
    print(f"hstramp's process: {ours['rss_after_imports_mb']:.0f} MB resident after the imports;"
          f" an exposure peaks at most {ours['exposure_peak_above_imports_mb_max']:.0f} MB above"
          f" that; imports {ours['import_seconds']:.2f} s, first exposure "
          f"{ours['first_exposure_seconds']:.2f} s, later ones "
          f"{ours['later_exposure_seconds_median']:.2f} s "
          f"({ours['later_exposure_cpu_seconds_median']:.2f} s CPU, medians)")
    write_report(args.output, report)


if __name__ == "__main__":
    main()
