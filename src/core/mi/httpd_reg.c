/* SPDX-License-Identifier: BSD-2-Clause */
/* The HTTP handler table (include/sb/httpd.h): filled by module init, read by the httpd
 * module's threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb/httpd.h"
#include "sb/log.h"

struct handler {
    char *method; /* NULL: any */
    char *prefix;
    size_t prefix_len;
    sb_httpd_handler fn;
    void *arg;
};

/* Mostly written before the server starts, but a module that depends on httpd registers after
 * httpd's init has started serving: readers and writers take <table_lock>. A handler runs under
 * the read lock, so that sb_httpd_unregister() (write lock) waits for the calls in flight. */
static struct handler table[SB_HTTPD_MAX_HANDLERS];
static unsigned n_handlers;
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcasecmp(a, b));
}

int sb_httpd_register(const char *method, const char *prefix, sb_httpd_handler h, void *arg)
{
    if (!prefix || prefix[0] != '/' || !h)
        return SB_EINVAL;
    /* "/mi/" and "/mi" are the same prefix */
    size_t len = strlen(prefix);
    while (len > 1 && prefix[len - 1] == '/')
        len--;
    int rc = 0;
    pthread_rwlock_wrlock(&table_lock);
    for (unsigned i = 0; i < n_handlers; i++)
        if (same(table[i].method, method) && table[i].prefix_len == len &&
            !strncmp(table[i].prefix, prefix, len)) {
            SB_ERR("httpd: %s %.*s is already handled", method ? method : "*", (int)len, prefix);
            rc = SB_EINVAL;
            goto out;
        }
    if (n_handlers == SB_HTTPD_MAX_HANDLERS) {
        rc = SB_ELIMIT;
        goto out;
    }
    struct handler *e = &table[n_handlers];
    e->prefix = strndup(prefix, len);
    e->method = method ? strdup(method) : NULL;
    if (!e->prefix || (method && !e->method)) {
        free(e->prefix);
        free(e->method);
        memset(e, 0, sizeof(*e));
        rc = SB_ENOMEM;
        goto out;
    }
    e->prefix_len = len;
    e->fn = h;
    e->arg = arg;
    n_handlers++;
out:
    pthread_rwlock_unlock(&table_lock);
    return rc;
}

static bool path_under(const char *path, const struct handler *e)
{
    if (e->prefix_len == 1) /* "/" takes everything */
        return true;
    return !strncmp(path, e->prefix, e->prefix_len) &&
           (path[e->prefix_len] == '\0' || path[e->prefix_len] == '/');
}

static void plain(struct sb_http_resp *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain";
    resp->body = strdup(text);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

void sb_httpd_dispatch(const struct sb_http_req *req, struct sb_http_resp *resp)
{
    const struct handler *best = NULL;
    bool path_known = false;
    pthread_rwlock_rdlock(&table_lock);
    for (unsigned i = 0; i < n_handlers; i++) {
        const struct handler *e = &table[i];
        if (!path_under(req->path, e))
            continue;
        path_known = true;
        if (e->method && strcasecmp(e->method, req->method) != 0)
            continue;
        if (!best || e->prefix_len > best->prefix_len)
            best = e;
    }
    if (best) {
        best->fn(req, resp, best->arg);
        pthread_rwlock_unlock(&table_lock);
        if (!resp->status)
            resp->status = 200;
        return;
    }
    pthread_rwlock_unlock(&table_lock);
    if (path_known)
        plain(resp, 405, "Method Not Allowed\n");
    else
        plain(resp, 404, "Not Found\n");
}

void sb_httpd_answer(struct sb_http_later *l, struct sb_http_resp *resp)
{
    l->answer(l, resp);
}

int sb_httpd_unregister(const char *method, const char *prefix)
{
    if (!prefix)
        return SB_EINVAL;
    size_t len = strlen(prefix);
    while (len > 1 && prefix[len - 1] == '/')
        len--;
    int rc = SB_ENOENT;
    pthread_rwlock_wrlock(&table_lock);
    for (unsigned i = 0; i < n_handlers; i++) {
        struct handler *e = &table[i];
        if (!same(e->method, method) || e->prefix_len != len || strncmp(e->prefix, prefix, len))
            continue;
        free(e->prefix);
        free(e->method);
        memmove(e, e + 1, (n_handlers - i - 1) * sizeof(*e));
        memset(&table[--n_handlers], 0, sizeof(*e));
        rc = 0;
        break;
    }
    pthread_rwlock_unlock(&table_lock);
    return rc;
}

void sb_httpd_reset(void)
{
    pthread_rwlock_wrlock(&table_lock);
    for (unsigned i = 0; i < n_handlers; i++) {
        free(table[i].prefix);
        free(table[i].method);
    }
    memset(table, 0, sizeof(table));
    n_handlers = 0;
    pthread_rwlock_unlock(&table_lock);
}
