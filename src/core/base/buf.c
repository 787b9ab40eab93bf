/* SPDX-License-Identifier: BSD-2-Clause */
/* Refcounted buffers and the sticky-error writer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/buf.h"
#include "sb/tkey.h"

/* ---- per-thread cache --------------------------------------------------------------------------
 * Every received datagram and every built message takes a buffer, usually between 300 bytes and
 * 2 KB: just over what glibc keeps in its per-thread cache (1 KB), so each one went through the
 * locked arena and chunk consolidation. Buffers up to BUF_CLASSES * BUF_STEP bytes (header
 * included) are allocated in steps of BUF_STEP, and a released one goes on a list of its size in
 * the releasing thread, bounded per size and in total; the next buffer of that size reuses it. */
#define BUF_STEP        256
#define BUF_CLASSES     32 /* up to 8 KB */
#define BUF_PER_CLASS   32
#define BUF_CACHE_BYTES (256 * 1024)

struct buf_cache {
    struct sb_buf *head[BUF_CLASSES + 1]; /* by size / BUF_STEP */
    uint16_t n[BUF_CLASSES + 1];
    size_t bytes;
};

/* The calling thread's cache, made on its first release; it is also the thread-specific value of
 * bc_key, whose destructor empties it at thread exit. */
static _Thread_local struct buf_cache *bc;
static _Thread_local bool bc_dead; /* the thread is exiting: no caching any more */

/* The link of a cached buffer lives in its data, which is free then: at the first pointer-aligned
 * place, where a leak checker's scan finds it too. */
static inline struct sb_buf **bc_slot(struct sb_buf *b)
{
    uintptr_t a = ((uintptr_t)b->data + _Alignof(void *) - 1) & ~(uintptr_t)(_Alignof(void *) - 1);
    return (struct sb_buf **)a;
}

static inline struct sb_buf *bc_next(struct sb_buf *b)
{
    return *bc_slot(b);
}

static inline void bc_link(struct sb_buf *b, struct sb_buf *next)
{
    *bc_slot(b) = next;
}

static void bc_drain(struct buf_cache *c)
{
    for (unsigned k = 0; k <= BUF_CLASSES; k++) {
        struct sb_buf *b = c->head[k];
        while (b) {
            struct sb_buf *next = bc_next(b);
            free(b);
            b = next;
        }
        c->head[k] = NULL;
        c->n[k] = 0;
    }
    c->bytes = 0;
}

/* At thread exit: release the cache; a buffer released later (another destructor) is freed. */
static void bc_exit(void *p)
{
    bc_drain(p);
    free(p);
    bc = NULL;
    bc_dead = true;
}

static struct sb_tkey bc_key = SB_TKEY_INIT(bc_exit);

static struct buf_cache *bc_make(void)
{
    struct buf_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (sb_tkey_set(&bc_key, c) != 0) {
        free(c);
        return NULL;
    }
    bc = c;
    return c;
}

void sb_buf_cache_drain(void)
{
    if (bc)
        bc_drain(bc);
}

/* Bytes allocated for a buffer of <cap> data bytes, and its size class (0: not cached). */
static inline size_t buf_size(size_t cap, unsigned *cls)
{
    size_t n = sizeof(struct sb_buf) + cap + 1;
    if (n > (size_t)BUF_CLASSES * BUF_STEP) {
        *cls = 0;
        return n;
    }
    *cls = (unsigned)((n + BUF_STEP - 1) / BUF_STEP);
    return (size_t)*cls * BUF_STEP;
}

struct sb_buf *sb_buf_new(size_t cap)
{
    if (cap > UINT32_MAX - sizeof(struct sb_buf) - 1)
        return NULL;
    unsigned cls;
    size_t size = buf_size(cap, &cls);
    struct buf_cache *c = bc;
    struct sb_buf *b = cls && c ? c->head[cls] : NULL;
    if (b) {
        c->head[cls] = bc_next(b);
        c->n[cls]--;
        c->bytes -= size;
    } else {
        b = malloc(size);
        if (!b)
            return NULL;
    }
    b->refs = 1;
    b->len = 0;
    /* the whole allocation is usable; a released buffer's cap names its size class again */
    b->cap = (uint32_t)(size - sizeof(*b) - 1);
    return b;
}

struct sb_buf *sb_buf_ref(struct sb_buf *b)
{
    b->refs++;
    return b;
}

static void buf_release(struct sb_buf *b)
{
    unsigned cls;
    size_t size = buf_size(b->cap, &cls);
    struct buf_cache *c = bc;
    if (cls && !c && !bc_dead)
        c = bc_make();
    if (c && cls && c->n[cls] < BUF_PER_CLASS && c->bytes + size <= BUF_CACHE_BYTES) {
        bc_link(b, c->head[cls]);
        c->head[cls] = b;
        c->n[cls]++;
        c->bytes += size;
        return;
    }
    free(b);
}

void sb_buf_unref(struct sb_buf *b)
{
    if (b && --b->refs == 0)
        buf_release(b);
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
