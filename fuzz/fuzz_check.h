/* SPDX-License-Identifier: BSD-2-Clause */
/* What the fuzz targets share: the check that stops the run on a broken invariant (a trap, so that
 * the fuzzer keeps the input), and the checks on views into the input. */
#ifndef SB_FUZZ_CHECK_H
#define SB_FUZZ_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sb/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s: check failed, line %d: %s\n", __FILE__, __LINE__, #c);            \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* <s> is absent, or lies inside the <size> bytes at <base>. */
static inline void check_in(sb_str s, const char *base, size_t size)
{
    if (s.p == NULL) {
        CHECK(s.len == 0);
        return;
    }
    CHECK(s.p >= base && s.len <= size && (size_t)(s.p - base) <= size - s.len);
}

/* The same view, not merely equal bytes. */
static inline bool same(sb_str a, sb_str b)
{
    return a.p == b.p && a.len == b.len;
}

#endif
