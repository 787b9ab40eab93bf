/* SPDX-License-Identifier: BSD-2-Clause */
/* The in-memory location table: AOR records in shards chosen by the AOR hash, one mutex per shard,
 * each contact a single allocation holding its strings. Changes made under the lock are logged
 * and replayed after unlock to the event hook and the database queue. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/base.h"
#include "sb/evi.h"
#include "sb/log.h"

#include "ul_int.h"

static struct sb_ul_domain *domains;
static sb_ul_clock_fn clock_fn;
static _Atomic(sb_ul_event_fn) event_hook;
static sb_evi_id evi_ids[4]; /* by SB_UL_EV_* */

int sb__ul_events_register(void)
{
    static const char *const names[4] = {NULL, "E_UL_CONTACT_INSERT", "E_UL_CONTACT_UPDATE",
                                         "E_UL_CONTACT_DELETE"};
    for (int i = 1; i < 4; i++)
        if (sb_evi_register(names[i], &evi_ids[i]) != 0)
            return SB_EINVAL;
    return 0;
}

void sb__ul_events_forget(void)
{
    memset(evi_ids, 0, sizeof(evi_ids));
}

static bool evi_any(void)
{
    return sb_evi_wanted(evi_ids[1]) || sb_evi_wanted(evi_ids[2]) || sb_evi_wanted(evi_ids[3]);
}

/* event_route[E_UL_CONTACT_*] and external subscribers: the parameters OpenSIPS gives */
static void evi_raise(int ev, struct sb_ul_domain *d, sb_str aor, const struct sb_ul_contact *c)
{
    if (!sb_evi_wanted(evi_ids[ev]))
        return;
    struct sb_evi_params p = {0};
    sb_evi_param_str(&p, "domain", d->name);
    sb_evi_param_str(&p, "aor", aor);
    sb_evi_param_str(&p, "uri", c->uri);
    sb_evi_param_str(&p, "received", c->received);
    sb_evi_param_str(&p, "path", c->path);
    sb_evi_param_int(&p, "qval", c->q);
    sb_evi_param_str(&p, "user_agent", c->user_agent);
    sb_evi_param_str(&p, "socket", c->socket);
    sb_evi_param_int(&p, "bflags", c->cflags);
    sb_evi_param_int(&p, "expires", c->expires);
    sb_evi_param_str(&p, "callid", c->callid);
    sb_evi_param_int(&p, "cseq", c->cseq);
    sb_evi_param_str(&p, "attr", c->attr);
    sb_evi_param_str(&p, "sip_instance", c->instance);
    sb_evi_param_int(&p, "reg_id", c->reg_id);
    sb_evi_raise(evi_ids[ev], &p);
}

/* ---- clock --------------------------------------------------------------------------------- */

int64_t sb_ul_now(void)
{
    if (clock_fn)
        return clock_fn();
    return (int64_t)time(NULL);
}

void sb_ul_set_clock(sb_ul_clock_fn fn)
{
    clock_fn = fn;
}

void sb_ul_set_event_hook(sb_ul_event_fn fn)
{
    atomic_store(&event_hook, fn);
}

bool sb_ul_use_domain(void)
{
    return sb__ul_conf.use_domain != 0;
}

uint32_t sb_ul_nat_bflag(void)
{
    int f = sb__ul_conf.nat_bflag;
    return f >= 0 && f < 32 ? 1u << f : 0;
}

/* ---- contacts ------------------------------------------------------------------------------ */

#define N_STRS 8

static void info_strs(const struct sb_ul_info *ci, const sb_str *out[N_STRS])
{
    out[0] = &ci->uri, out[1] = &ci->received, out[2] = &ci->path, out[3] = &ci->callid;
    out[4] = &ci->user_agent, out[5] = &ci->socket, out[6] = &ci->instance, out[7] = &ci->attr;
}

static struct sb_ul_contact *contact_new(const struct sb_ul_info *ci, int64_t now)
{
    const sb_str *in[N_STRS];
    info_strs(ci, in);
    size_t total = sizeof(struct sb_ul_contact);
    for (int i = 0; i < N_STRS; i++)
        total += in[i]->len;
    struct sb_ul_contact *c = malloc(total);
    if (!c)
        return NULL;
    memset(c, 0, sizeof(*c));
    sb_str *out[N_STRS] = {&c->uri,        &c->received, &c->path,     &c->callid,
                           &c->user_agent, &c->socket,   &c->instance, &c->attr};
    char *p = (char *)(c + 1);
    for (int i = 0; i < N_STRS; i++) {
        if (in[i]->len)
            memcpy(p, in[i]->p, in[i]->len);
        *out[i] = (sb_str){p, in[i]->len};
        p += in[i]->len;
    }
    c->expires = ci->expires;
    c->last_modified = now;
    c->cseq = ci->cseq;
    c->flags = ci->flags | (ci->expires == 0 ? SB_UL_FL_PERMANENT : 0);
    c->cflags = ci->cflags;
    c->methods = ci->methods;
    c->reg_id = ci->reg_id;
    c->q = ci->q;
    return c;
}

static void contact_info(const struct sb_ul_contact *c, struct sb_ul_info *ci)
{
    *ci = (struct sb_ul_info){
        .uri = c->uri,
        .received = c->received,
        .path = c->path,
        .callid = c->callid,
        .user_agent = c->user_agent,
        .socket = c->socket,
        .instance = c->instance,
        .attr = c->attr,
        .expires = c->expires,
        .cseq = c->cseq,
        .flags = c->flags,
        .cflags = c->cflags,
        .methods = c->methods,
        .reg_id = c->reg_id,
        .q = c->q,
    };
}

struct sb_ul_contact *sb__ul_contact_copy(const struct sb_ul_contact *c)
{
    struct sb_ul_info ci;
    contact_info(c, &ci);
    struct sb_ul_contact *n = contact_new(&ci, c->last_modified);
    if (n)
        n->last_modified = c->last_modified;
    return n;
}

static bool is_expired(const struct sb_ul_contact *c, int64_t now)
{
    return c->expires != 0 && c->expires <= now;
}

/* ---- domains ------------------------------------------------------------------------------- */

struct sb_ul_domain *sb__ul_domains(void)
{
    return domains;
}

static uint32_t hash_aor(sb_str s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.p[i]) * 16777619u;
    return h;
}

int sb_ul_domain_register(sb_str name, struct sb_ul_domain **out)
{
    struct sb_ul_domain *d = sb_ul_domain_find(name);
    if (d) {
        *out = d;
        return 0;
    }
    d = calloc(1, sizeof(*d));
    char *nm = malloc(name.len + 1);
    int bits = sb__ul_conf.hash_size;
    if (bits < 0 || bits > 16)
        bits = 6;
    uint32_t n_shards = 1u << bits;
    struct ul_shard *sh = calloc(n_shards, sizeof(*sh));
    if (!d || !nm || !sh) {
        free(d), free(nm), free(sh);
        return SB_ENOMEM;
    }
    memcpy(nm, name.p, name.len);
    nm[name.len] = '\0';
    d->name = (sb_str){nm, name.len};
    d->shards = sh;
    d->n_shards = n_shards;
    for (uint32_t i = 0; i < n_shards; i++)
        pthread_mutex_init(&sh[i].mu, NULL);
    char sname[128];
    snprintf(sname, sizeof(sname), "%s-contacts", nm);
    d->st_contacts = sb_stat_register("usrloc", sname, SB_STAT_GAUGE | SB_STAT_NO_RESET, NULL);
    snprintf(sname, sizeof(sname), "%s-expires", nm);
    d->st_expires = sb_stat_register("usrloc", sname, 0, NULL);
    struct sb_ul_domain **pp = &domains;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
    *out = d;
    return 0;
}

struct sb_ul_domain *sb_ul_domain_find(sb_str name)
{
    for (struct sb_ul_domain *d = domains; d; d = d->next)
        if (sb_str_eq(d->name, name))
            return d;
    return NULL;
}

sb_str sb_ul_domain_name(const struct sb_ul_domain *d)
{
    return d->name;
}

static void rec_free(struct ul_rec *r)
{
    for (struct sb_ul_contact *c = r->contacts, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    free(r);
}

void sb__ul_domains_free(void)
{
    for (struct sb_ul_domain *d = domains, *nx; d; d = nx) {
        nx = d->next;
        for (uint32_t i = 0; i < d->n_shards; i++) {
            struct ul_shard *s = &d->shards[i];
            for (uint32_t b = 0; b < s->n_buckets; b++)
                for (struct ul_rec *r = s->buckets[b], *rn; r; r = rn) {
                    rn = r->next;
                    rec_free(r);
                }
            free(s->buckets);
            pthread_mutex_destroy(&s->mu);
        }
        if (d->st_contacts)
            sb_stat_add(d->st_contacts, -(int64_t)atomic_load(&d->n_contacts));
        free(d->shards);
        free((char *)d->name.p);
        free(d);
    }
    domains = NULL;
}

void sb_ul_counts(struct sb_ul_domain *d, uint64_t *n_aors, uint64_t *n_contacts)
{
    if (n_aors)
        *n_aors = atomic_load(&d->n_aors);
    if (n_contacts)
        *n_contacts = atomic_load(&d->n_contacts);
}

/* ---- records in a shard (lock held) -------------------------------------------------------- */

/* The low bits pick the shard; the bucket takes the hash rotated so that it uses other bits. */
#define BUCKET(h, n) ((((h) >> 16) | ((h) << 16)) & ((n)-1))

static struct ul_rec *rec_find(struct ul_shard *s, sb_str aor, uint32_t h)
{
    if (!s->n_buckets)
        return NULL;
    for (struct ul_rec *r = s->buckets[BUCKET(h, s->n_buckets)]; r; r = r->next)
        if (r->hash == h && r->aor_len == aor.len && memcmp(r->aor, aor.p, aor.len) == 0)
            return r;
    return NULL;
}

static int shard_grow(struct ul_shard *s)
{
    uint32_t nb = s->n_buckets ? s->n_buckets * 2 : 16;
    struct ul_rec **b = calloc(nb, sizeof(*b));
    if (!b)
        return SB_ENOMEM;
    for (uint32_t i = 0; i < s->n_buckets; i++)
        for (struct ul_rec *r = s->buckets[i], *nx; r; r = nx) {
            nx = r->next;
            struct ul_rec **slot = &b[BUCKET(r->hash, nb)];
            r->next = *slot;
            *slot = r;
        }
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = nb;
    return 0;
}

static struct ul_rec *rec_add(struct sb_ul_domain *d, struct ul_shard *s, sb_str aor, uint32_t h)
{
    /* grow at a load of two records per bucket; a failed grow only lengthens chains */
    if ((s->n_recs >= 2 * s->n_buckets) && shard_grow(s) != 0 && !s->n_buckets)
        return NULL;
    struct ul_rec *r = malloc(sizeof(*r) + aor.len);
    if (!r)
        return NULL;
    r->hash = h;
    r->n = 0;
    r->contacts = NULL;
    r->aor_len = (uint32_t)aor.len;
    memcpy(r->aor, aor.p, aor.len);
    struct ul_rec **slot = &s->buckets[BUCKET(h, s->n_buckets)];
    r->next = *slot;
    *slot = r;
    s->n_recs++;
    atomic_fetch_add(&d->n_aors, 1);
    return r;
}

static void rec_unlink(struct sb_ul_domain *d, struct ul_shard *s, struct ul_rec *r)
{
    struct ul_rec **pp = &s->buckets[BUCKET(r->hash, s->n_buckets)];
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    s->n_recs--;
    atomic_fetch_sub(&d->n_aors, 1);
    free(r);
}

/* ---- the change log of the running transaction (per thread) -------------------------------- */

struct change {
    int ev;                  /* SB_UL_EV_* */
    struct sb_ul_contact *c; /* a copy (owned by the log) */
    char *old_uri;           /* UPDATE that changed the URI: the previous one (heap) */
    size_t old_len;
};

static _Thread_local struct change *log_v;
static _Thread_local uint32_t log_n, log_cap;

static bool log_wanted(void)
{
    return atomic_load(&event_hook) != NULL || sb__ul_db_enabled() || evi_any();
}

static void log_add(int ev, const struct sb_ul_contact *c, sb_str old_uri)
{
    if (!log_wanted())
        return;
    if (log_n == log_cap) {
        uint32_t nc = log_cap ? log_cap * 2 : 8;
        struct change *v = realloc(log_v, nc * sizeof(*v));
        if (!v) {
            SB_ERR("usrloc: out of memory recording a change");
            return;
        }
        log_v = v, log_cap = nc;
    }
    struct sb_ul_contact *cp = sb__ul_contact_copy(c);
    if (!cp) {
        SB_ERR("usrloc: out of memory recording a change");
        return;
    }
    struct change *ch = &log_v[log_n++];
    *ch = (struct change){.ev = ev, .c = cp};
    if (old_uri.len) {
        ch->old_uri = malloc(old_uri.len);
        if (ch->old_uri) {
            memcpy(ch->old_uri, old_uri.p, old_uri.len);
            ch->old_len = old_uri.len;
        }
    }
}

void sb__ul_thread_cleanup(void)
{
    free(log_v);
    log_v = NULL;
    log_n = log_cap = 0;
}

/* Announce and persist <n> logged changes of <aor>, and free them. The hook and event routes
 * may start transactions of their own on this thread, so the entries are detached from the
 * thread's log before this runs. */
static void replay(struct sb_ul_domain *d, sb_str aor, struct change *v, uint32_t n)
{
    sb_ul_event_fn hook = atomic_load(&event_hook);
    bool db = sb__ul_db_enabled();
    for (uint32_t i = 0; i < n; i++) {
        struct change *ch = &v[i];
        if (hook)
            hook(ch->ev, d, aor, ch->c);
        evi_raise(ch->ev, d, aor, ch->c);
        if (db && !(ch->c->flags & SB_UL_FL_MEMORY_ONLY)) {
            if (ch->old_uri) {
                /* the row is keyed by its contact URI: drop the one the update replaced */
                struct sb_ul_contact tmp = *ch->c;
                tmp.uri = (sb_str){ch->old_uri, ch->old_len};
                struct sb_ul_contact *old = sb__ul_contact_copy(&tmp);
                if (old)
                    sb__ul_db_queue(UL_DB_DELETE, d, aor, old);
            }
            sb__ul_db_queue(ch->ev == SB_UL_EV_DELETE ? UL_DB_DELETE : UL_DB_UPSERT, d, aor, ch->c);
            ch->c = NULL;
        }
        free(ch->c);
        free(ch->old_uri);
    }
}

static void log_flush(struct sb_ul_domain *d, sb_str aor)
{
    struct change *v = log_v;
    uint32_t n = log_n, cap = log_cap;
    log_v = NULL;
    log_n = log_cap = 0;
    replay(d, aor, v, n);
    /* keep a small array for the next transaction unless a nested one made its own */
    if (!log_v && cap <= 64) {
        log_v = v;
        log_cap = cap;
    } else {
        free(v);
    }
}

/* Forget the changes logged from <from> on, unannounced. */
static void drop_log(uint32_t from)
{
    for (uint32_t i = from; i < log_n; i++) {
        free(log_v[i].c);
        free(log_v[i].old_uri);
    }
    log_n = from;
}

/* ---- transactions -------------------------------------------------------------------------- */

static void unlink_contact(struct sb_ul_txn *t, struct ul_rec *r, struct sb_ul_contact *c)
{
    struct sb_ul_contact **pp = &r->contacts;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    SB_BUG_ON(*pp == NULL);
    *pp = c->next;
    r->n--;
    atomic_fetch_sub(&t->d->n_contacts, 1);
    sb_stat_add(t->d->st_contacts, -1);
    t->n_changes++;
}

/* Drop expired contacts of the locked record; returns how many. */
static unsigned rec_expire(struct sb_ul_txn *t, struct ul_rec *r, int64_t now)
{
    unsigned n = 0;
    for (struct sb_ul_contact *c = r->contacts, *nx; c; c = nx) {
        nx = c->next;
        if (!is_expired(c, now))
            continue;
        unlink_contact(t, r, c);
        log_add(SB_UL_EV_DELETE, c, SB_STR_NULL);
        free(c);
        n++;
    }
    if (n)
        sb_stat_add(t->d->st_expires, n);
    return n;
}

void sb_ul_begin(struct sb_ul_domain *d, sb_str aor, struct sb_ul_txn *t)
{
    uint32_t h = hash_aor(aor);
    struct ul_shard *s = &d->shards[h & (d->n_shards - 1)];
    pthread_mutex_lock(&s->mu);
    *t = (struct sb_ul_txn){.d = d, .shard = s, .aor = aor, .hash = h};
    struct ul_rec *r = rec_find(s, aor, h);
    if (r)
        rec_expire(t, r, sb_ul_now());
    t->rec = r;
}

void sb_ul_end(struct sb_ul_txn *t)
{
    struct ul_shard *s = t->shard;
    struct ul_rec *r = t->rec;
    if (r && r->n == 0)
        rec_unlink(t->d, s, r);
    t->rec = NULL;
    pthread_mutex_unlock(&s->mu);
    if (log_n)
        log_flush(t->d, t->aor);
}

struct sb_ul_contact *sb_ul_contacts(const struct sb_ul_txn *t)
{
    const struct ul_rec *r = t->rec;
    return r ? r->contacts : NULL;
}

unsigned sb_ul_count(const struct sb_ul_txn *t)
{
    const struct ul_rec *r = t->rec;
    return r ? r->n : 0;
}

static void append(struct ul_rec *r, struct sb_ul_contact *c)
{
    struct sb_ul_contact **pp = &r->contacts;
    while (*pp)
        pp = &(*pp)->next;
    c->next = NULL;
    *pp = c;
    r->n++;
}

int sb_ul_insert(struct sb_ul_txn *t, const struct sb_ul_info *ci, struct sb_ul_contact **out)
{
    struct ul_rec *r = t->rec;
    if (!r) {
        r = rec_add(t->d, t->shard, t->aor, t->hash);
        if (!r)
            return SB_ENOMEM;
        t->rec = r;
    }
    struct sb_ul_contact *c = contact_new(ci, sb_ul_now());
    if (!c)
        return SB_ENOMEM;
    append(r, c);
    atomic_fetch_add(&t->d->n_contacts, 1);
    sb_stat_add(t->d->st_contacts, 1);
    t->n_changes++;
    log_add(SB_UL_EV_INSERT, c, SB_STR_NULL);
    if (out)
        *out = c;
    return 0;
}

int sb_ul_update(struct sb_ul_txn *t, struct sb_ul_contact *c, const struct sb_ul_info *ci,
                 struct sb_ul_contact **out)
{
    struct ul_rec *r = t->rec;
    SB_BUG_ON(r == NULL);
    struct sb_ul_contact *n = contact_new(ci, sb_ul_now());
    if (!n)
        return SB_ENOMEM;
    struct sb_ul_contact **pp = &r->contacts;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    SB_BUG_ON(*pp == NULL);
    n->next = c->next;
    *pp = n;
    t->n_changes++;
    log_add(SB_UL_EV_UPDATE, n, sb_str_eq(c->uri, n->uri) ? SB_STR_NULL : c->uri);
    free(c);
    if (out)
        *out = n;
    return 0;
}

void sb_ul_delete(struct sb_ul_txn *t, struct sb_ul_contact *c)
{
    struct ul_rec *r = t->rec;
    SB_BUG_ON(r == NULL);
    unlink_contact(t, r, c);
    log_add(SB_UL_EV_DELETE, c, SB_STR_NULL);
    free(c);
}

int sb__ul_load_contact(struct sb_ul_domain *d, sb_str aor, const struct sb_ul_info *ci)
{
    struct sb_ul_txn t;
    sb_ul_begin(d, aor, &t);
    int rc = 0;
    struct sb_ul_contact *c = NULL;
    for (struct sb_ul_contact *x = sb_ul_contacts(&t); x; x = x->next)
        if (sb_str_eq(x->uri, ci->uri))
            c = x;
    if (!is_expired(&(struct sb_ul_contact){.expires = ci->expires}, sb_ul_now())) {
        struct ul_rec *r = t.rec;
        if (!r)
            r = t.rec = rec_add(d, t.shard, aor, t.hash);
        struct sb_ul_contact *n = r ? contact_new(ci, sb_ul_now()) : NULL;
        if (!n) {
            rc = SB_ENOMEM;
        } else if (c) {
            /* a duplicate row: the later one wins */
            struct sb_ul_contact **pp = &r->contacts;
            while (*pp != c)
                pp = &(*pp)->next;
            n->next = c->next;
            *pp = n;
            free(c);
        } else {
            append(r, n);
            atomic_fetch_add(&d->n_contacts, 1);
            sb_stat_add(d->st_contacts, 1);
        }
    }
    /* loading is not a change: nothing to announce or write back */
    drop_log(0);
    struct ul_shard *s = t.shard;
    if (t.rec && ((struct ul_rec *)t.rec)->n == 0)
        rec_unlink(d, s, t.rec);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- convenience --------------------------------------------------------------------------- */

static struct sb_ul_contact *arena_copy(struct sb_arena *a, const struct sb_ul_contact *c)
{
    struct sb_ul_contact *n = sb_arena_alloc(a, sizeof(*n));
    if (!n)
        return NULL;
    *n = *c;
    n->next = NULL;
    sb_str *f[N_STRS] = {&n->uri,        &n->received, &n->path,     &n->callid,
                         &n->user_agent, &n->socket,   &n->instance, &n->attr};
    for (int i = 0; i < N_STRS; i++)
        if (f[i]->len) {
            char *p = sb_arena_dup(a, f[i]->p, f[i]->len);
            if (!p)
                return NULL;
            f[i]->p = p;
        }
    return n;
}

int sb_ul_snapshot(struct sb_ul_domain *d, sb_str aor, struct sb_arena *a,
                   struct sb_ul_contact **out, unsigned *n)
{
    struct sb_ul_txn t;
    sb_ul_begin(d, aor, &t);
    int rc = 0;
    unsigned k = 0;
    struct sb_ul_contact *head = NULL, **tail = &head;
    for (struct sb_ul_contact *c = sb_ul_contacts(&t); c; c = c->next) {
        struct sb_ul_contact *cp = arena_copy(a, c);
        if (!cp) {
            rc = SB_ENOMEM;
            break;
        }
        *tail = cp;
        tail = &cp->next;
        k++;
    }
    sb_ul_end(&t);
    *out = rc ? NULL : head;
    *n = rc ? 0 : k;
    return rc;
}

unsigned sb_ul_remove(struct sb_ul_domain *d, sb_str aor, sb_str uri)
{
    struct sb_ul_txn t;
    sb_ul_begin(d, aor, &t);
    unsigned n = 0;
    for (struct sb_ul_contact *c = sb_ul_contacts(&t), *nx; c; c = nx) {
        nx = c->next;
        if (uri.len && !sb_str_eq(c->uri, uri))
            continue;
        sb_ul_delete(&t, c);
        n++;
    }
    sb_ul_end(&t);
    return n;
}

int sb_ul_walk(struct sb_ul_domain *d, sb_ul_walk_fn fn, void *arg)
{
    int64_t now = sb_ul_now();
    for (uint32_t i = 0; i < d->n_shards; i++) {
        struct ul_shard *s = &d->shards[i];
        pthread_mutex_lock(&s->mu);
        int rc = 0;
        for (uint32_t b = 0; b < s->n_buckets && !rc; b++)
            for (struct ul_rec *r = s->buckets[b]; r && !rc; r = r->next) {
                bool live = false;
                for (const struct sb_ul_contact *c = r->contacts; c; c = c->next)
                    live = live || !is_expired(c, now);
                if (live)
                    rc = fn((sb_str){r->aor, r->aor_len}, r->contacts, arg);
            }
        pthread_mutex_unlock(&s->mu);
        if (rc)
            return rc;
    }
    return 0;
}

static unsigned shard_expire(struct sb_ul_domain *d, struct ul_shard *s, int64_t now)
{
    unsigned n = 0;
    pthread_mutex_lock(&s->mu);
    /* the log is flushed per record, after the unlock, so collect the AORs first */
    struct {
        char *aor;
        uint32_t len;
        uint32_t from, to;
    } *pend = NULL;
    uint32_t n_pend = 0, cap = 0;
    for (uint32_t b = 0; b < s->n_buckets; b++)
        for (struct ul_rec *r = s->buckets[b], *nx; r; r = nx) {
            nx = r->next;
            bool any = false;
            for (struct sb_ul_contact *c = r->contacts; c && !any; c = c->next)
                any = is_expired(c, now);
            if (!any)
                continue;
            struct sb_ul_txn t = {
                .d = d, .shard = s, .aor = {r->aor, r->aor_len}, .hash = r->hash, .rec = r};
            uint32_t from = log_n;
            char *acopy = log_wanted() ? malloc(r->aor_len ? r->aor_len : 1) : NULL;
            if (acopy)
                memcpy(acopy, r->aor, r->aor_len);
            uint32_t alen = r->aor_len;
            n += rec_expire(&t, r, now);
            if (r->n == 0)
                rec_unlink(d, s, r);
            if (acopy && n_pend == cap) {
                void *v = realloc(pend, (cap ? cap * 2 : 16) * sizeof(*pend));
                if (v) {
                    pend = v;
                    cap = cap ? cap * 2 : 16;
                } else {
                    free(acopy);
                    acopy = NULL;
                }
            }
            if (!acopy) {
                /* out of memory: the removal stands, its announcement is lost */
                drop_log(from);
                continue;
            }
            pend[n_pend].aor = acopy;
            pend[n_pend].len = alen;
            pend[n_pend].from = from;
            pend[n_pend].to = log_n;
            n_pend++;
        }
    pthread_mutex_unlock(&s->mu);
    /* replay the log one AOR at a time, detached from the thread's log */
    struct change *all = log_v;
    log_v = NULL, log_n = 0, log_cap = 0;
    for (uint32_t i = 0; i < n_pend; i++) {
        replay(d, (sb_str){pend[i].aor, pend[i].len}, all + pend[i].from,
               pend[i].to - pend[i].from);
        free(pend[i].aor);
    }
    free(all);
    free(pend);
    return n;
}

unsigned sb_ul_expire_all(void)
{
    unsigned n = 0;
    int64_t now = sb_ul_now();
    for (struct sb_ul_domain *d = domains; d; d = d->next)
        for (uint32_t i = 0; i < d->n_shards; i++)
            n += shard_expire(d, &d->shards[i], now);
    return n;
}
