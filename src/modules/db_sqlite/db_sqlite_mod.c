/* SPDX-License-Identifier: BSD-2-Clause */
/* db_sqlite: the SQLite driver of the database layer (URLs sqlite:///path/file.db). One SQLite
 * connection per handle, WAL journal, a busy timeout, foreign keys off. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb/db.h"
#include "sb/log.h"
#include "sb/mod.h"

static struct {
    int busy_timeout; /* ms to wait for a lock before SB_EAGAIN */
} conf = {.busy_timeout = 5000};

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
    *conn = h;
    return 0;
}

static void drv_close(void *conn)
{
    sqlite3_close_v2(conn);
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

enum decl { D_OTHER, D_BIGINT, D_TIME };

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

static int fetch(sqlite3_stmt *s, struct sb_db_res *res, struct sb_db_val *row, int n)
{
    for (int c = 0; c < n; c++) {
        struct sb_db_val *v = &row[c];
        enum decl d = decl_of(s, c);
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

static int drv_exec(void *conn, const char *sql, const struct sb_db_val *params, unsigned n_params,
                    struct sb_db_res *res, char *err, size_t errlen)
{
    sqlite3 *h = conn;
    int rc;
    if (!res) {
        char *msg = NULL;
        rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
            sqlite3_free(msg);
            return map_err(rc);
        }
        return 0;
    }
    sqlite3_stmt *s = NULL;
    rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return fail(h, rc, err, errlen, "prepare");
    if (!s) {
        snprintf(err, errlen, "sqlite: empty statement");
        return SB_EINVAL;
    }
    for (unsigned i = 0; i < n_params; i++)
        if ((rc = bind(s, (int)i + 1, &params[i])) != SQLITE_OK) {
            rc = fail(h, rc, err, errlen, "bind");
            goto out;
        }
    int n = sqlite3_column_count(s);
    if (n > 0) {
        if ((rc = sb_db_res_set_cols(res, (unsigned)n)) != 0)
            goto out;
        for (int c = 0; c < n; c++) {
            const char *name = sqlite3_column_name(s, c);
            if ((rc = sb_db_res_set_col_name(res, (unsigned)c, name ? name : "",
                                             name ? strlen(name) : 0)) != 0)
                goto out;
        }
    }
    bool writes = !sqlite3_stmt_readonly(s);
    for (;;) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            rc = fail(h, rc, err, errlen, "step");
            goto out;
        }
        struct sb_db_val *row = sb_db_res_add_row(res);
        if (!row || fetch(s, res, row, n) != 0) {
            snprintf(err, errlen, "sqlite: out of memory for the result");
            rc = SB_ENOMEM;
            goto out;
        }
    }
    res->affected = writes ? (uint64_t)sqlite3_changes64(h) : 0;
    rc = 0;
out:
    sqlite3_finalize(s);
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
