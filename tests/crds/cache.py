"""Build a small HST CRDS cache (and a second "server" directory) for the tests.

The cache has what a real one synced from https://hst-crds.stsci.edu has: the rules
(``mappings/hst/hst_0001.pmap``, one ``.imap`` per instrument, one ``.rmap`` per reference
type, each with its sha1sum), the client's cached server configuration
(``config/hst/server_config``) and the reference files (``references/hst/<instrument>/``).
The rules select the simulator's reference files by the header keywords HST's own rules use
(DETECTOR, CCDAMP, CCDGAIN, SAMP_SEQ, SUBTYPE, FILTER, OPT_ELEM, BINAXIS1/2) and
USEAFTER dates against DATE-OBS/TIME-OBS.
"""

from __future__ import annotations

import hashlib
import pprint
import shutil
from dataclasses import dataclass, field
from pathlib import Path

CONTEXT = "hst_0001.pmap"
USEAFTER = "2009-01-01 00:00:00"

#: reftype -> match keywords (after DETECTOR), as HST's rmaps select them
WFC3_PARKEYS = {
    "ccdtab": (), "oscntab": (), "bpixtab": (), "nlinfile": (), "crrejtab": (),
    "imphttab": (),
    "darkfile": ("CCDAMP", "CCDGAIN", "SAMP_SEQ", "SUBTYPE"),
    "pfltfile": ("FILTER",), "dfltfile": ("FILTER",), "lfltfile": ("FILTER",),
}
STIS_PARKEYS = {
    "ccdtab": (), "bpixtab": (), "crrejtab": (),
    "biasfile": ("CCDAMP", "CCDGAIN", "BINAXIS1", "BINAXIS2"),
    "darkfile": ("CCDAMP", "CCDGAIN", "BINAXIS1", "BINAXIS2"),
    "pfltfile": ("OPT_ELEM",), "dfltfile": ("OPT_ELEM",), "lfltfile": ("OPT_ELEM",),
    "atodtab": (), "shadfile": (), "imphttab": (), "tdstab": (),
}
PARKEYS = {"WFC3": WFC3_PARKEYS, "STIS": STIS_PARKEYS}
#: the CDBS instrument letter that ends a reference file's root name
LETTER = {"WFC3": "i", "STIS": "o"}


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _with_checksum(text: str) -> str:
    """A mapping's text with its sha1sum line filled in (the sum skips that line)."""
    body = "".join(line for line in text.splitlines(True) if "sha1sum" not in line)
    return text.replace("'sha1sum' : 'TBD'", f"'sha1sum' : '{_sha1(body.encode())}'")


def _header(items: dict) -> str:
    lines = [f"    {key!r} : {value!r}," for key, value in items.items()]
    return "header = {\n" + "\n".join(lines) + "\n    'sha1sum' : 'TBD',\n}\n"


def rmap_text(instrument: str, reftype: str, rules: dict) -> str:
    """An HST reference mapping: Match on DETECTOR + keywords, then UseAfter.

    ``rules`` maps a tuple of match values to a file name (or 'N/A').
    """
    keys = ("DETECTOR", *PARKEYS[instrument][reftype])
    name = f"hst_{instrument.lower()}_{reftype}_0001.rmap"
    head = _header({
        "derived_from": "hstramp test cache", "filekind": reftype.upper(),
        "instrument": instrument, "mapping": "REFERENCE", "name": name,
        "observatory": "HST", "parkey": (keys, ("DATE-OBS", "TIME-OBS")),
    })
    body = []
    for values, filename in rules.items():
        if filename == "N/A":
            body.append(f"    {values!r} : 'N/A',")
        else:
            body.append(f"    {values!r} : UseAfter({{\n        {USEAFTER!r} : {filename!r},"
                        "\n    }),")
    return _with_checksum(head + "\nselector = Match({\n" + "\n".join(body) + "\n})\n")


def imap_text(instrument: str, reftypes) -> str:
    """An HST instrument mapping naming one rmap per reference type."""
    name = f"hst_{instrument.lower()}_0001.imap"
    head = _header({"derived_from": "hstramp test cache", "instrument": instrument,
                    "mapping": "INSTRUMENT", "name": name, "observatory": "HST",
                    "parkey": ("REFTYPE",)})
    body = [f"    {r!r} : 'hst_{instrument.lower()}_{r}_0001.rmap'," for r in sorted(reftypes)]
    return _with_checksum(head + "\nselector = {\n" + "\n".join(body) + "\n}\n")


def pmap_text(instruments) -> str:
    """The HST pipeline mapping naming one imap per instrument."""
    head = _header({"derived_from": "hstramp test cache", "mapping": "PIPELINE",
                    "name": CONTEXT, "observatory": "HST", "parkey": ("INSTRUME",)})
    body = [f"    {i!r} : 'hst_{i.lower()}_0001.imap'," for i in sorted(instruments)]
    return _with_checksum(head + "\nselector = {\n" + "\n".join(body) + "\n}\n")


@dataclass
class CacheBuilder:
    """Reference files and rules of a test CRDS cache.

    Add files with :meth:`add` (each gets a CDBS-style name, e.g. ``hst0003i_drk.fits`` ...)
    then :meth:`write` the cache.
    """

    rules: dict = field(default_factory=dict)    # (instrument, reftype) -> {values: name}
    files: dict = field(default_factory=dict)    # name -> (instrument, source path)
    serial: int = 0

    def add(self, instrument: str, reftype: str, values: tuple, source) -> str:
        """Select ``source`` for ``reftype`` when DETECTOR + keywords equal ``values``.

        ``source`` None selects 'N/A'. Returns the file's name in the cache.
        """
        table = self.rules.setdefault((instrument, reftype), {})
        if source is None:
            table[values] = "N/A"
            return "N/A"
        self.serial += 1
        suffix = Path(source).stem.rsplit("_", 1)[-1]
        name = f"s{self.serial:07d}{LETTER[instrument]}_{suffix}.fits"
        table[values] = name
        self.files[name] = (instrument, Path(source))
        return name

    def write(self, root, *, include=None, reference_url=None, flat=False) -> Path:
        """Write the cache under ``root``: mappings, server configuration, references.

        Parameters
        ----------
        include : collection of str, optional
            Only these reference files (default: all).
        reference_url : str, optional
            Where the "server" serves reference files from (recorded in server_config).
        flat : bool
            All references in one directory (a server's download area) rather than one
            directory per instrument (a client's cache).
        """
        root = Path(root)
        mappings = root / "mappings" / "hst"
        mappings.mkdir(parents=True, exist_ok=True)
        names = [CONTEXT]
        (mappings / CONTEXT).write_text(pmap_text({i for i, _r in self.rules}))
        for instrument in {i for i, _r in self.rules}:
            reftypes = [r for i, r in self.rules if i == instrument]
            name = f"hst_{instrument.lower()}_0001.imap"
            (mappings / name).write_text(imap_text(instrument, reftypes))
            names.append(name)
            for reftype in reftypes:
                text = rmap_text(instrument, reftype, self.rules[instrument, reftype])
                name = f"hst_{instrument.lower()}_{reftype}_0001.rmap"
                (mappings / name).write_text(text)
                names.append(name)
        metadata = {}
        for name, (instrument, source) in self.files.items():
            data = source.read_bytes()
            metadata[name] = {"size": str(len(data)), "sha1sum": _sha1(data)}
            if include is None or name in include:
                folder = root / "references" / "hst"
                target = folder / name if flat else folder / instrument.lower() / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
        (root / "references" / "hst").mkdir(parents=True, exist_ok=True)
        (root / "references" / "hst" / "ref_cache_subdir_mode").write_text("instrument\n")
        self._write_config(root, names, metadata, reference_url)
        return root

    def _write_config(self, root, mappings, metadata, reference_url):
        from crds.client.proxy import crds_encode

        url = reference_url or "https://hst-serverless-mode.stsci.edu/unchecked_get/references/hst/"
        info = {
            "observatory": "hst", "operational_context": CONTEXT, "latest_context": CONTEXT,
            "edit_context": CONTEXT, "versions_context": CONTEXT, "bad_files": "",
            "bad_files_list": [], "mappings": sorted(mappings), "force_remote_mode": False,
            "last_synced": "2026-12-05 00:00:00", "crds_version": {"str": "14.0.3"},
            "reference_url": {"hst": url}, "mapping_url": {"hst": url},
            "download_metadata": crds_encode(metadata),
        }
        config = root / "config" / "hst"
        config.mkdir(parents=True, exist_ok=True)
        (config / "server_config").write_text(pprint.pformat(info))
        (config / "bad_files.txt").write_text("")
