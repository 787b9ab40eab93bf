/* SPDX-License-Identifier: BSD-2-Clause */
/* Persistence of the location table. Workers only queue row operations; the usrloc thread owns
 * the database connection and writes them. A failed write stays at the head of the queue and is
 * retried every db_retry_interval seconds, so an outage neither blocks a worker nor loses a
 * registration: service continues from memory and the backlog drains when the server returns.
 * The queue is written in batches of one transaction each, and within a batch only the last
 * operation on a row is written (a contact refreshed several times between write-back flushes
 * costs one row write). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/db.h"
#include "sb/log.h"

#include "ul_int.h"

struct dbop {
    struct dbop *next;
    int op; /* UL_DB_* */
    struct sb_ul_domain *d;
    struct sb_ul_contact *c;
    uint32_t aor_len;
    char aor[];
};

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dbop *q_head, **q_tail = &q_head;
static _Atomic unsigned q_len;
static struct sb_db *conn; /* the usrloc thread's */
static bool table_ready;
static _Atomic bool down; /* the last attempt failed: log once, retry on the timer only */

bool sb__ul_db_down(void)
{
    return atomic_load(&down);
}

static void mark_down(const char *what, const char *msg)
{
    if (!atomic_exchange(&down, true))
        SB_WARN("usrloc: database unavailable (%s: %s); %u writes queued, serving from memory",
                what, msg, atomic_load(&q_len));
}

bool sb__ul_db_enabled(void)
{
    return sb__ul_conf.mode != UL_MODE_NO_DB && sb__ul_conf.db_url && *sb__ul_conf.db_url;
}

unsigned sb_ul_db_pending(void)
{
    return atomic_load(&q_len);
}

void sb__ul_db_queue(int op, struct sb_ul_domain *d, sb_str aor, struct sb_ul_contact *c)
{
    struct dbop *o = malloc(sizeof(*o) + aor.len);
    if (!o) {
        SB_ERR("usrloc: out of memory queueing a database write for %.*s", SB_STR_ARG(aor));
        free(c);
        return;
    }
    *o = (struct dbop){.op = op, .d = d, .c = c, .aor_len = (uint32_t)aor.len};
    memcpy(o->aor, aor.p, aor.len);
    pthread_mutex_lock(&q_mu);
    *q_tail = o;
    q_tail = &o->next;
    atomic_fetch_add(&q_len, 1);
    pthread_mutex_unlock(&q_mu);
    if (sb__ul_conf.mode != UL_MODE_WRITE_BACK)
        sb__ul_thread_kick();
}

/* username and domain columns of an AOR: "user@domain" splits at the last '@' when use_domain. */
static void split_aor(sb_str aor, sb_str *user, sb_str *dom)
{
    *user = aor;
    *dom = SB_STR("");
    if (!sb__ul_conf.use_domain)
        return;
    for (size_t i = aor.len; i-- > 0;)
        if (aor.p[i] == '@') {
            *user = (sb_str){aor.p, i};
            *dom = (sb_str){aor.p + i + 1, aor.len - i - 1};
            return;
        }
}

/* The OpenSIPS 3.x location table (etc/schema/, version 1013), for a database where nobody ran
 * `sbctl db init`: the same column names and kinds, in SQL that SQLite and PostgreSQL both take
 * (contact_id aside, which we never read). reg-id (RFC 5626) has no column there: it travels in
 * kv_store as {"reg_id":N}. */
static const char create_sql[] =
    "CREATE TABLE IF NOT EXISTS %s ("
    "username VARCHAR(64) DEFAULT '' NOT NULL, domain VARCHAR(64) DEFAULT NULL, "
    "contact TEXT NOT NULL, received VARCHAR(255) DEFAULT NULL, path VARCHAR(255) DEFAULT NULL, "
    "expires INTEGER NOT NULL, q REAL DEFAULT 1.0 NOT NULL, "
    "callid VARCHAR(255) DEFAULT 'Default-Call-ID' NOT NULL, cseq INTEGER DEFAULT 13 NOT NULL, "
    "last_modified TIMESTAMP DEFAULT '1900-01-01 00:00:01' NOT NULL, "
    "flags INTEGER DEFAULT 0 NOT NULL, cflags VARCHAR(255) DEFAULT NULL, "
    "user_agent VARCHAR(255) DEFAULT '' NOT NULL, socket VARCHAR(64) DEFAULT NULL, "
    "methods INTEGER DEFAULT NULL, sip_instance VARCHAR(255) DEFAULT NULL, "
    "kv_store TEXT DEFAULT NULL, attr VARCHAR(255) DEFAULT NULL)";

static bool ident_ok(sb_str s)
{
    if (!s.len || s.len > 60)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!(sb_is_alpha((unsigned char)s.p[i]) || sb_is_digit((unsigned char)s.p[i]) ||
              s.p[i] == '_'))
            return false;
    return true;
}

static int ensure_conn(void)
{
    if (conn && table_ready)
        return 0;
    char err[256] = "";
    if (!conn && sb_db_open(sb__ul_conf.db_url, &conn, err, sizeof(err)) != 0) {
        mark_down("open", err);
        conn = NULL;
        return SB_EAGAIN;
    }
    for (struct sb_ul_domain *d = sb__ul_domains(); d; d = d->next) {
        if (!ident_ok(d->name))
            continue;
        char sql[sizeof(create_sql) + 64];
        snprintf(sql, sizeof(sql), create_sql, d->name.p);
        int rc = sb_db_raw(conn, sql, NULL, 0, NULL);
        if (rc != 0) {
            mark_down("create table", sb_db_errmsg(conn));
            return rc;
        }
    }
    table_ready = true;
    return 0;
}

static char last_err[256]; /* the usrloc DB thread's last write error */

/* The row of one queued operation: deleted, then (upsert) inserted again. No transaction of its
 * own. */
static int write_row(const struct dbop *o)
{
    sb_str user, dom;
    split_aor((sb_str){o->aor, o->aor_len}, &user, &dom);
    const char *t = o->d->name.p;
    const struct sb_ul_contact *c = o->c;
    struct sb_db_cond w[] = {
        {.col = "username", .op = SB_DB_EQ, .val = SB_DB_VSTR(user)},
        {.col = "domain", .op = SB_DB_EQ, .val = SB_DB_VSTR(dom)},
        {.col = "contact", .op = SB_DB_EQ, .val = SB_DB_VSTR(c->uri)},
    };
    int rc = sb_db_delete(conn, t, w, 3, NULL);
    if (rc != 0 || o->op == UL_DB_DELETE)
        return rc;
    char cflags[24], kvs[48];
    size_t n_cflags = sb_u64_to_dec(c->cflags, cflags), n_kvs = 0;
    if (c->reg_id)
        n_kvs = (size_t)snprintf(kvs, sizeof(kvs), "{\"reg_id\":%u}", (unsigned)c->reg_id);
    struct sb_db_kv kv[] = {
        {"username", SB_DB_VSTR(user)},
        {"domain", SB_DB_VSTR(dom)},
        {"contact", SB_DB_VSTR(c->uri)},
        {"received", c->received.len ? SB_DB_VSTR(c->received) : SB_DB_VNULL},
        {"path", c->path.len ? SB_DB_VSTR(c->path) : SB_DB_VNULL},
        {"expires", SB_DB_VBIGINT(c->expires)},
        {"q", SB_DB_VDOUBLE(c->q < 0 ? -1.0 : c->q / 1000.0)},
        {"callid", SB_DB_VSTR(c->callid)},
        {"cseq", SB_DB_VINT((int32_t)c->cseq)},
        {"last_modified", SB_DB_VTIME((time_t)c->last_modified)},
        {"flags", SB_DB_VINT((int32_t)c->flags)},
        {"cflags", SB_DB_VSTR(((sb_str){cflags, n_cflags}))},
        {"user_agent", SB_DB_VSTR(c->user_agent)},
        {"socket", c->socket.len ? SB_DB_VSTR(c->socket) : SB_DB_VNULL},
        /* a 32-bit column: all methods (0xffffffff) is stored as -1, as OpenSIPS does */
        {"methods", SB_DB_VINT((int32_t)c->methods)},
        {"sip_instance", c->instance.len ? SB_DB_VSTR(c->instance) : SB_DB_VNULL},
        {"kv_store", c->reg_id ? SB_DB_VSTR(((sb_str){kvs, n_kvs})) : SB_DB_VNULL},
        {"attr", c->attr.len ? SB_DB_VSTR(c->attr) : SB_DB_VNULL},
    };
    return sb_db_insert(conn, t, kv, SB_ARRAY_LEN(kv));
}

/* Roll back after a failure, keeping the failing call's message for the log line (the rollback
 * would clear it). */
static void abort_tx(void)
{
    if (!last_err[0])
        snprintf(last_err, sizeof(last_err), "%s", sb_db_errmsg(conn));
    sb_db_rollback(conn);
}

/* One operation in a transaction of its own. */
static int write_op(const struct dbop *o)
{
    if (!ident_ok(o->d->name))
        return 0;
    int rc = sb_db_begin(conn);
    if (rc == 0)
        rc = write_row(o);
    if (rc == 0)
        rc = sb_db_commit(conn);
    if (rc != 0)
        abort_tx();
    return rc;
}

/* Operations written per transaction: a commit costs a WAL append (SQLite) or a round trip and a
 * flush (PostgreSQL), far more than a row, so a flush shares one between up to this many. */
#define BATCH_MAX  1024
#define SEEN_SLOTS 2048 /* a power of two >= 2 * BATCH_MAX */

static uint64_t op_hash(const struct dbop *o)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)o->d;
    for (uint32_t i = 0; i < o->aor_len; i++)
        h = (h ^ (unsigned char)o->aor[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < o->c->uri.len; i++)
        h = (h ^ (unsigned char)o->c->uri.p[i]) * 1099511628211ull;
    return h;
}

static bool same_row(const struct dbop *a, const struct dbop *b)
{
    return a->d == b->d && a->aor_len == b->aor_len && memcmp(a->aor, b->aor, a->aor_len) == 0 &&
           sb_str_eq(a->c->uri, b->c->uri);
}

/* skip[i]: a later operation of the batch rewrites the same row (every operation deletes the row
 * first), so writing this one would change nothing that survives the batch. In write-back mode
 * a contact refreshed several times between flushes is thus written once. */
static void mark_superseded(struct dbop *const *b, unsigned n, bool *skip)
{
    uint16_t seen[SEEN_SLOTS] = {0}; /* index + 1 of the latest operation per row */
    uint64_t hs[BATCH_MAX];
    for (unsigned i = n; i-- > 0;) {
        hs[i] = op_hash(b[i]);
        skip[i] = false;
        for (uint32_t k = (uint32_t)hs[i] & (SEEN_SLOTS - 1);; k = (k + 1) & (SEEN_SLOTS - 1)) {
            if (!seen[k]) {
                seen[k] = (uint16_t)(i + 1);
                break;
            }
            unsigned j = seen[k] - 1u;
            if (hs[j] == hs[i] && same_row(b[j], b[i])) {
                skip[i] = true;
                break;
            }
        }
    }
}

/* Write <n> operations in one transaction. Returns 0, or the first failure (rolled back). */
static int write_batch(struct dbop *const *b, const bool *skip, unsigned n)
{
    int rc = sb_db_begin(conn);
    for (unsigned i = 0; i < n && rc == 0; i++)
        if (!skip[i] && ident_ok(b[i]->d->name))
            rc = write_row(b[i]);
    if (rc == 0)
        rc = sb_db_commit(conn);
    if (rc != 0)
        abort_tx();
    return rc;
}

/* Remove the <n> oldest operations, which are b[0..n-1]: only the writer removes from the queue,
 * so they are still its head. */
static void pop_ops(struct dbop *const *b, unsigned n)
{
    if (!n)
        return;
    pthread_mutex_lock(&q_mu);
    q_head = b[n - 1]->next;
    if (!q_head)
        q_tail = &q_head;
    atomic_fetch_sub(&q_len, n);
    pthread_mutex_unlock(&q_mu);
    for (unsigned i = 0; i < n; i++) {
        free(b[i]->c);
        free(b[i]);
    }
}

static void drop_conn(void)
{
    if (conn)
        sb_db_close(conn);
    conn = NULL;
    table_ready = false;
}

/* After a batch was refused for one of its rows: each operation on its own, as a single write
 * would be, so that one bad row is logged and dropped without taking the others with it. Returns
 * false when the server went away meanwhile (the rest stays queued). */
static bool write_each(struct dbop *const *b, const bool *skip, unsigned n)
{
    unsigned done = 0;
    bool ok = true;
    for (; done < n; done++) {
        if (skip[done])
            continue;
        const struct dbop *o = b[done];
        last_err[0] = '\0';
        int rc = write_op(o);
        if (rc != 0 && sb_db_err_is_retryable(rc)) {
            mark_down("write", last_err[0] ? last_err : sb_db_errmsg(conn));
            drop_conn();
            ok = false;
            break;
        }
        if (rc != 0)
            SB_ERR("usrloc: database rejected a write for %.*s: %s", (int)o->aor_len, o->aor,
                   last_err[0] ? last_err : sb_db_errmsg(conn));
    }
    last_err[0] = '\0';
    pop_ops(b, done);
    return ok;
}

unsigned sb__ul_db_drain(void)
{
    if (!sb__ul_db_enabled())
        return 0;
    if (ensure_conn() != 0) {
        drop_conn();
        return atomic_load(&q_len);
    }
    struct dbop **b = malloc(BATCH_MAX * sizeof(*b));
    bool *skip = malloc(BATCH_MAX * sizeof(*skip));
    if (!b || !skip) {
        free(b);
        free(skip);
        return atomic_load(&q_len);
    }
    for (;;) {
        unsigned n = 0;
        pthread_mutex_lock(&q_mu);
        for (struct dbop *o = q_head; o && n < BATCH_MAX; o = o->next)
            b[n++] = o;
        pthread_mutex_unlock(&q_mu);
        if (!n)
            break;
        mark_superseded(b, n, skip);
        last_err[0] = '\0';
        int rc = write_batch(b, skip, n);
        if (rc == 0) {
            pop_ops(b, n);
            continue;
        }
        if (sb_db_err_is_retryable(rc)) {
            mark_down("write", last_err[0] ? last_err : sb_db_errmsg(conn));
            last_err[0] = '\0';
            drop_conn();
            break;
        }
        if (!write_each(b, skip, n))
            break;
    }
    free(b);
    free(skip);
    if (conn && atomic_exchange(&down, false))
        SB_NOTICE("usrloc: database available again, backlog written");
    return atomic_load(&q_len);
}

static sb_str col_str(const struct sb_db_res *r, unsigned row, int col)
{
    if (col < 0)
        return SB_STR_NULL;
    sb_str s = sb_db_val_str(sb_db_res_at(r, row, (unsigned)col));
    return s.p ? s : SB_STR_NULL;
}

static int64_t col_int(const struct sb_db_res *r, unsigned row, int col, int64_t dflt)
{
    return col < 0 ? dflt : sb_db_val_int(sb_db_res_at(r, row, (unsigned)col), dflt);
}

/* {"reg_id":N} in kv_store (see create_sql); 0 when absent. */
static uint32_t kv_reg_id(sb_str kv)
{
    static const char key[] = "\"reg_id\":";
    for (size_t i = 0; kv.p && i + sizeof(key) - 1 < kv.len; i++)
        if (memcmp(kv.p + i, key, sizeof(key) - 1) == 0) {
            uint32_t v = 0;
            for (size_t k = i + sizeof(key) - 1; k < kv.len && sb_is_digit((unsigned char)kv.p[k]);
                 k++)
                v = v * 10 + (uint32_t)(kv.p[k] - '0');
            return v;
        }
    return 0;
}

static int load_domain(struct sb_ul_domain *d)
{
    struct sb_db_query q = {.table = d->name.p};
    struct sb_db_res *r = NULL;
    int rc = sb_db_select(conn, &q, &r);
    if (rc != 0)
        return rc;
    int cu = sb_db_res_col(r, "username"), cd = sb_db_res_col(r, "domain");
    int cc = sb_db_res_col(r, "contact"), cr = sb_db_res_col(r, "received");
    int cp = sb_db_res_col(r, "path"), ce = sb_db_res_col(r, "expires");
    int cq = sb_db_res_col(r, "q"), ci = sb_db_res_col(r, "callid");
    int cs = sb_db_res_col(r, "cseq"), cf = sb_db_res_col(r, "flags");
    int ccf = sb_db_res_col(r, "cflags"), ua = sb_db_res_col(r, "user_agent");
    int so = sb_db_res_col(r, "socket"), me = sb_db_res_col(r, "methods");
    int in = sb_db_res_col(r, "sip_instance"), kv = sb_db_res_col(r, "kv_store");
    int at = sb_db_res_col(r, "attr");
    unsigned loaded = 0;
    for (unsigned i = 0; i < r->n_rows && rc == 0; i++) {
        sb_str user = col_str(r, i, cu), dom = col_str(r, i, cd);
        char aor[512];
        size_t n = 0;
        if (user.len + dom.len + 1 > sizeof(aor))
            continue;
        memcpy(aor, user.p, user.len), n = user.len;
        if (sb__ul_conf.use_domain && dom.len) {
            aor[n++] = '@';
            memcpy(aor + n, dom.p, dom.len), n += dom.len;
        }
        double qv = r && cq >= 0 ? sb_db_val_double(sb_db_res_at(r, i, (unsigned)cq), -1) : -1;
        struct sb_ul_info inf = {
            .uri = col_str(r, i, cc),
            .received = col_str(r, i, cr),
            .path = col_str(r, i, cp),
            .callid = col_str(r, i, ci),
            .user_agent = col_str(r, i, ua),
            .socket = col_str(r, i, so),
            .instance = col_str(r, i, in),
            .attr = col_str(r, i, at),
            .expires = col_int(r, i, ce, 0),
            .cseq = (uint32_t)col_int(r, i, cs, 0),
            .flags = (uint32_t)col_int(r, i, cf, 0),
            .cflags = (uint32_t)col_int(r, i, ccf, 0),
            .methods = (uint32_t)col_int(r, i, me, 0xffffffff),
            .reg_id = kv_reg_id(col_str(r, i, kv)),
            .q = (int16_t)(qv < 0 ? -1 : (int)(qv * 1000 + 0.5)),
        };
        if (!inf.uri.len)
            continue;
        rc = sb__ul_load_contact(d, (sb_str){aor, n}, &inf);
        loaded += rc == 0;
    }
    sb_db_res_free(r);
    SB_NOTICE("usrloc: loaded %u contacts from table %s", loaded, d->name.p);
    return rc;
}

int sb__ul_db_load(void)
{
    if (!sb__ul_db_enabled())
        return 0;
    int rc = ensure_conn();
    if (rc != 0) {
        /* start from memory rather than refusing to run; registrations made meanwhile are queued
         * and written when the server is back */
        SB_WARN("usrloc: database unavailable at start, continuing from memory");
        drop_conn();
        return 0;
    }
    for (struct sb_ul_domain *d = sb__ul_domains(); d && rc == 0; d = d->next)
        if (ident_ok(d->name))
            rc = load_domain(d);
    if (rc != 0 && sb_db_err_is_retryable(rc)) {
        SB_WARN("usrloc: database lost while loading, continuing from memory");
        drop_conn();
        return 0;
    }
    return rc;
}

int sb__ul_db_start(void)
{
    return 0;
}

void sb__ul_db_stop(void)
{
    /* one last attempt, then drop what could not be written (logged) */
    if (sb__ul_db_enabled())
        sb__ul_db_drain();
    unsigned left = 0;
    pthread_mutex_lock(&q_mu);
    for (struct dbop *o = q_head, *nx; o; o = nx) {
        nx = o->next;
        free(o->c);
        free(o);
        left++;
    }
    q_head = NULL;
    q_tail = &q_head;
    atomic_store(&q_len, 0);
    pthread_mutex_unlock(&q_mu);
    atomic_store(&down, false);
    if (left)
        SB_ERR("usrloc: %u database writes could not be made before shutdown", left);
    drop_conn();
}
