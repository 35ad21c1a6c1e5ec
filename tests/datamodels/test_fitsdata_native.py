"""FITS data as written: the compiled kernel ``fitsdata`` gives the NumPy path's bytes and sums.

``big_endian(source, target)`` writes the source's items big-endian into ``target`` and
returns the DATASUM before its carries are folded: the value of
:func:`~hstramp.datamodels.fits_io.wide_datasum`, chunk by chunk. The writer's files are the
same bytes either way (``test_fits_writer.py`` runs on both paths).
"""

import numpy as np
import pytest

from hstramp.core import native
from hstramp.datamodels.fits_io import fits_datasum, fold_datasum, wide_datasum

pytestmark = pytest.mark.skipif(not native.built()["fitsdata"],
                                reason="compiled kernel fitsdata not built here")

DTYPES = ["<i2", "<i4", "<i8", "<f4", "<f8"]


def kernel():
    return native._import("fitsdata")


def seeded(dtype, size, seed=5):
    """Items covering every bit pattern's neighbourhood: full-range integers, or floats with
    NaN (with a payload), infinities, -0.0 and subnormals among them."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    bits = rng.integers(0, 256, size * dtype.itemsize, dtype=np.uint8)
    array = bits.view(dtype).copy()
    if dtype.kind == "f" and size >= 6:
        array[:6] = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dtype).smallest_subnormal, 1.5]
    return array


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 1000, 4097])
def test_the_bytes_and_the_sum_are_the_numpy_paths(dtype, size):
    source = seeded(dtype, size)
    before = source.copy()
    target = np.empty(source.nbytes, np.uint8)
    total = kernel().big_endian(source, target)
    assert target.tobytes() == source.astype(np.dtype(dtype).newbyteorder(">")).tobytes()
    assert total == wide_datasum(source)
    assert source.tobytes() == before.tobytes()  # the source is only read


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk", [2, 6, 64, 1000])
def test_chunk_sums_add_up_to_the_arrays_datasum(dtype, chunk):
    """The writer's chunks start at even items; their sums fold to the whole DATASUM."""
    source = seeded(dtype, 3001, seed=chunk)
    total = 0
    for start in range(0, source.size, chunk):
        part = source[start:start + chunk]
        total += kernel().big_endian(part, np.empty(part.nbytes, np.uint8))
    assert fold_datasum(total) == fits_datasum(source)


def test_an_all_ones_array_folds_its_carries():
    """Sums far beyond 32 bits (end-around carries) fold as the NumPy path folds them."""
    source = np.full(10_000, -1, np.int32)  # every word 0xFFFFFFFF
    total = kernel().big_endian(source, np.empty(source.nbytes, np.uint8))
    assert total == 10_000 * 0xFFFFFFFF
    assert fold_datasum(total) == fits_datasum(source)


@pytest.mark.parametrize(("source", "target", "message"), [
    (np.zeros(4, ">f4"), np.empty(16, np.uint8), "native"),
    (np.zeros(4, np.uint8), np.empty(4, np.uint8), "2, 4 or 8 bytes"),
    (np.zeros(4, np.float32), np.empty(15, np.uint8), "target has 15 bytes"),
])
def test_what_it_cannot_write_is_refused(source, target, message):
    with pytest.raises(ValueError, match=message):
        kernel().big_endian(source, target)


def test_a_read_only_target_or_a_strided_source_is_refused():
    target = np.empty(16, np.uint8)
    target.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        kernel().big_endian(np.zeros(4, np.float32), target)
    with pytest.raises((ValueError, BufferError)):
        kernel().big_endian(np.zeros(8, np.float32)[::2], np.empty(16, np.uint8))
