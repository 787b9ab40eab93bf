/* SPDX-License-Identifier: BSD-2-Clause */
/* usrloc: the location table through its C API (insert/update/delete, snapshots, walks,
 * events, statistics), the expiry sweep of the usrloc thread on a virtual clock, and the
 * database modes over SQLite: write-through, write-back, loading back after a restart, and an
 * outage during which registrations keep working from memory and drain afterwards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/db.h"
#include "sb/mod.h"
#include "sb/script.h"
#include "sb/stats.h"
#include "sb/usrloc.h"

static _Atomic int64_t vnow = 1700000000;

static int64_t vclock(void)
{
    return vnow;
}

static char dir[64];

#include "fixture_script.h"

static void start(const char *modparams)
{
    sfx_loadf("loadmodule \"db_sqlite.so\"\nloadmodule \"usrloc.so\"\n"
              "modparam(\"usrloc\", \"use_domain\", 1)\n%s\nroute { exit; }\n",
              modparams ? modparams : "");
    sfx_start();
}

static void stop(void)
{
    sfx_unload();
}

static int setup(void **state)
{
    (void)state;
    vnow = 1700000000;
    sb_ul_set_clock(vclock);
    snprintf(dir, sizeof(dir), "/tmp/sb-ul-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop();
    sb_ul_set_clock(NULL);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static struct sb_ul_domain *loc(void)
{
    struct sb_ul_domain *d = sb_ul_domain_find(SB_STR("location"));
    assert_non_null(d);
    return d;
}

static void add(const char *aor, const char *uri, int64_t expires, const char *callid)
{
    struct sb_ul_txn t;
    sb_ul_begin(loc(), sb_str_cstr(aor), &t);
    struct sb_ul_info ci = {.uri = sb_str_cstr(uri),
                            .callid = sb_str_cstr(callid),
                            .user_agent = SB_STR("ua/1"),
                            .path = SB_STR("<sip:edge.example.net;lr>"),
                            .expires = expires,
                            .cseq = 7,
                            .methods = 0x11,
                            .reg_id = 2,
                            .q = 500};
    assert_int_equal(sb_ul_insert(&t, &ci, NULL), 0);
    sb_ul_end(&t);
}

static unsigned count(const char *aor)
{
    struct sb_ul_txn t;
    sb_ul_begin(loc(), sb_str_cstr(aor), &t);
    unsigned n = sb_ul_count(&t);
    sb_ul_end(&t);
    return n;
}

/* ---- events -------------------------------------------------------------------------------- */

static int n_ev[4];
static char last_uri[128];

static void on_event(int ev, struct sb_ul_domain *d, sb_str aor, const struct sb_ul_contact *c)
{
    (void)d, (void)aor;
    /* the usrloc thread's sweep calls this while the test thread polls the counts */
    __atomic_fetch_add(&n_ev[ev], 1, __ATOMIC_RELEASE);
    snprintf(last_uri, sizeof(last_uri), "%.*s", SB_STR_ARG(c->uri));
}

/* ---- in memory ----------------------------------------------------------------------------- */

static int walk_count(sb_str aor, const struct sb_ul_contact *c, void *arg)
{
    (void)aor;
    unsigned *n = arg;
    for (; c; c = c->next)
        (*n)++;
    return 0;
}

static void test_api_and_events(void **state)
{
    (void)state;
    start(NULL);
    memset(n_ev, 0, sizeof(n_ev));
    sb_ul_set_event_hook(on_event);
    add("a@example.com", "sip:a@192.0.2.1", vnow + 100, "x");
    add("a@example.com", "sip:a@192.0.2.2", 0, "y"); /* permanent */
    add("b@example.com", "sip:b@192.0.2.3", vnow + 100, "z");
    assert_int_equal(n_ev[SB_UL_EV_INSERT], 3);
    assert_string_equal(last_uri, "sip:b@192.0.2.3");
    uint64_t na, nc;
    sb_ul_counts(loc(), &na, &nc);
    assert_int_equal(na, 2);
    assert_int_equal(nc, 3);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 2);
    assert_int_equal(sfx_stat("usrloc:location-contacts"), 3);

    /* update replaces every field */
    struct sb_ul_txn t;
    sb_ul_begin(loc(), SB_STR("a@example.com"), &t);
    struct sb_ul_contact *c = sb_ul_contacts(&t);
    assert_non_null(c);
    struct sb_ul_info ci = {.uri = SB_STR("sip:a@192.0.2.9"),
                            .callid = SB_STR("x"),
                            .expires = vnow + 50,
                            .cseq = 8,
                            .q = -1};
    struct sb_ul_contact *n;
    assert_int_equal(sb_ul_update(&t, c, &ci, &n), 0);
    assert_true(sb_str_eq(n->uri, SB_STR("sip:a@192.0.2.9")));
    assert_int_equal(n->cseq, 8);
    assert_int_equal(sb_ul_count(&t), 2);
    sb_ul_end(&t);
    assert_int_equal(n_ev[SB_UL_EV_UPDATE], 1);

    /* snapshot copies in insertion order; the permanent one is flagged */
    struct sb_arena a;
    sb_arena_init(&a, NULL, 0, 0);
    struct sb_ul_contact *list;
    unsigned k;
    assert_int_equal(sb_ul_snapshot(loc(), SB_STR("a@example.com"), &a, &list, &k), 0);
    assert_int_equal(k, 2);
    assert_true(sb_str_eq(list->uri, SB_STR("sip:a@192.0.2.9")));
    assert_true(sb_str_eq(list->next->uri, SB_STR("sip:a@192.0.2.2")));
    assert_true(list->next->flags & SB_UL_FL_PERMANENT);
    sb_arena_deinit(&a);

    unsigned total = 0;
    assert_int_equal(sb_ul_walk(loc(), walk_count, &total), 0);
    assert_int_equal(total, 3);

    /* remove one URI, then the whole AOR */
    assert_int_equal(sb_ul_remove(loc(), SB_STR("a@example.com"), SB_STR("sip:a@192.0.2.2")), 1);
    assert_int_equal(sb_ul_remove(loc(), SB_STR("a@example.com"), SB_STR("sip:nope")), 0);
    assert_int_equal(sb_ul_remove(loc(), SB_STR("b@example.com"), SB_STR_NULL), 1);
    assert_int_equal(n_ev[SB_UL_EV_DELETE], 2);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 1);
    assert_int_equal(count("a@example.com"), 1);

    /* expiry: lazily on read, and the permanent contact never expires */
    vnow += 50;
    assert_int_equal(count("a@example.com"), 0);
    assert_int_equal(n_ev[SB_UL_EV_DELETE], 3);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 0);
}

static void test_timer_sweep(void **state)
{
    (void)state;
    start("modparam(\"usrloc\", \"timer_interval\", 1)");
    memset(n_ev, 0, sizeof(n_ev));
    sb_ul_set_event_hook(on_event);
    for (int i = 0; i < 50; i++) {
        char aor[32], uri[48];
        snprintf(aor, sizeof(aor), "u%d@example.com", i);
        snprintf(uri, sizeof(uri), "sip:u%d@192.0.2.1", i);
        add(aor, uri, vnow + (i < 40 ? 10 : 1000), "c");
    }
    assert_int_equal(sfx_stat("usrloc:registered_users"), 50);
    vnow += 11;
    /* nobody reads: the usrloc thread's sweep removes them within a couple of seconds */
    for (int i = 0; i < 40 && (sfx_stat("usrloc:registered_users") != 10 ||
                               __atomic_load_n(&n_ev[SB_UL_EV_DELETE], __ATOMIC_ACQUIRE) != 40);
         i++)
        usleep(100 * 1000);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 10);
    assert_int_equal(sfx_stat("usrloc:location-contacts"), 10);
    assert_int_equal(__atomic_load_n(&n_ev[SB_UL_EV_DELETE], __ATOMIC_ACQUIRE), 40);
}

/* A hook that itself edits the table (as an event_route calling remove() does). */
static void nested_hook(int ev, struct sb_ul_domain *d, sb_str aor, const struct sb_ul_contact *c)
{
    on_event(ev, d, aor, c);
    if (ev == SB_UL_EV_INSERT && sb_str_eq(aor, SB_STR("trigger@example.com")))
        sb_ul_remove(d, SB_STR("victim@example.com"), SB_STR_NULL);
}

static void test_hook_may_edit_the_table(void **state)
{
    (void)state;
    start(NULL);
    memset(n_ev, 0, sizeof(n_ev));
    add("victim@example.com", "sip:v@192.0.2.1", vnow + 100, "v");
    sb_ul_set_event_hook(nested_hook);
    struct sb_ul_txn t;
    sb_ul_begin(loc(), SB_STR("trigger@example.com"), &t);
    struct sb_ul_info a = {.uri = SB_STR("sip:t@192.0.2.1"), .expires = vnow + 100, .q = -1};
    struct sb_ul_info b = {.uri = SB_STR("sip:t@192.0.2.2"), .expires = vnow + 100, .q = -1};
    assert_int_equal(sb_ul_insert(&t, &a, NULL), 0);
    assert_int_equal(sb_ul_insert(&t, &b, NULL), 0);
    sb_ul_end(&t);
    /* both inserts announced, the nested delete too, in a consistent order */
    assert_int_equal(n_ev[SB_UL_EV_INSERT], 2);
    assert_int_equal(n_ev[SB_UL_EV_DELETE], 1);
    assert_int_equal(count("victim@example.com"), 0);
    assert_int_equal(count("trigger@example.com"), 2);
}

/* Workers hammering overlapping AORs: the shard locks keep the table and its counters exact. */
static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 3000; i++) {
        char aor[32], uri[48];
        snprintf(aor, sizeof(aor), "h%d@example.com", i % 97);
        snprintf(uri, sizeof(uri), "sip:h@192.0.2.%d", id);
        struct sb_ul_txn t;
        sb_ul_begin(loc(), sb_str_cstr(aor), &t);
        struct sb_ul_contact *mine = NULL;
        for (struct sb_ul_contact *c = sb_ul_contacts(&t); c; c = c->next)
            if (sb_str_eq(c->uri, sb_str_cstr(uri)))
                mine = c;
        if (mine) {
            sb_ul_delete(&t, mine);
        } else {
            struct sb_ul_info ci = {.uri = sb_str_cstr(uri), .expires = vnow + 100, .q = -1};
            sb_ul_insert(&t, &ci, NULL);
        }
        sb_ul_end(&t);
    }
    return NULL;
}

static void test_concurrent_workers(void **state)
{
    (void)state;
    start(NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)(i + 1)), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* each thread toggled each of its 97 bindings 3000/97 times: 30 or 31 times */
    unsigned total = 0;
    sb_ul_walk(loc(), walk_count, &total);
    uint64_t na, nc;
    sb_ul_counts(loc(), &na, &nc);
    assert_int_equal(nc, total);
    unsigned expect = 0;
    for (int k = 0; k < 97; k++)
        expect += ((3000 - k + 96) / 97) % 2 ? 4 : 0;
    assert_int_equal(total, expect);
    assert_int_equal(sfx_stat("usrloc:location-contacts"), total);
}

static void test_bad_preset(void **state)
{
    (void)state;
    const char *text = "loadmodule \"usrloc.so\"\n"
                       "modparam(\"usrloc\", \"working_mode_preset\", \"cluster-mode\")\n"
                       "route { exit; }\n";
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    assert_true(rc != 0 || d.n_errors > 0);
    sb_diag_free(&d);
    sb_script_free(s);
}

/* ---- database ------------------------------------------------------------------------------ */

static long db_rows(const char *url, const char *where_user)
{
    struct sb_db *db;
    char err[256];
    if (sb_db_open(url, &db, err, sizeof(err)) != 0)
        return -1;
    struct sb_db_cond w = {.col = "username", .op = SB_DB_EQ, .val = SB_DB_VNULL};
    if (where_user)
        w.val = SB_DB_VCSTR(where_user);
    struct sb_db_query q = {
        .table = "location", .where = where_user ? &w : NULL, .n_where = where_user ? 1 : 0};
    struct sb_db_res *r = NULL;
    long n = -1;
    if (sb_db_select(db, &q, &r) == 0)
        n = r->n_rows;
    sb_db_res_free(r);
    sb_db_close(db);
    return n;
}

static void test_write_through_and_restart(void **state)
{
    (void)state;
    char mp[512], url[256];
    snprintf(url, sizeof(url), "sqlite://%s/sb.db", dir);
    snprintf(mp, sizeof(mp),
             "modparam(\"usrloc\", \"db_url\", \"%s\")\n"
             "modparam(\"usrloc\", \"working_mode_preset\", \"single-instance-sql-write-through\")",
             url);
    start(mp);
    add("a@example.com", "sip:a@192.0.2.1", vnow + 3600, "c1");
    add("a@example.com", "sip:a@192.0.2.2", vnow + 3600, "c2");
    add("b@example.com", "sip:b@192.0.2.3", vnow + 3600, "c3");
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(db_rows(url, NULL), 3);
    assert_int_equal(db_rows(url, "a"), 2);
    /* an update that changes the URI moves the row; a delete removes it */
    struct sb_ul_txn t;
    sb_ul_begin(loc(), SB_STR("b@example.com"), &t);
    struct sb_ul_info ci = {.uri = SB_STR("sip:b@192.0.2.4"),
                            .callid = SB_STR("c3"),
                            .expires = vnow + 3600,
                            .cseq = 9,
                            .q = -1};
    assert_int_equal(sb_ul_update(&t, sb_ul_contacts(&t), &ci, NULL), 0);
    sb_ul_end(&t);
    sb_ul_remove(loc(), SB_STR("a@example.com"), SB_STR("sip:a@192.0.2.1"));
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(db_rows(url, NULL), 2);
    assert_int_equal(db_rows(url, "a"), 1);
    /* a memory-only binding never reaches the table */
    sb_ul_begin(loc(), SB_STR("m@example.com"), &t);
    struct sb_ul_info mo = {.uri = SB_STR("sip:m@192.0.2.5"),
                            .expires = vnow + 3600,
                            .q = -1,
                            .flags = SB_UL_FL_MEMORY_ONLY};
    assert_int_equal(sb_ul_insert(&t, &mo, NULL), 0);
    sb_ul_end(&t);
    assert_int_equal(sb_ul_db_pending(), 0);
    assert_int_equal(db_rows(url, "m"), 0);
    assert_int_equal(count("m@example.com"), 1);

    /* restart: everything comes back from the table, fields intact */
    stop();
    start(mp);
    assert_int_equal(count("a@example.com"), 1);
    assert_int_equal(count("b@example.com"), 1);
    assert_int_equal(count("m@example.com"), 0);
    struct sb_arena a;
    sb_arena_init(&a, NULL, 0, 0);
    struct sb_ul_contact *list;
    unsigned k;
    assert_int_equal(sb_ul_snapshot(loc(), SB_STR("a@example.com"), &a, &list, &k), 0);
    assert_int_equal(k, 1);
    assert_true(sb_str_eq(list->uri, SB_STR("sip:a@192.0.2.2")));
    assert_true(sb_str_eq(list->callid, SB_STR("c2")));
    assert_true(sb_str_eq(list->path, SB_STR("<sip:edge.example.net;lr>")));
    assert_true(sb_str_eq(list->user_agent, SB_STR("ua/1")));
    assert_int_equal(list->expires, vnow + 3600);
    assert_int_equal(list->cseq, 7);
    assert_int_equal(list->q, 500);
    assert_int_equal(list->reg_id, 2);
    assert_int_equal(list->methods, 0x11);
    sb_arena_deinit(&a);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 2);

    /* expired rows are not loaded back */
    stop();
    vnow += 7200;
    start(mp);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 0);
}

static void test_write_back_defers(void **state)
{
    (void)state;
    char mp[512], url[256];
    snprintf(url, sizeof(url), "sqlite://%s/wb.db", dir);
    /* a db_url alone means write-back, as OpenSIPS ships it */
    snprintf(mp, sizeof(mp), "modparam(\"usrloc\", \"db_url\", \"%s\")", url);
    start(mp);
    add("w@example.com", "sip:w@192.0.2.1", vnow + 3600, "c1");
    add("w@example.com", "sip:w@192.0.2.2", vnow + 3600, "c2");
    usleep(200 * 1000);
    /* nothing written until the next timer tick (60 s) or a flush */
    assert_int_equal(sb_ul_db_pending(), 2);
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(db_rows(url, "w"), 2);
    /* shutdown writes what is pending */
    add("w@example.com", "sip:w@192.0.2.3", vnow + 3600, "c3");
    stop();
    sb_db_register_linked(); /* stopping the modules unregistered the driver */
    assert_int_equal(db_rows(url, "w"), 3);
}

static void test_outage_keeps_service_and_drains(void **state)
{
    (void)state;
    char mp[512], url[256], sub[128];
    /* the database lives in a directory that does not exist yet: every open fails */
    snprintf(sub, sizeof(sub), "%s/later", dir);
    snprintf(url, sizeof(url), "sqlite://%s/o.db", sub);
    snprintf(
        mp, sizeof(mp),
        "modparam(\"usrloc\", \"db_url\", \"%s\")\n"
        "modparam(\"usrloc\", \"working_mode_preset\", \"single-instance-sql-write-through\")\n"
        "modparam(\"usrloc\", \"db_retry_interval\", 1)",
        url);
    start(mp);
    for (int i = 0; i < 20; i++) {
        char aor[32], uri[48];
        snprintf(aor, sizeof(aor), "o%d@example.com", i);
        snprintf(uri, sizeof(uri), "sip:o%d@192.0.2.1", i);
        add(aor, uri, vnow + 3600, "c");
    }
    /* service continues from memory; writes wait */
    assert_int_equal(count("o7@example.com"), 1);
    assert_int_equal(sb_ul_db_flush(300), SB_EAGAIN);
    assert_int_equal(sb_ul_db_pending(), 20);
    /* the database comes back: the backlog drains by itself */
    assert_int_equal(mkdir(sub, 0700), 0);
    for (int i = 0; i < 50 && sb_ul_db_pending(); i++)
        usleep(100 * 1000);
    assert_int_equal(sb_ul_db_pending(), 0);
    assert_int_equal(db_rows(url, NULL), 20);
    /* and a restart finds them */
    stop();
    start(mp);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 20);
}

int main(void)
{
    sb_db_register_linked();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_may_edit_the_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_preset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_through_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_back_defers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_keeps_service_and_drains, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
