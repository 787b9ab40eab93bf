/* SPDX-License-Identifier: BSD-2-Clause */
/* mi_http: JSON-RPC 2.0 management requests over HTTP, `POST /<root>` on the httpd module,
 * with optional basic authentication. An asynchronous command's request is deferred: its
 * connection waits for the reply without holding an httpd thread or the management lock. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb/httpd.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/mod-t.h"

static struct {
    char *root;
    char *auth_user;
    char *auth_password;
} conf = {
    .root = "mi",
};

static char path[256];

/* Does the Authorization header carry our user and password (RFC 7617 basic)? */
static bool authorized(const struct sb_http_req *req)
{
    if (!conf.auth_user || !*conf.auth_user)
        return true;
    const char *h = req->header(req, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    h += 6;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    if (len == 0 || len > 1024 || len % 4)
        return false;
    unsigned char dec[800];
    int n = EVP_DecodeBlock(dec, (const unsigned char *)h, (int)len);
    if (n < 0)
        return false;
    /* EVP_DecodeBlock counts the '=' padding as zero bytes */
    for (size_t i = len; i > 0 && h[i - 1] == '='; i--)
        n--;
    dec[n] = '\0';
    char want[800];
    int w = snprintf(want, sizeof(want), "%s:%s", conf.auth_user,
                     conf.auth_password ? conf.auth_password : "");
    if (w < 0 || (size_t)w >= sizeof(want) || w != n)
        return false;
    return CRYPTO_memcmp(want, dec, (size_t)n) == 0;
}

static void fill(struct sb_http_resp *resp, json_t *reply)
{
    char *text = sb_mi_reply_text(reply);
    if (!text) {
        resp->status = 204; /* a notification: nothing to answer */
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = text;
    resp->body_len = strlen(text);
}

/* The reply of an asynchronous command (any thread). */
static void on_reply(void *arg, json_t *reply)
{
    struct sb_http_resp resp = {0};
    fill(&resp, reply);
    sb_httpd_answer(arg, &resp);
}

static void on_mi(const struct sb_http_req *req, struct sb_http_resp *resp, void *arg)
{
    (void)arg;
    if (!authorized(req)) {
        resp->status = 401;
        resp->www_authenticate = "Basic realm=\"switchboard\"";
        resp->body = strdup("Unauthorized\n");
        resp->body_len = resp->body ? strlen(resp->body) : 0;
        return;
    }
    struct sb_http_later *later = req->defer ? req->defer(req) : NULL;
    if (!later) {
        /* a server that cannot defer: wait here */
        char *text = sb_mi_handle(req->body, req->body_len);
        if (text) {
            resp->content_type = "application/json";
            resp->body = text;
            resp->body_len = strlen(text);
        }
        resp->status = text ? 200 : 204;
        return;
    }
    json_t *reply = NULL;
    int rc = sb_mi_handle_async(req->body, req->body_len, on_reply, later, &reply);
    if (rc == 1)
        return; /* on_reply answers */
    struct sb_http_resp now = {0};
    if (rc < 0) {
        now.status = 500;
        now.body = strdup("Out of memory\n");
        now.body_len = now.body ? strlen(now.body) : 0;
    } else {
        fill(&now, reply);
    }
    sb_httpd_answer(later, &now);
}

static int mi_http_init(void)
{
    const char *root = conf.root ? conf.root : "mi";
    while (*root == '/')
        root++;
    int n = snprintf(path, sizeof(path), "/%s", root);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        SB_ERR("mi_http: root '%s' is too long", conf.root);
        return SB_EINVAL;
    }
    int rc = sb_httpd_register("POST", path, on_mi, NULL);
    if (rc != 0)
        SB_ERR("mi_http: cannot serve %s (%d)", path, rc);
    return rc;
}

static const char *const deps[] = {"httpd", NULL};

static const struct sb_mod_param params[] = {
    {.name = "root", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), root)},
    {.name = "auth_user", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), auth_user)},
    {.name = "auth_password",
     .type = SB_MP_STR,
     .offset = offsetof(__typeof__(conf), auth_password)},
    {.name = NULL},
};

const struct sb_module sb_module_mi_http = {
    .name = "mi_http",
    .summary = "management interface (JSON-RPC 2.0) over HTTP",
    .deps = deps,
    .conf = &conf,
    .params = params,
    .init = mi_http_init,
};
