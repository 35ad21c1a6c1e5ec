"""The WFC3/IR write stage alone: the ima and flt of a calibrated full-frame exposure.

Runs the pipeline once on the simulated exposure of ``bench_pipeline.py`` (kept in
``--workdir``), keeps the models it would write, then writes the products ``--repeat`` times
(the pipeline's own ``write_products``: statistics keywords, CR flags, headers, checksums,
the files, the all-or-nothing commit) and prints the CPU and wall time of each, sorted, and
how far each write raised the process's resident memory above what it held before it
(``peak_above_mb``, in the order of the writes: the write's own temporaries, from the
kernel's peak-RSS mark; after the first write the allocator mostly reuses what the first
one freed, so the first, ``peak_above_first_mb``, is what a pipeline run sees).
Run it with ``PYTHONPATH`` set to each of two source trees, alternately, to compare them::

    for tree in /tmp/main_tree .; do PYTHONPATH=$tree python benchmarks/bench_write.py; done
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from _measure import load_average, peak_mb, reset_peak, resident_mb, simulated_exposure

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "hstramp_bench"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="writes [7]")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR),
                        help="simulated inputs (kept and reused) [%(default)s]")
    args = parser.parse_args(argv)
    raw, iref = simulated_exposure(args.workdir)
    os.environ["iref"] = f"{iref}/"
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    kept = {}

    class Keeping(WFC3IRPipeline):
        def write_products(self, made, paths):
            kept.update(made=made, pipeline=self)

    out = Path(tempfile.mkdtemp(prefix="bench_write_"))
    try:
        Keeping(output_dir=str(out), overwrite=True).run(str(raw))
        made = kept["made"]
        groupdq = made["ima"].groupdq.copy()  # the ima's CR flags are set while writing
        runs = []
        for _ in range(args.repeat):
            made["ima"].groupdq[...] = groupdq
            paths = {suffix: out / f"bench_{suffix}.fits" for suffix in ("ima", "flt")}
            reset_peak()
            before = resident_mb("VmRSS")
            cpu, wall = time.process_time(), time.perf_counter()
            WFC3IRPipeline.write_products(kept["pipeline"], made, paths)
            runs.append((time.process_time() - cpu, time.perf_counter() - wall,
                         peak_mb() - before))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    cpu = sorted(run[0] for run in runs)
    wall = sorted(run[1] for run in runs)
    above = [run[2] for run in runs]
    print(json.dumps({"hstramp": str(Path(__import__("hstramp").__file__).parent),
                      "load": load_average(), "cpu_seconds": cpu, "wall_seconds": wall,
                      "cpu_median": cpu[len(cpu) // 2], "wall_median": wall[len(wall) // 2],
                      "peak_above_mb": [round(mb, 1) for mb in above],
                      "peak_above_first_mb": round(above[0], 1)}))


if __name__ == "__main__":
    main()
