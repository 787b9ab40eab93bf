/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl db: create the schema and upgrade it by table version. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sbctl.h"

/* The version a schema file records for its table: the number in its version INSERT. */
static int schema_version(const struct sbctl_schema *s)
{
    char pat[96];
    snprintf(pat, sizeof pat, "('%s', ", s->table);
    const char *p = strstr(s->sql, pat);
    return p ? atoi(p + strlen(pat)) : -1;
}

static const struct sbctl_schema *schema_find(const char *driver, const char *table)
{
    for (unsigned i = 0; i < sbctl_n_schema; i++)
        if (strcmp(sbctl_schema[i].driver, driver) == 0 &&
            strcmp(sbctl_schema[i].table, table) == 0)
            return &sbctl_schema[i];
    return NULL;
}

/* SQLite creates the file but not its directory: make the directories of a sqlite:// path. */
static void make_parent_dirs(const char *url)
{
    if (strncmp(url, "sqlite://", 9) != 0)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s", url + 9);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            fprintf(stderr, "sbctl: cannot create %s: %s\n", path, strerror(errno));
        *p = '/';
    }
}

static int run_script(struct sb_db *db, const char *what, const char *sql)
{
    int rc = sb_db_begin(db);
    if (rc == 0)
        rc = sb_db_raw(db, sql, NULL, 0, NULL);
    if (rc != 0) {
        fprintf(stderr, "sbctl: %s: %s\n", what, sb_db_errmsg(db));
        sb_db_rollback(db);
        return rc;
    }
    rc = sb_db_commit(db);
    if (rc != 0)
        fprintf(stderr, "sbctl: %s: %s\n", what, sb_db_errmsg(db));
    return rc;
}

enum { MODE_INIT, MODE_MIGRATE, MODE_VERSION };

static const char *const tables[] = {"subscriber", "location"};

static int db_cmd(struct sbctl *c, int mode)
{
    struct sb_db *db;
    if (mode != MODE_VERSION)
        make_parent_dirs(c->url);
    int rc = sbctl_open(c, &db);
    if (rc != 0)
        return 1;
    const char *drv = sb_db_driver_name(db);
    int status = 0;
    const struct sbctl_schema *vs = schema_find(drv, "version");
    if (!vs) {
        fprintf(stderr, "sbctl: no schema for driver %s\n", drv);
        sb_db_close(db);
        return 1;
    }
    if (mode != MODE_VERSION && run_script(db, "creating table version", vs->sql) != 0) {
        sb_db_close(db);
        return 1;
    }
    if (c->json)
        printf("{\"driver\":\"%s\",\"tables\":[", drv);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const struct sbctl_schema *s = schema_find(drv, tables[i]);
        if (!s)
            continue;
        int want = schema_version(s), have = -1;
        const char *state;
        rc = sb_db_table_version(db, s->table, &have);
        if (rc == SB_ENOENT && mode == MODE_VERSION) {
            state = "missing";
        } else if (rc == SB_ENOENT) {
            char what[64];
            snprintf(what, sizeof what, "creating table %s", s->table);
            if (run_script(db, what, s->sql) != 0) {
                status = 1;
                state = "error";
            } else {
                have = want;
                state = "created";
            }
        } else if (rc != 0) {
            fprintf(stderr, "sbctl: table %s: %s\n", s->table, sb_db_errmsg(db));
            status = 1;
            state = "error";
        } else if (have == want) {
            state = "ok";
        } else if (mode == MODE_MIGRATE && have < want) {
            /* upgrade steps are files <table>-from-<N>.sql, each moving one version ahead */
            state = "upgraded";
            while (have < want) {
                char name[96];
                snprintf(name, sizeof name, "%s-from-%d", s->table, have);
                const struct sbctl_schema *up = schema_find(drv, name);
                if (!up) {
                    fprintf(stderr, "sbctl: table %s: no upgrade from version %d to %d\n", s->table,
                            have, want);
                    status = 1;
                    state = "outdated";
                    break;
                }
                if (run_script(db, name, up->sql) != 0 ||
                    sb_db_table_version(db, s->table, &have) != 0) {
                    status = 1;
                    state = "error";
                    break;
                }
            }
        } else {
            fprintf(stderr, "sbctl: table %s has version %d, this build expects %d%s\n", s->table,
                    have, want, have < want ? ": run 'sbctl db migrate'" : "");
            status = 1;
            state = have < want ? "outdated" : "newer";
        }
        if (c->json)
            printf("%s{\"table\":\"%s\",\"version\":%d,\"expected\":%d,\"state\":\"%s\"}",
                   i ? "," : "", s->table, have, want, state);
        else
            printf("%-12s %-8s version %d (expected %d)\n", s->table, state, have, want);
    }
    if (c->json)
        printf("]}\n");
    sb_db_close(db);
    return status;
}

int sbctl_db(struct sbctl *c, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: sbctl db init|migrate|version [URL]\n");
        return 2;
    }
    if (argc >= 2)
        c->url = argv[1];
    if (strcmp(argv[0], "init") == 0)
        return db_cmd(c, MODE_INIT);
    if (strcmp(argv[0], "migrate") == 0)
        return db_cmd(c, MODE_MIGRATE);
    if (strcmp(argv[0], "version") == 0)
        return db_cmd(c, MODE_VERSION);
    fprintf(stderr, "sbctl: unknown db command %s\n", argv[0]);
    return 2;
}
