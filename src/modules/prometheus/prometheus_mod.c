/* SPDX-License-Identifier: BSD-2-Clause */
/* prometheus: the statistics in the Prometheus text exposition format, `GET /<root>` on the
 * httpd module. Counters are typed counter; gauges and statistics that are never reset (levels,
 * computed values) are typed gauge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/httpd.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/stats.h"

#define MAX_SEL    64
#define NAME_MAX_B 256

static struct {
    char *root;
    char *prefix;
    char *group_prefix;
    char *delimiter;
    char *group_label;
    int group_mode; /* 0: name only, 1: group in the name, 2: group as a label */
    char *labels;   /* extra labels for every sample: name=value[, name=value] */
} conf = {
    .root = "metrics",
    .prefix = "switchboard",
    .group_prefix = "",
    .delimiter = "_",
    .group_label = "group",
    .group_mode = 1,
};

/* statistics: "all", or what to export: "group:" (a whole group), "group:name" or "name". */
static struct {
    char *items[MAX_SEL];
    unsigned n;
    bool all;
} sel;

static char path[256];
static char *extra_labels; /* rendered: name="value",name2="value2" (no braces), or NULL */

static int set_statistics(const struct sb_val *v, const char **err)
{
    sb_str s = v->s;
    while (s.len) {
        size_t i = 0;
        while (i < s.len && s.p[i] != ' ' && s.p[i] != ',' && s.p[i] != '\t')
            i++;
        sb_str item = {s.p, i};
        if (item.len) {
            if (sb_str_caseeq_lit(item, "all")) {
                sel.all = true;
            } else if (sel.n == MAX_SEL) {
                *err = "too many statistics";
                return -1;
            } else if (!(sel.items[sel.n++] = strndup(item.p, item.len))) {
                *err = "out of memory";
                return -1;
            }
        }
        s.p += i < s.len ? i + 1 : i;
        s.len -= i < s.len ? i + 1 : i;
    }
    return 0;
}

static bool selected(sb_stat_t id)
{
    if (sel.all || sel.n == 0)
        return true;
    const char *g = sb_stat_group(id), *n = sb_stat_name(id);
    size_t gl = strlen(g);
    for (unsigned i = 0; i < sel.n; i++) {
        const char *it = sel.items[i];
        const char *colon = strchr(it, ':');
        if (!colon) {
            if (strcmp(it, n) == 0)
                return true;
        } else if ((size_t)(colon - it) == gl && strncmp(it, g, gl) == 0 &&
                   (colon[1] == '\0' || strcmp(colon + 1, n) == 0)) {
            return true;
        }
    }
    return false;
}

/* Append <s> to <out> with every character outside [a-zA-Z0-9_:] made '_' (Prometheus metric
 * names); a leading digit gets a '_' before it. */
static void put_sanitized(char *out, size_t cap, size_t *len, const char *s)
{
    for (; *s && *len + 2 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (*len == 0 && sb_is_digit(c))
            out[(*len)++] = '_';
        out[(*len)++] = sb_is_alpha(c) || sb_is_digit(c) || c == '_' || c == ':' ? (char)c : '_';
    }
    out[*len] = '\0';
}

struct metric {
    char name[NAME_MAX_B];
    sb_stat_t id;
    bool gauge;
};

static void metric_name(struct metric *m)
{
    size_t len = 0;
    const char *d = conf.delimiter ? conf.delimiter : "_";
    if (conf.prefix && *conf.prefix) {
        put_sanitized(m->name, sizeof(m->name), &len, conf.prefix);
        put_sanitized(m->name, sizeof(m->name), &len, d);
    }
    if (conf.group_mode == 1) {
        if (conf.group_prefix && *conf.group_prefix)
            put_sanitized(m->name, sizeof(m->name), &len, conf.group_prefix);
        put_sanitized(m->name, sizeof(m->name), &len, sb_stat_group(m->id));
        put_sanitized(m->name, sizeof(m->name), &len, d);
    }
    put_sanitized(m->name, sizeof(m->name), &len, sb_stat_name(m->id));
    /* the exposition format's convention for counters (promtool insists) */
    if (!m->gauge && (len < 6 || strcmp(m->name + len - 6, "_total") != 0))
        put_sanitized(m->name, sizeof(m->name), &len, "_total");
}

static int metric_cmp(const void *a, const void *b)
{
    const struct metric *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* A label value, escaped as the exposition format wants (\\, \", \n). */
static void put_label_value(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f), fputc(*v, f);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void put_labels(FILE *f, const struct metric *m)
{
    bool group = conf.group_mode == 2;
    if (!group && !extra_labels)
        return;
    fputc('{', f);
    if (group) {
        char gl[64];
        size_t len = 0;
        put_sanitized(gl, sizeof(gl), &len, conf.group_label ? conf.group_label : "group");
        fprintf(f, "%s=\"", gl);
        put_label_value(f, sb_stat_group(m->id));
        fputc('"', f);
    }
    if (extra_labels)
        fprintf(f, "%s%s", group ? "," : "", extra_labels);
    fputc('}', f);
}

/* The whole exposition: samples of one metric family together, after its HELP and TYPE. */
static char *render(size_t *out_len)
{
    unsigned n = sb_stat_count();
    struct metric *ms = calloc(n ? n : 1, sizeof(*ms));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!ms || !f) {
        free(ms);
        if (f)
            fclose(f);
        free(buf);
        return NULL;
    }
    unsigned k = 0;
    for (sb_stat_t id = 1; id <= n; id++) {
        if (!sb_stat_name(id) || !selected(id))
            continue;
        ms[k].id = id;
        ms[k].gauge = sb_stat_flags(id) & (SB_STAT_GAUGE | SB_STAT_NO_RESET);
        metric_name(&ms[k]);
        k++;
    }
    qsort(ms, k, sizeof(*ms), metric_cmp);
    for (unsigned i = 0; i < k; i++) {
        const struct metric *m = &ms[i];
        bool first = i == 0 || strcmp(ms[i - 1].name, m->name) != 0;
        if (first) {
            if (conf.group_mode == 2)
                fprintf(f, "# HELP %s Switchboard statistic %s\n", m->name, sb_stat_name(m->id));
            else
                fprintf(f, "# HELP %s Switchboard statistic %s:%s\n", m->name, sb_stat_group(m->id),
                        sb_stat_name(m->id));
            fprintf(f, "# TYPE %s %s\n", m->name, m->gauge ? "gauge" : "counter");
        } else if (conf.group_mode != 2) {
            continue; /* the same name twice without a label to tell them apart */
        }
        fputs(m->name, f);
        put_labels(f, m);
        fprintf(f, " %lld\n", (long long)sb_stat_get(m->id));
    }
    fclose(f);
    free(ms);
    *out_len = len;
    return buf;
}

static void on_metrics(const struct sb_http_req *req, struct sb_http_resp *resp, void *arg)
{
    (void)req;
    (void)arg;
    size_t len = 0;
    char *body = render(&len);
    if (!body) {
        resp->status = 500;
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = body;
    resp->body_len = len;
}

/* labels: "name=value, name2=value2" (values may be quoted) into extra_labels. */
static int parse_labels(const char *spec)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return SB_ENOMEM;
    sb_str s = sb_str_cstr(spec);
    bool any = false;
    while (s.len) {
        long c = sb_str_chr(s, ',');
        sb_str item = sb_str_trim((sb_str){s.p, c < 0 ? s.len : (size_t)c});
        s = c < 0 ? (sb_str){s.p + s.len, 0} : (sb_str){s.p + c + 1, s.len - (size_t)c - 1};
        if (!item.len)
            continue;
        long eq = sb_str_chr(item, '=');
        if (eq <= 0) {
            fclose(f);
            free(buf);
            return SB_EINVAL;
        }
        sb_str k = sb_str_trim((sb_str){item.p, (size_t)eq});
        sb_str v = sb_str_trim((sb_str){item.p + eq + 1, item.len - (size_t)eq - 1});
        if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"')
            v = (sb_str){v.p + 1, v.len - 2};
        char kb[64], vb[256];
        size_t kl = 0;
        snprintf(vb, sizeof(vb), SB_STR_FMT, SB_STR_ARG(v));
        char kraw[64];
        snprintf(kraw, sizeof(kraw), SB_STR_FMT, SB_STR_ARG(k));
        put_sanitized(kb, sizeof(kb), &kl, kraw);
        fprintf(f, "%s%s=\"", any ? "," : "", kb);
        put_label_value(f, vb);
        fputc('"', f);
        any = true;
    }
    fclose(f);
    if (!any) {
        free(buf);
        buf = NULL;
    }
    extra_labels = buf;
    return 0;
}

static int prom_init(void)
{
    const char *root = conf.root ? conf.root : "metrics";
    while (*root == '/')
        root++;
    int n = snprintf(path, sizeof(path), "/%s", root);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        SB_ERR("prometheus: root '%s' is too long", conf.root);
        return SB_EINVAL;
    }
    if (conf.group_mode < 0 || conf.group_mode > 2) {
        SB_ERR("prometheus: group_mode must be 0, 1 or 2");
        return SB_EINVAL;
    }
    free(extra_labels);
    extra_labels = NULL;
    if (conf.labels && *conf.labels && parse_labels(conf.labels) != 0) {
        SB_ERR("prometheus: labels must be name=value[, name=value]");
        return SB_EINVAL;
    }
    int rc = sb_httpd_register("GET", path, on_metrics, NULL);
    if (rc != 0)
        SB_ERR("prometheus: cannot serve %s (%d)", path, rc);
    return rc;
}

static void prom_destroy(void)
{
    /* httpd outlives this module and may be serving /metrics right now */
    if (path[0])
        sb_httpd_unregister("GET", path);
    path[0] = '\0';
    for (unsigned i = 0; i < sel.n; i++)
        free(sel.items[i]);
    sel.n = 0;
    sel.all = false;
    free(extra_labels);
    extra_labels = NULL;
}

static const char *const deps[] = {"httpd", NULL};

#define P_STR(n, f)                                                                                \
    {                                                                                              \
        .name = n, .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), f)                      \
    }

static const struct sb_mod_param params[] = {
    P_STR("root", root),
    P_STR("prefix", prefix),
    P_STR("group_prefix", group_prefix),
    P_STR("delimiter", delimiter),
    P_STR("group_label", group_label),
    P_STR("labels", labels),
    {.name = "group_mode", .type = SB_MP_INT, .offset = offsetof(__typeof__(conf), group_mode)},
    {.name = "statistics", .type = SB_MP_FUNC, .accepts = 1 << SB_VAL_STR, .set = set_statistics},
    {.name = NULL},
};

const struct sb_module sb_module_prometheus = {
    .name = "prometheus",
    .summary = "statistics for Prometheus (GET /metrics on httpd)",
    .deps = deps,
    .conf = &conf,
    .params = params,
    .init = prom_init,
    .destroy = prom_destroy,
};
