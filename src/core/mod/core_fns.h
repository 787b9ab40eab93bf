/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions, split by theme over core_fns*.c; the table is in core_fns.c. Internal to
 * src/core/mod. */
#ifndef SB_CORE_FNS_H
#define SB_CORE_FNS_H

#include "sb/mod-t.h"

/* Routes that carry a request whose Request-URI / destination the script may edit. */
#define SB__CF_RURI_ROUTES (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH | SB_ROUTE_ERROR)

/* core_fns_uri.c: Request-URI and destination edits, the destination set */
sb_res sb__cf_seturi(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_sethost(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_sethostport(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_setuser(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_setport(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_prefix(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_strip(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_strip_tail(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_revert_uri(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_setdsturi(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_resetdsturi(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_isdsturiset(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_append_branch(struct sb_sctx *ctx, const struct sb_arg *a);

/* core_fns_flags.c: message and branch flags */
int sb__cf_fix_mflag(struct sb_fixup *fx, const struct sb_val *in, void **out);
int sb__cf_fix_bflag(struct sb_fixup *fx, const struct sb_val *in, void **out);
sb_res sb__cf_setflag(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_resetflag(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_isflagset(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_setbflag(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_resetbflag(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_isbflagset(struct sb_sctx *ctx, const struct sb_arg *a);

/* Named flags, OpenSIPS 3 style: a name gets the lowest free bit the first time the checker sees
 * it, in a process-wide table per kind (message flags, branch flags), so that modules reading a
 * flag name from a modparam (usrloc nat_bflag ...) agree with the script. Returns the bit
 * (0..31), SB_ENOENT for an unknown name when <create> is false, SB_ENOSPC when 32 names are
 * taken. A decimal "0".."31" is that bit. Any thread. */
enum { SB__FLAG_MSG = 0, SB__FLAG_BRANCH = 1 };
int sb__flag_bit(int kind, sb_str name, bool create);
/* The name given to a bit, or NULL. */
const char *sb__flag_name(int kind, unsigned bit);

/* core_fns_fwd.c: forwarding, sockets, "is this us" */
sb_res sb__cf_forward(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_send(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_is_myself(struct sb_sctx *ctx, const struct sb_arg *a);
sb_res sb__cf_force_send_socket(struct sb_sctx *ctx, const struct sb_arg *a);
int sb__cf_fix_socket(struct sb_fixup *fx, const struct sb_val *in, void **out);

/* core_fns_tcp.c: stream connections */
sb_res sb__cf_force_tcp_alias(struct sb_sctx *ctx, const struct sb_arg *a);

/* core_fns_evi.c: raise_event */
int sb__cf_fix_event(struct sb_fixup *fx, const struct sb_val *in, void **out);
sb_res sb__cf_raise_event(struct sb_sctx *ctx, const struct sb_arg *a);

#endif
