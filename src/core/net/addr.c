/* SPDX-License-Identifier: BSD-2-Clause */
/* Socket addresses: literal IPv4/IPv6 parsing, formatting and comparison, without DNS. */
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>

#include "sb/base.h"
#include "sb/net.h"

/* Longest literal we accept: an IPv6 address with an embedded IPv4 tail and a scope name. */
#define LIT_MAX (SB_IP_STRLEN + IF_NAMESIZE + 1)

static sb_str strip_brackets(sb_str s)
{
    if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']')
        return (sb_str){s.p + 1, s.len - 2};
    return s;
}

static bool to_cstr(sb_str s, char *out)
{
    if (!s.p || s.len == 0 || s.len >= LIT_MAX || memchr(s.p, '\0', s.len))
        return false;
    memcpy(out, s.p, s.len);
    out[s.len] = '\0';
    return true;
}

/* IPv6 with an optional "%scope" (interface name or number) for link-local addresses. */
static bool parse6(const char *txt, struct in6_addr *ip, uint32_t *scope)
{
    char buf[LIT_MAX];
    const char *pct = strchr(txt, '%');
    *scope = 0;
    if (!pct)
        return inet_pton(AF_INET6, txt, ip) == 1;
    size_t n = (size_t)(pct - txt);
    memcpy(buf, txt, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, ip) != 1 || pct[1] == '\0')
        return false;
    uint32_t idx;
    if (sb_str_to_u32(sb_str_cstr(pct + 1), &idx) == 0)
        *scope = idx;
    else if ((*scope = if_nametoindex(pct + 1)) == 0)
        return false;
    return true;
}

int sb_addr_set(struct sb_addr *a, sb_str ip, uint16_t port)
{
    char buf[LIT_MAX];
    memset(a, 0, sizeof(*a));
    bool bracketed = ip.len >= 2 && ip.p[0] == '[';
    if (!to_cstr(strip_brackets(ip), buf))
        return SB_EPARSE;
    if (!bracketed && inet_pton(AF_INET, buf, &a->u.sin.sin_addr) == 1) {
        a->u.sin.sin_family = AF_INET;
        a->u.sin.sin_port = htons(port);
        a->len = sizeof(a->u.sin);
        return 0;
    }
    uint32_t scope;
    if (parse6(buf, &a->u.sin6.sin6_addr, &scope)) {
        a->u.sin6.sin6_family = AF_INET6;
        a->u.sin6.sin6_port = htons(port);
        a->u.sin6.sin6_scope_id = scope;
        a->len = sizeof(a->u.sin6);
        return 0;
    }
    memset(a, 0, sizeof(*a));
    return SB_EPARSE;
}

void sb_addr_from_sa(struct sb_addr *a, const struct sockaddr *sa, socklen_t len)
{
    memset(a, 0, sizeof(*a));
    if (!sa)
        return;
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        memcpy(&a->u.sin, sa, sizeof(a->u.sin));
        a->len = sizeof(a->u.sin);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        memcpy(&a->u.sin6, sa, sizeof(a->u.sin6));
        a->len = sizeof(a->u.sin6);
    }
}

size_t sb_addr_ip(const struct sb_addr *a, char *out)
{
    out[0] = '\0';
    const void *src;
    switch (sb_addr_family(a)) {
    case AF_INET: src = &a->u.sin.sin_addr; break;
    case AF_INET6: src = &a->u.sin6.sin6_addr; break;
    default: return 0;
    }
    if (!inet_ntop(a->u.sa.sa_family, src, out, SB_IP_STRLEN)) {
        out[0] = '\0';
        return 0;
    }
    return strlen(out);
}

uint16_t sb_addr_port(const struct sb_addr *a)
{
    switch (sb_addr_family(a)) {
    case AF_INET: return ntohs(a->u.sin.sin_port);
    case AF_INET6: return ntohs(a->u.sin6.sin6_port);
    default: return 0;
    }
}

void sb_addr_set_port(struct sb_addr *a, uint16_t port)
{
    switch (sb_addr_family(a)) {
    case AF_INET: a->u.sin.sin_port = htons(port); break;
    case AF_INET6: a->u.sin6.sin6_port = htons(port); break;
    default: break;
    }
}

int sb_addr_family(const struct sb_addr *a)
{
    if (!a || a->len == 0)
        return 0;
    int f = a->u.sa.sa_family;
    return f == AF_INET || f == AF_INET6 ? f : 0;
}

bool sb_addr_ip_eq(const struct sb_addr *a, const struct sb_addr *b)
{
    int f = sb_addr_family(a);
    if (f == 0 || f != sb_addr_family(b))
        return false;
    if (f == AF_INET)
        return a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
    return memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr, sizeof(struct in6_addr)) == 0 &&
           a->u.sin6.sin6_scope_id == b->u.sin6.sin6_scope_id;
}

bool sb_addr_eq(const struct sb_addr *a, const struct sb_addr *b)
{
    return sb_addr_ip_eq(a, b) && sb_addr_port(a) == sb_addr_port(b);
}

bool sb_is_ip4(sb_str s)
{
    char buf[LIT_MAX];
    struct in_addr ip;
    return to_cstr(s, buf) && inet_pton(AF_INET, buf, &ip) == 1;
}

bool sb_is_ip6(sb_str s)
{
    char buf[LIT_MAX];
    struct in6_addr ip;
    uint32_t scope;
    return to_cstr(strip_brackets(s), buf) && parse6(buf, &ip, &scope);
}
