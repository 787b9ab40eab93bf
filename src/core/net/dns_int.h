/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the resolver shared by src/core/net/dns*.c (and its unit test): record sets, the
 * cache shared by the workers, the hosts table and the resolv.conf reader. */
#ifndef SB_DNS_INT_H
#define SB_DNS_INT_H

#include <stdatomic.h>

#include "sb/dns.h"

#define SB__DNS_NAME_MAX  253
#define SB__DNS_TTL_MAX   3600 /* s: cap on what the cache keeps a positive answer */
#define SB__DNS_NEG_TTL   30   /* s: NXDOMAIN / no data */
#define SB__DNS_CACHE_MAX 8192 /* record sets */

enum { SB__DNS_A = 1, SB__DNS_AAAA = 28, SB__DNS_SRV = 33, SB__DNS_NAPTR = 35 };

struct sb__dns_rr {
    uint16_t prio;       /* SRV priority, NAPTR order */
    uint16_t weight;     /* SRV weight, NAPTR preference */
    uint16_t port;       /* SRV */
    uint8_t proto;       /* NAPTR: transport of a usable SIP service (flag "s"), else 0 */
    struct sb_addr addr; /* A / AAAA (port 0) */
    const char *target;  /* SRV target, NAPTR replacement: lower case, inside the set */
};

/* One answer (or the lack of one) for (qtype, name). Immutable once built, so that workers share
 * it through the cache; the reference count is the only mutable field. */
struct sb__dns_rrset {
    _Atomic unsigned refs;
    bool is_static;
    struct sb__dns_rrset *next; /* cache chain, under the cache mutex */
    uint64_t expires;           /* sb_now_ms() */
    int status;                 /* 0, SB_ENOENT (negative answer), SB_EAGAIN (no answer) */
    uint16_t qtype;
    unsigned n;
    const char *name;
    char *sp, *send; /* string area while building */
    struct sb__dns_rr rr[];
};

/* A set with room for <n> records and <strbytes> of strings, refs = 1. NULL on no memory. */
struct sb__dns_rrset *sb__dns_rrset_new(uint16_t qtype, const char *name, unsigned n,
                                        size_t strbytes);
/* Copy a domain name into the set's string area (lower case, no trailing dot). */
const char *sb__dns_rrset_name(struct sb__dns_rrset *s, const char *name);
void sb__dns_rrset_ref(struct sb__dns_rrset *s);
void sb__dns_rrset_unref(struct sb__dns_rrset *s);
/* "No answer" (timeout, server failure, no memory): shared, never freed. */
extern struct sb__dns_rrset sb__dns_failed;

/* The cache: any thread. get returns a new reference or NULL (absent or expired); put keeps a
 * reference of its own when <s>->expires lies ahead, replacing an older set for the same key. */
struct sb__dns_rrset *sb__dns_cache_get(uint16_t qtype, const char *name);
void sb__dns_cache_put(struct sb__dns_rrset *s);
void sb__dns_cache_clear(void);
unsigned sb__dns_cache_count(void);

/* The hosts table, loaded at sb_dns_init. find returns the addresses listed for <name> (lower
 * case) in file order, and their count (0 when absent). */
struct sb__dns_host {
    char *name;
    struct sb_addr addr;
    unsigned line; /* keeps file order among the entries of one name */
};
int sb__dns_hosts_load(const char *path);
void sb__dns_hosts_free(void);
unsigned sb__dns_hosts_find(const char *name, const struct sb__dns_host **first);

/* The nameserver lines of a resolv.conf-style file as the "ip:port,[ip6]:port" list c-ares takes.
 * SB_ENOENT when the file has none, SB_ENOSPC when <cap> is too small. */
int sb__dns_read_servers(const char *path, char *csv, size_t cap);

/* Order <n> SRV records by priority, then weighted random within each priority (RFC 2782).
 * <rnd> returns uniformly distributed 32-bit values (NULL: the resolver's own generator). */
void sb__dns_srv_order(const struct sb__dns_rr **v, unsigned n, uint32_t (*rnd)(void));

/* The record set for a c-ares answer (<status> an ARES_* code): positive and negative answers
 * are stored in the cache; anything else gives sb__dns_failed. A new reference. */
struct sb__dns_rrset *sb__dns_answer(uint16_t qtype, const char *name, int status,
                                     const unsigned char *abuf, int alen);

/* The minimum TTL over the answer section of a DNS response; 0 when there is none. */
uint32_t sb__dns_min_ttl(const unsigned char *buf, int len);

#endif
