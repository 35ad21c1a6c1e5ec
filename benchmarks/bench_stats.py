"""The statistics keywords of the WFC3/IR products alone: NumPy path against the compiled kernel.

Runs the pipeline once on the simulated exposure of ``bench_pipeline.py`` (kept in
``--workdir``), keeps the ima and flt models it would write, then computes their statistics
keywords as the write stage does (``read_statistics``: every read of the ima;
``image_statistics``: the flt) ``--repeat`` times with ``HSTRAMP_KERNELS=numpy`` and
``native`` alternated, and prints each path's median CPU and wall time, the largest memory the
computation allocated at once (``tracemalloc``, which sees NumPy's arrays, in one extra round)
and whether the two paths' keywords agree (NGOODPIX, minima and maxima equal; the largest
difference of a mean in float32 ulps).

Usage::

    python benchmarks/bench_stats.py --repeat 9
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _measure import load_average, simulated_exposure

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "hstramp_bench"
PATHS = ("numpy", "native")


def pipeline_models(workdir: str) -> dict:
    """The models one pipeline run on the benchmark exposure would write."""
    raw, iref = simulated_exposure(workdir)
    os.environ["iref"] = f"{iref}/"
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    kept = {}

    class Keeping(WFC3IRPipeline):
        def write_products(self, made, paths):
            kept.update(made)

    out = Path(tempfile.mkdtemp(prefix="bench_stats_"))
    try:
        Keeping(output_dir=str(out), overwrite=True).run(str(raw))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return kept


def keywords(made: dict) -> list:
    """The statistics keywords of every ima read and of the flt, as the write stage computes."""
    from hstramp.pipeline.wfc3ir import image_statistics, read_statistics

    return [*read_statistics(made["ima"]), image_statistics(made["flt"])]


def ulps(a: float, b: float) -> int:
    """Distance of two float32 values in units in the last place."""
    return abs(int(np.float32(a).view(np.int32)) - int(np.float32(b).view(np.int32)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds per path [7]")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="simulated inputs (kept and reused) [%(default)s]")
    args = parser.parse_args(argv)
    made = pipeline_models(args.workdir)
    times = {path: [] for path in PATHS}
    results = {}
    for _ in range(args.repeat):
        for path in PATHS:
            os.environ["HSTRAMP_KERNELS"] = path
            cpu, wall = time.process_time(), time.perf_counter()
            results[path] = keywords(made)
            times[path].append((time.process_time() - cpu, time.perf_counter() - wall))
    peaks = {}
    for path in PATHS:
        os.environ["HSTRAMP_KERNELS"] = path
        tracemalloc.start()
        keywords(made)
        peaks[path] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    worst, same = 0, True
    for mine, theirs in zip(results["native"], results["numpy"], strict=True):
        for hdu in ("SCI", "ERR"):
            for name, value in theirs[hdu].items():
                if name.endswith("MEAN"):
                    worst = max(worst, ulps(mine[hdu][name], value))
                else:
                    same &= mine[hdu][name] == value
    report = {"load": load_average(), "images": len(results["numpy"]), "same_counts_and_extremes":
              bool(same), "largest_mean_difference_ulps": worst}
    for path in PATHS:
        cpu = sorted(t[0] for t in times[path])
        wall = sorted(t[1] for t in times[path])
        report[path] = {"cpu_median": cpu[len(cpu) // 2], "wall_median": wall[len(wall) // 2],
                        "traced_peak_mb": round(peaks[path], 2)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
