/* SPDX-License-Identifier: BSD-2-Clause */
/* db_postgres: the PostgreSQL driver of the database layer (URLs
 * postgres://user:pass@host:port/db). One libpq connection per handle; a lost connection is
 * reported as SB_EAGAIN and reset on the next statement. Statements with parameters are prepared
 * on the server once per connection and kept by their SQL text, so the server parses and plans
 * the core's few recurring statements once instead of on every call. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/db.h"
#include "sb/log.h"
#include "sb/mod.h"

static struct {
    int stmt_cache; /* prepared statements kept per connection (0: none) */
} conf = {.stmt_cache = 32};

#define STMT_CACHE_MAX 1024
#define STMT_NAME_LEN  sizeof("sb_s18446744073709551615")

/* A statement prepared on the server under <name>. <is_stale>: it still exists there but cannot
 * serve its text any more (the schema changed its result type) and is prepared again at its next
 * use outside a failed transaction. */
struct pstmt {
    char *sql;
    size_t len;
    uint64_t hash;
    uint64_t used; /* LRU clock */
    bool is_stale;
    char name[STMT_NAME_LEN]; /* "sb_s<N>", N counting the connection's prepares */
};

struct pconn {
    PGconn *c;
    struct pstmt *cache;
    unsigned n, cap;
    uint64_t clock;
    uint64_t n_named; /* statement names handed out on this connection */
};

/* type OIDs of the built-in types we map (pg_type.dat) */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
};

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg;
    SB_DEBUG("db_postgres: %s", msg);
}

static int setup(PGconn *c, char *err, size_t errlen)
{
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    /* datetimes travel as UTC text in both directions */
    PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : SB_EAGAIN;
}

static void trim_nl(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

static int drv_open(const char *url, void **conn, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    if (!c) {
        snprintf(err, errlen, "postgres: out of memory");
        return SB_ENOMEM;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password */
        snprintf(err, errlen, "postgres: cannot connect: %s", PQerrorMessage(c));
        trim_nl(err);
        PQfinish(c);
        return SB_EAGAIN;
    }
    int rc = setup(c, err, errlen);
    if (rc != 0) {
        PQfinish(c);
        return rc;
    }
    struct pconn *pc = calloc(1, sizeof *pc);
    if (!pc) {
        snprintf(err, errlen, "postgres: out of memory");
        PQfinish(c);
        return SB_ENOMEM;
    }
    unsigned cap = conf.stmt_cache < 0 ? 0 : (unsigned)conf.stmt_cache;
    if (cap > STMT_CACHE_MAX)
        cap = STMT_CACHE_MAX;
    /* without memory for the cache the connection still works, unprepared */
    pc->cache = cap ? calloc(cap, sizeof *pc->cache) : NULL;
    pc->cap = pc->cache ? cap : 0;
    pc->c = c;
    *conn = pc;
    return 0;
}

/* Forget every kept statement without telling the server: for a session that is gone or ending,
 * which takes its prepared statements with it. */
static void cache_clear(struct pconn *pc)
{
    for (unsigned i = 0; i < pc->n; i++)
        free(pc->cache[i].sql);
    pc->n = 0;
}

static void drv_close(void *conn)
{
    struct pconn *pc = conn;
    if (!pc)
        return;
    cache_clear(pc);
    free(pc->cache);
    PQfinish(pc->c);
    free(pc);
}

static struct pstmt *cache_find(struct pconn *pc, const char *sql, size_t len, uint64_t hash)
{
    for (unsigned i = 0; i < pc->n; i++) {
        struct pstmt *e = &pc->cache[i];
        if (e->hash == hash && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->used = ++pc->clock;
            return e;
        }
    }
    return NULL;
}

/* Remove <e> from the cache; <deallocate>: the server still has it, release it there too. Not in
 * a failed transaction, which refuses DEALLOCATE like any other command. */
static void cache_drop(struct pconn *pc, struct pstmt *e, bool deallocate)
{
    if (deallocate) {
        char cmd[sizeof "DEALLOCATE " + STMT_NAME_LEN];
        snprintf(cmd, sizeof cmd, "DEALLOCATE %s", e->name);
        PGresult *r = PQexec(pc->c, cmd);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            SB_DEBUG("db_postgres: %s: %s", cmd, PQerrorMessage(pc->c));
        PQclear(r);
    }
    free(e->sql);
    *e = pc->cache[--pc->n];
}

/* Keep the statement just prepared as <name>, evicting the least recently used one when full.
 * <sql> is the caller's copy, owned by the cache from here. Returns the new entry. */
static struct pstmt *cache_put(struct pconn *pc, char *sql, size_t len, uint64_t hash,
                               const char *name)
{
    if (pc->n == pc->cap) {
        struct pstmt *lru = &pc->cache[0];
        for (unsigned i = 1; i < pc->n; i++)
            if (pc->cache[i].used < lru->used)
                lru = &pc->cache[i];
        cache_drop(pc, lru, true);
    }
    struct pstmt *e = &pc->cache[pc->n++];
    *e = (struct pstmt){.sql = sql, .len = len, .hash = hash, .used = ++pc->clock};
    snprintf(e->name, sizeof e->name, "%s", name);
    return e;
}

/* SQLSTATE classes that a retry can cure: connection exceptions, operator intervention (server
 * shutting down), serialization failures and deadlocks, insufficient resources. */
static bool retryable_state(const char *st)
{
    if (!st)
        return false;
    return strncmp(st, "08", 2) == 0 || strncmp(st, "57", 2) == 0 || strncmp(st, "40", 2) == 0 ||
           strncmp(st, "53", 2) == 0;
}

static int set_type(struct sb_db_res *res, struct sb_db_val *v, Oid type, const char *s, int len)
{
    char *end;
    switch (type) {
    case OID_INT2:
    case OID_INT4: *v = SB_DB_VINT((int32_t)strtol(s, &end, 10)); return 0;
    case OID_INT8:
    case OID_OID: *v = SB_DB_VBIGINT(strtoll(s, &end, 10)); return 0;
    case OID_BOOL: *v = SB_DB_VINT(s[0] == 't'); return 0;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: *v = SB_DB_VDOUBLE(strtod(s, &end)); return 0;
    case OID_DATE:
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: {
        time_t t;
        if (sb_db_time_parse(s, (size_t)len > 19 ? 19 : (size_t)len, &t) == 0) {
            *v = SB_DB_VTIME(t);
            return 0;
        }
        break; /* infinity and other specials stay text */
    }
    case OID_BYTEA: {
        size_t n = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)s, &n);
        if (!b)
            return SB_ENOMEM;
        int rc = sb_db_res_dup(res, v, SB_DB_BLOB, b, n);
        PQfreemem(b);
        return rc;
    }
    default: break;
    }
    return sb_db_res_dup(res, v, SB_DB_STR, s, (size_t)len);
}

static int collect(PGresult *r, struct sb_db_res *res)
{
    int nc = PQnfields(r), nr = PQntuples(r);
    int rc = sb_db_res_set_cols(res, (unsigned)nc);
    for (int c = 0; rc == 0 && c < nc; c++) {
        const char *name = PQfname(r, c);
        rc = sb_db_res_set_col_name(res, (unsigned)c, name, strlen(name));
    }
    for (int i = 0; rc == 0 && i < nr; i++) {
        struct sb_db_val *row = sb_db_res_add_row(res);
        if (!row)
            return SB_ENOMEM;
        for (int c = 0; rc == 0 && c < nc; c++)
            if (!PQgetisnull(r, i, c))
                rc = set_type(res, &row[c], PQftype(r, c), PQgetvalue(r, i, c),
                              PQgetlength(r, i, c));
    }
    return rc;
}

/* Text (or, for blobs, binary) forms of the parameters; the buffers live in <mem>. */
static int params_text(const struct sb_db_val *params, unsigned n, const char **vals, int *lens,
                       int *fmts, char **mem)
{
    size_t need = 0;
    for (unsigned i = 0; i < n; i++)
        need += (params[i].type == SB_DB_STR ? params[i].v.s.len : 0) + 32;
    char *m = malloc(need + 1);
    if (!m)
        return SB_ENOMEM;
    char *p = m;
    for (unsigned i = 0; i < n; i++) {
        const struct sb_db_val *v = &params[i];
        fmts[i] = 0;
        lens[i] = 0;
        vals[i] = p;
        switch (v->type) {
        case SB_DB_NULL: vals[i] = NULL; continue;
        case SB_DB_INT: p += sprintf(p, "%d", v->v.i) + 1; continue;
        case SB_DB_BIGINT: p += sprintf(p, "%lld", (long long)v->v.bi) + 1; continue;
        case SB_DB_DOUBLE: p += sprintf(p, "%.17g", v->v.d) + 1; continue;
        case SB_DB_DATETIME:
            sb_db_time_format(v->v.t, p);
            p += 20;
            continue;
        case SB_DB_STR:
            if (v->v.s.len)
                memcpy(p, v->v.s.p, v->v.s.len);
            p[v->v.s.len] = 0;
            p += v->v.s.len + 1;
            continue;
        case SB_DB_BLOB:
            vals[i] = v->v.s.p ? v->v.s.p : "";
            lens[i] = (int)v->v.s.len;
            fmts[i] = 1;
            continue;
        default: free(m); return SB_EINVAL;
        }
    }
    *mem = m;
    return 0;
}

/* The outcome of <r> (NULL when libpq could not even build a result), with its rows and count in
 * <res> when not NULL. Clears <r>. */
static int finish(PGconn *c, PGresult *r, struct sb_db_res *res, char *err, size_t errlen)
{
    if (!r) {
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
        trim_nl(err);
        return PQstatus(c) != CONNECTION_OK ? SB_EAGAIN : SB_ENOMEM;
    }
    int rc = 0;
    switch (PQresultStatus(r)) {
    case PGRES_TUPLES_OK:
        rc = res ? collect(r, res) : 0;
        if (rc != 0)
            snprintf(err, errlen, "postgres: out of memory for the result");
        /* fall through */
    case PGRES_COMMAND_OK:
        if (res && rc == 0) {
            const char *n = PQcmdTuples(r);
            res->affected = n && *n ? strtoull(n, NULL, 10) : 0;
        }
        break;
    default: {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(err, errlen, "postgres: %s", PQresultErrorMessage(r));
        trim_nl(err);
        rc = (PQstatus(c) != CONNECTION_OK || retryable_state(state) || !state) ? SB_EAGAIN
                                                                                : SB_EPARSE;
    }
    }
    PQclear(r);
    return rc;
}

enum stale { S_LIVE, S_GONE, S_REPLAN };

/* Whether a kept statement failed only for being kept, so that preparing it again cures it:
 * S_GONE, the session no longer has it (DEALLOCATE ALL or DISCARD ALL run on this connection, a
 * pooler that switched server sessions); S_REPLAN, a schema change altered the columns it returns,
 * which the server refuses for a prepared statement (it still exists). */
static enum stale stale_kind(const PGresult *r)
{
    if (PQresultStatus(r) != PGRES_FATAL_ERROR)
        return S_LIVE;
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!st)
        return S_LIVE;
    if (strcmp(st, "26000") == 0)
        return S_GONE;
    if (strcmp(st, "0A000") != 0)
        return S_LIVE;
    /* feature_not_supported has other causes; the source function is not translated */
    const char *fn = PQresultErrorField(r, PG_DIAG_SOURCE_FUNCTION);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    return (fn && strcmp(fn, "RevalidateCachedQuery") == 0) ||
                   (msg && strstr(msg, "cached plan must not change result type"))
               ? S_REPLAN
               : S_LIVE;
}

/* Run <sql> (with parameters) as a statement prepared on this connection: found by its text, or
 * prepared now under a new name and kept. A kept statement that failed only for being kept is
 * prepared again and run once more, unless the failure ended a transaction block: then the
 * caller gets SB_EAGAIN, rolls back and runs it again. */
static int exec_cached(struct pconn *pc, const char *sql, unsigned n, const char *const *vals,
                       const int *lens, const int *fmts, struct sb_db_res *res, char *err,
                       size_t errlen)
{
    PGconn *c = pc->c;
    size_t len = strlen(sql);
    uint64_t hash = sb_hash_bytes(sql, len);
    for (int attempt = 0;; attempt++) {
        struct pstmt *e = cache_find(pc, sql, len, hash);
        if (e && e->is_stale && PQtransactionStatus(c) != PQTRANS_INERROR) {
            cache_drop(pc, e, true);
            e = NULL;
        }
        if (!e) {
            char *copy = malloc(len + 1);
            if (!copy) /* not kept: run unprepared, as without a cache */
                return finish(c, PQexecParams(c, sql, (int)n, NULL, vals, lens, fmts, 0), res, err,
                              errlen);
            memcpy(copy, sql, len + 1);
            char name[STMT_NAME_LEN];
            snprintf(name, sizeof name, "sb_s%" PRIu64, ++pc->n_named);
            int rc = finish(c, PQprepare(c, name, sql, (int)n, NULL), NULL, err, errlen);
            if (rc != 0) {
                free(copy);
                return rc;
            }
            e = cache_put(pc, copy, len, hash, name);
        }
        PGresult *r = PQexecPrepared(c, e->name, (int)n, vals, lens, fmts, 0);
        enum stale why = r && attempt == 0 ? stale_kind(r) : S_LIVE;
        if (why == S_LIVE)
            return finish(c, r, res, err, errlen);
        bool tx_failed = PQtransactionStatus(c) == PQTRANS_INERROR;
        if (why == S_GONE || !tx_failed)
            cache_drop(pc, e, why == S_REPLAN);
        else
            e->is_stale = true; /* DEALLOCATE has to wait for the end of the transaction */
        if (!tx_failed) {
            PQclear(r);
            continue;
        }
        snprintf(err, errlen, "postgres: %s", PQresultErrorMessage(r));
        trim_nl(err);
        PQclear(r);
        return SB_EAGAIN;
    }
}

static int drv_exec(void *conn, const char *sql, const struct sb_db_val *params, unsigned n_params,
                    struct sb_db_res *res, char *err, size_t errlen)
{
    struct pconn *pc = conn;
    PGconn *c = pc->c;
    if (PQstatus(c) != CONNECTION_OK) {
        /* the new session starts without the old one's prepared statements */
        cache_clear(pc);
        PQreset(c);
        if (PQstatus(c) != CONNECTION_OK || setup(c, err, errlen) != 0) {
            snprintf(err, errlen, "postgres: connection lost: %s", PQerrorMessage(c));
            trim_nl(err);
            return SB_EAGAIN;
        }
    }
    if (!res)
        return finish(c, PQexec(c, sql), NULL, err, errlen);
    const char *vals[n_params ? n_params : 1];
    int lens[n_params ? n_params : 1], fmts[n_params ? n_params : 1];
    char *mem = NULL;
    int rc = params_text(params, n_params, vals, lens, fmts, &mem);
    if (rc != 0) {
        snprintf(err, errlen, "postgres: cannot convert parameters");
        return rc;
    }
    /* a statement without parameters is mostly a one-off (a full table load, a literal raw
     * statement): not worth a place in the cache */
    if (n_params && pc->cap)
        rc = exec_cached(pc, sql, n_params, vals, lens, fmts, res, err, errlen);
    else
        rc = finish(c, PQexecParams(c, sql, (int)n_params, NULL, vals, lens, fmts, 0), res, err,
                    errlen);
    free(mem);
    return rc;
}

static const char *const schemes[] = {"postgres", "postgresql", NULL};

static const struct sb_db_driver driver = {
    .name = "postgres",
    .schemes = schemes,
    .module = "db_postgres",
    .numbered_params = true,
    .open = drv_open,
    .close = drv_close,
    .exec = drv_exec,
};

static int mod_init(void)
{
    if (!PQisthreadsafe()) {
        SB_ERR("db_postgres: libpq was built without thread support");
        return SB_EINVAL;
    }
    return sb_db_driver_register(&driver);
}

static void mod_destroy(void)
{
    sb_db_driver_unregister(&driver);
}

static const struct sb_mod_param params[] = {
    {"stmt_cache_size", SB_MP_INT, .offset = offsetof(__typeof__(conf), stmt_cache)},
    {0},
};

const struct sb_module sb_module_db_postgres = {
    .name = "db_postgres",
    .summary = "PostgreSQL driver for the database layer (postgres://user:pass@host:port/db)",
    .conf = &conf,
    .params = params,
    .init = mod_init,
    .destroy = mod_destroy,
};
