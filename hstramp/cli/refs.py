"""``hstramp refs``: the reference files an exposure needs, from CRDS or simulated.

``hstramp refs RAW...`` lists the best references CRDS selects for each exposure (keyword,
file, whether it is in the cache); ``--sync`` fetches the missing ones into ``CRDS_PATH``;
``--update-bestrefs`` writes them into the header, as ``crds bestrefs --update-bestrefs``
does, on a copy (``--out DIR``) or, only with ``--in-place``, in the file itself.
``hstramp refs --simulate RAW --out DIR`` writes simulated references under the names the
header asks for (no CRDS). See ``docs/getting_references.md``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = (
        "List the best reference files CRDS selects for each exposure, whether each is in the "
        "CRDS cache (CRDS_PATH), fetch missing ones (--sync), and write them into the header "
        "(--update-bestrefs, on a copy in --out or with --in-place). Without a server "
        "(CRDS_SERVER_URL unset) the cache alone is used. --simulate writes simulated reference "
        "files named as the header asks instead (no CRDS): iref=DIR (oref for STIS) then runs "
        "the pipeline with no overrides.")
    parser.add_argument("files", nargs="+", metavar="RAW", help="_raw.fits exposures")
    parser.add_argument("--sync", action="store_true",
                        help="fetch references missing from the CRDS cache from the server")
    parser.add_argument("--update-bestrefs", action="store_true",
                        help="write the best references into the header (needs --out or "
                             "--in-place)")
    parser.add_argument("--out", metavar="DIR",
                        help="directory for updated copies (--update-bestrefs) or for the "
                             "simulated references (--simulate)")
    parser.add_argument("--in-place", action="store_true",
                        help="with --update-bestrefs: modify the input files themselves")
    parser.add_argument("--all-types", action="store_true",
                        help="every reference type of the CRDS rules, not only those "
                             "hstramp's pipeline uses")
    parser.add_argument("--simulate", action="store_true",
                        help="write simulated reference files for ONE exposure into --out, "
                             "under the names its header asks for (not science-grade)")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --simulate: replace files of the same names in --out")
    parser.add_argument("--seed", type=int, default=0, help="with --simulate: simulator seed")


def _check_arguments(args):
    """Refuse contradictory or incomplete options before anything is read or written."""
    from hstramp.errors import ParameterError

    if args.simulate:
        if args.out is None or len(args.files) != 1:
            raise ParameterError("--simulate takes one exposure and --out DIR (its super-zero "
                                 "comes from that exposure, so each needs its own directory)")
        if args.sync or args.update_bestrefs or args.in_place:
            raise ParameterError("--simulate does not combine with --sync, --update-bestrefs "
                                 "or --in-place")
        return
    if args.in_place and not args.update_bestrefs:
        raise ParameterError("--in-place only goes with --update-bestrefs")
    if args.update_bestrefs and (args.out is None) == (not args.in_place):
        raise ParameterError("--update-bestrefs needs exactly one of --out DIR (write updated "
                             "copies) or --in-place (modify the inputs)")
    if args.out is not None and not args.update_bestrefs:
        raise ParameterError("--out goes with --update-bestrefs or --simulate")


def _selection(path, all_types):
    """(parameters, best references) of one exposure."""
    from hstramp.pipeline import pipeline_reference_types
    from hstramp.reference import crds

    parameters = crds.exposure_parameters(path)
    instrument = str(parameters["INSTRUME"]).strip().upper()
    types = None if all_types else pipeline_reference_types(instrument)
    return crds.best_references(parameters, types, source=str(path))


def format_references(path, best, context) -> str:
    """The table ``hstramp refs`` prints for one exposure."""
    lines = [f"{path}  (CRDS context {context})"]
    for keyword, ref in best.items():
        state = "" if ref.filename is None else ("cached" if ref.cached else "NOT IN CACHE")
        lines.append(f"  {keyword:<9s} {ref.filename or 'N/A':<22s} {state}".rstrip())
    return "\n".join(lines)


def update_header(source, target, best, context):
    """Write ``best`` into the primary header of ``target`` (a copy of ``source`` or itself).

    A copy is written next to its final name and renamed, so it is whole or absent.
    """
    from astropy.io import fits

    from hstramp.errors import OutputFileError

    target = Path(target)
    in_place = target.resolve() == Path(source).resolve()
    work = target
    if not in_place:
        if target.exists():
            raise OutputFileError(f"{target} exists already; remove it or choose another --out")
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(handle)
        work = Path(name)
        shutil.copyfile(source, work)
    try:
        with fits.open(work, mode="update") as hdul:
            header = hdul[0].header
            for keyword, ref in best.items():
                header[keyword] = ref.header_value
            header["CRDS_CTX"] = (context, "CRDS context of the best references")
        if not in_place:
            os.replace(work, target)
    finally:
        if not in_place and work.exists():
            work.unlink()


def run(args):
    """List, sync, update or simulate; 0 on success (errors exit 2 through main)."""
    from hstramp.errors import OutputFileError
    from hstramp.reference import crds

    _check_arguments(args)
    if args.simulate:
        return _simulate(args)
    selections = [(path, _selection(path, args.all_types)) for path in args.files]
    context = crds.current_context()
    if args.out is not None and not Path(args.out).is_dir():
        try:
            Path(args.out).mkdir(parents=True)
        except OSError as exc:
            raise OutputFileError(f"cannot create --out {args.out}: {exc}") from exc
    for path, best in selections:
        if args.sync:
            for ref in crds.sync_references(best.values(), source=str(path)):
                print(f"fetched {ref.filename} -> {ref.path}")
        print(format_references(path, best, context))
        missing = [r.filename for r in best.values() if not r.cached]
        if missing:
            print(f"  missing from {crds.cache_path()}: fetch with: {crds.fetch_command(path)}")
    if args.update_bestrefs:
        targets = [Path(path) if args.in_place else Path(args.out) / Path(path).name
                   for path, _best in selections]
        existing = [str(t) for t in targets if not args.in_place and t.exists()]
        if existing:
            raise OutputFileError(f"{', '.join(existing)} exist already; nothing was updated")
        for (path, best), target in zip(selections, targets, strict=True):
            update_header(path, target, best, context)
            print(f"updated {target}")
    return 0


#: instrument -> the strun alias of its pipeline
_PIPELINES = {"WFC3": "wfc3ir_pipeline", "STIS": "stis_ccd_pipeline"}


def _simulate(args):
    from astropy.io import fits

    from hstramp.reference.crds import INSTRUMENT_PREFIX
    from hstramp.simulate.matching import simulate_references

    raw = args.files[0]
    written = simulate_references(raw, args.out, args.seed, overwrite=args.overwrite)
    instrument = str(fits.getheader(raw, 0)["INSTRUME"]).strip().upper()
    for keyword, path in written.items():
        print(f"  {keyword:<9s} {path}")
    print(f"SIMULATED reference files (not the real ones) for {raw} in {args.out}; run with:\n"
          f"  {INSTRUMENT_PREFIX[instrument]}={Path(args.out).resolve()} strun "
          f"{_PIPELINES[instrument]} {raw}")
    return 0
