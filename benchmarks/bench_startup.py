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
  loading every extension first; not a recommendation, a measure of what is at stake);
* each stage's resident memory (VmRSS after it): what asdf's loading adds to the process;
* a second what-if (``libyaml``): the same stages with asdf's manifest parsing
  (``asdf.extension._manifest``, which calls PyYAML's pure-Python ``yaml.safe_load``) handed
  libyaml's ``CSafeLoader`` instead, in the child process only: what a one-line change in
  asdf would save (PyYAML's safe loader and its C twin build the same Python objects).

* ``exit``: the end of a process that has imported the pipeline and made a datamodel (the
  state in which ``strun`` ends): the seconds from its last statement to its end, as it
  is, and with ``gc.freeze()`` as that last statement (what the ``hstramp`` program and a
  batch worker do, :func:`hstramp.signals.freeze_for_exit`; for ``strun`` it is a
  proposal for stpipe).

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

from _measure import (
    format_table,
    load_average,
    machine,
    resident_mb,
    run_json_child,
    write_report,
)

#: what the ``first model`` probe times, in order
STAGES = ("import", "resource_mappings", "resource_manager", "extensions", "asdf_file",
          "first_model", "second_model")


def parse_manifests_with_libyaml() -> None:
    """The ``libyaml`` what-if: asdf's manifest parsing through libyaml's ``CSafeLoader``.

    Private to this benchmark's child process (asdf 6.0 parses every extension manifest
    with ``yaml.safe_load``, PyYAML's pure-Python loader, though libyaml is installed).
    """
    import types

    import asdf.extension._manifest as manifest
    import yaml

    manifest.yaml = types.SimpleNamespace(
        safe_load=lambda stream: yaml.load(stream, Loader=yaml.CSafeLoader))


def first_model(mode: str) -> dict:
    """Time asdf's stages on the first datamodel (this process must be fresh).

    ``mode``: ``full`` (as strun does it), ``libyaml`` (manifests parsed by libyaml) or
    ``empty`` (no extensions, through a private attribute).
    """
    marks, memory = {}, {}
    start = time.perf_counter()
    import asdf

    from hstramp.datamodels import RampModel
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline  # noqa: F401  (what strun imports)

    marks["import"] = time.perf_counter()
    memory["import"] = resident_mb("VmRSS")
    if mode == "libyaml":
        parse_manifests_with_libyaml()
    if mode == "empty":
        with asdf.config_context() as config:
            config._extensions = []  # private: the what-if of the module docstring
            RampModel()
            marks["first_model_no_extensions"] = time.perf_counter()
        return {"import": marks["import"] - start,
                "first_model_no_extensions": marks["first_model_no_extensions"]
                - marks["import"],
                "load": load_average()}
    config = asdf.get_config()

    def mark(stage):
        marks[stage] = time.perf_counter()
        memory[stage] = resident_mb("VmRSS")

    counts = {"resource_mappings": len(config.resource_mappings)}
    mark("resource_mappings")
    counts["resources"] = len(list(config.resource_manager))
    mark("resource_manager")
    counts["extensions"] = len(config.extensions)
    mark("extensions")
    asdf.AsdfFile()
    mark("asdf_file")
    RampModel()
    mark("first_model")
    RampModel()
    mark("second_model")
    times, previous = {}, start
    for stage in STAGES:
        times[stage] = marks[stage] - previous
        previous = marks[stage]
    return {**times, "rss_mb": memory, "counts": counts, "load": load_average()}


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


#: the exit probe's child: the state in which strun ends, then its last statement
_EXIT_CHILD = """import gc, time
import hstramp.pipeline.wfc3ir
from hstramp.datamodels import RampModel
RampModel()
{freeze}print(time.time(), flush=True)
"""


def exit_seconds(frozen: bool) -> float:
    """Seconds from a child's last statement to its end (see the module docstring)."""
    code = _EXIT_CHILD.format(freeze="gc.freeze()\n" if frozen else "")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True)
    return time.time() - float(result.stdout.split()[-1])


def median_rss(runs: list[dict]) -> dict:
    """Median resident MB after each stage."""
    return {stage: statistics.median(run["rss_mb"][stage] for run in runs) for stage in STAGES}


def median_rows(runs: list[dict], keys) -> dict:
    """Median of each key over the runs."""
    return {key: statistics.median(run[key] for run in runs) for key in keys}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each probe [5]")
    parser.add_argument("--output", default="bench_startup.json", help="JSON [%(default)s]")
    parser.add_argument("--child", choices=("full", "empty", "libyaml"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(first_model(args.child)))
        return
    report = {"machine": machine()}
    imports = [import_times() for _ in range(args.repeat)]
    names = [row["package"] for row in imports[0]]
    report["imports"] = {"runs": imports, "median": [
        {"package": name, "seconds": statistics.median(
            next((r["seconds"] for r in run if r["package"] == name), 0.0) for run in imports)}
        for name in names]}
    full, empty, libyaml = [], [], []
    for _ in range(args.repeat):  # interleaved
        full.append(run_json_child(__file__, ["full"]))
        empty.append(run_json_child(__file__, ["empty"]))
        libyaml.append(run_json_child(__file__, ["libyaml"]))
    exits = {"as_it_is": [], "frozen": []}
    for _ in range(args.repeat):  # interleaved
        for key in exits:
            exits[key].append(exit_seconds(key == "frozen"))
    report["exit"] = {key: {"runs": runs, "median": statistics.median(runs)}
                      for key, runs in exits.items()}
    report["first_model"] = {"runs": full, "median": median_rows(full, STAGES),
                             "rss_mb": median_rss(full), "counts": full[0]["counts"]}
    report["first_model_libyaml"] = {"runs": libyaml, "median": median_rows(libyaml, STAGES),
                                     "rss_mb": median_rss(libyaml)}
    report["first_model_no_extensions"] = {
        "runs": empty, "median": median_rows(empty, ("import", "first_model_no_extensions"))}
    print("-X importtime, import hstramp.pipeline.wfc3ir (median, self time per package)\n"
          + format_table(report["imports"]["median"],
                         [("package", "package", "<20"), ("seconds", "s", ">.3f")]))
    stages, faster = report["first_model"]["median"], report["first_model_libyaml"]["median"]
    rss, rss_libyaml = report["first_model"]["rss_mb"], report["first_model_libyaml"]["rss_mb"]
    print("\nfirst datamodel, stage by stage (median s; resident MB after the stage); "
          "what-if: manifests parsed by libyaml\n" + format_table(
              [{"stage": k, "seconds": v, "rss": rss[k], "libyaml": faster[k],
                "rss_libyaml": rss_libyaml[k]} for k, v in stages.items()],
              [("stage", "stage", "<20"), ("seconds", "s", ">.3f"), ("rss", "MB", ">.0f"),
               ("libyaml", "libyaml s", ">.3f"), ("rss_libyaml", "MB", ">.0f")]))
    print(f"counts: {report['first_model']['counts']}")
    what_if = report["first_model_no_extensions"]["median"]["first_model_no_extensions"]
    print(f"first RampModel with no extensions (private what-if): {what_if:.3f} s against "
          f"{sum(stages[k] for k in STAGES[1:6]):.3f} s")
    print(f"exit after the first datamodel: {report['exit']['as_it_is']['median']:.3f} s; "
          f"with gc.freeze() first: {report['exit']['frozen']['median']:.3f} s")
    write_report(args.output, report)


if __name__ == "__main__":
    main()
