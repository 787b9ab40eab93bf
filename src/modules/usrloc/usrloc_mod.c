/* SPDX-License-Identifier: BSD-2-Clause */
/* usrloc: the location service. Parameters, statistics, management commands and the usrloc
 * thread, which sweeps expired contacts every timer_interval seconds and writes the database. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/mod-t.h"
#include "sb/script.h"

#include "ul_int.h"

#define CONF_DEFAULTS                                                                              \
    {                                                                                              \
        .use_domain = 0, .nat_bflag = -1, .timer_interval = 60, .hash_size = 6,                    \
        .db_retry_interval = 5, .db_url = NULL, .mode = -1,                                        \
    }

struct ul_conf sb__ul_conf = CONF_DEFAULTS;

static const struct {
    const char *name;
    int mode;
} presets[] = {
    {"single-instance-no-db", UL_MODE_NO_DB},
    {"single-instance-sql-write-through", UL_MODE_WRITE_THROUGH},
    {"single-instance-sql-write-back", UL_MODE_WRITE_BACK},
    {"sql-only", UL_MODE_SQL_ONLY},
};

static int set_preset(const struct sb_val *v, const char **err)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(presets); i++)
        if (sb_str_caseeq_lit(v->s, presets[i].name)) {
            sb__ul_conf.mode = presets[i].mode;
            return 0;
        }
    *err = "unknown working_mode_preset (single-instance-no-db, "
           "single-instance-sql-write-through, single-instance-sql-write-back, sql-only)";
    return SB_EINVAL;
}

/* db_mode, the older integer form: 0 no-db, 1 write-through, 2 write-back, 3 sql-only */
static int set_db_mode(const struct sb_val *v, const char **err)
{
    int32_t m;
    if (!sb_val_to_int(v, &m) || m < 0 || m > 3) {
        *err = "db_mode must be 0, 1, 2 or 3";
        return SB_EINVAL;
    }
    sb__ul_conf.mode = m;
    return 0;
}

static int set_nat_bflag(const struct sb_val *v, const char **err)
{
    /* a number, or a named branch flag shared with the script's setbflag("NAME") */
    int f;
    if (v->type == SB_VAL_INT)
        f = v->i >= 0 && v->i <= 31 ? v->i : SB_ERANGE;
    else
        f = sb_bflag_bit(v->s, true);
    if (f < 0) {
        *err = "nat_bflag must be a branch flag name or a number 0..31";
        return SB_EINVAL;
    }
    sb__ul_conf.nat_bflag = f;
    return 0;
}

static const struct sb_mod_param params[] = {
    {.name = "use_domain", .type = SB_MP_INT, .offset = offsetof(struct ul_conf, use_domain)},
    {.name = "timer_interval",
     .type = SB_MP_INT,
     .offset = offsetof(struct ul_conf, timer_interval)},
    {.name = "hash_size", .type = SB_MP_INT, .offset = offsetof(struct ul_conf, hash_size)},
    {.name = "db_retry_interval",
     .type = SB_MP_INT,
     .offset = offsetof(struct ul_conf, db_retry_interval)},
    {.name = "db_url", .type = SB_MP_STR, .offset = offsetof(struct ul_conf, db_url)},
    {.name = "working_mode_preset",
     .type = SB_MP_FUNC,
     .accepts = 1 << SB_VAL_STR,
     .set = set_preset},
    {.name = "db_mode",
     .type = SB_MP_FUNC,
     .accepts = 1 << SB_VAL_INT | 1 << SB_VAL_STR,
     .set = set_db_mode},
    {.name = "nat_bflag",
     .type = SB_MP_FUNC,
     .accepts = 1 << SB_VAL_INT | 1 << SB_VAL_STR,
     .set = set_nat_bflag},
    {.name = NULL},
};

/* ---- statistics ---------------------------------------------------------------------------- */

static int64_t registered_users(void)
{
    int64_t n = 0;
    for (struct sb_ul_domain *d = sb__ul_domains(); d; d = d->next)
        n += (int64_t)atomic_load(&d->n_aors);
    return n;
}

static const struct sb_stat_def stats[] = {
    {.name = "registered_users",
     .flags = SB_STAT_GAUGE | SB_STAT_NO_RESET,
     .get = registered_users},
    {.name = NULL},
};

/* ---- the usrloc thread --------------------------------------------------------------------- */

static pthread_t thr;
static bool thr_running;
static pthread_mutex_t thr_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thr_cv; /* CLOCK_MONOTONIC */
static bool thr_stop, thr_kicked;
static pthread_cond_t drained_cv = PTHREAD_COND_INITIALIZER;

void sb__ul_thread_kick(void)
{
    if (!thr_running)
        return;
    pthread_mutex_lock(&thr_mu);
    thr_kicked = true;
    pthread_cond_signal(&thr_cv);
    pthread_mutex_unlock(&thr_mu);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *thread_main(void *arg)
{
    (void)arg;
    uint64_t next_sweep = mono_ms() + (uint64_t)sb__ul_conf.timer_interval * 1000u;
    uint64_t next_db =
        sb__ul_db_down() ? mono_ms() + (uint64_t)sb__ul_conf.db_retry_interval * 1000u : next_sweep;
    pthread_mutex_lock(&thr_mu);
    while (!thr_stop) {
        uint64_t now = mono_ms();
        bool sweep = now >= next_sweep;
        /* while the database is down, retry on the timer only, not on every new write */
        bool db = (thr_kicked && !sb__ul_db_down()) || now >= next_db;
        thr_kicked = false;
        pthread_mutex_unlock(&thr_mu);
        if (sweep) {
            unsigned n = sb_ul_expire_all();
            if (n)
                SB_DEBUG("usrloc: %u contacts expired", n);
            next_sweep = mono_ms() + (uint64_t)sb__ul_conf.timer_interval * 1000u;
        }
        unsigned left = 0;
        if (db || sweep) {
            left = sb__ul_db_drain();
            uint64_t iv = left ? (uint64_t)sb__ul_conf.db_retry_interval
                               : (uint64_t)sb__ul_conf.timer_interval;
            if (sb__ul_conf.mode == UL_MODE_WRITE_BACK && !left)
                iv = (uint64_t)sb__ul_conf.timer_interval;
            next_db = mono_ms() + iv * 1000u;
        }
        pthread_mutex_lock(&thr_mu);
        if (!left)
            pthread_cond_broadcast(&drained_cv);
        if (thr_stop || thr_kicked)
            continue;
        uint64_t wake = next_sweep < next_db ? next_sweep : next_db;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now2 = mono_ms();
        uint64_t wait = wake > now2 ? wake - now2 : 0;
        ts.tv_sec += (time_t)(wait / 1000u);
        ts.tv_nsec += (long)(wait % 1000u) * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&thr_cv, &thr_mu, &ts);
    }
    pthread_mutex_unlock(&thr_mu);
    sb__ul_thread_cleanup();
    return NULL;
}

int sb__ul_thread_start(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&thr_cv, &ca);
    pthread_condattr_destroy(&ca);
    thr_stop = false;
    thr_kicked = false;
    if (pthread_create(&thr, NULL, thread_main, NULL) != 0)
        return SB_ENOMEM;
    thr_running = true;
    return 0;
}

void sb__ul_thread_stop(void)
{
    if (!thr_running)
        return;
    pthread_mutex_lock(&thr_mu);
    thr_stop = true;
    pthread_cond_signal(&thr_cv);
    pthread_mutex_unlock(&thr_mu);
    pthread_join(thr, NULL);
    thr_running = false;
    pthread_cond_destroy(&thr_cv);
}

int sb_ul_db_flush(unsigned timeout_ms)
{
    if (!sb__ul_db_enabled())
        return 0;
    if (!thr_running)
        return sb__ul_db_drain() ? SB_EAGAIN : 0;
    uint64_t end = mono_ms() + timeout_ms;
    pthread_mutex_lock(&thr_mu);
    while (sb_ul_db_pending() && mono_ms() < end) {
        thr_kicked = true;
        pthread_cond_signal(&thr_cv);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&drained_cv, &thr_mu, &ts);
    }
    pthread_mutex_unlock(&thr_mu);
    return sb_ul_db_pending() ? SB_EAGAIN : 0;
}

/* ---- management ---------------------------------------------------------------------------- */

static json_t *contact_json(const struct sb_ul_contact *c, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "Contact", json_stringn(c->uri.p, c->uri.len));
    json_object_set_new(o, "Expires",
                        c->expires ? json_integer(c->expires - now) : json_string("permanent"));
    json_object_set_new(o, "Q", json_integer(c->q));
    json_object_set_new(o, "Callid", json_stringn(c->callid.p, c->callid.len));
    json_object_set_new(o, "Cseq", json_integer(c->cseq));
    json_object_set_new(o, "User-agent", json_stringn(c->user_agent.p, c->user_agent.len));
    if (c->received.len)
        json_object_set_new(o, "Received", json_stringn(c->received.p, c->received.len));
    if (c->path.len)
        json_object_set_new(o, "Path", json_stringn(c->path.p, c->path.len));
    if (c->socket.len)
        json_object_set_new(o, "Socket", json_stringn(c->socket.p, c->socket.len));
    if (c->instance.len)
        json_object_set_new(o, "SIP_instance", json_stringn(c->instance.p, c->instance.len));
    if (c->reg_id)
        json_object_set_new(o, "Reg-Id", json_integer(c->reg_id));
    json_object_set_new(o, "State", json_string("CS_SYNC"));
    json_object_set_new(o, "Flags", json_integer(c->flags));
    json_object_set_new(o, "Cflags", json_integer(c->cflags));
    json_object_set_new(o, "Methods", json_integer(c->methods));
    return o;
}

struct dump_arg {
    json_t *aors;
    int64_t now;
};

static int dump_one(sb_str aor, const struct sb_ul_contact *contacts, void *arg)
{
    struct dump_arg *da = arg;
    json_t *cs = json_array();
    for (const struct sb_ul_contact *c = contacts; c; c = c->next)
        if (c->expires == 0 || c->expires > da->now)
            json_array_append_new(cs, contact_json(c, da->now));
    json_t *a = json_object();
    json_object_set_new(a, "AOR", json_stringn(aor.p, aor.len));
    json_object_set_new(a, "Contacts", cs);
    json_array_append_new(da->aors, a);
    return 0;
}

static json_t *mi_dump(struct sb_mi_call *c)
{
    (void)c;
    json_t *doms = json_array();
    for (struct sb_ul_domain *d = sb__ul_domains(); d; d = d->next) {
        struct dump_arg da = {.aors = json_array(), .now = sb_ul_now()};
        sb_ul_walk(d, dump_one, &da);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_stringn(d->name.p, d->name.len));
        json_object_set_new(o, "AORs", da.aors);
        json_array_append_new(doms, o);
    }
    json_t *r = json_object();
    json_object_set_new(r, "Domains", doms);
    return r;
}

static json_t *mi_show(struct sb_mi_call *c)
{
    const char *tn = sb_mi_param_str(c, "table_name");
    const char *aor = sb_mi_param_str(c, "aor");
    if (!tn || !aor)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "table_name and aor are required");
    struct sb_ul_domain *d = sb_ul_domain_find(sb_str_cstr(tn));
    if (!d)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "table %s not found", tn);
    struct sb_ul_txn t;
    sb_ul_begin(d, sb_str_cstr(aor), &t);
    json_t *cs = json_array();
    int64_t now = sb_ul_now();
    for (const struct sb_ul_contact *x = sb_ul_contacts(&t); x; x = x->next)
        json_array_append_new(cs, contact_json(x, now));
    sb_ul_end(&t);
    if (json_array_size(cs) == 0) {
        json_decref(cs);
        return sb_mi_error(c, 404, "AOR not found");
    }
    json_t *r = json_object();
    json_object_set_new(r, "Contacts", cs);
    return r;
}

static json_t *mi_rm(struct sb_mi_call *c)
{
    const char *tn = sb_mi_param_str(c, "table_name");
    const char *aor = sb_mi_param_str(c, "aor");
    const char *ct = sb_mi_param_str(c, "contact");
    struct sb_ul_domain *d = tn ? sb_ul_domain_find(sb_str_cstr(tn)) : NULL;
    if (!d || !aor)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "table or AOR not found");
    unsigned n = sb_ul_remove(d, sb_str_cstr(aor), ct ? sb_str_cstr(ct) : SB_STR_NULL);
    if (!n)
        return sb_mi_error(c, 404, ct ? "Contact not found" : "AOR not found");
    return json_string("OK");
}

static json_t *mi_sync(struct sb_mi_call *c)
{
    (void)c;
    if (sb_ul_db_flush(2000) != 0)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "database writes still pending: %u",
                           sb_ul_db_pending());
    return json_string("OK");
}

static const struct sb_mi_cmd mi_cmds[] = {
    {.name = "ul_dump",
     .help = "every AOR and contact of every location table",
     .alias = "usrloc:dump",
     .recipes = {{mi_dump, {NULL}}}},
    {.name = "ul_show_contact",
     .help = "the contacts of one AOR",
     .alias = "usrloc:show_contact",
     .recipes = {{mi_show, {"table_name", "aor", NULL}}}},
    {.name = "ul_rm",
     .help = "remove an AOR",
     .alias = "usrloc:rm",
     .recipes = {{mi_rm, {"table_name", "aor", NULL}}}},
    {.name = "ul_rm_contact",
     .help = "remove one contact of an AOR",
     .alias = "usrloc:rm_contact",
     .recipes = {{mi_rm, {"table_name", "aor", "contact", NULL}}}},
    {.name = "ul_sync",
     .help = "write every pending change to the database now",
     .alias = "usrloc:sync",
     .recipes = {{mi_sync, {NULL}}}},
    {.name = NULL},
};

/* ---- lifecycle ----------------------------------------------------------------------------- */

static int mod_init(void)
{
    if (sb__ul_conf.mode < 0)
        sb__ul_conf.mode =
            sb__ul_conf.db_url && *sb__ul_conf.db_url ? UL_MODE_WRITE_BACK : UL_MODE_NO_DB;
    if (sb__ul_conf.mode != UL_MODE_NO_DB && !(sb__ul_conf.db_url && *sb__ul_conf.db_url)) {
        SB_ERR("usrloc: working_mode_preset needs a db_url");
        return SB_EINVAL;
    }
    if (sb__ul_conf.timer_interval <= 0)
        sb__ul_conf.timer_interval = 60;
    if (sb__ul_conf.db_retry_interval <= 0)
        sb__ul_conf.db_retry_interval = 5;
    /* save("location") in the script registers its table at check time; the module owns the
     * default one in any case so that management commands and other modules find it */
    struct sb_ul_domain *d;
    if (sb_ul_domain_register(SB_STR("location"), &d) != 0)
        return SB_ENOMEM;
    if (sb__ul_events_register() != 0)
        return SB_EINVAL;
    int rc = sb__ul_db_load();
    if (rc != 0) {
        SB_ERR("usrloc: cannot load contacts from the database (%d)", rc);
        return rc;
    }
    return sb__ul_thread_start();
}

static void mod_exit_worker(unsigned worker)
{
    (void)worker;
    sb__ul_thread_cleanup();
}

static void mod_destroy(void)
{
    sb__ul_thread_stop();
    sb__ul_db_stop();
    sb__ul_domains_free();
    sb_ul_set_event_hook(NULL);
    sb__ul_events_forget();
    /* the module layer owns db_url's string */
    sb__ul_conf = (struct ul_conf)CONF_DEFAULTS;
}

const struct sb_module sb_module_usrloc = {
    .name = "usrloc",
    .summary = "location service: contacts of registered users, in memory and in a database",
    .conf = &sb__ul_conf,
    .params = params,
    .mi = mi_cmds,
    .stats = stats,
    .init = mod_init,
    .exit_worker = mod_exit_worker,
    .destroy = mod_destroy,
};
