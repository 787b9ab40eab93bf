/* SPDX-License-Identifier: BSD-2-Clause */
/* mi_http: JSON-RPC 2.0 management requests over HTTP, `POST /<root>` on the httpd module,
 * with optional basic authentication. */
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
    char *reply = sb_mi_handle(req->body, req->body_len);
    if (!reply) {
        resp->status = 204; /* a notification: nothing to answer */
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = reply;
    resp->body_len = strlen(reply);
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
