/* SPDX-License-Identifier: BSD-2-Clause */
/* Global (core) parameters: a typed table bound by offsetof, as modules' parameters are. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb/base.h"
#include "sb/core_cfg.h"
#include "sb/hdr.h"
#include "sb/log.h"
#include "sb/script.h"

enum gtype { G_INT = 1, G_BOOL, G_STR, G_FUNC, G_IGNORED };

typedef int (*gset_fn)(struct sb_core_cfg *c, struct sb_arena *a, const struct sb_val *v,
                       const char **err);

struct gparam {
    const char *name;
    uint8_t type;
    size_t off;
    gset_fn set;
};

static int set_listen(struct sb_core_cfg *c, struct sb_arena *a, const struct sb_val *v,
                      const char **err)
{
    if (v->type != SB_VAL_STR) {
        *err = "expects proto:address[:port]";
        return SB_EINVAL;
    }
    struct sb_listen *l = sb_arena_zalloc(a, sizeof(*l));
    if (!l)
        return SB_ENOMEM;
    int rc = sb_listen_parse(v->s, l, a, err);
    if (rc)
        return rc;
    struct sb_listen **tail = &c->listeners;
    while (*tail)
        tail = &(*tail)->next;
    *tail = l;
    return 0;
}

static int set_alias(struct sb_core_cfg *c, struct sb_arena *a, const struct sb_val *v,
                     const char **err)
{
    if (v->type != SB_VAL_STR || v->s.len == 0) {
        *err = "expects a host name";
        return SB_EINVAL;
    }
    const char **arr = sb_arena_alloc(a, (c->n_aliases + 1) * sizeof(*arr));
    char *s = sb_arena_alloc(a, v->s.len + 1);
    if (!arr || !s)
        return SB_ENOMEM;
    memcpy(s, v->s.p, v->s.len);
    s[v->s.len] = '\0';
    if (c->n_aliases)
        memcpy(arr, c->aliases, c->n_aliases * sizeof(*arr));
    arr[c->n_aliases++] = s;
    c->aliases = arr;
    return 0;
}

/* tcp_no_new_conn_bflag: a branch flag name or its number. */
static int set_no_new_conn(struct sb_core_cfg *c, struct sb_arena *a, const struct sb_val *v,
                           const char **err)
{
    (void)a;
    int f;
    if (v->type == SB_VAL_INT)
        f = v->i >= 0 && v->i <= 31 ? v->i : SB_ERANGE;
    else
        f = v->s.len ? sb_bflag_bit(v->s, true) : SB_EINVAL;
    if (f < 0) {
        *err = "expects a branch flag name or a number 0..31";
        return SB_EINVAL;
    }
    c->tcp_no_new_conn_bflag = f;
    return 0;
}

bool sb_core_no_new_conn(const struct sb_core_cfg *c, uint32_t bflags)
{
    return c && c->tcp_no_new_conn_bflag >= 0 && (bflags & (1u << c->tcp_no_new_conn_bflag));
}

#define I(n, f)                                                                                    \
    {                                                                                              \
        n, G_INT, offsetof(struct sb_core_cfg, f), NULL                                            \
    }
#define B(n, f)                                                                                    \
    {                                                                                              \
        n, G_BOOL, offsetof(struct sb_core_cfg, f), NULL                                           \
    }
#define S(n, f)                                                                                    \
    {                                                                                              \
        n, G_STR, offsetof(struct sb_core_cfg, f), NULL                                            \
    }

/* Names follow OpenSIPS 3.x (reference §2.2); older spellings kept as aliases. */
static const struct gparam gparams[] = {
    I("log_level", log_level),
    I("debug", log_level),
    I("xlog_level", xlog_level),
    I("udp_workers", udp_workers),
    I("children", udp_workers),
    I("tcp_workers", tcp_workers),
    I("tcp_children", tcp_workers),
    I("timer_workers", timer_workers),
    B("stderror_enabled", stderror_enabled),
    B("log_stderror", stderror_enabled),
    B("syslog_enabled", syslog_enabled),
    S("stderror_log_format", stderror_log_format),
    S("syslog_facility", syslog_facility),
    S("log_facility", syslog_facility),
    S("syslog_name", syslog_name),
    S("log_name", syslog_name),
    S("log_prefix", log_prefix),
    B("debug_mode", debug_mode),
    S("advertised_address", advertised_address),
    I("advertised_port", advertised_port),
    {"socket", G_FUNC, 0, set_listen},
    {"listen", G_FUNC, 0, set_listen},
    {"alias", G_FUNC, 0, set_alias},
    B("auto_aliases", auto_aliases),
    I("max_while_loops", max_while_loops),
    I("maxbuffer", maxbuffer),
    I("tcp_connection_lifetime", tcp_connection_lifetime),
    I("tcp_connect_timeout", tcp_connect_timeout),
    I("tcp_max_connections", tcp_max_connections),
    I("tcp_max_msg_time", tcp_max_msg_time),
    I("tcp_max_connections_per_ip", tcp_max_connections_per_ip),
    I("tcp_first_msg_timeout", tcp_first_msg_timeout),
    I("tcp_max_output", tcp_max_output),
    I("tcp_drain_timeout", tcp_drain_timeout),
    B("tcp_accept_aliases", tcp_accept_aliases),
    {"tcp_no_new_conn_bflag", G_FUNC, 0, set_no_new_conn},
    I("tcp_keepalive", tcp_keepalive),
    B("udp_reply_steering", udp_reply_steering),
    B("check_via", check_via),
    S("server_header", server_header),
    S("user_agent_header", user_agent_header),
    B("server_signature", server_signature),
    B("dns_try_ipv6", dns_try_ipv6),
    B("dns_try_naptr", dns_try_naptr),
    I("dns_retr_time", dns_retr_time),
    I("dns_retr_no", dns_retr_no),
    B("disable_dns_failover", disable_dns_failover),
    B("disable_dns_blacklist", disable_dns_blacklist),
    B("enable_asserts", enable_asserts),
    B("abort_on_assert", abort_on_assert),
    S("db_default_url", db_default_url),
    I("exec_msg_threshold", exec_msg_threshold),
    I("exec_dns_threshold", exec_dns_threshold),
    B("mhomed", mhomed),
    I("tos", tos),
    I("open_files_limit", open_files_limit),
    S("wdir", wdir),
    S("chroot", chroot),
    S("mpath", mpath),
    /* OpenSIPS parameters with no meaning here (process model, allocators, reverse DNS):
     * accepted, so that existing configs load, and logged at start-up as ignored */
    {"dns", G_IGNORED, 0, NULL},
    {"rev_dns", G_IGNORED, 0, NULL},
    {"dns_use_search_list", G_IGNORED, 0, NULL},
    {"dns_servers_no", G_IGNORED, 0, NULL},
    {"disable_tcp", G_IGNORED, 0, NULL},
    {"disable_tls", G_IGNORED, 0, NULL},
    {"disable_core_dump", G_IGNORED, 0, NULL},
    {"sip_warning", G_IGNORED, 0, NULL},
    {"memlog", G_IGNORED, 0, NULL},
    {"mem_log", G_IGNORED, 0, NULL},
    {"memdump", G_IGNORED, 0, NULL},
    {"mem_dump", G_IGNORED, 0, NULL},
    {"mem_warming", G_IGNORED, 0, NULL},
    {"shm_hash_split_percentage", G_IGNORED, 0, NULL},
    {"shm_secondary_hash_size", G_IGNORED, 0, NULL},
    {"query_buffer_size", G_IGNORED, 0, NULL},
    {"query_flush_time", G_IGNORED, 0, NULL},
    {"db_max_async_connections", G_IGNORED, 0, NULL},
    {"event_pkg_threshold", G_IGNORED, 0, NULL},
    {"event_shm_threshold", G_IGNORED, 0, NULL},
    {"xlog_buf_size", G_IGNORED, 0, NULL},
    {"xlog_force_color", G_IGNORED, 0, NULL},
    {"xlog_print_level", G_IGNORED, 0, NULL},
    {"log_json_buf_size", G_IGNORED, 0, NULL},
    {"user", G_IGNORED, 0, NULL},
    {"uid", G_IGNORED, 0, NULL},
    {"group", G_IGNORED, 0, NULL},
    {"gid", G_IGNORED, 0, NULL},
    {"tcp_listen_backlog", G_IGNORED, 0, NULL},
    {"tcp_threads", G_IGNORED, 0, NULL},
    {"tcp_async", G_IGNORED, 0, NULL},
    {"tcp_worker_load_threshold", G_IGNORED, 0, NULL},
    {"tcp_keepcount", G_IGNORED, 0, NULL},
    {"tcp_keepidle", G_IGNORED, 0, NULL},
    {"tcp_keepinterval", G_IGNORED, 0, NULL},
    {"restart_persistency_cache_file", G_IGNORED, 0, NULL},
    {"auto_scaling_profile", G_IGNORED, 0, NULL},
    {"auto_scaling_cycle", G_IGNORED, 0, NULL},
    {"udp_workers_auto_scaling", G_IGNORED, 0, NULL},
    {"poll_method", G_IGNORED, 0, NULL},
    {"max_async_ops", G_IGNORED, 0, NULL},
    {"enable_asserts_checks", G_IGNORED, 0, NULL},
    {"cfg_line_check", G_IGNORED, 0, NULL},
    {"include_dir", G_IGNORED, 0, NULL},
    {"log_level_filter", G_IGNORED, 0, NULL},
    {"stderror_log_level_filter", G_IGNORED, 0, NULL},
    {"syslog_log_level_filter", G_IGNORED, 0, NULL},
    {"syslog_log_format", G_IGNORED, 0, NULL},
};

void sb_core_cfg_defaults(struct sb_core_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->log_level = 2;
    c->xlog_level = 2;
    c->stderror_enabled = false;
    c->syslog_enabled = true;
    c->stderror_log_format = "plain_text";
    c->syslog_facility = "LOG_DAEMON";
    c->syslog_name = "switchboard";
    c->max_while_loops = 10000;
    c->tcp_connection_lifetime = 120;
    c->tcp_connect_timeout = 100;
    c->tcp_no_new_conn_bflag = -1;
    c->tcp_max_connections = 2048;
    c->tcp_max_msg_time = 4;
    c->tcp_max_connections_per_ip = 64;
    c->tcp_first_msg_timeout = 10;
    c->tcp_max_output = 64 << 20;
    c->tcp_drain_timeout = 10;
    c->udp_reply_steering = true;
    c->server_header = "Server: Switchboard";
    c->user_agent_header = "User-Agent: Switchboard";
    c->server_signature = true;
    c->dns_try_naptr = true;
    c->enable_asserts = false;
}

static const struct gparam *gparam_find(sb_str name)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(gparams); i++)
        if (strlen(gparams[i].name) == name.len && memcmp(gparams[i].name, name.p, name.len) == 0)
            return &gparams[i];
    return NULL;
}

int sb_core_cfg_set(struct sb_core_cfg *c, struct sb_arena *a, sb_str name, const struct sb_val *v,
                    struct sb_diag *d, const char *file, uint32_t line, uint32_t col)
{
    const struct gparam *g = gparam_find(name);
    const char *err = NULL;
    if (!g) {
        sb_diag_error(d, file, line, col, "unknown global parameter '" SB_STR_FMT "'",
                      SB_STR_ARG(name));
        return SB_ENOENT;
    }
    char *base = (char *)c + g->off;
    switch (g->type) {
    case G_INT:
        if (v->type != SB_VAL_INT)
            goto type_err;
        *(int *)base = v->i;
        return 0;
    case G_BOOL:
        if (v->type != SB_VAL_INT)
            goto type_err;
        *(bool *)base = v->i != 0;
        return 0;
    case G_STR: {
        if (v->type != SB_VAL_STR)
            goto type_err;
        char *s = sb_arena_alloc(a, v->s.len + 1);
        if (!s)
            return SB_ENOMEM;
        memcpy(s, v->s.p, v->s.len);
        s[v->s.len] = '\0';
        *(const char **)base = s;
        return 0;
    }
    case G_IGNORED:
        SB_LOG(SB_LOG_NOTICE,
               "%s:%u: global parameter %s has no effect in Switchboard (accepted for "
               "OpenSIPS compatibility)",
               file, (unsigned)line, g->name);
        return 0;
    default:
        if (g->set(c, a, v, &err) != 0) {
            sb_diag_error(d, file, line, col, "%s: %s", g->name, err ? err : "invalid value");
            return SB_EINVAL;
        }
        return 0;
    }
type_err:
    sb_diag_error(d, file, line, col, "%s expects %s", g->name,
                  g->type == G_STR    ? "a string"
                  : g->type == G_BOOL ? "yes/no or a number"
                                      : "a number");
    return SB_EINVAL;
}

static const char *arena_cstr(struct sb_arena *a, const char *p, size_t n)
{
    char *s = sb_arena_alloc(a, n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* "host", "host:port", "[v6]", "[v6]:port"; a bare IPv6 without brackets has no port. */
static int split_hostport(sb_str s, sb_str *host, uint16_t *port, const char **err)
{
    *port = 0;
    if (s.len && s.p[0] == '[') {
        long close = sb_str_chr(s, ']');
        if (close < 0) {
            *err = "unterminated IPv6 reference";
            return SB_EPARSE;
        }
        *host = (sb_str){s.p + 1, (size_t)close - 1};
        s.p += close + 1;
        s.len -= (size_t)close + 1;
        if (s.len == 0)
            return 0;
        if (s.p[0] != ':') {
            *err = "junk after IPv6 reference";
            return SB_EPARSE;
        }
    } else {
        long colon = sb_str_chr(s, ':');
        if (colon >= 0 && sb_str_chr((sb_str){s.p + colon + 1, s.len - colon - 1}, ':') >= 0) {
            *host = s; /* bare IPv6 */
            return 0;
        }
        if (colon < 0) {
            *host = s;
            return 0;
        }
        *host = (sb_str){s.p, (size_t)colon};
        s.p += colon;
        s.len -= (size_t)colon;
    }
    uint32_t p;
    if (sb_str_to_u32((sb_str){s.p + 1, s.len - 1}, &p) != 0 || p == 0 || p > 65535) {
        *err = "bad port";
        return SB_EPARSE;
    }
    *port = (uint16_t)p;
    return host->len ? 0 : (*err = "empty address", SB_EPARSE);
}

static bool all_digits(sb_str s)
{
    if (!s.len)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!sb_is_digit((unsigned char)s.p[i]))
            return false;
    return true;
}

int sb_listen_parse(sb_str spec, struct sb_listen *out, struct sb_arena *a, const char **err)
{
    sb_str s = sb_str_trim(spec), adv = SB_STR_NULL;
    memset(out, 0, sizeof(*out));
    out->text = arena_cstr(a, s.p, s.len);
    /* " as host:port" — the advertised address */
    for (size_t i = 0; i + 4 <= s.len; i++)
        if (sb_is_ws((unsigned char)s.p[i]) && (s.p[i + 1] == 'a' || s.p[i + 1] == 'A') &&
            (s.p[i + 2] == 's' || s.p[i + 2] == 'S') && sb_is_ws((unsigned char)s.p[i + 3])) {
            adv = sb_str_trim((sb_str){s.p + i + 4, s.len - i - 4});
            s = sb_str_trim((sb_str){s.p, i});
            break;
        }
    out->proto = SB_PROTO_UDP;
    long colon = sb_str_chr(s, ':');
    if (colon > 0 && s.p[0] != '[') {
        uint8_t proto = sb_proto_lookup((sb_str){s.p, (size_t)colon});
        sb_str rest = {s.p + colon + 1, s.len - (size_t)colon - 1};
        if (proto != SB_PROTO_OTHER) {
            out->proto = proto;
            s = rest;
        } else if (!all_digits(rest)) {
            /* "name:port" is a host and a port; "word:anything-else" names a protocol */
            *err = "unknown protocol (expected udp, tcp, tls, sctp, ws or wss)";
            return SB_EPARSE;
        }
    }
    sb_str host;
    if (split_hostport(s, &host, &out->port, err) != 0)
        return SB_EPARSE;
    if (host.len == 0) {
        *err = "empty address";
        return SB_EPARSE;
    }
    out->host = arena_cstr(a, host.p, host.len);
    if (adv.len) {
        sb_str ah;
        if (split_hostport(adv, &ah, &out->adv_port, err) != 0)
            return SB_EPARSE;
        out->adv_host = arena_cstr(a, ah.p, ah.len);
    }
    return out->host && out->text ? 0 : SB_ENOMEM;
}
