/* A kernel that proves the compiled path is built and reachable: the sum of a float64 buffer.
 *
 * Used by hstramp.core.native's self-check and its tests (buffer in, number out, GIL released).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
buffer_sum(PyObject *self, PyObject *args)
{
    Py_buffer view;
    double total = 0.0;

    if (!PyArg_ParseTuple(args, "y*", &view)) {
        return NULL;
    }
    if (view.len % (Py_ssize_t)sizeof(double) != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "buffer_sum: the buffer is not a whole number of float64");
        return NULL;
    }
    const double *values = (const double *)view.buf;
    Py_ssize_t n = view.len / (Py_ssize_t)sizeof(double);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        total += values[i];
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(total);
}

static PyMethodDef probe_methods[] = {
    {"buffer_sum", buffer_sum, METH_VARARGS, "Sum of a contiguous float64 buffer."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef probe_module = {
    PyModuleDef_HEAD_INIT, "_probe", "hstramp's compiled-path probe.", -1, probe_methods,
};

PyMODINIT_FUNC
PyInit__probe(void)
{
    return PyModule_Create(&probe_module);
}
