/* Branch-free selects shared by the compiled kernels (included, not built on its own).
 *
 * `a` where `pick`, else `b`, by bit masks rather than branches, so that the loops using them
 * vectorise (with -ftrapping-math the compiler otherwise keeps a compare-and-branch). The
 * float select moves bits: a NaN, an infinity or a signed zero comes through unchanged.
 */
#ifndef HSTRAMP_NATIVE_SELECT_H
#define HSTRAMP_NATIVE_SELECT_H

#include <stdint.h>
#include <string.h>

static inline float
select_float(int pick, float a, float b)
{
    uint32_t x, y;
    const uint32_t mask = 0u - (uint32_t)(pick != 0);
    memcpy(&x, &a, sizeof(x));
    memcpy(&y, &b, sizeof(y));
    x = (x & mask) | (y & ~mask);
    memcpy(&a, &x, sizeof(x));
    return a;
}

static inline int
select_int(int pick, int a, int b)
{
    const int mask = -(pick != 0);
    return (a & mask) | (b & ~mask);
}

#endif
