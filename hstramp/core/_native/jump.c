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
 * How it is fast: pixels go in chunks of CHUNK side by side ([read][pixel] arrays, loops
 * over pixels that the compiler vectorises). chunk_first_round reads the chunk once and
 * makes every pixel's differences and sort keys as if it had no gap, and sorts the keys
 * with a sorting network; chunk_screen computes each pixel's first round up to its largest
 * ratio (per distinct interval, as _outliers.largest_by_interval does) and whether it is
 * above the threshold. Only the pixels with a jump (a few percent) and those with an
 * unusable read between usable ones go on to search_pixel, the scalar search of one pixel
 * to the end (the first round again, with every ratio, to find which difference is the
 * largest). Nothing of this changes a value: each pixel's numbers come from the same
 * operations on its own data.
 * The two chunk loops are CLONES (clones.h): built for AVX2 and for the baseline, the same
 * bits either way.
 *
 * One case is left to NumPy: a difference rate beyond +-3e38 (reads near the float32
 * limit). NumPy's sort key of unusable differences is 3e38, so such a rate sorts among
 * them (or, infinite, makes a NaN key whose place depends on NumPy's sorting network),
 * and NumPy's median then depends on how the pixel was grouped (shared intervals or
 * not); the kernel returns None and the caller runs the NumPy path.
 *
 * Buffers come through the buffer protocol (no NumPy headers); the GIL is released
 * while pixels are searched.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clones.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Pixels processed side by side. */
#define CHUNK 256

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
    const float *gain, *read_noise;  /* [npix], or [1] for every pixel (step 0) */
    Py_ssize_t gain_step, read_noise_step;
    const float *thresholds;   /* threshold_table */
    Py_ssize_t nthresholds;
    unsigned unusable;         /* blocks.UNUSABLE */
    Py_ssize_t plain_median;   /* _median.PLAIN_MEDIAN */
    int uniform;               /* evenly spaced reads */
    int32_t mask;              /* index bits of a sort key */
    float half_pi, sqrt_half_pi;
    float *steps;              /* [ndiff]: (float32)(times[k + 1] - times[k]) */
    Py_ssize_t *pairs;         /* comparators of a sorting network for ndiff keys */
    Py_ssize_t npairs;
    Py_ssize_t *class_of;      /* [ndiff]: index of each step among the distinct steps */
    float *class_step;         /* [nclasses]: the distinct steps */
    Py_ssize_t *identity;      /* [ndiff]: 0, 1, 2, ... (each difference its own class) */
    Py_ssize_t nclasses;
} Setup;

/* Scratch space of one pixel. */
typedef struct {
    float *values, *rates, *tested, *intervals, *weights, *variance, *sorted_weights, *centres;
    float *keys, *term, *zero, *root;  /* term .. root: per distinct interval */
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
                if (fabsf(rate) > LAST) return -1;
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
                if (fabsf(rate) > LAST) return -1;
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
search_pixel(const Setup *s, Scratch *w, int uniform, int shared, int sorted,
             Py_ssize_t initial_count,
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
        if (!sorted) sort_order(s, w);  /* the first round's order may come sorted */
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
            /* Every term of a difference depends on its interval only: computed once per
             * distinct interval (shared ones; for a pixel with gaps, each its own). */
            const Py_ssize_t *class_of = shared ? s->class_of : s->identity;
            const float *class_step = shared ? s->class_step : intervals;
            const Py_ssize_t nclasses = shared ? s->nclasses : ndiff;
            float *weights = w->weights, *variance = w->variance;
            float *term = w->term, *zero = w->zero, *root = w->root;
            for (Py_ssize_t k = 0; k < nclasses; k++) {
                const float dt = class_step[k];
                variance[k] = (floor + poisson * dt) / (dt * dt);
                const float sigma = sqrtf(variance[k]);
                term[k] = dt / sigma;
                zero[k] = sigma > 0.0f ? 0.0f : NAN;  /* 0 / sigma */
            }
            float spread = 0.0f, squares = 0.0f;
            for (Py_ssize_t i = 0; i < ndiff; i++) {
                const float dt = intervals[i];
                const int used = !isnan(tested[i]) && i != dropped;
                weights[i] = used ? dt : 0.0f;
                spread += used ? term[class_of[i]] : zero[class_of[i]];
                squares += weights[i] * weights[i];
            }
            const float median_variance = half_pi * squares / (spread * spread);
            const float shift = plain ? s->sqrt_half_pi / spread : 0.0f;
            const float plain_extra = plain ? median_variance : 0.0f;
            const int uneven = !plain && kept >= 4;
            const double share = (double)half_pi / (double)kept;
            for (Py_ssize_t k = 0; k < nclasses; k++) {
                float sigma2 = variance[k] + plain_extra;
                if (uneven) {
                    const double excess = maximum_f64(
                        (double)median_variance - (double)variance[k] * share, 0.0);
                    sigma2 = (float)((double)variance[k] + excess);
                }
                root[k] = sqrtf(sigma2);
            }
            largest = -INFINITY;
            worst = -1;
            for (Py_ssize_t i = 0; i < ndiff; i++) {
                if (isnan(tested[i])) continue;
                float ratio = fabsf(tested[i] - median);
                ratio += shift * weights[i];
                ratio /= root[class_of[i]];
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
        /* The next round's order without sorting: the keys of the other differences do
         * not change, and the masked one becomes unusable, whose keys (LAST and the index)
         * sort after every usable one (all are below LAST: see the top), by index. */
        Py_ssize_t *order_ = w->order;
        Py_ssize_t p = 0;
        while (order_[p] != worst) p++;
        for (; p + 1 < ndiff && (p + 1 < count || order_[p + 1] < worst); p++) {
            order_[p] = order_[p + 1];
        }
        order_[p] = worst;
        sorted = 1;
    }
}

/* A chunk of pixels side by side ([read][pixel]): the first round's differences and sort
 * keys computed for all of them at once, as if no pixel had a gap (loops over pixels, which
 * the compiler vectorises). */
typedef struct {
    float *values, *rates;         /* [ngroups][CHUNK], [ndiff][CHUNK] */
    int32_t *keys;                  /* [ndiff][CHUNK], sorted */
    float *tested, *centres;        /* [ndiff][CHUNK] each */
    float *gain, *read_noise;       /* [CHUNK] */
    float *by_class;                /* [4][nclasses][CHUNK] */
    int32_t *order;                 /* [ndiff][CHUNK] */
    int32_t *usable;                /* [ngroups][CHUNK], 0 or 1 (32 bits, as the floats) */
    int32_t *count, *nusable, *starts, *infinite, *valid;  /* [CHUNK] */
    unsigned char *hit;             /* [CHUNK] */
} Chunk;

typedef union {
    float f;
    int32_t i;
} Bits;

/* Fill a chunk of n pixels from pixel `first` on; the keys sorted (a sorting network).
 * Loops run over the pixels with loop-invariant locals and restrict pointers, so that the
 * compiler vectorises them. */
CLONES static void
chunk_first_round(const Setup *s, Chunk *c, Py_ssize_t first, Py_ssize_t n)
{
    const Py_ssize_t ngroups = s->ngroups, ndiff = s->ndiff, npix = s->npix;
    const unsigned unusable = s->unusable;
    const int32_t plain_median = (int32_t)s->plain_median, mask = s->mask;
    float *restrict gain = c->gain, *restrict read_noise = c->read_noise;
    const uint16_t *restrict pixeldq = s->pixeldq ? s->pixeldq + first : NULL;
    int32_t *restrict valid = c->valid;
    int32_t *restrict count = c->count, *restrict nusable = c->nusable;
    int32_t *restrict starts = c->starts, *restrict infinite = c->infinite;
    for (Py_ssize_t j = 0; j < n; j++) {
        gain[j] = s->gain[(first + j) * s->gain_step];
        read_noise[j] = s->read_noise[(first + j) * s->read_noise_step];
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        valid[j] = ((gain[j] > 0.0f) & (fabsf(gain[j]) <= FLT_MAX)
                                   & (read_noise[j] >= 0.0f) & (fabsf(read_noise[j]) <= FLT_MAX));
        count[j] = nusable[j] = starts[j] = infinite[j] = 0;
    }
    for (Py_ssize_t k = 0; k < ngroups; k++) {
        const float *restrict row = s->data + k * npix + first;
        const uint16_t *restrict dq = s->dq + k * npix + first;
#if defined(__GNUC__)
        if (first + 2 * CHUNK <= npix) {  /* the next chunk's reads, while this one works */
            for (Py_ssize_t j = 0; j < CHUNK; j += 16) __builtin_prefetch(row + CHUNK + j);
            for (Py_ssize_t j = 0; j < CHUNK; j += 32) __builtin_prefetch(dq + CHUNK + j);
        }
#endif
        float *restrict values = c->values + k * CHUNK;
        int32_t *restrict usable = c->usable + k * CHUNK;
        if (s->read_scale) {
            const float scale = s->read_scale[k];
            for (Py_ssize_t j = 0; j < n; j++) values[j] = k == 0 ? 0.0f : row[j] * scale;
        }
        else {
            for (Py_ssize_t j = 0; j < n; j++) values[j] = row[j];
        }
        if (pixeldq) {
            for (Py_ssize_t j = 0; j < n; j++) {
                usable[j] = (((dq[j] | pixeldq[j]) & unusable) == 0)
                            & (fabsf(values[j]) <= FLT_MAX) & valid[j];
            }
        }
        else {
            for (Py_ssize_t j = 0; j < n; j++) {
                usable[j] = ((dq[j] & unusable) == 0) & (fabsf(values[j]) <= FLT_MAX) & valid[j];
            }
        }
        for (Py_ssize_t j = 0; j < n; j++) nusable[j] += usable[j];
        if (k > 0) {
            const int32_t *restrict before = c->usable + (k - 1) * CHUNK;
            const float *restrict previous = c->values + (k - 1) * CHUNK;
            const float step = s->steps[k - 1];
            float *restrict rates = c->rates + (k - 1) * CHUNK;
            for (Py_ssize_t j = 0; j < n; j++) {
                const float rate = (values[j] - previous[j]) / step;
                const int32_t both = usable[j] & before[j];
                rates[j] = both ? rate : NAN;
                count[j] += both;
                infinite[j] |= both & (fabsf(rate) > LAST);
                starts[j] += usable[j] & (before[j] ^ 1);
            }
        }
    }
    for (Py_ssize_t d = 0; d < ndiff; d++) {
        const float *restrict rates = c->rates + d * CHUNK;
        int32_t *restrict keys = c->keys + d * CHUNK;
        for (Py_ssize_t j = 0; j < n; j++) {
            const float rate = rates[j];
            const float tested = count[j] >= plain_median ? rate : fabsf(rate);
            Bits key = {.f = tested != tested ? LAST : tested};
            key.i = (key.i & ~mask) | (int32_t)d;
            keys[j] = key.i ^ ((key.i >> 31) & 0x7fffffff);  /* ordered as the floats */
        }
    }
    /* The float keys as integers in the same order (the sign bit flips the others), so
     * that min and max vectorise. The keys of one pixel are distinct (each holds its
     * index), so any sorting network orders them as NumPy's does; NaN keys (infinite
     * rates) and the keys of pixels with gaps are never used. */
    for (Py_ssize_t q = 0; q < s->npairs; q++) {
        int32_t *restrict low = c->keys + s->pairs[2 * q] * CHUNK;
        int32_t *restrict high = c->keys + s->pairs[2 * q + 1] * CHUNK;
        for (Py_ssize_t j = 0; j < n; j++) {
            const int32_t a = low[j], b = high[j];
            low[j] = a < b ? a : b;
            high[j] = a < b ? b : a;
        }
    }
}

/* The first round of every pixel of a chunk as if none had a gap (chunk_first_round):
 * whether its largest ratio is above its threshold (c->hit). The same float32 operations as
 * search_pixel's first round, over the pixels side by side; the largest ratio of each
 * distinct interval is that of its largest |d_i - m| (the ratio grows with it, as in
 * _outliers.largest_by_interval), so the ratios themselves are computed only for the pixels
 * with a jump, by search_pixel. */
CLONES static void
chunk_screen(const Setup *s, Chunk *c, Py_ssize_t n)
{
    const Py_ssize_t ndiff = s->ndiff, nclasses = s->nclasses;
    const float half_pi = s->half_pi, sqrt_half_pi = s->sqrt_half_pi;
    const int32_t mask = s->mask, plain_median = (int32_t)s->plain_median;
    const float *restrict steps = s->steps;
    const int32_t *restrict count = c->count;
    const float *restrict all_tested = c->tested;
    /* the tested value at sorted position p of pixel j */
#define SORTED(p, j) all_tested[all_order[(p) * CHUNK + (j)] * CHUNK + (j)]
    const float *restrict all_centres = c->centres;
    const int32_t *restrict all_order = c->order;
    int32_t kept[CHUNK], dropped[CHUNK], plain[CHUNK];
    float median[CHUNK], floor_[CHUNK], poisson[CHUNK], largest[CHUNK], total[CHUNK];
    for (Py_ssize_t j = 0; j < n; j++) {
        plain[j] = count[j] >= plain_median;
        const int32_t drop = (plain[j] == 0) & ((count[j] == 2) | (count[j] >= 4));
        kept[j] = count[j] - drop;
    }
    for (Py_ssize_t d = 0; d < ndiff; d++) {
        const int32_t *restrict keys = c->keys + d * CHUNK;
        const float *restrict rates = c->rates + d * CHUNK;
        int32_t *restrict order = c->order + d * CHUNK;
        float *restrict tested = c->tested + d * CHUNK;
        for (Py_ssize_t j = 0; j < n; j++) {
            order[j] = (keys[j] ^ ((keys[j] >> 31) & 0x7fffffff)) & mask;
            tested[j] = plain[j] ? rates[j] : fabsf(rates[j]);
        }
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        dropped[j] = kept[j] < count[j] ? all_order[(count[j] - 1) * CHUNK + j] : -1;
    }

    /* the median: robust_rate */
    if (s->uniform) {
        for (Py_ssize_t j = 0; j < n; j++) {
            const int32_t low = (kept[j] - 1 > 0 ? kept[j] - 1 : 0) / 2, high = kept[j] / 2;
            median[j] = (SORTED(low, j) + SORTED(high, j)) * 0.5f;
        }
    }
    else {  /* weighted_median */
        for (Py_ssize_t p = 0; p < ndiff; p++) {
            const int32_t *restrict order = all_order + p * CHUNK;
            float *restrict centres = c->centres + p * CHUNK;
            for (Py_ssize_t j = 0; j < n; j++) {
                const float weight = p < kept[j] ? steps[order[j]] : 0.0f;
                if (p == 0) {
                    centres[j] = weight * 0.5f;
                    total[j] = weight;
                }
                else {
                    centres[j] = weight * 0.5f + total[j];
                    total[j] += weight;
                }
            }
        }
        int32_t below[CHUNK];
        for (Py_ssize_t j = 0; j < n; j++) below[j] = 0;
        for (Py_ssize_t p = 0; p < ndiff; p++) {
            const float *restrict centres = all_centres + p * CHUNK;
            for (Py_ssize_t j = 0; j < n; j++) below[j] += centres[j] <= total[j] * 0.5f;
        }
        for (Py_ssize_t j = 0; j < n; j++) {
            const float half = total[j] * 0.5f;
            const int32_t last = kept[j] - 1 > 0 ? kept[j] - 1 : 0;
            int32_t low = below[j] - 1 > 0 ? below[j] - 1 : 0;
            if (low > last) low = last;
            const int32_t high = low + 1 < last ? low + 1 : last;
            float fraction = 0.0f;
            if (high != low) {
                const float centre_low = all_centres[low * CHUNK + j];
                fraction = (half - centre_low) / (all_centres[high * CHUNK + j] - centre_low);
                if (fraction < 0.0f) fraction = 0.0f;
                else if (fraction > 1.0f) fraction = 1.0f;
            }
            const float value_low = SORTED(low, j);
            median[j] = value_low + fraction * (SORTED(high, j) - value_low);
        }
    }
    {
        const float *restrict gain = c->gain, *restrict read_noise = c->read_noise;
        for (Py_ssize_t j = 0; j < n; j++) {
            if (kept[j] < 1) median[j] = NAN;
            const float read_variance = 2.0f * read_noise[j] * read_noise[j];
            floor_[j] = (read_variance == 0.0f) & (median[j] == 0.0f) ? NAN : read_variance;
            poisson[j] = fabsf(median[j]) * (1.0f / gain[j]);
        }
    }

    /* the largest ratio: largest_uniform_outliers or largest_by_interval */
    if (s->uniform) {
        const float interval = steps[0];
        for (Py_ssize_t j = 0; j < n; j++) {
            float sigma2 = (floor_[j] + poisson[j] * interval) / (interval * interval);
            const int32_t highest = count[j] - 1 > 0 ? count[j] - 1 : 0;
            const float below = median[j] - SORTED(0, j);
            const float above = SORTED(highest, j) - median[j];
            float deviation = maximum_f32(below, above);
            const double share = plain[j] ? 1.0 / (double)count[j] : 0.0;
            deviation = (float)((double)deviation + (double)sqrtf(half_pi * sigma2) * share);
            sigma2 = (float)((double)sigma2 + (double)(half_pi * sigma2) * share);
            largest[j] = deviation / sqrtf(sigma2);
        }
    }
    else {
        float *restrict variance = c->by_class, *restrict term = variance + nclasses * CHUNK;
        float *restrict zero = term + nclasses * CHUNK;
        float *restrict deviation = zero + nclasses * CHUNK;
        float spread[CHUNK], squares[CHUNK];
        for (Py_ssize_t k = 0; k < nclasses; k++) {
            const float dt = s->class_step[k];
            for (Py_ssize_t j = 0; j < n; j++) {
                const float v = (floor_[j] + poisson[j] * dt) / (dt * dt);
                const float root = sqrtf(v);
                variance[k * CHUNK + j] = v;
                term[k * CHUNK + j] = dt / root;
                zero[k * CHUNK + j] = root > 0.0f ? 0.0f : NAN;  /* 0 / root */
                deviation[k * CHUNK + j] = -INFINITY;
            }
        }
        for (Py_ssize_t j = 0; j < n; j++) spread[j] = squares[j] = 0.0f;
        for (Py_ssize_t i = 0; i < ndiff; i++) {
            const Py_ssize_t k = s->class_of[i];
            const float square = steps[i] * steps[i];
            const int32_t index = (int32_t)i;
            const float *restrict tested = all_tested + i * CHUNK;
            float *restrict most = deviation + k * CHUNK;
            const float *restrict used_term = term + k * CHUNK;
            const float *restrict unused_term = zero + k * CHUNK;
            for (Py_ssize_t j = 0; j < n; j++) {
                const int32_t used = (tested[j] == tested[j]) & (index != dropped[j]);
                spread[j] += used ? used_term[j] : unused_term[j];
                squares[j] += used ? square : 0.0f;
                const float d = fabsf(tested[j] - median[j]);
                most[j] = d > most[j] ? d : most[j];  /* NaN (untested) never wins */
            }
        }
        float median_variance[CHUNK], shift[CHUNK], plain_extra[CHUNK];
        int32_t uneven = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            median_variance[j] = half_pi * squares[j] / (spread[j] * spread[j]);
            shift[j] = plain[j] ? sqrt_half_pi / spread[j] : 0.0f;
            plain_extra[j] = plain[j] ? median_variance[j] : 0.0f;
            largest[j] = -INFINITY;
            uneven |= (plain[j] == 0) & (kept[j] >= 4);
        }
        for (Py_ssize_t k = 0; k < nclasses; k++) {
            const float dt = s->class_step[k];
            const float *restrict most = deviation + k * CHUNK;
            const float *restrict class_variance = variance + k * CHUNK;
            for (Py_ssize_t j = 0; j < n; j++) {
                /* -inf: no difference of this interval, the ratio is -inf or NaN */
                float ratio = most[j];
                ratio += shift[j] * dt;
                ratio /= sqrtf(class_variance[j] + plain_extra[j]);
                largest[j] = ratio > largest[j] ? ratio : largest[j];
            }
        }
        if (uneven) {  /* 4 to 9 differences: unequal_interval_variance, in float64 */
            for (Py_ssize_t j = 0; j < n; j++) {
                if (plain[j] || kept[j] < 4) continue;
                const double share = (double)half_pi / (double)kept[j];
                largest[j] = -INFINITY;
                for (Py_ssize_t k = 0; k < nclasses; k++) {
                    const float v = variance[k * CHUNK + j];
                    const double excess = maximum_f64(
                        (double)median_variance[j] - (double)v * share, 0.0);
                    float ratio = deviation[k * CHUNK + j];
                    ratio += shift[j] * s->class_step[k];
                    ratio /= sqrtf((float)((double)v + excess));
                    if (ratio > largest[j]) largest[j] = ratio;
                }
            }
        }
    }
    {
        unsigned char *restrict hit = c->hit;
        const float *restrict thresholds = s->thresholds;
        const int32_t last = (int32_t)s->nthresholds - 1;
        for (Py_ssize_t j = 0; j < n; j++) {
            hit[j] = largest[j] > thresholds[count[j] < last ? count[j] : last];
        }
    }
#undef SORTED
}

/* Search pixels [start, stop). Returns 0, 1 (a rate beyond 3e38: use NumPy) or -1 (memory). */
static int
search_pixels(const Setup *s, Py_ssize_t start, Py_ssize_t stop, int64_t pixel_offset,
              Jumps *jumps)
{
    const Py_ssize_t ngroups = s->ngroups, ndiff = s->ndiff;
    float *floats = calloc((size_t)(5 * ndiff + ngroups + 4 * s->nclasses + 2) * CHUNK
                           + 12 * (size_t)ndiff + (size_t)ngroups, sizeof(float));
    unsigned char *bytes = malloc((size_t)CHUNK + (size_t)ngroups);
    int32_t *ints = malloc((size_t)(5 + ndiff + ngroups) * CHUNK * sizeof(int32_t));
    Py_ssize_t *order = malloc((size_t)ndiff * sizeof(Py_ssize_t));
    int status = 0;
    if (!floats || !bytes || !ints || !order) {
        status = -1;
        goto done;
    }
    Chunk c;
    c.values = floats;
    c.rates = c.values + ngroups * CHUNK;
    c.keys = (int32_t *)(c.rates + ndiff * CHUNK);  /* float-sized */
    c.tested = (float *)(c.keys + ndiff * CHUNK);
    c.centres = c.tested + ndiff * CHUNK;
    c.by_class = c.centres + ndiff * CHUNK;
    c.hit = bytes;
    c.count = ints;
    c.nusable = c.count + CHUNK;
    c.starts = c.nusable + CHUNK;
    c.infinite = c.starts + CHUNK;
    c.order = c.infinite + CHUNK;
    c.valid = c.order + ndiff * CHUNK;
    c.usable = c.valid + CHUNK;
    c.gain = c.by_class + 4 * s->nclasses * CHUNK;
    c.read_noise = c.gain + CHUNK;
    Scratch w;
    w.values = c.read_noise + CHUNK;
    w.rates = w.values + ngroups;
    w.tested = w.rates + ndiff;
    w.intervals = w.tested + ndiff;
    w.weights = w.intervals + ndiff;
    w.variance = w.weights + ndiff;
    w.sorted_weights = w.variance + ndiff;
    w.centres = w.sorted_weights + ndiff;
    w.keys = w.centres + ndiff;
    w.term = w.keys + ndiff;
    w.zero = w.term + ndiff;
    w.root = w.zero + ndiff;
    w.usable = c.hit + CHUNK;
    w.order = order;

    for (Py_ssize_t first = start; first < stop && status == 0; first += CHUNK) {
        const Py_ssize_t n = stop - first < CHUNK ? stop - first : CHUNK;
        chunk_first_round(s, &c, first, n);
        chunk_screen(s, &c, n);
        for (Py_ssize_t j = 0; j < n && status == 0; j++) {
            if (c.nusable[j] < 2) continue;  /* invalid pixel, or no difference to test */
            const Py_ssize_t p = first + j;
            const int gap = c.usable[j] + c.starts[j] >= 2;
            if (!gap && c.infinite[j]) {
                status = 1;
                break;
            }
            if (!gap && !c.hit[j]) continue;  /* no jump: the first round decided */
            Py_ssize_t count = c.count[j];
            if (gap) {  /* differences across the gaps, sorted in search_pixel */
                for (Py_ssize_t k = 0; k < ngroups; k++) {
                    w.values[k] = c.values[k * CHUNK + j];
                    w.usable[k] = (unsigned char)c.usable[k * CHUNK + j];
                }
                if (pixel_differences(s, &w, &count) < 0) status = 1;
            }
            else {
                for (Py_ssize_t d = 0; d < ndiff; d++) {
                    w.rates[d] = c.rates[d * CHUNK + j];
                    w.intervals[d] = s->steps[d];
                    const int32_t key = c.keys[d * CHUNK + j];
                    w.order[d] = (key ^ ((key >> 31) & 0x7fffffff)) & s->mask;
                }
            }
            if (status) break;
            const float gain = c.gain[j], read_noise = c.read_noise[j];
            if (search_pixel(s, &w, s->uniform && !gap, !gap, !gap, count, 1.0f / gain,
                             2.0f * read_noise * read_noise, pixel_offset + p, jumps) < 0) {
                status = -1;
            }
        }
    }
done:
    free(floats);
    free(bytes);
    free(ints);
    free(order);
    return status;
}

/* The comparators of Batcher's odd-even merge sort for `size` keys (those of
 * _sorting.sorting_network; any sorting network gives the same order of distinct keys).
 * Fills `pairs` when not NULL; returns the number of comparators. */
static Py_ssize_t
sorting_network(Py_ssize_t size, Py_ssize_t *pairs)
{
    Py_ssize_t padded = 1, count = 0;
    while (padded < size) padded <<= 1;
    for (Py_ssize_t p = 1; p < padded; p <<= 1) {
        for (Py_ssize_t k = p; k >= 1; k >>= 1) {
            for (Py_ssize_t j = k % p; j < padded - k; j += 2 * k) {
                const Py_ssize_t width = k < padded - j - k ? k : padded - j - k;
                for (Py_ssize_t i = 0; i < width; i++) {
                    const Py_ssize_t low = i + j, high = i + j + k;
                    if (low / (2 * p) == high / (2 * p) && high < size) {
                        if (pairs) {
                            pairs[2 * count] = low;
                            pairs[2 * count + 1] = high;
                        }
                        count++;
                    }
                }
            }
        }
    }
    return count;
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
"[npix], or [1] for all pixels; thresholds float32 from\n"
"JumpParameters.threshold_table).\n\n"
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
        || check_buffer(&gain, gain.len == 4 ? 1 : npix, 4, "gain") < 0
        || check_buffer(&read_noise, read_noise.len == 4 ? 1 : npix, 4, "read_noise") < 0
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
    s.gain_step = gain.len == 4 ? 0 : 1;
    s.read_noise_step = read_noise.len == 4 ? 0 : 1;
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
    s.npairs = sorting_network(s.ndiff, NULL);
    s.pairs = malloc((size_t)(2 * s.npairs + 1) * sizeof(Py_ssize_t));
    if (!s.steps || !s.pairs) {
        PyErr_NoMemory();
        goto release;
    }
    sorting_network(s.ndiff, s.pairs);
    s.class_of = malloc((size_t)s.ndiff * sizeof(Py_ssize_t));
    s.class_step = malloc((size_t)s.ndiff * sizeof(float));
    s.identity = malloc((size_t)s.ndiff * sizeof(Py_ssize_t));
    if (!s.class_of || !s.class_step || !s.identity) {
        PyErr_NoMemory();
        goto release;
    }
    s.uniform = 1;
    for (Py_ssize_t k = 0; k < s.ndiff; k++) {
        const double step = s.times[k + 1] - s.times[k];
        s.steps[k] = (float)step;
        s.uniform &= step == s.times[1] - s.times[0];
    }
    for (Py_ssize_t k = 0; k < s.ndiff; k++) {  /* the distinct float32 steps */
        Py_ssize_t c = 0;
        while (c < s.nclasses && s.class_step[c] != s.steps[k]) c++;
        if (c == s.nclasses) s.class_step[s.nclasses++] = s.steps[k];
        s.class_of[k] = c;
        s.identity[k] = k;
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
    free(s.pairs);
    free(s.class_of);
    free(s.class_step);
    free(s.identity);
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
