/* SPDX-License-Identifier: BSD-2-Clause */
/* textops: regular-expression search and replace over the message text, the body, the
 * Request-URI and its user part (search, replace, subst ...). Patterns are PCRE2, compiled once
 * when constant, case-insensitive and multi-line (^ and $ at every line) as OpenSIPS's POSIX ones
 * were. Edits are lumps over the received message: an edit that overlaps an earlier one is refused
 * before it is recorded, so the message stays sendable. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/uri.h"

#define RE_OPTS  (PCRE2_CASELESS | PCRE2_MULTILINE)
#define MAX_REFS 10 /* \0 .. \9 */

static pcre2_code *re_compile(sb_str pat, uint32_t opts, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)(pat.p ? pat.p : ""), pat.len, opts, &code, &off, NULL);
    if (!re) {
        char msg[120];
        if (pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg)) < 0)
            snprintf(msg, sizeof(msg), "error %d", code);
        snprintf(err, errlen, "%s at offset %zu", msg, (size_t)off);
        return NULL;
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* Per-thread match data with room for \0 .. \9; released by exit_worker. */
static _Thread_local pcre2_match_data *tls_md;

static pcre2_match_data *md_get(void)
{
    if (!tls_md)
        tls_md = pcre2_match_data_create(MAX_REFS, NULL);
    return tls_md;
}

static void textops_exit_worker(unsigned worker)
{
    (void)worker;
    pcre2_match_data_free(tls_md);
    tls_md = NULL;
}

/* ---- regex arguments ----------------------------------------------------------------------- */

static int fix_re(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    char err[160];
    pcre2_code *re = re_compile(in->s, RE_OPTS, err, sizeof(err));
    if (!re) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col,
                      "argument %u of '%s': bad regular expression: %s", fx->arg_no, fx->fn_name,
                      err);
        return SB_EPARSE;
    }
    *out = re;
    return 0;
}

static void free_re(void *p)
{
    pcre2_code_free(p);
}

/* The pattern of argument <a>: fixed at check time, or compiled now into *tmp (the caller frees
 * it) when the argument was a variable. */
static const pcre2_code *arg_re(const struct sb_arg *a, pcre2_code **tmp)
{
    *tmp = NULL;
    if (a->fixed)
        return a->fixed;
    char err[160];
    if (!(*tmp = re_compile(a->v.s, RE_OPTS, err, sizeof(err))))
        SB_WARN("textops: bad regular expression '%.*s': %s", SB_STR_ARG(a->v.s), err);
    return *tmp;
}

/* ---- substitution expressions: /re/repl/flags ---------------------------------------------- */

struct piece {
    int16_t ref; /* -1: literal text[off .. off+len) */
    uint32_t off, len;
};

struct subst {
    pcre2_code *re;
    bool global;
    uint32_t n_pieces;
    char *text; /* literal bytes of the replacement, unescaped */
    struct piece pieces[];
};

static void subst_free(void *p)
{
    struct subst *s = p;
    if (!s)
        return;
    pcre2_code_free(s->re);
    free(s->text);
    free(s);
}

/* Parse "/re/repl/flags" (any delimiter: the first character). In the pattern an escaped
 * delimiter stands for itself and other escapes are the regex's; in the replacement \0..\9 are
 * the match and its groups, \\ a backslash, \n \r \t control characters. Flags: i (caseless), g
 * (every match). Returns NULL with <err> filled. */
static struct subst *subst_parse(sb_str e, char *err, size_t errlen)
{
    if (e.len < 4) {
        snprintf(err, errlen, "too short for /re/repl/flags");
        return NULL;
    }
    char d = e.p[0];
    char *pat = malloc(e.len), *text = malloc(e.len + 1);
    struct subst *s = calloc(1, sizeof(*s) + e.len * sizeof(struct piece));
    size_t i = 1, np = 0, nt = 0;
    if (!pat || !text || !s) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (; i < e.len && e.p[i] != d; i++) {
        if (e.p[i] == '\\' && i + 1 < e.len && e.p[i + 1] == d)
            i++;
        else if (e.p[i] == '\\' && i + 1 < e.len)
            pat[np++] = e.p[i++];
        pat[np++] = e.p[i];
    }
    if (i >= e.len) {
        snprintf(err, errlen, "missing '%c' after the pattern", d);
        goto fail;
    }
    for (i++; i < e.len && e.p[i] != d; i++) {
        char c = e.p[i];
        if (c == '\\' && i + 1 < e.len) {
            char n = e.p[++i];
            if (n >= '0' && n <= '9') {
                s->pieces[s->n_pieces++] = (struct piece){.ref = (int16_t)(n - '0')};
                continue;
            }
            c = n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : n;
        }
        struct piece *last = s->n_pieces ? &s->pieces[s->n_pieces - 1] : NULL;
        if (last && last->ref < 0 && last->off + last->len == nt)
            last->len++;
        else
            s->pieces[s->n_pieces++] = (struct piece){.ref = -1, .off = (uint32_t)nt, .len = 1};
        text[nt++] = c;
    }
    if (i >= e.len) {
        snprintf(err, errlen, "missing '%c' after the replacement", d);
        goto fail;
    }
    uint32_t opts = PCRE2_MULTILINE;
    for (i++; i < e.len; i++) {
        if (e.p[i] == 'i')
            opts |= PCRE2_CASELESS;
        else if (e.p[i] == 'g')
            s->global = true;
        else {
            snprintf(err, errlen, "unknown flag '%c'", e.p[i]);
            goto fail;
        }
    }
    char rerr[160];
    if (!(s->re = re_compile((sb_str){pat, np}, opts, rerr, sizeof(rerr)))) {
        snprintf(err, errlen, "bad regular expression: %s", rerr);
        goto fail;
    }
    uint32_t groups = 0;
    pcre2_pattern_info(s->re, PCRE2_INFO_CAPTURECOUNT, &groups);
    for (uint32_t k = 0; k < s->n_pieces; k++) {
        if (s->pieces[k].ref > (int16_t)groups) {
            snprintf(err, errlen, "\\%d refers to a group the pattern does not have",
                     s->pieces[k].ref);
            goto fail;
        }
    }
    free(pat);
    s->text = text;
    return s;
fail:
    free(pat);
    free(text);
    if (s)
        s->text = NULL;
    subst_free(s);
    return NULL;
}

static int fix_subst(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    char err[200];
    struct subst *s = subst_parse(in->s, err, sizeof(err));
    if (!s) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "argument %u of '%s': %s", fx->arg_no,
                      fx->fn_name, err);
        return SB_EPARSE;
    }
    *out = s;
    return 0;
}

static const struct subst *arg_subst(const struct sb_arg *a, struct subst **tmp)
{
    *tmp = NULL;
    if (a->fixed)
        return a->fixed;
    char err[200];
    if (!(*tmp = subst_parse(a->v.s, err, sizeof(err))))
        SB_WARN("textops: bad substitution '%.*s': %s", SB_STR_ARG(a->v.s), err);
    return *tmp;
}

/* The replacement for one match of <s> over <subj>, built in <a>. */
static int subst_expand(const struct subst *s, sb_str subj, pcre2_match_data *md, int rc,
                        struct sb_arena *a, sb_str *out)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t n = 0;
    for (uint32_t k = 0; k < s->n_pieces; k++) {
        const struct piece *p = &s->pieces[k];
        if (p->ref < 0)
            n += p->len;
        else if (p->ref < rc && ov[2 * p->ref] != PCRE2_UNSET)
            n += ov[2 * p->ref + 1] - ov[2 * p->ref];
    }
    char *buf = sb_arena_alloc(a, n + 1);
    if (!buf)
        return SB_ENOMEM;
    size_t w = 0;
    for (uint32_t k = 0; k < s->n_pieces; k++) {
        const struct piece *p = &s->pieces[k];
        if (p->ref < 0) {
            memcpy(buf + w, s->text + p->off, p->len);
            w += p->len;
        } else if (p->ref < rc && ov[2 * p->ref] != PCRE2_UNSET) {
            size_t l = ov[2 * p->ref + 1] - ov[2 * p->ref];
            memcpy(buf + w, subj.p + ov[2 * p->ref], l);
            w += l;
        }
    }
    *out = (sb_str){buf, w};
    return 0;
}

/* ---- lumps --------------------------------------------------------------------------------- */

/* Would replacing [off, off+del) (an insert when del is 0) clash with an edit already recorded?
 * The lump layer would refuse it too, but its error is sticky and would spoil the whole message. */
static bool lump_conflict(const struct sb_msg *m, uint32_t off, uint32_t del)
{
    for (uint32_t i = 0; i < m->n_lumps; i++) {
        const struct sb_lump *l = &m->lumps[i];
        if (l->del) {
            if (del ? off < l->off + l->del && l->off < off + del
                    : l->off < off && off < l->off + l->del)
                return true;
        } else if (del && l->off > off && l->off < off + del) {
            return true;
        }
    }
    return false;
}

static int edit(struct sb_msg *m, uint32_t off, uint32_t del, sb_str text)
{
    if (lump_conflict(m, off, del))
        return SB_EINVAL;
    sb_str t = text.len ? sb_msg_strdup(m, text) : text;
    if (text.len && !t.p)
        return SB_ENOMEM;
    return sb_msg_lump_replace(m, (sb_span){off, del}, t);
}

/* ---- search -------------------------------------------------------------------------------- */

static sb_str whole(const struct sb_msg *m)
{
    return (sb_str){m->buf, m->len};
}

static sb_str body(const struct sb_msg *m)
{
    return sb_msg_span(m, m->body);
}

static int match_at(const pcre2_code *re, sb_str subj, size_t start, pcre2_match_data *md)
{
    return pcre2_match(re, (PCRE2_SPTR)(subj.p ? subj.p : ""), subj.len, start, 0, md, NULL);
}

static sb_res search_in(const struct sb_arg *a, sb_str subj)
{
    pcre2_code *tmp;
    const pcre2_code *re = arg_re(&a[0], &tmp);
    pcre2_match_data *md = md_get();
    if (!re || !md) {
        pcre2_code_free(tmp);
        return sb_res_false();
    }
    int rc = match_at(re, subj, 0, md);
    pcre2_code_free(tmp);
    return rc >= 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_search(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return search_in(a, whole(ctx->msg));
}

static sb_res w_search_body(struct sb_sctx *ctx, const struct sb_arg *a)
{
    if (ctx->msg->body.len == 0)
        return sb_res_false();
    return search_in(a, body(ctx->msg));
}

/* search_append(re, txt): <txt> goes right after the first match. */
static sb_res append_in(struct sb_sctx *ctx, const struct sb_arg *a, sb_str subj)
{
    struct sb_msg *m = ctx->msg;
    pcre2_code *tmp;
    const pcre2_code *re = arg_re(&a[0], &tmp);
    pcre2_match_data *md = md_get();
    sb_res res = sb_res_false();
    if (re && md && match_at(re, subj, 0, md) >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t off = (uint32_t)(subj.p - m->buf + ov[1]);
        if (edit(m, off, 0, a[1].v.s) == 0)
            res = sb_res_true();
    }
    pcre2_code_free(tmp);
    return res;
}

static sb_res w_search_append(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return append_in(ctx, a, whole(ctx->msg));
}

static sb_res w_search_append_body(struct sb_sctx *ctx, const struct sb_arg *a)
{
    if (ctx->msg->body.len == 0)
        return sb_res_false();
    return append_in(ctx, a, body(ctx->msg));
}

/* ---- replace and subst over the message ---------------------------------------------------- */

/* Replace the first (or every) match of <re> in <subj>, a span of the message, by <lit> or, with
 * <sp>, by the substitution's expansion. True when at least one edit was recorded; an edit that
 * clashes with an earlier one stops there and makes the result false. */
static sb_res replace_in(struct sb_sctx *ctx, const pcre2_code *re, const struct subst *sp,
                         sb_str lit, bool all, sb_str subj)
{
    struct sb_msg *m = ctx->msg;
    pcre2_match_data *md = md_get();
    if (!md)
        return sb_res_error(SB_ENOMEM);
    uint32_t base = (uint32_t)(subj.p - m->buf);
    size_t start = 0;
    int n = 0;
    while (start <= subj.len) {
        int rc = match_at(re, subj, start, md);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t so = ov[0], eo = ov[1];
        sb_str text = lit;
        if (sp && subst_expand(sp, subj, md, rc, ctx->scratch, &text) < 0)
            return sb_res_error(SB_ENOMEM);
        if (edit(m, base + (uint32_t)so, (uint32_t)(eo - so), text) != 0) {
            SB_DEBUG("textops: edit at offset %zu clashes with an earlier one", base + so);
            return sb_res_false();
        }
        n++;
        if (!all)
            break;
        start = eo > so ? eo : eo + 1; /* an empty match must not repeat forever */
    }
    return n ? sb_res_true() : sb_res_false();
}

static sb_res replace_re(struct sb_sctx *ctx, const struct sb_arg *a, bool all, bool in_body)
{
    if (in_body && ctx->msg->body.len == 0)
        return sb_res_false();
    pcre2_code *tmp;
    const pcre2_code *re = arg_re(&a[0], &tmp);
    if (!re)
        return sb_res_false();
    sb_res r = replace_in(ctx, re, NULL, a[1].v.s, all, in_body ? body(ctx->msg) : whole(ctx->msg));
    pcre2_code_free(tmp);
    return r;
}

static sb_res w_replace(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return replace_re(ctx, a, false, false);
}

static sb_res w_replace_all(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return replace_re(ctx, a, true, false);
}

static sb_res w_replace_body(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return replace_re(ctx, a, false, true);
}

static sb_res w_replace_body_all(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return replace_re(ctx, a, true, true);
}

static sb_res subst_msg(struct sb_sctx *ctx, const struct sb_arg *a, bool in_body)
{
    if (in_body && ctx->msg->body.len == 0)
        return sb_res_false();
    struct subst *tmp;
    const struct subst *sp = arg_subst(&a[0], &tmp);
    if (!sp)
        return sb_res_false();
    sb_res r = replace_in(ctx, sp->re, sp, SB_STR_NULL, sp->global,
                          in_body ? body(ctx->msg) : whole(ctx->msg));
    subst_free(tmp);
    return r;
}

static sb_res w_subst(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return subst_msg(ctx, a, false);
}

static sb_res w_subst_body(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return subst_msg(ctx, a, true);
}

/* ---- subst over the Request-URI ------------------------------------------------------------ */

/* <subj> with the substitution applied, in scratch; false when nothing matched. */
static int subst_string(struct sb_sctx *ctx, const struct subst *sp, sb_str subj, sb_str *out)
{
    pcre2_match_data *md = md_get();
    if (!md)
        return SB_ENOMEM;
    struct sb_wbuf w;
    size_t cap = subj.len * 2 + 64;
    char *buf = NULL;
    for (int attempt = 0; attempt < 8; attempt++, cap *= 4) {
        if (!(buf = sb_arena_alloc(ctx->scratch, cap)))
            return SB_ENOMEM;
        sb_wbuf_init(&w, buf, cap);
        size_t start = 0, copied = 0;
        int n = 0;
        while (start <= subj.len) {
            int rc = match_at(sp->re, subj, start, md);
            if (rc < 0)
                break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t so = ov[0], eo = ov[1];
            sb_str rep;
            if (subst_expand(sp, subj, md, rc, ctx->scratch, &rep) < 0)
                return SB_ENOMEM;
            sb_wbuf_put(&w, subj.p + copied, so - copied);
            sb_wbuf_str(&w, rep);
            copied = eo;
            n++;
            if (!sp->global)
                break;
            start = eo > so ? eo : eo + 1;
        }
        if (n == 0)
            return SB_ENOENT;
        sb_wbuf_put(&w, subj.p + copied, subj.len - copied);
        if (!w.err) {
            *out = (sb_str){buf, w.len};
            return 0;
        }
    }
    return SB_ENOSPC;
}

static sb_res w_subst_uri(struct sb_sctx *ctx, const struct sb_arg *a)
{
    sb_str ru = sb_ruri_get(ctx);
    if (!ru.p)
        return sb_res_false();
    struct subst *tmp;
    const struct subst *sp = arg_subst(&a[0], &tmp);
    if (!sp)
        return sb_res_false();
    sb_str out;
    int rc = subst_string(ctx, sp, ru, &out);
    subst_free(tmp);
    if (rc == SB_ENOMEM)
        return sb_res_error(rc);
    return rc == 0 && sb_ruri_set(ctx, out) == 0 ? sb_res_true() : sb_res_false();
}

/* subst_user: the user part of the Request-URI; an empty result removes the user and its '@'. */
static sb_res w_subst_user(struct sb_sctx *ctx, const struct sb_arg *a)
{
    const struct sb_uri *u = sb_ruri_parsed(ctx);
    if (!u || (u->scheme != SB_URI_SIP && u->scheme != SB_URI_SIPS))
        return sb_res_false();
    struct subst *tmp;
    const struct subst *sp = arg_subst(&a[0], &tmp);
    if (!sp)
        return sb_res_false();
    sb_str user = u->user.p ? u->user : (sb_str){u->host.p, 0};
    sb_str nu;
    int rc = subst_string(ctx, sp, user, &nu);
    subst_free(tmp);
    if (rc == SB_ENOMEM)
        return sb_res_error(rc);
    if (rc != 0)
        return sb_res_false();
    /* scheme ":" [new user ["@"]] rest, where rest starts at ":passwd@" or at the host */
    const char *head_end = user.p;
    const char *rest = u->user.p ? u->user.p + u->user.len : u->host.p;
    size_t rest_len = (size_t)(u->raw.p + u->raw.len - rest);
    bool had_user = u->user.p != NULL;
    if (nu.len == 0 && had_user) {
        rest = u->host.p; /* drop ":passwd@" too */
        rest_len = (size_t)(u->raw.p + u->raw.len - rest);
    }
    size_t head = (size_t)(head_end - u->raw.p);
    size_t n = head + nu.len + 1 + rest_len;
    char *buf = sb_arena_alloc(ctx->scratch, n);
    if (!buf)
        return sb_res_error(SB_ENOMEM);
    size_t w = 0;
    memcpy(buf, u->raw.p, head);
    w = head;
    memcpy(buf + w, nu.p, nu.len);
    w += nu.len;
    if (nu.len && !had_user)
        buf[w++] = '@';
    memcpy(buf + w, rest, rest_len);
    w += rest_len;
    return sb_ruri_set(ctx, (sb_str){buf, w}) == 0 ? sb_res_true() : sb_res_false();
}

/* ---- the module ---------------------------------------------------------------------------- */

#define RE                                                                                         \
    {                                                                                              \
        .kind = SB_ARG_STR, .flags = SB_ARGF_NO_EXPAND, .fixup = fix_re, .free_fixup = free_re     \
    }
#define SUBST                                                                                      \
    {                                                                                              \
        .kind = SB_ARG_STR, .flags = SB_ARGF_NO_EXPAND, .fixup = fix_subst,                        \
        .free_fixup = subst_free                                                                   \
    }
#define STR                                                                                        \
    {                                                                                              \
        .kind = SB_ARG_STR                                                                         \
    }
#define MSG SB_ROUTE_MSG
#define EDIT                                                                                       \
    (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH | SB_ROUTE_ONREPLY | SB_ROUTE_LOCAL |   \
     SB_ROUTE_ERROR)
#define RURI (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH | SB_ROUTE_ERROR)

static const struct sb_mod_fn fns[] = {
    {.name = "search", .fn = w_search, .n_args = 1, .args = {RE}, .routes = MSG},
    {.name = "search_body", .fn = w_search_body, .n_args = 1, .args = {RE}, .routes = MSG},
    {.name = "search_append",
     .fn = w_search_append,
     .n_args = 2,
     .args = {RE, STR},
     .routes = EDIT},
    {.name = "search_append_body",
     .fn = w_search_append_body,
     .n_args = 2,
     .args = {RE, STR},
     .routes = EDIT},
    {.name = "replace", .fn = w_replace, .n_args = 2, .args = {RE, STR}, .routes = EDIT},
    {.name = "replace_all", .fn = w_replace_all, .n_args = 2, .args = {RE, STR}, .routes = EDIT},
    {.name = "replace_body", .fn = w_replace_body, .n_args = 2, .args = {RE, STR}, .routes = EDIT},
    {.name = "replace_body_all",
     .fn = w_replace_body_all,
     .n_args = 2,
     .args = {RE, STR},
     .routes = EDIT},
    {.name = "subst", .fn = w_subst, .n_args = 1, .args = {SUBST}, .routes = EDIT},
    {.name = "subst_body", .fn = w_subst_body, .n_args = 1, .args = {SUBST}, .routes = EDIT},
    {.name = "subst_uri", .fn = w_subst_uri, .n_args = 1, .args = {SUBST}, .routes = RURI},
    {.name = "subst_user", .fn = w_subst_user, .n_args = 1, .args = {SUBST}, .routes = RURI},
    {.name = NULL},
};

const struct sb_module sb_module_textops = {
    .name = "textops",
    .summary = "regular-expression search and replace over the message, body and Request-URI",
    .fns = fns,
    .exit_worker = textops_exit_worker,
};
