/* The ramp fit (hstramp.core.ramp_fit.fixsen): Fixsen slopes on the real read times, in C.
 *
 * The NumPy path of fixsen.py is the reference. This kernel does, for each pixel, the same float
 * operations in the same order as the NumPy code does for a whole block, so the results are the
 * same bits (docs/maths.md, "4.9 The compiled kernel"):
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
 *     the reversed segment list), the rate's numerator over the reads in time order;
 *   - variances, the one-read slope and the DQ collapse follow fit_block and collapse_dq.
 *
 * Pixels are taken in tiles of TILE, and within a tile read by read (as NumPy goes plane by
 * plane): the planes are read in order, the branch-free loops over a tile's pixels vectorise,
 * and the pixels' sums, chains of dependent additions, overlap.
 *
 * A pixel with a segment whose table row does not exist yet (row 0 in row_of_key) is not
 * fitted: its keys are returned as missing and the pixel as failed; Python tabulates the
 * missing segments and calls again for the failed pixels only.
 *
 * Buffers only (no NumPy headers); the GIL is released during the loop. Built with -O3
 * -fno-fast-math -ffp-contract=off (setup.py): no fused multiply-add, IEEE semantics.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clones.h"

#define MAX_EDGES 16
/* The tile loops are CLONES (clones.h): built for AVX2 and for the baseline. */
/* Pixels fitted together. Every step runs read by read over the tile's pixels (as NumPy runs
 * over a block), each pixel with its own running values, so that the reads are read plane by
 * plane and the pixels' sums, which are chains of dependent additions, overlap. */
#define TILE 256
/* Elements from one read to the next in the tile's [ngroups][...] arrays: not a power of two,
 * so that a pixel's reads do not all fall in the same cache set. */
#define LEAD (TILE + 24)

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
    int64_t *failed;
    unsigned char *seen;
    /* the tile: [ngroups][LEAD] offsets and segment rows of each read, [TILE][maxseg] the
     * segments of each pixel, [TILE] per-pixel state */
    Py_ssize_t maxseg;
    float *offset;
    int32_t *code;
    int32_t *sfirst, *slast, *srow;
    int32_t *nseg, *first, *single, *missing_at;
    float *first_value, *single_value, *pgain, *prnoise;
    unsigned *combined, *early;
    int32_t *valid, *state;
    float *values, *zeros;
    double *numerator;
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

/* Close segment first..last of tile pixel i if it has two or more reads: find its exponent and
 * table row, label its reads with the row. A row not built yet is noted as missing and the
 * pixel marked. */
static void
close_segment(Fit *f, Py_ssize_t i, Py_ssize_t first, Py_ssize_t last)
{
    if (first >= last) {
        return;
    }
    int pw = f->optimal ? power_index(f, f->offset[last * LEAD + i], f->pgain[i], f->prnoise[i])
                        : 0;
    int32_t key = (int32_t)(((int64_t)first * f->ngroups + last) * f->npowers + pw);
    int32_t row = f->row_of_key[key];
    if (row == 0) {
        f->missing_at[i] = 1;
        if (!f->seen[key]) {
            f->seen[key] = 1;
            f->missing[f->nmissing++] = key;
        }
        return;
    }
    Py_ssize_t s = i * f->maxseg + f->nseg[i]++;
    f->sfirst[s] = (int32_t)first;
    f->slast[s] = (int32_t)last;
    f->srow[s] = row;
    for (Py_ssize_t k = first; k <= last; k++) {
        f->code[k * LEAD + i] = row;
    }
}

/* The reads of tile pixels p0..p0+width-1: offsets, segments (segment_starts, segment_ends,
 * segment_offsets: a usable read starts a segment after an unusable read or at a jump),
 * rows, DQ. */
CLONES static void
load_tile(Fit *f, Py_ssize_t p0, Py_ssize_t width)
{
    const Py_ssize_t n = f->ngroups;
    const unsigned unusable = f->unusable, jump_flag = f->jump_flag;
    for (Py_ssize_t i = 0; i < width; i++) {
        Py_ssize_t p = p0 + i;
        float g = f->gain[p], r = f->rnoise[p];
        int valid = (g > 0) && isfinite(g) && (r >= 0) && isfinite(r);
        if (f->pixeldq != NULL && (f->pixeldq[p] & f->do_not_use)) {
            valid = 0;
        }
        f->valid[i] = valid;
        f->pgain[i] = g;
        f->prnoise[i] = r;
        f->first[i] = -1;
        f->first_value[i] = 0.0f;
        f->single[i] = -1;
        f->single_value[i] = 0.0f;
        f->nseg[i] = 0;
        f->missing_at[i] = 0;
        f->combined[i] = 0;
        f->numerator[i] = 0.0;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        memset(f->code + k * LEAD, 0, (size_t)width * sizeof(int32_t));
    }
    unsigned *restrict combined = f->combined;
    int32_t *restrict firsts = f->first, *restrict single = f->single;
    int32_t *restrict state = f->state;
    const int32_t *restrict valid = f->valid;
    float *restrict first_value = f->first_value, *restrict single_value = f->single_value;
    float *restrict values = f->values;
    for (Py_ssize_t k = 0; k < n; k++) {
        const float *restrict plane = f->data + f->data_offset + k * f->data_stride + p0;
        if (f->read_scale != NULL && k == 0) {
            plane = f->zeros; /* read 0 is 0, whatever it holds (inf * 0 would be NaN) */
        }
        const uint16_t *restrict flags = f->dq + f->dq_offset + k * f->dq_stride + p0;
        float *restrict offset = f->offset + k * LEAD;
        /* read_scale: read k times its scale, read 0 as 0. Without, times 1, which leaves
         * every finite value as it is (and a value that is not finite is not used). */
        const float scale = f->read_scale == NULL || k == 0 ? 1.0f : f->read_scale[k];
        /* 1. values, usable (bit 0), jump (bit 1); whether a segment ends at read k - 1
         * (branch-free, so that the compiler vectorises it) */
        int32_t closing = 0;
        for (Py_ssize_t i = 0; i < width; i++) {
            float v = plane[i] * scale;
            uint32_t d = flags[i];
            combined[i] |= d;
            /* v - v is +0 for a finite v, NaN for inf and NaN (isfinite, vectorised) */
            int32_t use = valid[i] & ((d & unusable) == 0) & ((v - v) == 0.0f);
            int32_t jumped = (d & jump_flag) != 0;
            values[i] = v;
            state[i] = use | (jumped << 1);
            closing += (firsts[i] >= 0) & (state[i] != 1);
        }
        /* 2. close the segments that end at read k - 1 (few: the next read is bad or a jump) */
        if (closing) {
            for (Py_ssize_t i = 0; i < width; i++) {
                if (firsts[i] >= 0 && state[i] != 1) {
                    close_segment(f, i, firsts[i], k - 1);
                    firsts[i] = -1;
                }
            }
        }
        /* 3. segment starts, offsets, the first usable read (branch-free) */
        const int32_t kk = (int32_t)k, nn = (int32_t)n;
        for (Py_ssize_t i = 0; i < width; i++) {
            float v = values[i], held = first_value[i], kept = single_value[i];
            int32_t st = state[i], first = firsts[i], one = single[i];
            int32_t use = st & 1, jumped = st >> 1;
            int32_t start = use & (first < 0);
            int32_t fresh = use & (one < 0);
            int32_t which = kk + jumped * (nn - kk); /* n: the first usable read is a jump */
            single[i] = fresh ? which : one;
            single_value[i] = fresh ? v : kept;
            firsts[i] = start ? kk : (first | (use - 1)); /* -1 after an unusable read */
            first_value[i] = start ? v : held;
        }
        /* the offset from the segment's first read; 0 (+0: held, always finite, minus itself)
         * for an unusable read */
        for (Py_ssize_t i = 0; i < width; i++) {
            float held = first_value[i], v = values[i];
            float minuend = (state[i] & 1) ? v : held;
            offset[i] = minuend - held;
        }
        if (k == 1 || n == 1) {
            memcpy(f->early, combined, (size_t)width * sizeof(unsigned));
        }
    }
    for (Py_ssize_t i = 0; i < width; i++) {
        if (f->first[i] >= 0) {
            close_segment(f, i, f->first[i], n - 1);
        }
    }
}

/* Fit tile pixels 0..width-1 (pixels p0 + i), whose segments all have rows. */
CLONES static void
fit_tile(Fit *f, Py_ssize_t p0, Py_ssize_t width)
{
    const Py_ssize_t n = f->ngroups, cap = f->capacity;
    /* sum_k (W a_k)(row of read k) offset_k in time order, as NumPy sums it (row 0 is zero) */
    for (Py_ssize_t k = 0; k < n; k++) {
        const double *column = f->wcoef + k * cap;
        const int32_t *code = f->code + k * LEAD;
        const float *offset = f->offset + k * LEAD;
        double *numerator = f->numerator;
        for (Py_ssize_t i = 0; i < width; i++) {
            numerator[i] += column[code[i]] * (double)offset[i];
        }
    }
    for (Py_ssize_t i = 0; i < width; i++) {
        if (f->missing_at[i]) {
            continue; /* fitted again once its segments are tabulated */
        }
        Py_ssize_t p = p0 + i;
        const int32_t *srow = f->srow + i * f->maxseg;
        const int32_t *sfirst = f->sfirst + i * f->maxseg, *slast = f->slast + i * f->maxseg;
        Py_ssize_t nseg = f->nseg[i];
        double information = 0.0, wr = 0.0, wp = 0.0, span = 0.0, length = 0.0;
        for (Py_ssize_t s = nseg - 1; s >= 0; s--) {
            int32_t row = srow[s];
            information += f->information[row];
            wr += f->wrnoise[row];
            wp += f->wpoisson[row];
            span += f->span[row];
            length += (double)f->length[row];
        }
        double rate = f->numerator[i] / (information > 0 ? information : NAN);
        double g = (double)f->pgain[i], r = (double)f->prnoise[i];
        double scale = 1.0 / (information * information);
        double var_rnoise = r * r * wr * scale;
        double var_poisson = max_zero(rate) / g * wp * scale;
        Py_ssize_t single = f->single[i];
        int one_read = !f->suppress_one_group && information == 0 && single > 0 && single < n;
        if (one_read) {
            double t = f->times[single];
            rate = (double)f->single_value[i] / t;
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
        /* sqrt of a NaN is that NaN: no library call for errno */
        f->err[o] = (float)(isnan(total) ? total : sqrt(total));
        f->samp[o] = (int16_t)length;
        f->time[o] = (float)span;
        unsigned combined = f->combined[i];
        if (f->pixeldq != NULL) {
            combined |= f->pixeldq[p];
        }
        combined &= ~f->removed & 0xFFFFu;
        combined |= f->early[i] & f->saturated;
        if (isnan(rate)) {
            combined |= f->no_slope;
        }
        f->dqout[o] = (uint16_t)combined;
        if (!f->save) {
            continue;
        }
        int64_t pixel = f->pixel_base + p;
        if (one_read) {
            Py_ssize_t j = f->s_count++;
            f->s_ordinal[j] = 0;
            f->s_pixel[j] = pixel;
            f->s_slope[j] = rate;
            f->s_vp[j] = var_poisson;
            f->s_vr[j] = var_rnoise;
            f->s_first[j] = f->s_last[j] = (int16_t)single;
            f->s_power[j] = 0.0f;
            f->s_weight[j] = 1.0;
            continue;
        }
        double positive = max_zero(rate);
        for (Py_ssize_t s = 0; s < nseg; s++) {
            int32_t row = srow[s];
            double slope = 0.0;
            for (Py_ssize_t k = sfirst[s]; k <= slast[s]; k++) {
                double contribution = f->coef[k * cap + row] * (double)f->offset[k * LEAD + i];
                slope = (k == sfirst[s]) ? contribution : slope + contribution;
            }
            double own = f->information[row];
            double own_scale = 1.0 / (own * own);
            Py_ssize_t j = f->s_count++;
            f->s_ordinal[j] = (int16_t)s;
            f->s_pixel[j] = pixel;
            f->s_slope[j] = slope;
            f->s_vp[j] = positive / g * f->wpoisson[row] * own_scale;
            f->s_vr[j] = r * r * f->wrnoise[row] * own_scale;
            f->s_first[j] = (int16_t)sfirst[s];
            f->s_last[j] = (int16_t)slast[s];
            f->s_power[j] = f->power[row];
            f->s_weight[j] = own / information;
        }
    }
}

/* Fit every pixel of the block, or the `count` pixels listed in `pixels`. A pixel with a
 * segment whose table row is not built yet is not fitted: it goes to `failed`, its missing
 * keys to `missing`. Return the number of failed pixels. */
static Py_ssize_t
run(Fit *f, const int64_t *pixels, Py_ssize_t count)
{
    Py_ssize_t nfailed = 0;
    Py_ssize_t total = pixels == NULL ? f->npix : count;
    for (Py_ssize_t j0 = 0; j0 < total; j0 += TILE) {
        Py_ssize_t width = total - j0 < TILE ? total - j0 : TILE;
        if (pixels == NULL) {
            load_tile(f, j0, width);
            fit_tile(f, j0, width);
            for (Py_ssize_t i = 0; i < width; i++) {
                if (f->missing_at[i]) {
                    f->failed[nfailed++] = j0 + i;
                }
            }
            continue;
        }
        for (Py_ssize_t j = j0; j < j0 + width; j++) {
            /* listed pixels one at a time (a tile of one) */
            load_tile(f, (Py_ssize_t)pixels[j], 1);
            fit_tile(f, (Py_ssize_t)pixels[j], 1);
            if (f->missing_at[0]) {
                f->failed[nfailed++] = pixels[j];
            }
        }
    }
    return nfailed;
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
    "fit(inputs, flags, tables, outputs, segments, pixels) -> (nfailed, nmissing, nsegments)\n\n"
    "Fit the pixels of one block, or those listed (see hstramp.core.ramp_fit.compiled).";

static PyObject *
fit(PyObject *self, PyObject *args)
{
    PyObject *inputs, *flags, *tables, *outputs, *segments, *pixels;
    if (!PyArg_ParseTuple(args, "O!O!O!O!OO", &PyTuple_Type, &inputs, &PyTuple_Type, &flags,
                          &PyTuple_Type, &tables, &PyTuple_Type, &outputs, &segments, &pixels)) {
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
    PyObject *rate, *err, *vpoisson, *vrnoise, *dqout, *samp, *time_out, *missing, *failed;
    Py_ssize_t out_size;
    if (!PyArg_ParseTuple(outputs, "OOOOOOOnnOO:outputs", &rate, &err, &vpoisson, &vrnoise,
                          &dqout, &samp, &time_out, &f.out_offset, &out_size, &missing,
                          &failed)) {
        return NULL;
    }
    const Py_ssize_t n = f.ngroups;
    if (n < 1 || f.npix < 0 || f.capacity < 1
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
    for (Py_ssize_t key = 0; key < f.nkeys; key++) {
        if (f.row_of_key[key] < 0 || f.row_of_key[key] >= f.capacity) {
            PyErr_SetString(PyExc_ValueError, "rampfit: a segment's table row is out of range");
            goto fail;
        }
    }
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
    GET(f.failed, failed, f.npix, int64_t, 1, "failed");
    const int64_t *listed = NULL;
    Py_ssize_t count = f.npix;
    if (pixels != Py_None) {
        Py_buffer *view = &buffers.views[buffers.count];
        GET(listed, pixels, 0, int64_t, 0, "pixels");
        count = view->len / (Py_ssize_t)sizeof(int64_t);
        for (Py_ssize_t j = 0; j < count; j++) {
            if (listed[j] < 0 || listed[j] >= f.npix) {
                PyErr_SetString(PyExc_ValueError, "rampfit: a listed pixel is outside the block");
                goto fail;
            }
        }
    }
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
        if (f.s_count < 0 || f.s_count + count * per_pixel > f.s_capacity) {
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
    /* scratch: the tile's arrays, and a byte per segment key (seen) */
    f.maxseg = n / 2 > 1 ? n / 2 : 1;
    size_t tile_reads = (size_t)n * LEAD, tile_segments = (size_t)f.maxseg * TILE;
    size_t bytes = tile_reads * (sizeof(float) + sizeof(int32_t))
                   + tile_segments * 3 * sizeof(int32_t)
                   + TILE * (sizeof(double) + 4 * sizeof(int32_t) + 4 * sizeof(float)
                             + 2 * sizeof(unsigned) + 2 * sizeof(float) + 2 * sizeof(int32_t))
                   + (size_t)f.nkeys;
    scratch = PyMem_Calloc(bytes, 1);
    if (scratch == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    {
        char *cursor = (char *)scratch;
#define CARVE(target, type, count) \
        target = (type *)cursor; cursor += (count) * sizeof(type)
        CARVE(f.numerator, double, TILE);
        CARVE(f.offset, float, tile_reads);
        CARVE(f.code, int32_t, tile_reads);
        CARVE(f.sfirst, int32_t, tile_segments);
        CARVE(f.slast, int32_t, tile_segments);
        CARVE(f.srow, int32_t, tile_segments);
        CARVE(f.nseg, int32_t, TILE);
        CARVE(f.first, int32_t, TILE);
        CARVE(f.single, int32_t, TILE);
        CARVE(f.missing_at, int32_t, TILE);
        CARVE(f.first_value, float, TILE);
        CARVE(f.single_value, float, TILE);
        CARVE(f.pgain, float, TILE);
        CARVE(f.prnoise, float, TILE);
        CARVE(f.combined, unsigned, TILE);
        CARVE(f.early, unsigned, TILE);
        CARVE(f.values, float, TILE);
        CARVE(f.zeros, float, TILE);
        CARVE(f.valid, int32_t, TILE);
        CARVE(f.state, int32_t, TILE);
        CARVE(f.seen, unsigned char, f.nkeys);
#undef CARVE
    }
    Py_ssize_t nfailed;
    Py_BEGIN_ALLOW_THREADS
    nfailed = run(&f, listed, count);
    Py_END_ALLOW_THREADS
    PyMem_Free(scratch);
    release_all(&buffers);
    return Py_BuildValue("nnn", nfailed, f.nmissing, f.s_count);

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
