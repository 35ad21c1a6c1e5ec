/* hstramp's per-read calibration arithmetic of WFC3/IR in one pass per pixel.
 *
 * One function per core operation, each the fused form of the NumPy reference path in
 * hstramp/core (which stays the reference and says what each operation means):
 *
 *   noise(...)  core/noise.py initial_error: ERR = sqrt(|S g| + RN^2) / g per read
 *   zsig(...)   core/zsig.py  zero_read_signal: zeroth-read signal, 2048/256 flags
 *   nlin(...)   core/nlin.py  nonlinearity_correct: polynomial below NODE, 256 carried forward
 *   dark(...)   core/dark.py  dark_subtract, one read: SCI -= dark, ERR in quadrature,
 *               DQ |= dark DQ, and the dark values that count in MEANDARK
 *   flat(...)   core/flat.py  flat_field: divide by the flat, errors, DQ, times the gain
 *
 * Every operation is done in the order and the precision of the NumPy path (float32, the
 * polynomial in float64), one rounding per NumPy operation, so the results are the same bits
 * (all but the sign and payload of a NaN made from two different NaNs: C leaves the operand
 * order of a commutative operation to the compiler, and that order picks the NaN). That
 * needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0) and no fused multiply-add
 * (setup.py builds with -ffp-contract=off): where the compiler cannot promise the former the
 * file does not build and hstramp uses the NumPy path.
 *
 * Arrays arrive as C-contiguous buffers (the Python side makes them so), DQ as uint16 or
 * uint32 (dq_size 2 or 4); the functions check every buffer's length, write only the buffers
 * documented as outputs and release the GIL while they work. Outputs share no memory with
 * each other or with the inputs (hstramp.core.noise.calib_kernel sees to it), hence
 * `restrict`. The inner loops run along a row without branches, so that the compiler
 * vectorises them (setup.py's -O3 and -fno-math-errno; the arithmetic is the same).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "clones.h"
#include "select.h"

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "calib.c needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0)"
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The row loops are CLONES (clones.h): built for AVX2 and for the baseline. */

#define SATURATED 256u
#define ZERO_READ_SIGNAL 2048u

/* The science area of a frame: rows [y0, y1), columns [x0, x1). */
typedef struct {
    Py_ssize_t ny, nx, y0, y1, x0, x1;
} Area;

/* ------------------------------------------------------------------ argument helpers */

static int
area_from(Area *area, Py_ssize_t ny, Py_ssize_t nx, Py_ssize_t tx1, Py_ssize_t tx2,
          Py_ssize_t ty1, Py_ssize_t ty2)
{
    if (ny <= 0 || nx <= 0 || tx1 < 0 || tx2 < 0 || ty1 < 0 || ty2 < 0 || tx1 + tx2 >= nx
            || ty1 + ty2 >= ny) {
        PyErr_Format(PyExc_ValueError, "calib: bad frame %zd x %zd or trim (%zd, %zd, %zd, %zd)",
                     ny, nx, tx1, tx2, ty1, ty2);
        return -1;
    }
    area->ny = ny;
    area->nx = nx;
    area->x0 = tx1;
    area->x1 = nx - tx2;
    area->y0 = ty1;
    area->y1 = ny - ty2;
    return 0;
}

/* A buffer of exactly `count` items of `size` bytes (writable when asked), or None when
 * `optional`. Returns 0 and fills `view` (view->buf NULL for None), or -1 with an error. */
static int
get_buffer(PyObject *object, Py_buffer *view, Py_ssize_t count, Py_ssize_t size,
           int writable, int optional, const char *name)
{
    view->buf = NULL;
    view->obj = NULL;
    if (object == Py_None && optional) {
        return 0;
    }
    if (PyObject_GetBuffer(object, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
        view->buf = NULL;
        view->obj = NULL;
        return -1;
    }
    if (view->len != count * size) {
        PyErr_Format(PyExc_ValueError, "calib: %s holds %zd bytes, expected %zd", name,
                     view->len, count * size);
        PyBuffer_Release(view);
        view->buf = NULL;
        view->obj = NULL;
        return -1;
    }
    return 0;
}

static void
release_all(Py_buffer *views, int n)
{
    for (int i = 0; i < n; i++) {
        if (views[i].obj != NULL) {
            PyBuffer_Release(&views[i]);
        }
    }
}

static int
check_dq_size(int dq_size)
{
    if (dq_size != 2 && dq_size != 4) {
        PyErr_Format(PyExc_ValueError, "calib: DQ items must be 2 or 4 bytes, got %d", dq_size);
        return -1;
    }
    return 0;
}

/* `value`, or +0.0 where `zero` (and select.h's select_float). Bit selects, not branches:
 * with a branch the compiler moves a division or a product into it, and a loop with an
 * operation that may trap on one path only does not vectorise (-ftrapping-math). */
static inline float
zero_where(int zero, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    bits &= (uint32_t)(zero != 0) - 1u;
    memcpy(&value, &bits, sizeof(bits));
    return value;
}

/* ------------------------------------------------------------------ noise */

/* Whether a row holds a value other than 0 (NaN counts, -0.0 does not). */
static inline int
row_nonzero(const float *restrict e, Py_ssize_t n)
{
    int any = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        any |= e[i] != 0.0f;
    }
    return any;
}

/* ERR = sqrt(|S g| + RN^2) / g (pixel_error's operations, in its order). */
static inline void
noise_row(const float *restrict d, float *restrict e, const float *restrict g,
          const float *restrict rn, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        float value = fabsf(d[i] * g[i]);
        value = value + rn[i] * rn[i];
        e[i] = sqrtf(value) / g[i];
    }
}

/* Errors of reads 0, 1, ... of a ramp until the first read whose science-area ERR holds a
 * non-zero value; returns how many reads were computed. */
CLONES static Py_ssize_t
noise_kernel(const float *data, float *err, const float *gain, const float *readnoise,
             Py_ssize_t ngroups, const Area *a)
{
    const Py_ssize_t frame = a->ny * a->nx, width = a->x1 - a->x0;
    for (Py_ssize_t k = 0; k < ngroups; k++) {
        for (Py_ssize_t y = a->y0; y < a->y1; y++) {
            if (row_nonzero(err + k * frame + y * a->nx + a->x0, width)) {
                return k;
            }
        }
        for (Py_ssize_t y = a->y0; y < a->y1; y++) {
            const Py_ssize_t p = y * a->nx + a->x0;
            noise_row(data + k * frame + p, err + k * frame + p, gain + p, readnoise + p, width);
        }
    }
    return ngroups;
}

static PyObject *
noise(PyObject *self, PyObject *args)
{
    PyObject *o_data, *o_err, *o_gain, *o_rn;
    Py_ssize_t n, ny, nx, tx1, tx2, ty1, ty2, done = 0;
    Py_buffer v[4];
    Area a;

    if (!PyArg_ParseTuple(args, "OOOOnnnnnnn", &o_data, &o_err, &o_gain, &o_rn, &n, &ny, &nx,
                          &tx1, &tx2, &ty1, &ty2)) {
        return NULL;
    }
    if (area_from(&a, ny, nx, tx1, tx2, ty1, ty2) < 0 || n < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "calib.noise: negative number of reads");
        }
        return NULL;
    }
    memset(v, 0, sizeof(v));
    if (get_buffer(o_data, &v[0], n * ny * nx, 4, 0, 0, "data") < 0
            || get_buffer(o_err, &v[1], n * ny * nx, 4, 1, 0, "err") < 0
            || get_buffer(o_gain, &v[2], ny * nx, 4, 0, 0, "gain") < 0
            || get_buffer(o_rn, &v[3], ny * nx, 4, 0, 0, "readnoise") < 0) {
        release_all(v, 4);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    done = noise_kernel(v[0].buf, v[1].buf, v[2].buf, v[3].buf, n, &a);
    Py_END_ALLOW_THREADS
    release_all(v, 4);
    return PyLong_FromSsize_t(done);
}

/* ------------------------------------------------------------------ zsig */

/* One row of the science area: zsig_row gets the signal, zeroth_row the zeroth read plus it,
 * the DQ rows the flags (zero_read_signal's tests, in its order and precision). */
#define ZSIG_ROW(NAME, T)                                                                       \
static inline void                                                                              \
NAME(const float *restrict read0, const float *restrict read1, T *restrict dq0,                \
     T *restrict dq1, const float *restrict zsci, const float *restrict zerr,                  \
     const float *restrict node, const float *restrict gain, const float *restrict rn,         \
     float threshold, float *restrict zsig, T *restrict zsig_dq, float *restrict zeroth,       \
     Py_ssize_t n)                                                                              \
{                                                                                               \
    for (Py_ssize_t i = 0; i < n; i++) {                                                        \
        const float signal = read0[i] - zsci[i];                                                \
        float errz = fabsf(signal * gain[i]);                                                   \
        errz = errz + rn[i] * rn[i];                                                            \
        errz = sqrtf(errz) / gain[i];                                                           \
        const float sigma = sqrtf(errz * errz + zerr[i] * zerr[i]);                             \
        const int significant = signal >= threshold * sigma;                                    \
        const float kept = zero_where(!significant, signal);                                    \
        const int saturated0 = kept > node[i];                                                  \
        const int saturated1 = !saturated0 & (read1[i] - zsci[i] > node[i]);                    \
        /* flags as products of 0/1, not branches (a conditional store does not vectorise) */ \
        const T flags0 = (T)((unsigned)significant * ZERO_READ_SIGNAL                          \
                             | (unsigned)saturated0 * (SATURATED | ZERO_READ_SIGNAL));          \
        dq0[i] |= flags0;                                                                       \
        dq1[i] |= (T)((unsigned)(saturated0 | saturated1) * SATURATED);                         \
        zsig_dq[i] |= (T)(flags0 | (unsigned)saturated1 * (SATURATED | ZERO_READ_SIGNAL));      \
        zsig[i] = kept;                                                                         \
        zeroth[i] = zeroth[i] + kept;                                                           \
    }                                                                                           \
}                                                                                               \
                                                                                                \
CLONES static void                                                                              \
NAME##_frame(const float *read0, const float *read1, T *dq0, T *dq1, const float *zsci,        \
             const float *zerr, const float *node, const float *gain, const float *rn,         \
             float threshold, float *zsig, T *zsig_dq, float *zeroth, const Area *a)            \
{                                                                                               \
    for (Py_ssize_t y = a->y0; y < a->y1; y++) {                                                \
        const Py_ssize_t p = y * a->nx + a->x0;                                                 \
        NAME(read0 + p, read1 + p, dq0 + p, dq1 + p, zsci + p, zerr + p, node + p, gain + p,    \
             rn + p, threshold, zsig + p, zsig_dq + p, zeroth + p, a->x1 - a->x0);              \
    }                                                                                           \
}

ZSIG_ROW(zsig_u16, uint16_t)
ZSIG_ROW(zsig_u32, uint32_t)

static PyObject *
zsig(PyObject *self, PyObject *args)
{
    PyObject *o[12];
    int dq_size;
    float threshold;
    Py_ssize_t ny, nx, tx1, tx2, ty1, ty2;
    Py_buffer v[12];
    Area a;

    if (!PyArg_ParseTuple(args, "OOOOiOOOOOfOOOnnnnnn", &o[0], &o[1], &o[2], &o[3], &dq_size,
                          &o[4], &o[5], &o[6], &o[7], &o[8], &threshold, &o[9], &o[10], &o[11],
                          &ny, &nx, &tx1, &tx2, &ty1, &ty2)) {
        return NULL;
    }
    if (check_dq_size(dq_size) < 0 || area_from(&a, ny, nx, tx1, tx2, ty1, ty2) < 0) {
        return NULL;
    }
    const Py_ssize_t f = ny * nx;
    static const char *names[12] = {"read0", "read1", "dq0", "dq1", "zsci", "zerr", "node",
                                    "gain", "readnoise", "zsig", "zsig_dq", "zeroth"};
    /* item size and writability of each buffer */
    const int sizes[12] = {4, 4, dq_size, dq_size, 4, 4, 4, 4, 4, 4, dq_size, 4};
    const int writable[12] = {0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1};
    memset(v, 0, sizeof(v));
    for (int i = 0; i < 12; i++) {
        if (get_buffer(o[i], &v[i], f, sizes[i], writable[i], 0, names[i]) < 0) {
            release_all(v, 12);
            return NULL;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    if (dq_size == 2) {
        zsig_u16_frame(v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf, v[5].buf, v[6].buf,
                       v[7].buf, v[8].buf, threshold, v[9].buf, v[10].buf, v[11].buf, &a);
    }
    else {
        zsig_u32_frame(v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf, v[5].buf, v[6].buf,
                       v[7].buf, v[8].buf, threshold, v[9].buf, v[10].buf, v[11].buf, &a);
    }
    Py_END_ALLOW_THREADS
    release_all(v, 12);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ nlin */

/* poly = poly * s + c, one Horner step in float64 along a row (linearity_factor). */
static inline void
horner_row(double *restrict poly, const float *restrict s, const float *restrict c,
           Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        poly[i] = poly[i] * (double)s[i];
        poly[i] = poly[i] + (double)c[i];
    }
}

/* The first Horner step, from poly = 0 (0 * s kept: it is NaN for an infinite signal). */
static inline void
horner_first_row(double *restrict poly, const float *restrict s, const float *restrict c,
                 Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const double zero = 0.0 * (double)s[i];
        poly[i] = zero + (double)c[i];
    }
}

/* The whole Horner evaluation of four coefficients (NLINFILE's NCOEF) in one pass: the same
 * operations as horner_first_row then three horner_row, without storing between them. */
static inline void
horner4_row(double *restrict poly, const float *restrict s, const float *restrict c0,
            const float *restrict c1, const float *restrict c2, const float *restrict c3,
            Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const double x = (double)s[i];
        double value = 0.0 * x;
        value = value + (double)c3[i];
        value = value * x;
        value = value + (double)c2[i];
        value = value * x;
        value = value + (double)c1[i];
        value = value * x;
        poly[i] = value + (double)c0[i];
    }
}

/* The signal of a row after the zeroth read with ZSIG: the read plus zsig, into `s`. */
static inline void
signal_row(float *restrict s, const float *restrict d, const float *restrict z, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        s[i] = d[i] + z[i];
    }
}

/* Steps 1-3 of nonlinearity_correct on a row, from the signal `s` and the polynomial: the
 * flags OR-ed in (ZFLAGS: the zsig bits, or 0), a pixel not yet 256 corrected below NODE
 * (CORRECTED: the product less zsig, or the product) or flagged 256 above it. */
#define NLIN_FINISH(NAME, T, ZFLAGS, CORRECTED)                                                 \
static inline void                                                                              \
NAME(float *restrict d, T *restrict q, const float *restrict s, const double *restrict poly,   \
     const float *restrict node, const T *restrict extra, const float *restrict z,             \
     const T *restrict zbits, Py_ssize_t n)                                                     \
{                                                                                               \
    for (Py_ssize_t i = 0; i < n; i++) {                                                        \
        const T flags = (T)(q[i] | ZFLAGS | extra[i]);                                          \
        const float factor = (float)(poly[i] + 1.0);                                            \
        const float product = s[i] * factor;                                                    \
        const float corrected = CORRECTED;                                                      \
        const int free = (flags & (T)SATURATED) == 0;                                           \
        const int linear = free & (s[i] <= node[i]);                                            \
        const int saturating = free & (s[i] > node[i]);                                         \
        d[i] = select_float(linear, corrected, d[i]);                                           \
        q[i] = (T)(flags | (saturating ? (T)SATURATED : (T)0));                                 \
    }                                                                                           \
}

/* Row by row, read by read: inside the science area the signal, the polynomial and the
 * correction; then the read's 256 into the next read over the whole row (the reference
 * pixels too). zsig and zsig_bits are NULL without ZSIG; s and poly hold a row. */
#define NLIN_ROW(NAME, T)                                                                       \
NLIN_FINISH(NAME##_zsig_row, T, zbits[i], product - z[i])                                       \
NLIN_FINISH(NAME##_plain_row, T, (T)0, product)                                                 \
                                                                                                \
CLONES static void                                                                              \
NAME##_ramp(float *data, T *dq, const float *coeffs, Py_ssize_t ncoef, const float *node,      \
            const T *extra, const float *zsig, const T *zsig_bits, Py_ssize_t ngroups,          \
            const Area *a, float *s, double *poly)                                              \
{                                                                                               \
    const Py_ssize_t frame = a->ny * a->nx, width = a->x1 - a->x0;                              \
    for (Py_ssize_t y = 0; y < a->ny; y++) {                                                    \
        const Py_ssize_t row = y * a->nx, p = row + a->x0;                                      \
        const int inside = y >= a->y0 && y < a->y1;                                             \
        for (Py_ssize_t k = 0; k < ngroups; k++) {                                              \
            float *d = data + k * frame;                                                        \
            T *q = dq + k * frame;                                                              \
            const int with_zsig = zsig != NULL && k > 0;                                        \
            if (inside) {                                                                       \
                if (with_zsig) {                                                                \
                    signal_row(s, d + p, zsig + p, width);                                      \
                }                                                                               \
                else {                                                                          \
                    memcpy(s, d + p, width * sizeof(float));                                    \
                }                                                                               \
                if (ncoef == 4) {                                                               \
                    horner4_row(poly, s, coeffs + p, coeffs + frame + p,                        \
                                coeffs + 2 * frame + p, coeffs + 3 * frame + p, width);         \
                }                                                                               \
                else if (ncoef == 0) {                                                          \
                    memset(poly, 0, width * sizeof(double));                                    \
                }                                                                               \
                else {                                                                          \
                    horner_first_row(poly, s, coeffs + (ncoef - 1) * frame + p, width);         \
                    for (Py_ssize_t c = ncoef - 2; c >= 0; c--) {                               \
                        horner_row(poly, s, coeffs + c * frame + p, width);                     \
                    }                                                                           \
                }                                                                               \
                if (with_zsig) {                                                                \
                    NAME##_zsig_row(d + p, q + p, s, poly, node + p, extra + p, zsig + p,       \
                                    zsig_bits + p, width);                                      \
                }                                                                               \
                else {                                                                          \
                    NAME##_plain_row(d + p, q + p, s, poly, node + p, extra + p, NULL, NULL,    \
                                     width);                                                    \
                }                                                                               \
            }                                                                                   \
            if (k + 1 < ngroups) {                                                              \
                T *restrict next = q + frame + row;                                             \
                const T *restrict here = q + row;                                               \
                for (Py_ssize_t x = 0; x < a->nx; x++) {                                        \
                    next[x] |= here[x] & (T)SATURATED;                                          \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

NLIN_ROW(nlin_u16, uint16_t)
NLIN_ROW(nlin_u32, uint32_t)

static PyObject *
nlin(PyObject *self, PyObject *args)
{
    PyObject *o_data, *o_dq, *o_coeffs, *o_node, *o_extra, *o_zsig, *o_bits;
    int dq_size;
    Py_ssize_t ncoef, n, ny, nx, tx1, tx2, ty1, ty2;
    Py_buffer v[7];
    Area a;

    if (!PyArg_ParseTuple(args, "OOiOnOOOOnnnnnnn", &o_data, &o_dq, &dq_size, &o_coeffs, &ncoef,
                          &o_node, &o_extra, &o_zsig, &o_bits, &n, &ny, &nx, &tx1, &tx2, &ty1,
                          &ty2)) {
        return NULL;
    }
    if (check_dq_size(dq_size) < 0 || area_from(&a, ny, nx, tx1, tx2, ty1, ty2) < 0) {
        return NULL;
    }
    if (n < 0 || ncoef < 0 || (o_zsig == Py_None) != (o_bits == Py_None)) {
        PyErr_SetString(PyExc_ValueError,
                        "calib.nlin: negative size, or zsig without zsig_bits (or the reverse)");
        return NULL;
    }
    const Py_ssize_t f = ny * nx;
    memset(v, 0, sizeof(v));
    if (get_buffer(o_data, &v[0], n * f, 4, 1, 0, "data") < 0
            || get_buffer(o_dq, &v[1], n * f, dq_size, 1, 0, "dq") < 0
            || get_buffer(o_coeffs, &v[2], ncoef * f, 4, 0, 0, "coeffs") < 0
            || get_buffer(o_node, &v[3], f, 4, 0, 0, "node") < 0
            || get_buffer(o_extra, &v[4], f, dq_size, 0, 0, "extra_dq") < 0
            || get_buffer(o_zsig, &v[5], f, 4, 0, 1, "zsig") < 0
            || get_buffer(o_bits, &v[6], f, dq_size, 0, 1, "zsig_bits") < 0) {
        release_all(v, 7);
        return NULL;
    }
    float *s = PyMem_RawMalloc(nx * sizeof(float));
    double *poly = PyMem_RawMalloc(nx * sizeof(double));
    if (s == NULL || poly == NULL) {
        PyMem_RawFree(s);
        PyMem_RawFree(poly);
        release_all(v, 7);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    if (dq_size == 2) {
        nlin_u16_ramp(v[0].buf, v[1].buf, v[2].buf, ncoef, v[3].buf, v[4].buf, v[5].buf,
                      v[6].buf, n, &a, s, poly);
    }
    else {
        nlin_u32_ramp(v[0].buf, v[1].buf, v[2].buf, ncoef, v[3].buf, v[4].buf, v[5].buf,
                      v[6].buf, n, &a, s, poly);
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(s);
    PyMem_RawFree(poly);
    release_all(v, 7);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ dark */

static inline void
subtract_row(float *restrict d, const float *restrict dark, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        d[i] = d[i] - dark[i];
    }
}

/* err = sqrt(err^2 + other^2) (add_in_quadrature's operations). */
static inline void
quadrature_row(float *restrict e, const float *restrict other, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const float square = e[i] * e[i];
        e[i] = sqrtf(square + other[i] * other[i]);
    }
}

/* A dark value that may count in MEANDARK (calwf3 stats: -FLT_MAX < value < FLT_MAX). */
#define COUNTS(value) (((value) > -FLT_MAX) & ((value) < FLT_MAX))
/* The dark values that count are copied this many at a time where all of them count. */
#define KEEP_BLOCK 16

/* One read: SCI -= dark, ERR in quadrature, DQ |= dark DQ in the science area; the dark
 * values that count in MEANDARK (-FLT_MAX < value < FLT_MAX, no `mask` bit in the dark DQ)
 * are copied in row order into `kept`; returns how many. dark_err and dark_dq may be NULL. */
#define DARK_KERNEL(NAME, T)                                                                    \
static inline void                                                                              \
NAME##_or_row(T *restrict q, const T *restrict bits, Py_ssize_t n)                              \
{                                                                                               \
    for (Py_ssize_t i = 0; i < n; i++) {                                                        \
        q[i] |= bits[i];                                                                        \
    }                                                                                           \
}                                                                                               \
                                                                                                \
static inline Py_ssize_t                                                                        \
NAME##_keep_row(float *restrict kept, const float *restrict dark, const T *restrict dq,        \
                T mask, Py_ssize_t n)                                                           \
{                                                                                               \
    Py_ssize_t count = 0, i = 0;                                                                \
    for (; i + KEEP_BLOCK <= n; i += KEEP_BLOCK) { /* most blocks: every value counts */        \
        int good = 0;                                                                           \
        for (int j = 0; j < KEEP_BLOCK; j++) {                                                  \
            good += COUNTS(dark[i + j]) & (dq == NULL || (dq[i + j] & mask) == 0);              \
        }                                                                                       \
        if (good == KEEP_BLOCK) {                                                               \
            memcpy(kept + count, dark + i, KEEP_BLOCK * sizeof(float));                         \
            count += KEEP_BLOCK;                                                                \
            continue;                                                                           \
        }                                                                                       \
        for (int j = 0; j < KEEP_BLOCK; j++) {                                                  \
            kept[count] = dark[i + j];                                                          \
            count += COUNTS(dark[i + j]) & (dq == NULL || (dq[i + j] & mask) == 0);             \
        }                                                                                       \
    }                                                                                           \
    for (; i < n; i++) {                                                                        \
        kept[count] = dark[i];                                                                  \
        count += COUNTS(dark[i]) & (dq == NULL || (dq[i] & mask) == 0);                         \
    }                                                                                           \
    return count;                                                                               \
}                                                                                               \
                                                                                                \
CLONES static Py_ssize_t                                                                        \
NAME(float *data, float *err, T *dq, const float *dark, const float *dark_err,                 \
     const T *dark_dq, T mask, float *kept, const Area *a)                                      \
{                                                                                               \
    const Py_ssize_t width = a->x1 - a->x0;                                                     \
    Py_ssize_t count = 0;                                                                       \
    for (Py_ssize_t y = a->y0; y < a->y1; y++) {                                                \
        const Py_ssize_t p = y * a->nx + a->x0;                                                 \
        subtract_row(data + p, dark + p, width);                                                \
        if (dark_err != NULL) {                                                                 \
            quadrature_row(err + p, dark_err + p, width);                                       \
        }                                                                                       \
        if (dark_dq != NULL) {                                                                  \
            NAME##_or_row(dq + p, dark_dq + p, width);                                          \
        }                                                                                       \
        if (dark_dq != NULL) {                                                                  \
            count += NAME##_keep_row(kept + count, dark + p, dark_dq + p, mask, width);         \
        }                                                                                       \
        else {                                                                                  \
            count += NAME##_keep_row(kept + count, dark + p, NULL, mask, width);                \
        }                                                                                       \
    }                                                                                           \
    return count;                                                                               \
}

DARK_KERNEL(dark_u16, uint16_t)
DARK_KERNEL(dark_u32, uint32_t)

static PyObject *
dark(PyObject *self, PyObject *args)
{
    PyObject *o_data, *o_err, *o_dq, *o_dark, *o_derr, *o_ddq, *o_kept;
    int dq_size;
    unsigned long mask;
    Py_ssize_t ny, nx, tx1, tx2, ty1, ty2, count = 0;
    Py_buffer v[7];
    Area a;

    if (!PyArg_ParseTuple(args, "OOOiOOOkOnnnnnn", &o_data, &o_err, &o_dq, &dq_size, &o_dark,
                          &o_derr, &o_ddq, &mask, &o_kept, &ny, &nx, &tx1, &tx2, &ty1, &ty2)) {
        return NULL;
    }
    if (check_dq_size(dq_size) < 0 || area_from(&a, ny, nx, tx1, tx2, ty1, ty2) < 0) {
        return NULL;
    }
    const Py_ssize_t f = ny * nx;
    memset(v, 0, sizeof(v));
    if (get_buffer(o_data, &v[0], f, 4, 1, 0, "data") < 0
            || get_buffer(o_err, &v[1], f, 4, 1, 0, "err") < 0
            || get_buffer(o_dq, &v[2], f, dq_size, 1, 0, "dq") < 0
            || get_buffer(o_dark, &v[3], f, 4, 0, 0, "dark") < 0
            || get_buffer(o_derr, &v[4], f, 4, 0, 1, "dark_err") < 0
            || get_buffer(o_ddq, &v[5], f, dq_size, 0, 1, "dark_dq") < 0
            || get_buffer(o_kept, &v[6], f, 4, 1, 0, "kept") < 0) {
        release_all(v, 7);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dq_size == 2) {
        count = dark_u16(v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf, v[5].buf,
                         (uint16_t)mask, v[6].buf, &a);
    }
    else {
        count = dark_u32(v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf, v[5].buf,
                         (uint32_t)mask, v[6].buf, &a);
    }
    Py_END_ALLOW_THREADS
    release_all(v, 7);
    return PyLong_FromSsize_t(count);
}

/* ------------------------------------------------------------------ flat */

/* SCI / F and sqrt(E^2 / F^2 + S^2 EF^2 / F^4) (_divide_by_flat's operations, in its order);
 * both 0 where F == 0. `ef` NULL: a flat without errors (0). Everything is computed for every
 * pixel and then selected, so that the loop has no branch and vectorises. */
static inline void
divide_row_with(float *restrict d, float *restrict e, const float *restrict f,
                const float *restrict ef, Py_ssize_t n, const int with_err)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const float fv = f[i], efv = with_err ? ef[i] : 0.0f;
        const float f2 = fv * fv;
        const float f4 = f2 * f2;
        const float s = d[i];
        float term = s * s;
        term = term * efv;
        term = term * efv;
        term = term / f4;
        float v = e[i] * e[i];
        v = v / f2;
        v = v + term;
        v = sqrtf(v);
        const float quotient = s / fv;
        const int unusable = fv == 0.0f;
        e[i] = zero_where(unusable, v);
        d[i] = zero_where(unusable, quotient);
    }
}

/* The two uses, each with `with_err` a constant so that the compiler makes a branch-free
 * loop of each: a flat with errors, and one without (the same operations with EF = 0). */
static inline void
divide_row(float *restrict d, float *restrict e, const float *restrict f,
           const float *restrict ef, Py_ssize_t n)
{
    divide_row_with(d, e, f, ef, n, 1);
}

static inline void
divide_row_no_err(float *restrict d, float *restrict e, const float *restrict f, Py_ssize_t n)
{
    divide_row_with(d, e, f, NULL, n, 0);
}

static inline void
scale_row(float *restrict d, float *restrict e, float gain, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        d[i] = d[i] * gain;
        e[i] = e[i] * gain;
    }
}

/* Every image of a stack: in the science area the division (above), DQ |= flat DQ and
 * `zero_bits` where F == 0; then the whole frame times `gain` when `with_gain`. flat_err and
 * flat_dq may be NULL (zero). */
#define FLAT_KERNEL(NAME, T)                                                                    \
static inline void                                                                              \
NAME##_dq_row(T *restrict q, const T *restrict bits, const float *restrict f, T zero_bits,     \
              Py_ssize_t n)                                                                     \
{                                                                                               \
    for (Py_ssize_t i = 0; i < n; i++) {                                                        \
        q[i] |= (T)(bits[i] | (f[i] == 0.0f ? zero_bits : (T)0));                               \
    }                                                                                           \
}                                                                                               \
                                                                                                \
static inline void                                                                              \
NAME##_zero_row(T *restrict q, const float *restrict f, T zero_bits, Py_ssize_t n)              \
{                                                                                               \
    for (Py_ssize_t i = 0; i < n; i++) {                                                        \
        q[i] |= (T)(f[i] == 0.0f ? zero_bits : (T)0);                                           \
    }                                                                                           \
}                                                                                               \
                                                                                                \
CLONES static void                                                                              \
NAME(float *data, float *err, T *dq, Py_ssize_t nimages, const float *flat,                    \
     const float *flat_err, const T *flat_dq, Py_ssize_t flat_stride, T zero_bits,              \
     int with_gain, float gain, const Area *a)                                                  \
{                                                                                               \
    const Py_ssize_t frame = a->ny * a->nx, width = a->x1 - a->x0;                              \
    for (Py_ssize_t i = 0; i < nimages; i++) {                                                  \
        float *d = data + i * frame;                                                            \
        float *e = err + i * frame;                                                             \
        T *q = dq + i * frame;                                                                  \
        for (Py_ssize_t y = 0; y < a->ny; y++) {                                                \
            const Py_ssize_t row = y * a->nx, p = row + a->x0;                                  \
            const Py_ssize_t fp = y * flat_stride + a->x0; /* the flats' rows may be longer */ \
            if (y >= a->y0 && y < a->y1) {                                                      \
                if (flat_err != NULL) {                                                         \
                    divide_row(d + p, e + p, flat + fp, flat_err + fp, width);                  \
                }                                                                               \
                else {                                                                          \
                    divide_row_no_err(d + p, e + p, flat + fp, width);                           \
                }                                                                               \
                if (flat_dq != NULL) {                                                          \
                    NAME##_dq_row(q + p, flat_dq + fp, flat + fp, zero_bits, width);            \
                }                                                                               \
                else if (zero_bits != 0) {                                                      \
                    NAME##_zero_row(q + p, flat + fp, zero_bits, width);                        \
                }                                                                               \
            }                                                                                   \
            if (with_gain) {                                                                    \
                scale_row(d + row, e + row, gain, a->nx);                                       \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

FLAT_KERNEL(flat_u16, uint16_t)
FLAT_KERNEL(flat_u32, uint32_t)

static PyObject *
flat(PyObject *self, PyObject *args)
{
    PyObject *o_data, *o_err, *o_dq, *o_flat, *o_ferr, *o_fdq;
    int dq_size, with_gain;
    unsigned long zero_bits;
    float gain;
    Py_ssize_t nimages, flat_stride, ny, nx, tx1, tx2, ty1, ty2;
    Py_buffer v[6];
    Area a;

    if (!PyArg_ParseTuple(args, "OOOinOOOnkpfnnnnnn", &o_data, &o_err, &o_dq, &dq_size,
                          &nimages, &o_flat, &o_ferr, &o_fdq, &flat_stride, &zero_bits,
                          &with_gain, &gain, &ny, &nx, &tx1, &tx2, &ty1, &ty2)) {
        return NULL;
    }
    if (check_dq_size(dq_size) < 0 || area_from(&a, ny, nx, tx1, tx2, ty1, ty2) < 0) {
        return NULL;
    }
    if (nimages < 0) {
        PyErr_SetString(PyExc_ValueError, "calib.flat: negative number of images");
        return NULL;
    }
    if (flat_stride < nx) {
        PyErr_SetString(PyExc_ValueError, "calib.flat: flat_stride is shorter than a row");
        return NULL;
    }
    /* the flats: ny rows of nx values, flat_stride values apart (a window of a wider image) */
    const Py_ssize_t f = ny * nx, fspan = ny > 0 ? (ny - 1) * flat_stride + nx : 0;
    memset(v, 0, sizeof(v));
    if (get_buffer(o_data, &v[0], nimages * f, 4, 1, 0, "data") < 0
            || get_buffer(o_err, &v[1], nimages * f, 4, 1, 0, "err") < 0
            || get_buffer(o_dq, &v[2], nimages * f, dq_size, 1, 0, "dq") < 0
            || get_buffer(o_flat, &v[3], fspan, 4, 0, 0, "flat") < 0
            || get_buffer(o_ferr, &v[4], fspan, 4, 0, 1, "flat_err") < 0
            || get_buffer(o_fdq, &v[5], fspan, dq_size, 0, 1, "flat_dq") < 0) {
        release_all(v, 6);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dq_size == 2) {
        flat_u16(v[0].buf, v[1].buf, v[2].buf, nimages, v[3].buf, v[4].buf, v[5].buf,
                 flat_stride, (uint16_t)zero_bits, with_gain, gain, &a);
    }
    else {
        flat_u32(v[0].buf, v[1].buf, v[2].buf, nimages, v[3].buf, v[4].buf, v[5].buf,
                 flat_stride, (uint32_t)zero_bits, with_gain, gain, &a);
    }
    Py_END_ALLOW_THREADS
    release_all(v, 6);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef calib_methods[] = {
    {"noise", noise, METH_VARARGS,
     "noise(data, err, gain, readnoise, n, ny, nx, x1, x2, y1, y2) -> reads computed"},
    {"zsig", zsig, METH_VARARGS,
     "zsig(read0, read1, dq0, dq1, dq_size, zsci, zerr, node, gain, readnoise, threshold, "
     "zsig, zsig_dq, zeroth, ny, nx, x1, x2, y1, y2)"},
    {"nlin", nlin, METH_VARARGS,
     "nlin(data, dq, dq_size, coeffs, ncoef, node, extra_dq, zsig, zsig_bits, n, ny, nx, "
     "x1, x2, y1, y2)"},
    {"dark", dark, METH_VARARGS,
     "dark(data, err, dq, dq_size, dark, dark_err, dark_dq, mask, kept, ny, nx, x1, x2, y1, "
     "y2) -> number of dark values kept for MEANDARK"},
    {"flat", flat, METH_VARARGS,
     "flat(data, err, dq, dq_size, nimages, flat, flat_err, flat_dq, flat_stride, zero_bits, "
     "with_gain, gain, ny, nx, x1, x2, y1, y2)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef calib_module = {
    PyModuleDef_HEAD_INIT, "_calib",
    "hstramp's fused per-read calibration kernels (noise, zsig, nlin, dark, flat).", -1,
    calib_methods,
};

PyMODINIT_FUNC
PyInit__calib(void)
{
    return PyModule_Create(&calib_module);
}
