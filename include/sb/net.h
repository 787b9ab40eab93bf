/* SPDX-License-Identifier: BSD-2-Clause */
/* Socket addresses: IPv4 and IPv6 in one type, parsing and formatting without DNS. */
#ifndef SB_NET_H
#define SB_NET_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "sb/base-t.h"

#define SB_IP_STRLEN 46 /* INET6_ADDRSTRLEN */

struct sb_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
        struct sockaddr_storage ss;
    } u;
    socklen_t len; /* 0: unset */
};

/* A literal IPv4 or IPv6 address ("192.0.2.1", "::1", "[::1]") and a port. SB_EPARSE when <ip> is
 * not a literal address. */
int sb_addr_set(struct sb_addr *a, sb_str ip, uint16_t port);
/* Copy from a sockaddr returned by the kernel. */
void sb_addr_from_sa(struct sb_addr *a, const struct sockaddr *sa, socklen_t len);
/* The address as text without brackets, NUL-terminated, into <out> (SB_IP_STRLEN bytes);
 * returns the length. */
size_t sb_addr_ip(const struct sb_addr *a, char *out);
uint16_t sb_addr_port(const struct sb_addr *a);
void sb_addr_set_port(struct sb_addr *a, uint16_t port);
int sb_addr_family(const struct sb_addr *a);                       /* AF_INET, AF_INET6, or 0 */
bool sb_addr_eq(const struct sb_addr *a, const struct sb_addr *b); /* address and port */
bool sb_addr_ip_eq(const struct sb_addr *a, const struct sb_addr *b);
/* Whether <s> is a literal IPv4 address, or an IPv6 one (with or without brackets). */
bool sb_is_ip4(sb_str s);
bool sb_is_ip6(sb_str s);

#endif
