/* SPDX-License-Identifier: BSD-2-Clause */
/* Refcounted byte buffers (received datagrams, built messages) and a sticky-error writer. */
#ifndef SB_BUF_H
#define SB_BUF_H

#include "sb/base-t.h"

/* A refcounted heap buffer. <len> bytes of <data> are valid; <cap> were allocated. Single-thread
 * refcount: a buffer handed to another worker is handed over, not shared. */
struct sb_buf {
    uint32_t refs;
    uint32_t len;
    uint32_t cap;
    char data[];
};

struct sb_buf *sb_buf_new(size_t cap);
struct sb_buf *sb_buf_ref(struct sb_buf *b);
void sb_buf_unref(struct sb_buf *b);
/* Free the buffers the calling thread keeps for reuse (released buffers of up to 8 KB are kept
 * per thread, bounded; a thread's are freed when it exits). For leak checks and tests. */
void sb_buf_cache_drain(void);

/* A writer into caller memory. The first failure sticks: later puts do nothing and <err> keeps
 * SB_ENOSPC, so a builder checks once at the end. */
struct sb_wbuf {
    char *p;
    size_t len;
    size_t cap;
    int err;
};

static inline void sb_wbuf_init(struct sb_wbuf *w, char *p, size_t cap)
{
    w->p = p;
    w->len = 0;
    w->cap = cap;
    w->err = 0;
}
void sb_wbuf_put(struct sb_wbuf *w, const void *p, size_t n);
void sb_wbuf_str(struct sb_wbuf *w, sb_str s);
void sb_wbuf_cstr(struct sb_wbuf *w, const char *s);
void sb_wbuf_u64(struct sb_wbuf *w, uint64_t v);
void sb_wbuf_printf(struct sb_wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
