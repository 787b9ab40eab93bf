/* SPDX-License-Identifier: BSD-2-Clause */
/* Bump allocator with a hard cap. One per message (or per request scope); freed all at once. */
#ifndef SB_ARENA_H
#define SB_ARENA_H

#include "sb/base-t.h"

struct sb_arena_chunk;

struct sb_arena {
    char *cur;                     /* next free byte in the current chunk */
    char *end;                     /* end of the current chunk */
    struct sb_arena_chunk *chunks; /* heap chunks, newest first */
    size_t total;                  /* bytes taken from the heap so far */
    size_t cap;                    /* maximum heap bytes (0 = unlimited) */
    char *first;                   /* caller-provided first block (may be NULL) */
    size_t first_len;
};

/* Set up <a> over an optional caller block <buf> of <len> bytes (use it first, no heap), growing on
 * the heap up to <cap> bytes in total (0 = no limit). */
void sb_arena_init(struct sb_arena *a, void *buf, size_t len, size_t cap);
/* 8-byte aligned, uninitialised. NULL when the cap is reached or malloc fails. */
void *sb_arena_alloc(struct sb_arena *a, size_t n);
void *sb_arena_zalloc(struct sb_arena *a, size_t n);
/* Copy <n> bytes into the arena. */
char *sb_arena_dup(struct sb_arena *a, const void *p, size_t n);
/* Forget every allocation; keeps the first heap chunk for reuse. */
void sb_arena_reset(struct sb_arena *a);
/* Free all heap chunks. */
void sb_arena_deinit(struct sb_arena *a);

/* Test hook: when non-zero, the Nth heap chunk request from now fails (1 = the next one). */
extern int sb_arena_fail_after;

#endif
