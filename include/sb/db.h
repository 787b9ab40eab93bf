/* SPDX-License-Identifier: BSD-2-Clause */
/* The database layer: connections by URL, typed values, table operations built into SQL by the
 * core, drivers registered per URL scheme by modules (db_sqlite, db_postgres), and an
 * asynchronous variant run by a small thread pool that posts completions back to a worker loop.
 * See docs/db.md. */
#ifndef SB_DB_H
#define SB_DB_H

#include <string.h>
#include <time.h>

#include "sb/base-t.h"

struct sb_loop;

/* ---- errors ---------------------------------------------------------------------------------
 * Every function returns 0 or a negative SB_E* code; the handle keeps a message for the last
 * failure (sb_db_errmsg). The codes a caller has to tell apart:
 *   SB_EAGAIN   the server is unreachable, the connection was lost, or the database stayed busy
 *               (locked) past the busy timeout. Retryable: the handle reconnects on its next call.
 *   SB_EPARSE   the server rejected the statement: syntax, unknown table or column, type error,
 *               constraint violation (duplicate key). Retrying the same statement will not help.
 *   SB_ENOENT   no driver loaded for the URL's scheme, or (version check) the table is absent.
 *   SB_EVERSION the table version in the database differs from the one the code expects.
 *   SB_EINVAL   a caller bug: malformed URL, NULL table, bad operator, etc.
 *   SB_ENOMEM   allocation failed. */
static inline bool sb_db_err_is_retryable(int rc)
{
    return rc == SB_EAGAIN;
}

/* ---- values ------------------------------------------------------------------------------ */

enum sb_db_type {
    SB_DB_NULL = 0, /* SQL NULL (any column type) */
    SB_DB_INT,      /* int32_t */
    SB_DB_BIGINT,   /* int64_t */
    SB_DB_DOUBLE,   /* double */
    SB_DB_STR,      /* text (sb_str, not NUL-terminated in parameters; NUL-terminated in results) */
    SB_DB_BLOB,     /* bytes (sb_str) */
    SB_DB_DATETIME, /* time_t, stored as UTC 'YYYY-MM-DD HH:MM:SS' text (SQLite) or TIMESTAMP */
};

struct sb_db_val {
    uint8_t type; /* enum sb_db_type */
    union {
        int32_t i;
        int64_t bi;
        double d;
        sb_str s; /* STR and BLOB; borrowed in parameters, owned by the result in results */
        time_t t;
    } v;
};

#define SB_DB_VNULL         ((struct sb_db_val){.type = SB_DB_NULL})
#define SB_DB_VINT(x)       ((struct sb_db_val){.type = SB_DB_INT, .v.i = (x)})
#define SB_DB_VBIGINT(x)    ((struct sb_db_val){.type = SB_DB_BIGINT, .v.bi = (x)})
#define SB_DB_VDOUBLE(x)    ((struct sb_db_val){.type = SB_DB_DOUBLE, .v.d = (x)})
#define SB_DB_VSTR(sbstr)   ((struct sb_db_val){.type = SB_DB_STR, .v.s = (sbstr)})
#define SB_DB_VCSTR(cs)     ((struct sb_db_val){.type = SB_DB_STR, .v.s = {(cs), strlen(cs)}})
#define SB_DB_VBLOB(p_, n_) ((struct sb_db_val){.type = SB_DB_BLOB, .v.s = {(p_), (n_)}})
#define SB_DB_VTIME(x)      ((struct sb_db_val){.type = SB_DB_DATETIME, .v.t = (x)})

static inline bool sb_db_val_is_null(const struct sb_db_val *v)
{
    return v->type == SB_DB_NULL;
}
/* Lenient readers for result values: INT/BIGINT/DOUBLE/DATETIME convert between each other and
 * decimal STR is parsed; NULL and anything unconvertible give <dflt>. */
int64_t sb_db_val_int(const struct sb_db_val *v, int64_t dflt);
double sb_db_val_double(const struct sb_db_val *v, double dflt);
time_t sb_db_val_time(const struct sb_db_val *v, time_t dflt);
/* STR/BLOB: the bytes; NULL and other types: SB_STR_NULL ({NULL, 0}). */
sb_str sb_db_val_str(const struct sb_db_val *v);

/* ---- statements -------------------------------------------------------------------------- */

/* A column = value pair (insert, update SET, replace). <col> is an SQL identifier: letters, digits
 * and '_' only (checked; anything else is SB_EINVAL). */
struct sb_db_kv {
    const char *col;
    struct sb_db_val val;
};

enum sb_db_op {
    SB_DB_EQ = 0, /* col = val (a NULL val means col IS NULL) */
    SB_DB_NE,     /* col <> val (a NULL val means col IS NOT NULL) */
    SB_DB_LT,
    SB_DB_LE,
    SB_DB_GT,
    SB_DB_GE,
    SB_DB_LIKE,
    SB_DB_IS_NULL,  /* val ignored */
    SB_DB_NOT_NULL, /* val ignored */
};

/* One where-clause term; the terms of an array are joined with AND. */
struct sb_db_cond {
    const char *col;
    uint8_t op; /* enum sb_db_op */
    struct sb_db_val val;
};

struct sb_db_query {
    const char *table;
    const char *const *cols; /* NULL (or n_cols 0): every column, in table order */
    unsigned n_cols;
    const struct sb_db_cond *where; /* may be NULL: all rows */
    unsigned n_where;
    const char *order_by; /* a column, or NULL */
    bool order_desc;
    unsigned limit; /* 0: no limit */
};

/* ---- results ----------------------------------------------------------------------------- */

/* Rows of typed values. Everything (column names, strings, blobs) is owned by the result and
 * freed with sb_db_res_free(). Strings are NUL-terminated (len excludes the NUL). Types come
 * from the column's declared type: INTEGER/INT -> SB_DB_INT when the value fits (else BIGINT),
 * BIGINT -> SB_DB_BIGINT, REAL/DOUBLE/FLOAT -> SB_DB_DOUBLE, DATETIME/TIMESTAMP -> SB_DB_DATETIME,
 * BLOB/BYTEA -> SB_DB_BLOB, the rest -> SB_DB_STR; NULL fields are SB_DB_NULL. */
struct sb_db_res {
    unsigned n_cols;
    unsigned n_rows;
    const char **cols;      /* [n_cols] column names */
    struct sb_db_val *vals; /* [n_rows * n_cols], row-major: use sb_db_res_at() */
    uint64_t affected;      /* rows changed by INSERT/UPDATE/DELETE */
    /* private to the db layer */
    unsigned cap_rows;
    void *mem;
};

static inline const struct sb_db_val *sb_db_res_at(const struct sb_db_res *r, unsigned row,
                                                   unsigned col)
{
    return &r->vals[(size_t)row * r->n_cols + col];
}
/* Index of column <name> (case-insensitive), or -1. */
int sb_db_res_col(const struct sb_db_res *r, const char *name);
void sb_db_res_free(struct sb_db_res *r);

/* ---- connections (synchronous) ----------------------------------------------------------
 * A handle belongs to the thread that uses it: open one per worker (init_worker) and one per
 * pool thread; never share one between threads. Calls block until the server answers. */

struct sb_db;

/* Open <url>: "sqlite:///abs/path.db", "sqlite://./relative.db", "sqlite://:memory:",
 * "postgres://user:pass@host:port/dbname" (also "postgresql://"; query parameters are handed to
 * libpq). A scheme whose driver module is not loaded gives SB_ENOENT with the message
 * 'db_url sqlite://... needs loadmodule "db_sqlite.so"'. On failure *out is NULL and <err>
 * (if not NULL) receives a NUL-terminated message of at most <errlen> bytes. Passwords are never
 * copied into messages. */
int sb_db_open(const char *url, struct sb_db **out, char *err, size_t errlen);
void sb_db_close(struct sb_db *db);
/* Message for the last failure on <db> ("" when the last call succeeded). Valid until the next
 * call on the handle. */
const char *sb_db_errmsg(const struct sb_db *db);
/* The scheme's driver name ("sqlite", "postgres"). */
const char *sb_db_driver_name(const struct sb_db *db);

/* SELECT. *out gets a result (possibly with 0 rows) to free with sb_db_res_free(). */
int sb_db_select(struct sb_db *db, const struct sb_db_query *q, struct sb_db_res **out);
/* INSERT one row. */
int sb_db_insert(struct sb_db *db, const char *table, const struct sb_db_kv *kv, unsigned n);
/* INSERT one row and return the value of its <id_col> (an auto-increment key) in *id. */
int sb_db_insert_id(struct sb_db *db, const char *table, const struct sb_db_kv *kv, unsigned n,
                    const char *id_col, int64_t *id);
/* UPDATE <table> SET <set> WHERE <where>. *affected (may be NULL) gets the number of rows. */
int sb_db_update(struct sb_db *db, const char *table, const struct sb_db_cond *where,
                 unsigned n_where, const struct sb_db_kv *set, unsigned n_set, uint64_t *affected);
/* DELETE FROM <table> WHERE <where> (n_where 0: every row). */
int sb_db_delete(struct sb_db *db, const char *table, const struct sb_db_cond *where,
                 unsigned n_where, uint64_t *affected);
/* Upsert: insert <kv>; when a row with the same values in <key_cols> exists (a UNIQUE index or
 * primary key over exactly those columns is required), update its other columns instead. */
int sb_db_replace(struct sb_db *db, const char *table, const struct sb_db_kv *kv, unsigned n,
                  const char *const *key_cols, unsigned n_keys);
/* Raw SQL with '?' placeholders bound to <params> (the postgres driver renumbers them to $n;
 * a '?' inside a quoted literal is left alone). <out> may be NULL to discard rows; when not NULL
 * it gets a result even for statements without rows (then n_rows is 0, affected is set).
 * Several statements separated by ';' are allowed only with n_params 0 and out NULL. */
int sb_db_raw(struct sb_db *db, const char *sql, const struct sb_db_val *params, unsigned n_params,
              struct sb_db_res **out);
/* Transactions on this handle. */
int sb_db_begin(struct sb_db *db);
int sb_db_commit(struct sb_db *db);
int sb_db_rollback(struct sb_db *db);

/* ---- table versions ------------------------------------------------------------------------
 * The `version` table (table_name, table_version) as in OpenSIPS. */

/* *version gets the recorded version of <table>; SB_ENOENT when there is no row (or no version
 * table at all). */
int sb_db_table_version(struct sb_db *db, const char *table, int *version);
/* Module init check: 0 when <table> is at <version>. Otherwise logs a clear error naming the
 * table, both versions and the fix ("sbctl db init" / "sbctl db migrate") and returns
 * SB_EVERSION (mismatch), SB_ENOENT (table not created) or the access error. */
int sb_db_check_version(struct sb_db *db, const char *table, int version);

/* ---- asynchronous operations -----------------------------------------------------------------
 * A pool of <n_threads> threads, each with its own connection to the pool's URL. An operation is
 * copied (table, columns, values) at submission, run on a pool thread, and its completion is
 * posted to <loop> with sb_loop_post(): the callback runs on the loop's thread, never on the
 * submitting stack. A SIP worker thus never blocks on the database. */

struct sb_db_pool;

struct sb_db_done {
    int rc;                /* 0 or an SB_E* code (see "errors") */
    const char *errmsg;    /* "" on success; valid during the callback */
    struct sb_db_res *res; /* select / raw with rows: the result. The callback may keep it by
                              setting res to NULL (and freeing it later); otherwise it is freed
                              when the callback returns. */
    uint64_t affected;     /* update / delete / raw */
    int64_t id;            /* insert_id */
};
typedef void (*sb_db_done_fn)(struct sb_db_done *d, void *arg);

/* Start the pool. Connections are opened by each thread at start; a server that is down makes
 * operations fail with SB_EAGAIN until it comes back (each operation retries the connection), it
 * does not fail the pool. SB_ENOENT (no driver) and SB_EINVAL (bad URL) do fail it, with <err>.
 * Control thread. */
int sb_db_pool_new(const char *url, unsigned n_threads, struct sb_db_pool **out, char *err,
                   size_t errlen);
/* Finish queued operations (their completions are posted), stop and join the threads. */
void sb_db_pool_free(struct sb_db_pool *p);
/* Operations queued or running. Any thread. */
unsigned sb_db_pool_pending(const struct sb_db_pool *p);

/* Any thread. Return 0 when queued (the callback will run exactly once, unless <loop> is freed
 * first), or SB_ENOMEM / SB_EINVAL without calling it. */
int sb_db_async_select(struct sb_db_pool *p, const struct sb_db_query *q, struct sb_loop *loop,
                       sb_db_done_fn cb, void *arg);
int sb_db_async_insert(struct sb_db_pool *p, const char *table, const struct sb_db_kv *kv,
                       unsigned n, struct sb_loop *loop, sb_db_done_fn cb, void *arg);
int sb_db_async_insert_id(struct sb_db_pool *p, const char *table, const struct sb_db_kv *kv,
                          unsigned n, const char *id_col, struct sb_loop *loop, sb_db_done_fn cb,
                          void *arg);
int sb_db_async_update(struct sb_db_pool *p, const char *table, const struct sb_db_cond *where,
                       unsigned n_where, const struct sb_db_kv *set, unsigned n_set,
                       struct sb_loop *loop, sb_db_done_fn cb, void *arg);
int sb_db_async_delete(struct sb_db_pool *p, const char *table, const struct sb_db_cond *where,
                       unsigned n_where, struct sb_loop *loop, sb_db_done_fn cb, void *arg);
int sb_db_async_replace(struct sb_db_pool *p, const char *table, const struct sb_db_kv *kv,
                        unsigned n, const char *const *key_cols, unsigned n_keys,
                        struct sb_loop *loop, sb_db_done_fn cb, void *arg);
int sb_db_async_raw(struct sb_db_pool *p, const char *sql, const struct sb_db_val *params,
                    unsigned n_params, struct sb_loop *loop, sb_db_done_fn cb, void *arg);

/* ---- drivers ---------------------------------------------------------------------------------
 * A driver is a module (db_sqlite, db_postgres) that registers a vtable for its scheme in its
 * init. The core builds every statement as SQL text with placeholders and hands it to exec.
 * Modules that open a connection in their own init must be loaded after the driver module (as
 * in OpenSIPS configs: loadmodule "db_sqlite.so" first); opening in init_worker works in any
 * order. */

struct sb_db_driver {
    const char *name;           /* "sqlite" */
    const char *const *schemes; /* URL schemes served, NULL-terminated: {"sqlite", NULL} */
    const char *module;         /* "db_sqlite", for error messages */
    bool numbered_params;       /* placeholders are $1, $2 ... instead of ? */
    /* Open a connection. <url> is the whole URL. Return 0 with *conn, or an SB_E* code with a
     * message in <err>. */
    int (*open)(const char *url, void **conn, char *err, size_t errlen);
    void (*close)(void *conn);
    /* Run one statement (or, with n_params 0 and res NULL, a script of several). Rows go into
     * <res> (already created, empty, with no columns) with sb_db_res_* builders when <res> is
     * not NULL; <res>->affected is set either way when res is given. Errors: SB_EAGAIN when the
     * connection is lost (the driver reconnects on the next call), SB_EPARSE when the statement
     * is rejected, with a message in <err>. */
    int (*exec)(void *conn, const char *sql, const struct sb_db_val *params, unsigned n_params,
                struct sb_db_res *res, char *err, size_t errlen);
};

/* Register <drv> (static storage) for its schemes. Idempotent for the same driver; SB_EINVAL when
 * another driver holds a scheme. Control thread, before workers start. */
int sb_db_driver_register(const struct sb_db_driver *drv);
void sb_db_driver_unregister(const struct sb_db_driver *drv);
/* Run the init of every linked module named db_* so that all their drivers are registered: for
 * tools (sbctl) and tests that have no script with loadmodule lines. Returns 0 or the first
 * failing init's code. */
int sb_db_register_linked(void);

/* Builders for drivers' exec. Set the columns once (names are copied), then append rows: the
 * returned row has n_cols values, all SB_DB_NULL; fill them, copying strings and blobs with
 * sb_db_res_dup(). NULL on allocation failure. */
int sb_db_res_set_cols(struct sb_db_res *r, unsigned n_cols);
int sb_db_res_set_col_name(struct sb_db_res *r, unsigned col, const char *name, size_t len);
struct sb_db_val *sb_db_res_add_row(struct sb_db_res *r);
/* Copy <len> bytes (plus a NUL) into the result's storage and make *v a STR or BLOB of them. */
int sb_db_res_dup(struct sb_db_res *r, struct sb_db_val *v, uint8_t type, const void *p,
                  size_t len);

/* 'YYYY-MM-DD HH:MM:SS' (UTC, optional fraction and +00 suffix ignored) <-> time_t. */
int sb_db_time_parse(const char *s, size_t len, time_t *out);
/* Writes 20 bytes including the NUL. */
void sb_db_time_format(time_t t, char out[20]);

#endif
