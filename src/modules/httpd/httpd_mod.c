/* SPDX-License-Identifier: BSD-2-Clause */
/* httpd: the embedded HTTP server (libmicrohttpd) on its own threads. It serves the handler
 * table of include/sb/httpd.h, filled by other modules (mi_http, prometheus). A deferred request
 * suspends its connection until the answer arrives from another thread. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sb/httpd.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/mod-t.h"

#define MAX_BODY     (1u << 20)
#define POOL_THREADS 2
#define CONN_TIMEOUT 30 /* seconds an idle connection is kept */

static struct {
    char *ip;
    int port;
} conf = {
    .ip = "127.0.0.1",
    .port = 8888,
};

static struct MHD_Daemon *daemon_h;
static _Thread_local bool thread_known; /* this server thread is in the `ps` list */

/* A deferred request. Referenced by its connection and by its answerer; the last one frees it.
 * <lock> orders the answer against the suspension: the connection is suspended under it, so an
 * answer that finds <suspended> set may resume it. */
struct later {
    struct sb_http_later pub;
    pthread_mutex_t lock;
    int refs; /* atomic */
    bool answered, suspended;
    struct sb_http_resp resp;
    struct MHD_Connection *conn;
    struct later *prev, *next; /* the suspended list */
};

/* Suspended connections, for the shutdown (MHD must not be stopped with any of them). */
static struct {
    pthread_mutex_t lock;
    struct later *head;
    bool stopping;
} susp = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A request body being received. */
struct upload {
    char *buf;
    size_t len;
    bool too_big;
    struct later *later;
};

/* The request handed to the handlers, with the way back to its upload. */
struct req_ext {
    struct sb_http_req pub;
    struct upload *up;
};

static const char *req_header(const struct sb_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct sb_http_resp *resp)
{
    struct MHD_Response *r;
    if (resp->body)
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(resp->body);
        return MHD_NO;
    }
    if (resp->body)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "text/plain");
    if (resp->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void later_unref(struct later *l)
{
    if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l->resp.body);
    free(l);
}

static void susp_unlink(struct later *l)
{
    pthread_mutex_lock(&susp.lock);
    if (l->prev)
        l->prev->next = l->next;
    else if (susp.head == l)
        susp.head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
    pthread_mutex_unlock(&susp.lock);
}

/* sb_httpd_answer(): keep the answer and wake the connection; its handler sends it. */
static void later_answer(struct sb_http_later *pub, struct sb_http_resp *resp)
{
    struct later *l = (struct later *)pub;
    pthread_mutex_lock(&l->lock);
    if (l->answered) {
        pthread_mutex_unlock(&l->lock);
        free(resp->body);
        resp->body = NULL;
        later_unref(l);
        return;
    }
    l->answered = true;
    l->resp = *resp;
    resp->body = NULL;
    bool resume = l->suspended;
    l->suspended = false;
    pthread_mutex_unlock(&l->lock);
    if (resume) {
        susp_unlink(l);
        /* outside our lock: MHD takes its own, and calls on_completed under it at shutdown */
        MHD_resume_connection(l->conn);
    }
    later_unref(l);
}

static struct sb_http_later *req_defer(const struct sb_http_req *r)
{
    struct upload *up = ((const struct req_ext *)r)->up;
    if (up->later)
        return NULL; /* one deferral per request */
    struct later *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->pub.answer = later_answer;
    pthread_mutex_init(&l->lock, NULL);
    l->refs = 2; /* the connection's and the answerer's */
    l->conn = r->conn;
    up->later = l;
    return &l->pub;
}

/* After the handler deferred: send the answer if it is already there, else park the
 * connection until later_answer() resumes it. */
static enum MHD_Result park_or_send(struct MHD_Connection *conn, struct later *l)
{
    pthread_mutex_lock(&l->lock);
    if (!l->answered) {
        pthread_mutex_lock(&susp.lock);
        bool stopping = susp.stopping;
        if (!stopping) {
            l->next = susp.head;
            if (susp.head)
                susp.head->prev = l;
            susp.head = l;
        }
        pthread_mutex_unlock(&susp.lock);
        if (!stopping) {
            l->suspended = true;
            MHD_suspend_connection(conn);
            pthread_mutex_unlock(&l->lock);
            return MHD_YES;
        }
        l->answered = true;
        l->resp.status = MHD_HTTP_SERVICE_UNAVAILABLE;
        l->resp.body = strdup("Shutting down\n");
        l->resp.body_len = l->resp.body ? strlen(l->resp.body) : 0;
    }
    pthread_mutex_unlock(&l->lock);
    struct sb_http_resp resp = l->resp;
    l->resp.body = NULL; /* send_resp takes it */
    if (!resp.status)
        resp.status = 200;
    return send_resp(conn, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    if (!thread_known) {
        thread_known = true;
        sb_mi_thread_register("HTTPD");
    }
    struct upload *up = *con_cls;
    if (!up) {
        /* first call: headers only; the body (if any) follows in further calls */
        up = calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (up->later) /* resumed: the answer is there */
        return park_or_send(conn, up->later);
    if (*upload_size) {
        if (up->len + *upload_size > MAX_BODY) {
            up->too_big = true;
        } else if (!up->too_big) {
            char *n = realloc(up->buf, up->len + *upload_size + 1);
            if (!n)
                return MHD_NO;
            memcpy(n + up->len, upload_data, *upload_size);
            up->buf = n;
            up->len += *upload_size;
            up->buf[up->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    struct sb_http_resp resp = {0};
    if (up->too_big) {
        resp.status = MHD_HTTP_CONTENT_TOO_LARGE;
        resp.body = strdup("Request body too large\n");
        resp.body_len = resp.body ? strlen(resp.body) : 0;
        return send_resp(conn, &resp);
    }
    struct req_ext req = {
        .pub =
            {
                .method = method,
                .path = url,
                .body = up->buf ? up->buf : "",
                .body_len = up->len,
                .header = req_header,
                .conn = conn,
                .defer = req_defer,
            },
        .up = up,
    };
    sb_httpd_dispatch(&req.pub, &resp);
    if (up->later) {
        free(resp.body);
        return park_or_send(conn, up->later);
    }
    if (!resp.status)
        resp.status = 200;
    return send_resp(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct upload *up = *con_cls;
    if (up) {
        if (up->later) {
            susp_unlink(up->later);
            later_unref(up->later);
        }
        free(up->buf);
        free(up);
        *con_cls = NULL;
    }
}

static int httpd_init(void)
{
    if (conf.port <= 0 || conf.port > 65535) {
        SB_ERR("httpd: port %d is out of range", conf.port);
        return SB_EINVAL;
    }
    struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)conf.port)};
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)conf.port)};
    const struct sockaddr *sa;
    /* deferred answers (asynchronous MI commands) suspend their connection */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (inet_pton(AF_INET, conf.ip, &sa4.sin_addr) == 1) {
        sa = (const struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, conf.ip, &sa6.sin6_addr) == 1) {
        sa = (const struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        SB_ERR("httpd: ip '%s' is not an IPv4 or IPv6 address", conf.ip);
        return SB_EINVAL;
    }
    daemon_h = MHD_start_daemon(
        flags, (uint16_t)conf.port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONN_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!daemon_h) {
        SB_ERR("httpd: cannot listen on %s:%d", conf.ip, conf.port);
        return SB_EINVAL;
    }
    SB_NOTICE("httpd: listening on %s%s%s:%d", sa->sa_family == AF_INET6 ? "[" : "", conf.ip,
              sa->sa_family == AF_INET6 ? "]" : "", conf.port);
    return 0;
}

/* Answer every parked connection: MHD must not be stopped while one is suspended. */
static void answer_parked(void)
{
    pthread_mutex_lock(&susp.lock);
    susp.stopping = true;
    struct later *list[64];
    unsigned n = 0;
    for (struct later *l = susp.head; l && n < SB_ARRAY_LEN(list); l = l->next) {
        __atomic_add_fetch(&l->refs, 1, __ATOMIC_ACQ_REL);
        list[n++] = l;
    }
    bool more = susp.head && n == SB_ARRAY_LEN(list);
    pthread_mutex_unlock(&susp.lock);
    for (unsigned i = 0; i < n; i++) {
        struct sb_http_resp resp = {.status = MHD_HTTP_SERVICE_UNAVAILABLE,
                                    .body = strdup("Shutting down\n")};
        resp.body_len = resp.body ? strlen(resp.body) : 0;
        later_answer(&list[i]->pub, &resp);
    }
    if (more)
        answer_parked();
}

static void httpd_destroy(void)
{
    /* pending MI commands first, so that their answers go out the normal way */
    sb_mi_async_shutdown();
    answer_parked();
    if (daemon_h) {
        MHD_stop_daemon(daemon_h);
        daemon_h = NULL;
    }
    susp.stopping = false;
    sb_httpd_reset();
}

static const struct sb_mod_param params[] = {
    {.name = "ip", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), ip)},
    {.name = "port", .type = SB_MP_INT, .offset = offsetof(__typeof__(conf), port)},
    {.name = NULL},
};

const struct sb_module sb_module_httpd = {
    .name = "httpd",
    .summary = "embedded HTTP server for the management interface and metrics",
    .conf = &conf,
    .params = params,
    .init = httpd_init,
    .destroy = httpd_destroy,
};
