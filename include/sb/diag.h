/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics for configuration and script checking: collected, then all reported as
 * "file:line:col: error: message". */
#ifndef SB_DIAG_H
#define SB_DIAG_H

#include <stdio.h>

#include "sb/base-t.h"

enum sb_diag_sev {
    SB_DIAG_ERROR = 0,
    SB_DIAG_WARNING,
};

struct sb_diag_entry {
    struct sb_diag_entry *next;
    uint8_t sev;
    const char *file; /* the entry's own copy (NULL: none) */
    uint32_t line;    /* 1-based; 0 when the entry has no position */
    uint32_t col;     /* 1-based; 0 when unknown */
    char msg[];
};

struct sb_diag {
    struct sb_diag_entry *head, **tail;
    unsigned n_errors;
    unsigned n_warnings;
    unsigned max_errors; /* stop collecting past this many (0 = 100) */
};

void sb_diag_init(struct sb_diag *d);
void sb_diag_free(struct sb_diag *d);
void sb_diag_add(struct sb_diag *d, int sev, const char *file, uint32_t line, uint32_t col,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define sb_diag_error(d, file, line, col, ...)                                                     \
    sb_diag_add((d), SB_DIAG_ERROR, file, line, col, __VA_ARGS__)
#define sb_diag_warn(d, file, line, col, ...)                                                      \
    sb_diag_add((d), SB_DIAG_WARNING, file, line, col, __VA_ARGS__)
/* Print every entry in order: "file:line:col: error: message" (or "warning:"). */
void sb_diag_print(const struct sb_diag *d, FILE *out);

#endif
