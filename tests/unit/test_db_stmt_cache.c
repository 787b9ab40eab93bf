/* SPDX-License-Identifier: BSD-2-Clause */
/* The SQLite driver's prepared-statement cache seen through the database API: reused statements
 * get fresh values every time, follow schema changes, release their read snapshot, recover from
 * errors, and more distinct statements than the cache holds still run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/db.h"

static char dir[64];
static char url[128];

static struct sb_db *open_db(void)
{
    struct sb_db *db = NULL;
    char err[256];
    assert_int_equal(sb_db_open(url, &db, err, sizeof err), 0);
    return db;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sb-dbsc-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(url, sizeof url, "sqlite://%s/c.db", dir);
    struct sb_db *db;
    char err[256];
    if (sb_db_open(url, &db, err, sizeof err) != 0)
        return -1;
    int rc = sb_db_raw(db,
                       "CREATE TABLE kv (k CHAR(32) NOT NULL, v INTEGER, ts DATETIME,"
                       " CONSTRAINT kv_k UNIQUE (k));",
                       NULL, 0, NULL);
    sb_db_close(db);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t get_v(struct sb_db *db, const char *k, unsigned *n_rows)
{
    static const char *const cols[] = {"v"};
    struct sb_db_cond w = {"k", SB_DB_EQ, SB_DB_VCSTR(k)};
    struct sb_db_query q = {.table = "kv", .cols = cols, .n_cols = 1, .where = &w, .n_where = 1};
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    *n_rows = r->n_rows;
    int64_t v = r->n_rows ? sb_db_val_int(sb_db_res_at(r, 0, 0), -1) : -1;
    sb_db_res_free(r);
    return v;
}

/* The same statement texts many times over: every call binds its own values. */
static void test_reuse_binds_fresh_values(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "key%03d", i);
        struct sb_db_kv kv[] = {
            {"k", SB_DB_VCSTR(key)}, {"v", SB_DB_VINT(i * 7)}, {"ts", SB_DB_VTIME(1700000000 + i)}};
        assert_int_equal(sb_db_insert(db, "kv", kv, 3), 0);
    }
    for (int i = 199; i >= 0; i--) {
        unsigned n;
        snprintf(key, sizeof key, "key%03d", i);
        assert_int_equal(get_v(db, key, &n), i * 7);
        assert_int_equal(n, 1);
    }
    unsigned n;
    assert_int_equal(get_v(db, "absent", &n), -1);
    assert_int_equal(n, 0);
    /* an update through the cached text, then the count it reports */
    struct sb_db_cond w = {"v", SB_DB_GE, SB_DB_VINT(700)};
    struct sb_db_kv set = {"v", SB_DB_VINT(1)};
    uint64_t affected = 0;
    assert_int_equal(sb_db_update(db, "kv", &w, 1, &set, 1, &affected), 0);
    assert_int_equal(affected, 100);
    w.val = SB_DB_VINT(1393);
    assert_int_equal(sb_db_update(db, "kv", &w, 1, &set, 1, &affected), 0);
    assert_int_equal(affected, 0);
    /* DATETIME columns come back as times from a reused statement too */
    static const char *const tcols[] = {"ts"};
    struct sb_db_cond wk = {"k", SB_DB_EQ, SB_DB_VCSTR("key010")};
    struct sb_db_query q = {.table = "kv", .cols = tcols, .n_cols = 1, .where = &wk, .n_where = 1};
    for (int rep = 0; rep < 3; rep++) {
        struct sb_db_res *r = NULL;
        assert_int_equal(sb_db_select(db, &q, &r), 0);
        assert_int_equal(r->n_rows, 1);
        assert_int_equal(sb_db_res_at(r, 0, 0)->type, SB_DB_DATETIME);
        assert_int_equal(sb_db_val_time(sb_db_res_at(r, 0, 0), 0), 1700000010);
        sb_db_res_free(r);
    }
    sb_db_close(db);
}

/* A cached "SELECT *" after the table was dropped and created again with other columns and
 * types, by this connection and by another one. */
static void test_schema_change(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("a")}, {"v", SB_DB_VINT(5)}, {"ts", SB_DB_VTIME(0)}};
    assert_int_equal(sb_db_insert(db, "kv", kv, 3), 0);
    struct sb_db_query q = {.table = "kv"};
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_cols, 3);
    assert_int_equal(sb_db_res_at(r, 0, 2)->type, SB_DB_DATETIME);
    sb_db_res_free(r);

    assert_int_equal(sb_db_raw(db,
                               "DROP TABLE kv; CREATE TABLE kv (k CHAR(32), v BIGINT, ts TEXT,"
                               " extra INTEGER); INSERT INTO kv VALUES ('b', 6, "
                               "'1970-01-01 00:00:00', 9)",
                               NULL, 0, NULL),
                     0);
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_cols, 4);
    assert_int_equal(r->n_rows, 1);
    assert_string_equal(r->cols[3], "extra");
    assert_int_equal(sb_db_res_at(r, 0, 1)->type, SB_DB_BIGINT); /* v is BIGINT now */
    assert_int_equal(sb_db_res_at(r, 0, 2)->type, SB_DB_STR);    /* ts is TEXT now */
    assert_string_equal(sb_db_res_at(r, 0, 2)->v.s.p, "1970-01-01 00:00:00");
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 3), 0), 9);
    sb_db_res_free(r);

    struct sb_db *other = open_db();
    assert_int_equal(
        sb_db_raw(other, "DROP TABLE kv; CREATE TABLE kv (k TEXT, ts DATETIME)", NULL, 0, NULL), 0);
    struct sb_db_val p[] = {SB_DB_VCSTR("c"), SB_DB_VTIME(86400)};
    assert_int_equal(sb_db_raw(other, "INSERT INTO kv VALUES (?, ?)", p, 2, NULL), 0);
    sb_db_close(other);
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_cols, 2);
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(sb_db_res_at(r, 0, 1)->type, SB_DB_DATETIME);
    assert_int_equal(sb_db_val_time(sb_db_res_at(r, 0, 1), 0), 86400);
    sb_db_res_free(r);
    sb_db_close(db);
}

/* A statement kept for reuse must not keep its read transaction: another connection can then
 * checkpoint the whole WAL. */
static void test_no_snapshot_held(void **state)
{
    (void)state;
    struct sb_db *reader = open_db(), *writer = open_db();
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("x")}, {"v", SB_DB_VINT(1)}};
    assert_int_equal(sb_db_insert(writer, "kv", kv, 2), 0);
    unsigned n;
    for (int i = 0; i < 3; i++)
        assert_int_equal(get_v(reader, "x", &n), 1);
    /* a select that stops on its first row (LIMIT) is the one that would stay open */
    struct sb_db_query q = {.table = "kv", .limit = 1};
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_select(reader, &q, &r), 0);
    sb_db_res_free(r);
    struct sb_db_kv kv2[] = {{"k", SB_DB_VCSTR("y")}, {"v", SB_DB_VINT(2)}};
    assert_int_equal(sb_db_insert(writer, "kv", kv2, 2), 0);
    assert_int_equal(sb_db_raw(writer, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, 0, &r), 0);
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 0), -1), 0); /* busy */
    sb_db_res_free(r);
    /* and the reader sees the new row */
    assert_int_equal(get_v(reader, "y", &n), 2);
    sb_db_close(reader);
    sb_db_close(writer);
}

/* A cached statement that fails (constraint) reports its own message and works again after;
 * cached BEGIN/ROLLBACK really roll back. */
static void test_errors_and_transactions(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("dup")}, {"v", SB_DB_VINT(1)}};
    assert_int_equal(sb_db_insert(db, "kv", kv, 2), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sb_db_insert(db, "kv", kv, 2), SB_EPARSE);
        assert_non_null(strstr(sb_db_errmsg(db), "UNIQUE"));
    }
    kv[0].val = SB_DB_VCSTR("fine");
    assert_int_equal(sb_db_insert(db, "kv", kv, 2), 0);
    assert_string_equal(sb_db_errmsg(db), "");

    for (int rep = 0; rep < 3; rep++) {
        assert_int_equal(sb_db_begin(db), 0);
        kv[0].val = SB_DB_VCSTR("gone");
        assert_int_equal(sb_db_insert(db, "kv", kv, 2), 0);
        unsigned n;
        assert_int_equal(get_v(db, "gone", &n), 1);
        assert_int_equal(sb_db_rollback(db), 0);
        assert_int_equal(get_v(db, "gone", &n), -1);
        assert_int_equal(n, 0);
    }
    assert_int_equal(sb_db_begin(db), 0);
    kv[0].val = SB_DB_VCSTR("kept");
    assert_int_equal(sb_db_insert(db, "kv", kv, 2), 0);
    assert_int_equal(sb_db_commit(db), 0);
    unsigned n;
    assert_int_equal(get_v(db, "kept", &n), 1);
    /* a statement SQLite rejects is not kept: the same text fails the same way again */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sb_db_raw(db, "SELECT nope FROM kv", NULL, 0, NULL), SB_EPARSE);
        assert_non_null(strstr(sb_db_errmsg(db), "nope"));
    }
    sb_db_close(db);
}

/* Many more distinct statements than the cache keeps (evictions), each run twice in a row and
 * again after the others: the answers stay right. */
static void test_many_statements(void **state)
{
    (void)state;
    struct sb_db *db = open_db();
    char sql[128];
    for (int i = 0; i < 100; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO kv (k, v) VALUES (?, %d)", i);
        char key[16];
        snprintf(key, sizeof key, "m%d", i);
        struct sb_db_val p = SB_DB_VCSTR(key);
        assert_int_equal(sb_db_raw(db, sql, &p, 1, NULL), 0);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 100; i++) {
            snprintf(sql, sizeof sql, "SELECT v + %d FROM kv WHERE k = ?", i);
            char key[16];
            snprintf(key, sizeof key, "m%d", i);
            struct sb_db_val p = SB_DB_VCSTR(key);
            for (int twice = 0; twice < 2; twice++) {
                struct sb_db_res *r = NULL;
                assert_int_equal(sb_db_raw(db, sql, &p, 1, &r), 0);
                assert_int_equal(r->n_rows, 1);
                assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 0), -1), 2 * i);
                sb_db_res_free(r);
            }
        }
    sb_db_close(db);
}

int main(void)
{
    if (sb_db_register_linked() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reuse_binds_fresh_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_snapshot_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_statements, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
