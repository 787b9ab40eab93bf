/* SPDX-License-Identifier: BSD-2-Clause */
/* usrloc's database flush: one transaction per batch, a contact changed several times between
 * flushes written once with its last state, batches larger than one transaction, and a row the
 * database refuses dropped without losing the others. Counted with SQLite triggers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/base.h"
#include "sb/db.h"
#include "sb/usrloc.h"

static char dir[64];
static char url[160];

#include "fixture_script.h"

static void start(void)
{
    /* write-back with a long timer: nothing is written until sb_ul_db_flush() */
    sfx_loadf("loadmodule \"db_sqlite.so\"\nloadmodule \"usrloc.so\"\n"
              "modparam(\"usrloc\", \"use_domain\", 1)\n"
              "modparam(\"usrloc\", \"timer_interval\", 600)\n"
              "modparam(\"usrloc\", \"db_url\", \"%s\")\n"
              "modparam(\"usrloc\", \"working_mode_preset\", "
              "\"single-instance-sql-write-back\")\nroute { exit; }\n",
              url);
    sfx_start();
}

/* The location table as usrloc creates it, plus an insert counter and a trigger refusing any
 * contact with "bad" in it. */
static void make_schema(void)
{
    struct sb_db *db = NULL;
    char err[256];
    assert_int_equal(sb_db_open(url, &db, err, sizeof err), 0);
    assert_int_equal(
        sb_db_raw(db,
                  "CREATE TABLE location (username VARCHAR(64) DEFAULT '' NOT NULL,"
                  " domain VARCHAR(64) DEFAULT NULL, contact TEXT NOT NULL,"
                  " received VARCHAR(255) DEFAULT NULL, path VARCHAR(255) DEFAULT NULL,"
                  " expires INTEGER NOT NULL, q REAL DEFAULT 1.0 NOT NULL,"
                  " callid VARCHAR(255) DEFAULT 'Default-Call-ID' NOT NULL,"
                  " cseq INTEGER DEFAULT 13 NOT NULL,"
                  " last_modified TIMESTAMP DEFAULT '1900-01-01 00:00:01' NOT NULL,"
                  " flags INTEGER DEFAULT 0 NOT NULL, cflags VARCHAR(255) DEFAULT NULL,"
                  " user_agent VARCHAR(255) DEFAULT '' NOT NULL, socket VARCHAR(64) DEFAULT NULL,"
                  " methods INTEGER DEFAULT NULL, sip_instance VARCHAR(255) DEFAULT NULL,"
                  " kv_store TEXT DEFAULT NULL, attr VARCHAR(255) DEFAULT NULL);"
                  "CREATE TABLE ins (n INTEGER); INSERT INTO ins VALUES (0);"
                  "CREATE TRIGGER location_ins AFTER INSERT ON location"
                  " BEGIN UPDATE ins SET n = n + 1; END;"
                  "CREATE TRIGGER location_bad BEFORE INSERT ON location"
                  " WHEN NEW.contact LIKE '%bad%' BEGIN SELECT RAISE(ABORT, 'bad contact'); END;",
                  NULL, 0, NULL),
        0);
    sb_db_close(db);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sb-ulb-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite://%s/l.db", dir);
    /* stopping the modules in the previous test unregistered the driver */
    assert_int_equal(sb_db_register_linked(), 0);
    make_schema();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sfx_unload();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static struct sb_ul_domain *loc(void)
{
    struct sb_ul_domain *d = sb_ul_domain_find(SB_STR("location"));
    assert_non_null(d);
    return d;
}

/* Insert <uri> for <aor>, or update it when present, with <callid> and <cseq>. */
static void put(const char *aor, const char *uri, const char *callid, uint32_t cseq)
{
    struct sb_ul_txn t;
    sb_ul_begin(loc(), sb_str_cstr(aor), &t);
    struct sb_ul_info ci = {.uri = sb_str_cstr(uri),
                            .callid = sb_str_cstr(callid),
                            .user_agent = SB_STR("ua/2"),
                            .expires = sb_ul_now() + 3600,
                            .cseq = cseq,
                            .methods = 0xffffffff,
                            .q = -1};
    struct sb_ul_contact *c = sb_ul_contacts(&t);
    while (c && !sb_str_eq(c->uri, ci.uri))
        c = c->next;
    assert_int_equal(c ? sb_ul_update(&t, c, &ci, NULL) : sb_ul_insert(&t, &ci, NULL), 0);
    sb_ul_end(&t);
}

/* One integer from the database (a fresh connection, as another process would see it). */
static int64_t q_int(const char *sql, const char *param)
{
    struct sb_db *db = NULL;
    char err[256];
    assert_int_equal(sb_db_open(url, &db, err, sizeof err), 0);
    struct sb_db_val p = SB_DB_VCSTR(param ? param : "");
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_raw(db, sql, &p, param ? 1 : 0, &r), 0);
    assert_int_equal(r->n_rows, 1);
    int64_t v = sb_db_val_int(sb_db_res_at(r, 0, 0), -1);
    sb_db_res_free(r);
    sb_db_close(db);
    return v;
}

static const char *q_str(const char *sql, const char *param, char *out, size_t cap)
{
    struct sb_db *db = NULL;
    char err[256];
    assert_int_equal(sb_db_open(url, &db, err, sizeof err), 0);
    struct sb_db_val p = SB_DB_VCSTR(param);
    struct sb_db_res *r = NULL;
    assert_int_equal(sb_db_raw(db, sql, &p, 1, &r), 0);
    assert_int_equal(r->n_rows, 1);
    snprintf(out, cap, "%s", sb_db_val_str(sb_db_res_at(r, 0, 0)).p);
    sb_db_res_free(r);
    sb_db_close(db);
    return out;
}

/* Five refreshes of one contact and an insert-then-remove between two flushes: one row written,
 * with the last refresh's values, and nothing for the removed contact. */
static void test_coalesced_flush(void **state)
{
    (void)state;
    start();
    char cid[16];
    for (uint32_t i = 1; i <= 5; i++) {
        snprintf(cid, sizeof cid, "call-%u", i);
        put("a@example.com", "sip:a@192.0.2.1", cid, i);
    }
    put("b@example.com", "sip:b@192.0.2.2", "b-1", 1);
    assert_int_equal(sb_ul_remove(loc(), SB_STR("b@example.com"), SB_STR_NULL), 1);
    assert_true(sb_ul_db_pending() >= 7);
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(sb_ul_db_pending(), 0);
    assert_int_equal(q_int("SELECT n FROM ins", NULL), 1);
    assert_int_equal(q_int("SELECT count(*) FROM location", NULL), 1);
    char buf[64];
    assert_string_equal(
        q_str("SELECT callid FROM location WHERE username = ?", "a", buf, sizeof buf), "call-5");
    assert_int_equal(q_int("SELECT cseq FROM location WHERE username = ?", "a"), 5);

    /* the next flush writes the next state, again once */
    put("a@example.com", "sip:a@192.0.2.1", "call-6", 6);
    put("a@example.com", "sip:a@192.0.2.1", "call-7", 7);
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(q_int("SELECT n FROM ins", NULL), 2);
    assert_int_equal(q_int("SELECT count(*) FROM location", NULL), 1);
    assert_int_equal(q_int("SELECT cseq FROM location WHERE username = ?", "a"), 7);

    /* a removal alone deletes the row */
    assert_int_equal(sb_ul_remove(loc(), SB_STR("a@example.com"), SB_STR_NULL), 1);
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(q_int("SELECT count(*) FROM location", NULL), 0);
}

/* More changes than one transaction takes: every contact lands, with its own values. */
static void test_many_rows(void **state)
{
    (void)state;
    start();
    char aor[32], uri[48], cid[16];
    for (int i = 0; i < 2500; i++) {
        snprintf(aor, sizeof aor, "u%d@example.com", i);
        snprintf(uri, sizeof uri, "sip:u%d@192.0.2.9", i);
        snprintf(cid, sizeof cid, "c%d", i);
        put(aor, uri, cid, (uint32_t)i);
    }
    assert_int_equal(sb_ul_db_flush(10000), 0);
    assert_int_equal(q_int("SELECT count(*) FROM location", NULL), 2500);
    assert_int_equal(q_int("SELECT n FROM ins", NULL), 2500);
    assert_int_equal(q_int("SELECT count(*) FROM location WHERE callid = 'c' || cseq", NULL), 2500);
    assert_int_equal(q_int("SELECT cseq FROM location WHERE username = ?", "u2222"), 2222);
}

/* A row the database refuses (not an outage) is logged and dropped; the rest of its batch is
 * written and nothing stays queued. */
static void test_refused_row(void **state)
{
    (void)state;
    start();
    put("g1@example.com", "sip:g1@192.0.2.1", "g1", 1);
    put("x@example.com", "sip:bad@192.0.2.1", "x", 1);
    put("g2@example.com", "sip:g2@192.0.2.1", "g2", 1);
    put("g1@example.com", "sip:g1@192.0.2.1", "g1b", 2);
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(sb_ul_db_pending(), 0);
    assert_int_equal(q_int("SELECT count(*) FROM location", NULL), 2);
    assert_int_equal(q_int("SELECT cseq FROM location WHERE username = ?", "g1"), 2);
    assert_int_equal(q_int("SELECT count(*) FROM location WHERE contact LIKE '%bad%'", NULL), 0);
    /* memory still has the refused contact: the database only mirrors it */
    struct sb_ul_txn t;
    sb_ul_begin(loc(), SB_STR("x@example.com"), &t);
    assert_int_equal(sb_ul_count(&t), 1);
    sb_ul_end(&t);
    /* and later flushes go back to batches */
    put("g3@example.com", "sip:g3@192.0.2.1", "g3", 1);
    assert_int_equal(sb_ul_db_flush(3000), 0);
    assert_int_equal(q_int("SELECT count(*) FROM location", NULL), 3);
}

int main(void)
{
    sb_db_register_linked();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_coalesced_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_row, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
