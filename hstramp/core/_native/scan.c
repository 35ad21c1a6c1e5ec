/* The spatial-scan search of hstramp/core/scan.py in one pass per block of pixel rows.
 *
 * The NumPy code in core/scan.py stays the reference and says what each quantity means;
 * these are its fused forms:
 *
 *   excesses(...)  the excess of every read interval over the pixel's mean rate, NaN where
 *                  the interval is unusable, on every `step`-th row (the sample the
 *                  per-interval median and spread are measured on: _Block.excess)
 *   bursts(...)    every pixel's burst read, or -1 (_burst_reads)
 *   middle(...)    the middle one or two of the finite values in order (or of their
 *                  distances to the median): what np.median takes its median from (the
 *                  same values, a zero's sign aside: the radix order puts -0 below +0,
 *                  NumPy's partition leaves equal values as it finds them; no result
 *                  depends on that sign)
 *   tracks(...)    the runs of linked bursts along rows and columns (_along_rows): pixels in
 *                  them, their first and last burst read, and the pixels with a burst
 *
 * Every float operation is the NumPy path's, in its order and in float32, one rounding per
 * NumPy operation, so the results are the same bits. That needs float arithmetic evaluated in
 * float (FLT_EVAL_METHOD 0) and no fused multiply-add (setup.py builds with -ffp-contract=off).
 *
 * The reads and their DQ arrive as 3-D buffers with any strides (the border-trimmed views of
 * the Python side, no copy) of a native integer or float type (format checked here); the
 * small per-read arrays as C-contiguous float32. The functions write only their output
 * buffer and release the GIL while they work.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clones.h"
#include "select.h"

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "scan.c needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0)"
#endif

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The row loops are CLONES (clones.h), as calib.c's. */

/* ------------------------------------------------------------------ the ramp */

/* A strided 3-D buffer [ngroups, ny, nx] of one of the item types below. */
typedef struct {
    Py_buffer view;
    const char *buf;
    Py_ssize_t shape[3];
    Py_ssize_t strides[3];
    char type;  /* struct-module code: f d B b H h I i L l Q q */
} Cube;

/* The reads, their DQ and the per-read arrays the arithmetic needs. */
typedef struct {
    Cube data;
    Cube dq;  /* dq.buf NULL: no DQ */
    uint64_t saturated;
    Py_ssize_t ngroups, ny, nx;
    const float *scale;      /* [ngroups]: counts per unit of a read */
    const float *intervals;  /* [ngroups - 1]: seconds of each interval */
    const float *elapsed;    /* [ngroups]: seconds from read 0 to read k (the NumPy cumsum) */
} Ramp;

/* A block of pixel rows, rows y0, y0 + step, ... (nrows of them), worked on as one line of
 * nrows x nx pixels: reading a few rows of one read after another keeps the memory access
 * sequential (a row at a time, the reads' rows are megabytes apart). */
typedef struct {
    Py_ssize_t y0, step, nrows;
} Rows;

/* Work arrays of a block, `capacity` pixels each (counts: ngroups x capacity). */
typedef struct {
    Py_ssize_t capacity;
    float *counts;
    float *signal;
    float *rate;
    int *usable;
    float *peak;
    float *peak_excess;
    int *largest;
} Work;

/* float32 values of the counts of a block, at most (512 KB: it stays in the L2 cache). */
#define BLOCK_FLOATS 131072

static const char INT_TYPES[] = "BbHhIiLlQq";

/* The item type of a native-order buffer format ("f", "@f", "=f"), or 0. */
static char
item_type(const char *format)
{
    if (format == NULL) {
        return 'B';
    }
    if (format[0] == '@' || format[0] == '=') {
        format++;
    }
    if (format[0] == '\0' || format[1] != '\0') {
        return 0;
    }
    return format[0];
}

static int
get_cube(PyObject *object, Cube *cube, int floats_allowed, const char *name)
{
    cube->view.obj = NULL;
    cube->buf = NULL;
    if (PyObject_GetBuffer(object, &cube->view, PyBUF_RECORDS_RO) < 0) {
        cube->view.obj = NULL;
        return -1;
    }
    char type = item_type(cube->view.format);
    int known = type != 0 && strchr(INT_TYPES, type) != NULL;
    if (floats_allowed && (type == 'f' || type == 'd')) {
        known = 1;
    }
    if (cube->view.ndim != 3 || !known) {
        PyErr_Format(PyExc_ValueError, "scan: %s must be 3-D of a native %s type, got %d-D '%s'",
                     name, floats_allowed ? "integer or float" : "integer", cube->view.ndim,
                     cube->view.format ? cube->view.format : "B");
        PyBuffer_Release(&cube->view);
        cube->view.obj = NULL;
        return -1;
    }
    cube->type = type;
    cube->buf = (const char *)cube->view.buf;
    for (int i = 0; i < 3; i++) {
        cube->shape[i] = cube->view.shape[i];
        cube->strides[i] = cube->view.strides ? cube->view.strides[i] : 0;
    }
    if (cube->view.strides == NULL) {  /* C-contiguous */
        cube->strides[2] = cube->view.itemsize;
        cube->strides[1] = cube->strides[2] * cube->shape[2];
        cube->strides[0] = cube->strides[1] * cube->shape[1];
    }
    return 0;
}

static void
release_cube(Cube *cube)
{
    if (cube->view.obj != NULL) {
        PyBuffer_Release(&cube->view);
        cube->view.obj = NULL;
    }
}

/* A C-contiguous float32 buffer of exactly `count` values. */
static int
get_floats(PyObject *object, Py_buffer *view, Py_ssize_t count, const char *name)
{
    view->obj = NULL;
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        view->obj = NULL;
        return -1;
    }
    if (item_type(view->format) != 'f' || view->len != count * (Py_ssize_t)sizeof(float)) {
        PyErr_Format(PyExc_ValueError, "scan: %s must be %zd float32 values", name, count);
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

static void
release_views(Py_buffer *views, int n)
{
    for (int i = 0; i < n; i++) {
        if (views[i].obj != NULL) {
            PyBuffer_Release(&views[i]);
            views[i].obj = NULL;
        }
    }
}

/* Fill `ramp` from the Python arguments (data, groupdq or None, saturated, scale, intervals,
 * elapsed); `views` (3) keep the float buffers. */
static int
get_ramp(Ramp *ramp, Py_buffer *views, PyObject *data, PyObject *groupdq,
         unsigned long long saturated, PyObject *scale, PyObject *intervals, PyObject *elapsed)
{
    ramp->data.view.obj = NULL;
    ramp->dq.view.obj = NULL;
    ramp->dq.buf = NULL;
    for (int i = 0; i < 3; i++) {
        views[i].obj = NULL;
    }
    if (get_cube(data, &ramp->data, 1, "data") < 0) {
        return -1;
    }
    ramp->ngroups = ramp->data.shape[0];
    ramp->ny = ramp->data.shape[1];
    ramp->nx = ramp->data.shape[2];
    ramp->saturated = saturated;
    if (ramp->ngroups < 2) {
        PyErr_SetString(PyExc_ValueError, "scan: at least 2 reads are needed");
        return -1;
    }
    if (groupdq != Py_None) {
        if (get_cube(groupdq, &ramp->dq, 0, "groupdq") < 0) {
            return -1;
        }
        for (int i = 0; i < 3; i++) {
            if (ramp->dq.shape[i] != ramp->data.shape[i]) {
                PyErr_SetString(PyExc_ValueError, "scan: groupdq and data differ in shape");
                return -1;
            }
        }
    }
    if (get_floats(scale, &views[0], ramp->ngroups, "scale") < 0
            || get_floats(intervals, &views[1], ramp->ngroups - 1, "intervals") < 0
            || get_floats(elapsed, &views[2], ramp->ngroups, "elapsed") < 0) {
        return -1;
    }
    ramp->scale = (const float *)views[0].buf;
    ramp->intervals = (const float *)views[1].buf;
    ramp->elapsed = (const float *)views[2].buf;
    return 0;
}

static void
release_ramp(Ramp *ramp, Py_buffer *views)
{
    release_cube(&ramp->data);
    release_cube(&ramp->dq);
    release_views(views, 3);
}

/* Rows per block: as many as BLOCK_FLOATS allow, at least one. */
static Py_ssize_t
block_rows(const Ramp *ramp)
{
    const Py_ssize_t rows = BLOCK_FLOATS / (ramp->ngroups * (ramp->nx > 0 ? ramp->nx : 1));
    return rows > 1 ? rows : 1;
}

static int
alloc_work(Work *work, const Ramp *ramp)
{
    const size_t n = (size_t)(block_rows(ramp) * ramp->nx);
    work->capacity = (Py_ssize_t)n;
    work->counts = PyMem_RawMalloc((size_t)ramp->ngroups * n * sizeof(float) + 1);
    work->signal = PyMem_RawMalloc(n * sizeof(float) + 1);
    work->rate = PyMem_RawMalloc(n * sizeof(float) + 1);
    work->usable = PyMem_RawMalloc(n * sizeof(int) + 1);
    work->peak = PyMem_RawMalloc(n * sizeof(float) + 1);
    work->peak_excess = PyMem_RawMalloc(n * sizeof(float) + 1);
    work->largest = PyMem_RawMalloc(n * sizeof(int) + 1);
    if (!work->counts || !work->signal || !work->rate || !work->usable || !work->peak
            || !work->peak_excess || !work->largest) {
        return -1;
    }
    return 0;
}

static void
free_work(Work *work)
{
    PyMem_RawFree(work->counts);
    PyMem_RawFree(work->signal);
    PyMem_RawFree(work->rate);
    PyMem_RawFree(work->usable);
    PyMem_RawFree(work->peak);
    PyMem_RawFree(work->peak_excess);
    PyMem_RawFree(work->largest);
}

/* ------------------------------------------------------------------ one block */

/* The switch cases of every native integer buffer format (struct module codes), each
 * running ROW(type) for its C type. */
#define INTEGER_CASES(ROW)                                                                  \
    case 'B': ROW(uint8_t) break;                                                            \
    case 'b': ROW(int8_t) break;                                                             \
    case 'H': ROW(uint16_t) break;                                                           \
    case 'h': ROW(int16_t) break;                                                            \
    case 'I': ROW(unsigned int) break;                                                       \
    case 'i': ROW(int) break;                                                                \
    case 'L': ROW(unsigned long) break;                                                      \
    case 'l': ROW(long) break;                                                               \
    case 'Q': ROW(unsigned long long) break;                                                 \
    case 'q': ROW(long long) break;

/* Row `y` of read `k` as float32 (the NumPy cast), times `factor`: one rounding each. */
#define CONVERT_ROW(T)                                                                      \
    for (Py_ssize_t x = 0; x < nx; x++) {                                                    \
        out[x] = (float)*(const T *)(row + x * step) * factor;                               \
    }

static inline void
counts_row(const Ramp *ramp, Py_ssize_t k, Py_ssize_t y, float *out)
{
    const Cube *c = &ramp->data;
    const char *row = c->buf + k * c->strides[0] + y * c->strides[1];
    const Py_ssize_t step = c->strides[2], nx = ramp->nx;
    const float factor = ramp->scale[k];
    if (c->type == 'f' && step == (Py_ssize_t)sizeof(float)) {
        const float *values = (const float *)row;
        for (Py_ssize_t x = 0; x < nx; x++) {
            out[x] = values[x] * factor;
        }
        return;
    }
    switch (c->type) {
    case 'f': CONVERT_ROW(float) break;
    case 'd': CONVERT_ROW(double) break;
    INTEGER_CASES(CONVERT_ROW)
    }
}

/* Whether a contiguous uint16 DQ row has a `sat` bit anywhere (a fast test that lets the
 * common row without saturation skip the per-pixel update). */
static inline int
any_flagged(const uint16_t *values, uint16_t sat, Py_ssize_t nx)
{
    uint16_t any = 0;
    for (Py_ssize_t x = 0; x < nx; x++) {
        any |= values[x];
    }
    return (any & sat) != 0;
}

/* first[x] = k where DQ read `k` of row `y` has a saturated bit. */
#define FLAG_ROW(T)                                                                         \
    for (Py_ssize_t x = 0; x < nx; x++) {                                                    \
        const uint64_t value = (uint64_t)(int64_t)*(const T *)(row + x * step);              \
        first[x] = select_int((value & sat) != 0, k, first[x]);                              \
    }

CLONES static void
flag_row(const Ramp *ramp, int k, Py_ssize_t y, int *first)
{
    const Cube *c = &ramp->dq;
    const char *row = c->buf + k * c->strides[0] + y * c->strides[1];
    const Py_ssize_t step = c->strides[2], nx = ramp->nx;
    const uint64_t sat = ramp->saturated;
    if (c->type == 'H' && step == (Py_ssize_t)sizeof(uint16_t)) {
        const uint16_t *values = (const uint16_t *)row, sat16 = (uint16_t)sat;
        if (any_flagged(values, sat16, nx)) {
            for (Py_ssize_t x = 0; x < nx; x++) {
                first[x] = select_int((values[x] & sat16) != 0, k, first[x]);
            }
        }
        return;
    }
    switch (c->type) {
    INTEGER_CASES(FLAG_ROW)
    }
}

/* The intervals each pixel of the block uses: those before its first saturated read
 * (intervals 0 .. usable - 1; usable = ngroups - 1 without saturation, 0 when read 0 or 1
 * is the first saturated): _Block.usable. */
static inline void
usable_block(const Ramp *ramp, const Rows *rows, int *usable)
{
    const Py_ssize_t nx = ramp->nx, width = rows->nrows * nx;
    for (Py_ssize_t i = 0; i < width; i++) {
        usable[i] = (int)ramp->ngroups;  /* the first saturated read */
    }
    if (ramp->dq.buf != NULL) {
        for (int k = (int)ramp->ngroups - 1; k >= 0; k--) {
            for (Py_ssize_t r = 0; r < rows->nrows; r++) {
                flag_row(ramp, k, rows->y0 + r * rows->step, usable + r * nx);
            }
        }
    }
    for (Py_ssize_t i = 0; i < width; i++) {
        usable[i] = usable[i] > 0 ? usable[i] - 1 : 0;  /* (first - 1).clip(0) */
    }
}

/* The block: every read in counts, the intervals each pixel uses, the signal over them and
 * the mean rate (0 where no time elapsed): _Block.__init__ and _Block.counts. */
CLONES static void
prepare_block(const Ramp *ramp, const Rows *rows, Work *work)
{
    const Py_ssize_t nx = ramp->nx, width = rows->nrows * nx, capacity = work->capacity;
    for (Py_ssize_t k = 0; k < ramp->ngroups; k++) {
        for (Py_ssize_t r = 0; r < rows->nrows; r++) {
            counts_row(ramp, k, rows->y0 + r * rows->step, work->counts + k * capacity + r * nx);
        }
    }
    usable_block(ramp, rows, work->usable);
    for (Py_ssize_t i = 0; i < width; i++) {
        const int u = work->usable[i];
        const float signal = work->counts[u * capacity + i] - work->counts[i];
        const float elapsed = ramp->elapsed[u];
        const float rate = signal / elapsed;
        work->signal[i] = signal;
        work->rate[i] = select_float(elapsed > 0.0f, rate, 0.0f);
    }
}

/* Interval k's counts less the mean rate's (_Block.excess, before the NaN of unusable). */
static inline float
excess_of(float later, float earlier, float rate, float interval)
{
    const float difference = later - earlier;
    const float expected = rate * interval;
    return difference - expected;
}

/* ------------------------------------------------------------------ excesses */

/* Interval k of a block, NaN where it is unusable. */
static inline void
excess_line(const float *restrict earlier, const float *restrict later,
            const float *restrict rate, const int *restrict usable, int k, float interval,
            float *restrict out, Py_ssize_t width)
{
    for (Py_ssize_t i = 0; i < width; i++) {
        const float excess = excess_of(later[i], earlier[i], rate[i], interval);
        out[i] = select_float(usable[i] > k, excess, NAN);
    }
}

/* Every interval's excess on rows 0, row_step, ... (nsample of them) into `out`
 * (float32 [ngroups - 1, nsample, nx]). */
CLONES static void
excess_rows(const Ramp *ramp, Work *work, Py_ssize_t row_step, Py_ssize_t nsample,
            float *out)
{
    const Py_ssize_t nx = ramp->nx, block = block_rows(ramp);
    for (Py_ssize_t i0 = 0; i0 < nsample; i0 += block) {
        const Rows rows = {i0 * row_step, row_step, nsample - i0 < block ? nsample - i0 : block};
        prepare_block(ramp, &rows, work);
        for (Py_ssize_t k = 0; k < ramp->ngroups - 1; k++) {
            const float *earlier = work->counts + k * work->capacity;
            excess_line(earlier, earlier + work->capacity, work->rate, work->usable, (int)k,
                        ramp->intervals[k], out + (k * nsample + i0) * nx, rows.nrows * nx);
        }
    }
}

static PyObject *
excesses(PyObject *self, PyObject *args)
{
    PyObject *data, *groupdq, *scale, *intervals, *elapsed, *out;
    unsigned long long saturated;
    Py_ssize_t row_step;
    Ramp ramp;
    Py_buffer views[3], out_view;
    Work work = {0};
    PyObject *result = NULL;

    out_view.obj = NULL;
    if (!PyArg_ParseTuple(args, "OOKOOOnO", &data, &groupdq, &saturated, &scale, &intervals,
                          &elapsed, &row_step, &out)) {
        return NULL;
    }
    if (get_ramp(&ramp, views, data, groupdq, saturated, scale, intervals, elapsed) < 0) {
        goto done;
    }
    if (row_step < 1) {
        PyErr_SetString(PyExc_ValueError, "scan: row_step must be at least 1");
        goto done;
    }
    const Py_ssize_t nint = ramp.ngroups - 1, nx = ramp.nx;
    const Py_ssize_t nsample = (ramp.ny + row_step - 1) / row_step;
    if (PyObject_GetBuffer(out, &out_view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE | PyBUF_FORMAT)
            < 0) {
        out_view.obj = NULL;
        goto done;
    }
    if (item_type(out_view.format) != 'f'
            || out_view.len != nint * nsample * nx * (Py_ssize_t)sizeof(float)) {
        PyErr_Format(PyExc_ValueError, "scan: out must be %zd x %zd x %zd float32 values",
                     nint, nsample, nx);
        goto done;
    }
    if (alloc_work(&work, &ramp) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    excess_rows(&ramp, &work, row_step, nsample, (float *)out_view.buf);
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    free_work(&work);
    if (out_view.obj != NULL) {
        PyBuffer_Release(&out_view);
    }
    release_ramp(&ramp, views);
    return result;
}

/* ------------------------------------------------------------------ bursts */

/* Interval k of a block against the peaks so far: a strictly larger ratio (excess less the
 * interval's centre, over its spread) of a usable interval replaces the peak. */
static inline void
peak_line(const float *restrict earlier, const float *restrict later,
          const float *restrict rate, const int *restrict usable, int k, float interval,
          float centre, float spread, float *restrict peak, float *restrict peak_excess,
          int *restrict largest, Py_ssize_t width)
{
    for (Py_ssize_t i = 0; i < width; i++) {
        const float excess = excess_of(later[i], earlier[i], rate[i], interval);
        const float ratio = (excess - centre) / spread;
        const int higher = (usable[i] > k) & (ratio > peak[i]);
        peak[i] = select_float(higher, ratio, peak[i]);
        peak_excess[i] = select_float(higher, excess, peak_excess[i]);
        largest[i] = select_int(higher, k, largest[i]);
    }
}

/* The block's burst reads into `out` (-1: no burst): the first interval of largest ratio
 * among the usable ones (a strictly larger ratio replaces the peak, NaN never does: the
 * fmax reduction and first-equal pick of _burst_reads), a burst when that ratio exceeds
 * burst_sigma and its excess holds min_share of the pixel's signal. */
CLONES static void
burst_block(const Ramp *ramp, const Rows *rows, Work *work, const float *centre,
            const float *spread, float min_share, float burst_sigma, int16_t *out)
{
    const Py_ssize_t width = rows->nrows * ramp->nx;
    float *peak = work->peak, *peak_excess = work->peak_excess;
    int *largest = work->largest;
    prepare_block(ramp, rows, work);
    for (Py_ssize_t i = 0; i < width; i++) {
        peak[i] = -INFINITY;
        peak_excess[i] = 0.0f;
        largest[i] = 0;
    }
    for (Py_ssize_t k = 0; k < ramp->ngroups - 1; k++) {
        const float *earlier = work->counts + k * work->capacity;
        peak_line(earlier, earlier + work->capacity, work->rate, work->usable, (int)k,
                  ramp->intervals[k], centre[k], spread[k], peak, peak_excess, largest, width);
    }
    for (Py_ssize_t i = 0; i < width; i++) {
        const float needed = min_share * fabsf(work->signal[i]);
        const int burst = (peak[i] > burst_sigma) & (peak_excess[i] >= needed);
        out[i] = (int16_t)select_int(burst, largest[i] + 1, -1);
    }
}

static PyObject *
bursts(PyObject *self, PyObject *args)
{
    PyObject *data, *groupdq, *scale, *intervals, *elapsed, *centre, *spread, *out;
    unsigned long long saturated;
    float min_share, burst_sigma;
    Ramp ramp;
    Py_buffer views[3], stats[2], out_view;
    Work work = {0};
    PyObject *result = NULL;

    out_view.obj = NULL;
    stats[0].obj = stats[1].obj = NULL;
    if (!PyArg_ParseTuple(args, "OOKOOOOOffO", &data, &groupdq, &saturated, &scale,
                          &intervals, &elapsed, &centre, &spread, &min_share, &burst_sigma,
                          &out)) {
        return NULL;
    }
    if (get_ramp(&ramp, views, data, groupdq, saturated, scale, intervals, elapsed) < 0) {
        goto done;
    }
    const Py_ssize_t nint = ramp.ngroups - 1, ny = ramp.ny, nx = ramp.nx;
    if (get_floats(centre, &stats[0], nint, "centre") < 0
            || get_floats(spread, &stats[1], nint, "spread") < 0) {
        goto done;
    }
    if (PyObject_GetBuffer(out, &out_view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE | PyBUF_FORMAT)
            < 0) {
        out_view.obj = NULL;
        goto done;
    }
    if (item_type(out_view.format) != 'h'
            || out_view.len != ny * nx * (Py_ssize_t)sizeof(int16_t)) {
        PyErr_Format(PyExc_ValueError, "scan: out must be %zd x %zd int16 values", ny, nx);
        goto done;
    }
    if (nint > INT16_MAX - 1) {
        PyErr_SetString(PyExc_ValueError, "scan: too many reads for int16 burst reads");
        goto done;
    }
    if (alloc_work(&work, &ramp) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    const float *middle = (const float *)stats[0].buf, *scatter = (const float *)stats[1].buf;
    int16_t *burst = (int16_t *)out_view.buf;
    const Py_ssize_t block = block_rows(&ramp);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t y0 = 0; y0 < ny; y0 += block) {
        const Rows rows = {y0, 1, ny - y0 < block ? ny - y0 : block};
        burst_block(&ramp, &rows, &work, middle, scatter, min_share, burst_sigma,
                    burst + y0 * nx);
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    free_work(&work);
    if (out_view.obj != NULL) {
        PyBuffer_Release(&out_view);
    }
    release_views(stats, 2);
    release_ramp(&ramp, views);
    return result;
}

/* ------------------------------------------------------------------ select */

/* The float's bits as an unsigned key in the order of the values (-0 just below +0). */
static inline uint32_t
order_key(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

static inline float
key_value(uint32_t key)
{
    uint32_t bits = (key & 0x80000000u) ? key & 0x7fffffffu : ~key;
    float value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}

/* Radix selection digits: bits 21-31, 10-20 and 0-9 of a key. */
static const int SHIFTS[3] = {21, 10, 0};
static const uint32_t DIGITS[3] = {0x7ffu, 0x7ffu, 0x3ffu};
/* Histograms per pass, summed at the end: consecutive keys of one digit (the common case:
 * values of one sign and exponent) then do not wait for each other's increment. */
#define LANES 4

/* The bin of `histogram` (LANES interleaved copies) holding the key of rank k, and k's rank
 * within it. */
static uint32_t
bin_of_rank(const uint32_t *histogram, uint32_t bins, Py_ssize_t *k)
{
    uint32_t bin = 0;
    for (;; bin++) {
        Py_ssize_t count = 0;
        for (int lane = 0; lane < LANES; lane++) {
            count += histogram[lane * bins + bin];
        }
        if (*k < count) {
            return bin;
        }
        *k -= count;
    }
}

/* The key of rank k (0-based) among n `keys` (n >= 1, k < n), by radix selection;
 * `scratch` (n) and `histogram` (LANES x 2048) are work space. */
static uint32_t
select_key(const uint32_t *keys, Py_ssize_t n, Py_ssize_t k, uint32_t *scratch,
           uint32_t *histogram)
{
    uint32_t prefix = 0, prefix_mask = 0;
    const uint32_t *in = keys;
    for (int pass = 0; pass < 3; pass++) {
        const int shift = SHIFTS[pass];
        const uint32_t digit = DIGITS[pass], bins = digit + 1;
        memset(histogram, 0, sizeof(uint32_t) * LANES * bins);
        Py_ssize_t i = 0;
        for (; i + LANES <= n; i += LANES) {
            for (int lane = 0; lane < LANES; lane++) {
                histogram[lane * bins + ((in[i + lane] >> shift) & digit)]++;
            }
        }
        for (; i < n; i++) {
            histogram[(in[i] >> shift) & digit]++;
        }
        const uint32_t bin = bin_of_rank(histogram, bins, &k);
        prefix |= bin << shift;
        prefix_mask |= digit << shift;
        Py_ssize_t kept = 0;  /* the keys of this bin, for the next pass */
        for (i = 0; i < n; i++) {
            const uint32_t key = in[i];
            scratch[kept] = key;
            kept += (key & prefix_mask) == prefix;
        }
        in = scratch;
        n = kept;
    }
    return prefix;
}

/* The key after `key` (of rank `rank`) in the order of the n `keys`: `key` again when more
 * than rank + 1 keys are at most `key`, else the smallest key above it. */
CLONES static uint32_t
next_key(const uint32_t *keys, Py_ssize_t n, Py_ssize_t rank, uint32_t key)
{
    const Py_ssize_t chunk = (Py_ssize_t)1 << 30;  /* counts that fit a uint32 */
    Py_ssize_t at_most = 0;
    for (Py_ssize_t start = 0; start < n; start += chunk) {
        const Py_ssize_t stop = n - start < chunk ? n : start + chunk;
        uint32_t count = 0;
        for (Py_ssize_t i = start; i < stop; i++) {
            count += keys[i] <= key;
        }
        at_most += count;
    }
    if (at_most > rank + 1) {
        return key;
    }
    /* keys[i] - key - 1 wraps the keys at most `key` above every key that is larger, so a
     * plain minimum finds the smallest larger key (one exists: rank + 1 < n) */
    uint32_t distance = UINT32_MAX;
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint32_t d = keys[i] - key - 1u;
        distance = d < distance ? d : distance;
    }
    return key + 1u + distance;
}

/* The order keys of `values` (n), or with `distances` of their distances |value - centre|
 * (the float32 operations of np.abs(values - centre)), into `keys`, with UINT32_MAX (above
 * every finite value's key) for NaN and infinite values, which thus never reach the ranks of
 * the finite ones; how many values are finite. */
CLONES static Py_ssize_t
finite_keys(const float *values, Py_ssize_t n, int distances, float centre, uint32_t *keys)
{
    Py_ssize_t finite = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const float value = values[i];
        uint32_t bits;
        memcpy(&bits, &value, sizeof(bits));
        const int ok = (bits & 0x7f800000u) != 0x7f800000u;
        const uint32_t key = order_key(distances ? fabsf(value - centre) : value);
        keys[i] = ok ? key : UINT32_MAX;
        finite += ok;
    }
    return finite;
}

static PyObject *
middle(PyObject *self, PyObject *args)
{
    PyObject *values;
    double centre = NAN;
    Py_buffer view;

    if (!PyArg_ParseTuple(args, "O|d", &values, &centre)) {
        return NULL;
    }
    const int distances = PyTuple_GET_SIZE(args) > 1;
    if (PyObject_GetBuffer(values, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    if (item_type(view.format) != 'f') {
        PyErr_SetString(PyExc_ValueError, "scan: middle needs float32 values");
        PyBuffer_Release(&view);
        return NULL;
    }
    const Py_ssize_t n = view.len / (Py_ssize_t)sizeof(float);
    uint32_t *work = PyMem_RawMalloc((LANES * 2048 + 2 * (size_t)n + 1) * sizeof(uint32_t));
    if (work == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    uint32_t *histogram = work, *keys = work + LANES * 2048, *scratch = keys + n;
    Py_ssize_t m;
    uint32_t low = 0, high = 0;
    Py_BEGIN_ALLOW_THREADS
    m = finite_keys((const float *)view.buf, n, distances, (float)centre, keys);
    if (m > 0) {
        const Py_ssize_t k = (m - 1) / 2;  /* the lower middle */
        low = select_key(keys, n, k, scratch, histogram);
        high = m % 2 ? low : next_key(keys, n, k, low);
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(work);
    PyBuffer_Release(&view);
    if (m == 0) {
        return PyTuple_New(0);
    }
    if (m % 2) {
        return Py_BuildValue("(d)", (double)key_value(low));
    }
    return Py_BuildValue("(dd)", (double)key_value(low), (double)key_value(high));
}

/* ------------------------------------------------------------------ tracks */

/* Mark the runs of one line (`n` pixels `step` apart) whose neighbours are linked (both
 * burst, burst reads differing by at most one), at least `min_track` long and spanning two
 * reads or more. */
static int
mark_runs(const int16_t *reads, Py_ssize_t step, Py_ssize_t n, Py_ssize_t min_track,
          uint8_t *marks)
{
    int marked = 0;
    Py_ssize_t j = 0;
    while (j < n) {
        int low = reads[j * step], high = low;
        if (low < 0) {
            j++;
            continue;
        }
        const Py_ssize_t start = j;
        while (j + 1 < n) {
            const int here = reads[j * step], next = reads[(j + 1) * step];
            if (next < 0 || abs(next - here) > 1) {
                break;
            }
            low = next < low ? next : low;
            high = next > high ? next : high;
            j++;
        }
        if (j - start + 1 >= min_track && high > low) {
            for (Py_ssize_t i = start; i <= j; i++) {
                marks[i * step] = 1;
            }
            marked = 1;
        }
        j++;
    }
    return marked;
}

/* Bursting pixels of every row (row_bursts, ny) and column (column_bursts, nx): a line with
 * fewer than min_track of them has no run to look for. */
CLONES static void
count_bursts(const int16_t *reads, Py_ssize_t ny, Py_ssize_t nx, Py_ssize_t *row_bursts,
             Py_ssize_t *column_bursts)
{
    for (Py_ssize_t x = 0; x < nx; x++) {
        column_bursts[x] = 0;
    }
    for (Py_ssize_t y = 0; y < ny; y++) {
        const int16_t *row = reads + y * nx;
        Py_ssize_t count = 0;
        for (Py_ssize_t x = 0; x < nx; x++) {
            count += row[x] >= 0;
            column_bursts[x] += row[x] >= 0;
        }
        row_bursts[y] = count;
    }
}

static PyObject *
tracks(PyObject *self, PyObject *args)
{
    PyObject *burst;
    Py_ssize_t ny, nx, min_track;
    Py_buffer view;

    if (!PyArg_ParseTuple(args, "Onnn", &burst, &ny, &nx, &min_track)) {
        return NULL;
    }
    if (PyObject_GetBuffer(burst, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    if (item_type(view.format) != 'h' || ny < 0 || nx < 0
            || view.len != ny * nx * (Py_ssize_t)sizeof(int16_t)) {
        PyErr_Format(PyExc_ValueError, "scan: burst must be %zd x %zd int16 values", ny, nx);
        PyBuffer_Release(&view);
        return NULL;
    }
    uint8_t *marks = PyMem_RawCalloc((size_t)(ny * nx) + 1, 1);
    Py_ssize_t *counts = PyMem_RawMalloc(((size_t)(ny + nx) + 1) * sizeof(Py_ssize_t));
    if (marks == NULL || counts == NULL) {
        PyMem_RawFree(marks);
        PyMem_RawFree(counts);
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    const int16_t *reads = (const int16_t *)view.buf;
    Py_ssize_t track_pixels = 0, burst_pixels = 0, *row_bursts = counts,
               *column_bursts = counts + ny;
    int first = INT16_MAX, last = INT16_MIN, marked = 0;
    Py_BEGIN_ALLOW_THREADS
    count_bursts(reads, ny, nx, row_bursts, column_bursts);
    for (Py_ssize_t y = 0; y < ny; y++) {
        burst_pixels += row_bursts[y];
        if (row_bursts[y] >= min_track) {
            marked |= mark_runs(reads + y * nx, 1, nx, min_track, marks + y * nx);
        }
    }
    for (Py_ssize_t x = 0; x < nx; x++) {
        if (column_bursts[x] >= min_track) {
            marked |= mark_runs(reads + x, nx, ny, min_track, marks + x);
        }
    }
    for (Py_ssize_t i = 0; marked && i < ny * nx; i++) {
        if (marks[i]) {
            const int read = reads[i];
            track_pixels++;
            first = read < first ? read : first;
            last = read > last ? read : last;
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(counts);
    PyMem_RawFree(marks);
    PyBuffer_Release(&view);
    if (!track_pixels) {
        first = last = -1;
    }
    return Py_BuildValue("nnii", track_pixels, burst_pixels, first, last);
}

/* ------------------------------------------------------------------ module */

static PyMethodDef scan_methods[] = {
    {"excesses", excesses, METH_VARARGS,
     "excesses(data, groupdq, saturated, scale, intervals, elapsed, row_step, out): every "
     "interval's excess over the mean rate on every row_step-th row, NaN where unusable."},
    {"bursts", bursts, METH_VARARGS,
     "bursts(data, groupdq, saturated, scale, intervals, elapsed, centre, spread, min_share, "
     "burst_sigma, out): every pixel's burst read (-1: none) into out (int16 [ny, nx])."},
    {"middle", middle, METH_VARARGS,
     "middle(values[, centre]): the middle one (odd count) or two (even count) of the finite "
     "float32 values in order, or of their distances to centre when given; () without any."},
    {"tracks", tracks, METH_VARARGS,
     "tracks(burst, ny, nx, min_track): (track pixels, burst pixels, first read, last read)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "hstramp's spatial-scan search (core/scan.py), compiled.",
    -1, scan_methods,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    return PyModule_Create(&scan_module);
}
