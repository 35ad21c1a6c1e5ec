"""How time and memory grow with the number of reads and of pixels.

Two sets of points, said apart in every table:

* ``core``: jump detection + ramp fit alone (``hstramp.core``), on synthetic ramps built
  directly (``bench_jump_rampfit.make_exposure``: evenly spaced reads, so stcal is right too),
  for 4, 9, 16, 100 reads of 1024^2 pixels and 256^2 to 2048^2 pixels of 16 reads: sizes
  and read counts WFC3 cannot make (NSAMP <= 16, 1024^2 detector), to see the trend. Each
  call runs in its own child process, hstramp and stcal interleaved (stcal single-process).
* ``pipeline``: the whole WFC3IRPipeline on simulated exposures (``hstramp.simulate``) at
  the points the simulator supports: 4, 9, 16 reads of the full frame and 256^2, 512^2 and
  full-frame (1014^2 science) subarrays of 16 reads; the warm (second) run in a fresh
  process, as ``bench_pipeline.py`` (b) measures it.

The slope of log(time) against log(reads) or log(pixels) says how a cost grows (1: in
proportion). Nothing here fails on a slow machine; the load average is recorded.

Usage::

    python benchmarks/bench_scaling.py                 # everything (about 10 minutes)
    python benchmarks/bench_scaling.py --quick         # small points only
    python benchmarks/bench_scaling.py --no-stcal --no-pipeline
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import bench_jump_rampfit
import bench_pipeline
from _measure import (
    format_table,
    load_average,
    machine,
    ratio,
    run_json_child,
    simulated_exposure,
    write_report,
)

CORE_READS = [(4, 1024), (9, 1024), (16, 1024), (100, 1024)]
CORE_PIXELS = [(16, 256), (16, 512), (16, 1024), (16, 2048)]
PIPELINE_READS = [(4, 1014), (9, 1014), (16, 1014)]
PIPELINE_PIXELS = [(16, 256), (16, 512), (16, 1014)]
QUICK_CORE = [(4, 256), (16, 256), (100, 256), (16, 512)]
QUICK_PIPELINE = [(4, 256), (16, 256), (16, 512)]


def core_points(points, repeat: int, with_stcal: bool) -> list[dict]:
    """jump + fit of hstramp (and stcal) on synthetic ramps, one row per point."""
    implementations = ["hstramp"] + (["stcal"] if with_stcal else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_scaling_") as directory:
        for ngroups, side in points:
            case = bench_jump_rampfit.prepare(Path(directory), ngroups, side, "even")
            row = {"kind": "core", "reads": ngroups, "side": side, "load": load_average()}
            for step in ("jump", "fit"):
                measured = bench_jump_rampfit.measure_step(repeat, implementations, step, case)
                row.update({f"{step}_{key}": value for key, value in measured.items()})
            for name in implementations:
                for quantity in ("seconds", "cpu_seconds", "extra_mb"):
                    row[f"{name}_{quantity}"] = (row[f"jump_{name}_{quantity}"]
                                                 + row[f"fit_{name}_{quantity}"])
            rows.append(row)
            print(f"core {ngroups:>3} x {side}^2: hstramp {row['hstramp_seconds']:.2f} s "
                  f"(load {row['load'][0]})", flush=True)
            for path in case.iterdir():
                path.unlink()
    return rows


def pipeline_points(points, workdir: Path) -> list[dict]:
    """The whole pipeline (warm run) on simulated exposures, one row per point."""
    rows = []
    for nsamp, size in points:
        raw, iref = simulated_exposure(workdir, size=size, nsamp=nsamp)
        with tempfile.TemporaryDirectory(prefix="bench_scaling_") as output_dir:
            result = run_json_child(bench_pipeline.__file__, [raw, output_dir, 0],
                                    env={"iref": str(iref)})
        warm = result["warm"]
        side = size + 10  # with the reference pixels
        stages = {row["stage"]: row["cpu_seconds"] for row in warm["stages"]}
        rows.append({"kind": "pipeline", "reads": nsamp, "side": side,
                     "hstramp_seconds": warm["seconds"],
                     "hstramp_cpu_seconds": warm["cpu_seconds"],
                     "hstramp_peak_mb": warm["peak_mb"], "cold_seconds":
                     result["cold"]["seconds"], "jump_fit_cpu_seconds":
                     stages.get("jump", 0.0) + stages.get("ramp_fit", 0.0),
                     "load": warm["load"]})
        print(f"pipeline {nsamp:>3} x {side}^2: {warm['seconds']:.2f} s "
              f"(load {warm['load'][0]})", flush=True)
    return rows


def add_derived(rows: list[dict]) -> None:
    """CPU nanoseconds per pixel per read, and hstramp / stcal ratios."""
    for row in rows:
        samples = row["reads"] * row["side"] ** 2
        row["ns_per_sample"] = 1e9 * row["hstramp_cpu_seconds"] / samples
        if "stcal_seconds" in row:
            row["cpu_ratio"] = ratio(row["hstramp_cpu_seconds"], row["stcal_cpu_seconds"])
            row["memory_ratio"] = ratio(row["hstramp_extra_mb"], row["stcal_extra_mb"])


def slope(rows: list[dict], axis: str, key: str) -> float:
    """log-log slope of ``key`` against reads or pixels between the first and last rows."""
    size = (lambda r: r["reads"]) if axis == "reads" else (lambda r: r["side"] ** 2)
    first, last = rows[0], rows[-1]
    if size(first) == size(last) or min(first[key], last[key]) <= 0:
        return float("nan")
    return math.log(last[key] / first[key]) / math.log(size(last) / size(first))


def scaling_table(rows: list[dict]) -> str:
    """Text table of every point."""
    return format_table(rows, [
        ("kind", "kind", "<9"), ("reads", "reads", ">d"), ("side", "side", ">d"),
        ("hstramp_seconds", "wall s", ">.2f"), ("hstramp_cpu_seconds", "cpu s", ">.2f"),
        ("ns_per_sample", "cpu ns/px/read", ">.1f"),
        ("hstramp_extra_mb", "extra MB", ">.0f"), ("hstramp_peak_mb", "peak MB", ">.0f"),
        ("stcal_cpu_seconds", "stcal cpu s", ">.2f"), ("cpu_ratio", "cpu ratio", ">.2f"),
        ("stcal_extra_mb", "stcal MB", ">.0f"), ("memory_ratio", "MB ratio", ">.2f"),
    ])


def slopes(series: dict) -> dict:
    """Growth exponents of CPU time (and memory) along each series."""
    out = {}
    for name, rows in series.items():
        if len(rows) < 2:
            continue
        axis = "reads" if "reads" in name else "pixels"
        memory = "hstramp_extra_mb" if rows[0]["kind"] == "core" else "hstramp_peak_mb"
        out[name] = {"cpu": slope(rows, axis, "hstramp_cpu_seconds"),
                     "memory": slope(rows, axis, memory)}
        if "stcal_cpu_seconds" in rows[0]:
            out[name]["stcal_cpu"] = slope(rows, axis, "stcal_cpu_seconds")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small points only")
    parser.add_argument("--repeat", type=int, default=1, help="core runs per point (best)")
    parser.add_argument("--no-stcal", action="store_true", help="core: hstramp only")
    parser.add_argument("--no-core", action="store_true", help="skip the core points")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the pipeline points")
    parser.add_argument("--workdir", default=str(bench_pipeline.DEFAULT_WORKDIR),
                        help="simulated inputs (kept and reused) [%(default)s]")
    parser.add_argument("--output", default="bench_scaling.json", help="JSON [%(default)s]")
    args = parser.parse_args(argv)
    core = QUICK_CORE if args.quick else CORE_READS + CORE_PIXELS
    pipeline = QUICK_PIPELINE if args.quick else PIPELINE_READS + PIPELINE_PIXELS
    unique = lambda points: list(dict.fromkeys(points))  # noqa: E731
    rows = []
    if not args.no_core:
        rows += core_points(unique(core), args.repeat, not args.no_stcal)
    if not args.no_pipeline:
        rows += pipeline_points(unique(pipeline), Path(args.workdir))
    add_derived(rows)
    reads_side = {"core": core[0][1], "pipeline": pipeline[0][1] + 10}
    series = {}
    for row in rows:
        if row["side"] == reads_side[row["kind"]]:
            series.setdefault(f"{row['kind']} vs reads", []).append(row)
        if row["reads"] == 16:
            series.setdefault(f"{row['kind']} vs pixels", []).append(row)
    for rows_of in series.values():
        rows_of.sort(key=lambda r: (r["reads"], r["side"]))
    print("\n" + scaling_table(rows))
    growth = slopes(series)
    print("\ngrowth exponents (log-log slope, first to last point; 1 = in proportion)")
    for name, values in growth.items():
        print(f"  {name:<20}" + "  ".join(f"{k} {v:.2f}" for k, v in values.items()))
    write_report(args.output, {"machine": machine(), "rows": rows, "growth": growth})


if __name__ == "__main__":
    main()
