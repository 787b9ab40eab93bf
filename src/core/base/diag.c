/* SPDX-License-Identifier: BSD-2-Clause */
/* Diagnostics list: collected while checking, printed at the end. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sb/diag.h"

void sb_diag_init(struct sb_diag *d)
{
    d->head = NULL;
    d->tail = &d->head;
    d->n_errors = d->n_warnings = 0;
    d->max_errors = 100;
}

void sb_diag_free(struct sb_diag *d)
{
    struct sb_diag_entry *e = d->head, *next;
    for (; e; e = next) {
        next = e->next;
        free(e);
    }
    sb_diag_init(d);
}

void sb_diag_add(struct sb_diag *d, int sev, const char *file, uint32_t line, uint32_t col,
                 const char *fmt, ...)
{
    if (sev == SB_DIAG_ERROR)
        d->n_errors++;
    else
        d->n_warnings++;
    if (d->n_errors + d->n_warnings > (d->max_errors ? d->max_errors : 100))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* the file name is copied after the message: diagnostics outlive the parse that named the
     * file (a failed load frees its file table before the caller prints them) */
    size_t flen = file ? strlen(file) + 1 : 0;
    struct sb_diag_entry *e = malloc(sizeof(*e) + (size_t)n + 1 + flen);
    if (!e)
        return;
    va_start(ap, fmt);
    vsnprintf(e->msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    e->next = NULL;
    e->sev = (uint8_t)sev;
    e->file = file ? memcpy(e->msg + n + 1, file, flen) : NULL;
    e->line = line;
    e->col = col;
    *d->tail = e;
    d->tail = &e->next;
}

void sb_diag_print(const struct sb_diag *d, FILE *out)
{
    for (const struct sb_diag_entry *e = d->head; e; e = e->next) {
        const char *sev = e->sev == SB_DIAG_ERROR ? "error" : "warning";
        if (e->line)
            fprintf(out, "%s:%u:%u: %s: %s\n", e->file ? e->file : "<config>", e->line, e->col, sev,
                    e->msg);
        else
            fprintf(out, "%s: %s: %s\n", e->file ? e->file : "<config>", sev, e->msg);
    }
}
