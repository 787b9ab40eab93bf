/* SPDX-License-Identifier: BSD-2-Clause */
/* The database layer over the SQLite driver: every operation on a temporary file, typed values,
 * NULLs, errors, table versions and the asynchronous pool through a real event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/db.h"
#include "sb/log.h"
#include "sb/loop.h"

static char dir[64];
static char url[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sb-dbtest-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(url, sizeof url, "sqlite://%s/t.db", dir);
    if (sb_db_register_linked() != 0)
        return -1;
    struct sb_db *db;
    char err[256];
    if (sb_db_open(url, &db, err, sizeof err) != 0)
        return -1;
    int rc =
        sb_db_raw(db,
                  "CREATE TABLE version (table_name CHAR(32) NOT NULL, table_version INTEGER "
                  "DEFAULT 0 NOT NULL, CONSTRAINT v_idx UNIQUE (table_name));"
                  "INSERT INTO version VALUES ('t', 3);"
                  "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name CHAR(64) NOT NULL,"
                  " n INTEGER, big BIGINT, d REAL, b BLOB, ts DATETIME, note TEXT,"
                  " CONSTRAINT t_name UNIQUE (name));",
                  NULL, 0, NULL);
    sb_db_close(db);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    const char *files[] = {"t.db", "t.db-wal", "t.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static struct sb_db *open_db(void)
{
    struct sb_db *db = NULL;
    char err[256] = "";
    int rc = sb_db_open(url, &db, err, sizeof err);
    if (rc != 0)
        fail_msg("open %s: %s", url, err);
    assert_string_equal(sb_db_driver_name(db), "sqlite");
    return db;
}

static void test_url_errors(void **state)
{
    (void)state;
    struct sb_db *db = (struct sb_db *)1;
    char err[256];
    assert_int_equal(sb_db_open("postgres://u:hunter2@127.0.0.1:1/x", &db, err, sizeof err) == 0,
                     false);
    assert_non_null(strstr(err, "cannot connect"));
    assert_null(strstr(err, "hunter2"));
    assert_int_equal(sb_db_open("mysql://u:pw@h/db", &db, err, sizeof err), SB_ENOENT);
    assert_null(db);
    assert_string_equal(err, "db_url mysql://u:***@h/db needs loadmodule \"db_mysql.so\"");
    assert_int_equal(sb_db_open("nothing", &db, err, sizeof err), SB_EINVAL);
    assert_int_equal(sb_db_open("sqlite:///nonexistent-dir/x/y.db", &db, err, sizeof err),
                     SB_EAGAIN);
    assert_non_null(strstr(err, "nonexistent-dir"));
}

static void insert_row(struct sb_db *db, const char *name, int n, int64_t big, double d,
                       const void *b, size_t blen, time_t ts)
{
    struct sb_db_kv kv[] = {
        {"name", SB_DB_VCSTR(name)}, {"n", SB_DB_VINT(n)},        {"big", SB_DB_VBIGINT(big)},
        {"d", SB_DB_VDOUBLE(d)},     {"b", SB_DB_VBLOB(b, blen)}, {"ts", SB_DB_VTIME(ts)},
        {"note", SB_DB_VNULL},
    };
    assert_int_equal(sb_db_insert(db, "t", kv, 7), 0);
}

static void test_crud_types(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    assert_int_equal(sb_db_delete(db, "t", NULL, 0, NULL), 0);
    static const char blob[] = {'a', 0, 'b', (char)0xff};
    insert_row(db, "alice", 7, 5000000000LL, 0.5, blob, sizeof blob, 1700000000);
    insert_row(db, "bob", -3, 1, 1.25, "", 0, 86400);
    int64_t id = 0;
    struct sb_db_kv kv[] = {{"name", SB_DB_VCSTR("carol")}, {"n", SB_DB_VINT(42)}};
    assert_int_equal(sb_db_insert_id(db, "t", kv, 2, "id", &id), 0);
    assert_int_equal(id, 3);

    static const char *const cols[] = {"name", "n", "big", "d", "b", "ts", "note"};
    struct sb_db_query q = {.table = "t", .cols = cols, .n_cols = 7, .order_by = "name"};
    struct sb_db_res *r;
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(r->n_cols, 7);
    assert_string_equal(r->cols[2], "big");
    assert_int_equal(sb_db_res_col(r, "TS"), 5);
    assert_int_equal(sb_db_res_col(r, "nope"), -1);
    /* alice */
    assert_int_equal(sb_db_res_at(r, 0, 0)->type, SB_DB_STR);
    assert_string_equal(sb_db_res_at(r, 0, 0)->v.s.p, "alice");
    assert_int_equal(sb_db_res_at(r, 0, 1)->type, SB_DB_INT);
    assert_int_equal(sb_db_res_at(r, 0, 1)->v.i, 7);
    assert_int_equal(sb_db_res_at(r, 0, 2)->type, SB_DB_BIGINT);
    assert_int_equal(sb_db_res_at(r, 0, 2)->v.bi, 5000000000LL);
    assert_int_equal(sb_db_res_at(r, 0, 3)->type, SB_DB_DOUBLE);
    assert_true(sb_db_res_at(r, 0, 3)->v.d == 0.5);
    assert_int_equal(sb_db_res_at(r, 0, 4)->type, SB_DB_BLOB);
    assert_int_equal(sb_db_res_at(r, 0, 4)->v.s.len, 4);
    assert_memory_equal(sb_db_res_at(r, 0, 4)->v.s.p, blob, 4);
    assert_int_equal(sb_db_res_at(r, 0, 5)->type, SB_DB_DATETIME);
    assert_int_equal(sb_db_res_at(r, 0, 5)->v.t, 1700000000);
    assert_true(sb_db_val_is_null(sb_db_res_at(r, 0, 6)));
    /* bob: negative int, empty blob */
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 1, 1), 0), -3);
    assert_int_equal(sb_db_res_at(r, 1, 4)->v.s.len, 0);
    assert_int_equal(sb_db_val_time(sb_db_res_at(r, 1, 5), 0), 86400);
    /* carol: columns not given are NULL */
    assert_true(sb_db_val_is_null(sb_db_res_at(r, 2, 2)));
    assert_true(sb_db_val_is_null(sb_db_res_at(r, 2, 5)));
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 2, 2), -9), -9);
    sb_db_res_free(r);

    /* the datetime is stored as UTC text, readable by other tools */
    assert_int_equal(sb_db_raw(db, "SELECT ts FROM t WHERE name = ?", &SB_DB_VCSTR("alice"), 1, &r),
                     0);
    assert_int_equal(r->n_rows, 1);
    sb_db_res_free(r);
    assert_int_equal(
        sb_db_raw(db, "SELECT CAST(ts AS TEXT) AS s FROM t WHERE name = 'alice'", NULL, 0, &r), 0);
    assert_string_equal(sb_db_res_at(r, 0, 0)->v.s.p, "2023-11-14 22:13:20");
    sb_db_res_free(r);

    /* update with where, affected count */
    struct sb_db_cond w[] = {{"n", SB_DB_GT, SB_DB_VINT(0)}};
    struct sb_db_kv set[] = {{"note", SB_DB_VCSTR("positive")}};
    uint64_t aff = 0;
    assert_int_equal(sb_db_update(db, "t", w, 1, set, 1, &aff), 0);
    assert_int_equal(aff, 2);
    struct sb_db_cond isnull[] = {{"note", SB_DB_EQ, SB_DB_VNULL}};
    static const char *const name_col[] = {"name"};
    struct sb_db_query q2 = {
        .table = "t", .cols = name_col, .n_cols = 1, .where = isnull, .n_where = 1};
    assert_int_equal(sb_db_select(db, &q2, &r), 0);
    assert_int_equal(r->n_rows, 1);
    assert_string_equal(sb_db_res_at(r, 0, 0)->v.s.p, "bob");
    sb_db_res_free(r);

    /* operators, order desc, limit */
    struct sb_db_cond w3[] = {{"name", SB_DB_LIKE, SB_DB_VCSTR("%o%")},
                              {"n", SB_DB_NE, SB_DB_VINT(100)}};
    struct sb_db_query q3 = {.table = "t",
                             .cols = name_col,
                             .n_cols = 1,
                             .where = w3,
                             .n_where = 2,
                             .order_by = "name",
                             .order_desc = true,
                             .limit = 1};
    assert_int_equal(sb_db_select(db, &q3, &r), 0);
    assert_int_equal(r->n_rows, 1);
    assert_string_equal(sb_db_res_at(r, 0, 0)->v.s.p, "carol");
    sb_db_res_free(r);

    /* replace: update on conflict, insert otherwise */
    const char *const key[] = {"name"};
    struct sb_db_kv up[] = {{"name", SB_DB_VCSTR("bob")}, {"n", SB_DB_VINT(99)}};
    assert_int_equal(sb_db_replace(db, "t", up, 2, key, 1), 0);
    struct sb_db_kv up2[] = {{"name", SB_DB_VCSTR("dave")}, {"n", SB_DB_VINT(1)}};
    assert_int_equal(sb_db_replace(db, "t", up2, 2, key, 1), 0);
    assert_int_equal(
        sb_db_raw(db, "SELECT n, big FROM t WHERE name = ?", &SB_DB_VCSTR("bob"), 1, &r), 0);
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(sb_db_res_at(r, 0, 0)->v.i, 99);
    assert_int_equal(sb_db_res_at(r, 0, 1)->v.bi, 1); /* untouched column kept */
    sb_db_res_free(r);

    /* delete with a where clause */
    struct sb_db_cond wd[] = {{"n", SB_DB_LE, SB_DB_VINT(1)}};
    assert_int_equal(sb_db_delete(db, "t", wd, 1, &aff), 0);
    assert_int_equal(aff, 1); /* dave */
    struct sb_db_query all = {.table = "t"};
    assert_int_equal(sb_db_select(db, &all, &r), 0);
    assert_int_equal(r->n_rows, 3);
    assert_int_equal(r->n_cols, 8);
    sb_db_res_free(r);
    sb_db_close(db);
}

static void test_errors(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    struct sb_db_res *r = (struct sb_db_res *)1;
    struct sb_db_query q = {.table = "no_such_table"};
    assert_int_equal(sb_db_select(db, &q, &r), SB_EPARSE);
    assert_null(r);
    assert_non_null(strstr(sb_db_errmsg(db), "no_such_table"));
    /* a duplicate key is a rejected statement, not a retryable one */
    struct sb_db_kv kv[] = {{"name", SB_DB_VCSTR("dup")}};
    assert_int_equal(sb_db_insert(db, "t", kv, 1), 0);
    int rc = sb_db_insert(db, "t", kv, 1);
    assert_int_equal(rc, SB_EPARSE);
    assert_false(sb_db_err_is_retryable(rc));
    assert_non_null(strstr(sb_db_errmsg(db), "UNIQUE"));
    /* identifiers are checked: no SQL through column names */
    struct sb_db_kv bad[] = {{"name; DROP TABLE t", SB_DB_VCSTR("x")}};
    assert_int_equal(sb_db_insert(db, "t", bad, 1), SB_EINVAL);
    /* parameter count must match the placeholders; quoted '?' is not one */
    assert_int_equal(sb_db_raw(db, "SELECT ?", NULL, 0, &r), SB_EINVAL);
    assert_int_equal(sb_db_raw(db, "SELECT '?', ?", &SB_DB_VINT(5), 1, &r), 0);
    assert_string_equal(sb_db_res_at(r, 0, 0)->v.s.p, "?");
    assert_int_equal(sb_db_res_at(r, 0, 1)->v.i, 5);
    sb_db_res_free(r);
    /* a statement with a string holding a quote goes through binding intact */
    struct sb_db_kv q2[] = {{"name", SB_DB_VCSTR("o'brien \"x\"")}};
    assert_int_equal(sb_db_insert(db, "t", q2, 1), 0);
    struct sb_db_cond w = {"name", SB_DB_EQ, SB_DB_VCSTR("o'brien \"x\"")};
    struct sb_db_query qq = {.table = "t", .where = &w, .n_where = 1};
    assert_int_equal(sb_db_select(db, &qq, &r), 0);
    assert_int_equal(r->n_rows, 1);
    sb_db_res_free(r);
    /* transactions */
    assert_int_equal(sb_db_begin(db), 0);
    struct sb_db_kv kv3[] = {{"name", SB_DB_VCSTR("rolled-back")}};
    assert_int_equal(sb_db_insert(db, "t", kv3, 1), 0);
    assert_int_equal(sb_db_rollback(db), 0);
    struct sb_db_cond w3 = {"name", SB_DB_EQ, SB_DB_VCSTR("rolled-back")};
    struct sb_db_query q3 = {.table = "t", .where = &w3, .n_where = 1};
    assert_int_equal(sb_db_select(db, &q3, &r), 0);
    assert_int_equal(r->n_rows, 0);
    assert_int_equal(r->n_cols, 8); /* columns known even without rows */
    sb_db_res_free(r);
    sb_db_close(db);
}

static void test_versions(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    int v = 0;
    assert_int_equal(sb_db_table_version(db, "t", &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(sb_db_check_version(db, "t", 3), 0);
    int lvl = sb_log_level;
    sb_log_level = SB_LOG_ALERT - 1; /* the failures below log errors on purpose */
    assert_int_equal(sb_db_check_version(db, "t", 4), SB_EVERSION);
    assert_string_equal(sb_db_errmsg(db), "table 't' has version 3, expected 4");
    assert_int_equal(sb_db_check_version(db, "location", 1013), SB_ENOENT);
    sb_log_level = lvl;
    sb_db_close(db);

    /* a database without a version table at all */
    char u2[160];
    snprintf(u2, sizeof u2, "sqlite://%s/empty.db", dir);
    char err[128];
    assert_int_equal(sb_db_open(u2, &db, err, sizeof err), 0);
    assert_int_equal(sb_db_table_version(db, "t", &v), SB_ENOENT);
    sb_db_close(db);
    snprintf(u2, sizeof u2, "%s/empty.db", dir);
    unlink(u2);
    snprintf(u2, sizeof u2, "%s/empty.db-wal", dir);
    unlink(u2);
    snprintf(u2, sizeof u2, "%s/empty.db-shm", dir);
    unlink(u2);
}

static void test_time_text(void **state)
{
    (void)state;
    time_t t;
    char buf[20];
    sb_db_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01 00:00:00");
    assert_int_equal(sb_db_time_parse("2023-11-14 22:13:20", 19, &t), 0);
    assert_int_equal(t, 1700000000);
    assert_int_equal(sb_db_time_parse("2023-11-14T22:13:20.123+00", 26, &t), 0);
    assert_int_equal(t, 1700000000);
    assert_int_equal(sb_db_time_parse("2023-11-14", 10, &t), 0);
    assert_int_equal(t, 1699920000);
    assert_int_equal(sb_db_time_parse("2023-13-14 00:00:00", 19, &t), SB_EPARSE);
    assert_int_equal(sb_db_time_parse("yesterday", 9, &t), SB_EPARSE);
}

/* ---- async ------------------------------------------------------------------------------- */

struct acall {
    int n_done;
    int rc[8];
    int64_t id;
    uint64_t affected;
    struct sb_db_res *kept;
    pthread_t thread;
    bool wrong_thread;
};

static void on_done(struct sb_db_done *d, void *arg)
{
    struct acall *a = arg;
    if (!pthread_equal(pthread_self(), a->thread))
        a->wrong_thread = true;
    a->rc[a->n_done] = d->rc;
    if (d->rc != 0)
        assert_true(d->errmsg[0] != 0);
    if (d->id)
        a->id = d->id;
    if (d->affected)
        a->affected = d->affected;
    if (d->res && !a->kept) {
        a->kept = d->res;
        d->res = NULL;
    }
    a->n_done++;
}

static void run_until(struct sb_loop *l, struct acall *a, int n)
{
    for (int i = 0; i < 500 && a->n_done < n; i++)
        sb_loop_run_once(l, 20);
    assert_int_equal(a->n_done, n);
}

static void test_async(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    assert_non_null(l);
    struct sb_db_pool *p;
    char err[256];
    assert_int_equal(sb_db_pool_new(url, 2, &p, err, sizeof err), 0);
    struct acall a = {.thread = pthread_self()};

    /* values are copied at submission: the caller's buffers may change right after */
    char name[16] = "async-1";
    struct sb_db_kv kv[] = {{"name", SB_DB_VCSTR(name)}, {"n", SB_DB_VINT(1234)}};
    assert_int_equal(sb_db_async_insert_id(p, "t", kv, 2, "id", l, on_done, &a), 0);
    strcpy(name, "XXXXXXX");
    run_until(l, &a, 1);
    assert_int_equal(a.rc[0], 0);
    assert_true(a.id > 0);

    struct sb_db_cond w = {"name", SB_DB_EQ, SB_DB_VCSTR("async-1")};
    struct sb_db_kv set[] = {{"big", SB_DB_VBIGINT(77)}};
    assert_int_equal(sb_db_async_update(p, "t", &w, 1, set, 1, l, on_done, &a), 0);
    run_until(l, &a, 2);
    assert_int_equal(a.rc[1], 0);
    assert_int_equal(a.affected, 1);

    static const char *const cols[] = {"n", "big"};
    struct sb_db_query q = {.table = "t", .cols = cols, .n_cols = 2, .where = &w, .n_where = 1};
    assert_int_equal(sb_db_async_select(p, &q, l, on_done, &a), 0);
    run_until(l, &a, 3);
    assert_int_equal(a.rc[2], 0);
    assert_non_null(a.kept);
    assert_int_equal(a.kept->n_rows, 1);
    assert_int_equal(sb_db_res_at(a.kept, 0, 0)->v.i, 1234);
    assert_int_equal(sb_db_res_at(a.kept, 0, 1)->v.bi, 77);
    sb_db_res_free(a.kept);
    a.kept = NULL;

    const char *const key[] = {"name"};
    struct sb_db_kv rep[] = {{"name", SB_DB_VCSTR("async-1")}, {"n", SB_DB_VINT(5)}};
    assert_int_equal(sb_db_async_replace(p, "t", rep, 2, key, 1, l, on_done, &a), 0);
    run_until(l, &a, 4); /* two threads: operations that depend on each other wait in turn */
    assert_int_equal(a.rc[3], 0);
    assert_int_equal(sb_db_async_raw(p, "SELECT n FROM t WHERE name = ?", &SB_DB_VCSTR("async-1"),
                                     1, l, on_done, &a),
                     0);
    /* an error is reported through the callback too */
    struct sb_db_query bad = {.table = "missing_table"};
    assert_int_equal(sb_db_async_select(p, &bad, l, on_done, &a), 0);
    run_until(l, &a, 6);
    /* the two ran in parallel: either may finish first */
    assert_int_equal(a.rc[4] + a.rc[5], SB_EPARSE);
    assert_non_null(a.kept);
    assert_int_equal(sb_db_val_int(sb_db_res_at(a.kept, 0, 0), -1), 5);
    sb_db_res_free(a.kept);
    assert_int_equal(sb_db_async_delete(p, "t", &w, 1, l, on_done, &a), 0);
    run_until(l, &a, 7);
    assert_int_equal(a.rc[6], 0);
    assert_int_equal(a.affected, 1);
    assert_false(a.wrong_thread);
    assert_int_equal(sb_db_pool_pending(p), 0);

    /* a bad statement is refused at submission without a callback */
    struct sb_db_kv badkv[] = {{"1bad", SB_DB_VINT(1)}};
    assert_int_equal(sb_db_async_insert(p, "t", badkv, 1, l, on_done, &a), SB_EINVAL);
    sb_db_pool_free(p);
    assert_int_equal(a.n_done, 7);

    /* no driver for the scheme: the pool does not start */
    assert_int_equal(sb_db_pool_new("mysql://x/y", 1, &p, err, sizeof err), SB_ENOENT);
    sb_loop_free(l);
}

/* A pool freed with work queued still finishes it; posted completions whose loop is freed are
 * dropped without leaking. */
static void test_async_drain(void **state)
{
    (void)state;
    struct sb_loop *l = sb_loop_new();
    struct sb_db_pool *p;
    assert_int_equal(sb_db_pool_new(url, 1, &p, NULL, 0), 0);
    struct acall a = {.thread = pthread_self()};
    for (int i = 0; i < 5; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "drain-%d", i);
        struct sb_db_kv kv[] = {{"name", SB_DB_VCSTR(nm)}};
        assert_int_equal(sb_db_async_insert(p, "t", kv, 1, l, on_done, &a), 0);
    }
    sb_db_pool_free(p); /* waits for the five inserts */
    struct sb_db *db = open_db();
    struct sb_db_res *r;
    assert_int_equal(
        sb_db_raw(db, "SELECT count(*) AS c FROM t WHERE name LIKE 'drain-%'", NULL, 0, &r), 0);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 0), -1), 5);
    sb_db_res_free(r);
    sb_db_close(db);
    sb_loop_free(l); /* the five completions were never run: dropped */
    assert_int_equal(a.n_done, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_errors),  cmocka_unit_test(test_crud_types),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_versions),
        cmocka_unit_test(test_time_text),   cmocka_unit_test(test_async),
        cmocka_unit_test(test_async_drain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
