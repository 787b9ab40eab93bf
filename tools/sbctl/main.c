/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl: command-line tool for operators (management commands, database schema and
 * subscribers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/log.h"
#include "sbctl.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sbctl [OPTIONS] COMMAND ...\n"
            "\n"
            "Management (JSON-RPC over mi_http or mi_fifo):\n"
            "  mi CMD [ARG...]                run a management command, positional arguments\n"
            "  mi CMD NAME=VALUE...           ... named arguments (a repeated NAME: a list)\n"
            "  mi CMD -j JSON                 ... parameters as a JSON object or array\n"
            "  ps                             threads of the server\n"
            "  stats [group:|name|group:name...]  statistics (default: all)\n"
            "  version                        server version\n"
            "  uptime                         start time and uptime\n"
            "\n"
            "Database:\n"
            "  db init [URL]                  create the tables that are missing\n"
            "  db migrate [URL]               upgrade tables to this build's versions\n"
            "  db version [URL]               show the table versions\n"
            "  user add USER@DOMAIN PASSWORD  add a subscriber\n"
            "  user passwd USER@DOMAIN PASSWORD\n"
            "  user rm USER@DOMAIN\n"
            "  user list [DOMAIN]\n"
            "\n"
            "Options:\n"
            "  --json              machine-readable output\n"
            "  -u, --url URL       mi_http endpoint (default $SB_MI_URL, else " SBCTL_DEFAULT_MI_URL
            ")\n"
            "  -f, --fifo PATH     use the mi_fifo FIFO instead (default $SB_MI_FIFO)\n"
            "  -r, --reply-dir DIR where the reply FIFO is made: the server's reply_dir\n"
            "                      (default $SB_MI_REPLY_DIR, else /tmp)\n"
            "  -t, --timeout SECS  wait at most this long for an answer (default 10)\n"
            "  -d, --db URL        database URL\n"
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

/* An option taking a value at argv[i]: 1 when consumed (with its value), 0 when not an option
 * of ours, -1 on a bad value. */
static int take_option(struct sbctl *c, int argc, char **argv, int i)
{
    const char *o = argv[i];
    if (!strcmp(o, "--json")) {
        c->json = true;
        return 1;
    }
    static const char *const with_value[] = {"-d", "--db",        "-u", "--url",     "-f", "--fifo",
                                             "-r", "--reply-dir", "-t", "--timeout", NULL};
    bool known = false;
    for (unsigned k = 0; with_value[k]; k++)
        known = known || !strcmp(o, with_value[k]);
    if (!known)
        return 0;
    if (i + 1 >= argc) {
        fprintf(stderr, "sbctl: %s needs a value\n", o);
        return -1;
    }
    const char *v = argv[i + 1];
    if (!strcmp(o, "-d") || !strcmp(o, "--db")) {
        c->url = v;
    } else if (!strcmp(o, "-u") || !strcmp(o, "--url")) {
        c->mi_url = v;
        c->mi_fifo = NULL;
    } else if (!strcmp(o, "-f") || !strcmp(o, "--fifo")) {
        c->mi_fifo = v;
    } else if (!strcmp(o, "-r") || !strcmp(o, "--reply-dir")) {
        c->mi_reply_dir = v;
    } else {
        char *end;
        double s = strtod(v, &end);
        if (*end || !(s > 0) || s > 3600) {
            fprintf(stderr, "sbctl: bad timeout '%s' (seconds, up to 3600)\n", v);
            return -1;
        }
        c->timeout_ms = (unsigned)(s * 1000);
    }
    return 1;
}

static bool is_mi_word(const char *w)
{
    static const char *const words[] = {"mi", "ps", "stats", "version", "uptime", NULL};
    for (unsigned i = 0; words[i]; i++)
        if (!strcmp(w, words[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    struct sbctl c = {.url = getenv("SB_DB_URL"),
                      .mi_url = getenv("SB_MI_URL"),
                      .mi_reply_dir = getenv("SB_MI_REPLY_DIR"),
                      .timeout_ms = SBCTL_DEFAULT_WAIT};
    /* an explicit URL in the environment wins over an environment FIFO */
    if (!c.mi_url || !*c.mi_url) {
        c.mi_url = SBCTL_DEFAULT_MI_URL;
        const char *fifo = getenv("SB_MI_FIFO");
        c.mi_fifo = fifo && *fifo ? fifo : NULL;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        int t = take_option(&c, argc, argv, i);
        if (t < 0)
            return 2;
        if (t == 0) {
            fprintf(stderr, "sbctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (strcmp(argv[i], "--json") != 0)
            i++;
    }
    if (!c.url || !*c.url)
        c.url = SBCTL_DEFAULT_URL;
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    /* options may also follow the command words; "--" ends them (for an argument such as "-f") */
    int n = 0;
    char **args = calloc((size_t)argc, sizeof *args);
    if (!args)
        return 1;
    bool opts = true;
    for (int j = i; j < argc; j++) {
        int t = 0;
        if (opts && !strcmp(argv[j], "--")) {
            opts = false;
            continue;
        }
        if (opts && !strcmp(argv[j], "-j") && j + 1 < argc) {
            args[n++] = argv[j++]; /* sbctl mi's JSON parameters: passed on as they are */
            args[n++] = argv[j];
            continue;
        }
        if (opts)
            t = take_option(&c, argc, argv, j);
        if (t < 0) {
            free(args);
            return 2;
        }
        if (t > 0)
            j += strcmp(argv[j], "--json") != 0;
        else
            args[n++] = argv[j];
    }
    int rc;
    if (n == 0) {
        usage(stderr);
        rc = 2;
    } else if (is_mi_word(args[0])) {
        rc = sbctl_mi_cmd(&c, n, args);
    } else if (strcmp(args[0], "db") == 0 || strcmp(args[0], "user") == 0) {
        if (sb_db_register_linked() != 0) {
            fprintf(stderr, "sbctl: cannot initialise the database drivers\n");
            rc = 1;
        } else if (strcmp(args[0], "db") == 0) {
            rc = sbctl_db(&c, n - 1, args + 1);
        } else {
            rc = sbctl_user(&c, n - 1, args + 1);
        }
    } else {
        fprintf(stderr, "sbctl: unknown command %s\n", args[0]);
        usage(stderr);
        rc = 2;
    }
    free(args);
    return rc;
}
