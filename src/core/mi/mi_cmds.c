/* SPDX-License-Identifier: BSD-2-Clause */
/* The core's management commands (OpenSIPS names): ps, uptime, version, which, help, log_level,
 * statistics, reload_routes, kill, mem_info, list_tcp_conns. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mi/mi_int.h"
#include "sb/base.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/fwd.h"
#include "sb/loop.h"
#include "sb/runtime.h"
#include "sb/stats.h"
#include "sb/tp.h"
#include "sb/worker.h"

#define PS_WAIT_MS 500

static json_t *ok(void)
{
    return json_string("OK");
}

/* ---- ps ------------------------------------------------------------------------------------ */

struct ps_round {
    int tids[SB_MAX_WORKERS];
};

static void ps_on_worker(unsigned worker, void *arg)
{
    struct ps_round *p = arg;
    if (worker < SB_MAX_WORKERS)
        p->tids[worker] = (int)gettid();
}

static void ps_add(json_t *list, int pid, const char *type)
{
    json_array_append_new(list,
                          json_pack("{s:I, s:i, s:s}", "ID", (json_int_t)json_array_size(list),
                                    "PID", pid, "Type", type));
}

static json_t *mi_ps(struct sb_mi_call *c)
{
    (void)c;
    struct ps_round *p = calloc(1, sizeof(*p));
    if (!p)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "out of memory");
    sb_mi_on_workers(ps_on_worker, p, PS_WAIT_MS);
    json_t *list = json_array();
    ps_add(list, (int)getpid(), "main/control");
    unsigned n = sb_rt.n_workers < SB_MAX_WORKERS ? sb_rt.n_workers : SB_MAX_WORKERS;
    for (unsigned i = 0; i < n; i++) {
        char type[48];
        snprintf(type, sizeof(type), "SIP worker %u", i);
        /* 0: the worker did not answer within the wait (busy or stopping) */
        ps_add(list, p->tids[i], type);
    }
    struct sb__mi_thread t[32];
    unsigned nt = sb__mi_threads(t, SB_ARRAY_LEN(t));
    for (unsigned i = 0; i < nt; i++)
        ps_add(list, t[i].tid, t[i].type);
    free(p);
    return json_pack("{s:o}", "Processes", list);
}

/* ---- uptime, version ----------------------------------------------------------------------- */

static uint64_t mi_started_ms;

static void fmt_time(time_t t, char *out, size_t cap)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%a %b %e %H:%M:%S %Y", &tm);
}

static json_t *mi_uptime(struct sb_mi_call *c)
{
    (void)c;
    uint64_t start = sb_rt.start_ms ? sb_rt.start_ms : mi_started_ms;
    uint64_t up_ms = sb_now_ms() - start;
    time_t now = time(NULL);
    char now_s[64], since_s[64], up_s[32];
    fmt_time(now, now_s, sizeof(now_s));
    fmt_time(now - (time_t)(up_ms / 1000), since_s, sizeof(since_s));
    snprintf(up_s, sizeof(up_s), "%llu [sec]", (unsigned long long)(up_ms / 1000));
    return json_pack("{s:s, s:s, s:s}", "Now", now_s, "Up since", since_s, "Up time", up_s);
}

static json_t *mi_version(struct sb_mi_call *c)
{
    (void)c;
    return json_pack("{s:s}", "Server", "Switchboard " SB_VERSION);
}

/* ---- which, help --------------------------------------------------------------------------- */

static json_t *mi_which(struct sb_mi_call *c)
{
    (void)c;
    json_t *list = json_array();
    for (unsigned i = 0; i < sb_mi_count(); i++)
        json_array_append_new(list, json_string(sb_mi_at(i, NULL)->name));
    return list;
}

static json_t *mi_help_usage(struct sb_mi_call *c)
{
    (void)c;
    return json_string("Usage: help mi_cmd - returns information about 'mi_cmd'");
}

static json_t *mi_help(struct sb_mi_call *c)
{
    const char *name = sb_mi_param_str(c, "mi_cmd");
    if (!name)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "Invalid params");
    const char *owner;
    const struct sb_mi_cmd *cmd = sb_mi_find(sb_str_cstr(name), &owner);
    if (!cmd)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "no such command");
    json_t *recipes = json_array();
    for (unsigned i = 0; i < SB_MI_MAX_RECIPES && cmd->recipes[i].fn; i++) {
        json_t *ps = json_array();
        for (unsigned k = 0; k < SB_MI_MAX_PARAMS && cmd->recipes[i].params[k]; k++)
            json_array_append_new(ps, json_string(cmd->recipes[i].params[k]));
        json_array_append_new(recipes, ps);
    }
    json_t *o = json_pack("{s:s, s:s, s:o}", "Help", cmd->help ? cmd->help : "", "Exported by",
                          owner, "Params", recipes);
    if (o && cmd->alias)
        json_object_set_new(o, "Alias", json_string(cmd->alias));
    return o;
}

/* ---- log_level ----------------------------------------------------------------------------- */

static json_t *mi_log_level_get(struct sb_mi_call *c)
{
    (void)c;
    int lvl = __atomic_load_n(&sb_log_level, __ATOMIC_RELAXED);
    return json_pack("{s:i, s:s}", "Log level", lvl, "Name", sb_log_level_name(lvl));
}

static json_t *mi_log_level_set(struct sb_mi_call *c)
{
    int64_t lvl;
    if (sb_mi_param_int(c, "level", &lvl) != 0 || lvl < SB_LOG_ALERT || lvl > SB_LOG_DEBUG)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "Invalid params");
    /* one level for the whole process: every thread reads it before logging */
    __atomic_store_n(&sb_log_level, (int)lvl, __ATOMIC_RELAXED);
    return json_pack("{s:i}", "New global log level", (int)lvl);
}

/* ---- statistics ---------------------------------------------------------------------------- */

static void full_name(sb_stat_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%s", sb_stat_group(id), sb_stat_name(id));
}

/* Does statistic <id> match one selector: "all", "group:", "group:name" or a bare "name"? */
static bool stat_matches(sb_stat_t id, const char *sel)
{
    if (!strcmp(sel, "all"))
        return true;
    const char *colon = strchr(sel, ':');
    if (!colon)
        return !strcmp(sel, sb_stat_name(id));
    size_t glen = (size_t)(colon - sel);
    if (strlen(sb_stat_group(id)) != glen || strncmp(sel, sb_stat_group(id), glen) != 0)
        return false;
    return colon[1] == '\0' || !strcmp(colon + 1, sb_stat_name(id));
}

/* The "statistics" parameter: an array of selectors, or one selector as a string. Calls <each>
 * for every statistic matched (once). Returns the number matched, or -1 on a bad parameter. */
static int for_selected(struct sb_mi_call *c, void (*each)(sb_stat_t id, json_t *acc), json_t *acc)
{
    json_t *sel = sb_mi_param(c, "statistics");
    if (json_is_string(sel)) {
        json_t *one = json_array();
        json_array_append(one, sel);
        sel = one;
    } else if (json_is_array(sel)) {
        json_incref(sel);
    } else if (sel) {
        return -1;
    } else {
        sel = json_pack("[s]", "all");
    }
    size_t i;
    json_t *v;
    json_array_foreach(sel, i, v)
    {
        if (!json_is_string(v)) {
            json_decref(sel);
            return -1;
        }
    }
    int n = 0;
    for (sb_stat_t id = 1; id <= sb_stat_count(); id++) {
        json_array_foreach(sel, i, v)
        {
            if (stat_matches(id, json_string_value(v))) {
                each(id, acc);
                n++;
                break;
            }
        }
    }
    json_decref(sel);
    return n;
}

static void get_one(sb_stat_t id, json_t *acc)
{
    char name[160];
    full_name(id, name, sizeof(name));
    json_object_set_new(acc, name, json_integer(sb_stat_get(id)));
}

static void list_one(sb_stat_t id, json_t *acc)
{
    char name[160];
    full_name(id, name, sizeof(name));
    bool gauge = sb_stat_flags(id) & SB_STAT_GAUGE;
    json_object_set_new(acc, name, json_string(gauge ? "non-incremental" : "incremental"));
}

static void reset_one(sb_stat_t id, json_t *acc)
{
    (void)acc;
    if (!sb__core_stat_reset(id))
        sb_stat_reset(id);
}

static json_t *stats_cmd(struct sb_mi_call *c, void (*each)(sb_stat_t, json_t *), bool reset)
{
    json_t *acc = json_object();
    int n = for_selected(c, each, acc);
    if (n < 0) {
        json_decref(acc);
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "Invalid params");
    }
    if (n == 0) {
        json_decref(acc);
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "Statistics Not Found");
    }
    if (reset) {
        json_decref(acc);
        return ok();
    }
    return acc;
}

static json_t *mi_get_stats(struct sb_mi_call *c)
{
    return stats_cmd(c, get_one, false);
}

static json_t *mi_list_stats(struct sb_mi_call *c)
{
    return stats_cmd(c, list_one, false);
}

static json_t *mi_reset_stats(struct sb_mi_call *c)
{
    return stats_cmd(c, reset_one, true);
}

/* ---- reload_routes, kill ------------------------------------------------------------------- */

static json_t *mi_reload_routes(struct sb_mi_call *c)
{
    struct sb_diag d;
    sb_diag_init(&d);
    int rc = sb_reload_routes(&d);
    json_t *res = NULL;
    if (rc != 0) {
        json_t *lines = json_array();
        for (const struct sb_diag_entry *e = d.head; e; e = e->next) {
            char line[1024];
            const char *sev = e->sev == SB_DIAG_ERROR ? "error" : "warning";
            if (e->line)
                snprintf(line, sizeof(line), "%s:%u:%u: %s: %s", e->file ? e->file : "<config>",
                         e->line, e->col, sev, e->msg);
            else
                snprintf(line, sizeof(line), "%s: %s: %s", e->file ? e->file : "<config>", sev,
                         e->msg);
            json_array_append_new(lines, json_string(line));
        }
        const char *first = d.head ? d.head->msg : "reload failed";
        sb_mi_error(c, SB_MI_SERVER_ERROR, "Reload failed: %s", first);
        c->err_data = lines;
    } else {
        res = ok();
    }
    sb_diag_free(&d);
    return res;
}

static json_t *mi_kill(struct sb_mi_call *c)
{
    (void)c;
    SB_NOTICE("mi: kill requested: stopping");
    sb_server_stop();
    return ok();
}

/* ---- mem_info, list_tcp_conns -------------------------------------------------------------- */

/* Resident and virtual size of the process, in bytes, from /proc/self/statm. */
static int proc_statm(uint64_t *vsz, uint64_t *rss)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return SB_ENOENT;
    unsigned long long size = 0, res = 0;
    int n = fscanf(f, "%llu %llu", &size, &res);
    fclose(f);
    if (n != 2)
        return SB_EPARSE;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    *vsz = size * page;
    *rss = res * page;
    return 0;
}

struct mem_round {
    struct sb_fwd_mem w[SB_MAX_WORKERS];
    bool seen[SB_MAX_WORKERS];
};

static void mem_on_worker(unsigned worker, void *arg)
{
    struct mem_round *r = arg;
    if (worker < SB_MAX_WORKERS) {
        sb_fwd_mem(&r->w[worker]);
        r->seen[worker] = true;
    }
}

static json_t *mi_mem_info(struct sb_mi_call *c)
{
    (void)c;
    struct mallinfo2 mi = mallinfo2();
    uint64_t vsz = 0, rss = 0;
    proc_statm(&vsz, &rss);
    json_t *res =
        json_pack("{s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "Process", "RSS",
                  (json_int_t)rss, "VmSize", (json_int_t)vsz, "Heap", "arena", (json_int_t)mi.arena,
                  "mmap", (json_int_t)mi.hblkhd, "in_use", (json_int_t)(mi.uordblks + mi.hblkhd),
                  "free", (json_int_t)mi.fordblks, "free_chunks", (json_int_t)mi.ordblks,
                  "releasable", (json_int_t)mi.keepcost);
    /* per worker: what each holds for message handling, read on the worker itself */
    struct mem_round *r = calloc(1, sizeof(*r));
    json_t *arr = json_array();
    if (res && r && arr && sb_mi_on_workers(mem_on_worker, r, PS_WAIT_MS) >= 0) {
        for (unsigned i = 0; i < sb_rt.n_workers && i < SB_MAX_WORKERS; i++) {
            if (!r->seen[i])
                continue;
            json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "Worker", (json_int_t)i, "scratch_heap",
                                  (json_int_t)r->w[i].scratch_heap, "pooled_msgs",
                                  (json_int_t)r->w[i].pooled_msgs, "pooled_bytes",
                                  (json_int_t)r->w[i].pooled_bytes);
            if (o)
                json_array_append_new(arr, o);
        }
        json_object_set_new(res, "Workers", arr);
        arr = NULL;
    }
    json_decref(arr);
    free(r);
    return res;
}

struct conn_list {
    json_t *arr;
    const char *proto; /* only this protocol; NULL: all */
    time_t now;
};

static void ipport(char *out, size_t cap, const char *ip, uint16_t port)
{
    bool v6 = strchr(ip, ':') != NULL;
    snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "", port);
}

/* One entry with OpenSIPS's attribute names (Source is the peer, Destination our end; Lifetime
 * is when the idle timer will close it), plus what a debugging operator wants to see. */
static void conn_add(const struct sb_tp_conn_info *i, void *arg)
{
    struct conn_list *l = arg;
    const char *proto = sb_tp_proto_name(i->proto);
    if (l->proto && strcasecmp(l->proto, proto) != 0)
        return;
    char src[SB_IP_STRLEN + 8], dst[SB_IP_STRLEN + 8], expires[32];
    ipport(src, sizeof(src), i->remote_ip, i->remote_port);
    ipport(dst, sizeof(dst), i->local_ip, i->local_port);
    time_t at = l->now + (time_t)i->lifetime_s;
    struct tm tm;
    localtime_r(&at, &tm);
    strftime(expires, sizeof(expires), "%Y-%m-%d %H:%M:%S", &tm);
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "ID", (json_int_t)i->id,
        "Type", proto, "State", i->connecting ? "connecting" : "open", "Source", src, "Destination",
        dst, "Lifetime", expires, "Worker", (json_int_t)i->worker, "Age", (json_int_t)i->age_s,
        "Idle", (json_int_t)i->idle_s, "Timeout", (json_int_t)i->lifetime_s, "Queued",
        (json_int_t)i->queued, "Direction", i->outgoing ? "out" : "in");
    if (o)
        json_array_append_new(l->arr, o);
}

static json_t *mi_list_tcp_conns(struct sb_mi_call *c)
{
    struct conn_list l = {
        .arr = json_array(), .proto = sb_mi_param_str(c, "proto"), .now = time(NULL)};
    if (!l.arr || sb_tp_conns(conn_add, &l) < 0) {
        json_decref(l.arr);
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "Out of memory");
    }
    return json_pack("{s:o}", "Connections", l.arr);
}

/* ---- the table ----------------------------------------------------------------------------- */

#define NO_PARAMS                                                                                  \
    {                                                                                              \
        NULL                                                                                       \
    }

const struct sb_mi_cmd sb__mi_core_cmds[] = {
    {.name = "ps",
     .help = "lists the threads: main/control, SIP workers, management",
     .recipes = {{.fn = mi_ps, .params = NO_PARAMS}}},
    {.name = "uptime",
     .help = "current time, start time and seconds since start",
     .recipes = {{.fn = mi_uptime, .params = NO_PARAMS}}},
    {.name = "version",
     .help = "server name and version",
     .recipes = {{.fn = mi_version, .params = NO_PARAMS}}},
    {.name = "which",
     .help = "lists every management command",
     .recipes = {{.fn = mi_which, .params = NO_PARAMS}}},
    {.name = "help",
     .help = "describes a management command",
     .recipes = {{.fn = mi_help_usage, .params = NO_PARAMS},
                 {.fn = mi_help, .params = {"mi_cmd", NULL}}}},
    {.name = "log_level",
     .help = "reads or sets the log level (-3 alert .. 4 debug)",
     .recipes = {{.fn = mi_log_level_get, .params = NO_PARAMS},
                 {.fn = mi_log_level_set, .params = {"level", NULL}}}},
    {.name = "get_statistics",
     .alias = "statistics:get",
     .help = "values of statistics: [\"all\" | \"group:\" | \"name\" | \"group:name\"]",
     .recipes = {{.fn = mi_get_stats, .params = {"statistics", NULL}}}},
    {.name = "list_statistics",
     .alias = "statistics:list",
     .help = "statistics and their type (incremental, non-incremental)",
     .recipes = {{.fn = mi_list_stats, .params = NO_PARAMS},
                 {.fn = mi_list_stats, .params = {"statistics", NULL}}}},
    {.name = "reset_statistics",
     .alias = "statistics:reset",
     .help = "resets statistics to zero (gauges are left alone)",
     .recipes = {{.fn = mi_reset_stats, .params = {"statistics", NULL}}}},
    {.name = "reload_routes",
     .help = "reads, checks and publishes the routing script again",
     .recipes = {{.fn = mi_reload_routes, .params = NO_PARAMS}}},
    {.name = "kill",
     .help = "stops the server gracefully",
     .recipes = {{.fn = mi_kill, .params = NO_PARAMS}}},
    {.name = "mem_info",
     .help = "process memory: resident size and heap totals",
     .recipes = {{.fn = mi_mem_info, .params = NO_PARAMS}}},
    {.name = "list_tcp_conns",
     .alias = "tcp:list",
     .help = "open TCP connections: [proto]",
     .recipes = {{.fn = mi_list_tcp_conns, .params = NO_PARAMS},
                 {.fn = mi_list_tcp_conns, .params = {"proto", NULL}}}},
    {.name = NULL},
};

/* Process start: uptime's origin outside a running server (tools, tests). */
__attribute__((constructor)) static void mi_clock_start(void)
{
    mi_started_ms = sb_now_ms();
}
