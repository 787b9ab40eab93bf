/* SPDX-License-Identifier: BSD-2-Clause */
/* Address, CSV and regex transformations: {ip.*}, {csv.*}, {re.subst,/re/repl/flags}. Regexes
 * are PCRE2, compiled into the script arena when constant, into scratch otherwise. */
#include <arpa/inet.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "pv_int.h"

/* ---- {ip.*} -------------------------------------------------------------------------------- */

struct ipaddr {
    int af;
    unsigned char b[16];
};

/* Textual IPv4 or IPv6 (brackets allowed around IPv6). */
static bool ip_parse(sb_str s, struct ipaddr *ip)
{
    if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']')
        s.p++, s.len -= 2;
    char buf[INET6_ADDRSTRLEN + 1];
    if (s.len == 0 || s.len >= sizeof(buf))
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    ip->af = memchr(s.p, ':', s.len) ? AF_INET6 : AF_INET;
    return inet_pton(ip->af, buf, ip->b) == 1;
}

static size_t ip_len(const struct ipaddr *ip)
{
    return ip->af == AF_INET ? 4 : 16;
}

/* Does <ip> fall in <net>/<bits>? */
static bool ip_in(const struct ipaddr *ip, const struct ipaddr *net, unsigned bits)
{
    if (ip->af != net->af)
        return false;
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(ip->b, net->b, full) != 0)
        return false;
    unsigned char mask = (unsigned char)(0xff00u >> rest);
    return rest == 0 || (ip->b[full] & mask) == (net->b[full] & mask);
}

/* "net[/bits]"; bits default to the whole address. */
static bool cidr_parse(sb_str s, struct ipaddr *net, unsigned *bits)
{
    long slash = sb_str_chr(s, '/');
    uint32_t b;
    if (!ip_parse(slash < 0 ? s : (sb_str){s.p, (size_t)slash}, net))
        return false;
    *bits = (unsigned)ip_len(net) * 8;
    if (slash < 0)
        return true;
    if (sb_str_to_u32((sb_str){s.p + slash + 1, s.len - (size_t)slash - 1}, &b) != 0 || b > *bits)
        return false;
    *bits = b;
    return true;
}

/* RFC 1918 and the IPv6 unique-local block (RFC 4193); loopback and link-local are not. */
static bool ip_private(const struct ipaddr *ip)
{
    static const struct {
        const char *net;
        unsigned bits;
    } nets[] = {{"10.0.0.0", 8}, {"172.16.0.0", 12}, {"192.168.0.0", 16}, {"fc00::", 7}};
    for (size_t i = 0; i < SB_ARRAY_LEN(nets); i++) {
        struct ipaddr n;
        if (ip_parse(sb_str_cstr(nets[i].net), &n) && ip_in(ip, &n, nets[i].bits))
            return true;
    }
    return false;
}

enum net_id {
    IP_PTON,
    IP_NTOP,
    IP_ISIP,
    IP_ISIP4,
    IP_ISIP6,
    IP_FAMILY,
    IP_MATCHES,
    IP_ISPRIVATE,
    CSV_COUNT,
    CSV_VALUE,
    RE_SUBST,
    NET__COUNT
};

static int tr_ip(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s, arg;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    int id = (int)(tr->def - sb__tr_net_defs);
    struct ipaddr ip, net;
    unsigned bits;
    char *p;
    if (id == IP_NTOP) {
        char buf[INET6_ADDRSTRLEN];
        if ((s.len != 4 && s.len != 16) ||
            !inet_ntop(s.len == 4 ? AF_INET : AF_INET6, s.p, buf, sizeof(buf)))
            return SB_EINVAL;
        if (!(p = sb_arena_dup(ctx->scratch, buf, strlen(buf))))
            return SB_ENOMEM;
        sb__val_str(v, (sb_str){p, strlen(buf)});
        return 0;
    }
    bool ok = ip_parse(s, &ip);
    switch (id) {
    case IP_ISIP: sb__val_int(v, ok); return 0;
    case IP_ISIP4: sb__val_int(v, ok && ip.af == AF_INET); return 0;
    case IP_ISIP6: sb__val_int(v, ok && ip.af == AF_INET6); return 0;
    default: break;
    }
    if (!ok)
        return SB_EINVAL;
    switch (id) {
    case IP_PTON:
        if (!(p = sb_arena_dup(ctx->scratch, ip.b, ip_len(&ip))))
            return SB_ENOMEM;
        sb__val_str(v, (sb_str){p, ip_len(&ip)});
        return 0;
    case IP_FAMILY: sb__val_str(v, ip.af == AF_INET ? SB_STR("INET") : SB_STR("INET6")); return 0;
    case IP_MATCHES:
        if ((r = sb__tr_arg_str(ctx, tr, 0, &arg)) < 0)
            return r;
        if (!cidr_parse(arg, &net, &bits))
            return SB_EINVAL;
        sb__val_int(v, ip_in(&ip, &net, bits));
        return 0;
    default: sb__val_int(v, ip_private(&ip)); return 0;
    }
}

static int fix_cidr(struct sb_fixup *fx, struct sb_tr *tr)
{
    struct ipaddr net;
    unsigned bits;
    if (tr->args[0].pv || cidr_parse(tr->args[0].v.s, &net, &bits))
        return 0;
    sb__fx_error(fx, 0, "bad network '%.*s' in {ip.matches}: expected address[/bits]",
                 (int)tr->args[0].v.s.len, tr->args[0].v.s.p);
    return SB_EPARSE;
}

/* ---- {csv.*} ------------------------------------------------------------------------------- */

/* RFC 4180-style fields: ',' separated; a field in double quotes may hold ',' and "" for '"'. */
struct csv {
    sb_str s;
    size_t pos;
    bool done;
};

/* Next field as written (quotes included). Returns 1, 0 at the end, SB_EINVAL on bad quoting. */
static int csv_next(struct csv *c, sb_str *f, bool *quoted)
{
    if (c->done)
        return 0;
    const char *p = c->s.p;
    size_t i = c->pos, n = c->s.len, start = i;
    *quoted = i < n && p[i] == '"';
    if (*quoted) {
        for (i++;; i++) {
            if (i >= n)
                return SB_EINVAL;
            if (p[i] == '"' && i + 1 < n && p[i + 1] == '"')
                i++;
            else if (p[i] == '"')
                break;
        }
        if (++i < n && p[i] != ',')
            return SB_EINVAL;
    } else {
        while (i < n && p[i] != ',')
            i++;
    }
    *f = (sb_str){p + start, i - start};
    if (i < n)
        c->pos = i + 1;
    else
        c->done = true;
    return 1;
}

static int csv_count(sb_str s)
{
    struct csv c = {.s = s, .done = s.len == 0};
    sb_str f;
    bool q;
    int n = 0, r;
    while ((r = csv_next(&c, &f, &q)) == 1)
        n++;
    return r < 0 ? r : n;
}

static int tr_csv(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s, f;
    int r = sb__tr_in_str(ctx, v, &s);
    int n = r < 0 ? r : csv_count(s);
    if (n < 0)
        return n;
    if (tr->def - sb__tr_net_defs == CSV_COUNT) {
        sb__val_int(v, n);
        return 0;
    }
    int32_t i;
    if ((r = sb__tr_arg_int(ctx, tr, 0, &i)) < 0)
        return r;
    long want = i < 0 ? (long)n + i : i;
    if (want < 0 || want >= n)
        return SB_EINVAL;
    struct csv c = {.s = s};
    bool quoted;
    for (long k = 0; k <= want; k++)
        csv_next(&c, &f, &quoted);
    if (!quoted) {
        sb__val_str(v, f);
        return 0;
    }
    char *p = sb_arena_alloc(ctx->scratch, f.len ? f.len : 1);
    if (!p)
        return SB_ENOMEM;
    size_t len = 0;
    for (size_t k = 1; k + 1 < f.len; k++) {
        p[len++] = f.p[k];
        if (f.p[k] == '"')
            k++; /* "" stands for one quote */
    }
    sb__val_str(v, (sb_str){p, len});
    return 0;
}

/* ---- {re.subst,/re/repl/flags} ------------------------------------------------------------- */

struct re_subst {
    pcre2_code *re;
    sb_str repl;
    bool global;
};

/* PCRE2 compiles through these, so that a pattern lives in an arena (the script's, or scratch for
 * a pattern from a variable) and goes with it: nothing to free. */
static void *arena_malloc(PCRE2_SIZE n, void *data)
{
    return sb_arena_alloc(data, n);
}

static void arena_free(void *p, void *data)
{
    (void)p, (void)data;
}

/* Up to the next unescaped <d>; "\<d>" becomes <d>, other escapes stay for PCRE2 / the
 * replacement. Returns the offset past <d>, or 0 when there is none. */
static size_t subst_part(sb_str e, size_t i, char d, struct sb__sbuf *b)
{
    for (; i < e.len; i++) {
        if (e.p[i] == '\\' && i + 1 < e.len) {
            if (e.p[i + 1] != d)
                sb__sbuf_ch(b, '\\');
            sb__sbuf_ch(b, e.p[++i]);
        } else if (e.p[i] == d) {
            return i + 1;
        } else {
            sb__sbuf_ch(b, e.p[i]);
        }
    }
    return 0;
}

static int subst_compile(sb_str e, struct sb_arena *a, struct re_subst *out, const char **err)
{
    struct sb__sbuf pat, rep;
    sb__sbuf_init(&pat, a, e.len + 1);
    sb__sbuf_init(&rep, a, e.len + 1);
    size_t i;
    *err = "expected /regex/replacement/flags";
    if (e.len < 3 || !(i = subst_part(e, 1, e.p[0], &pat)) || !(i = subst_part(e, i, e.p[0], &rep)))
        return SB_EPARSE;
    uint32_t opts = 0;
    out->global = false;
    for (; i < e.len; i++) {
        switch (e.p[i]) {
        case 'g': out->global = true; break;
        case 'i': opts |= PCRE2_CASELESS; break;
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 's': opts |= PCRE2_DOTALL; break;
        default: *err = "unknown flag (expected g, i, m or s)"; return SB_EPARSE;
        }
    }
    sb_str ps;
    if (sb__sbuf_done(&pat, &ps) < 0 || sb__sbuf_done(&rep, &out->repl) < 0)
        return SB_ENOMEM;
    pcre2_general_context *g = pcre2_general_context_create(arena_malloc, arena_free, a);
    pcre2_compile_context *cc = g ? pcre2_compile_context_create(g) : NULL;
    if (!cc)
        return SB_ENOMEM;
    int code;
    PCRE2_SIZE off;
    out->re = pcre2_compile((PCRE2_SPTR)ps.p, ps.len, opts, &code, &off, cc);
    if (!out->re) {
        *err = "bad regular expression";
        return SB_EPARSE;
    }
    return 0;
}

/* Replacement text: \0..\9 insert groups (an unset one inserts nothing), \\ is a backslash. */
static void subst_expand(struct sb__sbuf *b, sb_str repl, sb_str subj, const PCRE2_SIZE *ov,
                         uint32_t n_pairs)
{
    for (size_t i = 0; i < repl.len; i++) {
        char c = repl.p[i];
        if (c == '\\' && i + 1 < repl.len && sb_is_digit((unsigned char)repl.p[i + 1])) {
            uint32_t g = (uint32_t)(repl.p[++i] - '0');
            if (g < n_pairs && ov[2 * g] != PCRE2_UNSET)
                sb__sbuf_put(b, subj.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        } else if (c == '\\' && i + 1 < repl.len && repl.p[i + 1] == '\\') {
            sb__sbuf_ch(b, '\\');
            i++;
        } else {
            sb__sbuf_ch(b, c);
        }
    }
}

/* Groups \0..\9 are all a replacement can name. */
#define SUBST_PAIRS 10

/* One match block per thread, reused: PCRE2 keeps its backtracking frames in it, so a warm
 * worker matches without allocating. Released by sb_pv_worker_exit(). */
static _Thread_local pcre2_match_data *tls_md;

void sb__tr_net_thread_exit(void)
{
    pcre2_match_data_free(tls_md);
    tls_md = NULL;
}

static int subst_run(struct sb_sctx *ctx, const struct re_subst *rs, sb_str subj, sb_str *out)
{
    if (!tls_md && !(tls_md = pcre2_match_data_create(SUBST_PAIRS, NULL)))
        return SB_ENOMEM;
    pcre2_match_data *md = tls_md;
    struct sb__sbuf b;
    sb__sbuf_init(&b, ctx->scratch, subj.len + rs->repl.len + 16);
    size_t at = 0;
    bool matched = false;
    while (at <= subj.len) {
        /* rc == 0: more groups than SUBST_PAIRS; the first ones are still set */
        int rc = pcre2_match(rs->re, (PCRE2_SPTR)subj.p, subj.len, at, 0, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0)
            return SB_EINVAL;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        matched = true;
        sb__sbuf_put(&b, subj.p + at, ov[0] - at);
        subst_expand(&b, rs->repl, subj, ov, rc ? (uint32_t)rc : SUBST_PAIRS);
        at = ov[1];
        if (ov[1] == ov[0]) { /* an empty match: step over one byte so the loop advances */
            if (at < subj.len)
                sb__sbuf_ch(&b, subj.p[at]);
            at++;
        }
        if (!rs->global)
            break;
    }
    if (!matched) {
        *out = subj;
        return 0;
    }
    if (at < subj.len)
        sb__sbuf_put(&b, subj.p + at, subj.len - at);
    return sb__sbuf_done(&b, out);
}

static int tr_subst(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s, e;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    struct re_subst dyn;
    const struct re_subst *rs = tr->fixed;
    if (!rs) {
        const char *err;
        if ((r = sb__tr_arg_str(ctx, tr, 0, &e)) < 0 ||
            (r = subst_compile(e, ctx->scratch, &dyn, &err)) < 0)
            return r;
        rs = &dyn;
    }
    if ((r = subst_run(ctx, rs, s, &e)) < 0)
        return r;
    sb__val_str(v, e);
    return 0;
}

/* A constant expression is compiled once, into the script arena that sb__tr_parse hands over in
 * tr->fixed. */
static int fix_subst(struct sb_fixup *fx, struct sb_tr *tr)
{
    struct sb_arena *a = tr->fixed;
    tr->fixed = NULL;
    if (tr->args[0].pv)
        return 0;
    struct re_subst *rs = sb_arena_alloc(a, sizeof(*rs));
    const char *err = "out of memory";
    if (!rs || subst_compile(tr->args[0].v.s, a, rs, &err) < 0) {
        sb__fx_error(fx, 0, "{re.subst,%.*s}: %s", (int)tr->args[0].v.s.len, tr->args[0].v.s.p,
                     err);
        return SB_EPARSE;
    }
    tr->fixed = rs;
    return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

static int fix_int_first(struct sb_fixup *fx, struct sb_tr *tr)
{
    return sb__tr_fix_int_args(fx, tr, 1u);
}

#define IP(id, n) [id] = {.cls = "ip", .name = n, .apply = tr_ip}

const struct sb_tr_def sb__tr_net_defs[NET__COUNT + 1] = {
    IP(IP_PTON, "pton"),
    IP(IP_NTOP, "ntop"),
    IP(IP_ISIP, "isip"),
    IP(IP_ISIP4, "isip4"),
    IP(IP_ISIP6, "isip6"),
    IP(IP_FAMILY, "family"),
    [IP_MATCHES] = {.cls = "ip",
                    .name = "matches",
                    .min_args = 1,
                    .max_args = 1,
                    .apply = tr_ip,
                    .fix = fix_cidr},
    IP(IP_ISPRIVATE, "isprivate"),
    [CSV_COUNT] = {.cls = "csv", .name = "count", .apply = tr_csv},
    [CSV_VALUE] = {.cls = "csv",
                   .name = "value",
                   .min_args = 1,
                   .max_args = 1,
                   .apply = tr_csv,
                   .fix = fix_int_first},
    [RE_SUBST] = {.cls = "re",
                  .name = "subst",
                  .min_args = 1,
                  .max_args = 1,
                  .apply = tr_subst,
                  .fix = fix_subst},
    [NET__COUNT] = {.cls = NULL},
};
