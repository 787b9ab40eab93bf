/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 3263 resolution (NAPTR -> SRV -> A/AAAA) for SIP, run by c-ares on each worker's loop.
 * A request walks the algorithm over record sets it looks up in the shared cache; whatever is
 * missing is queried in parallel and the walk runs again once every answer is in. */
#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "sb/base.h"
#include "sb/hdr-t.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/worker.h"
#include "net/dns_int.h"

#define MAX_LOOKUPS 48 /* record sets one request may touch */
#define MAX_ROUNDS  8  /* NAPTR, SRV, A/AAAA, and a CNAME-ish spare: more means a loop */
#define CLASS_IN    1

static struct {
    bool ready;
    bool try_ipv6, try_naptr;
    int timeout_ms, tries;
    char servers[1024]; /* c-ares csv, empty: the system resolv.conf */
} G;

/* ---- per-worker state ----------------------------------------------------------------------- */

struct dnsw;

struct dns_sock {
    struct sb_io io;
    struct dns_sock *next;
    struct dnsw *d;
    int fd;
    bool used;
};

struct dnsw {
    struct sb_loop *loop;
    ares_channel ch;
    struct sb_timer timer;
    struct dns_sock *socks;
    unsigned n_pending;     /* requests waiting for answers */
    struct flight *flights; /* queries on the wire */
    bool exiting;
};

struct rq;

struct lookup {
    struct rq *q;
    struct sb__dns_rrset *set; /* NULL until answered */
    struct lookup *next_waiter;
    uint16_t qtype;
    bool issued;
    char name[SB__DNS_NAME_MAX + 1];
};

/* One query on the wire; every lookup of the worker that wants the same (qtype, name) meanwhile
 * waits on it instead of sending its own. */
struct flight {
    struct flight *next;
    struct dnsw *d;
    struct lookup *waiters, **tail;
    uint16_t qtype;
    char name[SB__DNS_NAME_MAX + 1];
};

struct rq {
    struct dnsw *d;
    sb_dns_cb cb;
    void *arg;
    uint16_t port;
    uint8_t proto; /* effective: never 0 once a default applies */
    bool proto_given, secure;
    bool issuing, cancelled, no_worker;
    unsigned pending, rounds, n_lk;
    struct sb_dns_result res;
    char host[SB__DNS_NAME_MAX + 1];
    struct lookup lk[MAX_LOOKUPS];
};

/* ---- the walk ------------------------------------------------------------------------------- */

struct walk {
    struct rq *q;
    unsigned missing; /* record sets not known yet */
    bool soft;        /* a lookup went unanswered (timeout, server failure) */
};

static uint16_t default_port(uint8_t proto)
{
    return proto == SB_PROTO_TLS || proto == SB_PROTO_WSS ? 5061 : 5060;
}

static struct sb__dns_rrset *lookup(struct walk *w, uint16_t qtype, const char *name)
{
    struct rq *q = w->q;
    for (unsigned i = 0; i < q->n_lk; i++) {
        struct lookup *l = &q->lk[i];
        if (l->qtype == qtype && strcmp(l->name, name) == 0) {
            if (!l->set)
                w->missing++;
            return l->set;
        }
    }
    if (strlen(name) > SB__DNS_NAME_MAX)
        return NULL; /* cannot exist: as good as a negative answer */
    if (q->n_lk == MAX_LOOKUPS) {
        w->soft = true;
        return NULL;
    }
    struct lookup *l = &q->lk[q->n_lk++];
    *l = (struct lookup){.q = q, .qtype = qtype};
    strcpy(l->name, name);
    l->set = sb__dns_cache_get(qtype, name);
    if (!l->set)
        w->missing++;
    return l->set;
}

static void append(struct walk *w, const struct sb_addr *a, uint16_t port, uint8_t proto)
{
    struct sb_dns_result *r = &w->q->res;
    if (r->n == SB_DNS_MAX_TARGETS)
        return;
    struct sb_dns_target *t = &r->t[r->n++];
    t->proto = proto;
    t->addr = *a;
    sb_addr_set_port(&t->addr, port);
}

static void append_set(struct walk *w, const struct sb__dns_rrset *s, uint16_t port, uint8_t proto)
{
    if (!s)
        return;
    if (s->status == SB_EAGAIN)
        w->soft = true;
    for (unsigned i = 0; i < s->n; i++)
        append(w, &s->rr[i].addr, port, proto);
}

/* The addresses of one host: the hosts file when it names the host (no DNS then, like the
 * system resolver), else A and, with try_ipv6, AAAA. IPv4 first. */
static void add_host(struct walk *w, const char *name, uint16_t port, uint8_t proto)
{
    const struct sb__dns_host *h;
    unsigned n = sb__dns_hosts_find(name, &h);
    if (n) {
        for (unsigned i = 0; i < n; i++)
            if (sb_addr_family(&h[i].addr) == AF_INET)
                append(w, &h[i].addr, port, proto);
        for (unsigned i = 0; G.try_ipv6 && i < n; i++)
            if (sb_addr_family(&h[i].addr) == AF_INET6)
                append(w, &h[i].addr, port, proto);
        return;
    }
    struct sb__dns_rrset *a = lookup(w, SB__DNS_A, name);
    struct sb__dns_rrset *aaaa = G.try_ipv6 ? lookup(w, SB__DNS_AAAA, name) : NULL;
    append_set(w, a, port, proto);
    append_set(w, aaaa, port, proto);
}

enum { SRV_MISSING, SRV_NONE, SRV_FOUND };

static int srv_targets(struct walk *w, const char *name, uint8_t proto)
{
    unsigned missing = w->missing;
    struct sb__dns_rrset *s = lookup(w, SB__DNS_SRV, name);
    if (!s)
        return w->missing > missing ? SRV_MISSING : SRV_NONE;
    if (s->status == SB_EAGAIN)
        w->soft = true;
    if (s->status != 0 || s->n == 0)
        return SRV_NONE;
    const struct sb__dns_rr *v[64];
    unsigned n = s->n < SB_ARRAY_LEN(v) ? s->n : (unsigned)SB_ARRAY_LEN(v);
    for (unsigned i = 0; i < n; i++)
        v[i] = &s->rr[i];
    sb__dns_srv_order(v, n, NULL);
    for (unsigned i = 0; i < n; i++) {
        /* RFC 2782: a target of "." means the service is decidedly not available here */
        if (v[i]->target[0] && strcmp(v[i]->target, ".") != 0)
            add_host(w, v[i]->target, v[i]->port, proto);
    }
    return SRV_FOUND;
}

/* The SRV name for a transport (RFC 3263 §4.2), or NULL for one without SRV records. */
static const char *srv_prefix(uint8_t proto)
{
    switch (proto) {
    case SB_PROTO_UDP: return "_sip._udp.";
    case SB_PROTO_TCP: return "_sip._tcp.";
    case SB_PROTO_TLS: return "_sips._tcp.";
    case SB_PROTO_SCTP: return "_sip._sctp.";
    default: return NULL;
    }
}

static int srv_for(struct walk *w, uint8_t proto)
{
    const char *pfx = srv_prefix(proto);
    char name[SB__DNS_NAME_MAX + 16];
    if (!pfx)
        return SRV_NONE;
    snprintf(name, sizeof(name), "%s%s", pfx, w->q->host);
    return srv_targets(w, name, proto);
}

static int by_order(const void *a, const void *b)
{
    const struct sb__dns_rr *x = *(const struct sb__dns_rr *const *)a;
    const struct sb__dns_rr *y = *(const struct sb__dns_rr *const *)b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->weight < y->weight ? -1 : x->weight > y->weight;
}

/* RFC 3263 §4.1: the NAPTR records of the domain in order and preference, each leading to SRV. */
static bool naptr_targets(struct walk *w)
{
    struct rq *q = w->q;
    struct sb__dns_rrset *s = lookup(w, SB__DNS_NAPTR, q->host);
    if (!s) /* not known yet: the SRV step below runs as a guess, in parallel */
        return false;
    if (s->status == SB_EAGAIN)
        w->soft = true;
    const struct sb__dns_rr *v[64];
    unsigned n = 0;
    for (unsigned i = 0; i < s->n && n < SB_ARRAY_LEN(v); i++) {
        const struct sb__dns_rr *r = &s->rr[i];
        /* RFC 3263 §4.1: a sips URI only takes TLS */
        if (r->proto && (!q->secure || r->proto == SB_PROTO_TLS))
            v[n++] = r;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), by_order);
    bool found = false;
    for (unsigned i = 0; i < n; i++)
        if (srv_targets(w, v[i]->target, v[i]->proto) == SRV_FOUND)
            found = true;
    return found;
}

/* One pass over the algorithm with what is known; w->missing says whether it was complete. */
static void walk(struct rq *q, struct walk *w)
{
    *w = (struct walk){.q = q};
    q->res.n = 0;
    const struct sb__dns_host *h;
    if (q->port || sb__dns_hosts_find(q->host, &h)) {
        add_host(w, q->host, q->port ? q->port : default_port(q->proto), q->proto);
        return;
    }
    if (q->proto_given) {
        if (srv_for(w, q->proto) != SRV_FOUND)
            add_host(w, q->host, default_port(q->proto), q->proto);
        return;
    }
    if (G.try_naptr && naptr_targets(w))
        return;
    /* RFC 3263 §4.1: no NAPTR: SRV for the transports we support */
    bool found;
    if (q->secure) {
        found = srv_for(w, SB_PROTO_TLS) == SRV_FOUND;
    } else {
        int udp = srv_for(w, SB_PROTO_UDP);
        int tcp = srv_for(w, SB_PROTO_TCP);
        found = udp == SRV_FOUND || tcp == SRV_FOUND;
    }
    if (!found)
        add_host(w, q->host, default_port(q->proto), q->proto);
}

static void finish(struct rq *q, const struct walk *w)
{
    if (q->cancelled)
        q->res.n = 0;
    if (q->res.n)
        q->res.err = 0;
    else
        q->res.err = w->soft || q->cancelled ? SB_EAGAIN : SB_ENOENT;
}

static void rq_free(struct rq *q)
{
    for (unsigned i = 0; i < q->n_lk; i++)
        sb__dns_rrset_unref(q->lk[i].set);
    free(q);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

/* Wait for (l->qtype, l->name): on the query already out for it, or on a new one. */
static void send_lookup(struct dnsw *d, struct lookup *l)
{
    struct flight *f = d->flights;
    while (f && (f->qtype != l->qtype || strcmp(f->name, l->name) != 0))
        f = f->next;
    l->next_waiter = NULL;
    if (f) {
        *f->tail = l;
        f->tail = &l->next_waiter;
        return;
    }
    f = malloc(sizeof(*f));
    if (!f) {
        struct rq *q = l->q;
        l->set = &sb__dns_failed;
        q->pending--;
        return;
    }
    f->d = d;
    f->waiters = l;
    f->tail = &l->next_waiter;
    f->qtype = l->qtype;
    strcpy(f->name, l->name);
    f->next = d->flights;
    d->flights = f;
    ares_query(d->ch, f->name, CLASS_IN, f->qtype, on_answer, f);
}

/* Walk, and query what is missing. True when the result is final. */
static bool rq_advance(struct rq *q)
{
    struct walk w;
    for (;;) {
        if (q->cancelled) {
            w = (struct walk){.q = q};
            finish(q, &w);
            return true;
        }
        walk(q, &w);
        if (w.missing && !q->d)
            q->no_worker = true;
        if (w.missing == 0 || ++q->rounds > MAX_ROUNDS || !q->d || q->d->exiting) {
            if (w.missing)
                w.soft = true;
            finish(q, &w);
            return true;
        }
        /* answers given synchronously by c-ares (a channel failure) land while this is set */
        q->issuing = true;
        for (unsigned i = 0; i < q->n_lk; i++) {
            struct lookup *l = &q->lk[i];
            if (l->set || l->issued)
                continue;
            l->issued = true;
            q->pending++;
            send_lookup(q->d, l);
        }
        q->issuing = false;
        if (q->pending)
            return false;
    }
}

static void rearm(struct dnsw *d)
{
    struct timeval tv;
    if (d->exiting)
        return;
    if (!ares_timeout(d->ch, NULL, &tv)) {
        sb_timer_stop(&d->timer);
        return;
    }
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
    sb_timer_start(d->loop, &d->timer, ms ? ms : 1);
}

/* One lookup of a request answered: when it was the last one out, walk again. */
static void lookup_done(struct lookup *l, struct sb__dns_rrset *set, bool cancelled)
{
    struct rq *q = l->q;
    l->set = set;
    if (cancelled)
        q->cancelled = true;
    q->pending--;
    if (q->issuing || q->pending)
        return;
    if (!rq_advance(q))
        return;
    q->d->n_pending--;
    if (q->cb)
        q->cb(q->arg, &q->res);
    rq_free(q);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    struct flight *f = arg;
    for (struct flight **pp = &f->d->flights; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    bool cancelled = status == ARES_ECANCELLED || status == ARES_EDESTRUCTION;
    struct sb__dns_rrset *set =
        cancelled ? &sb__dns_failed : sb__dns_answer(f->qtype, f->name, status, abuf, alen);
    /* each waiter holds its own reference; a waiter's request may finish (and be freed) in
     * lookup_done, so the next one is read first */
    for (struct lookup *l = f->waiters, *next; l; l = next) {
        next = l->next_waiter;
        sb__dns_rrset_ref(set);
        lookup_done(l, set, cancelled);
    }
    sb__dns_rrset_unref(set);
    free(f);
}

/* ---- the public entry ----------------------------------------------------------------------- */

static bool literal(sb_str host, uint16_t port, uint8_t proto, struct sb_dns_result *res)
{
    if (!sb_is_ip4(host) && !sb_is_ip6(host))
        return false;
    struct sb_addr a;
    if (sb_addr_set(&a, host, port ? port : default_port(proto)) != 0)
        return false;
    res->err = 0;
    res->n = 1;
    res->t[0].proto = proto;
    res->t[0].addr = a;
    return true;
}

int sb_dns_resolve(sb_str host, uint16_t port, uint8_t proto, bool secure,
                   struct sb_dns_result *res, sb_dns_cb cb, void *arg)
{
    if (!res || !host.p || host.len == 0)
        return SB_EINVAL;
    res->n = 0;
    res->err = SB_ENOENT;
    bool proto_given = proto != SB_PROTO_OTHER;
    if (proto == SB_PROTO_TLS || proto == SB_PROTO_WSS)
        secure = true;
    if (!proto_given)
        proto = secure ? SB_PROTO_TLS : SB_PROTO_UDP;
    else if (secure && (proto == SB_PROTO_UDP || proto == SB_PROTO_TCP))
        proto = SB_PROTO_TLS; /* RFC 3261 §26.2: sips is TLS over a reliable transport */
    if (literal(host, port, proto, res))
        return 0;

    size_t len = host.len;
    while (len > 0 && host.p[len - 1] == '.')
        len--;
    if (len == 0 || len > SB__DNS_NAME_MAX || memchr(host.p, '\0', len))
        return SB_EINVAL;
    struct rq *q = calloc(1, sizeof(*q));
    if (!q)
        return SB_ENOMEM;
    for (size_t i = 0; i < len; i++)
        q->host[i] = (char)sb_lower((unsigned char)host.p[i]);
    q->port = port;
    q->proto = proto;
    q->proto_given = proto_given;
    q->secure = secure;
    q->cb = cb;
    q->arg = arg;
    struct sb_worker *self = sb_worker_self;
    q->d = G.ready && self ? self->dns : NULL;

    if (rq_advance(q)) {
        int rc = q->no_worker ? SB_EINVAL : 0;
        *res = q->res;
        rq_free(q);
        return rc;
    }
    /* queries are out: from here on the answer goes to <cb> (none: they only fill the cache) */
    q->d->n_pending++;
    rearm(q->d);
    return SB_EAGAIN;
}

/* ---- c-ares on the worker loop -------------------------------------------------------------- */

static void on_io(struct sb_io *io, uint32_t events)
{
    struct dns_sock *s = io->data;
    struct dnsw *d = s->d;
    ares_socket_t fd = s->fd;
    /* an error or hang-up is reported to c-ares as readable: its read finds the error */
    ares_process_fd(d->ch, events & (SB_IO_READ | SB_IO_ERR) ? fd : ARES_SOCKET_BAD,
                    events & SB_IO_WRITE ? fd : ARES_SOCKET_BAD);
    rearm(d);
}

static void on_timer(struct sb_timer *t)
{
    struct dnsw *d = t->data;
    ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(d);
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dnsw *d = data;
    struct dns_sock *s = d->socks, *free_slot = NULL;
    for (; s; s = s->next) {
        if (s->used && s->fd == fd)
            break;
        if (!s->used && !free_slot)
            free_slot = s;
    }
    uint32_t ev = (readable ? SB_IO_READ : 0) | (writable ? SB_IO_WRITE : 0);
    if (!ev) {
        if (s) {
            sb_io_stop(&s->io);
            s->used = false;
        }
        return;
    }
    if (s) {
        if (sb_io_modify(&s->io, ev) != 0)
            SB_ERR("dns: cannot watch resolver socket %d", (int)fd);
        return;
    }
    /* Slots are reused, never freed before the worker exits: the loop may still hold a stopped
     * one while its callback unwinds. */
    s = free_slot;
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s) {
            SB_ERR("dns: out of memory watching resolver socket %d", (int)fd);
            return;
        }
        s->d = d;
        s->next = d->socks;
        d->socks = s;
    }
    s->fd = fd;
    s->used = true;
    if (sb_io_start(d->loop, &s->io, fd, ev, on_io, s) != 0) {
        SB_ERR("dns: cannot watch resolver socket %d", (int)fd);
        s->used = false;
    }
}

int sb_dns_worker_start(struct sb_worker *w)
{
    if (!G.ready || !w || !w->loop)
        return SB_EINVAL;
    struct dnsw *d = calloc(1, sizeof(*d));
    if (!d)
        return SB_ENOMEM;
    d->loop = w->loop;
    sb_timer_init(&d->timer, on_timer, d);
    struct ares_options o = {
        .sock_state_cb = on_sock_state,
        .sock_state_cb_data = d,
        .lookups = (char *)"b",
    };
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
    if (G.timeout_ms > 0) {
        o.timeout = G.timeout_ms;
        mask |= ARES_OPT_TIMEOUTMS;
    }
    if (G.tries > 0) {
        o.tries = G.tries;
        mask |= ARES_OPT_TRIES;
    }
    int rc = ares_init_options(&d->ch, &o, mask);
    if (rc != ARES_SUCCESS) {
        SB_ERR("dns: resolver init failed: %s", ares_strerror(rc));
        free(d);
        return rc == ARES_ENOMEM ? SB_ENOMEM : SB_EINVAL;
    }
    if (G.servers[0] && (rc = ares_set_servers_ports_csv(d->ch, G.servers)) != ARES_SUCCESS) {
        SB_ERR("dns: bad nameservers '%s': %s", G.servers, ares_strerror(rc));
        ares_destroy(d->ch);
        free(d);
        return SB_EINVAL;
    }
    w->dns = d;
    return 0;
}

void sb_dns_worker_exit(struct sb_worker *w)
{
    struct dnsw *d = w ? w->dns : NULL;
    if (!d)
        return;
    /* Every pending request gets its callback (err SB_EAGAIN) from inside these two calls; a
     * callback resolving again meets d->exiting and is answered at once. */
    d->exiting = true;
    ares_cancel(d->ch);
    ares_destroy(d->ch);
    SB_BUG_ON(d->n_pending != 0 || d->flights != NULL);
    sb_timer_stop(&d->timer);
    while (d->socks) {
        struct dns_sock *s = d->socks;
        d->socks = s->next;
        if (s->used)
            sb_io_stop(&s->io);
        free(s);
    }
    free(d);
    w->dns = NULL;
}

/* ---- start-up ------------------------------------------------------------------------------- */

int sb_dns_init(const struct sb_dns_cfg *cfg)
{
    static const struct sb_dns_cfg defaults = {.try_naptr = true};
    if (!cfg)
        cfg = &defaults;
    if (G.ready)
        sb_dns_destroy();
    int rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        SB_ERR("dns: c-ares init failed: %s", ares_strerror(rc));
        return SB_EINVAL;
    }
    G.try_ipv6 = cfg->try_ipv6;
    G.try_naptr = cfg->try_naptr;
    G.timeout_ms = cfg->retr_time > 0 ? cfg->retr_time * 1000 : 0;
    G.tries = cfg->retr_no;
    G.servers[0] = '\0';

    const char *hosts = cfg->hosts ? cfg->hosts : getenv("SB_DNS_HOSTS");
    bool own_hosts = hosts != NULL;
    rc = sb__dns_hosts_load(own_hosts ? hosts : "/etc/hosts");
    if (rc == SB_ENOENT && !own_hosts)
        rc = 0; /* a system without /etc/hosts */
    if (rc) {
        SB_ERR("dns: cannot read hosts file %s", own_hosts ? hosts : "/etc/hosts");
        goto out;
    }
    const char *conf = cfg->resolv_conf ? cfg->resolv_conf : getenv("SB_DNS_RESOLV_CONF");
    if (conf) {
        rc = sb__dns_read_servers(conf, G.servers, sizeof(G.servers));
        if (rc) {
            SB_ERR("dns: %s: %s", conf,
                   rc == SB_ENOENT ? "no usable nameserver line (or unreadable)"
                                   : "too many nameservers");
            goto out;
        }
    }
    G.ready = true;
    return 0;
out:
    sb__dns_hosts_free();
    ares_library_cleanup();
    return rc;
}

void sb_dns_destroy(void)
{
    if (!G.ready)
        return;
    G.ready = false;
    sb__dns_cache_clear();
    sb__dns_hosts_free();
    ares_library_cleanup();
}
