/* SPDX-License-Identifier: BSD-2-Clause */
/* db_sqlite: the SQLite driver of the database layer (URLs sqlite:///path/file.db). One SQLite
 * connection per handle, WAL journal, a busy timeout, foreign keys off, and a small cache of
 * prepared statements per connection keyed by their SQL text: the core builds the same text for
 * the same table operation, so compiling it once per connection instead of once per call removes
 * most of the cost of a short statement. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb/base.h"
#include "sb/db.h"
#include "sb/log.h"
#include "sb/mod.h"

static struct {
    int busy_timeout; /* ms to wait for a lock before SB_EAGAIN */
    int stmt_cache;   /* prepared statements kept per connection (0: none) */
} conf = {.busy_timeout = 5000, .stmt_cache = 32};

#define STMT_CACHE_MAX 1024

enum decl { D_OTHER, D_BIGINT, D_TIME };

/* A prepared statement kept for reuse. Its column kinds are computed once and again only when
 * SQLite had to re-prepare it after a schema change (its REPREPARE counter moved). */
struct cstmt {
    sqlite3_stmt *s;
    char *sql;
    size_t len;
    uint64_t hash;
    uint64_t used; /* LRU clock */
    int n_cols;
    int reprep;
    uint8_t *decl; /* [n_cols] enum decl, NULL until the first use with a result */
};

struct sconn {
    sqlite3 *h;
    struct cstmt *cache;
    unsigned n, cap;
    uint64_t clock;
};

static int map_err(int code)
{
    switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL: return SB_EAGAIN;
    case SQLITE_NOMEM: return SB_ENOMEM;
    default: return SB_EPARSE;
    }
}

static int fail(sqlite3 *h, int code, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "sqlite %s: %s", what, h ? sqlite3_errmsg(h) : sqlite3_errstr(code));
    return map_err(code);
}

static int drv_open(const char *url, void **conn, char *err, size_t errlen)
{
    const char *path = strstr(url, "://");
    if (!path || !path[3]) {
        snprintf(err, errlen, "sqlite URL without a file: %s", url);
        return SB_EINVAL;
    }
    path += 3;
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(
        path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite cannot open %s: %s", path,
                 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return map_err(rc);
    }
    sqlite3_extended_result_codes(h, 0);
    sqlite3_busy_timeout(h, conf.busy_timeout);
    char *msg = NULL;
    /* WAL lets readers (lookups) run while a writer (registrations) commits; an in-memory
     * database keeps its own journal mode */
    const char *pragmas = strcmp(path, ":memory:") == 0
                              ? "PRAGMA foreign_keys=OFF;"
                              : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                "PRAGMA foreign_keys=OFF;";
    rc = sqlite3_exec(h, pragmas, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite %s: %s", path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(h);
        return map_err(rc);
    }
    struct sconn *sc = calloc(1, sizeof *sc);
    if (!sc) {
        snprintf(err, errlen, "sqlite %s: out of memory", path);
        sqlite3_close(h);
        return SB_ENOMEM;
    }
    unsigned cap = conf.stmt_cache < 0 ? 0 : (unsigned)conf.stmt_cache;
    if (cap > STMT_CACHE_MAX)
        cap = STMT_CACHE_MAX;
    /* without memory for the cache the connection still works, compiling every statement */
    sc->cache = cap ? calloc(cap, sizeof *sc->cache) : NULL;
    sc->cap = sc->cache ? cap : 0;
    sc->h = h;
    *conn = sc;
    return 0;
}

static void cstmt_drop(struct cstmt *e)
{
    sqlite3_finalize(e->s);
    free(e->sql);
    free(e->decl);
    *e = (struct cstmt){0};
}

static void drv_close(void *conn)
{
    struct sconn *sc = conn;
    if (!sc)
        return;
    /* a statement left unfinalized would keep the connection open as a zombie */
    for (unsigned i = 0; i < sc->n; i++)
        cstmt_drop(&sc->cache[i]);
    free(sc->cache);
    sqlite3_close_v2(sc->h);
    free(sc);
}

static struct cstmt *cache_find(struct sconn *sc, const char *sql, size_t len, uint64_t hash)
{
    for (unsigned i = 0; i < sc->n; i++) {
        struct cstmt *e = &sc->cache[i];
        if (e->hash == hash && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->used = ++sc->clock;
            return e;
        }
    }
    return NULL;
}

/* Keep <s> (prepared from <sql>) in the cache, evicting the least recently used entry when full.
 * Returns the entry, or NULL when the statement is not kept (no cache, out of memory): the caller
 * then finalizes it itself. */
static struct cstmt *cache_put(struct sconn *sc, sqlite3_stmt *s, const char *sql, size_t len,
                               uint64_t hash)
{
    if (!sc->cap)
        return NULL;
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, sql, len);
    copy[len] = 0;
    struct cstmt *e;
    if (sc->n < sc->cap) {
        e = &sc->cache[sc->n++];
    } else {
        e = &sc->cache[0];
        for (unsigned i = 1; i < sc->n; i++)
            if (sc->cache[i].used < e->used)
                e = &sc->cache[i];
        cstmt_drop(e);
    }
    *e = (struct cstmt){
        .s = s, .sql = copy, .len = len, .hash = hash, .used = ++sc->clock, .n_cols = -1};
    return e;
}

static int bind(sqlite3_stmt *s, int i, const struct sb_db_val *v)
{
    char t[20];
    switch (v->type) {
    case SB_DB_NULL: return sqlite3_bind_null(s, i);
    case SB_DB_INT: return sqlite3_bind_int(s, i, v->v.i);
    case SB_DB_BIGINT: return sqlite3_bind_int64(s, i, v->v.bi);
    case SB_DB_DOUBLE: return sqlite3_bind_double(s, i, v->v.d);
    case SB_DB_STR:
        /* a NULL pointer would bind SQL NULL: an empty string stays an empty string */
        return sqlite3_bind_text(s, i, v->v.s.p ? v->v.s.p : "", (int)v->v.s.len, SQLITE_STATIC);
    case SB_DB_BLOB:
        if (!v->v.s.len)
            return sqlite3_bind_zeroblob(s, i, 0);
        return sqlite3_bind_blob(s, i, v->v.s.p, (int)v->v.s.len, SQLITE_STATIC);
    case SB_DB_DATETIME:
        sb_db_time_format(v->v.t, t);
        return sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
    default: return SQLITE_MISMATCH;
    }
}

static enum decl decl_of(sqlite3_stmt *s, int col)
{
    const char *d = sqlite3_column_decltype(s, col);
    if (!d)
        return D_OTHER;
    if (strcasestr(d, "BIGINT"))
        return D_BIGINT;
    if (strcasestr(d, "DATETIME") || strcasestr(d, "TIMESTAMP"))
        return D_TIME;
    return D_OTHER;
}

static int fetch(sqlite3_stmt *s, const uint8_t *decl, struct sb_db_res *res, struct sb_db_val *row,
                 int n)
{
    for (int c = 0; c < n; c++) {
        struct sb_db_val *v = &row[c];
        enum decl d = decl ? (enum decl)decl[c] : decl_of(s, c);
        switch (sqlite3_column_type(s, c)) {
        case SQLITE_NULL: v->type = SB_DB_NULL; break;
        case SQLITE_INTEGER: {
            sqlite3_int64 x = sqlite3_column_int64(s, c);
            if (d == D_TIME) {
                *v = SB_DB_VTIME((time_t)x);
            } else if (d != D_BIGINT && x >= INT32_MIN && x <= INT32_MAX) {
                *v = SB_DB_VINT((int32_t)x);
            } else {
                *v = SB_DB_VBIGINT(x);
            }
            break;
        }
        case SQLITE_FLOAT: *v = SB_DB_VDOUBLE(sqlite3_column_double(s, c)); break;
        case SQLITE_BLOB: {
            const void *p = sqlite3_column_blob(s, c);
            if (sb_db_res_dup(res, v, SB_DB_BLOB, p, (size_t)sqlite3_column_bytes(s, c)))
                return SB_ENOMEM;
            break;
        }
        default: {
            const char *p = (const char *)sqlite3_column_text(s, c);
            size_t len = (size_t)sqlite3_column_bytes(s, c);
            time_t t;
            if (d == D_TIME && sb_db_time_parse(p, len, &t) == 0) {
                *v = SB_DB_VTIME(t);
                break;
            }
            if (sb_db_res_dup(res, v, SB_DB_STR, p ? p : "", len))
                return SB_ENOMEM;
        }
        }
    }
    return 0;
}

/* The column kinds of <e>'s statement, computed again after a re-prepare. NULL when out of
 * memory. */
static const uint8_t *cached_decls(struct cstmt *e, int n)
{
    int rp = sqlite3_stmt_status(e->s, SQLITE_STMTSTATUS_REPREPARE, 0);
    if (e->decl && e->n_cols == n && e->reprep == rp)
        return e->decl;
    uint8_t *d = realloc(e->decl, n ? (size_t)n : 1);
    if (!d)
        return NULL;
    for (int c = 0; c < n; c++)
        d[c] = (uint8_t)decl_of(e->s, c);
    e->decl = d;
    e->n_cols = n;
    e->reprep = rp;
    return d;
}

static bool blank(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';')
        p++;
    return !*p;
}

/* Several statements with no parameters and no rows: SQLite's own loop, nothing cached. */
static int exec_script(sqlite3 *h, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_err(rc);
    }
    return 0;
}

/* The result's columns, named and typed after the first step: a cached statement that SQLite
 * re-prepared for a changed schema (which it does inside step) may have other columns now. */
static int set_columns(sqlite3_stmt *s, struct cstmt *e, struct sb_db_res *res, uint8_t *local,
                       size_t local_len, const uint8_t **decl)
{
    int n = sqlite3_column_count(s);
    int rc;
    if (n <= 0)
        return 0;
    if ((rc = sb_db_res_set_cols(res, (unsigned)n)) != 0)
        return rc;
    for (int c = 0; c < n; c++) {
        const char *name = sqlite3_column_name(s, c);
        if ((rc = sb_db_res_set_col_name(res, (unsigned)c, name ? name : "",
                                         name ? strlen(name) : 0)) != 0)
            return rc;
    }
    if (e) {
        *decl = cached_decls(e, n);
    } else if ((size_t)n <= local_len) {
        for (int c = 0; c < n; c++)
            local[c] = (uint8_t)decl_of(s, c);
        *decl = local;
    } else {
        *decl = NULL; /* an uncached statement of many columns: computed per row */
    }
    return *decl || !e ? 0 : SB_ENOMEM;
}

static int run_stmt(sqlite3 *h, sqlite3_stmt *s, struct cstmt *e, const struct sb_db_val *params,
                    unsigned n_params, struct sb_db_res *res, char *err, size_t errlen)
{
    int rc;
    for (unsigned i = 0; i < n_params; i++)
        if ((rc = bind(s, (int)i + 1, &params[i])) != SQLITE_OK)
            return fail(h, rc, err, errlen, "bind");
    bool writes = !sqlite3_stmt_readonly(s);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(h, rc, err, errlen, "step");
    if (!res)
        goto rest;
    uint8_t local[64];
    const uint8_t *decl = NULL;
    int n = sqlite3_column_count(s);
    if (set_columns(s, e, res, local, sizeof local, &decl) != 0) {
        snprintf(err, errlen, "sqlite: out of memory for the result");
        return SB_ENOMEM;
    }
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        struct sb_db_val *row = sb_db_res_add_row(res);
        if (!row || fetch(s, decl, res, row, n) != 0) {
            snprintf(err, errlen, "sqlite: out of memory for the result");
            return SB_ENOMEM;
        }
    }
    if (rc != SQLITE_DONE)
        return fail(h, rc, err, errlen, "step");
    res->affected = writes ? (uint64_t)sqlite3_changes64(h) : 0;
    return 0;
rest:
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(s);
    return rc == SQLITE_DONE ? 0 : fail(h, rc, err, errlen, "step");
}

static int drv_exec(void *conn, const char *sql, const struct sb_db_val *params, unsigned n_params,
                    struct sb_db_res *res, char *err, size_t errlen)
{
    struct sconn *sc = conn;
    sqlite3 *h = sc->h;
    size_t len = strlen(sql);
    uint64_t hash = sb_hash_bytes(sql, len);
    struct cstmt *e = cache_find(sc, sql, len, hash);
    sqlite3_stmt *s = e ? e->s : NULL;
    if (!e) {
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(h, sql, (int)len + 1, &s, &tail);
        if (rc != SQLITE_OK && !res)
            return exec_script(h, sql, err, errlen); /* its own message, as for any script */
        if (rc != SQLITE_OK)
            return fail(h, rc, err, errlen, "prepare");
        if (!res && (!s || (tail && !blank(tail)))) {
            /* a script: only its first statement was compiled */
            sqlite3_finalize(s);
            return exec_script(h, sql, err, errlen);
        }
        if (!s) {
            snprintf(err, errlen, "sqlite: empty statement");
            return SB_EINVAL;
        }
        e = cache_put(sc, s, sql, len, hash);
    }
    int rc = run_stmt(h, s, e, params, n_params, res, err, errlen);
    if (e) {
        /* reset at once: a statement left mid-way would hold its read snapshot (and block WAL
         * checkpoints) until its next use; the bindings borrow the caller's strings */
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    } else {
        sqlite3_finalize(s);
    }
    return rc;
}

static const char *const schemes[] = {"sqlite", NULL};

static const struct sb_db_driver driver = {
    .name = "sqlite",
    .schemes = schemes,
    .module = "db_sqlite",
    .numbered_params = false,
    .open = drv_open,
    .close = drv_close,
    .exec = drv_exec,
};

static int mod_init(void)
{
    if (sqlite3_threadsafe() == 0) {
        SB_ERR("db_sqlite: libsqlite3 was built without thread support");
        return SB_EINVAL;
    }
    return sb_db_driver_register(&driver);
}

static void mod_destroy(void)
{
    sb_db_driver_unregister(&driver);
}

static const struct sb_mod_param params[] = {
    {"busy_timeout", SB_MP_INT, .offset = offsetof(__typeof__(conf), busy_timeout)},
    {"stmt_cache_size", SB_MP_INT, .offset = offsetof(__typeof__(conf), stmt_cache)},
    {0},
};

const struct sb_module sb_module_db_sqlite = {
    .name = "db_sqlite",
    .summary = "SQLite driver for the database layer (sqlite:///path/file.db)",
    .conf = &conf,
    .params = params,
    .init = mod_init,
    .destroy = mod_destroy,
};
