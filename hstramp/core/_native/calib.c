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
 * polynomial in float64), one rounding per NumPy operation, so the results are the same bits.
 * That needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0) and no fused
 * multiply-add (setup.py builds with -ffp-contract=off): where the compiler cannot promise
 * the former the file does not build and hstramp uses the NumPy path.
 *
 * Arrays arrive as C-contiguous buffers (the Python side makes them so), DQ as uint16 or
 * uint32 (dq_size 2 or 4); the functions check every buffer's length, write only the buffers
 * documented as outputs and release the GIL while they work.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "calib.c needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0)"
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
/* sqrtf without errno lets loops vectorise; the square root is IEEE-exact either way */
#pragma GCC optimize("no-math-errno")
#endif

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

/* ------------------------------------------------------------------ noise */

/* Errors of reads 0, 1, ... of a ramp until the first read whose science-area ERR holds a
 * non-zero value (NaN counts); returns how many reads were computed. */
static Py_ssize_t
noise_kernel(const float *data, float *err, const float *gain, const float *readnoise,
             Py_ssize_t ngroups, const Area *a)
{
    const Py_ssize_t frame = a->ny * a->nx;
    for (Py_ssize_t k = 0; k < ngroups; k++) {
        const float *d = data + k * frame;
        float *e = err + k * frame;
        for (Py_ssize_t y = a->y0; y < a->y1; y++) {
            for (Py_ssize_t x = a->x0; x < a->x1; x++) {
                if (e[y * a->nx + x] != 0.0f) {
                    return k;
                }
            }
        }
        for (Py_ssize_t y = a->y0; y < a->y1; y++) {
            const Py_ssize_t row = y * a->nx;
            for (Py_ssize_t x = a->x0; x < a->x1; x++) {
                const Py_ssize_t p = row + x;
                const float g = gain[p];
                const float rn2 = readnoise[p] * readnoise[p];
                float value = d[p] * g;
                value = fabsf(value);
                value = value + rn2;
                value = sqrtf(value);
                e[p] = value / g;
            }
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

#define ZSIG_KERNEL(NAME, T)                                                                    \
static void                                                                                     \
NAME(const float *read0, const float *read1, T *dq0, T *dq1, const float *zsci,                \
     const float *zerr, const float *node, const float *gain, const float *readnoise,          \
     float threshold, float *zsig, T *zsig_dq, float *zeroth, const Area *a)                    \
{                                                                                               \
    for (Py_ssize_t y = a->y0; y < a->y1; y++) {                                                \
        const Py_ssize_t row = y * a->nx;                                                       \
        for (Py_ssize_t x = a->x0; x < a->x1; x++) {                                            \
            const Py_ssize_t p = row + x;                                                       \
            float signal = read0[p] - zsci[p];                                                  \
            const float g = gain[p];                                                            \
            float errz = signal * g;                                                            \
            errz = fabsf(errz);                                                                 \
            errz = errz + readnoise[p] * readnoise[p];                                          \
            errz = sqrtf(errz);                                                                 \
            errz = errz / g;                                                                    \
            const float variance = errz * errz + zerr[p] * zerr[p];                             \
            const int significant = signal >= threshold * sqrtf(variance);                      \
            if (!significant) {                                                                 \
                signal = 0.0f;                                                                  \
            }                                                                                   \
            const int saturated0 = signal > node[p];                                            \
            const int saturated1 = !saturated0 && (read1[p] - zsci[p] > node[p]);               \
            T flags0 = 0;                                                                       \
            if (significant) {                                                                  \
                flags0 |= (T)ZERO_READ_SIGNAL;                                                  \
            }                                                                                   \
            if (saturated0) {                                                                   \
                flags0 |= (T)(SATURATED | ZERO_READ_SIGNAL);                                    \
            }                                                                                   \
            dq0[p] |= flags0;                                                                   \
            if (saturated0 || saturated1) {                                                     \
                dq1[p] |= (T)SATURATED;                                                         \
            }                                                                                   \
            T zflags = flags0;                                                                  \
            if (saturated1) {                                                                   \
                zflags |= (T)(SATURATED | ZERO_READ_SIGNAL);                                    \
            }                                                                                   \
            zsig_dq[p] |= zflags;                                                               \
            zsig[p] = signal;                                                                   \
            zeroth[p] = zeroth[p] + signal;                                                     \
        }                                                                                       \
    }                                                                                           \
}

ZSIG_KERNEL(zsig_u16, uint16_t)
ZSIG_KERNEL(zsig_u32, uint32_t)

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
        zsig_u16(v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf, v[5].buf, v[6].buf, v[7].buf,
                 v[8].buf, threshold, v[9].buf, v[10].buf, v[11].buf, &a);
    }
    else {
        zsig_u32(v[0].buf, v[1].buf, v[2].buf, v[3].buf, v[4].buf, v[5].buf, v[6].buf, v[7].buf,
                 v[8].buf, threshold, v[9].buf, v[10].buf, v[11].buf, &a);
    }
    Py_END_ALLOW_THREADS
    release_all(v, 12);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ nlin */

/* Row by row, read by read: inside the science area NODE and the polynomial (Horner in
 * float64, then float32 as linearity_factor), then the read's 256 into the next read over
 * the whole row (the reference pixels too). zsig and zsig_bits are NULL without ZSIG. */
#define NLIN_KERNEL(NAME, T)                                                                    \
static void                                                                                     \
NAME(float *data, T *dq, const float *coeffs, Py_ssize_t ncoef, const float *node,             \
     const T *extra, const float *zsig, const T *zsig_bits, Py_ssize_t ngroups, const Area *a)  \
{                                                                                               \
    const Py_ssize_t frame = a->ny * a->nx;                                                     \
    for (Py_ssize_t y = 0; y < a->ny; y++) {                                                    \
        const Py_ssize_t row = y * a->nx;                                                       \
        const int inside = y >= a->y0 && y < a->y1;                                             \
        for (Py_ssize_t k = 0; k < ngroups; k++) {                                              \
            float *d = data + k * frame;                                                        \
            T *q = dq + k * frame;                                                              \
            const int with_zsig = zsig != NULL && k > 0;                                        \
            for (Py_ssize_t x = inside ? a->x0 : a->x1; x < a->x1; x++) {                       \
                const Py_ssize_t p = row + x;                                                   \
                T flags = q[p];                                                                 \
                float signal = d[p];                                                            \
                if (with_zsig) {                                                                \
                    signal = signal + zsig[p];                                                  \
                    flags |= zsig_bits[p];                                                      \
                }                                                                               \
                flags |= extra[p];                                                              \
                if ((flags & (T)SATURATED) == 0) {                                              \
                    if (signal <= node[p]) {                                                    \
                        const double s = (double)signal;                                        \
                        double poly = 0.0;                                                      \
                        for (Py_ssize_t c = ncoef - 1; c >= 0; c--) {                           \
                            poly = poly * s;                                                    \
                            poly = poly + (double)coeffs[c * frame + p];                        \
                        }                                                                       \
                        poly = poly + 1.0;                                                      \
                        float corrected = signal * (float)poly;                                 \
                        if (with_zsig) {                                                        \
                            corrected = corrected - zsig[p];                                    \
                        }                                                                       \
                        d[p] = corrected;                                                       \
                    }                                                                           \
                    else if (signal > node[p]) {                                                \
                        flags |= (T)SATURATED;                                                  \
                    }                                                                           \
                }                                                                               \
                q[p] = flags;                                                                   \
            }                                                                                   \
            if (k + 1 < ngroups) {                                                              \
                T *next = q + frame;                                                            \
                for (Py_ssize_t x = 0; x < a->nx; x++) {                                        \
                    next[row + x] |= q[row + x] & (T)SATURATED;                                 \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

NLIN_KERNEL(nlin_u16, uint16_t)
NLIN_KERNEL(nlin_u32, uint32_t)

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
    Py_BEGIN_ALLOW_THREADS
    if (dq_size == 2) {
        nlin_u16(v[0].buf, v[1].buf, v[2].buf, ncoef, v[3].buf, v[4].buf, v[5].buf, v[6].buf, n,
                 &a);
    }
    else {
        nlin_u32(v[0].buf, v[1].buf, v[2].buf, ncoef, v[3].buf, v[4].buf, v[5].buf, v[6].buf, n,
                 &a);
    }
    Py_END_ALLOW_THREADS
    release_all(v, 7);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ dark */

/* One read: SCI -= dark, ERR = sqrt(ERR^2 + dark_err^2), DQ |= dark DQ in the science area;
 * the dark values that count in MEANDARK (finite, no `mask` bit in the dark DQ) are copied
 * in row order into `kept`; returns how many. dark_err and dark_dq may be NULL. */
#define DARK_KERNEL(NAME, T)                                                                    \
static Py_ssize_t                                                                               \
NAME(float *data, float *err, T *dq, const float *dark, const float *dark_err,                 \
     const T *dark_dq, T mask, float *kept, const Area *a)                                      \
{                                                                                               \
    Py_ssize_t count = 0;                                                                       \
    for (Py_ssize_t y = a->y0; y < a->y1; y++) {                                                \
        const Py_ssize_t row = y * a->nx;                                                       \
        for (Py_ssize_t x = a->x0; x < a->x1; x++) {                                            \
            const Py_ssize_t p = row + x;                                                       \
            const float value = dark[p];                                                        \
            data[p] = data[p] - value;                                                          \
            if (dark_err != NULL) {                                                             \
                const float e = err[p] * err[p];                                                \
                err[p] = sqrtf(e + dark_err[p] * dark_err[p]);                                  \
            }                                                                                   \
            T flags = 0;                                                                        \
            if (dark_dq != NULL) {                                                              \
                flags = dark_dq[p];                                                             \
                dq[p] |= flags;                                                                 \
            }                                                                                   \
            if (value > -FLT_MAX && value < FLT_MAX && (flags & mask) == 0) {                   \
                kept[count++] = value;                                                          \
            }                                                                                   \
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

/* Every image of a stack: in the science area SCI / F and its error (both 0 where F == 0),
 * DQ |= flat DQ and `zero_bits` where F == 0; then, the whole frame, times `gain` when
 * `with_gain`. flat_err and flat_dq may be NULL (zero). */
#define FLAT_KERNEL(NAME, T)                                                                    \
static void                                                                                     \
NAME(float *data, float *err, T *dq, Py_ssize_t nimages, const float *flat,                    \
     const float *flat_err, const T *flat_dq, T zero_bits, int with_gain, float gain,           \
     const Area *a)                                                                             \
{                                                                                               \
    const Py_ssize_t frame = a->ny * a->nx;                                                     \
    for (Py_ssize_t i = 0; i < nimages; i++) {                                                  \
        float *d = data + i * frame;                                                            \
        float *e = err + i * frame;                                                             \
        T *q = dq + i * frame;                                                                  \
        for (Py_ssize_t y = 0; y < a->ny; y++) {                                                \
            const Py_ssize_t row = y * a->nx;                                                   \
            const int inside = y >= a->y0 && y < a->y1;                                         \
            for (Py_ssize_t x = inside ? a->x0 : a->x1; x < a->x1; x++) {                       \
                const Py_ssize_t p = row + x;                                                   \
                const float f = flat[p];                                                        \
                const float ef = flat_err != NULL ? flat_err[p] : 0.0f;                         \
                const float f2 = f * f;                                                         \
                const float f4 = f2 * f2;                                                       \
                float s = d[p];                                                                 \
                float term = s * s;                                                             \
                term = term * ef;                                                               \
                term = term * ef;                                                               \
                term = term / f4;                                                               \
                float v = e[p] * e[p];                                                          \
                v = v / f2;                                                                     \
                v = v + term;                                                                   \
                v = sqrtf(v);                                                                   \
                s = s / f;                                                                      \
                T flags = flat_dq != NULL ? flat_dq[p] : (T)0;                                  \
                if (f == 0.0f) {                                                                \
                    v = 0.0f;                                                                   \
                    s = 0.0f;                                                                   \
                    flags |= zero_bits;                                                         \
                }                                                                               \
                d[p] = s;                                                                       \
                e[p] = v;                                                                       \
                q[p] |= flags;                                                                  \
            }                                                                                   \
            if (with_gain) {                                                                    \
                for (Py_ssize_t x = 0; x < a->nx; x++) {                                        \
                    d[row + x] = d[row + x] * gain;                                             \
                    e[row + x] = e[row + x] * gain;                                             \
                }                                                                               \
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
    Py_ssize_t nimages, ny, nx, tx1, tx2, ty1, ty2;
    Py_buffer v[6];
    Area a;

    if (!PyArg_ParseTuple(args, "OOOinOOOkpfnnnnnn", &o_data, &o_err, &o_dq, &dq_size, &nimages,
                          &o_flat, &o_ferr, &o_fdq, &zero_bits, &with_gain, &gain, &ny, &nx,
                          &tx1, &tx2, &ty1, &ty2)) {
        return NULL;
    }
    if (check_dq_size(dq_size) < 0 || area_from(&a, ny, nx, tx1, tx2, ty1, ty2) < 0) {
        return NULL;
    }
    if (nimages < 0) {
        PyErr_SetString(PyExc_ValueError, "calib.flat: negative number of images");
        return NULL;
    }
    const Py_ssize_t f = ny * nx;
    memset(v, 0, sizeof(v));
    if (get_buffer(o_data, &v[0], nimages * f, 4, 1, 0, "data") < 0
            || get_buffer(o_err, &v[1], nimages * f, 4, 1, 0, "err") < 0
            || get_buffer(o_dq, &v[2], nimages * f, dq_size, 1, 0, "dq") < 0
            || get_buffer(o_flat, &v[3], f, 4, 0, 0, "flat") < 0
            || get_buffer(o_ferr, &v[4], f, 4, 0, 1, "flat_err") < 0
            || get_buffer(o_fdq, &v[5], f, dq_size, 0, 1, "flat_dq") < 0) {
        release_all(v, 6);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (dq_size == 2) {
        flat_u16(v[0].buf, v[1].buf, v[2].buf, nimages, v[3].buf, v[4].buf, v[5].buf,
                 (uint16_t)zero_bits, with_gain, gain, &a);
    }
    else {
        flat_u32(v[0].buf, v[1].buf, v[2].buf, nimages, v[3].buf, v[4].buf, v[5].buf,
                 (uint32_t)zero_bits, with_gain, gain, &a);
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
     "flat(data, err, dq, dq_size, nimages, flat, flat_err, flat_dq, zero_bits, with_gain, "
     "gain, ny, nx, x1, x2, y1, y2)"},
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
