/* SPDX-License-Identifier: BSD-2-Clause */
/* Asynchronous database operations: a FIFO of copied statements served by a few threads, each
 * with its own connection; completions go back to the submitter's loop with sb_loop_post(). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "sb/log.h"
#include "sb/loop.h"

struct job {
    struct job *next;
    struct sb__db_call call;
    char *mem; /* SQL text, parameter array and copied strings, one block */
    struct sb_loop *loop;
    sb_db_done_fn cb;
    void *arg;
    struct sb_db_done done;
    char err[SB_DB_ERR_MAX];
};

struct sb_db_pool {
    char *url;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    struct job *head, *tail;
    unsigned pending; /* queued + running */
    bool stopping;
    unsigned n_threads;
    pthread_t *threads;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    sb_db_res_free(j->done.res);
    free(j->mem);
    free(j);
}

/* Copy the statement so that it outlives the caller's stack and strings. */
static struct job *job_from(const struct sb__db_stmt *st)
{
    size_t sql_len = st->sql.len + 1;
    size_t pbytes = st->n_params * sizeof(struct sb_db_val);
    size_t sbytes = 0;
    for (unsigned i = 0; i < st->n_params; i++)
        if (st->params[i].type == SB_DB_STR || st->params[i].type == SB_DB_BLOB)
            sbytes += st->params[i].v.s.len + 1;
    struct job *j = calloc(1, sizeof *j);
    char *m = malloc(pbytes + sql_len + sbytes + 1);
    if (!j || !m) {
        free(j);
        free(m);
        return NULL;
    }
    struct sb_db_val *params = (struct sb_db_val *)m; /* malloc alignment suits the array */
    char *sql = m + pbytes;
    char *s = sql + sql_len;
    memcpy(sql, st->sql.p, sql_len);
    for (unsigned i = 0; i < st->n_params; i++) {
        params[i] = st->params[i];
        if (params[i].type == SB_DB_STR || params[i].type == SB_DB_BLOB) {
            if (params[i].v.s.len)
                memcpy(s, params[i].v.s.p, params[i].v.s.len);
            s[params[i].v.s.len] = 0;
            params[i].v.s.p = s;
            s += params[i].v.s.len + 1;
        }
    }
    j->mem = m;
    j->call = (struct sb__db_call){sql, params, st->n_params, st->is_script, st->returns_id};
    return j;
}

static void drop_job(void *arg)
{
    job_free(arg);
}

static void deliver(void *arg)
{
    struct job *j = arg;
    j->done.errmsg = j->err;
    j->cb(&j->done, j->arg);
    job_free(j);
}

static void run_job(struct sb_db_pool *p, struct sb_db **db, struct job *j)
{
    j->err[0] = 0;
    if (!*db) {
        int rc = sb_db_open(p->url, db, j->err, sizeof j->err);
        if (rc != 0) {
            /* a server that is down is retryable; the next job tries again */
            j->done.rc = rc;
            return;
        }
    }
    struct sb_db_res *r = NULL;
    int rc = sb__db_exec(*db, &j->call, &r);
    j->done.rc = rc;
    if (rc != 0) {
        snprintf(j->err, sizeof j->err, "%s", sb_db_errmsg(*db));
        return;
    }
    if (r) {
        j->done.affected = r->affected;
        if (j->call.returns_id) {
            j->done.id = sb_db_val_int(sb_db_res_at(r, 0, 0), -1);
            sb_db_res_free(r);
            r = NULL;
        } else if (r->n_cols == 0) {
            sb_db_res_free(r);
            r = NULL;
        }
    }
    j->done.res = r;
}

static void *worker(void *arg)
{
    struct sb_db_pool *p = arg;
    struct sb_db *db = NULL;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        struct job *j = p->head;
        if (!j)
            break; /* stopping and drained */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);

        run_job(p, &db, j);
        /* not pending any more once its completion is on its way */
        pthread_mutex_lock(&p->lock);
        p->pending--;
        pthread_mutex_unlock(&p->lock);
        if (sb_loop_post(j->loop, deliver, drop_job, j) != 0) {
            SB_ERR("db pool: cannot post a completion, operation result lost");
            job_free(j);
        }

        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    sb_db_close(db);
    return NULL;
}

int sb_db_pool_new(const char *url, unsigned n_threads, struct sb_db_pool **out, char *err,
                   size_t errlen)
{
    const struct sb_db_driver *drv;
    char msg[SB_DB_ERR_MAX];
    *out = NULL;
    int rc = sb__db_driver_for(url, &drv, msg, sizeof msg);
    if (rc != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s", msg);
        return rc;
    }
    if (n_threads == 0)
        n_threads = 1;
    struct sb_db_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->url = strdup(url)) || !(p->threads = calloc(n_threads, sizeof *p->threads))) {
        if (p)
            free(p->url);
        free(p);
        return SB_ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (unsigned i = 0; i < n_threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            if (err && errlen)
                snprintf(err, errlen, "cannot start database threads");
            p->n_threads = i;
            sb_db_pool_free(p);
            return SB_ENOMEM;
        }
        p->n_threads = i + 1;
    }
    *out = p;
    return 0;
}

void sb_db_pool_free(struct sb_db_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p->url);
    free(p);
}

unsigned sb_db_pool_pending(const struct sb_db_pool *p)
{
    struct sb_db_pool *mp = (struct sb_db_pool *)p;
    pthread_mutex_lock(&mp->lock);
    unsigned n = mp->pending;
    pthread_mutex_unlock(&mp->lock);
    return n;
}

/* The driver of the pool's URL, for building the statement on the submitting thread. */
static const struct sb_db_driver *pool_driver(struct sb_db_pool *p)
{
    const struct sb_db_driver *drv;
    char msg[8];
    return sb__db_driver_for(p->url, &drv, msg, sizeof msg) == 0 ? drv : NULL;
}

static int submit(struct sb_db_pool *p, struct sb__db_stmt *st, int build_rc, struct sb_loop *loop,
                  sb_db_done_fn cb, void *arg)
{
    struct job *j = NULL;
    int rc = build_rc;
    if (rc == 0 && (!loop || !cb))
        rc = SB_EINVAL;
    if (rc == 0 && !(j = job_from(st)))
        rc = SB_ENOMEM;
    free(st);
    if (rc != 0)
        return rc;
    j->loop = loop;
    j->cb = cb;
    j->arg = arg;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        job_free(j);
        return SB_EINVAL;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->pending++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

#define SUBMIT(build_call)                                                                         \
    do {                                                                                           \
        const struct sb_db_driver *drv = pool_driver(p);                                           \
        if (!drv)                                                                                  \
            return SB_ENOENT;                                                                      \
        struct sb__db_stmt *st = malloc(sizeof *st);                                               \
        if (!st)                                                                                   \
            return SB_ENOMEM;                                                                      \
        return submit(p, st, (build_call), loop, cb, arg);                                         \
    } while (0)

int sb_db_async_select(struct sb_db_pool *p, const struct sb_db_query *q, struct sb_loop *loop,
                       sb_db_done_fn cb, void *arg)
{
    SUBMIT(sb__db_build_select(drv, q, st));
}

int sb_db_async_insert(struct sb_db_pool *p, const char *table, const struct sb_db_kv *kv,
                       unsigned n, struct sb_loop *loop, sb_db_done_fn cb, void *arg)
{
    SUBMIT(sb__db_build_insert(drv, table, kv, n, NULL, st));
}

int sb_db_async_insert_id(struct sb_db_pool *p, const char *table, const struct sb_db_kv *kv,
                          unsigned n, const char *id_col, struct sb_loop *loop, sb_db_done_fn cb,
                          void *arg)
{
    if (!id_col)
        return SB_EINVAL;
    SUBMIT(sb__db_build_insert(drv, table, kv, n, id_col, st));
}

int sb_db_async_update(struct sb_db_pool *p, const char *table, const struct sb_db_cond *where,
                       unsigned n_where, const struct sb_db_kv *set, unsigned n_set,
                       struct sb_loop *loop, sb_db_done_fn cb, void *arg)
{
    SUBMIT(sb__db_build_update(drv, table, where, n_where, set, n_set, st));
}

int sb_db_async_delete(struct sb_db_pool *p, const char *table, const struct sb_db_cond *where,
                       unsigned n_where, struct sb_loop *loop, sb_db_done_fn cb, void *arg)
{
    SUBMIT(sb__db_build_delete(drv, table, where, n_where, st));
}

int sb_db_async_replace(struct sb_db_pool *p, const char *table, const struct sb_db_kv *kv,
                        unsigned n, const char *const *key_cols, unsigned n_keys,
                        struct sb_loop *loop, sb_db_done_fn cb, void *arg)
{
    SUBMIT(sb__db_build_replace(drv, table, kv, n, key_cols, n_keys, st));
}

int sb_db_async_raw(struct sb_db_pool *p, const char *sql, const struct sb_db_val *params,
                    unsigned n_params, struct sb_loop *loop, sb_db_done_fn cb, void *arg)
{
    /* asynchronous raw statements always collect rows: the caller cannot say it wants none */
    SUBMIT(sb__db_build_raw(drv, sql, params, n_params, true, st));
}
