/* SPDX-License-Identifier: BSD-2-Clause */
/* Bump allocator: a caller block first, then heap chunks up to a cap. */
#include <stdlib.h>
#include <string.h>

#include "sb/arena.h"

struct sb_arena_chunk {
    struct sb_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    _Alignas(16) char data[];
};

#define SB_ARENA_CHUNK 4096

int sb_arena_fail_after;

void sb_arena_init(struct sb_arena *a, void *buf, size_t len, size_t cap)
{
    a->first = buf;
    a->first_len = buf ? len : 0;
    a->cur = buf;
    a->end = buf ? (char *)buf + len : NULL;
    a->chunks = NULL;
    a->total = 0;
    a->cap = cap;
}

static void *arena_grow(struct sb_arena *a, size_t n)
{
    size_t size = n > SB_ARENA_CHUNK ? n : SB_ARENA_CHUNK;
    if (a->cap && a->total + size > a->cap) {
        if (a->total + n > a->cap)
            return NULL;
        size = a->cap - a->total;
    }
    if (sb_arena_fail_after && --sb_arena_fail_after == 0)
        return NULL;
    struct sb_arena_chunk *c = malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->next = a->chunks;
    c->size = size;
    a->chunks = c;
    a->total += size;
    a->cur = c->data + n;
    a->end = c->data + size;
    return c->data;
}

void *sb_arena_alloc(struct sb_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n == 0)
        n = 8;
    if (a->cur) {
        char *p = (char *)(((uintptr_t)a->cur + 7) & ~(uintptr_t)7);
        if (p <= a->end && (size_t)(a->end - p) >= n) {
            a->cur = p + n;
            return p;
        }
    }
    return arena_grow(a, n);
}

void *sb_arena_zalloc(struct sb_arena *a, size_t n)
{
    void *p = sb_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *sb_arena_dup(struct sb_arena *a, const void *p, size_t n)
{
    char *q = sb_arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

void sb_arena_reset(struct sb_arena *a)
{
    /* keep nothing but the caller block: a message-sized arena rarely spills, and a spill is
     * returned to malloc, which is cheaper than carrying an oversized chunk forever */
    sb_arena_deinit(a);
    a->cur = a->first;
    a->end = a->first ? a->first + a->first_len : NULL;
}

void sb_arena_deinit(struct sb_arena *a)
{
    struct sb_arena_chunk *c = a->chunks, *next;
    for (; c; c = next) {
        next = c->next;
        free(c);
    }
    a->chunks = NULL;
    a->total = 0;
}
