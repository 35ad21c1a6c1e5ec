/* The ramp fit (hstramp.core.ramp_fit.fixsen), pixel by pixel: Fixsen slopes on the real read times.
 *
 * The NumPy path of fixsen.py is the reference. This kernel does, for one pixel at a time, the
 * same float operations in the same order as the NumPy code does for a whole block:
 *
 *   - the read values are float32 (read k times read_scale[k] in float32, read 0 set to 0);
 *     a read is usable when the pixel is valid, its DQ has no "unusable" bit and it is finite;
 *   - a segment starts at a usable read after an unusable one or at a jump; each read's offset
 *     from its segment's first read is a float32 subtraction (0 for unusable reads);
 *   - a segment of two or more reads gets its Fixsen exponent from its S/N, computed in double
 *     as snr_power_index does, and its row in the call's segment tables (SegmentCache): the
 *     tables themselves (coefficients and variances, functions of the read times only) are
 *     computed by NumPy and handed in, so they are the same numbers on both paths;
 *   - the per-pixel sums over segments run from the last segment back (NumPy's bincount over
 *     the reversed segment list), the rate's numerator over every read in time order;
 *   - variances, the one-read slope and the DQ collapse follow fit_block and collapse_dq.
 *
 * A segment whose table row does not exist yet (row 0 in row_of_key) stops the fit at that
 * pixel: the kernel then only scans the remaining pixels for the segment keys that are missing,
 * returns them, and Python tabulates them and calls again from that pixel.
 *
 * Buffers only (no NumPy headers); the GIL is released during the loop. Built with -O3
 * -fno-fast-math -ffp-contract=off (setup.py): no fused multiply-add, IEEE semantics.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_EDGES 16
/* Pixels whose reads are gathered at once: the reads of a pixel are read planes apart (4 MB in
 * a full frame, the same cache set), so a tile's reads are first copied row by row into a
 * small pixel-major buffer. */
#define TILE 256

typedef struct {
    /* inputs: read k of pixel p is at data[data_offset + k * data_stride + p] (dq likewise) */
    const float *data;
    Py_ssize_t data_offset, data_stride;
    const uint16_t *dq;
    Py_ssize_t dq_offset, dq_stride;
    const float *gain, *rnoise; /* [npix] */
    const uint16_t *pixeldq;    /* [npix] or NULL */
    const float *read_scale;    /* [ngroups] or NULL */
    const double *times;        /* [ngroups] */
    Py_ssize_t ngroups, npix;
    /* flags */
    unsigned do_not_use, unusable, jump_flag, saturated, removed, no_slope;
    double edges[MAX_EDGES];
    int nedges, npowers;
    int optimal, suppress_one_group;
    /* segment tables: column `row` of [ngroups, capacity] or [capacity] arrays */
    const int32_t *row_of_key;
    Py_ssize_t nkeys, capacity;
    const double *wcoef, *coef, *information, *wrnoise, *wpoisson, *span;
    const int16_t *length;
    const float *power;
    /* outputs [..., out_offset + p] */
    float *rate, *err, *vpoisson, *vrnoise, *time;
    uint16_t *dqout;
    int16_t *samp;
    Py_ssize_t out_offset;
    /* per-segment lists (save_segments) */
    int save;
    int16_t *s_ordinal, *s_first, *s_last;
    int64_t *s_pixel;
    double *s_slope, *s_vp, *s_vr, *s_weight;
    float *s_power;
    Py_ssize_t s_capacity, s_count;
    int64_t pixel_base;
    /* missing segment keys */
    int32_t *missing;
    Py_ssize_t nmissing;
    unsigned char *seen;
    /* the reads of a tile of TILE pixels, pixel by pixel: [TILE][ngroups] */
    float *tile_data;
    uint16_t *tile_dq;
    /* scratch [ngroups] */
    float *y, *offset;
    int32_t *sfirst, *slast, *skey, *srow;
} Fit;

/* np.maximum(x, 0): NaN stays NaN, -0 becomes +0. */
static inline double
max_zero(double x)
{
    if (isnan(x)) {
        return x;
    }
    return x > 0.0 ? x : 0.0;
}

/* Index into POWERS from a segment's signal (snr_power_index). */
static int
power_index(const Fit *f, float signal, float gain, float rnoise)
{
    double electrons = (double)signal * (double)gain;
    double rg = (double)rnoise * (double)gain;
    double noise = rg * rg + electrons;
    double snr = (electrons > 0 && noise > 0) ? electrons / sqrt(noise) : 0.0;
    int below = 0;
    for (int e = 0; e < f->nedges; e++) {
        below += snr < f->edges[e];
    }
    return f->nedges - below;
}

/* Close the segment first..last of pixel p if it has two or more reads: its key goes to skey. */
static inline Py_ssize_t
close_segment(const Fit *f, Py_ssize_t nseg, Py_ssize_t first, Py_ssize_t last, float g, float r)
{
    if (first >= last) {
        return nseg;
    }
    int pw = f->optimal ? power_index(f, f->offset[last], g, r) : 0;
    f->sfirst[nseg] = (int32_t)first;
    f->slast[nseg] = (int32_t)last;
    f->skey[nseg] = (int32_t)(((int64_t)first * f->ngroups + last) * f->npowers + pw);
    return nseg + 1;
}

/* Load pixel p's reads (y, offset) and find its segments of two or more reads (sfirst, slast,
 * skey); return how many. *combined: the OR of its reads' DQ; *early: of the first two;
 * *single: its first usable read (-1 if none, or if it follows a jump).
 *
 * One pass over the reads: a usable read starts a segment after an unusable read or at a jump
 * (segment_starts), and the open segment ends at the read before (segment_ends). */
static Py_ssize_t
load_segments(const Fit *f, Py_ssize_t p, const float *reads, const uint16_t *flags,
              unsigned *combined, unsigned *early, Py_ssize_t *single)
{
    const Py_ssize_t n = f->ngroups;
    const float *read_scale = f->read_scale;
    const unsigned unusable = f->unusable, jump_flag = f->jump_flag;
    float *y = f->y, *offset = f->offset;
    const float g = f->gain[p], r = f->rnoise[p];
    int valid = (g > 0) && isfinite(g) && (r >= 0) && isfinite(r);
    if (f->pixeldq != NULL && (f->pixeldq[p] & f->do_not_use)) {
        valid = 0;
    }
    unsigned all = 0;
    Py_ssize_t nseg = 0, first = -1, first_usable = -1;
    float first_value = 0.0f;
    for (Py_ssize_t k = 0; k < n; k++) {
        float v = reads[k];
        if (read_scale != NULL) {
            v = (k == 0) ? 0.0f : v * read_scale[k];
        }
        unsigned d = flags[k];
        all |= d;
        if (k == 1) {
            *early = all;
        }
        y[k] = v;
        if (!(valid && !(d & unusable) && isfinite(v))) {
            offset[k] = 0.0f;
            if (first >= 0) {
                nseg = close_segment(f, nseg, first, k - 1, g, r);
                first = -1;
            }
            continue;
        }
        if (first_usable < 0) {
            first_usable = (d & jump_flag) ? n : k;
        }
        if (first < 0 || (d & jump_flag)) {
            if (first >= 0) {
                nseg = close_segment(f, nseg, first, k - 1, g, r);
            }
            first = k;
            first_value = v;
        }
        offset[k] = v - first_value;
    }
    if (first >= 0) {
        nseg = close_segment(f, nseg, first, n - 1, g, r);
    }
    if (n == 1) {
        *early = all;
    }
    *combined = all;
    *single = first_usable < n ? first_usable : -1;
    return nseg;
}

/* Record the keys of pixel p's segments that have no table row; return how many it has. */
static Py_ssize_t
note_missing(Fit *f, Py_ssize_t nseg)
{
    Py_ssize_t count = 0;
    for (Py_ssize_t s = 0; s < nseg; s++) {
        int32_t key = f->skey[s];
        if (f->row_of_key[key] != 0) {
            continue;
        }
        count++;
        if (!f->seen[key]) {
            f->seen[key] = 1;
            f->missing[f->nmissing++] = key;
        }
    }
    return count;
}

/* Fit pixel p whose segments all have rows (srow). */
static void
fit_pixel(Fit *f, Py_ssize_t p, Py_ssize_t nseg, unsigned combined, unsigned early,
          Py_ssize_t single)
{
    const Py_ssize_t cap = f->capacity;
    const int32_t *srow = f->srow, *sfirst = f->sfirst, *slast = f->slast;
    const float *offset = f->offset;
    double information = 0.0, wr = 0.0, wp = 0.0, span = 0.0, length = 0.0;
    for (Py_ssize_t s = nseg - 1; s >= 0; s--) {
        int32_t row = srow[s];
        information += f->information[row];
        wr += f->wrnoise[row];
        wp += f->wpoisson[row];
        span += f->span[row];
        length += (double)f->length[row];
    }
    /* NumPy sums W a_k offset_k over every read in time order; the reads outside the fitted
     * segments add +0 (a zero coefficient times an offset of +0), which leaves any sum as it is
     * (the sum starts at +0 and so is never -0): only the segments' reads are added. */
    double numerator = 0.0;
    for (Py_ssize_t s = 0; s < nseg; s++) {
        const double *column = f->wcoef + srow[s];
        for (Py_ssize_t k = sfirst[s]; k <= slast[s]; k++) {
            numerator += column[k * cap] * (double)offset[k];
        }
    }
    double rate = numerator / (information > 0 ? information : NAN);
    double g = (double)f->gain[p], r = (double)f->rnoise[p];
    double scale = 1.0 / (information * information);
    double var_rnoise = r * r * wr * scale;
    double var_poisson = max_zero(rate) / g * wp * scale;
    Py_ssize_t single_read = -1;
    if (!f->suppress_one_group && information == 0 && single > 0) {
        double t = f->times[single];
        single_read = single;
        rate = (double)f->y[single] / t;
        var_rnoise = 2.0 * (r * r) / (t * t);
        var_poisson = max_zero(rate) / g / t;
        length = 1.0;
        span = t;
    }
    double total = var_poisson + var_rnoise;
    Py_ssize_t o = f->out_offset + p;
    f->rate[o] = (float)rate;
    f->vpoisson[o] = (float)var_poisson;
    f->vrnoise[o] = (float)var_rnoise;
    /* sqrt of a NaN is that NaN: skip the library call made for errno */
    f->err[o] = (float)(isnan(total) ? total : sqrt(total));
    f->samp[o] = (int16_t)length;
    f->time[o] = (float)span;
    if (f->pixeldq != NULL) {
        combined |= f->pixeldq[p];
    }
    combined &= ~f->removed & 0xFFFFu;
    combined |= early & f->saturated;
    if (isnan(rate)) {
        combined |= f->no_slope;
    }
    f->dqout[o] = (uint16_t)combined;
    if (!f->save) {
        return;
    }
    int64_t pixel = f->pixel_base + p;
    if (single_read >= 0) {
        Py_ssize_t i = f->s_count++;
        f->s_ordinal[i] = 0;
        f->s_pixel[i] = pixel;
        f->s_slope[i] = rate;
        f->s_vp[i] = var_poisson;
        f->s_vr[i] = var_rnoise;
        f->s_first[i] = f->s_last[i] = (int16_t)single_read;
        f->s_power[i] = 0.0f;
        f->s_weight[i] = 1.0;
        return;
    }
    double positive = max_zero(rate);
    for (Py_ssize_t s = 0; s < nseg; s++) {
        int32_t row = srow[s];
        double slope = 0.0;
        for (Py_ssize_t k = sfirst[s]; k <= slast[s]; k++) {
            double contribution = f->coef[k * cap + row] * (double)offset[k];
            slope = (k == sfirst[s]) ? contribution : slope + contribution;
        }
        double own = f->information[row];
        double own_scale = 1.0 / (own * own);
        Py_ssize_t i = f->s_count++;
        f->s_ordinal[i] = (int16_t)s;
        f->s_pixel[i] = pixel;
        f->s_slope[i] = slope;
        f->s_vp[i] = positive / g * f->wpoisson[row] * own_scale;
        f->s_vr[i] = r * r * f->wrnoise[row] * own_scale;
        f->s_first[i] = (int16_t)sfirst[s];
        f->s_last[i] = (int16_t)slast[s];
        f->s_power[i] = f->power[row];
        f->s_weight[i] = own / information;
    }
}

/* Fit pixels start..npix-1; return the first pixel not fitted (npix when all are), or -1 on a
 * bad table row. */
static Py_ssize_t
run(Fit *f, Py_ssize_t start)
{
    const Py_ssize_t n = f->ngroups;
    Py_ssize_t stopped = f->npix;
    for (Py_ssize_t p = start; p < f->npix; p++) {
        Py_ssize_t t = (p - start) % TILE;
        if (t == 0) {
            Py_ssize_t width = f->npix - p < TILE ? f->npix - p : TILE;
            for (Py_ssize_t k = 0; k < n; k++) {
                const float *plane = f->data + f->data_offset + k * f->data_stride + p;
                const uint16_t *dq_plane = f->dq + f->dq_offset + k * f->dq_stride + p;
                for (Py_ssize_t i = 0; i < width; i++) {
                    f->tile_data[i * n + k] = plane[i];
                    f->tile_dq[i * n + k] = dq_plane[i];
                }
            }
        }
        unsigned combined = 0, early = 0;
        Py_ssize_t single = -1;
        Py_ssize_t nseg = load_segments(f, p, f->tile_data + t * n, f->tile_dq + t * n, &combined,
                                        &early, &single);
        if (note_missing(f, nseg) > 0 && stopped == f->npix) {
            stopped = p;
        }
        if (stopped < f->npix) {
            continue; /* only scanning for missing keys from here on */
        }
        for (Py_ssize_t s = 0; s < nseg; s++) {
            int32_t row = f->row_of_key[f->skey[s]];
            if (row <= 0 || row >= f->capacity) {
                return -1;
            }
            f->srow[s] = row;
        }
        fit_pixel(f, p, nseg, combined, early, single);
    }
    return stopped;
}

/* ------------------------------------------------------------------ argument plumbing */

#define NBUF 40

typedef struct {
    Py_buffer views[NBUF];
    int count;
} Buffers;

static void
release_all(Buffers *b)
{
    for (int i = 0; i < b->count; i++) {
        PyBuffer_Release(&b->views[i]);
    }
    b->count = 0;
}

/* Get a contiguous buffer of at least `items` items of `size` bytes (writable if asked). */
static void *
get_buffer(Buffers *b, PyObject *object, Py_ssize_t items, Py_ssize_t size, int writable,
           const char *name)
{
    if (b->count >= NBUF) {
        PyErr_SetString(PyExc_RuntimeError, "rampfit: too many buffers");
        return NULL;
    }
    Py_buffer *view = &b->views[b->count];
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, view, flags) < 0) {
        PyErr_Format(PyExc_ValueError, "rampfit: %s is not a contiguous%s buffer", name,
                     writable ? " writable" : "");
        return NULL;
    }
    b->count++;
    if (view->len < items * size) {
        PyErr_Format(PyExc_ValueError, "rampfit: %s holds %zd bytes, needs %zd", name, view->len,
                     items * size);
        return NULL;
    }
    return view->buf;
}

#define GET(target, object, items, type, writable, name)                                   \
    do {                                                                                   \
        target = (type *)get_buffer(&buffers, object, items, (Py_ssize_t)sizeof(type),     \
                                    writable, name);                                       \
        if (target == NULL) {                                                              \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

static const char fit_doc[] =
    "fit(inputs, flags, tables, outputs, segments, start) -> (stopped, nmissing, nsegments)\n\n"
    "Fit pixels start..npix-1 of one block (see hstramp.core.ramp_fit.compiled).";

static PyObject *
fit(PyObject *self, PyObject *args)
{
    PyObject *inputs, *flags, *tables, *outputs, *segments;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "O!O!O!O!On", &PyTuple_Type, &inputs, &PyTuple_Type, &flags,
                          &PyTuple_Type, &tables, &PyTuple_Type, &outputs, &segments, &start)) {
        return NULL;
    }
    Fit f;
    memset(&f, 0, sizeof(f));
    Buffers buffers;
    buffers.count = 0;
    void *scratch = NULL;
    PyObject *data, *dq, *gain, *rnoise, *pixeldq, *read_scale, *times, *edges;
    if (!PyArg_ParseTuple(inputs, "OnnOnnOOOOOnn:inputs", &data, &f.data_offset, &f.data_stride,
                          &dq, &f.dq_offset, &f.dq_stride, &gain, &rnoise, &pixeldq, &read_scale,
                          &times, &f.ngroups, &f.npix)) {
        return NULL;
    }
    if (!PyArg_ParseTuple(flags, "IIIIIIOpp:flags", &f.do_not_use, &f.unusable, &f.jump_flag,
                          &f.saturated, &f.removed, &f.no_slope, &edges, &f.optimal,
                          &f.suppress_one_group)) {
        return NULL;
    }
    PyObject *row_of_key, *wcoef, *coef, *information, *wrnoise, *wpoisson, *span, *length, *power;
    if (!PyArg_ParseTuple(tables, "OOOOOOOOOn:tables", &row_of_key, &wcoef, &coef, &information,
                          &wrnoise, &wpoisson, &span, &length, &power, &f.capacity)) {
        return NULL;
    }
    PyObject *rate, *err, *vpoisson, *vrnoise, *dqout, *samp, *time_out, *missing;
    Py_ssize_t out_size;
    if (!PyArg_ParseTuple(outputs, "OOOOOOOnnO:outputs", &rate, &err, &vpoisson, &vrnoise,
                          &dqout, &samp, &time_out, &f.out_offset, &out_size, &missing)) {
        return NULL;
    }
    const Py_ssize_t n = f.ngroups;
    if (n < 1 || f.npix < 0 || start < 0 || start > f.npix || f.capacity < 1
        || f.data_offset < 0 || f.dq_offset < 0 || f.out_offset < 0
        || f.out_offset + f.npix > out_size || (n > 1 && (f.data_stride < f.npix
        || f.dq_stride < f.npix))) {
        PyErr_SetString(PyExc_ValueError, "rampfit: inconsistent sizes");
        return NULL;
    }
    /* inputs */
    GET(f.data, data, f.data_offset + (n - 1) * f.data_stride + f.npix, float, 0, "data");
    GET(f.dq, dq, f.dq_offset + (n - 1) * f.dq_stride + f.npix, uint16_t, 0, "groupdq");
    GET(f.gain, gain, f.npix, float, 0, "gain");
    GET(f.rnoise, rnoise, f.npix, float, 0, "read_noise");
    if (pixeldq != Py_None) {
        GET(f.pixeldq, pixeldq, f.npix, uint16_t, 0, "pixeldq");
    }
    if (read_scale != Py_None) {
        GET(f.read_scale, read_scale, n, float, 0, "read_scale");
    }
    GET(f.times, times, n, double, 0, "times");
    {
        Py_buffer *view = &buffers.views[buffers.count];
        const double *values;
        GET(values, edges, 1, double, 0, "edges");
        Py_ssize_t count = view->len / (Py_ssize_t)sizeof(double);
        if (count > MAX_EDGES) {
            PyErr_SetString(PyExc_ValueError, "rampfit: too many S/N edges");
            goto fail;
        }
        f.nedges = (int)count;
        f.npowers = f.nedges + 1;
        for (int e = 0; e < f.nedges; e++) {
            f.edges[e] = values[e];
        }
    }
    /* tables */
    f.nkeys = n * n * f.npowers;
    if (f.nkeys > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "rampfit: too many reads");
        goto fail;
    }
    GET(f.row_of_key, row_of_key, f.nkeys, int32_t, 0, "row_of_key");
    GET(f.wcoef, wcoef, n * f.capacity, double, 0, "weighted_coefficients");
    GET(f.coef, coef, n * f.capacity, double, 0, "coefficients");
    GET(f.information, information, f.capacity, double, 0, "information");
    GET(f.wrnoise, wrnoise, f.capacity, double, 0, "weighted_rnoise");
    GET(f.wpoisson, wpoisson, f.capacity, double, 0, "weighted_poisson");
    GET(f.span, span, f.capacity, double, 0, "span");
    GET(f.length, length, f.capacity, int16_t, 0, "length");
    GET(f.power, power, f.capacity, float, 0, "power");
    /* outputs */
    GET(f.rate, rate, out_size, float, 1, "rate");
    GET(f.err, err, out_size, float, 1, "err");
    GET(f.vpoisson, vpoisson, out_size, float, 1, "var_poisson");
    GET(f.vrnoise, vrnoise, out_size, float, 1, "var_rnoise");
    GET(f.dqout, dqout, out_size, uint16_t, 1, "dq");
    GET(f.samp, samp, out_size, int16_t, 1, "samp");
    GET(f.time, time_out, out_size, float, 1, "time");
    GET(f.missing, missing, f.nkeys, int32_t, 1, "missing");
    if (segments != Py_None) {
        PyObject *ordinal, *pixel, *slope, *svp, *svr, *first, *last, *spower, *weight;
        long long pixel_base;
        if (!PyArg_ParseTuple(segments, "OOOOOOOOOnnL:segments", &ordinal, &pixel, &slope, &svp,
                              &svr, &first, &last, &spower, &weight, &f.s_count, &f.s_capacity,
                              &pixel_base)) {
            goto fail;
        }
        f.pixel_base = (int64_t)pixel_base;
        Py_ssize_t per_pixel = n / 2 > 1 ? n / 2 : 1;
        if (f.s_count < 0 || f.s_count + (f.npix - start) * per_pixel > f.s_capacity) {
            PyErr_SetString(PyExc_ValueError, "rampfit: segment lists too short");
            goto fail;
        }
        f.save = 1;
        GET(f.s_ordinal, ordinal, f.s_capacity, int16_t, 1, "ordinal");
        GET(f.s_pixel, pixel, f.s_capacity, int64_t, 1, "pixel");
        GET(f.s_slope, slope, f.s_capacity, double, 1, "slope");
        GET(f.s_vp, svp, f.s_capacity, double, 1, "segment var_poisson");
        GET(f.s_vr, svr, f.s_capacity, double, 1, "segment var_rnoise");
        GET(f.s_first, first, f.s_capacity, int16_t, 1, "first_read");
        GET(f.s_last, last, f.s_capacity, int16_t, 1, "last_read");
        GET(f.s_power, spower, f.s_capacity, float, 1, "segment power");
        GET(f.s_weight, weight, f.s_capacity, double, 1, "weight");
    }
    /* scratch: sfirst, slast, skey, srow (int32), a tile's reads and flags, y, offset (float),
     * seen (a byte per key) */
    size_t bytes = (size_t)n * (2 * sizeof(float) + 4 * sizeof(int32_t))
                   + (size_t)n * TILE * (sizeof(float) + sizeof(uint16_t)) + (size_t)f.nkeys;
    scratch = PyMem_Calloc(bytes, 1);
    if (scratch == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    {
        char *cursor = (char *)scratch;
        f.sfirst = (int32_t *)cursor; cursor += n * sizeof(int32_t);
        f.slast = (int32_t *)cursor; cursor += n * sizeof(int32_t);
        f.skey = (int32_t *)cursor; cursor += n * sizeof(int32_t);
        f.srow = (int32_t *)cursor; cursor += n * sizeof(int32_t);
        f.tile_data = (float *)cursor; cursor += n * TILE * sizeof(float);
        f.y = (float *)cursor; cursor += n * sizeof(float);
        f.offset = (float *)cursor; cursor += n * sizeof(float);
        f.tile_dq = (uint16_t *)cursor; cursor += n * TILE * sizeof(uint16_t);
        f.seen = (unsigned char *)cursor;
    }
    Py_ssize_t stopped;
    Py_BEGIN_ALLOW_THREADS
    stopped = run(&f, start);
    Py_END_ALLOW_THREADS
    if (stopped < 0) {
        PyErr_SetString(PyExc_ValueError, "rampfit: a segment's table row is out of range");
        goto fail;
    }
    PyMem_Free(scratch);
    release_all(&buffers);
    return Py_BuildValue("nnn", stopped, f.nmissing, f.s_count);

fail:
    PyMem_Free(scratch);
    release_all(&buffers);
    return NULL;
}

static PyMethodDef rampfit_methods[] = {
    {"fit", fit, METH_VARARGS, fit_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rampfit_module = {
    PyModuleDef_HEAD_INIT, "_rampfit",
    "hstramp's compiled ramp fit (Fixsen weights on the real read times); "
    "see hstramp.core.ramp_fit.compiled.", -1, rampfit_methods,
};

PyMODINIT_FUNC
PyInit__rampfit(void)
{
    return PyModule_Create(&rampfit_module);
}
