/* SPDX-License-Identifier: BSD-2-Clause */
/* "Is this address ours?": the listening and advertised addresses of the socket table, the
 * alias= entries of the configuration and (auto_aliases) the host names listeners were given. */
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/core_cfg.h"
#include "sb/hdr.h"
#include "sb/net.h"
#include "sb/uri.h"

/* Host equality: names case-insensitively, IP addresses by value (so "::1", "[::1]" and
 * "0:0::1" are one address). */
static bool host_eq(sb_str a, sb_str b)
{
    a = sb__unbracket(a);
    b = sb__unbracket(b);
    if (sb_str_caseeq(a, b))
        return true;
    struct sb_addr x, y;
    return sb_addr_set(&x, a, 0) == 0 && sb_addr_set(&y, b, 0) == 0 && sb_addr_ip_eq(&x, &y);
}

static bool proto_ok(uint8_t want, uint8_t have)
{
    return !want || !have || want == have;
}

static bool port_ok(uint16_t want, uint16_t have)
{
    return !want || !have || want == have;
}

/* An alias= entry: "[proto:]host[:port]", IPv6 in brackets when a port follows. */
static bool alias_match(const char *alias, sb_str host, uint16_t port, uint8_t proto)
{
    sb_str s = sb_str_cstr(alias);
    uint8_t aproto = 0;
    long c = sb_str_chr(s, ':');
    if (c > 0 && s.p[0] != '[') {
        uint8_t p = sb_proto_lookup((sb_str){s.p, (size_t)c});
        /* "udp:" but not the first group of a bare IPv6 address */
        if (p != SB_PROTO_OTHER && !sb_is_ip6(s)) {
            aproto = p;
            s = (sb_str){s.p + c + 1, s.len - (size_t)c - 1};
        }
    }
    sb_str ahost = s;
    uint16_t aport = 0;
    sb_str rest = SB_STR_NULL;
    if (s.len && s.p[0] == '[') {
        long e = sb_str_chr(s, ']');
        if (e < 0)
            return false;
        ahost = (sb_str){s.p, (size_t)e + 1};
        rest = (sb_str){s.p + e + 1, s.len - (size_t)e - 1};
    } else if (!sb_is_ip6(s)) {
        long e = sb_str_chr(s, ':');
        if (e >= 0) {
            ahost = (sb_str){s.p, (size_t)e};
            rest = (sb_str){s.p + e, s.len - (size_t)e};
        }
    }
    if (rest.len) {
        uint32_t n;
        if (rest.p[0] != ':' || sb_str_to_u32((sb_str){rest.p + 1, rest.len - 1}, &n) < 0 ||
            n > 65535)
            return false;
        aport = (uint16_t)n;
    }
    return proto_ok(proto, aproto) && port_ok(port, aport) && host_eq(host, ahost);
}

static bool socket_match(const struct sb_socket *s, sb_str host, uint16_t port, uint8_t proto,
                         bool names)
{
    if (!proto_ok(proto, s->proto))
        return false;
    if (port_ok(port, s->port) && host_eq(host, sb_str_cstr(s->ip)))
        return true;
    if (port_ok(port, s->adv_port) && s->adv_host[0] && host_eq(host, sb_str_cstr(s->adv_host)))
        return true;
    /* the name a listener was configured with ("socket=udp:sip.example.com:5060") */
    if (names && s->cfg && s->cfg->host && port_ok(port, s->port) &&
        host_eq(host, sb_str_cstr(s->cfg->host)))
        return true;
    return false;
}

bool sb__is_myself_in(const struct sb_socket *const *socks, unsigned n_socks,
                      const char *const *aliases, unsigned n_aliases, sb_str host, uint16_t port,
                      uint8_t proto)
{
    if (!host.len)
        return false;
    for (unsigned i = 0; i < n_socks; i++)
        if (socks[i] && socket_match(socks[i], host, port, proto, true))
            return true;
    for (unsigned i = 0; i < n_aliases; i++)
        if (aliases[i] && alias_match(aliases[i], host, port, proto))
            return true;
    return false;
}

bool sb_is_myself(sb_str host, uint16_t port, uint8_t proto)
{
    if (!host.len)
        return false;
    const struct sb_core_cfg *cfg = sb__fwd_cfg();
    bool names = !cfg || cfg->auto_aliases;
    unsigned n = sb_tp_n_sockets();
    for (unsigned i = 0; i < n; i++) {
        const struct sb_socket *s = sb_tp_socket(i);
        if (s && socket_match(s, host, port, proto, names))
            return true;
    }
    for (unsigned i = 0; cfg && i < cfg->n_aliases; i++)
        if (cfg->aliases[i] && alias_match(cfg->aliases[i], host, port, proto))
            return true;
    return false;
}

bool sb_uri_is_myself(const struct sb_uri *u)
{
    if (u->scheme != SB_URI_SIP && u->scheme != SB_URI_SIPS)
        return false;
    uint8_t proto = u->transport.len ? sb_proto_lookup(u->transport) : 0;
    if (u->scheme == SB_URI_SIPS && (proto == 0 || proto == SB_PROTO_TCP))
        proto = SB_PROTO_TLS;
    /* RFC3261-19.1.2: no port means the transport's default */
    uint16_t port = u->port_no ? u->port_no : (u->scheme == SB_URI_SIPS ? 5061 : 5060);
    return sb_is_myself(u->host, port, proto);
}
