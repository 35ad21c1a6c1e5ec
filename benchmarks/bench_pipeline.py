"""The whole WFC3/IR pipeline on a simulated full-frame 16-read exposure: time and memory.

(a) Whole process: ``strun wfc3ir_pipeline <raw> ...`` run ``--repeat`` times (median), wall
    and CPU time and peak RSS from the OS (``wait4``), next to the cost of starting Python
    and importing stpipe + stdatamodels, and hstramp's pipeline module, alone; and
    ``hstramp run wfc3ir_pipeline <raw> ...`` (strun's command line run by hstramp's own
    program, which ends without CPython's final garbage collections). The console scripts
    are those installed beside the interpreter running the benchmark, and the hstramp trees
    measured are byte-compiled first (``--no-bytecode``: not), see ``_measure.py``.
(b) In process, stage by stage: a fresh child process imports the pipeline, then runs it
    twice on the same exposure: the first (cold) run pays the one-off costs (ASDF extension
    and schema loading on the first datamodel), the second (warm) run is what every further
    exposure of a batch costs. For each stage (reading the input, checks, each step,
    writing the products) it gives wall and CPU time, and the step's own timing and peak
    memory from ``pipeline.timings``. ``--profile`` adds a cProfile of the warm run.

With ``--baseline TREE`` (another hstramp source tree, e.g. a checkout of main), its
``strun`` joins the rounds of (a) (``PYTHONPATH=TREE``), and (b) runs in two children per
tree, alternated, reporting each tree's child with the faster warm run.

With ``--calwf3 PATH`` (or the environment variable ``CALWF3``), (a) also runs
``calwf3.e raw.fits`` on the same exposure and references, alternating with ``strun`` (the
order flips every round), each run in a fresh output directory, and gives the ratios of the
medians. Both then read the benchmark's own copy of the simulated references, with the two
header fixes calwf3 needs (``_measure.calwf3_references``; hstramp's products are identical
with either copy). Without it no calwf3 figure is given: a ratio to a number from another
machine is not a measurement.

The exposure is simulated once into ``--workdir`` and reused. Nothing here fails on a slow
machine; the load average is recorded with every measurement.

Usage::

    python benchmarks/bench_pipeline.py                     # full frame, 16 reads, 3 runs
    python benchmarks/bench_pipeline.py --calwf3 /work/hstcal-build/pkg/wfc3/calwf3.e --repeat 5
    python benchmarks/bench_pipeline.py --repeat 5 --profile
    python benchmarks/bench_pipeline.py --baseline /work/main --calwf3 ...  # a branch vs main
    python benchmarks/bench_pipeline.py --size 256 --nsamp 9 --output small.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _measure import (
    ISSUE_IMPORT_SECONDS,
    Contender,
    add_bytecode_option,
    anchor_contender,
    anchor_executable,
    calwf3_references,
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
    run_json_child,
    side_by_side,
    simulated_exposure,
    stage_durations,
    stage_timer,
    write_report,
)

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "hstramp_bench"
#: the row of ``hstramp run``: strun's command line, run by hstramp's own program
HSTRAMP_RUN = "hstramp run wfc3ir_pipeline"
#: the row of ``--baseline``'s strun
BASELINE = "strun (baseline)"


# ------------------------------------------------------------------ (b): in a child process


def one_run(pipeline, raw: Path) -> dict:
    """Run the pipeline once; stage rows (wall, CPU, peak; the step's own timing) and totals.

    ``rss_before_mb``/``rss_after_mb``: resident memory before and after the run (what a
    batch worker keeps between exposures).
    """
    marks = stage_timer(pipeline)
    rss_before = resident_mb("VmRSS")
    reset_peak()
    start, start_cpu = time.perf_counter(), cpu_seconds()
    pipeline.run(str(raw))
    end, end_cpu = time.perf_counter(), cpu_seconds()
    stages = stage_durations(marks, end, end_cpu, peak_mb())
    for row in stages:
        if row["stage"] in pipeline.timings:
            row["step_seconds"] = pipeline.timings[row["stage"]][0]
    return {"seconds": end - start, "cpu_seconds": end_cpu - start_cpu,
            "peak_mb": max(row["peak_mb"] for row in stages), "stages": stages,
            "rss_before_mb": rss_before, "rss_after_mb": resident_mb("VmRSS"),
            "load": load_average()}


def profile_run(pipeline, raw: Path, top: int = 25) -> list[dict]:
    """cProfile of one run: the ``top`` functions by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(pipeline.run, str(raw))
    stats = pstats.Stats(profiler).stats
    rows = [{"function": f"{Path(file).name}:{line}({name})", "calls": calls,
             "own_seconds": own, "cumulative_seconds": cumulative}
            for (file, line, name), (calls, _primitive, own, cumulative, _callers)
            in stats.items()]
    return sorted(rows, key=lambda row: -row["own_seconds"])[:top]


def in_process(raw: Path, output_dir: Path, profile: bool) -> dict:
    """Import, then a cold and a warm run (and optionally a profiled one)."""
    start = time.perf_counter()
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    imported = time.perf_counter() - start
    pipeline = WFC3IRPipeline(output_dir=str(output_dir), overwrite=True)
    result = {"import_seconds": imported, "cold": one_run(pipeline, raw),
              "warm": one_run(pipeline, raw)}
    if profile:
        result["profile"] = profile_run(pipeline, raw)
    return result


# ------------------------------------------------------------------ (a) and the driver


def whole_process(raw: Path, iref: Path, parent: Path, repeat: int,
                  calwf3: Path | None, baseline: Path | None = None) -> dict:
    """``strun`` on the raw (and calwf3, and a baseline tree's strun), and the bare imports,
    ``repeat`` rounds (median)."""
    strun, hstramp = console_script("strun"), console_script("hstramp")
    root = raw.name.removesuffix("_raw.fits")
    products = (f"{root}_ima.fits", f"{root}_flt.fits")
    contenders = [
        Contender("python", lambda where: [sys.executable, "-c", "pass"]),
        Contender("import stpipe+stdatamodels",
                  lambda where: [sys.executable, "-c", "import stpipe, stdatamodels"]),
        Contender("import hstramp pipeline",
                  lambda where: [sys.executable, "-c", "import hstramp.pipeline.wfc3ir"]),
        Contender("strun wfc3ir_pipeline",
                  lambda where: [strun, "wfc3ir_pipeline", str(raw), f"--output_dir={where}"],
                  env={"iref": str(iref)}, products=products),
        Contender(HSTRAMP_RUN,
                  lambda where: [hstramp, "run", "wfc3ir_pipeline", str(raw),
                                 f"--output_dir={where}"],
                  env={"iref": str(iref)}, products=products),
    ]
    if baseline is not None:
        contenders.append(Contender(
            BASELINE, lambda where: [strun, "wfc3ir_pipeline", str(raw), f"--output_dir={where}"],
            env={"iref": str(iref), "PYTHONPATH": str(baseline)}, products=products))
    if calwf3 is not None:
        contenders.append(anchor_contender("calwf3.e", calwf3, [raw],
                                           lambda name: products, {"iref": f"{iref}/"}))
    return side_by_side(contenders, repeat, parent)


def whole_process_table(rows: dict) -> str:
    """Text table of (a), with the ratios to calwf3 when it ran in the same rounds."""
    table = [{"what": name, **row} for name, row in rows.items()]
    strun = rows["strun wfc3ir_pipeline"]
    text = format_table(table, [("what", "process (median)", "<28"), ("seconds", "wall s", ">.2f"),
                                ("cpu_seconds", "cpu s", ">.2f"), ("peak_mb", "peak MB", ">.0f")])
    text += (f"\nimports {rows['import stpipe+stdatamodels']['seconds']:.2f} s "
             f"(issue: {ISSUE_IMPORT_SECONDS} s)")
    base = rows.get(BASELINE)
    if base is not None:
        text += (f"\nstrun / baseline strun, side by side: wall "
                 f"{ratio(strun['seconds'], base['seconds']):.2f}x"
                 f"{round_ratio_text(strun, base)}, cpu "
                 f"{ratio(strun['cpu_seconds'], base['cpu_seconds']):.2f}x, peak RSS "
                 f"{ratio(strun['peak_mb'], base['peak_mb']):.2f}x")
    anchor = rows.get("calwf3.e")
    if anchor is None:
        return text + "\ncalwf3 not run (--calwf3): no ratio"
    for name, label in (("strun wfc3ir_pipeline", "strun"), (HSTRAMP_RUN, "hstramp run")):
        ours = rows[name]
        text += (f"\n{label} / calwf3.e, side by side: wall "
                 f"{ratio(ours['seconds'], anchor['seconds']):.2f}x"
                 f"{round_ratio_text(ours, anchor)}, cpu "
                 f"{ratio(ours['cpu_seconds'], anchor['cpu_seconds']):.2f}x, peak RSS "
                 f"{ratio(ours['peak_mb'], anchor['peak_mb']):.2f}x")
    return text


def stage_table(run: dict) -> str:
    """Text table of one in-process run's stages."""
    rows = [*run["stages"], {"stage": "total", "seconds": run["seconds"],
                             "cpu_seconds": run["cpu_seconds"], "peak_mb": run["peak_mb"]}]
    for row in rows:
        row["share"] = 100 * row["cpu_seconds"] / run["cpu_seconds"]
    return format_table(rows, [("stage", "stage", "<12"), ("seconds", "wall s", ">.3f"),
                               ("cpu_seconds", "cpu s", ">.3f"), ("share", "cpu %", ">.0f"),
                               ("peak_mb", "peak MB", ">.0f"),
                               ("step_seconds", "step s", ">.3f")])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1014, help="science side [1014]")
    parser.add_argument("--nsamp", type=int, default=16, help="reads [16]")
    parser.add_argument("--repeat", type=int, default=3, help="strun runs (median) [3]")
    parser.add_argument("--profile", action="store_true", help="cProfile a warm run")
    parser.add_argument("--no-strun", action="store_true", help="skip (a)")
    parser.add_argument("--calwf3", help="calwf3.e to run side by side in (a) [$CALWF3]")
    parser.add_argument("--baseline", help="another hstramp source tree (e.g. a checkout of "
                        "main) run side by side: its strun in (a), its in-process runs in (b)")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="simulated inputs (kept and reused) [%(default)s]")
    parser.add_argument("--output", default="bench_pipeline.json", help="JSON [%(default)s]")
    add_bytecode_option(parser)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import json

        raw, output_dir, profile = args.child
        print(json.dumps(in_process(Path(raw), Path(output_dir), profile == "1")))
        return
    calwf3 = anchor_executable(args.calwf3, "CALWF3")
    baseline = Path(args.baseline).resolve() if args.baseline else None
    report = {"machine": machine(), "size": args.size, "nsamp": args.nsamp,
              "calwf3": str(calwf3) if calwf3 else None,
              "baseline": str(baseline) if baseline else None,
              "bytecode": prepare_bytecode([hstramp_tree(), *([baseline] if baseline else [])],
                                           compiled=not args.no_bytecode)}
    raw, iref = simulated_exposure(args.workdir, size=args.size, nsamp=args.nsamp)
    if calwf3 is not None:
        iref, report["reference_changes"] = calwf3_references(
            iref, Path(args.workdir) / f"calwf3_iref_{iref.name}")
        print("references for both: " + "; ".join(report["reference_changes"]))
    print(f"exposure {raw} ({args.size}^2 science, {args.nsamp} reads), "
          f"load {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as output_dir:
        if not args.no_strun:
            report["whole_process"] = whole_process(raw, iref, Path(output_dir), args.repeat,
                                                    calwf3, baseline)
            print("\n(a) whole process\n" + whole_process_table(report["whole_process"]))
        trees = {"in_process": None, **({"baseline_in_process": baseline} if baseline else {})}
        for key in (list(trees) if len(trees) == 1 else [*trees, *trees]):  # alternated
            env = {"iref": str(iref), **({"PYTHONPATH": str(trees[key])} if trees[key] else {})}
            child = run_json_child(__file__, [raw, output_dir, int(args.profile)], env=env)
            report.setdefault(f"{key}_runs", []).append(child)
        for key in trees:  # the faster of the two children (both when alternated)
            report[key] = min(report[f"{key}_runs"], key=lambda run: run["warm"]["cpu_seconds"])
    for key in trees:
        result = report[key]
        label = "this tree" if key == "in_process" else f"baseline {baseline}"
        print(f"\n(b) in process, {label}: import {result['import_seconds']:.2f} s")
        for which in ("cold", "warm"):
            run = result[which]
            print(f"\n{which} run (load {run['load']}; resident {run['rss_before_mb']:.0f} MB "
                  f"before, {run['rss_after_mb']:.0f} MB after)\n{stage_table(run)}")
    result = report["in_process"]
    if args.profile:
        print("\nwarm run, top functions by own time\n" + format_table(
            result["profile"][:15], [("function", "function", "<60"), ("calls", "calls", ">d"),
                                     ("own_seconds", "own s", ">.3f"),
                                     ("cumulative_seconds", "cum s", ">.3f")]))
    write_report(args.output, report)


if __name__ == "__main__":
    main()
