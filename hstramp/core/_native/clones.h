/* CLONES: a function compiled twice, for AVX2 and for the baseline (included, not built on
 * its own).
 *
 * On x86_64 Linux with GCC, a function marked CLONES is built for both targets and the loader
 * picks one for the CPU (GCC target_clones, glibc ifunc). Wider vectors only: no FMA
 * (-ffp-contract=off holds in both), and addition, multiplication, division and square root
 * are IEEE-exact at any width, so both clones give the same bits. Building with
 * -DHSTRAMP_NO_CLONES (CFLAGS) keeps the baseline alone, to test that the two agree.
 */
#ifndef HSTRAMP_NATIVE_CLONES_H
#define HSTRAMP_NATIVE_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) \
    && !defined(HSTRAMP_NO_CLONES)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

#endif
