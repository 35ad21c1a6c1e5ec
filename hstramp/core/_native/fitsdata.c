/* FITS data as written: an array's items big-endian, and their DATASUM, in one pass.
 *
 * The compiled form of the two passes hstramp/datamodels/fits_writer.py makes over every
 * array it writes on the NumPy path (fits_io.wide_datasum over the native array, then a
 * byte-swapping copy into the write buffer); the NumPy path stays the reference. One
 * function:
 *
 *   big_endian(source, target) -> wide sum
 *
 * source: a C-contiguous buffer of native little-endian items of 2, 4 or 8 bytes (NumPy's
 * int16, int32, int64, float32, float64); target: a writable C-contiguous buffer of as many
 * bytes, which receives the items byte-swapped (big-endian, as FITS stores them). Returns
 * the ones' complement DATASUM of the target before its end-around carries are folded in:
 *
 *   4- and 8-byte items: the sum of the source's 32-bit little-endian words (they are the
 *     target's big-endian words, in another order for 8-byte items, which a sum ignores);
 *   2-byte items: (sum of the even items << 16) + sum of the odd items (the even items are
 *     the high halves of the target's 32-bit words); a chunk must start at an even item.
 *
 * The value is fits_io.wide_datasum's; sums of consecutive chunks add up to the whole
 * array's (below 2**64 for any chunk under 2**31 items). Nothing is allocated; the GIL is
 * released during the pass. The three loops are CLONES (clones.h): the AVX2 clone swaps 32
 * bytes at a time (a byte shuffle the baseline x86-64 lacks); integer sums, the same value.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "clones.h"

#if defined(__GNUC__) || defined(__clang__)
#define SWAP16(v) __builtin_bswap16(v)
#define SWAP32(v) __builtin_bswap32(v)
#define SWAP64(v) __builtin_bswap64(v)
#else
#define SWAP16(v) ((uint16_t)(((v) >> 8) | ((v) << 8)))
#define SWAP32(v) ((((v) & 0xFF) << 24) | (((v) & 0xFF00) << 8) | (((v) >> 8) & 0xFF00) | \
                   ((v) >> 24))
#define SWAP64(v) (((uint64_t)SWAP32((uint32_t)(v)) << 32) | SWAP32((uint32_t)((v) >> 32)))
#endif

/* True for a struct format of one native-order item (NumPy exports native items without a
 * prefix; a byte-swapped array carries ">" and is refused). */
static int
native_order(const char *format)
{
    if (format == NULL) {
        return 1;
    }
    return format[0] != '>' && format[0] != '!';
}

CLONES static uint64_t
swap_2(const char *source, char *target, Py_ssize_t count)
{
    uint64_t even = 0, odd = 0;
    Py_ssize_t k = 0;
    for (; k + 1 < count; k += 2) {
        uint16_t first, second;
        memcpy(&first, source + 2 * k, 2);
        memcpy(&second, source + 2 * k + 2, 2);
        even += first;
        odd += second;
        first = SWAP16(first);
        second = SWAP16(second);
        memcpy(target + 2 * k, &first, 2);
        memcpy(target + 2 * k + 2, &second, 2);
    }
    if (k < count) {
        uint16_t last;
        memcpy(&last, source + 2 * k, 2);
        even += last;
        last = SWAP16(last);
        memcpy(target + 2 * k, &last, 2);
    }
    return (even << 16) + odd;
}

CLONES static uint64_t
swap_4(const char *source, char *target, Py_ssize_t count)
{
    uint64_t total = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        uint32_t word;
        memcpy(&word, source + 4 * k, 4);
        total += word;
        word = SWAP32(word);
        memcpy(target + 4 * k, &word, 4);
    }
    return total;
}

CLONES static uint64_t
swap_8(const char *source, char *target, Py_ssize_t count)
{
    uint64_t total = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        uint64_t item;
        memcpy(&item, source + 8 * k, 8);
        total += (item & 0xFFFFFFFFu) + (item >> 32);
        item = SWAP64(item);
        memcpy(target + 8 * k, &item, 8);
    }
    return total;
}

static PyObject *
big_endian(PyObject *self, PyObject *args)
{
    PyObject *source_object, *target_object;
    if (!PyArg_ParseTuple(args, "OO:big_endian", &source_object, &target_object)) {
        return NULL;
    }
    Py_buffer source, target;
    if (PyObject_GetBuffer(source_object, &source, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(target_object, &target, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&source);
        return NULL;
    }
    PyObject *result = NULL;
    const Py_ssize_t size = source.itemsize;
    if (!(size == 2 || size == 4 || size == 8) || !native_order(source.format)) {
        PyErr_Format(PyExc_ValueError, "big_endian: source items must be native and of 2, 4 or "
                     "8 bytes, got %zd bytes of format '%s'", size,
                     source.format == NULL ? "B" : source.format);
        goto done;
    }
    if (target.len != source.len) {
        PyErr_Format(PyExc_ValueError, "big_endian: target has %zd bytes, source %zd",
                     target.len, source.len);
        goto done;
    }
    const Py_ssize_t count = source.len / size;
    uint64_t total;
    Py_BEGIN_ALLOW_THREADS
    if (size == 2) {
        total = swap_2(source.buf, target.buf, count);
    } else if (size == 4) {
        total = swap_4(source.buf, target.buf, count);
    } else {
        total = swap_8(source.buf, target.buf, count);
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromUnsignedLongLong(total);
done:
    PyBuffer_Release(&target);
    PyBuffer_Release(&source);
    return result;
}

static PyMethodDef fitsdata_methods[] = {
    {"big_endian", big_endian, METH_VARARGS,
     "big_endian(source, target) -> the DATASUM before folding; target = source big-endian"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fitsdata_module = {
    PyModuleDef_HEAD_INIT, "_fitsdata",
    "FITS data as written: big-endian items and their DATASUM in one pass.", -1,
    fitsdata_methods,
};

PyMODINIT_FUNC
PyInit__fitsdata(void)
{
    return PyModule_Create(&fitsdata_module);
}
