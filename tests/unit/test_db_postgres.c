/* SPDX-License-Identifier: BSD-2-Clause */
/* The database layer over the PostgreSQL driver, against a real server that the test starts in a
 * temporary directory (initdb + pg_ctl as the postgres user, loopback, a free port) and stops at
 * the end. Skipped when PostgreSQL cannot start here. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/db.h"
#include "sb/log.h"
#include "sb/loop.h"

#define PG_BIN "/usr/lib/postgresql/15/bin"

static char dir[64];
static char url[160];
static int port;
static bool started;
static char skip_reason[512];

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    if (sb_db_register_linked() != 0)
        return -1;
    if (access(PG_BIN "/initdb", X_OK) != 0 || !getpwnam("postgres")) {
        snprintf(skip_reason, sizeof skip_reason, "PostgreSQL 15 is not installed");
        return 0;
    }
    snprintf(dir, sizeof dir, "/tmp/sb-pgtest-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    port = free_port();
    const char *as = getuid() == 0 ? "runuser -u postgres --" : "";
    if (getuid() == 0)
        sh("chown postgres:postgres %s", dir);
    if (sh("%s " PG_BIN "/initdb -D %s/data -A trust -U postgres --no-sync -E UTF8 "
           "--locale=C.UTF-8 >%s/initdb.log 2>&1",
           as, dir, dir) != 0) {
        snprintf(skip_reason, sizeof skip_reason, "initdb failed (see %s/initdb.log)", dir);
        return 0;
    }
    if (sh("%s " PG_BIN "/pg_ctl -D %s/data -l %s/pg.log -w -t 30 -o \"-c "
           "listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c "
           "full_page_writes=off\" start >/dev/null 2>&1",
           as, dir, dir, port, dir) != 0) {
        snprintf(skip_reason, sizeof skip_reason, "pg_ctl start failed (see %s/pg.log)", dir);
        return 0;
    }
    started = true;
    snprintf(url, sizeof url, "postgres://postgres@127.0.0.1:%d/postgres", port);
    struct sb_db *db;
    char err[256];
    if (sb_db_open(url, &db, err, sizeof err) != 0) {
        snprintf(skip_reason, sizeof skip_reason, "cannot connect: %s", err);
        return 0;
    }
    int rc = sb_db_raw(db,
                       "CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version "
                       "INTEGER DEFAULT 0 NOT NULL, CONSTRAINT v_idx UNIQUE (table_name));"
                       "INSERT INTO version VALUES ('t', 3);"
                       "CREATE TABLE t (id SERIAL PRIMARY KEY, name VARCHAR(64) NOT NULL,"
                       " n INTEGER, big BIGINT, d DOUBLE PRECISION, b BYTEA, ts TIMESTAMP,"
                       " note TEXT, CONSTRAINT t_name UNIQUE (name));",
                       NULL, 0, NULL);
    if (rc != 0)
        fprintf(stderr, "schema: %s\n", sb_db_errmsg(db));
    sb_db_close(db);
    return rc;
}

static void stop_server(void)
{
    if (!started)
        return;
    const char *as = getuid() == 0 ? "runuser -u postgres --" : "";
    sh("%s " PG_BIN "/pg_ctl -D %s/data -m fast -w -t 30 stop >/dev/null 2>&1", as, dir);
    started = false;
}

static int teardown(void **state)
{
    (void)state;
    stop_server();
    if (dir[0])
        sh("rm -rf %s", dir);
    return 0;
}

#define NEED_SERVER()                                                                              \
    do {                                                                                           \
        if (skip_reason[0]) {                                                                      \
            fprintf(stderr, "# %s\n", skip_reason);                                                \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static struct sb_db *open_db(void)
{
    struct sb_db *db = NULL;
    char err[256] = "";
    if (sb_db_open(url, &db, err, sizeof err) != 0)
        fail_msg("open %s: %s", url, err);
    assert_string_equal(sb_db_driver_name(db), "postgres");
    return db;
}

static void test_crud_types(void **state)
{
    (void)state;
    NEED_SERVER();
    struct sb_db *db = open_db();
    static const char blob[] = {'a', 0, 'b', (char)0xff};
    struct sb_db_kv kv[] = {
        {"name", SB_DB_VCSTR("alice")},
        {"n", SB_DB_VINT(-7)},
        {"big", SB_DB_VBIGINT(5000000000LL)},
        {"d", SB_DB_VDOUBLE(0.5)},
        {"b", SB_DB_VBLOB(blob, 4)},
        {"ts", SB_DB_VTIME(1700000000)},
        {"note", SB_DB_VNULL},
    };
    int64_t id = 0;
    assert_int_equal(sb_db_insert_id(db, "t", kv, 7, "id", &id), 0);
    assert_int_equal(id, 1);
    struct sb_db_kv kv2[] = {{"name", SB_DB_VCSTR("bob")}, {"n", SB_DB_VINT(3)}};
    assert_int_equal(sb_db_insert(db, "t", kv2, 2), 0);

    static const char *const cols[] = {"name", "n", "big", "d", "b", "ts", "note"};
    struct sb_db_query q = {.table = "t", .cols = cols, .n_cols = 7, .order_by = "name"};
    struct sb_db_res *r;
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_rows, 2);
    assert_string_equal(sb_db_res_at(r, 0, 0)->v.s.p, "alice");
    assert_int_equal(sb_db_res_at(r, 0, 1)->type, SB_DB_INT);
    assert_int_equal(sb_db_res_at(r, 0, 1)->v.i, -7);
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
    assert_true(sb_db_val_is_null(sb_db_res_at(r, 1, 5)));
    sb_db_res_free(r);

    /* update, where operators, replace, raw with '?' renumbered, delete */
    struct sb_db_cond w[] = {{"n", SB_DB_LT, SB_DB_VINT(0)}, {"note", SB_DB_IS_NULL}};
    struct sb_db_kv set[] = {{"note", SB_DB_VCSTR("negative")}};
    uint64_t aff = 0;
    assert_int_equal(sb_db_update(db, "t", w, 2, set, 1, &aff), 0);
    assert_int_equal(aff, 1);
    const char *const key[] = {"name"};
    struct sb_db_kv rep[] = {{"name", SB_DB_VCSTR("bob")}, {"n", SB_DB_VINT(99)}};
    assert_int_equal(sb_db_replace(db, "t", rep, 2, key, 1), 0);
    assert_int_equal(sb_db_raw(db,
                               "SELECT n, note, '?' AS q FROM t WHERE name = ? OR name = ? "
                               "ORDER BY name",
                               (struct sb_db_val[]){SB_DB_VCSTR("bob"), SB_DB_VCSTR("alice")}, 2,
                               &r),
                     0);
    assert_int_equal(r->n_rows, 2);
    assert_string_equal(sb_db_res_at(r, 0, 1)->v.s.p, "negative");
    assert_int_equal(sb_db_res_at(r, 1, 0)->v.i, 99);
    assert_string_equal(sb_db_res_at(r, 1, 2)->v.s.p, "?");
    sb_db_res_free(r);
    struct sb_db_cond wd = {"name", SB_DB_EQ, SB_DB_VCSTR("bob")};
    assert_int_equal(sb_db_delete(db, "t", &wd, 1, &aff), 0);
    assert_int_equal(aff, 1);

    /* errors: duplicate key and unknown table are rejections, not retryable */
    int rc = sb_db_insert(db, "t", kv, 7);
    assert_int_equal(rc, SB_EPARSE);
    assert_non_null(strstr(sb_db_errmsg(db), "duplicate key"));
    struct sb_db_query bad = {.table = "nope"};
    assert_int_equal(sb_db_select(db, &bad, &r), SB_EPARSE);
    sb_db_close(db);
}

static void test_versions(void **state)
{
    (void)state;
    NEED_SERVER();
    struct sb_db *db = open_db();
    assert_int_equal(sb_db_check_version(db, "t", 3), 0);
    int lvl = sb_log_level;
    sb_log_level = SB_LOG_ALERT - 1;
    assert_int_equal(sb_db_check_version(db, "t", 2), SB_EVERSION);
    assert_int_equal(sb_db_check_version(db, "subscriber", 8), SB_ENOENT);
    sb_log_level = lvl;
    sb_db_close(db);
}

struct acall {
    int n_done, rc;
    struct sb_db_res *kept;
};

static void on_done(struct sb_db_done *d, void *arg)
{
    struct acall *a = arg;
    a->rc = d->rc;
    if (d->res) {
        a->kept = d->res;
        d->res = NULL;
    }
    a->n_done++;
}

static void test_async(void **state)
{
    (void)state;
    NEED_SERVER();
    struct sb_loop *l = sb_loop_new();
    struct sb_db_pool *p;
    char err[256];
    assert_int_equal(sb_db_pool_new(url, 2, &p, err, sizeof err), 0);
    struct acall a = {0};
    struct sb_db_kv kv[] = {{"name", SB_DB_VCSTR("async")}, {"n", SB_DB_VINT(11)}};
    assert_int_equal(sb_db_async_insert(p, "t", kv, 2, l, on_done, &a), 0);
    for (int i = 0; i < 500 && a.n_done < 1; i++)
        sb_loop_run_once(l, 20);
    assert_int_equal(a.n_done, 1);
    assert_int_equal(a.rc, 0);
    struct sb_db_cond w = {"name", SB_DB_EQ, SB_DB_VCSTR("async")};
    static const char *const cols[] = {"n"};
    struct sb_db_query q = {.table = "t", .cols = cols, .n_cols = 1, .where = &w, .n_where = 1};
    assert_int_equal(sb_db_async_select(p, &q, l, on_done, &a), 0);
    for (int i = 0; i < 500 && a.n_done < 2; i++)
        sb_loop_run_once(l, 20);
    assert_int_equal(a.n_done, 2);
    assert_non_null(a.kept);
    assert_int_equal(sb_db_res_at(a.kept, 0, 0)->v.i, 11);
    sb_db_res_free(a.kept);
    sb_db_pool_free(p);
    sb_loop_free(l);
}

/* Last: the server goes away under an open connection; the error is retryable. */
static void test_connection_lost(void **state)
{
    (void)state;
    NEED_SERVER();
    struct sb_db *db = open_db();
    stop_server();
    struct sb_db_query q = {.table = "t"};
    struct sb_db_res *r;
    int rc = sb_db_select(db, &q, &r);
    assert_int_equal(rc, SB_EAGAIN);
    assert_true(sb_db_err_is_retryable(rc));
    rc = sb_db_select(db, &q, &r); /* reconnect attempt fails the same way */
    assert_int_equal(rc, SB_EAGAIN);
    sb_db_close(db);
    char err[256];
    assert_int_equal(sb_db_open(url, &db, err, sizeof err), SB_EAGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crud_types),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_connection_lost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
