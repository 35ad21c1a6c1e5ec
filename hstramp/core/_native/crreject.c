/* CR-SPLIT cosmic-ray rejection of STIS CCD imsets: the iterations of
 * hstramp.core.stis.crreject.cr_reject in one pass per iteration over the stack.
 *
 * The NumPy code in hstramp/core/stis/crreject.py is the reference; this kernel repeats its
 * arithmetic operation for operation, in the same precision (float32 where NumPy computes
 * in float32, float64 where it promotes), so the outputs are the same bit for bit (signed
 * zeros aside). The caller computes the sky of each imset and the sums over the imsets of
 * the exposure times and skies; everything per pixel is done here:
 *
 *   rates     pic = float32(((double)data - sky) / t)
 *   guess     minimum (first smallest, a NaN counts as smallest, as numpy.argmin) with its
 *             variance, or the median (NaN where any rate is NaN, as numpy.median)
 *   each sigma: hit where (pic - ave)^2 > thresh and the pixel is not excluded
 *             (DQ & BADINPDQ); spill where a hit lies within CRRADIUS (the offsets) and
 *             (pic - ave)^2 > psig2 * spthresh; ave = sum(pic t) / sum(t) over what is used
 *   outputs   combined image, error, DQ, the inputs' DQ with 8192, the rejection mask.
 *
 * Buffers in (C-contiguous): data float32 [nexp, ny, nx], dq uint16 [nexp, ny, nx],
 * efac, sky float64 [nexp], sig2 float64 [niter], offsets int64 [noff, 2] (dy, dx).
 * Buffers out: data, err float32 [ny, nx], dq uint16 [ny, nx], input_dq uint16 and
 * rejected uint8 [nexp, ny, nx]. Returns the number of rejected input pixels.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DATAREJECT 8192u

/* numpy.maximum(x, 0): NaN propagates, as NumPy's (x >= 0 || isnan(x)) ? x : 0 */
static inline double max0(double x) { return (x >= 0.0 || isnan(x)) ? x : 0.0; }
static inline float max0f(float x) { return (x >= 0.0f || isnan(x)) ? x : 0.0f; }

typedef struct {
    const float *data;
    const uint16_t *dq;
    const double *efac, *sky, *sig2;
    const int64_t *offsets;
    Py_ssize_t nexp, ny, nx, niter, noff;
    int median;
    double psig2, rog2, gain, scale, fillval, texpt, skysum;
    unsigned int badinpdq;
    int crmask;
    float *out_data, *out_err;
    uint16_t *out_dq, *input_dq;
    uint8_t *rejected;
} Job;

/* The initial guess of one pixel (and, for the minimum, its variance). */
static void initial_guess(const Job *j, const float *pic, Py_ssize_t p, float *ave,
                          float *avevar, float *work)
{
    Py_ssize_t npix = j->ny * j->nx;
    if (!j->median) {
        Py_ssize_t kmin = 0;
        float best = pic[p];
        if (!isnan(best)) {
            for (Py_ssize_t k = 1; k < j->nexp; k++) {
                float v = pic[k * npix + p];
                if (isnan(v)) { kmin = k; best = v; break; }
                if (v < best) { kmin = k; best = v; }
            }
        }
        float raw = j->data[kmin * npix + p];
        float a = (float)j->rog2 + max0f(raw) / (float)j->gain;
        double b = j->scale * max0((double)raw - j->sky[kmin]);
        b = b * b;
        double t = j->efac[kmin];
        ave[p] = best;
        avevar[p] = (float)(((double)a + b) / (t * t));
        return;
    }
    int nan = 0;
    for (Py_ssize_t k = 0; k < j->nexp; k++) {  /* insertion sort of nexp values */
        float v = pic[k * npix + p];
        if (isnan(v)) nan = 1;
        Py_ssize_t i = k;
        while (i > 0 && work[i - 1] > v) { work[i] = work[i - 1]; i--; }
        work[i] = v;
    }
    Py_ssize_t n = j->nexp;
    if (nan) ave[p] = NAN;
    else if (n % 2) ave[p] = work[n / 2];
    else ave[p] = (float)(((double)(work[n / 2 - 1] + work[n / 2])) / 2.0);
}

/* spthresh of imset k (sky s, time t) for a guess ave: NumPy's _thresholds, op for op */
static inline double spill_threshold(const Job *j, double t, double s, float ave, double sig2)
{
    double expected = (double)ave * t;
    expected += s;
    double sp = max0(expected);
    sp /= j->gain;
    sp += j->rog2;
    sp *= sig2;
    sp /= t * t;
    return sp;
}

/* thresh = spthresh + the scale-noise term (NumPy's _thresholds, op for op) */
static inline double full_threshold(const Job *j, double t, double s, float ave, double sig2,
                                    double sp)
{
    double expected = (double)ave * t;
    expected += s;
    double th = expected - s;
    th = max0(th);
    th *= j->scale;
    th = th * th;
    th *= sig2;
    th /= t * t;
    th += sp;
    return th;
}

/* The spill limit psig2 * spthresh of imset k at pixel p in iteration it, as a float64
 * (exact for the float32 first pass of a minimum guess). */
static inline double spill_limit(const Job *j, Py_ssize_t k, Py_ssize_t p, const float *ave,
                                 const float *avevar, Py_ssize_t it)
{
    double sig2 = j->sig2[it];
    if (avevar != NULL && it == 0) {
        float th = (float)sig2 * avevar[p];
        return (double)((float)j->psig2 * th);
    }
    return j->psig2 * spill_threshold(j, j->efac[k], j->sky[k], ave[p], sig2);
}

/* Pass 1 of an iteration for imset k: bit 1 of hit[p] where (pic - ave)^2 exceeds the
 * threshold (excluded pixels never hit), then bit 2 on every pixel within CRRADIUS of a hit
 * (numpy's dilate_mask: out[y, x] |= hit[y - dy, x - dx]). */
static void find_hits(const Job *j, Py_ssize_t k, const float *pic, const float *ave,
                      const float *avevar, Py_ssize_t it, uint8_t *hk)
{
    Py_ssize_t ny = j->ny, nx = j->nx, npix = ny * nx;
    const float *pk = pic + k * npix;
    const uint16_t *dqk = j->dq + k * npix;
    const unsigned int bad = j->badinpdq;
    double sig2 = j->sig2[it];
    if (avevar != NULL && it == 0) {
        float fsig2 = (float)sig2;
        for (Py_ssize_t p = 0; p < npix; p++) {
            float d = pk[p] - ave[p];
            float dd = d * d;
            float th = fsig2 * avevar[p];
            hk[p] = (uint8_t)((dd > th) & ((dqk[p] & bad) == 0));
        }
    } else {
        double t = j->efac[k], s = j->sky[k];
        for (Py_ssize_t p = 0; p < npix; p++) {
            float d = pk[p] - ave[p];
            float dd = d * d;
            double sp = spill_threshold(j, t, s, ave[p], sig2);
            double th = full_threshold(j, t, s, ave[p], sig2, sp);
            hk[p] = (uint8_t)(((double)dd > th) & ((dqk[p] & bad) == 0));
        }
    }
    for (Py_ssize_t p0 = 0; p0 < npix; p0 += 8) {  /* hits are rare: 8 pixels a test */
        Py_ssize_t end = p0 + 8 < npix ? p0 + 8 : npix;
        if (end - p0 == 8) {
            uint64_t word;
            memcpy(&word, hk + p0, 8);
            if (!(word & 0x0101010101010101ULL)) continue;
        }
        for (Py_ssize_t p = p0; p < end; p++) {
            if (!(hk[p] & 1)) continue;
            Py_ssize_t y = p / nx, x = p % nx;
            for (Py_ssize_t o = 0; o < j->noff; o++) {
                Py_ssize_t yy = y + (Py_ssize_t)j->offsets[2 * o];
                Py_ssize_t xx = x + (Py_ssize_t)j->offsets[2 * o + 1];
                if (yy >= 0 && yy < ny && xx >= 0 && xx < nx) hk[yy * nx + xx] |= 2;
            }
        }
    }
}

static Py_ssize_t run(const Job *j, float *pic, float *ave, float *avevar, uint8_t *hit,
                      float *work)
{
    Py_ssize_t npix = j->ny * j->nx, nexp = j->nexp;
    Py_ssize_t nrej = 0;
    for (Py_ssize_t k = 0; k < nexp; k++) {  /* rates: float32 of a float64 quotient */
        const float *dk = j->data + k * npix;
        float *pk = pic + k * npix;
        double s = j->sky[k], t = j->efac[k];
        for (Py_ssize_t p = 0; p < npix; p++) pk[p] = (float)(((double)dk[p] - s) / t);
    }
    for (Py_ssize_t p = 0; p < npix; p++) initial_guess(j, pic, p, ave, avevar, work);
    const float *var0 = j->median ? NULL : avevar;
    for (Py_ssize_t it = 0; it < j->niter; it++) {
        int last = it == j->niter - 1;
        for (Py_ssize_t k = 0; k < nexp; k++) find_hits(j, k, pic, ave, var0, it, hit + k * npix);
        /* pass 2: spills, the new guess; in the last iteration the outputs. Each pixel's
         * new guess depends on its old one and the hits only, so it is updated in place. */
        for (Py_ssize_t p = 0; p < npix; p++) {
            double efacsum = 0.0, total = 0.0, sumvar = 0.0;
            int all_rejected = 1;
            uint16_t dq_or = 0;
            for (Py_ssize_t k = 0; k < nexp; k++) {
                uint8_t h = hit[k * npix + p];
                uint16_t dqk = j->dq[k * npix + p];
                float v = pic[k * npix + p];
                int rejected = h & 1;
                if (!rejected && (h & 2)) {  /* a hit nearby: the spill test */
                    float d = v - ave[p];
                    float dd = d * d;
                    rejected = (double)dd > spill_limit(j, k, p, ave, var0, it);
                }
                int use = !rejected && (dqk & j->badinpdq) == 0;
                double t = j->efac[k];
                double weight = use ? t : 0.0;
                double value = use ? (double)v * t : 0.0;
                /* numpy's sum over axis 0 starts from the first imset's value */
                efacsum = k == 0 ? weight : efacsum + weight;
                total = k == 0 ? value : total + value;
                if (last) {
                    double var = 0.0;
                    if (use) {
                        double counts = (double)v * t;
                        counts += j->sky[k];
                        counts = max0(counts);
                        var = counts / j->gain;
                        var += j->rog2;
                        counts *= j->scale;
                        counts = counts * counts;
                        var += counts;
                    }
                    sumvar = k == 0 ? var : sumvar + var;
                    uint16_t clean = (uint16_t)(dqk & ~DATAREJECT);
                    dq_or |= clean;
                    all_rejected &= rejected;
                    j->rejected[k * npix + p] = (uint8_t)rejected;
                    nrej += rejected;
                    j->input_dq[k * npix + p] = !j->crmask ? dqk
                        : (uint16_t)(rejected ? (clean | DATAREJECT) : clean);
                }
            }
            float old = ave[p];
            if (efacsum > 0) ave[p] = (float)(total / efacsum);
            else ave[p] = last ? (float)j->fillval : old;
            if (last) {
                double err = (efacsum > 0 ? sqrt(sumvar) / efacsum : j->fillval) * j->texpt;
                j->out_err[p] = (float)err;
                j->out_data[p] = ave[p] * (float)j->texpt + (float)j->skysum;
                j->out_dq[p] = (uint16_t)(dq_or | (all_rejected ? DATAREJECT : 0u));
            }
        }
    }
    return nrej;
}

static int check_size(Py_buffer *view, Py_ssize_t count, Py_ssize_t itemsize, const char *name)
{
    if (view->len != count * itemsize) {
        PyErr_Format(PyExc_ValueError, "crreject: %s has %zd bytes, expected %zd", name,
                     view->len, count * itemsize);
        return 0;
    }
    return 1;
}

static PyObject *
reject(PyObject *self, PyObject *args)
{
    Py_buffer b[12];
    int nb = 0;
    Job j;
    memset(&j, 0, sizeof(j));
    memset(b, 0, sizeof(b));
    if (!PyArg_ParseTuple(args, "y*y*nnny*y*y*y*idddddddIpw*w*w*w*w*",
                          &b[0], &b[1], &j.nexp, &j.ny, &j.nx, &b[2], &b[3], &b[4], &b[5],
                          &j.median, &j.psig2, &j.rog2, &j.gain, &j.scale, &j.fillval,
                          &j.texpt, &j.skysum, &j.badinpdq, &j.crmask,
                          &b[6], &b[7], &b[8], &b[9], &b[10])) {
        return NULL;
    }
    nb = 11;
    PyObject *result = NULL;
    float *pic = NULL, *ave = NULL, *avevar = NULL, *work = NULL;
    uint8_t *hit = NULL;
    Py_ssize_t npix = j.ny * j.nx, n = j.nexp * npix;
    if (j.nexp < 1 || j.ny < 1 || j.nx < 1 || b[5].len % (2 * (Py_ssize_t)sizeof(int64_t)) ||
            b[4].len % (Py_ssize_t)sizeof(double) || b[4].len == 0 || !(j.gain > 0)) {
        PyErr_SetString(PyExc_ValueError, "crreject: bad shape, sigmas, offsets or gain");
        goto done;
    }
    j.niter = b[4].len / (Py_ssize_t)sizeof(double);
    j.noff = b[5].len / (2 * (Py_ssize_t)sizeof(int64_t));
    if (!check_size(&b[0], n, 4, "data") || !check_size(&b[1], n, 2, "dq") ||
            !check_size(&b[2], j.nexp, 8, "efac") || !check_size(&b[3], j.nexp, 8, "sky") ||
            !check_size(&b[6], npix, 4, "out data") || !check_size(&b[7], npix, 4, "out err") ||
            !check_size(&b[8], npix, 2, "out dq") || !check_size(&b[9], n, 2, "input dq") ||
            !check_size(&b[10], n, 1, "rejected")) {
        goto done;
    }
    j.data = b[0].buf; j.dq = b[1].buf; j.efac = b[2].buf; j.sky = b[3].buf;
    j.sig2 = b[4].buf; j.offsets = b[5].buf;
    j.out_data = b[6].buf; j.out_err = b[7].buf; j.out_dq = b[8].buf;
    j.input_dq = b[9].buf; j.rejected = b[10].buf;
    pic = malloc(n * sizeof(float));
    ave = malloc(npix * sizeof(float));
    avevar = malloc(npix * sizeof(float));
    hit = malloc(n);
    work = malloc(j.nexp * sizeof(float));
    if (!pic || !ave || !avevar || !hit || !work) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t nrej;
    Py_BEGIN_ALLOW_THREADS
    nrej = run(&j, pic, ave, avevar, hit, work);
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(nrej);
done:
    free(pic); free(ave); free(avevar); free(hit); free(work);
    for (int i = 0; i < nb; i++) PyBuffer_Release(&b[i]);
    return result;
}

/* ---------------------------------------------------------------- the sky mode (SKYSUB mode)
 *
 * sky_stats gives the number of DQ-0 pixels, their minimum and their sum in NumPy's order
 * (numpy's pairwise summation of the float64 values, so the mean is numpy's to the bit);
 * sky_histogram counts them in 1-DN bins of the truncated value. The caller derives the
 * histogram's range from the first and takes the mode from the second. */

static double pairwise_sum(const double *a, Py_ssize_t n)
{
    if (n < 8) {
        double res = 0.;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        Py_ssize_t i;
        for (int q = 0; q < 8; q++) r[q] = a[q];
        for (i = 8; i < n - (n % 8); i += 8) {
            for (int q = 0; q < 8; q++) r[q] += a[i + q];
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

static PyObject *
sky_stats(PyObject *self, PyObject *args)
{
    Py_buffer image, dq;
    if (!PyArg_ParseTuple(args, "y*y*", &image, &dq)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t npix = image.len / 4, n = 0;
    double *values = NULL, vmin = 0.0, total = 0.0;
    if (image.len % 4 || dq.len != npix * 2) {
        PyErr_SetString(PyExc_ValueError, "sky_stats: image (float32) and dq (uint16) differ");
        goto done;
    }
    values = malloc((npix ? npix : 1) * sizeof(double));
    if (!values) { PyErr_NoMemory(); goto done; }
    const float *im = image.buf;
    const uint16_t *q = dq.buf;
    Py_BEGIN_ALLOW_THREADS
    int nan = 0;
    for (Py_ssize_t p = 0; p < npix; p++) {
        if (q[p] == 0) values[n++] = (double)im[p];
    }
    if (n) {
        vmin = values[0];
        for (Py_ssize_t i = 0; i < n; i++) {
            if (isnan(values[i])) nan = 1;
            else if (values[i] < vmin) vmin = values[i];
        }
        if (nan || isnan(vmin)) vmin = NAN;
        total = pairwise_sum(values, n);
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("ndd", n, vmin, total);
done:
    free(values);
    PyBuffer_Release(&image);
    PyBuffer_Release(&dq);
    return result;
}

static PyObject *
sky_histogram(PyObject *self, PyObject *args)
{
    Py_buffer image, dq, hist;
    long long low;
    if (!PyArg_ParseTuple(args, "y*y*Lw*", &image, &dq, &low, &hist)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t npix = image.len / 4, nbins = hist.len / 8;
    if (image.len % 4 || dq.len != npix * 2 || hist.len % 8) {
        PyErr_SetString(PyExc_ValueError, "sky_histogram: bad image, dq or histogram");
        goto done;
    }
    const float *im = image.buf;
    const uint16_t *q = dq.buf;
    int64_t *h = hist.buf;
    double lo = (double)low, hi = (double)low + (double)nbins;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t p = 0; p < npix; p++) {
        if (q[p]) continue;
        double t = trunc((double)im[p]);
        if (t >= lo && t < hi) h[(int64_t)t - low]++;  /* NaN fails both tests */
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    PyBuffer_Release(&image);
    PyBuffer_Release(&dq);
    PyBuffer_Release(&hist);
    return result;
}

static PyMethodDef crreject_methods[] = {
    {"reject", reject, METH_VARARGS,
     "reject(data, dq, nexp, ny, nx, efac, sky, sig2, offsets, median, psig2, rog2, gain, "
     "scale, fillval, texpt, skysum, badinpdq, crmask, out_data, out_err, out_dq, "
     "input_dq, rejected) -> nrej: the CR-SPLIT rejection (see the file's comment)."},
    {"sky_stats", sky_stats, METH_VARARGS,
     "sky_stats(image, dq) -> (n, min, sum) of the DQ-0 pixels (numpy's pairwise sum)."},
    {"sky_histogram", sky_histogram, METH_VARARGS,
     "sky_histogram(image, dq, low, hist): count the DQ-0 pixels' trunc(value) - low."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef crreject_module = {
    PyModuleDef_HEAD_INIT, "_crreject", "STIS CR-SPLIT rejection, compiled.", -1,
    crreject_methods,
};

PyMODINIT_FUNC
PyInit__crreject(void)
{
    return PyModule_Create(&crreject_module);
}
