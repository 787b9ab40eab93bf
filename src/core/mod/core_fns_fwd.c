/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions over the SIP layer: stateless forward() and send(), is_myself() and
 * force_send_socket(). */
#include <stdlib.h>
#include <string.h>

#include "core_fns.h"
#include "sb/base.h"
#include "sb/diag.h"
#include "sb/fwd.h"
#include "sb/hdr.h"
#include "sb/log.h"
#include "sb/tp.h"
#include "sb/uri.h"

/* A destination as scripts write it: a SIP URI, or "[proto:]host[:port]". */
struct dest {
    uint8_t proto; /* 0: not given */
    sb_str host;   /* IPv6 without brackets */
    uint16_t port; /* 0: not given */
};

static int dest_parse(sb_str s, struct dest *d)
{
    *d = (struct dest){0};
    s = sb_str_trim(s);
    long c = sb_str_chr(s, ':');
    if (c > 0) {
        uint8_t p = sb_proto_lookup((sb_str){s.p, (size_t)c});
        if (p != SB_PROTO_OTHER) {
            d->proto = p;
            s.p += c + 1;
            s.len -= (size_t)c + 1;
        }
    }
    if (s.len == 0)
        return SB_EPARSE;
    sb_str port = SB_STR_NULL;
    if (s.p[0] == '[') {
        long rb = sb_str_chr(s, ']');
        if (rb < 2)
            return SB_EPARSE;
        d->host = (sb_str){s.p + 1, (size_t)rb - 1};
        if ((size_t)rb + 1 < s.len) {
            if (s.p[rb + 1] != ':')
                return SB_EPARSE;
            port = (sb_str){s.p + rb + 2, s.len - (size_t)rb - 2};
        }
    } else {
        long pc = sb_str_chr(s, ':');
        if (pc >= 0 && sb_str_chr((sb_str){s.p + pc + 1, s.len - (size_t)pc - 1}, ':') >= 0) {
            d->host = s; /* a bare IPv6 address */
        } else {
            d->host = pc >= 0 ? (sb_str){s.p, (size_t)pc} : s;
            if (pc >= 0)
                port = (sb_str){s.p + pc + 1, s.len - (size_t)pc - 1};
        }
    }
    if (d->host.len == 0)
        return SB_EPARSE;
    if (port.p) {
        uint32_t n;
        if (sb_str_to_u32(port, &n) != 0 || n == 0 || n > 65535)
            return SB_EPARSE;
        d->port = (uint16_t)n;
    }
    return 0;
}

static bool is_sip_uri(sb_str s)
{
    s = sb_str_trim(s);
    return (s.len > 4 && sb_str_caseeq_lit((sb_str){s.p, 4}, "sip:")) ||
           (s.len > 5 && sb_str_caseeq_lit((sb_str){s.p, 5}, "sips:"));
}

/* The URIs of the last "[proto:]host[:port]" arguments: a script forwards to few of them, mostly
 * constants, and this runs per forward(). */
#define ARG_CACHE_N   4
#define ARG_CACHE_MAX 96
struct arg_entry {
    uint8_t arg_len; /* 0: unused */
    uint8_t uri_len;
    uint8_t proto;
    char arg[ARG_CACHE_MAX];
    char uri[ARG_CACHE_MAX + 16];
};
static _Thread_local struct {
    struct arg_entry e[ARG_CACHE_N];
    unsigned next;
} arg_cache;

/* The destination argument as a URI for the SIP layer, and the transport it forces. The URI is
 * valid until the next call on this thread. */
static int dest_uri(struct sb_sctx *ctx, sb_str arg, sb_str *uri, uint8_t *proto)
{
    *proto = 0;
    if (is_sip_uri(arg)) {
        *uri = sb_str_trim(arg);
        return 0;
    }
    for (unsigned i = 0; i < ARG_CACHE_N; i++) {
        const struct arg_entry *e = &arg_cache.e[i];
        if (e->arg_len && e->arg_len == arg.len && memcmp(e->arg, arg.p, arg.len) == 0) {
            *uri = (sb_str){e->uri, e->uri_len};
            *proto = e->proto;
            return 0;
        }
    }
    struct dest d;
    if (dest_parse(arg, &d) != 0)
        return SB_EPARSE;
    bool v6 = sb_str_chr(d.host, ':') >= 0;
    struct arg_entry *e = NULL;
    char *buf;
    if (arg.len && arg.len < ARG_CACHE_MAX) {
        e = &arg_cache.e[arg_cache.next];
        arg_cache.next = (arg_cache.next + 1) % ARG_CACHE_N;
        e->arg_len = 0;
        buf = e->uri; /* the host is part of the argument: it fits */
    } else {
        buf = sb_arena_alloc(ctx->scratch, d.host.len + 16);
        if (!buf)
            return SB_ENOMEM;
    }
    size_t n = 4;
    memcpy(buf, "sip:", 4);
    if (v6)
        buf[n++] = '[';
    memcpy(buf + n, d.host.p, d.host.len);
    n += d.host.len;
    if (v6)
        buf[n++] = ']';
    if (d.port) {
        buf[n++] = ':';
        n += sb_u64_to_dec(d.port, buf + n);
    }
    *uri = (sb_str){buf, n};
    *proto = d.proto;
    if (e) {
        memcpy(e->arg, arg.p, arg.len);
        e->arg_len = (uint8_t)arg.len;
        e->uri_len = (uint8_t)n;
        e->proto = d.proto;
    }
    return 0;
}

static sb_res relay(struct sb_sctx *ctx, const struct sb_arg *a, bool add_via)
{
    if (!ctx->rs || !ctx->msg)
        return sb_res_false();
    sb_str uri = SB_STR_NULL;
    uint8_t proto = 0;
    if (a[0].present && a[0].v.s.len) {
        int rc = dest_uri(ctx, a[0].v.s, &uri, &proto);
        if (rc == SB_ENOMEM)
            return sb_res_error(rc);
        if (rc != 0) {
            SB_WARN("script: %s: bad destination '%.*s'", add_via ? "forward" : "send",
                    SB_STR_ARG(a[0].v.s));
            return sb_res_false();
        }
    }
    int r = add_via ? sb_forward(ctx, uri, proto) : sb_send_to(ctx, uri, proto);
    return r >= 0 ? sb_res_true() : sb_res_code(r < 0 ? r : -1);
}

sb_res sb__cf_forward(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return relay(ctx, a, true);
}

sb_res sb__cf_send(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return relay(ctx, a, false);
}

/* is_myself(uri or host[:port]) */
sb_res sb__cf_is_myself(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    sb_str s = sb_str_trim(a[0].v.s);
    if (s.len == 0)
        return sb_res_false();
    if (is_sip_uri(s)) {
        struct sb_uri u;
        if (sb_uri_parse(s, &u) != 0)
            return sb_res_false();
        return sb_uri_is_myself(&u) ? sb_res_true() : sb_res_false();
    }
    struct dest d;
    if (dest_parse(s, &d) != 0)
        return sb_res_false();
    return sb_is_myself(d.host, d.port, d.proto) ? sb_res_true() : sb_res_false();
}

/* force_send_socket([proto:]ip[:port]): the socket is looked up when the function runs, since the
 * socket table is built after the script is checked. */
struct sockspec {
    uint8_t proto;
    uint16_t port;
    size_t len;
    char ip[64];
};

static int spec_parse(sb_str s, struct sockspec *out)
{
    struct dest d;
    if (dest_parse(s, &d) != 0 || d.host.len >= sizeof(out->ip))
        return SB_EPARSE;
    *out = (struct sockspec){.proto = d.proto ? d.proto : SB_PROTO_UDP,
                             .port = d.port ? d.port : 5060,
                             .len = d.host.len};
    memcpy(out->ip, d.host.p, d.host.len);
    return 0;
}

int sb__cf_fix_socket(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    struct sockspec *sp = malloc(sizeof(*sp));
    if (!sp)
        return SB_ENOMEM;
    if (in->type != SB_VAL_STR || spec_parse(in->s, sp) != 0) {
        free(sp);
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col,
                      "argument %u of '%s': expected [proto:]address[:port]", fx->arg_no,
                      fx->fn_name);
        return SB_EINVAL;
    }
    *out = sp;
    return 0;
}

static const struct sb_socket *sock_find(const struct sockspec *sp)
{
    sb_str ip = {sp->ip, sp->len};
    for (unsigned i = 0, n = sb_tp_n_sockets(); i < n; i++) {
        const struct sb_socket *s = sb_tp_socket(i);
        if (s && s->proto == sp->proto && s->port == sp->port &&
            sb_str_caseeq(sb_str_cstr(s->ip), ip))
            return s;
    }
    return NULL;
}

sb_res sb__cf_force_send_socket(struct sb_sctx *ctx, const struct sb_arg *a)
{
    if (!ctx->rs)
        return sb_res_false();
    struct sockspec tmp;
    const struct sockspec *sp = a[0].fixed;
    if (!sp) {
        if (spec_parse(a[0].v.s, &tmp) != 0)
            return sb_res_false();
        sp = &tmp;
    }
    const struct sb_socket *s = sock_find(sp);
    if (!s) {
        SB_WARN("script: force_send_socket: no socket %.*s:%u", (int)sp->len, sp->ip, sp->port);
        return sb_res_false();
    }
    ctx->rs->send_sock = s;
    return sb_res_true();
}
