/* SPDX-License-Identifier: BSD-2-Clause */
/* The database layer: driver registry keyed by URL scheme, connections, SQL built from table
 * operations, table versions. Drivers only ever see SQL text and bound values. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "sb/base.h"
#include "sb/log.h"
#include "sb/mod.h"

/* ---- driver registry --------------------------------------------------------------------- */

#define MAX_DRIVERS 8

/* Shared: written by module init on the control thread before workers start, read by any
 * thread afterwards; reg_lock covers both. */
static const struct sb_db_driver *drivers[MAX_DRIVERS];
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Which module serves a scheme, for the "needs loadmodule" message when none is registered. */
static const struct {
    const char *scheme, *module;
} known_schemes[] = {
    {"sqlite", "db_sqlite"},
    {"postgres", "db_postgres"},
    {"postgresql", "db_postgres"},
    {"mysql", "db_mysql"},
};

static bool serves(const struct sb_db_driver *d, const char *scheme, size_t len)
{
    for (const char *const *s = d->schemes; s && *s; s++)
        if (strlen(*s) == len && strncasecmp(*s, scheme, len) == 0)
            return true;
    return false;
}

int sb_db_driver_register(const struct sb_db_driver *drv)
{
    int rc = 0;
    if (!drv || !drv->schemes || !drv->open || !drv->exec || !drv->close)
        return SB_EINVAL;
    pthread_mutex_lock(&reg_lock);
    unsigned free_slot = MAX_DRIVERS;
    for (unsigned i = 0; i < MAX_DRIVERS; i++) {
        if (drivers[i] == drv)
            goto out;
        if (!drivers[i]) {
            if (free_slot == MAX_DRIVERS)
                free_slot = i;
            continue;
        }
        for (const char *const *s = drv->schemes; *s; s++)
            if (serves(drivers[i], *s, strlen(*s))) {
                SB_ERR("db: scheme %s is already served by driver %s", *s, drivers[i]->name);
                rc = SB_EINVAL;
                goto out;
            }
    }
    if (free_slot == MAX_DRIVERS)
        rc = SB_ELIMIT;
    else
        drivers[free_slot] = drv;
out:
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

void sb_db_driver_unregister(const struct sb_db_driver *drv)
{
    pthread_mutex_lock(&reg_lock);
    for (unsigned i = 0; i < MAX_DRIVERS; i++)
        if (drivers[i] == drv)
            drivers[i] = NULL;
    pthread_mutex_unlock(&reg_lock);
}

int sb_db_register_linked(void)
{
    for (unsigned i = 0; i < sb_n_modules_builtin; i++) {
        const struct sb_module *m = sb_modules_builtin[i];
        if (strncmp(m->name, "db_", 3) != 0 || !m->init)
            continue;
        int rc = m->init();
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The URL without its password, for messages. */
static void url_for_msg(const char *url, char *out, size_t cap)
{
    const char *at = strchr(url, '@');
    const char *auth = strstr(url, "://");
    const char *colon = auth ? strchr(auth + 3, ':') : NULL;
    if (at && colon && colon < at)
        snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, cap, "%s", url);
}

int sb__db_driver_for(const char *url, const struct sb_db_driver **out, char *err, size_t errlen)
{
    char shown[256];
    *out = NULL;
    if (!url) {
        snprintf(err, errlen, "no database URL");
        return SB_EINVAL;
    }
    url_for_msg(url, shown, sizeof shown);
    const char *sep = strstr(url, "://");
    if (!sep || sep == url) {
        snprintf(err, errlen, "db_url %s: not a URL (expected scheme://...)", shown);
        return SB_EINVAL;
    }
    size_t slen = (size_t)(sep - url);
    pthread_mutex_lock(&reg_lock);
    for (unsigned i = 0; i < MAX_DRIVERS && !*out; i++)
        if (drivers[i] && serves(drivers[i], url, slen))
            *out = drivers[i];
    pthread_mutex_unlock(&reg_lock);
    if (*out)
        return 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(known_schemes); i++)
        if (strlen(known_schemes[i].scheme) == slen &&
            strncasecmp(known_schemes[i].scheme, url, slen) == 0) {
            snprintf(err, errlen, "db_url %s needs loadmodule \"%s.so\"", shown,
                     known_schemes[i].module);
            return SB_ENOENT;
        }
    snprintf(err, errlen, "db_url %s: no database driver for scheme '%.*s'", shown, (int)slen, url);
    return SB_ENOENT;
}

/* ---- connections --------------------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int sb_db_open(const char *url, struct sb_db **out, char *err, size_t errlen)
{
    char msg[SB_DB_ERR_MAX];
    const struct sb_db_driver *drv;
    *out = NULL;
    int rc = sb__db_driver_for(url, &drv, msg, sizeof msg);
    if (rc != 0) {
        set_err(err, errlen, msg);
        return rc;
    }
    struct sb_db *db = calloc(1, sizeof *db);
    if (!db) {
        set_err(err, errlen, "out of memory");
        return SB_ENOMEM;
    }
    db->drv = drv;
    msg[0] = 0;
    rc = drv->open(url, &db->conn, msg, sizeof msg);
    if (rc != 0) {
        set_err(err, errlen, msg[0] ? msg : "cannot connect");
        free(db);
        return rc;
    }
    *out = db;
    return 0;
}

void sb_db_close(struct sb_db *db)
{
    if (!db)
        return;
    db->drv->close(db->conn);
    free(db->st);
    free(db);
}

const char *sb_db_errmsg(const struct sb_db *db)
{
    return db ? db->err : "no handle";
}

const char *sb_db_driver_name(const struct sb_db *db)
{
    return db->drv->name;
}

/* ---- SQL building -------------------------------------------------------------------------- */

static void stmt_init(struct sb__db_stmt *st)
{
    sb_wbuf_init(&st->sql, st->sql_mem, sizeof st->sql_mem - 1);
    st->n_params = 0;
    st->wants_rows = st->is_script = st->returns_id = false;
}

/* One character of SQL: the builders append dozens per statement, one call each through
 * sb_wbuf_put would cost more than the rest of the building. Same overflow rule (sticky). */
static inline void put_ch(struct sb__db_stmt *st, char c)
{
    struct sb_wbuf *w = &st->sql;
    if (w->err)
        return;
    if (w->len < w->cap)
        w->p[w->len++] = c;
    else
        w->err = SB_ENOSPC;
}

/* Check and append an identifier in one pass. */
static int put_ident(struct sb__db_stmt *st, const char *id)
{
    if (!id || !*id || sb_is_digit((unsigned char)*id))
        return SB_EINVAL;
    struct sb_wbuf *w = &st->sql;
    size_t room = w->err ? 0 : w->cap - w->len, i = 0;
    for (; id[i]; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!sb_is_alpha(c) && !sb_is_digit(c) && c != '_')
            return SB_EINVAL;
        if (i < room)
            w->p[w->len + i] = (char)c;
    }
    if (w->err)
        return 0;
    if (i > room)
        w->err = SB_ENOSPC;
    else
        w->len += i;
    return 0;
}

static int put_param(const struct sb_db_driver *d, struct sb__db_stmt *st,
                     const struct sb_db_val *v)
{
    if (st->n_params >= SB_DB_MAX_PARAMS)
        return SB_ELIMIT;
    if (v->type > SB_DB_DATETIME)
        return SB_EINVAL;
    st->params[st->n_params++] = *v;
    if (d->numbered_params) {
        put_ch(st, '$');
        sb_wbuf_u64(&st->sql, st->n_params);
    } else {
        put_ch(st, '?');
    }
    return 0;
}

static int finish(struct sb__db_stmt *st)
{
    if (st->sql.err)
        return SB_ELIMIT;
    st->sql.p[st->sql.len] = 0;
    return 0;
}

static int put_where(const struct sb_db_driver *d, struct sb__db_stmt *st,
                     const struct sb_db_cond *w, unsigned n)
{
    static const char *const ops[] = {
        [SB_DB_EQ] = " = ", [SB_DB_NE] = " <> ", [SB_DB_LT] = " < ",      [SB_DB_LE] = " <= ",
        [SB_DB_GT] = " > ", [SB_DB_GE] = " >= ", [SB_DB_LIKE] = " LIKE ",
    };
    if (n && !w)
        return SB_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        int rc;
        sb_wbuf_cstr(&st->sql, i ? " AND " : " WHERE ");
        if ((rc = put_ident(st, w[i].col)) != 0)
            return rc;
        uint8_t op = w[i].op;
        bool null = w[i].val.type == SB_DB_NULL;
        if (op == SB_DB_IS_NULL || (op == SB_DB_EQ && null)) {
            sb_wbuf_cstr(&st->sql, " IS NULL");
            continue;
        }
        if (op == SB_DB_NOT_NULL || (op == SB_DB_NE && null)) {
            sb_wbuf_cstr(&st->sql, " IS NOT NULL");
            continue;
        }
        if (op > SB_DB_LIKE)
            return SB_EINVAL;
        sb_wbuf_cstr(&st->sql, ops[op]);
        if ((rc = put_param(d, st, &w[i].val)) != 0)
            return rc;
    }
    return 0;
}

int sb__db_build_select(const struct sb_db_driver *d, const struct sb_db_query *q,
                        struct sb__db_stmt *st)
{
    int rc;
    stmt_init(st);
    st->wants_rows = true;
    if (!q)
        return SB_EINVAL;
    sb_wbuf_cstr(&st->sql, "SELECT ");
    if (!q->cols || !q->n_cols)
        put_ch(st, '*');
    for (unsigned i = 0; q->cols && i < q->n_cols; i++) {
        if (i)
            put_ch(st, ',');
        if ((rc = put_ident(st, q->cols[i])) != 0)
            return rc;
    }
    sb_wbuf_cstr(&st->sql, " FROM ");
    if ((rc = put_ident(st, q->table)) != 0 || (rc = put_where(d, st, q->where, q->n_where)) != 0)
        return rc;
    if (q->order_by) {
        sb_wbuf_cstr(&st->sql, " ORDER BY ");
        if ((rc = put_ident(st, q->order_by)) != 0)
            return rc;
        if (q->order_desc)
            sb_wbuf_cstr(&st->sql, " DESC");
    }
    if (q->limit) {
        sb_wbuf_cstr(&st->sql, " LIMIT ");
        sb_wbuf_u64(&st->sql, q->limit);
    }
    return finish(st);
}

static int put_insert(const struct sb_db_driver *d, struct sb__db_stmt *st, const char *table,
                      const struct sb_db_kv *kv, unsigned n)
{
    int rc;
    if (!n || !kv)
        return SB_EINVAL;
    sb_wbuf_cstr(&st->sql, "INSERT INTO ");
    if ((rc = put_ident(st, table)) != 0)
        return rc;
    sb_wbuf_cstr(&st->sql, " (");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            put_ch(st, ',');
        if ((rc = put_ident(st, kv[i].col)) != 0)
            return rc;
    }
    sb_wbuf_cstr(&st->sql, ") VALUES (");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            put_ch(st, ',');
        if ((rc = put_param(d, st, &kv[i].val)) != 0)
            return rc;
    }
    put_ch(st, ')');
    return 0;
}

int sb__db_build_insert(const struct sb_db_driver *d, const char *table, const struct sb_db_kv *kv,
                        unsigned n, const char *id_col, struct sb__db_stmt *st)
{
    int rc;
    stmt_init(st);
    if ((rc = put_insert(d, st, table, kv, n)) != 0)
        return rc;
    if (id_col) {
        /* both SQLite (3.35+) and PostgreSQL understand RETURNING */
        sb_wbuf_cstr(&st->sql, " RETURNING ");
        if ((rc = put_ident(st, id_col)) != 0)
            return rc;
        st->returns_id = st->wants_rows = true;
    }
    return finish(st);
}

int sb__db_build_update(const struct sb_db_driver *d, const char *table,
                        const struct sb_db_cond *where, unsigned n_where,
                        const struct sb_db_kv *set, unsigned n_set, struct sb__db_stmt *st)
{
    int rc;
    stmt_init(st);
    if (!n_set || !set)
        return SB_EINVAL;
    sb_wbuf_cstr(&st->sql, "UPDATE ");
    if ((rc = put_ident(st, table)) != 0)
        return rc;
    sb_wbuf_cstr(&st->sql, " SET ");
    for (unsigned i = 0; i < n_set; i++) {
        if (i)
            put_ch(st, ',');
        if ((rc = put_ident(st, set[i].col)) != 0)
            return rc;
        put_ch(st, '=');
        if ((rc = put_param(d, st, &set[i].val)) != 0)
            return rc;
    }
    if ((rc = put_where(d, st, where, n_where)) != 0)
        return rc;
    return finish(st);
}

int sb__db_build_delete(const struct sb_db_driver *d, const char *table,
                        const struct sb_db_cond *where, unsigned n_where, struct sb__db_stmt *st)
{
    int rc;
    stmt_init(st);
    sb_wbuf_cstr(&st->sql, "DELETE FROM ");
    if ((rc = put_ident(st, table)) != 0 || (rc = put_where(d, st, where, n_where)) != 0)
        return rc;
    return finish(st);
}

static bool is_key(const char *col, const char *const *keys, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (strcasecmp(col, keys[i]) == 0)
            return true;
    return false;
}

int sb__db_build_replace(const struct sb_db_driver *d, const char *table, const struct sb_db_kv *kv,
                         unsigned n, const char *const *key_cols, unsigned n_keys,
                         struct sb__db_stmt *st)
{
    int rc;
    stmt_init(st);
    if (!n_keys || !key_cols)
        return SB_EINVAL;
    if ((rc = put_insert(d, st, table, kv, n)) != 0)
        return rc;
    /* the same upsert syntax works in SQLite (3.24+) and PostgreSQL (9.5+) */
    sb_wbuf_cstr(&st->sql, " ON CONFLICT (");
    for (unsigned i = 0; i < n_keys; i++) {
        if (i)
            put_ch(st, ',');
        if ((rc = put_ident(st, key_cols[i])) != 0)
            return rc;
    }
    sb_wbuf_cstr(&st->sql, ") DO ");
    unsigned n_upd = 0;
    for (unsigned i = 0; i < n; i++) {
        if (is_key(kv[i].col, key_cols, n_keys))
            continue;
        sb_wbuf_cstr(&st->sql, n_upd++ ? "," : "UPDATE SET ");
        put_ident(st, kv[i].col);
        sb_wbuf_cstr(&st->sql, "=excluded.");
        put_ident(st, kv[i].col);
    }
    if (!n_upd)
        sb_wbuf_cstr(&st->sql, "NOTHING");
    return finish(st);
}

int sb__db_build_raw(const struct sb_db_driver *d, const char *sql, const struct sb_db_val *params,
                     unsigned n_params, bool wants_rows, struct sb__db_stmt *st)
{
    stmt_init(st);
    if (!sql || (n_params && !params))
        return SB_EINVAL;
    if (n_params > SB_DB_MAX_PARAMS)
        return SB_ELIMIT;
    st->wants_rows = wants_rows;
    st->is_script = !n_params && !wants_rows;
    unsigned seen = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '?') {
            if (seen >= n_params)
                return SB_EINVAL;
            seen++;
            if (d->numbered_params) {
                put_ch(st, '$');
                sb_wbuf_u64(&st->sql, seen);
                continue;
            }
        }
        put_ch(st, *p);
    }
    if (seen != n_params)
        return SB_EINVAL;
    for (unsigned i = 0; i < n_params; i++) {
        if (params[i].type > SB_DB_DATETIME)
            return SB_EINVAL;
        st->params[i] = params[i];
    }
    st->n_params = n_params;
    return finish(st);
}

/* ---- running --------------------------------------------------------------------------------- */

int sb__db_run(struct sb_db *db, const struct sb__db_stmt *st, struct sb_db_res **res)
{
    struct sb__db_call c = {st->sql.p, st->params, st->n_params, st->is_script, st->returns_id};
    return sb__db_exec(db, &c, res);
}

int sb__db_exec(struct sb_db *db, const struct sb__db_call *st, struct sb_db_res **res)
{
    struct sb_db_res *r = NULL;
    db->err[0] = 0;
    if (!st->is_script) {
        r = sb__db_res_new();
        if (!r) {
            snprintf(db->err, sizeof db->err, "out of memory");
            return SB_ENOMEM;
        }
    }
    int rc = db->drv->exec(db->conn, st->sql, st->params, st->n_params, r, db->err, sizeof db->err);
    if (rc == 0 && st->returns_id && (!r || r->n_rows != 1 || r->n_cols < 1)) {
        snprintf(db->err, sizeof db->err, "insert returned no id");
        rc = SB_EPARSE;
    }
    if (rc != 0) {
        if (!db->err[0])
            snprintf(db->err, sizeof db->err, "database error %d", rc);
        sb_db_res_free(r);
        return rc;
    }
    if (res)
        *res = r;
    else
        sb_db_res_free(r);
    return 0;
}

static int fail_build(struct sb_db *db, int rc)
{
    snprintf(db->err, sizeof db->err, "%s",
             rc == SB_ELIMIT ? "statement too long or too many values"
                             : "invalid statement: bad identifier, operator or parameter count");
    return rc;
}

/* The handle's statement buffer, allocated on first use. */
static struct sb__db_stmt *stmt_buf(struct sb_db *db)
{
    if (!db->st && !(db->st = malloc(sizeof *db->st)))
        snprintf(db->err, sizeof db->err, "out of memory");
    return db->st;
}

#define RUN(build_call, resp)                                                                      \
    do {                                                                                           \
        struct sb__db_stmt *st = stmt_buf(db);                                                     \
        if (!st)                                                                                   \
            return SB_ENOMEM;                                                                      \
        int rc_ = (build_call);                                                                    \
        return rc_ ? fail_build(db, rc_) : sb__db_run(db, st, (resp));                             \
    } while (0)

int sb_db_select(struct sb_db *db, const struct sb_db_query *q, struct sb_db_res **out)
{
    *out = NULL;
    RUN(sb__db_build_select(db->drv, q, st), out);
}

int sb_db_insert(struct sb_db *db, const char *table, const struct sb_db_kv *kv, unsigned n)
{
    RUN(sb__db_build_insert(db->drv, table, kv, n, NULL, st), NULL);
}

int sb_db_insert_id(struct sb_db *db, const char *table, const struct sb_db_kv *kv, unsigned n,
                    const char *id_col, int64_t *id)
{
    struct sb_db_res *r = NULL;
    if (!id_col)
        return SB_EINVAL;
    int rc;
    struct sb__db_stmt *st = stmt_buf(db);
    if (!st)
        return SB_ENOMEM;
    rc = sb__db_build_insert(db->drv, table, kv, n, id_col, st);
    rc = rc ? fail_build(db, rc) : sb__db_run(db, st, &r);
    if (rc == 0) {
        *id = sb_db_val_int(sb_db_res_at(r, 0, 0), -1);
        sb_db_res_free(r);
    }
    return rc;
}

static int run_count(struct sb_db *db, struct sb__db_stmt *st, int build_rc, uint64_t *affected)
{
    struct sb_db_res *r = NULL;
    int rc = build_rc ? fail_build(db, build_rc) : sb__db_run(db, st, &r);
    if (rc == 0 && affected)
        *affected = r ? r->affected : 0;
    sb_db_res_free(r);
    return rc;
}

int sb_db_update(struct sb_db *db, const char *table, const struct sb_db_cond *where,
                 unsigned n_where, const struct sb_db_kv *set, unsigned n_set, uint64_t *affected)
{
    struct sb__db_stmt *st = stmt_buf(db);
    if (!st)
        return SB_ENOMEM;
    return run_count(db, st, sb__db_build_update(db->drv, table, where, n_where, set, n_set, st),
                     affected);
}

int sb_db_delete(struct sb_db *db, const char *table, const struct sb_db_cond *where,
                 unsigned n_where, uint64_t *affected)
{
    struct sb__db_stmt *st = stmt_buf(db);
    if (!st)
        return SB_ENOMEM;
    return run_count(db, st, sb__db_build_delete(db->drv, table, where, n_where, st), affected);
}

int sb_db_replace(struct sb_db *db, const char *table, const struct sb_db_kv *kv, unsigned n,
                  const char *const *key_cols, unsigned n_keys)
{
    RUN(sb__db_build_replace(db->drv, table, kv, n, key_cols, n_keys, st), NULL);
}

int sb_db_raw(struct sb_db *db, const char *sql, const struct sb_db_val *params, unsigned n_params,
              struct sb_db_res **out)
{
    if (out)
        *out = NULL;
    RUN(sb__db_build_raw(db->drv, sql, params, n_params, out != NULL, st), out);
}

int sb_db_begin(struct sb_db *db)
{
    return sb_db_raw(db, "BEGIN", NULL, 0, NULL);
}

int sb_db_commit(struct sb_db *db)
{
    return sb_db_raw(db, "COMMIT", NULL, 0, NULL);
}

int sb_db_rollback(struct sb_db *db)
{
    return sb_db_raw(db, "ROLLBACK", NULL, 0, NULL);
}

/* ---- versions -------------------------------------------------------------------------------- */

int sb_db_table_version(struct sb_db *db, const char *table, int *version)
{
    static const char *const cols[] = {"table_version"};
    struct sb_db_cond w = {"table_name", SB_DB_EQ, SB_DB_VCSTR(table)};
    struct sb_db_query q = {
        .table = "version", .cols = cols, .n_cols = 1, .where = &w, .n_where = 1};
    struct sb_db_res *r;
    int rc = sb_db_select(db, &q, &r);
    if (rc == SB_EPARSE) {
        /* most likely no version table at all: the schema was never created */
        snprintf(db->err, sizeof db->err, "no table 'version' (run sbctl db init)");
        return SB_ENOENT;
    }
    if (rc != 0)
        return rc;
    if (r->n_rows == 0) {
        sb_db_res_free(r);
        snprintf(db->err, sizeof db->err, "table '%s' is not listed in table 'version'", table);
        return SB_ENOENT;
    }
    *version = (int)sb_db_val_int(sb_db_res_at(r, 0, 0), -1);
    sb_db_res_free(r);
    return 0;
}

int sb_db_check_version(struct sb_db *db, const char *table, int version)
{
    int have = -1;
    int rc = sb_db_table_version(db, table, &have);
    if (rc == SB_ENOENT) {
        SB_ERR("db: table '%s' (version %d) not found: %s; create the schema with "
               "'sbctl db init URL'",
               table, version, db->err);
        return rc;
    }
    if (rc != 0) {
        SB_ERR("db: cannot read the version of table '%s': %s", table, db->err);
        return rc;
    }
    if (have != version) {
        snprintf(db->err, sizeof db->err, "table '%s' has version %d, expected %d", table, have,
                 version);
        SB_ERR("db: %s; %s", db->err,
               have < version ? "upgrade it with 'sbctl db migrate URL'"
                              : "this build is older than the database schema");
        return SB_EVERSION;
    }
    return 0;
}
