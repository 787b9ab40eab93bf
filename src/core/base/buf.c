/* SPDX-License-Identifier: BSD-2-Clause */
/* Refcounted buffers and the sticky-error writer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/buf.h"

struct sb_buf *sb_buf_new(size_t cap)
{
    if (cap > UINT32_MAX)
        return NULL;
    struct sb_buf *b = malloc(sizeof(*b) + cap + 1);
    if (!b)
        return NULL;
    b->refs = 1;
    b->len = 0;
    b->cap = (uint32_t)cap;
    return b;
}

struct sb_buf *sb_buf_ref(struct sb_buf *b)
{
    b->refs++;
    return b;
}

void sb_buf_unref(struct sb_buf *b)
{
    if (b && --b->refs == 0)
        free(b);
}

void sb_wbuf_put(struct sb_wbuf *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (n > w->cap - w->len) {
        w->err = SB_ENOSPC;
        return;
    }
    if (n)
        memcpy(w->p + w->len, p, n);
    w->len += n;
}

void sb_wbuf_str(struct sb_wbuf *w, sb_str s)
{
    sb_wbuf_put(w, s.p, s.len);
}

void sb_wbuf_cstr(struct sb_wbuf *w, const char *s)
{
    sb_wbuf_put(w, s, strlen(s));
}

void sb_wbuf_u64(struct sb_wbuf *w, uint64_t v)
{
    char tmp[20];
    sb_wbuf_put(w, tmp, sb_u64_to_dec(v, tmp));
}

void sb_wbuf_printf(struct sb_wbuf *w, const char *fmt, ...)
{
    if (w->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = w->cap - w->len;
    int n = vsnprintf(w->p + w->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        w->err = SB_ENOSPC;
        return;
    }
    w->len += (size_t)n;
}
