/* The statistics keywords' summary of the good pixels of one image, in one pass.
 *
 * The compiled form of hstramp/core/stats.py's image_statistics (calwf3 qstats) and
 * calstis_statistics (calstis doStat); the NumPy code there stays the reference and says
 * which pixels are good. One function:
 *
 *   summary(sci, err, dq, y0, y1, x0, x1, sdqflags, calstis)
 *       -> (n, bad_err, sum_sci, min_sci, max_sci, sum_err, min_err, max_err,
 *           sum_snr, min_snr, max_snr)
 *
 * over rows [y0, y1) and columns [x0, x1) of three 2-D arrays of one shape: SCI and ERR
 * native float32, DQ native uint16 or uint32, any strides (a read of a 3-D cube, a
 * transposed or stepped view: no copy is made). A pixel counts when DQ & sdqflags == 0, SCI
 * and ERR are both finite, and
 *
 *   calstis == 0 (calwf3): ERR > 0; its S/N is (double)SCI / (double)ERR;
 *   calstis != 0 (calstis): ERR > 0 (S/N as above), or ERR <= 0 and SCI <= 0 (S/N 0).
 *
 * n is the number of pixels that count; bad_err the number of unflagged pixels with finite
 * SCI and ERR and ERR <= 0 (calstis's warning when n is 0). The sums are in double, one
 * value at a time in row order (as calwf3 and calstis sum; NumPy sums pairwise, so a mean
 * rounded to float32 can differ from the NumPy path's by one float32 ulp); the minima and
 * maxima are the exact extremes (of float32 values for SCI and ERR, of doubles for S/N),
 * so they and n are the NumPy path's. With n == 0 the sums, minima and maxima are
 * meaningless (0). Nothing is written; the GIL is released during the pass.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* S/N is one IEEE double division of two float32 values, as NumPy's: that needs double
 * arithmetic evaluated in double (FLT_EVAL_METHOD 0); elsewhere the file does not build and
 * hstramp uses the NumPy path. */
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "stats.c needs arithmetic evaluated in its own precision (FLT_EVAL_METHOD 0)"
#endif

/* A 2-D strided view of `object` whose items have struct format `format` (one native item:
 * NumPy exports a native float32 as "f"; a byte-swapped array carries a "<" or ">" prefix
 * and is refused). Returns 0, or -1 with an error set. */
static int
get_view(PyObject *object, Py_buffer *view, const char *format, const char *name)
{
    if (PyObject_GetBuffer(object, view, PyBUF_RECORDS_RO) < 0) {
        view->obj = NULL;
        return -1;
    }
    const char *got = view->format == NULL ? "B" : view->format;
    if (view->ndim != 2 || strcmp(got, format) != 0) {
        PyErr_Format(PyExc_ValueError, "stats: %s must be a 2-D buffer of format '%s', "
                     "got %d-D '%s'", name, format, view->ndim, got);
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

typedef struct {
    Py_ssize_t n, bad_err;
    double sum_sci, sum_err, sum_snr;
    float min_sci, max_sci, min_err, max_err;
    double min_snr, max_snr;
} Summary;

/* GCC's straight-line (SLP) vectoriser packs the SCI and ERR sums into one vector register,
 * which then lives on the stack: slower by a third here. The arithmetic is the same either
 * way; only where the compiler keeps the sums changes. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_SLP __attribute__((optimize("no-tree-slp-vectorize")))
#else
#define NO_SLP
#endif

/* The pixels of one row into the summary (the rule in the file's comment). The state lives in
 * locals, so that it stays in registers: a strictly sequential double sum per quantity (three
 * independent chains; from +0.0, as calwf3's and NumPy's, so that a sum of -0.0 values is
 * +0.0 as theirs), the extremes as selects (every value that counts is finite, so they
 * start at +-infinity; of equal values the first is kept), and branches only where the data
 * make them predictable. */
#define ROW_LOOP(DQ_TYPE)                                                                    \
    NO_SLP static void                                                                       \
    row_##DQ_TYPE(Summary *out, const char *sci, Py_ssize_t ssci, const char *err,           \
                  Py_ssize_t serr, const char *dq, Py_ssize_t sdq, Py_ssize_t count,         \
                  DQ_TYPE flags, int calstis)                                                \
    {                                                                                        \
        Summary s = *out;                                                                    \
        for (Py_ssize_t x = 0; x < count; x++, sci += ssci, err += serr, dq += sdq) {         \
            if ((*(const DQ_TYPE *)dq & flags) != 0) continue;                               \
            float vs = *(const float *)sci, ve = *(const float *)err;                        \
            double snr;                                                                      \
            if (!(isfinite(vs) && isfinite(ve))) continue;                                   \
            if (ve > 0.0f) {                                                                 \
                snr = (double)vs / (double)ve;                                               \
            } else {                                                                         \
                s.bad_err++;                                                                 \
                if (!calstis || !(vs <= 0.0f)) continue;                                     \
                snr = 0.0;                                                                   \
            }                                                                                \
            s.n++;                                                                           \
            s.sum_sci += (double)vs;                                                         \
            s.sum_err += (double)ve;                                                         \
            s.sum_snr += snr;                                                                \
            s.min_sci = vs < s.min_sci ? vs : s.min_sci;                                     \
            s.max_sci = vs > s.max_sci ? vs : s.max_sci;                                     \
            s.min_err = ve < s.min_err ? ve : s.min_err;                                     \
            s.max_err = ve > s.max_err ? ve : s.max_err;                                     \
            s.min_snr = snr < s.min_snr ? snr : s.min_snr;                                   \
            s.max_snr = snr > s.max_snr ? snr : s.max_snr;                                   \
        }                                                                                    \
        *out = s;                                                                            \
    }

ROW_LOOP(uint16_t)
ROW_LOOP(uint32_t)

/* Rows [y0, y1), columns [x0, x1) of the three views into `s`, row by row. */
static void
summarise(Summary *s, const Py_buffer *vs, const Py_buffer *ve, const Py_buffer *vd,
          Py_ssize_t y0, Py_ssize_t y1, Py_ssize_t x0, Py_ssize_t x1,
          unsigned long long flags, int calstis)
{
    const Py_ssize_t ss = vs->strides[1], se = ve->strides[1], sd = vd->strides[1];
    for (Py_ssize_t y = y0; y < y1; y++) {
        const char *sci = (const char *)vs->buf + y * vs->strides[0] + x0 * ss;
        const char *err = (const char *)ve->buf + y * ve->strides[0] + x0 * se;
        const char *dq = (const char *)vd->buf + y * vd->strides[0] + x0 * sd;
        if (vd->itemsize == 2) {
            row_uint16_t(s, sci, ss, err, se, dq, sd, x1 - x0, (uint16_t)flags, calstis);
        } else {
            row_uint32_t(s, sci, ss, err, se, dq, sd, x1 - x0, (uint32_t)flags, calstis);
        }
    }
}

static PyObject *
summary(PyObject *self, PyObject *args)
{
    PyObject *o_sci, *o_err, *o_dq;
    Py_ssize_t y0, y1, x0, x1;
    unsigned long long flags;
    int calstis;
    Py_buffer vs = {0}, ve = {0}, vd = {0};
    PyObject *result = NULL;
    Summary s;

    if (!PyArg_ParseTuple(args, "OOOnnnnKp", &o_sci, &o_err, &o_dq, &y0, &y1, &x0, &x1, &flags,
                          &calstis)) {
        return NULL;
    }
    if (get_view(o_sci, &vs, "f", "sci") < 0 || get_view(o_err, &ve, "f", "err") < 0) {
        goto done;
    }
    if (PyObject_GetBuffer(o_dq, &vd, PyBUF_RECORDS_RO) < 0) {
        vd.obj = NULL;
        goto done;
    }
    const char *dq_format = vd.format == NULL ? "B" : vd.format;
    int dq16 = strcmp(dq_format, "H") == 0 && vd.itemsize == 2;
    int dq32 = (strcmp(dq_format, "I") == 0 || strcmp(dq_format, "L") == 0) && vd.itemsize == 4;
    if (vd.ndim != 2 || !(dq16 || dq32)) {
        PyErr_Format(PyExc_ValueError, "stats: dq must be a 2-D buffer of uint16 or uint32, "
                     "got %d-D '%s'", vd.ndim, dq_format);
        goto done;
    }
    if (vs.shape[0] != ve.shape[0] || vs.shape[1] != ve.shape[1] || vs.shape[0] != vd.shape[0]
            || vs.shape[1] != vd.shape[1]) {
        PyErr_SetString(PyExc_ValueError, "stats: sci, err and dq must have one shape");
        goto done;
    }
    if (y0 < 0 || x0 < 0 || y1 > vs.shape[0] || x1 > vs.shape[1] || y0 > y1 || x0 > x1) {
        PyErr_Format(PyExc_ValueError, "stats: window [%zd:%zd, %zd:%zd] outside a %zd x %zd "
                     "image", y0, y1, x0, x1, vs.shape[0], vs.shape[1]);
        goto done;
    }
    if (flags > (dq16 ? 0xFFFFull : 0xFFFFFFFFull)) {
        PyErr_Format(PyExc_ValueError, "stats: sdqflags %llu does not fit the DQ items", flags);
        goto done;
    }
    s.n = s.bad_err = 0;
    s.sum_sci = s.sum_err = s.sum_snr = 0.0;
    s.min_sci = s.min_err = INFINITY;
    s.max_sci = s.max_err = -INFINITY;
    s.min_snr = INFINITY;
    s.max_snr = -INFINITY;
    Py_BEGIN_ALLOW_THREADS
    summarise(&s, &vs, &ve, &vd, y0, y1, x0, x1, flags, calstis);
    Py_END_ALLOW_THREADS
    if (s.n == 0) {
        s.min_sci = s.max_sci = s.min_err = s.max_err = 0.0f;
        s.min_snr = s.max_snr = 0.0;
    }
    result = Py_BuildValue("nnddddddddd", s.n, s.bad_err, s.sum_sci, (double)s.min_sci,
                           (double)s.max_sci, s.sum_err, (double)s.min_err, (double)s.max_err,
                           s.sum_snr, s.min_snr, s.max_snr);
done:
    if (vs.obj != NULL) PyBuffer_Release(&vs);
    if (ve.obj != NULL) PyBuffer_Release(&ve);
    if (vd.obj != NULL) PyBuffer_Release(&vd);
    return result;
}

static PyMethodDef stats_methods[] = {
    {"summary", summary, METH_VARARGS,
     "summary(sci, err, dq, y0, y1, x0, x1, sdqflags, calstis) -> (n, bad_err, sum_sci, "
     "min_sci, max_sci, sum_err, min_err, max_err, sum_snr, min_snr, max_snr): the good "
     "pixels of a window, in one pass (see the file's comment)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef stats_module = {
    PyModuleDef_HEAD_INIT, "_stats", "Image statistics keywords' summary, compiled.", -1,
    stats_methods,
};

PyMODINIT_FUNC
PyInit__stats(void)
{
    return PyModule_Create(&stats_module);
}
