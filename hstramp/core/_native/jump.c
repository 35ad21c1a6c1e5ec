/* Jump detection's primary search, pixel by pixel: the compiled twin of the NumPy path.
 *
 * hstramp/core/jump/twopoint.py is the reference. This file computes, for each pixel of a
 * range, exactly what its functions compute there: the difference rates (_differences), the
 * sorting order with the difference index in the lowest bits of each key (_sorting), the
 * clipped, interval-weighted median (_median), the expected noise and the largest ratio
 * (_outliers), and the search repeated until no ratio is above its threshold
 * (_search_round). Every float32 operation is the one NumPy does, in the same order, with
 * float64 where NumPy promotes to it; the build uses -ffp-contract=off (no fused
 * multiply-add) and no fast-math, so the flags are identical. The flagging of neighbours
 * and of reads after large jumps stays in Python (it works on the list of jumps this
 * returns).
 *
 * One case is not reproduced: a difference rate that overflows to +-inf (reads near
 * 3e38). NumPy's sorting keys then become NaN, whose order depends on its sorting
 * network; the kernel returns None and the caller runs the NumPy path.
 *
 * Buffers come through the buffer protocol (no NumPy headers); the GIL is released
 * while pixels are searched.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Pixels whose reads are gathered together (one contiguous run per read). */
#define CHUNK 64

/* Sort key of unusable differences: _sorting._LAST. */
static const float LAST = 3e38f;

/* A growable list of jumps (PrimaryJumps' four columns). */
typedef struct {
    Py_ssize_t size, capacity;
    int64_t *read, *pixel;
    float *ratio, *amplitude;
} Jumps;

static int
jumps_add(Jumps *jumps, int64_t read, int64_t pixel, float ratio, float amplitude)
{
    if (jumps->size == jumps->capacity) {
        Py_ssize_t capacity = jumps->capacity ? 2 * jumps->capacity : 1024;
        int64_t *r = realloc(jumps->read, capacity * sizeof(int64_t));
        if (r) jumps->read = r;
        int64_t *p = realloc(jumps->pixel, capacity * sizeof(int64_t));
        if (p) jumps->pixel = p;
        float *q = realloc(jumps->ratio, capacity * sizeof(float));
        if (q) jumps->ratio = q;
        float *a = realloc(jumps->amplitude, capacity * sizeof(float));
        if (a) jumps->amplitude = a;
        if (!r || !p || !q || !a) {
            return -1;
        }
        jumps->capacity = capacity;
    }
    jumps->read[jumps->size] = read;
    jumps->pixel[jumps->size] = pixel;
    jumps->ratio[jumps->size] = ratio;
    jumps->amplitude[jumps->size] = amplitude;
    jumps->size++;
    return 0;
}

static void
jumps_free(Jumps *jumps)
{
    free(jumps->read);
    free(jumps->pixel);
    free(jumps->ratio);
    free(jumps->amplitude);
}

/* What every pixel of a call shares. */
typedef struct {
    Py_ssize_t ngroups, ndiff, npix;
    const float *data;         /* [ngroups][npix] */
    const uint16_t *dq;        /* [ngroups][npix] */
    const uint16_t *pixeldq;   /* [npix] or NULL */
    const float *read_scale;   /* [ngroups] or NULL */
    const double *times;       /* [ngroups] */
    const float *gain, *read_noise;  /* [npix] */
    const float *thresholds;   /* threshold_table */
    Py_ssize_t nthresholds;
    unsigned unusable;         /* blocks.UNUSABLE */
    Py_ssize_t plain_median;   /* _median.PLAIN_MEDIAN */
    int uniform;               /* evenly spaced reads */
    int32_t mask;              /* index bits of a sort key */
    float half_pi, sqrt_half_pi;
    float *steps;              /* [ndiff]: (float32)(times[k + 1] - times[k]) */
} Setup;

/* Scratch space of one pixel. */
typedef struct {
    float *values, *rates, *tested, *intervals, *weights, *variance, *sorted_weights, *centres;
    float *keys;
    unsigned char *usable;
    Py_ssize_t *order;
} Scratch;

static inline float
f32_bits(int32_t bits)
{
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline int32_t
bits_f32(float value)
{
    int32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

/* np.maximum: NaN if either is NaN. */
static inline float
maximum_f32(float a, float b)
{
    if (isnan(a) || isnan(b)) return NAN;
    return a >= b ? a : b;
}

static inline double
maximum_f64(double a, double b)
{
    if (isnan(a) || isnan(b)) return NAN;
    return a >= b ? a : b;
}

/* Difference rates of one pixel (difference_rates / bridged_differences).
 * Returns 1 when the pixel's differences span its own intervals (a gap), 0 when they are
 * consecutive, -1 when a usable rate is infinite (not reproduced: see the top). */
static int
pixel_differences(const Setup *s, Scratch *w, Py_ssize_t *count)
{
    const Py_ssize_t ngroups = s->ngroups;
    const float *values = w->values;
    const unsigned char *usable = w->usable;
    Py_ssize_t starts = 0;
    for (Py_ssize_t k = 1; k < ngroups; k++) {
        starts += usable[k] && !usable[k - 1];
    }
    const int gap = usable[0] + starts >= 2;
    Py_ssize_t n = 0;
    if (!gap) {
        for (Py_ssize_t k = 1; k < ngroups; k++) {
            float rate = NAN;
            if (usable[k] && usable[k - 1]) {
                rate = (values[k] - values[k - 1]) / s->steps[k - 1];
                if (isinf(rate)) return -1;
                n++;
            }
            w->rates[k - 1] = rate;
            w->intervals[k - 1] = s->steps[k - 1];
        }
    }
    else {
        float previous_value = values[0];
        Py_ssize_t previous_read = 0;
        int seen = usable[0];
        for (Py_ssize_t k = 1; k < ngroups; k++) {
            const float interval = (float)(s->times[k] - s->times[previous_read]);
            float rate = NAN;
            if (usable[k] && seen) {
                rate = (values[k] - previous_value) / interval;
                if (isinf(rate)) return -1;
                n++;
            }
            w->rates[k - 1] = rate;
            w->intervals[k - 1] = interval;
            if (usable[k]) {
                previous_value = values[k];
                previous_read = k;
                seen = 1;
            }
        }
    }
    *count = n;
    return gap;
}

/* sorted_order: keys carry the difference index in their lowest bits; ascending. */
static void
sort_order(const Setup *s, Scratch *w)
{
    const Py_ssize_t ndiff = s->ndiff;
    float *keys = w->keys;
    for (Py_ssize_t i = 0; i < ndiff; i++) {
        const float tested = w->tested[i];
        const int32_t bits = (bits_f32(isnan(tested) ? LAST : tested) & ~s->mask) | (int32_t)i;
        const float key = f32_bits(bits);
        Py_ssize_t j = i;
        while (j > 0 && keys[j - 1] > key) {
            keys[j] = keys[j - 1];
            j--;
        }
        keys[j] = key;
    }
    for (Py_ssize_t p = 0; p < ndiff; p++) {
        w->order[p] = bits_f32(keys[p]) & s->mask;
    }
}

/* weighted_median of one pixel. */
static float
weighted_median(const Setup *s, Scratch *w, Py_ssize_t kept)
{
    const Py_ssize_t ndiff = s->ndiff;
    const Py_ssize_t *order = w->order;
    float *sorted_weights = w->sorted_weights, *centres = w->centres;
    for (Py_ssize_t p = 0; p < ndiff; p++) {
        sorted_weights[p] = p < kept ? w->intervals[order[p]] : 0.0f;
    }
    centres[0] = sorted_weights[0] * 0.5f;
    float total = sorted_weights[0];
    for (Py_ssize_t p = 1; p < ndiff; p++) {
        centres[p] = sorted_weights[p] * 0.5f + total;
        total += sorted_weights[p];
    }
    const float half = total * 0.5f;
    Py_ssize_t below = 0;
    for (Py_ssize_t p = 0; p < ndiff; p++) {
        below += centres[p] <= half;
    }
    const Py_ssize_t last = kept - 1 > 0 ? kept - 1 : 0;
    Py_ssize_t low = below - 1 > 0 ? below - 1 : 0;
    if (low > last) low = last;
    const Py_ssize_t high = low + 1 < last ? low + 1 : last;
    float fraction = 0.0f;
    if (high != low) {
        fraction = (half - centres[low]) / (centres[high] - centres[low]);
        if (fraction < 0.0f) fraction = 0.0f;
        else if (fraction > 1.0f) fraction = 1.0f;
    }
    const float value_low = w->tested[order[low]];
    return value_low + fraction * (w->tested[order[high]] - value_low);
}

/* One pixel's search to the end (_search_round repeated). Returns -1 on a failed
 * allocation, else 0. */
static int
search_pixel(const Setup *s, Scratch *w, int uniform, Py_ssize_t initial_count,
             float inverse_gain, float read_variance, int64_t pixel, Jumps *jumps)
{
    const Py_ssize_t ndiff = s->ndiff;
    const int plain = initial_count >= s->plain_median;
    const float half_pi = s->half_pi;
    float *rates = w->rates, *tested = w->tested, *intervals = w->intervals;
    const Py_ssize_t *order = w->order;
    for (;;) {
        Py_ssize_t count = 0;
        for (Py_ssize_t i = 0; i < ndiff; i++) {
            tested[i] = plain ? rates[i] : fabsf(rates[i]);
            count += !isnan(tested[i]);
        }
        sort_order(s, w);
        const int drop = !plain && (count == 2 || count >= 4);
        const Py_ssize_t kept = count - drop;
        const Py_ssize_t dropped = drop ? order[count - 1] : -1;
        float median;
        if (uniform) {
            const Py_ssize_t low = (kept - 1 > 0 ? kept - 1 : 0) / 2;
            median = (tested[order[low]] + tested[order[kept / 2]]) * 0.5f;
        }
        else {
            median = weighted_median(s, w, kept);
        }
        if (kept < 1) median = NAN;

        const float floor = (read_variance == 0.0f && median == 0.0f) ? NAN : read_variance;
        const float poisson = fabsf(median) * inverse_gain;
        float largest;
        Py_ssize_t worst;
        if (uniform) {  /* largest_uniform_outliers */
            const float interval = s->steps[0];
            float sigma2 = (floor + poisson * interval) / (interval * interval);
            const Py_ssize_t highest = count - 1 > 0 ? count - 1 : 0;
            const float below = median - tested[order[0]];
            const float above = tested[order[highest]] - median;
            float deviation = maximum_f32(below, above);
            worst = above >= below ? order[highest] : order[0];
            const double share = plain ? 1.0 / (double)count : 0.0;
            deviation = (float)((double)deviation + (double)sqrtf(half_pi * sigma2) * share);
            sigma2 = (float)((double)sigma2 + (double)(half_pi * sigma2) * share);
            largest = deviation / sqrtf(sigma2);
            if (!(largest >= 0.0f)) largest = -INFINITY;
        }
        else {  /* outlier_ratios and the largest of them */
            float *weights = w->weights, *variance = w->variance;
            float spread = 0.0f, squares = 0.0f;
            for (Py_ssize_t i = 0; i < ndiff; i++) {
                const float dt = intervals[i];
                weights[i] = (!isnan(tested[i]) && i != dropped) ? dt : 0.0f;
                variance[i] = (floor + poisson * dt) / (dt * dt);
                spread += weights[i] / sqrtf(variance[i]);
                squares += weights[i] * weights[i];
            }
            const float median_variance = half_pi * squares / (spread * spread);
            const float shift = plain ? s->sqrt_half_pi / spread : 0.0f;
            const float plain_extra = plain ? median_variance : 0.0f;
            const int uneven = !plain && kept >= 4;
            const double share = (double)half_pi / (double)kept;
            largest = -INFINITY;
            worst = -1;
            for (Py_ssize_t i = 0; i < ndiff; i++) {
                if (isnan(tested[i])) continue;
                float sigma2 = variance[i] + plain_extra;
                if (uneven) {
                    const double excess = maximum_f64(
                        (double)median_variance - (double)variance[i] * share, 0.0);
                    sigma2 = (float)((double)variance[i] + excess);
                }
                float ratio = fabsf(tested[i] - median);
                ratio += shift * weights[i];
                ratio /= sqrtf(sigma2);
                if (ratio > largest) {
                    largest = ratio;
                    worst = i;
                }
            }
        }
        const Py_ssize_t t = count < s->nthresholds - 1 ? count : s->nthresholds - 1;
        if (!(largest > s->thresholds[t])) return 0;
        const float amplitude = (rates[worst] - median) * intervals[worst];
        if (jumps_add(jumps, worst + 1, pixel, largest, amplitude) < 0) return -1;
        rates[worst] = NAN;
    }
}

/* Search pixels [start, stop). Returns 0, 1 (an infinite rate: use NumPy) or -1 (memory). */
static int
search_pixels(const Setup *s, Py_ssize_t start, Py_ssize_t stop, int64_t pixel_offset,
              Jumps *jumps)
{
    const Py_ssize_t ngroups = s->ngroups, ndiff = s->ndiff, npix = s->npix;
    float *block = malloc((size_t)CHUNK * ngroups * sizeof(float));
    float *floats = malloc((size_t)(2 + 9 * ndiff) * sizeof(float) + (size_t)ngroups * sizeof(float));
    unsigned char *usable = malloc((size_t)ngroups);
    Py_ssize_t *order = malloc((size_t)ndiff * sizeof(Py_ssize_t));
    int status = 0;
    if (!block || !floats || !usable || !order) {
        status = -1;
        goto done;
    }
    Scratch w;
    w.values = floats;
    w.rates = w.values + ngroups;
    w.tested = w.rates + ndiff;
    w.intervals = w.tested + ndiff;
    w.weights = w.intervals + ndiff;
    w.variance = w.weights + ndiff;
    w.sorted_weights = w.variance + ndiff;
    w.centres = w.sorted_weights + ndiff;
    w.keys = w.centres + ndiff;
    w.usable = usable;
    w.order = order;

    for (Py_ssize_t first = start; first < stop && status == 0; first += CHUNK) {
        const Py_ssize_t n = stop - first < CHUNK ? stop - first : CHUNK;
        /* Gather the chunk's reads, one contiguous run per read, as [pixel][read]. */
        for (Py_ssize_t k = 0; k < ngroups; k++) {
            const float *row = s->data + k * npix + first;
            for (Py_ssize_t j = 0; j < n; j++) {
                block[j * ngroups + k] = row[j];
            }
        }
        for (Py_ssize_t j = 0; j < n && status == 0; j++) {
            const Py_ssize_t p = first + j;
            const float gain = s->gain[p], read_noise = s->read_noise[p];
            const int valid = gain > 0.0f && isfinite(gain) && read_noise >= 0.0f
                              && isfinite(read_noise);
            if (!valid) continue;
            const unsigned pixeldq = s->pixeldq ? s->pixeldq[p] : 0;
            const float *raw = block + j * ngroups;
            Py_ssize_t nusable = 0;
            for (Py_ssize_t k = 0; k < ngroups; k++) {
                float value = raw[k];
                if (s->read_scale) value = k == 0 ? 0.0f : value * s->read_scale[k];
                w.values[k] = value;
                w.usable[k] = ((s->dq[k * npix + p] | pixeldq) & s->unusable) == 0
                              && isfinite(value);
                nusable += w.usable[k];
            }
            if (nusable < 2) continue;  /* no difference, nothing to test */
            Py_ssize_t count;
            const int gap = pixel_differences(s, &w, &count);
            if (gap < 0) {
                status = 1;
                break;
            }
            const float inverse_gain = 1.0f / gain;
            const float read_variance = 2.0f * read_noise * read_noise;
            if (search_pixel(s, &w, s->uniform && !gap, count, inverse_gain, read_variance,
                             pixel_offset + p, jumps) < 0) {
                status = -1;
            }
        }
    }
done:
    free(block);
    free(floats);
    free(usable);
    free(order);
    return status;
}

/* A required buffer of at least `count` items of `itemsize` bytes. */
static int
check_buffer(const Py_buffer *view, Py_ssize_t count, Py_ssize_t itemsize, const char *name)
{
    if (view->len < count * itemsize) {
        PyErr_Format(PyExc_ValueError, "primary_jumps: %s holds %zd bytes, needs %zd",
                     name, view->len, count * itemsize);
        return -1;
    }
    return 0;
}

/* An optional buffer (None or a buffer). */
static int
optional_buffer(PyObject *object, Py_buffer *view, int *present)
{
    *present = 0;
    if (object == Py_None) return 0;
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS) < 0) return -1;
    *present = 1;
    return 0;
}

static PyObject *
bytes_of(const void *buffer, Py_ssize_t size)
{
    return PyBytes_FromStringAndSize(size ? (const char *)buffer : "", size);
}

PyDoc_STRVAR(primary_jumps_doc,
"primary_jumps(data, dq, pixeldq, read_scale, times, gain, read_noise, thresholds,\n"
"              ngroups, npix, start, stop, pixel_offset, unusable, plain_median)\n"
"--\n\n"
"Every jump the two-point search finds in pixels [start, stop) of a [ngroups, npix]\n"
"cube (C-contiguous float32 data and uint16 dq; pixeldq uint16 [npix] or None;\n"
"read_scale float32 [ngroups] or None; times float64; gain and read_noise float32\n"
"[npix]; thresholds float32 from JumpParameters.threshold_table).\n\n"
"Returns (read, pixel, ratio, amplitude) as bytes of int64, int64, float32, float32\n"
"(pixel is the pixel's index plus pixel_offset), or None when a difference rate is\n"
"infinite (the NumPy path then decides).");

static PyObject *
primary_jumps(PyObject *self, PyObject *args)
{
    Py_buffer data, dq, times, gain, read_noise, thresholds, pixeldq, read_scale;
    PyObject *pixeldq_object, *read_scale_object;
    Py_ssize_t ngroups, npix, start, stop, plain_median;
    long long pixel_offset;
    unsigned int unusable;
    int has_pixeldq = 0, has_read_scale = 0;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "y*y*OOy*y*y*y*nnnnLIn", &data, &dq, &pixeldq_object,
                          &read_scale_object, &times, &gain, &read_noise, &thresholds,
                          &ngroups, &npix, &start, &stop, &pixel_offset, &unusable,
                          &plain_median)) {
        return NULL;
    }
    Setup s;
    memset(&s, 0, sizeof s);
    Jumps jumps = {0, 0, NULL, NULL, NULL, NULL};
    if (optional_buffer(pixeldq_object, &pixeldq, &has_pixeldq) < 0
        || optional_buffer(read_scale_object, &read_scale, &has_read_scale) < 0) {
        goto release;
    }
    if (ngroups < 2 || npix < 0 || start < 0 || stop > npix || start > stop) {
        PyErr_SetString(PyExc_ValueError,
                        "primary_jumps: needs ngroups >= 2 and 0 <= start <= stop <= npix");
        goto release;
    }
    if (check_buffer(&data, ngroups * npix, 4, "data") < 0
        || check_buffer(&dq, ngroups * npix, 2, "dq") < 0
        || check_buffer(&times, ngroups, 8, "times") < 0
        || check_buffer(&gain, npix, 4, "gain") < 0
        || check_buffer(&read_noise, npix, 4, "read_noise") < 0
        || check_buffer(&thresholds, 1, 4, "thresholds") < 0
        || (has_pixeldq && check_buffer(&pixeldq, npix, 2, "pixeldq") < 0)
        || (has_read_scale && check_buffer(&read_scale, ngroups, 4, "read_scale") < 0)) {
        goto release;
    }
    s.ngroups = ngroups;
    s.ndiff = ngroups - 1;
    s.npix = npix;
    s.data = data.buf;
    s.dq = dq.buf;
    s.pixeldq = has_pixeldq ? pixeldq.buf : NULL;
    s.read_scale = has_read_scale ? read_scale.buf : NULL;
    s.times = times.buf;
    s.gain = gain.buf;
    s.read_noise = read_noise.buf;
    s.thresholds = thresholds.buf;
    s.nthresholds = thresholds.len / 4;
    s.unusable = unusable;
    s.plain_median = plain_median;
    s.half_pi = (float)(M_PI / 2);
    s.sqrt_half_pi = sqrtf(s.half_pi);
    int bits = 0;
    while ((((Py_ssize_t)1) << bits) <= s.ndiff - 1) bits++;  /* (ndiff - 1).bit_length() */
    s.mask = (int32_t)((1 << (bits > 1 ? bits : 1)) - 1);
    s.steps = malloc((size_t)s.ndiff * sizeof(float));
    if (!s.steps) {
        PyErr_NoMemory();
        goto release;
    }
    s.uniform = 1;
    for (Py_ssize_t k = 0; k < s.ndiff; k++) {
        const double step = s.times[k + 1] - s.times[k];
        s.steps[k] = (float)step;
        s.uniform &= step == s.times[1] - s.times[0];
    }

    int status;
    Py_BEGIN_ALLOW_THREADS
    status = search_pixels(&s, start, stop, (int64_t)pixel_offset, &jumps);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
    }
    else if (status > 0) {
        result = Py_NewRef(Py_None);
    }
    else {
        result = Py_BuildValue("(NNNN)",
                               bytes_of(jumps.read, jumps.size * 8),
                               bytes_of(jumps.pixel, jumps.size * 8),
                               bytes_of(jumps.ratio, jumps.size * 4),
                               bytes_of(jumps.amplitude, jumps.size * 4));
    }
release:
    free(s.steps);
    jumps_free(&jumps);
    PyBuffer_Release(&data);
    PyBuffer_Release(&dq);
    PyBuffer_Release(&times);
    PyBuffer_Release(&gain);
    PyBuffer_Release(&read_noise);
    PyBuffer_Release(&thresholds);
    if (has_pixeldq) PyBuffer_Release(&pixeldq);
    if (has_read_scale) PyBuffer_Release(&read_scale);
    return result;
}

static PyMethodDef jump_methods[] = {
    {"primary_jumps", primary_jumps, METH_VARARGS, primary_jumps_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef jump_module = {
    PyModuleDef_HEAD_INIT, "_jump",
    "hstramp's compiled two-point jump search (the NumPy path in hstramp.core.jump is the "
    "reference).",
    -1, jump_methods,
};

PyMODINIT_FUNC
PyInit__jump(void)
{
    return PyModule_Create(&jump_module);
}
