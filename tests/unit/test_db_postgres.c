/* SPDX-License-Identifier: BSD-2-Clause */
/* The database layer over the PostgreSQL driver, against a real server that the test starts in a
 * temporary directory (initdb + pg_ctl as the postgres user, loopback, a free port) and stops at
 * the end. Skipped when PostgreSQL cannot start here. The driver's prepared-statement cache is
 * checked against the server's own view of the session (pg_prepared_statements). */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/db.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/mod.h"

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

/* ---- prepared-statement cache ---------------------------------------------------------------- */

/* modparam("db_postgres", "stmt_cache_size", n), through the script loader's own path; it applies
 * to connections opened afterwards. */
static void set_cache_size(int n)
{
    struct sb_modset ms;
    struct sb_diag d;
    sb_modset_init(&ms);
    sb_diag_init(&d);
    assert_int_equal(sb_modset_load(&ms, SB_STR("db_postgres"), &d, "test.cfg", 1, 1), 0);
    struct sb_val v = {.type = SB_VAL_INT, .i = n};
    assert_int_equal(sb_modset_param(&ms, SB_STR("db_postgres"), SB_STR("stmt_cache_size"), &v, &d,
                                     "test.cfg", 2, 1),
                     0);
    sb_diag_free(&d);
}

static void make_table(struct sb_db *db, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "DROP TABLE IF EXISTS %s; CREATE TABLE %s (k VARCHAR(32) PRIMARY KEY, v INTEGER NOT "
             "NULL, ts TIMESTAMP)",
             name, name);
    if (sb_db_raw(db, sql, NULL, 0, NULL) != 0)
        fail_msg("%s: %s", sql, sb_db_errmsg(db));
}

/* What the server holds for this session: the prepared statements whose text contains <needle>
 * (all of them when NULL). *runs (may be NULL) gets the executions of the last match, *name its
 * name. A statement without parameters, so the driver does not keep it itself. */
static unsigned server_prepared(struct sb_db *db, const char *needle, int64_t *runs, char *name,
                                size_t namelen)
{
    struct sb_db_res *r = NULL;
    int rc = sb_db_raw(db,
                       "SELECT name, statement, generic_plans + custom_plans AS runs FROM "
                       "pg_prepared_statements ORDER BY name",
                       NULL, 0, &r);
    if (rc != 0)
        fail_msg("pg_prepared_statements: %s", sb_db_errmsg(db));
    unsigned n = 0;
    for (unsigned i = 0; i < r->n_rows; i++) {
        if (needle && !strstr(sb_db_res_at(r, i, 1)->v.s.p, needle))
            continue;
        n++;
        if (runs)
            *runs = sb_db_val_int(sb_db_res_at(r, i, 2), -1);
        if (name)
            snprintf(name, namelen, "%s", sb_db_res_at(r, i, 0)->v.s.p);
    }
    sb_db_res_free(r);
    return n;
}

static int64_t get_v(struct sb_db *db, const char *table, const char *k, unsigned *n_rows)
{
    static const char *const cols[] = {"v"};
    struct sb_db_cond w = {"k", SB_DB_EQ, SB_DB_VCSTR(k)};
    struct sb_db_query q = {.table = table, .cols = cols, .n_cols = 1, .where = &w, .n_where = 1};
    struct sb_db_res *r = NULL;
    int rc = sb_db_select(db, &q, &r);
    if (rc != 0)
        fail_msg("select %s: %s", k, sb_db_errmsg(db));
    *n_rows = r->n_rows;
    int64_t v = r->n_rows ? sb_db_val_int(sb_db_res_at(r, 0, 0), -1) : -1;
    sb_db_res_free(r);
    return v;
}

/* How many times the server's log mentions <needle>. */
static unsigned server_log_count(const char *needle)
{
    char path[128], line[1024];
    snprintf(path, sizeof path, "%s/pg.log", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static int backend_pid(struct sb_db *db)
{
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_raw(db, "SELECT pg_backend_pid()", NULL, 0, &r), 0);
    int pid = (int)sb_db_val_int(sb_db_res_at(r, 0, 0), -1);
    sb_db_res_free(r);
    assert_true(pid > 0);
    return pid;
}

/* The same statements many times over: every run gets its own values and rows, and the server
 * prepared each text once for the connection and ran it every time. */
static void test_cache_reuse(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(32);
    struct sb_db *db = open_db();
    make_table(db, "c_reuse");
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "key%03d", i);
        struct sb_db_kv kv[] = {
            {"k", SB_DB_VCSTR(key)}, {"v", SB_DB_VINT(i * 7)}, {"ts", SB_DB_VTIME(1700000000 + i)}};
        assert_int_equal(sb_db_insert(db, "c_reuse", kv, 3), 0);
    }
    for (int i = 99; i >= 0; i--) {
        unsigned n;
        snprintf(key, sizeof key, "key%03d", i);
        assert_int_equal(get_v(db, "c_reuse", key, &n), i * 7);
        assert_int_equal(n, 1);
    }
    unsigned n;
    assert_int_equal(get_v(db, "c_reuse", "absent", &n), -1);
    assert_int_equal(n, 0);
    struct sb_db_cond w = {"v", SB_DB_GE, SB_DB_VINT(350)};
    struct sb_db_kv set = {"v", SB_DB_VINT(1)};
    uint64_t affected = 0;
    assert_int_equal(sb_db_update(db, "c_reuse", &w, 1, &set, 1, &affected), 0);
    assert_int_equal(affected, 50);
    w.val = SB_DB_VINT(694);
    assert_int_equal(sb_db_update(db, "c_reuse", &w, 1, &set, 1, &affected), 0);
    assert_int_equal(affected, 0);
    assert_int_equal(get_v(db, "c_reuse", "key099", &n), 1);
    /* DATETIME and a duplicate key through a kept statement: rejected, kept, and fine again */
    static const char *const tcols[] = {"ts"};
    struct sb_db_cond wk = {"k", SB_DB_EQ, SB_DB_VCSTR("key010")};
    struct sb_db_query q = {
        .table = "c_reuse", .cols = tcols, .n_cols = 1, .where = &wk, .n_where = 1};
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(sb_db_res_at(r, 0, 0)->type, SB_DB_DATETIME);
    assert_int_equal(sb_db_res_at(r, 0, 0)->v.t, 1700000010);
    sb_db_res_free(r);
    struct sb_db_kv dup[] = {
        {"k", SB_DB_VCSTR("key000")}, {"v", SB_DB_VINT(0)}, {"ts", SB_DB_VNULL}};
    assert_int_equal(sb_db_insert(db, "c_reuse", dup, 3), SB_EPARSE);
    assert_non_null(strstr(sb_db_errmsg(db), "duplicate key"));
    dup[0].val = SB_DB_VCSTR("key100");
    assert_int_equal(sb_db_insert(db, "c_reuse", dup, 3), 0);

    int64_t runs = 0;
    char name[64] = "";
    assert_int_equal(server_prepared(db, "INSERT INTO c_reuse", &runs, name, sizeof name), 1);
    assert_int_equal(runs, 102);
    assert_int_equal(strncmp(name, "sb_s", 4), 0);
    assert_int_equal(server_prepared(db, "UPDATE c_reuse", &runs, NULL, 0), 1);
    assert_int_equal(runs, 2);
    assert_int_equal(server_prepared(db, "SELECT v FROM c_reuse", &runs, NULL, 0), 1);
    assert_int_equal(runs, 102);
    assert_int_equal(server_prepared(db, "SELECT ts FROM c_reuse", &runs, NULL, 0), 1);
    assert_int_equal(runs, 1);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 4);
    sb_db_close(db);
}

/* One of three distinct statements, told apart by the constant they add. */
static void run_add(struct sb_db *db, int k, int x)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT ?::integer + %d AS v", k);
    struct sb_db_val p = SB_DB_VINT(x);
    struct sb_db_res *r = NULL;
    if (sb_db_raw(db, sql, &p, 1, &r) != 0)
        fail_msg("%s: %s", sql, sb_db_errmsg(db));
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 0), -1), x + k);
    sb_db_res_free(r);
}

static bool has_add(struct sb_db *db, int k)
{
    char needle[32];
    snprintf(needle, sizeof needle, "+ %d AS v", k);
    return server_prepared(db, needle, NULL, NULL, 0) == 1;
}

/* A cache of two and three statements: the least recently used one is released on the server. */
static void test_cache_eviction(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(2);
    struct sb_db *db = open_db();
    run_add(db, 100, 1);
    run_add(db, 200, 2);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 2);
    run_add(db, 300, 3); /* evicts +100 */
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 2);
    assert_false(has_add(db, 100));
    assert_true(has_add(db, 200));
    assert_true(has_add(db, 300));
    run_add(db, 200, 4); /* +300 is now the least recently used */
    run_add(db, 100, 5); /* evicts +300 */
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 2);
    assert_true(has_add(db, 100));
    assert_true(has_add(db, 200));
    assert_false(has_add(db, 300));
    for (int i = 0; i < 20; i++)
        run_add(db, 100 * (1 + i % 3), i);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 2);
    sb_db_close(db);
    set_cache_size(32);
}

/* stmt_cache_size 0: nothing is prepared under a name, the answers are the same. */
static void test_cache_off(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(0);
    struct sb_db *db = open_db();
    for (int i = 0; i < 20; i++)
        run_add(db, 100 + i % 2, i);
    make_table(db, "c_off");
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("a")}, {"v", SB_DB_VINT(5)}};
    assert_int_equal(sb_db_insert(db, "c_off", kv, 2), 0);
    unsigned n;
    assert_int_equal(get_v(db, "c_off", "a", &n), 5);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 0);
    sb_db_close(db);
    set_cache_size(32);
}

/* A negative size turns the cache off; one above 1024 keeps 1024. */
static void test_cache_limits(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(-5);
    struct sb_db *db = open_db();
    for (int i = 0; i < 5; i++)
        run_add(db, 100, i);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 0);
    sb_db_close(db);
    set_cache_size(5000);
    db = open_db();
    for (int k = 0; k < 1030; k++)
        run_add(db, k, k);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 1024);
    assert_false(has_add(db, 5)); /* the oldest ones went */
    assert_true(has_add(db, 1029));
    sb_db_close(db);
    set_cache_size(32);
}

/* The session is killed under a connection with kept statements: the next call is a retryable
 * failure as for any lost connection, the one after runs on a new session, prepared there anew. */
static void test_cache_reset(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(32);
    struct sb_db *db = open_db(), *other = open_db();
    make_table(db, "c_reset");
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("a")}, {"v", SB_DB_VINT(41)}};
    assert_int_equal(sb_db_insert(db, "c_reset", kv, 2), 0);
    unsigned n;
    for (int i = 0; i < 3; i++)
        assert_int_equal(get_v(db, "c_reset", "a", &n), 41);
    int64_t runs = 0;
    assert_int_equal(server_prepared(db, "FROM c_reset", &runs, NULL, 0), 1);
    assert_int_equal(runs, 3);
    int pid = backend_pid(db);

    struct sb_db_val p = SB_DB_VINT(pid);
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_raw(other, "SELECT pg_terminate_backend(?)", &p, 1, &r), 0);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 0), -1), 1); /* boolean true */
    sb_db_res_free(r);
    int64_t alive = 1;
    for (int i = 0; i < 500 && alive; i++) {
        assert_int_equal(
            sb_db_raw(other, "SELECT count(*) FROM pg_stat_activity WHERE pid = ?", &p, 1, &r), 0);
        alive = sb_db_val_int(sb_db_res_at(r, 0, 0), -1);
        sb_db_res_free(r);
        if (alive)
            usleep(10000);
    }
    assert_int_equal(alive, 0);

    static const char *const cols[] = {"v"};
    struct sb_db_cond w = {"k", SB_DB_EQ, SB_DB_VCSTR("a")};
    struct sb_db_query q = {
        .table = "c_reset", .cols = cols, .n_cols = 1, .where = &w, .n_where = 1};
    unsigned n_missing = server_log_count("does not exist");
    int rc = sb_db_select(db, &q, &r);
    assert_int_equal(rc, SB_EAGAIN);
    assert_true(sb_db_err_is_retryable(rc));
    assert_int_equal(sb_db_select(db, &q, &r), 0); /* reconnected */
    /* the reset emptied the cache: the new session was not asked for the old names */
    assert_int_equal(server_log_count("does not exist"), n_missing);
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 0), -1), 41);
    sb_db_res_free(r);
    assert_int_not_equal(backend_pid(db), pid);
    assert_int_equal(server_prepared(db, "FROM c_reset", &runs, NULL, 0), 1);
    assert_int_equal(runs, 1);
    assert_int_equal(get_v(db, "c_reset", "a", &n), 41);
    kv[1].val = SB_DB_VINT(42);
    kv[0].val = SB_DB_VCSTR("b");
    assert_int_equal(sb_db_insert(db, "c_reset", kv, 2), 0);
    assert_int_equal(get_v(db, "c_reset", "b", &n), 42);
    assert_int_equal(server_prepared(db, "FROM c_reset", &runs, NULL, 0), 1);
    assert_int_equal(runs, 3);
    sb_db_close(other);
    sb_db_close(db);
}

/* The session's prepared statements vanish behind the driver's back (DEALLOCATE ALL, as a pooler
 * or a script may send): the next run prepares again and succeeds. Inside a transaction block the
 * server has already aborted the transaction: a retryable failure, and fine after the rollback. */
static void test_cache_deallocated(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(32);
    struct sb_db *db = open_db();
    make_table(db, "c_dealloc");
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("a")}, {"v", SB_DB_VINT(7)}};
    assert_int_equal(sb_db_insert(db, "c_dealloc", kv, 2), 0);
    unsigned n;
    assert_int_equal(get_v(db, "c_dealloc", "a", &n), 7);
    assert_int_equal(server_prepared(db, "c_dealloc", NULL, NULL, 0), 2);

    assert_int_equal(sb_db_raw(db, "DEALLOCATE ALL", NULL, 0, NULL), 0);
    assert_int_equal(server_prepared(db, NULL, NULL, NULL, 0), 0);
    assert_int_equal(get_v(db, "c_dealloc", "a", &n), 7);
    assert_int_equal(n, 1);
    kv[0].val = SB_DB_VCSTR("b");
    assert_int_equal(sb_db_insert(db, "c_dealloc", kv, 2), 0);
    assert_int_equal(get_v(db, "c_dealloc", "b", &n), 7);
    int64_t runs = 0;
    assert_int_equal(server_prepared(db, "SELECT v FROM c_dealloc", &runs, NULL, 0), 1);
    assert_int_equal(runs, 2);

    assert_int_equal(sb_db_begin(db), 0);
    assert_int_equal(sb_db_raw(db, "DEALLOCATE ALL", NULL, 0, NULL), 0);
    kv[0].val = SB_DB_VCSTR("c");
    int rc = sb_db_insert(db, "c_dealloc", kv, 2);
    assert_int_equal(rc, SB_EAGAIN);
    assert_non_null(strstr(sb_db_errmsg(db), "does not exist"));
    assert_int_equal(sb_db_rollback(db), 0);
    assert_int_equal(sb_db_begin(db), 0);
    assert_int_equal(sb_db_insert(db, "c_dealloc", kv, 2), 0);
    assert_int_equal(sb_db_commit(db), 0);
    assert_int_equal(get_v(db, "c_dealloc", "c", &n), 7);
    assert_int_equal(server_prepared(db, "INSERT INTO c_dealloc", &runs, NULL, 0), 1);
    assert_int_equal(runs, 1);
    sb_db_close(db);
}

/* Another connection adds a column under a kept "SELECT *": the server refuses the old plan's
 * result type, the driver prepares the text again and the new column comes back. */
static void test_cache_schema_change(void **state)
{
    (void)state;
    NEED_SERVER();
    set_cache_size(32);
    struct sb_db *db = open_db(), *other = open_db();
    make_table(db, "c_schema");
    struct sb_db_kv kv[] = {{"k", SB_DB_VCSTR("a")}, {"v", SB_DB_VINT(3)}};
    assert_int_equal(sb_db_insert(db, "c_schema", kv, 2), 0);
    struct sb_db_cond w = {"k", SB_DB_EQ, SB_DB_VCSTR("a")};
    struct sb_db_query q = {.table = "c_schema", .where = &w, .n_where = 1};
    struct sb_db_res *r = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sb_db_select(db, &q, &r), 0);
        assert_int_equal(r->n_cols, 3);
        sb_db_res_free(r);
    }
    assert_int_equal(
        sb_db_raw(other, "ALTER TABLE c_schema ADD COLUMN extra INTEGER DEFAULT 9", NULL, 0, NULL),
        0);
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_cols, 4);
    assert_string_equal(r->cols[3], "extra");
    assert_int_equal(r->n_rows, 1);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 3), -1), 9);
    sb_db_res_free(r);
    assert_int_equal(server_prepared(db, "SELECT * FROM c_schema", NULL, NULL, 0), 1);

    /* inside a transaction block: retryable, and right after the rollback */
    assert_int_equal(sb_db_raw(other, "ALTER TABLE c_schema DROP COLUMN extra", NULL, 0, NULL), 0);
    assert_int_equal(sb_db_begin(db), 0);
    assert_int_equal(sb_db_select(db, &q, &r), SB_EAGAIN);
    assert_int_equal(sb_db_rollback(db), 0);
    assert_int_equal(sb_db_select(db, &q, &r), 0);
    assert_int_equal(r->n_cols, 3);
    assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 1), -1), 3);
    sb_db_res_free(r);
    int64_t runs = 0;
    assert_int_equal(server_prepared(db, "SELECT * FROM c_schema", &runs, NULL, 0), 1);
    assert_int_equal(runs, 1);
    sb_db_close(other);
    sb_db_close(db);
}

/* ---- measurement (SB_PG_BENCH=1) ---------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of process <pid> so far. */
static double cpu_of(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st),
                     2);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

#define BENCH_N 10000

/* One round of the registrar's statements against a location-like table: insert a binding,
 * refresh it, look the AOR up; BENCH_N times each. */
static void bench_round(int cache)
{
    set_cache_size(cache);
    struct sb_db *db = open_db();
    assert_int_equal(sb_db_raw(db, "TRUNCATE bench_location", NULL, 0, NULL), 0);
    int pid = backend_pid(db);
    double t0 = now_s(), srv0 = cpu_of(pid), cli0 = cpu_of(getpid());
    double t_ins = 0, t_upd = 0, t_sel = 0;
    char user[32], contact[96], callid[64];
    for (int i = 0; i < BENCH_N; i++) {
        snprintf(user, sizeof user, "user%05d", i);
        snprintf(contact, sizeof contact, "sip:%s@192.0.2.%d:5060;transport=udp", user, i % 250);
        snprintf(callid, sizeof callid, "%08x-%04x@198.51.100.7", (unsigned)i * 2654435761u, i);
        struct sb_db_kv kv[] = {
            {"username", SB_DB_VCSTR(user)},
            {"domain", SB_DB_VCSTR("example.com")},
            {"contact", SB_DB_VCSTR(contact)},
            {"received", SB_DB_VNULL},
            {"path", SB_DB_VNULL},
            {"expires", SB_DB_VBIGINT(1700003600 + i)},
            {"q", SB_DB_VDOUBLE(-1.0)},
            {"callid", SB_DB_VCSTR(callid)},
            {"cseq", SB_DB_VINT(1)},
            {"last_modified", SB_DB_VTIME(1700000000 + i)},
            {"flags", SB_DB_VINT(0)},
            {"cflags", SB_DB_VCSTR("0")},
            {"user_agent", SB_DB_VCSTR("Switchboard-bench/1.0")},
            {"socket", SB_DB_VCSTR("udp:127.0.0.1:5060")},
            {"methods", SB_DB_VINT(-1)},
            {"sip_instance", SB_DB_VNULL},
            {"kv_store", SB_DB_VNULL},
            {"attr", SB_DB_VNULL},
        };
        double a = now_s();
        assert_int_equal(sb_db_insert(db, "bench_location", kv, 18), 0);
        double b = now_s();
        struct sb_db_cond w[] = {{"username", SB_DB_EQ, SB_DB_VCSTR(user)},
                                 {"domain", SB_DB_EQ, SB_DB_VCSTR("example.com")},
                                 {"contact", SB_DB_EQ, SB_DB_VCSTR(contact)}};
        struct sb_db_kv set[] = {{"expires", SB_DB_VBIGINT(1700007200 + i)},
                                 {"cseq", SB_DB_VINT(2)},
                                 {"last_modified", SB_DB_VTIME(1700003600 + i)}};
        uint64_t aff = 0;
        assert_int_equal(sb_db_update(db, "bench_location", w, 3, set, 3, &aff), 0);
        assert_int_equal(aff, 1);
        double c = now_s();
        static const char *const cols[] = {"contact", "expires", "q",      "callid",  "cseq",
                                           "flags",   "cflags",  "socket", "methods", "path"};
        struct sb_db_query q = {
            .table = "bench_location", .cols = cols, .n_cols = 10, .where = w, .n_where = 2};
        struct sb_db_res *r = NULL;
        assert_int_equal(sb_db_select(db, &q, &r), 0);
        assert_int_equal(r->n_rows, 1);
        assert_int_equal(sb_db_val_int(sb_db_res_at(r, 0, 1), 0), 1700007200 + i);
        sb_db_res_free(r);
        double d = now_s();
        t_ins += b - a;
        t_upd += c - b;
        t_sel += d - c;
    }
    double wall = now_s() - t0, srv = cpu_of(pid) - srv0, cli = cpu_of(getpid()) - cli0;
    fprintf(stderr,
            "# stmt_cache_size %4d: %d x (insert+update+select) in %.2f s wall; per statement "
            "%.1f/%.1f/%.1f us; server backend CPU %.2f s (%.1f us/statement), client CPU %.2f s; "
            "prepared %u\n",
            cache, BENCH_N, wall, t_ins / BENCH_N * 1e6, t_upd / BENCH_N * 1e6,
            t_sel / BENCH_N * 1e6, srv, srv / (3.0 * BENCH_N) * 1e6, cli,
            server_prepared(db, NULL, NULL, NULL, 0));
    sb_db_close(db);
}

static void test_cache_bench(void **state)
{
    (void)state;
    NEED_SERVER();
    if (!getenv("SB_PG_BENCH"))
        skip();
    struct sb_db *db = open_db();
    assert_int_equal(
        sb_db_raw(db,
                  "DROP TABLE IF EXISTS bench_location; CREATE TABLE bench_location ("
                  "contact_id BIGSERIAL PRIMARY KEY NOT NULL, username VARCHAR(64) DEFAULT '' NOT "
                  "NULL, domain VARCHAR(64) DEFAULT NULL, contact TEXT NOT NULL, received "
                  "VARCHAR(255) DEFAULT NULL, path VARCHAR(255) DEFAULT NULL, expires INTEGER NOT "
                  "NULL, q REAL DEFAULT 1.0 NOT NULL, callid VARCHAR(255) DEFAULT "
                  "'Default-Call-ID' NOT NULL, cseq INTEGER DEFAULT 13 NOT NULL, last_modified "
                  "TIMESTAMP WITHOUT TIME ZONE DEFAULT '1900-01-01 00:00:01' NOT NULL, flags "
                  "INTEGER DEFAULT 0 NOT NULL, cflags VARCHAR(255) DEFAULT NULL, user_agent "
                  "VARCHAR(255) DEFAULT '' NOT NULL, socket VARCHAR(64) DEFAULT NULL, methods "
                  "INTEGER DEFAULT NULL, sip_instance VARCHAR(255) DEFAULT NULL, kv_store TEXT "
                  "DEFAULT NULL, attr VARCHAR(255) DEFAULT NULL);"
                  "CREATE INDEX bench_location_account_idx ON bench_location (username, domain)",
                  NULL, 0, NULL),
        0);
    sb_db_close(db);
    int rounds = atoi(getenv("SB_PG_BENCH")) > 1 ? atoi(getenv("SB_PG_BENCH")) : 1;
    for (int i = 0; i < rounds; i++) {
        bench_round(0);
        bench_round(32);
    }
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
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_cache_off),
        cmocka_unit_test(test_cache_limits),
        cmocka_unit_test(test_cache_reset),
        cmocka_unit_test(test_cache_deallocated),
        cmocka_unit_test(test_cache_schema_change),
        cmocka_unit_test(test_cache_bench),
        cmocka_unit_test(test_connection_lost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
