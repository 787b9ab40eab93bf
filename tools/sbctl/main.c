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
            "  reload                         reload the routing script (reload_routes)\n"
            "  ul dump                        every registered contact, as a table\n"
            "  ul show [TABLE] AOR            the contacts of one AOR (TABLE: location)\n"
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
            "Management defaults may also come from ~/.sbctl.cfg, else /etc/switchboard/sbctl.cfg\n"
            "(lines 'url = URL', 'fifo = PATH', 'reply_dir = DIR', 'timeout = SECS'); the\n"
            "command line and the environment win over them.\n"
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

/* ---- configuration file ---------------------------------------------------------------- */

/* The file's values live as long as the process: main's struct points into them. */
static struct {
    char url[1024], fifo[1024], reply_dir[1024];
    unsigned timeout_ms;
} cfg;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Read "key = value" lines; '#' starts a comment line. Returns 0 when the file was read (or is
 * absent: *found stays false), -1 after printing an error. */
static int read_cfg(const char *path, bool *found)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    *found = true;
    char line[1200];
    unsigned ln = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        ln++;
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            fprintf(stderr, "sbctl: %s:%u: expected 'key = value'\n", path, ln);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *k = trim(l), *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        char *dst = !strcmp(k, "url")         ? cfg.url
                    : !strcmp(k, "fifo")      ? cfg.fifo
                    : !strcmp(k, "reply_dir") ? cfg.reply_dir
                                              : NULL;
        if (dst) {
            snprintf(dst, sizeof(cfg.url), "%s", v);
        } else if (!strcmp(k, "timeout")) {
            char *end;
            double secs = strtod(v, &end);
            if (*end || !(secs > 0) || secs > 3600) {
                fprintf(stderr, "sbctl: %s:%u: bad timeout '%s'\n", path, ln, v);
                rc = -1;
            }
            cfg.timeout_ms = (unsigned)(secs * 1000);
        } else {
            fprintf(stderr, "sbctl: %s:%u: unknown key '%s'\n", path, ln, k);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

/* ~/.sbctl.cfg, else /etc/switchboard/sbctl.cfg: defaults under the environment. */
static int apply_cfg(struct sbctl *c)
{
    bool found = false;
    const char *home = getenv("HOME");
    if (home && *home) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/.sbctl.cfg", home);
        if (read_cfg(path, &found) != 0)
            return -1;
    }
    if (!found && read_cfg("/etc/switchboard/sbctl.cfg", &found) != 0)
        return -1;
    if (!found)
        return 0;
    if (cfg.url[0])
        c->mi_url = cfg.url;
    /* a FIFO in the file means "use it", unless the file also names a URL */
    if (cfg.fifo[0] && !cfg.url[0])
        c->mi_fifo = cfg.fifo;
    if (cfg.reply_dir[0])
        c->mi_reply_dir = cfg.reply_dir;
    if (cfg.timeout_ms)
        c->timeout_ms = cfg.timeout_ms;
    return 0;
}

static bool is_mi_word(const char *w)
{
    static const char *const words[] = {"mi",     "ps",     "stats", "version",
                                        "uptime", "reload", "ul",    NULL};
    for (unsigned i = 0; words[i]; i++)
        if (!strcmp(w, words[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    struct sbctl c = {.url = getenv("SB_DB_URL"),
                      .mi_url = SBCTL_DEFAULT_MI_URL,
                      .timeout_ms = SBCTL_DEFAULT_WAIT};
    if (apply_cfg(&c) != 0)
        return 2;
    const char *env_url = getenv("SB_MI_URL"), *env_fifo = getenv("SB_MI_FIFO");
    const char *env_dir = getenv("SB_MI_REPLY_DIR");
    /* an explicit URL in the environment wins over an environment FIFO */
    if (env_url && *env_url) {
        c.mi_url = env_url;
        c.mi_fifo = NULL;
    } else if (env_fifo && *env_fifo) {
        c.mi_fifo = env_fifo;
    }
    if (env_dir && *env_dir)
        c.mi_reply_dir = env_dir;
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
