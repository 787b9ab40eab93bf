/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by the pseudo-variable engine, the transformations, format strings, value
 * helpers and AVP lists (pv*.c, tr*.c, fmt.c, val.c, avp.c). Not part of the module API. */
#ifndef SB_SCRIPT_PV_INT_H
#define SB_SCRIPT_PV_INT_H

#include <pthread.h>

#include "sb/arena.h"
#include "sb/base.h"
#include "sb/script.h"

/* ---- check-time diagnostics ---------------------------------------------------------------- */

/* Report an error at <off> bytes past the column <fx> points at. <fx> or its diag may be NULL
 * (the error is then only returned). */
void sb__fx_error(struct sb_fixup *fx, uint32_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- core tables (terminated by name == NULL) ---------------------------------------------- */

extern const struct sb_pv_def sb__pv_msg_defs[];
extern const struct sb_pv_def sb__pv_var_defs[];
extern const struct sb_tr_def sb__tr_str_defs[];
extern const struct sb_tr_def sb__tr_sip_defs[];
extern const struct sb_tr_def sb__tr_net_defs[];

/* ---- parsing ------------------------------------------------------------------------------- */

/* Parse the pseudo-variable at the start of <s> (<n> bytes, already in the arena <a>, which the
 * result borrows from). <off> is the offset of <s> from where <fx> points, for columns. Returns
 * the bytes consumed or < 0 after reporting. */
int sb__pv_parse_span(const char *s, size_t n, struct sb_pv *out, struct sb_arena *a,
                      struct sb_fixup *fx, uint32_t off, unsigned depth);
/* Parse the inside of one "{class.name,arg,...}" (without the braces) into <out>. */
int sb__tr_parse(const char *s, size_t n, struct sb_tr *out, struct sb_arena *a,
                 struct sb_fixup *fx, uint32_t off, unsigned depth);
/* Apply the transformations of <pv> to *v in order. A failing one leaves *v NULL and ends the
 * chain (not an error for the caller). */
void sb__tr_chain(struct sb_sctx *ctx, const struct sb_pv *pv, struct sb_val *v);

#define SB__PV_MAX_DEPTH 8 /* nesting of variables inside subnames, indexes and arguments */

/* ---- interned names ($var slots, AVP ids) -------------------------------------------------- */

/* A grow-only table of names guarded by <lock>; ids are indexes. */
struct sb__names {
    pthread_mutex_t lock;
    char **names; /* heap, NUL-terminated, never freed (process lifetime) */
    uint32_t n, cap;
};
#define SB__NAMES_INIT                                                                             \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0                                                      \
    }

int sb__names_intern(struct sb__names *t, sb_str name, uint32_t *id);
sb_str sb__names_get(struct sb__names *t, uint32_t id);

/* ---- values -------------------------------------------------------------------------------- */

static inline void sb__val_null(struct sb_val *v)
{
    v->type = SB_VAL_NULL;
    v->i = 0;
    v->s = SB_STR_NULL;
}
static inline void sb__val_int(struct sb_val *v, int32_t i)
{
    v->type = SB_VAL_INT;
    v->i = i;
    v->s = SB_STR_NULL;
}
static inline void sb__val_str(struct sb_val *v, sb_str s)
{
    v->type = SB_VAL_STR;
    v->i = 0;
    v->s = s.p ? s : SB_STR("");
}

/* Deep copy <src> into <dst> with a heap string (NUL-terminated). Returns 0 or SB_ENOMEM
 * (then <dst> is untouched). */
int sb__val_heap_copy(struct sb_val *dst, const struct sb_val *src);
/* Free the heap string of a value made by sb__val_heap_copy; leaves it NULL. */
void sb__val_heap_free(struct sb_val *v);

/* Render an int into ctx->scratch. */
int sb__int_str(struct sb_sctx *ctx, int32_t i, sb_str *out);

/* A string built in an arena: grows by copying (the old block stays in the arena, which is
 * scratch). The first failure sticks. */
struct sb__sbuf {
    struct sb_arena *a;
    char *p;
    size_t len, cap;
    int err;
};
void sb__sbuf_init(struct sb__sbuf *b, struct sb_arena *a, size_t hint);
void sb__sbuf_put(struct sb__sbuf *b, const void *p, size_t n);
static inline void sb__sbuf_str(struct sb__sbuf *b, sb_str s)
{
    sb__sbuf_put(b, s.p, s.len);
}
static inline void sb__sbuf_ch(struct sb__sbuf *b, char c)
{
    sb__sbuf_put(b, &c, 1);
}
/* Returns 0 and the string, or the sticky error. */
int sb__sbuf_done(struct sb__sbuf *b, sb_str *out);

/* ---- transformation helpers ---------------------------------------------------------------- */

/* The input as a string (an int is rendered into scratch). SB_EINVAL for NULL. */
int sb__tr_in_str(struct sb_sctx *ctx, const struct sb_val *v, sb_str *out);
/* Argument <i> as an int / a string; SB_EINVAL when absent or not convertible. */
int sb__tr_arg_int(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned i, int32_t *out);
int sb__tr_arg_str(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned i, sb_str *out);
/* At check time: each argument i with bit i set in <mask>, when constant, must be a number. */
int sb__tr_fix_int_args(struct sb_fixup *fx, struct sb_tr *tr, unsigned mask);

/* Per-thread state release, called by sb_pv_worker_exit(). */
void sb__vars_thread_exit(void);
void sb__tr_str_thread_exit(void);
void sb__tr_net_thread_exit(void);

#endif
