/* SPDX-License-Identifier: BSD-2-Clause */
/* Resolver inputs read once at start-up: the hosts file (sorted by name for lookups from any
 * thread without a lock) and the nameserver lines of a resolv.conf-style file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb/base.h"
#include "sb/log.h"
#include "net/dns_int.h"

static struct {
    struct sb__dns_host *v;
    unsigned n, cap;
} H;

static int host_cmp(const void *a, const void *b)
{
    const struct sb__dns_host *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int host_add(const char *name, size_t len, const struct sb_addr *addr, unsigned line)
{
    while (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > SB__DNS_NAME_MAX)
        return 0;
    if (H.n == H.cap) {
        unsigned cap = H.cap ? H.cap * 2 : 32;
        struct sb__dns_host *v = realloc(H.v, cap * sizeof(*v));
        if (!v)
            return SB_ENOMEM;
        H.v = v;
        H.cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return SB_ENOMEM;
    for (size_t i = 0; i < len; i++)
        copy[i] = (char)sb_lower((unsigned char)name[i]);
    copy[len] = '\0';
    H.v[H.n++] = (struct sb__dns_host){.name = copy, .addr = *addr, .line = line};
    return 0;
}

/* One line: an address, then its names; '#' starts a comment. */
static int host_line(char *line, unsigned lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    static const char sep[] = " \t\r\n";
    char *save = NULL;
    char *ip = strtok_r(line, sep, &save);
    if (!ip)
        return 0;
    struct sb_addr addr;
    /* Link-local entries with an unknown scope and other oddities are skipped, as libc does. */
    if (sb_addr_set(&addr, sb_str_cstr(ip), 0) != 0)
        return 0;
    for (char *name = strtok_r(NULL, sep, &save); name; name = strtok_r(NULL, sep, &save)) {
        int rc = host_add(name, strlen(name), &addr, lineno);
        if (rc)
            return rc;
    }
    return 0;
}

int sb__dns_hosts_load(const char *path)
{
    sb__dns_hosts_free();
    FILE *f = fopen(path, "re");
    if (!f)
        return SB_ENOENT;
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0)
        rc = host_line(line, ++lineno);
    free(line);
    fclose(f);
    if (rc) {
        sb__dns_hosts_free();
        return rc;
    }
    if (H.n)
        qsort(H.v, H.n, sizeof(*H.v), host_cmp);
    return 0;
}

void sb__dns_hosts_free(void)
{
    for (unsigned i = 0; i < H.n; i++)
        free(H.v[i].name);
    free(H.v);
    H.v = NULL;
    H.n = H.cap = 0;
}

unsigned sb__dns_hosts_find(const char *name, const struct sb__dns_host **first)
{
    unsigned lo = 0, hi = H.n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (strcmp(H.v[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    unsigned end = lo;
    while (end < H.n && strcmp(H.v[end].name, name) == 0)
        end++;
    *first = end > lo ? &H.v[lo] : NULL;
    return end - lo;
}

/* "IP", "IP:port", "IPv6", "[IPv6]" or "[IPv6]:port" as c-ares wants it: always with a port. */
static int server_entry(sb_str v, char *out, size_t cap)
{
    sb_str ip = v;
    uint32_t port = 53;
    sb_str port_s = SB_STR_NULL;
    if (v.len && v.p[0] == '[') {
        long close = sb_str_chr(v, ']');
        if (close < 0)
            return SB_EPARSE;
        ip = (sb_str){v.p + 1, (size_t)close - 1};
        if ((size_t)close + 1 < v.len) {
            if (v.p[close + 1] != ':')
                return SB_EPARSE;
            port_s = (sb_str){v.p + close + 2, v.len - (size_t)close - 2};
        }
    } else {
        long colon = sb_str_chr(v, ':');
        /* exactly one colon: IPv4 and a port; more: a bare IPv6 address */
        if (colon >= 0 &&
            sb_str_chr((sb_str){v.p + colon + 1, v.len - (size_t)colon - 1}, ':') < 0) {
            ip = (sb_str){v.p, (size_t)colon};
            port_s = (sb_str){v.p + colon + 1, v.len - (size_t)colon - 1};
        }
    }
    if (port_s.p && (sb_str_to_u32(port_s, &port) != 0 || port == 0 || port > 65535))
        return SB_EPARSE;
    int n;
    if (sb_is_ip4(ip))
        n = snprintf(out, cap, SB_STR_FMT ":%u", SB_STR_ARG(ip), port);
    else if (sb_is_ip6(ip))
        n = snprintf(out, cap, "[" SB_STR_FMT "]:%u", SB_STR_ARG(ip), port);
    else
        return SB_EPARSE;
    return n < 0 || (size_t)n >= cap ? SB_ENOSPC : n;
}

int sb__dns_read_servers(const char *path, char *csv, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return SB_ENOENT;
    char *line = NULL;
    size_t lcap = 0, used = 0;
    unsigned lineno = 0;
    int rc = 0;
    csv[0] = '\0';
    while (rc == 0 && getline(&line, &lcap, f) >= 0) {
        lineno++;
        static const char sep[] = " \t\r\n";
        char *save = NULL;
        char *kw = strtok_r(line, sep, &save);
        if (!kw || strcmp(kw, "nameserver") != 0)
            continue;
        char *val = strtok_r(NULL, sep, &save);
        if (!val)
            continue;
        if (used && used + 1 < cap)
            csv[used++] = ',';
        int n = server_entry(sb_str_cstr(val), csv + used, cap - used);
        if (n == SB_EPARSE) {
            SB_WARN("dns: %s:%u: bad nameserver '%s' ignored", path, lineno, val);
            if (used)
                used--;
            csv[used] = '\0';
            continue;
        }
        if (n < 0)
            rc = n;
        else
            used += (size_t)n;
    }
    free(line);
    fclose(f);
    if (rc == 0 && used == 0)
        rc = SB_ENOENT;
    return rc;
}
