"""Start-up cost of a process: the imports, and asdf's work on the first datamodel.

Each probe runs in a fresh child process, ``--repeat`` times (median):

* ``imports``: ``python -X importtime -c "import hstramp.pipeline.wfc3ir"``; the import
  time spent in each package's own modules (self times summed per package);
* ``first model``: after importing the pipeline, the stages asdf goes through the first time
  a datamodel is made, timed one after the other in the same process: the resource mappings
  (every ``asdf.resource_mappings`` entry point called), the resource manager, the
  extensions (every ``asdf.extensions`` entry point called: manifests parsed), the first
  ``asdf.AsdfFile()`` (its extension manager), the first ``RampModel`` (its schema loaded
  and resolved), a second ``RampModel``; and, as a what-if, the same first ``RampModel``
  made inside ``asdf.config_context()`` with the context's extension list emptied through
  the private ``_extensions`` attribute (asdf 6.0 has no public way to set that list without
  loading every extension first; not a recommendation, a measure of what is at stake).

Usage::

    python benchmarks/bench_startup.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time

from _measure import format_table, load_average, machine, run_json_child, write_report

#: what the ``first model`` probe times, in order
STAGES = ("import", "resource_mappings", "resource_manager", "extensions", "asdf_file",
          "first_model", "second_model")


def first_model(empty_extensions: bool) -> dict:
    """Time asdf's stages on the first datamodel (this process must be fresh)."""
    marks = {}
    start = time.perf_counter()
    import asdf

    from hstramp.datamodels import RampModel
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline  # noqa: F401  (what strun imports)

    marks["import"] = time.perf_counter()
    if empty_extensions:
        with asdf.config_context() as config:
            config._extensions = []  # private: the what-if of the module docstring
            RampModel()
            marks["first_model_no_extensions"] = time.perf_counter()
        return {"import": marks["import"] - start,
                "first_model_no_extensions": marks["first_model_no_extensions"]
                - marks["import"],
                "load": load_average()}
    config = asdf.get_config()
    counts = {"resource_mappings": len(config.resource_mappings)}
    marks["resource_mappings"] = time.perf_counter()
    counts["resources"] = len(list(config.resource_manager))
    marks["resource_manager"] = time.perf_counter()
    counts["extensions"] = len(config.extensions)
    marks["extensions"] = time.perf_counter()
    asdf.AsdfFile()
    marks["asdf_file"] = time.perf_counter()
    RampModel()
    marks["first_model"] = time.perf_counter()
    RampModel()
    marks["second_model"] = time.perf_counter()
    times, previous = {}, start
    for stage in STAGES:
        times[stage] = marks[stage] - previous
        previous = marks[stage]
    return {**times, "counts": counts, "load": load_average()}


def import_times(top: int = 14) -> list[dict]:
    """``-X importtime`` of the pipeline import: each package's own (self) time, summed.

    Self times add up to the whole import, so the rows say which packages' module code
    the time is spent in (``crds``: the modules of the crds package, whoever imports them).
    """
    output = subprocess.run([sys.executable, "-X", "importtime", "-c",
                             "import hstramp.pipeline.wfc3ir"],
                            capture_output=True, text=True, check=True).stderr
    packages = {}
    for line in output.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            name = match.group(2).split(".")[0]
            packages[name] = packages.get(name, 0) + int(match.group(1)) / 1e6
    total = sum(packages.values())
    rows = sorted(({"package": k, "seconds": v} for k, v in packages.items()),
                  key=lambda row: -row["seconds"])
    return [{"package": "(all)", "seconds": total}, *rows[:top]]


def median_rows(runs: list[dict], keys) -> dict:
    """Median of each key over the runs."""
    return {key: statistics.median(run[key] for run in runs) for key in keys}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each probe [5]")
    parser.add_argument("--output", default="bench_startup.json", help="JSON [%(default)s]")
    parser.add_argument("--child", choices=("full", "empty"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(first_model(args.child == "empty")))
        return
    report = {"machine": machine()}
    imports = [import_times() for _ in range(args.repeat)]
    names = [row["package"] for row in imports[0]]
    report["imports"] = {"runs": imports, "median": [
        {"package": name, "seconds": statistics.median(
            next((r["seconds"] for r in run if r["package"] == name), 0.0) for run in imports)}
        for name in names]}
    full, empty = [], []
    for _ in range(args.repeat):  # interleaved
        full.append(run_json_child(__file__, ["full"]))
        empty.append(run_json_child(__file__, ["empty"]))
    report["first_model"] = {"runs": full, "median": median_rows(full, STAGES),
                             "counts": full[0]["counts"]}
    report["first_model_no_extensions"] = {
        "runs": empty, "median": median_rows(empty, ("import", "first_model_no_extensions"))}
    print("-X importtime, import hstramp.pipeline.wfc3ir (median, self time per package)\n"
          + format_table(report["imports"]["median"],
                         [("package", "package", "<20"), ("seconds", "s", ">.3f")]))
    stages = report["first_model"]["median"]
    print("\nfirst datamodel, stage by stage (median s)\n" + format_table(
        [{"stage": k, "seconds": v} for k, v in stages.items()],
        [("stage", "stage", "<20"), ("seconds", "s", ">.3f")]))
    print(f"counts: {report['first_model']['counts']}")
    what_if = report["first_model_no_extensions"]["median"]["first_model_no_extensions"]
    print(f"first RampModel with no extensions (private what-if): {what_if:.3f} s against "
          f"{sum(stages[k] for k in STAGES[1:6]):.3f} s")
    write_report(args.output, report)


if __name__ == "__main__":
    main()
