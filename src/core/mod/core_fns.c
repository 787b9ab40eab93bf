/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions: the table of the "core" pseudo-module, logging (xlog, log) and small
 * request-state functions. The Request-URI edits, flags and forwarding live in core_fns_*.c. */
#include <stdlib.h>
#include <string.h>

#include "core_fns.h"
#include "sb/base.h"
#include "sb/core_cfg.h"
#include "sb/log.h"
#include "sb/script.h"

/* ---- xlog / log ---------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int level;
} levels[] = {
    {"L_ALERT", SB_LOG_ALERT}, {"L_CRIT", SB_LOG_CRIT},     {"L_ERR", SB_LOG_ERR},
    {"L_WARN", SB_LOG_WARN},   {"L_NOTICE", SB_LOG_NOTICE}, {"L_INFO", SB_LOG_INFO},
    {"L_DBG", SB_LOG_DEBUG},
};

/* "L_INFO", or a number -3..4 (as an int or as text), into *level. Returns 0 or SB_EINVAL. */
static int level_parse(const struct sb_val *v, int *level)
{
    int32_t n;
    if (v->type != SB_VAL_NULL && sb_val_to_int(v, &n)) {
        if (n < SB_LOG_ALERT || n > SB_LOG_DEBUG)
            return SB_EINVAL;
        *level = n;
        return 0;
    }
    if (v->type != SB_VAL_STR)
        return SB_EINVAL;
    sb_str s = sb_str_trim(v->s);
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (sb_str_eq(s, sb_str_cstr(levels[i].name))) {
            *level = levels[i].level;
            return 0;
        }
    }
    return SB_EINVAL;
}

/* Level arguments are checked when constant. The first argument of a one-argument call is the
 * text, not a level, so a constant that is no level name is left for run time to decide. */
static int fix_level(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    (void)fx;
    int lvl;
    if (level_parse(in, &lvl) == 0)
        *out = (void *)(intptr_t)(lvl + 16); /* never NULL: -3 + 16 > 0 */
    return 0;
}

static void emit(int level, sb_str text)
{
    /* scripts end their lines with "\n" for OpenSIPS's syslog; our sink adds its own */
    while (text.len && (text.p[text.len - 1] == '\n' || text.p[text.len - 1] == '\r'))
        text.len--;
    sb_log(level, "%.*s", SB_STR_ARG(text));
}

/* Arguments ([level,] text) into *level (<dflt> without one; L_ERR after a warning for a bad one)
 * and *text. Returns 0 or SB_ENOMEM. */
static int log_args(struct sb_sctx *ctx, const struct sb_arg *a, int dflt, int *level, sb_str *text)
{
    *level = dflt;
    if (!a[1].present) {
        if (a[0].v.type == SB_VAL_STR)
            *text = a[0].v.s;
        else if (sb_val_to_str(ctx, &a[0].v, text) < 0)
            return SB_ENOMEM;
        return 0;
    }
    *text = a[1].v.s;
    if (a[0].fixed) {
        *level = (int)((intptr_t)a[0].fixed - 16);
    } else if (level_parse(&a[0].v, level) != 0) {
        SB_WARN("script: unknown log level, using L_ERR");
        *level = SB_LOG_ERR;
    }
    return 0;
}

static sb_res w_xlog(struct sb_sctx *ctx, const struct sb_arg *a)
{
    sb_str text;
    int level;
    if (log_args(ctx, a, SB_LOG_ERR, &level, &text) != 0)
        return sb_res_error(SB_ENOMEM);
    const struct sb_core_cfg *cfg = ctx->script ? sb_script_core(ctx->script) : NULL;
    int threshold = cfg ? cfg->xlog_level : __atomic_load_n(&sb_log_level, __ATOMIC_RELAXED);
    if (level <= threshold)
        emit(level, text);
    return sb_res_true();
}

static sb_res w_log(struct sb_sctx *ctx, const struct sb_arg *a)
{
    sb_str text;
    int level;
    if (log_args(ctx, a, SB_LOG_ERR, &level, &text) != 0)
        return sb_res_error(SB_ENOMEM);
    if (sb_log_enabled(level))
        emit(level, text);
    return sb_res_true();
}

/* ---- request state ------------------------------------------------------------------------- */

static sb_res w_force_rport(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)a;
    if (!ctx->rs)
        return sb_res_false();
    ctx->rs->force_rport = true;
    return sb_res_true();
}

/* ---- the table ----------------------------------------------------------------------------- */

#define MSG  SB_ROUTE_MSG
#define RURI SB__CF_RURI_ROUTES
#define STR                                                                                        \
    {                                                                                              \
        .kind = SB_ARG_STR                                                                         \
    }
#define INT                                                                                        \
    {                                                                                              \
        .kind = SB_ARG_INT                                                                         \
    }
#define OPTSTR                                                                                     \
    {                                                                                              \
        .kind = SB_ARG_STR, .flags = SB_ARGF_OPT                                                   \
    }
#define MFLAG                                                                                      \
    {                                                                                              \
        .kind = SB_ARG_ANY, .fixup = sb__cf_fix_mflag                                              \
    }
#define BFLAG                                                                                      \
    {                                                                                              \
        .kind = SB_ARG_ANY, .fixup = sb__cf_fix_bflag                                              \
    }
#define BFLAG2                                                                                     \
    {                                                                                              \
        .kind = SB_ARG_ANY, .flags = SB_ARGF_OPT, .fixup = sb__cf_fix_bflag                        \
    }
#define LEVEL                                                                                      \
    {                                                                                              \
        .kind = SB_ARG_ANY, .fixup = fix_level                                                     \
    }

#define FN1(n, f, arg, r)                                                                          \
    {                                                                                              \
        .name = n, .fn = f, .n_args = 1, .args = {arg}, .routes = r                                \
    }
#define FN0(n, f, r)                                                                               \
    {                                                                                              \
        .name = n, .fn = f, .routes = r                                                            \
    }

const struct sb_mod_fn sb__core_fns[] = {
    {.name = "xlog", .fn = w_xlog, .n_args = 2, .args = {LEVEL, OPTSTR}, .routes = SB_ROUTE_ALL},
    {.name = "log", .fn = w_log, .n_args = 2, .args = {LEVEL, OPTSTR}, .routes = SB_ROUTE_ALL},

    FN1("seturi", sb__cf_seturi, STR, RURI),
    FN1("rewriteuri", sb__cf_seturi, STR, RURI),
    FN1("sethost", sb__cf_sethost, STR, RURI),
    FN1("rewritehost", sb__cf_sethost, STR, RURI),
    FN1("sethostport", sb__cf_sethostport, STR, RURI),
    FN1("rewritehostport", sb__cf_sethostport, STR, RURI),
    FN1("setuser", sb__cf_setuser, STR, RURI),
    FN1("rewriteuser", sb__cf_setuser, STR, RURI),
    FN1("setport", sb__cf_setport, {.kind = SB_ARG_ANY}, RURI),
    FN1("rewriteport", sb__cf_setport, {.kind = SB_ARG_ANY}, RURI),
    FN1("prefix", sb__cf_prefix, STR, RURI),
    FN1("strip", sb__cf_strip, INT, RURI),
    FN1("strip_tail", sb__cf_strip_tail, INT, RURI),
    FN0("revert_uri", sb__cf_revert_uri, RURI),
    FN1("setdsturi", sb__cf_setdsturi, STR, RURI),
    FN0("resetdsturi", sb__cf_resetdsturi, RURI),
    FN0("isdsturiset", sb__cf_isdsturiset, RURI),
    {.name = "append_branch",
     .fn = sb__cf_append_branch,
     .n_args = 2,
     .args = {OPTSTR, {.kind = SB_ARG_ANY, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE},
    {.name = "append_msg_branch",
     .fn = sb__cf_append_branch,
     .n_args = 2,
     .args = {OPTSTR, {.kind = SB_ARG_ANY, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE},

    FN1("setflag", sb__cf_setflag, MFLAG, MSG),
    FN1("resetflag", sb__cf_resetflag, MFLAG, MSG),
    FN1("isflagset", sb__cf_isflagset, MFLAG, MSG),
    {.name = "setbflag",
     .fn = sb__cf_setbflag,
     .n_args = 2,
     .args = {BFLAG, BFLAG2},
     .routes = MSG},
    {.name = "resetbflag",
     .fn = sb__cf_resetbflag,
     .n_args = 2,
     .args = {BFLAG, BFLAG2},
     .routes = MSG},
    {.name = "isbflagset",
     .fn = sb__cf_isbflagset,
     .n_args = 2,
     .args = {BFLAG, BFLAG2},
     .routes = MSG},

    FN0("force_rport", w_force_rport, SB_ROUTE_REQUEST | SB_ROUTE_BRANCH | SB_ROUTE_FAILURE),
    {.name = "force_send_socket",
     .fn = sb__cf_force_send_socket,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .fixup = sb__cf_fix_socket, .free_fixup = free}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_BRANCH | SB_ROUTE_FAILURE},
    {.name = "force_tcp_alias",
     .fn = sb__cf_force_tcp_alias,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_BRANCH | SB_ROUTE_FAILURE},
    FN1("is_myself", sb__cf_is_myself, STR, SB_ROUTE_ALL),
    FN1("forward", sb__cf_forward, OPTSTR, RURI),
    FN1("send", sb__cf_send, STR, RURI),
    {.name = "raise_event",
     .fn = sb__cf_raise_event,
     .n_args = 3,
     .args = {{.kind = SB_ARG_STR, .fixup = sb__cf_fix_event},
              {.kind = SB_ARG_VAR, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_VAR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_ALL},
    {.name = NULL},
};
