/* SPDX-License-Identifier: BSD-2-Clause */
/* The embedded HTTP server's handler table. Modules register a handler for a method and a path
 * prefix (mi_http: POST /mi, prometheus: GET /metrics) in their init; the httpd module serves
 * them from its own thread(s). The table lives in the core so that registering does not depend
 * on module order. */
#ifndef SB_HTTPD_H
#define SB_HTTPD_H

#include "sb/base-t.h"

#define SB_HTTPD_MAX_HANDLERS 32

struct sb_http_resp;

/* A request answered later (the first member of the server's own state). */
struct sb_http_later {
    void (*answer)(struct sb_http_later *l, struct sb_http_resp *resp);
};

/* A request as a handler sees it. Everything borrows from the server and is valid during the
 * call only. */
struct sb_http_req {
    const char *method; /* "GET", "POST" ... */
    const char *path;   /* "/mi/ps" (no query string) */
    const char *body;   /* request body, NUL-terminated; "" when none */
    size_t body_len;
    /* header lookup, case-insensitive; NULL when absent */
    const char *(*header)(const struct sb_http_req *r, const char *name);
    void *conn; /* the server's connection, for header() */
    /* Answer later instead of filling <resp>: the handler gets a handle and must pass it to
     * sb_httpd_answer() exactly once, from any thread, possibly before it returns; <resp> is
     * ignored then. The connection waits meanwhile without holding a server thread. NULL when
     * the server cannot (answer at once). */
    struct sb_http_later *(*defer)(const struct sb_http_req *r);
};

/* What the handler answers. <body> is malloc'd and taken by the server (NULL for none). */
struct sb_http_resp {
    int status;               /* 200 when left 0 */
    const char *content_type; /* static string; "text/plain" when NULL */
    char *body;
    size_t body_len;
    const char *www_authenticate; /* static string, for 401 */
};

typedef void (*sb_httpd_handler)(const struct sb_http_req *req, struct sb_http_resp *resp,
                                 void *arg);

/* Register <h> for requests with <method> ("GET", "POST"; NULL for any) whose path is <prefix>
 * or starts with <prefix> followed by '/'. <prefix> starts with '/'; it is copied. The longest
 * matching prefix wins. Control thread, before the server starts (module init). Returns 0,
 * SB_EINVAL (a duplicate or a bad prefix) or SB_ELIMIT. */
int sb_httpd_register(const char *method, const char *prefix, sb_httpd_handler h, void *arg);
/* Answer a request deferred with req->defer(): <resp> is copied and its body taken. After a
 * server shutdown answered the request itself (503), the answer is dropped. Any thread. */
void sb_httpd_answer(struct sb_http_later *l, struct sb_http_resp *resp);
/* Serve one request through the table: 404 when no prefix matches, 405 when only the method
 * differs. Any thread. */
void sb_httpd_dispatch(const struct sb_http_req *req, struct sb_http_resp *resp);
/* Remove the handler registered for exactly <method> and <prefix>; when it returns, no thread is
 * running it any more (a module calls this in destroy before freeing what its handler reads).
 * Not from inside a handler. Returns 0 or SB_ENOENT. */
int sb_httpd_unregister(const char *method, const char *prefix);
/* Forget every handler (shutdown, tests). */
void sb_httpd_reset(void);

#endif
