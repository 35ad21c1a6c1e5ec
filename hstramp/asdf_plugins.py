"""asdf's plugins for hstramp's calls and processes: all but the packages hstramp never uses.

The first datamodel of a process makes asdf load its configuration: it calls every installed
``asdf.resource_mappings`` and ``asdf.extensions`` entry point, and those calls import the
packages behind them and parse their manifests. Three of those packages serve nothing
hstramp reads or writes, and they are most of the cost:

* stdatamodels' JWST datamodels and transforms (their entry points import
  ``stdatamodels.jwst.datamodels`` and ``stdatamodels.jwst.transforms.models``, the latter
  with all of gwcs, astropy.modeling and parts of scipy);
* gwcs;
* asdf-astropy (the converters of astropy's units, times, tables, coordinates and models:
  its extensions parse some forty manifests with PyYAML's pure-Python loader).

No hstramp schema refers to their schemas, and no hstramp model, product or parameter file
holds their tags or objects: the trees are numbers, strings and arrays (asdf's own
converters). The whole test suite passes in a process configured without them
(``pytest --lean-asdf``; ``filterwarnings = error``: an unknown tag would fail it), and the
products are byte for byte the same (``tests/test_asdf_plugins.py``).

Two uses, both measured in ``docs/performance.md`` (session 10):

* :func:`hstramp_configuration`, around every hstramp step's and pipeline's ``run``
  (``HstrampPlumbing.run``): the call runs in a copy of the caller's configuration
  (``asdf.config_context()``, the calling thread only) whose plugins, when the caller has
  not loaded its own yet, are loaded without those three. The caller's configuration is
  never touched: after the call asdf loads every plugin when the caller first needs them,
  as it always does. A caller that has loaded them already gets a plain copy of its own.
  A model the call returns keeps the call's plugins in its own ``AsdfFile`` (stdatamodels
  makes one per model); saving it makes a new one, in the caller's configuration, so an
  astropy object the caller puts in it is written as usual.
  ``strun`` on a full-frame exposure: about 0.9 s less.
* :func:`load_plugins_except` in a process hstramp starts and owns, a local batch worker
  (:func:`hstramp.batch.warm_up_worker`): the process's configuration itself is loaded so,
  once, while the worker waits for its first exposure.

asdf has no supported way to choose the entry points it loads (the configuration's
``add_*``/``remove_*`` methods load every plugin first). :func:`load_plugins_except`
therefore wraps, for the duration of one call, the entry-point listing of asdf's private
``asdf._entry_points`` module and makes asdf load the current configuration through it;
asdf's own code does the rest (order, proxies, warnings for a plugin that fails). Each group
is listed, and each kept entry point's function called, once per process, as asdf's own
configuration would. Only the calling thread sees the wrapped listing (another thread
loading asdf's configuration meanwhile gets asdf's own), and one call at a time wraps it.
Where asdf is not as this was written for (the configuration already
loaded, the private listing gone or called otherwise), nothing is changed and asdf loads
every plugin when it first needs them, as usual: slower, never different.
"""

from __future__ import annotations

import contextlib
import logging
import threading

__all__ = ["UNUSED_PLUGINS", "hstramp_configuration", "load_plugins_except",
           "plugin_entry_points"]

log = logging.getLogger(__name__)

#: entry points (their ``module:function`` values start so) whose schemas, tags and
#: converters no hstramp datamodel, product or parameter file uses
UNUSED_PLUGINS = ("stdatamodels.jwst.", "gwcs.", "asdf_astropy.")

#: held while asdf's entry-point listing is wrapped (by one thread; the others get asdf's own)
_SWAP = threading.RLock()

#: the entry-point groups asdf loads its configuration from
PLUGIN_GROUPS = ("asdf.resource_mappings", "asdf.extensions")


#: what each kept entry point's function returned, by (group, value): called once per process
_ELEMENTS = {}

#: the kept entry points of each listing, group and skipped prefixes (listed once per process)
_LISTED = {}


class _CalledOnce:
    """An entry point whose function this process calls once: later loads (a new
    configuration for each of hstramp's calls) get the same resource mappings and
    extensions, as asdf's own configuration, loaded once, would."""

    def __init__(self, point):
        self.point, self.value = point, point.value
        self.name, self.group, self.dist = (getattr(point, attribute, None)
                                            for attribute in ("name", "group", "dist"))

    def load(self):
        return self.elements

    def elements(self):
        key = (self.group, self.value)
        if key not in _ELEMENTS:  # a function that raises is not remembered
            _ELEMENTS[key] = self.point.load()()
        return _ELEMENTS[key]


def plugin_entry_points(listing, skipped):
    """An entry-point listing like ``listing`` (``importlib.metadata.entry_points``) without
    the entry points whose value starts with one of ``skipped``; each group is listed, and
    each kept entry point's function called, once per process.

    Parameters
    ----------
    listing : callable
        ``listing(group=...)`` returns the installed entry points of a group.
    skipped : tuple of str
        Prefixes of the entry-point values (``module:function``) to leave out.

    Returns
    -------
    callable
        The filtered listing; it returns a list.
    """
    def listed(*args, **selection):
        key = (listing, args, tuple(sorted(selection.items())), skipped)
        if key not in _LISTED:  # the installed entry points do not change in a process
            _LISTED[key] = [_CalledOnce(point) for point in listing(*args, **selection)
                            if not point.value.startswith(skipped)]
        return list(_LISTED[key])

    return listed


def load_plugins_except(skipped=UNUSED_PLUGINS):
    """Load asdf's current configuration now, without the plugins whose entry points start
    with ``skipped``: a batch worker's own (a process hstramp owns), or the copy one of
    hstramp's calls works in (:func:`hstramp_configuration`); never the configuration of a
    process hstramp does not own (see the module's documentation).

    Parameters
    ----------
    skipped : tuple of str
        Prefixes of the entry-point values to leave out (default :data:`UNUSED_PLUGINS`).

    Returns
    -------
    bool
        True when asdf's resource mappings and extensions were loaded without them. False
        when they were not loaded this way (the configuration was already loaded, or asdf's
        private entry-point listing is not there or not called as expected): asdf then
        loads every plugin it has not loaded yet, as usual.
    """
    import asdf

    try:
        from asdf import _entry_points
    except ImportError:
        return _unchanged("asdf has no _entry_points module")
    with _SWAP:  # one hstramp call at a time wraps the listing
        listing = getattr(_entry_points, "entry_points", None)
        if not callable(listing):
            return _unchanged("asdf._entry_points has no entry_points listing")
        filtered = plugin_entry_points(listing, tuple(skipped))
        groups, caller = [], threading.get_ident()

        def listed(*args, **selection):
            if threading.get_ident() != caller:  # another thread's load: asdf's own
                return listing(*args, **selection)
            groups.append(selection.get("group", args[0] if args else None))
            if groups != list(PLUGIN_GROUPS[:len(groups)]):  # not the first load: asdf's own
                return list(listing(*args, **selection))
            return filtered(*args, **selection)

        config = asdf.get_config()
        _entry_points.entry_points = listed
        try:
            config.resource_mappings  # noqa: B018  (reading them loads them)
            config.extensions  # noqa: B018
        finally:
            _entry_points.entry_points = listing
    if groups != list(PLUGIN_GROUPS):
        return _unchanged(f"asdf listed the entry points of {groups or 'no group'}, "
                          f"not of {', '.join(PLUGIN_GROUPS)} in turn")
    log.debug("asdf's plugins loaded without those of %s", ", ".join(skipped))
    return True


@contextlib.contextmanager
def hstramp_configuration(skipped=UNUSED_PLUGINS):
    """asdf's configuration for the duration of one of hstramp's calls, in the calling
    thread: a copy of the caller's (``asdf.config_context()``) whose plugins, if the caller's
    were not loaded yet, are loaded without ``skipped`` (:func:`load_plugins_except`).

    The caller's own configuration is not touched: when the call ends, asdf's configuration
    is the caller's again, and loads every plugin when the caller first needs them. A caller
    that has loaded them already gets a plain copy of its own.

    Parameters
    ----------
    skipped : tuple of str
        Prefixes of the entry-point values to leave out (default :data:`UNUSED_PLUGINS`).

    Yields
    ------
    bool
        Whether the call's plugins were loaded without ``skipped``.
    """
    import asdf

    with asdf.config_context():
        yield load_plugins_except(skipped)


def _unchanged(reason):
    log.debug("asdf's plugins left to asdf: %s", reason)
    return False
