/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl: command-line tool for operators (database schema and subscribers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/log.h"
#include "sbctl.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sbctl [-d URL] [--json] COMMAND ...\n"
               "\n"
               "  db init [URL]                  create the tables that are missing\n"
               "  db migrate [URL]               upgrade tables to this build's versions\n"
               "  db version [URL]               show the table versions\n"
               "  user add USER@DOMAIN PASSWORD  add a subscriber\n"
               "  user passwd USER@DOMAIN PASSWORD\n"
               "  user rm USER@DOMAIN\n"
               "  user list [DOMAIN]\n"
               "\n"
               "The database URL comes from -d, else $SB_DB_URL, else " SBCTL_DEFAULT_URL ".\n"
               "URLs: sqlite:///abs/path.db, sqlite://relative.db, "
               "postgres://user:pass@host:port/db\n");
}

int sbctl_open(const struct sbctl *c, struct sb_db **db)
{
    char err[512];
    int rc = sb_db_open(c->url, db, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "sbctl: %s\n", err);
    return rc;
}

void sbctl_json_str(FILE *f, const char *s)
{
    char buf[1024];
    sb_log_json_escape(buf, sizeof buf, s, strlen(s));
    fprintf(f, "\"%s\"", buf);
}

int main(int argc, char **argv)
{
    struct sbctl c = {.url = getenv("SB_DB_URL")};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--db") == 0) && i + 1 < argc) {
            c.url = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            c.json = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sbctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!c.url || !*c.url)
        c.url = SBCTL_DEFAULT_URL;
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (sb_db_register_linked() != 0) {
        fprintf(stderr, "sbctl: cannot initialise the database drivers\n");
        return 1;
    }
    /* options may also follow the command words */
    int n = 0;
    char **args = calloc((size_t)argc, sizeof *args);
    if (!args)
        return 1;
    for (int j = i; j < argc; j++) {
        if (strcmp(argv[j], "--json") == 0)
            c.json = true;
        else if (strcmp(argv[j], "-d") == 0 && j + 1 < argc)
            c.url = argv[++j];
        else
            args[n++] = argv[j];
    }
    int rc;
    if (strcmp(args[0], "db") == 0) {
        rc = sbctl_db(&c, n - 1, args + 1);
    } else if (strcmp(args[0], "user") == 0) {
        rc = sbctl_user(&c, n - 1, args + 1);
    } else {
        fprintf(stderr, "sbctl: unknown command %s\n", args[0]);
        usage(stderr);
        rc = 2;
    }
    free(args);
    return rc;
}
