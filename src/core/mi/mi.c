/* SPDX-License-Identifier: BSD-2-Clause */
/* The management interface core: command registry and the JSON-RPC 2.0 envelope (request
 * checks, positional-to-named parameter mapping, error replies). See include/sb/mi.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mi/mi_int.h"
#include "sb/base.h"
#include "sb/log.h"
#include "sb/evi.h"
#include "sb/mi.h"
#include "sb/mod.h"

#define MI_MAX_CMDS 512

struct entry {
    const char *owner;
    const struct sb_mi_cmd *cmd;
};

/* Written by the control thread before the transports start; read by them afterwards. */
static struct entry cmds[MI_MAX_CMDS];
static unsigned n_cmds;

/* Serializes every command execution (DESIGN.md §9: one management lock). */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;

json_t *sb_mi_error(struct sb_mi_call *c, int code, const char *fmt, ...)
{
    va_list ap;
    c->err_code = code;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
    va_end(ap);
    return NULL;
}

json_t *sb_mi_param(const struct sb_mi_call *c, const char *name)
{
    return c->params ? json_object_get(c->params, name) : NULL;
}

const char *sb_mi_param_str(const struct sb_mi_call *c, const char *name)
{
    return json_string_value(sb_mi_param(c, name));
}

int sb_mi_param_int(const struct sb_mi_call *c, const char *name, int64_t *out)
{
    json_t *v = sb_mi_param(c, name);
    if (!v)
        return SB_ENOENT;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return SB_EINVAL;
    sb_str s = sb_str_trim(sb_str_cstr(json_string_value(v)));
    bool neg = s.len && s.p[0] == '-';
    if (neg || (s.len && s.p[0] == '+')) {
        s.p++;
        s.len--;
    }
    uint64_t u;
    if (sb_str_to_u64(s, INT64_MAX, &u) != 0)
        return SB_EINVAL;
    *out = neg ? -(int64_t)u : (int64_t)u;
    return 0;
}

/* ---- registry ------------------------------------------------------------------------------ */

static bool name_taken(const char *name)
{
    const char *owner;
    return sb_mi_find(sb_str_cstr(name), &owner) != NULL;
}

int sb_mi_register(const char *owner, const struct sb_mi_cmd *list)
{
    for (const struct sb_mi_cmd *c = list; c && c->name; c++) {
        if (name_taken(c->name) || (c->alias && name_taken(c->alias))) {
            SB_ERR("mi: command %s of %s is already registered", c->name, owner);
            return SB_EINVAL;
        }
        if (n_cmds == MI_MAX_CMDS) {
            SB_ERR("mi: too many commands");
            return SB_ELIMIT;
        }
        cmds[n_cmds].owner = owner;
        cmds[n_cmds].cmd = c;
        __atomic_store_n(&n_cmds, n_cmds + 1, __ATOMIC_RELEASE);
    }
    return 0;
}

void sb_mi_destroy(void)
{
    __atomic_store_n(&n_cmds, 0, __ATOMIC_RELEASE);
    memset(cmds, 0, sizeof(cmds));
}

int sb_mi_init(void)
{
    sb_mi_destroy();
    sb__mi_async_reopen();
    int rc = sb_mi_register("core", sb__mi_core_cmds);
    /* event_subscribe, events_list ... exist whatever the modules, as in OpenSIPS */
    return rc ? rc : sb_evi_mi_register();
}

int sb_mi_modset_start(const struct sb_modset *ms)
{
    int rc = sb_mi_init();
    for (unsigned i = 0; rc == 0 && ms && i < ms->n; i++)
        if (ms->mods[i]->mi)
            rc = sb_mi_register(ms->mods[i]->name, ms->mods[i]->mi);
    if (rc == 0)
        rc = sb__core_stats_register();
    return rc;
}

unsigned sb_mi_count(void)
{
    return __atomic_load_n(&n_cmds, __ATOMIC_ACQUIRE);
}

const struct sb_mi_cmd *sb_mi_at(unsigned i, const char **owner)
{
    if (i >= sb_mi_count())
        return NULL;
    if (owner)
        *owner = cmds[i].owner;
    return cmds[i].cmd;
}

const struct sb_mi_cmd *sb_mi_find(sb_str name, const char **owner)
{
    unsigned n = sb_mi_count();
    long colon = sb_str_chr(name, ':');
    for (unsigned i = 0; i < n; i++) {
        const struct sb_mi_cmd *c = cmds[i].cmd;
        bool hit = sb_str_eq(name, sb_str_cstr(c->name)) ||
                   (c->alias && sb_str_eq(name, sb_str_cstr(c->alias)));
        /* 4.x spelling "<module>:<command>" */
        if (!hit && colon > 0) {
            sb_str mod = {name.p, (size_t)colon};
            sb_str rest = {name.p + colon + 1, name.len - (size_t)colon - 1};
            hit =
                sb_str_eq(mod, sb_str_cstr(cmds[i].owner)) && sb_str_eq(rest, sb_str_cstr(c->name));
        }
        if (hit) {
            if (owner)
                *owner = cmds[i].owner;
            return c;
        }
    }
    return NULL;
}

/* ---- parameters ---------------------------------------------------------------------------- */

static unsigned recipe_len(const struct sb_mi_recipe *r)
{
    unsigned n = 0;
    while (n < SB_MI_MAX_PARAMS && r->params[n])
        n++;
    return n;
}

static bool recipe_has(const struct sb_mi_recipe *r, const char *key)
{
    for (unsigned i = 0; i < SB_MI_MAX_PARAMS && r->params[i]; i++)
        if (!strcmp(r->params[i], key))
            return true;
    return false;
}

/* Pick the recipe for <params> and build the named object the handler sees. */
static const struct sb_mi_recipe *pick_recipe(const struct sb_mi_cmd *cmd, json_t *params,
                                              json_t **named)
{
    size_t n = 0;
    if (json_is_array(params))
        n = json_array_size(params);
    else if (json_is_object(params))
        n = json_object_size(params);
    for (unsigned i = 0; i < SB_MI_MAX_RECIPES && cmd->recipes[i].fn; i++) {
        const struct sb_mi_recipe *r = &cmd->recipes[i];
        if (recipe_len(r) != n)
            continue;
        if (json_is_object(params)) {
            const char *key;
            json_t *v;
            bool all = true;
            json_object_foreach(params, key, v)
            {
                if (!recipe_has(r, key)) {
                    all = false;
                    break;
                }
            }
            if (!all)
                continue;
            *named = json_incref(params);
            return r;
        }
        json_t *obj = json_object();
        if (!obj)
            return NULL;
        for (unsigned k = 0; k < n; k++)
            json_object_set(obj, r->params[k], json_array_get(params, k));
        *named = obj;
        return r;
    }
    return NULL;
}

/* Run the handler under the management lock. Returns the result, NULL with the error in <c>, or
 * SB_MI_PENDING with c->async set (the envelope's reference to it). */
static json_t *run_call(const char *method, json_t *params, struct sb_mi_call *c)
{
    memset(c, 0, sizeof(*c));
    c->method = method;
    if (params && !json_is_array(params) && !json_is_object(params))
        return sb_mi_error(c, SB_MI_INVALID_REQUEST, "Invalid Request");
    const struct sb_mi_cmd *cmd = sb_mi_find(sb_str_cstr(method), NULL);
    if (!cmd)
        return sb_mi_error(c, SB_MI_METHOD_NOT_FOUND, "Method not found");
    json_t *named = NULL;
    const struct sb_mi_recipe *r = pick_recipe(cmd, params, &named);
    if (!r)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "Invalid params");
    c->params = named;
    pthread_mutex_lock(&run_lock);
    json_t *res = r->fn(c);
    pthread_mutex_unlock(&run_lock);
    c->params = NULL;
    json_decref(named);
    if (c->async && res != SB_MI_PENDING) {
        /* the handler answered by itself after all */
        sb__mi_async_settle(c->async);
        c->async = NULL;
    } else if (!c->async && res == SB_MI_PENDING) {
        SB_ERR("mi: %s returned pending without sb_mi_async_start()", method);
        res = NULL;
        c->err_code = 0;
    }
    if (!res && !c->err_code)
        sb_mi_error(c, SB_MI_SERVER_ERROR, "Server error");
    return res;
}

/* A synchronous caller waiting for an asynchronous command. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    json_t *reply; /* sb_mi_handle_json */
};

static void waiter_init(struct waiter *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->done = false;
    w->reply = NULL;
}

static void waiter_wait(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void waiter_deinit(struct waiter *w)
{
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
}

static void waiter_wake(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void run_sink(struct sb_mi_async *a, void *arg)
{
    (void)a;
    waiter_wake(arg);
}

json_t *sb_mi_run(const char *method, json_t *params, struct sb_mi_call *c)
{
    json_t *res = run_call(method, params, c);
    if (res != SB_MI_PENDING)
        return res;
    /* the time limit bounds this wait */
    struct waiter w;
    waiter_init(&w);
    struct sb_mi_async *a = c->async;
    if (sb__mi_async_attach(a, run_sink, &w))
        waiter_wait(&w);
    waiter_deinit(&w);
    return sb__mi_async_take(a, c);
}

/* ---- the envelope -------------------------------------------------------------------------- */

static json_t *error_reply(json_t *id, int code, const char *msg, json_t *data)
{
    json_t *err = json_pack("{s:i, s:s}", "code", code, "message", msg);
    if (err && data)
        json_object_set(err, "data", data);
    return json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "error", err, "id",
                     id ? id : json_null());
}

/* One request being answered: one slot per request of a batch (one for a single request). */
struct rq;
struct slot {
    struct rq *rq;
    json_t *id;    /* a reference; NULL for a notification */
    json_t *reply; /* NULL: nothing to answer */
};

struct rq {
    pthread_mutex_t lock;
    unsigned waiting; /* pending slots, plus one while the envelope is still running them */
    bool batch;
    sb_mi_reply_fn cb;
    void *arg;
    size_t n;
    struct slot slots[];
};

static json_t *call_reply(json_t *id, json_t *res, struct sb_mi_call *c)
{
    json_t *reply;
    if (!id) {
        /* a notification: run, answer nothing */
        json_decref(res);
        reply = NULL;
    } else if (res) {
        reply = json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "result", res, "id", id);
    } else {
        reply = error_reply(id, c->err_code, c->err_msg, c->err_data);
    }
    json_decref(c->err_data);
    c->err_data = NULL;
    return reply;
}

/* Build the reply of the whole request and free <rq>. */
static json_t *rq_finish(struct rq *rq)
{
    json_t *out = NULL;
    if (!rq->batch) {
        out = rq->slots[0].reply;
    } else {
        out = json_array();
        for (size_t i = 0; i < rq->n; i++)
            if (rq->slots[i].reply) {
                if (out)
                    json_array_append(out, rq->slots[i].reply);
                json_decref(rq->slots[i].reply);
            }
        if (out && json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
        }
    }
    for (size_t i = 0; i < rq->n; i++)
        json_decref(rq->slots[i].id);
    pthread_mutex_destroy(&rq->lock);
    free(rq);
    return out;
}

/* One slot is answered; true when it was the last one the request waited for. */
static bool rq_settled(struct rq *rq)
{
    pthread_mutex_lock(&rq->lock);
    bool last = --rq->waiting == 0;
    pthread_mutex_unlock(&rq->lock);
    return last;
}

static void slot_sink(struct sb_mi_async *a, void *arg)
{
    struct slot *s = arg;
    struct sb_mi_call c;
    memset(&c, 0, sizeof(c));
    json_t *res = sb__mi_async_take(a, &c);
    s->reply = call_reply(s->id, res, &c);
    struct rq *rq = s->rq;
    if (rq_settled(rq)) {
        sb_mi_reply_fn cb = rq->cb;
        void *cb_arg = rq->arg;
        cb(cb_arg, rq_finish(rq));
    }
}

static void handle_one(json_t *req, struct slot *s)
{
    if (!json_is_object(req)) {
        s->reply = error_reply(NULL, SB_MI_INVALID_REQUEST, "Invalid Request", NULL);
        return;
    }
    json_t *id = json_object_get(req, "id");
    json_t *ver = json_object_get(req, "jsonrpc");
    json_t *method = json_object_get(req, "method");
    json_t *params = json_object_get(req, "params");
    if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id) &&
        !json_is_real(id)) {
        s->reply = error_reply(NULL, SB_MI_INVALID_REQUEST, "Invalid Request", NULL);
        return;
    }
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0 ||
        !json_is_string(method) || (params && !json_is_array(params) && !json_is_object(params))) {
        s->reply = error_reply(id, SB_MI_INVALID_REQUEST, "Invalid Request", NULL);
        return;
    }
    /* the request may be freed before an asynchronous answer: keep the id */
    s->id = json_incref(id);
    struct sb_mi_call c;
    json_t *res = run_call(json_string_value(method), params, &c);
    if (res == SB_MI_PENDING) {
        struct sb_mi_async *a = c.async;
        pthread_mutex_lock(&s->rq->lock);
        s->rq->waiting++;
        pthread_mutex_unlock(&s->rq->lock);
        if (sb__mi_async_attach(a, slot_sink, s))
            return;
        rq_settled(s->rq); /* never the last: the envelope still holds its count */
        res = sb__mi_async_take(a, &c);
    }
    s->reply = call_reply(s->id, res, &c);
}

int sb_mi_handle_json_async(json_t *req, sb_mi_reply_fn cb, void *arg, json_t **reply)
{
    *reply = NULL;
    bool batch = json_is_array(req);
    if (batch && json_array_size(req) == 0) {
        *reply = error_reply(NULL, SB_MI_INVALID_REQUEST, "Invalid Request", NULL);
        return 0;
    }
    size_t n = batch ? json_array_size(req) : 1;
    struct rq *rq = calloc(1, sizeof(*rq) + n * sizeof(rq->slots[0]));
    if (!rq)
        return SB_ENOMEM;
    pthread_mutex_init(&rq->lock, NULL);
    rq->waiting = 1;
    rq->batch = batch;
    rq->cb = cb;
    rq->arg = arg;
    rq->n = n;
    for (size_t i = 0; i < n; i++)
        rq->slots[i].rq = rq;
    for (size_t i = 0; i < n; i++)
        handle_one(batch ? json_array_get(req, i) : req, &rq->slots[i]);
    if (!rq_settled(rq))
        return 1;
    *reply = rq_finish(rq);
    return 0;
}

int sb_mi_handle_async(const char *req, size_t len, sb_mi_reply_fn cb, void *arg, json_t **reply)
{
    json_error_t jerr;
    json_t *in = json_loadb(req, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!in) {
        *reply = error_reply(NULL, SB_MI_PARSE_ERROR, "Parse error", NULL);
        return 0;
    }
    int rc = sb_mi_handle_json_async(in, cb, arg, reply);
    json_decref(in);
    return rc;
}

static void handle_sink(void *arg, json_t *reply)
{
    struct waiter *w = arg;
    w->reply = reply;
    waiter_wake(w);
}

json_t *sb_mi_handle_json(json_t *req)
{
    struct waiter w;
    waiter_init(&w);
    json_t *reply = NULL;
    int rc = sb_mi_handle_json_async(req, handle_sink, &w, &reply);
    if (rc == 1) {
        waiter_wait(&w);
        reply = w.reply;
    } else if (rc < 0) {
        reply = error_reply(NULL, SB_MI_SERVER_ERROR, "Server error", NULL);
    }
    waiter_deinit(&w);
    return reply;
}

char *sb_mi_reply_text(json_t *reply)
{
    if (!reply)
        return NULL;
    char *text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    if (!text)
        /* out of memory while dumping: still answer something the client can parse */
        text = strdup("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"Server "
                      "error\"},\"id\":null}");
    return text;
}

char *sb_mi_handle(const char *req, size_t len)
{
    json_error_t jerr;
    json_t *reply;
    json_t *in = json_loadb(req, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!in)
        reply = error_reply(NULL, SB_MI_PARSE_ERROR, "Parse error", NULL);
    else
        reply = sb_mi_handle_json(in);
    json_decref(in);
    return sb_mi_reply_text(reply);
}
