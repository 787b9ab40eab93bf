/* SPDX-License-Identifier: BSD-2-Clause */
/* Internal to src/core/msg: a sorted lump set (the message's own, or a builder's private copy) and
 * the piece iterator that the flat, iovec and range writers share. */
#ifndef SB_MSG_LUMP_INT_H
#define SB_MSG_LUMP_INT_H

#include "sb/buf.h"
#include "sb/msg_build.h"

/* A set of non-overlapping lumps sorted by (offset, delete after inserts, order of addition). The
 * array may start in caller storage; it grows in <arena>. */
struct sb__lumps {
    struct sb_lump *v;
    uint32_t n;
    uint32_t cap;
    uint32_t limit; /* offsets and spans must lie in [0, limit] */
    struct sb_arena *arena;
};

enum {
    SB__LUMP_FRONT = 1 << 0,      /* go before the lumps of the same kind at the same offset */
    SB__LUMP_ABSORB = 1 << 1,     /* a delete that drops earlier lumps strictly inside it */
    SB__LUMP_ABSORB_END = 1 << 2, /* ... and the inserts at its end (parameters of a value) */
};

/* Add one lump (<del> bytes at <off> replaced by <ins>). Returns 0 or SB_EINVAL / SB_ENOMEM; on
 * error the set is unchanged. */
int sb__lumps_add(struct sb__lumps *s, uint32_t off, uint32_t del, sb_str ins, unsigned flags);

/* Index of the first lump at or after byte <off>. */
uint32_t sb__lumps_lower(const struct sb__lumps *s, uint32_t off);
/* Length of the whole output: <s->limit> bytes of message with every lump applied. */
size_t sb__lumps_total(const struct sb__lumps *s);

/* The set of <m>'s own lumps, and the write-back that keeps the first error sticky. */
static inline struct sb__lumps sb__lumps_of(struct sb_msg *m)
{
    return (struct sb__lumps){m->lumps, m->n_lumps, m->cap_lumps, m->len, &m->arena};
}
int sb__lumps_commit(struct sb_msg *m, const struct sb__lumps *s, int rc);

/* Which lumps a walk over [a, b) takes: all of them (the whole message), or only those strictly
 * inside (an insert at a or b belongs to the neighbouring text; used to copy one header field). */
enum sb__lump_range {
    SB__RANGE_ALL = 0,
    SB__RANGE_INNER = 1,
};

/* Pieces of the output for the bytes [a, b) of <buf> with the lumps of <s> applied. */
struct sb__lump_it {
    const struct sb__lumps *s;
    const char *buf;
    uint32_t pos, end;
    uint32_t i;    /* next lump to look at */
    bool pending;  /* v[i]'s text comes next */
    uint8_t range; /* enum sb__lump_range */
    uint32_t a;
};

void sb__lump_it_init(struct sb__lump_it *it, const struct sb__lumps *s, const char *buf,
                      uint32_t a, uint32_t b, enum sb__lump_range range);
/* The next non-empty piece, or false at the end. */
bool sb__lump_it_next(struct sb__lump_it *it, sb_str *piece);

/* Length of the output of [a, b), and writing it. */
size_t sb__lumps_range_len(const struct sb__lumps *s, const char *buf, uint32_t a, uint32_t b,
                           enum sb__lump_range range);
void sb__lumps_range_write(const struct sb__lumps *s, const char *buf, uint32_t a, uint32_t b,
                           enum sb__lump_range range, struct sb_wbuf *w);

/* The text added before header lines appended to a header section whose last line has no line
 * end (a datagram without the empty line); added once per set. */
int sb__lumps_eol_fix(struct sb__lumps *s, const struct sb_msg *m);

#endif
