/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl user: subscribers in the `subscriber` table, with the HA1 of every digest algorithm so
 * that auth_db works with calculate_ha1 on (reads password) or off (reads ha1*). */
#include <stdio.h>
#include <string.h>

#include "sb/auth.h"
#include "sb/base.h"
#include "sb/hdr-t.h"
#include "sbctl.h"

struct aor {
    char user[128], domain[128];
};

static int aor_parse(const char *s, struct aor *a)
{
    if (strncmp(s, "sip:", 4) == 0)
        s += 4;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || (size_t)(at - s) >= sizeof a->user ||
        strlen(at + 1) >= sizeof a->domain) {
        fprintf(stderr, "sbctl: expected USER@DOMAIN, got '%s'\n", s);
        return -1;
    }
    snprintf(a->user, sizeof a->user, "%.*s", (int)(at - s), s);
    snprintf(a->domain, sizeof a->domain, "%s", at + 1);
    return 0;
}

struct ha1s {
    char md5[SB_AUTH_HEX_MAX + 1], sha256[SB_AUTH_HEX_MAX + 1], sha512t256[SB_AUTH_HEX_MAX + 1];
};

/* The realm is the domain, as OpenSIPS's tools compute it. */
static int ha1s_make(const struct aor *a, const char *pw, struct ha1s *h)
{
    sb_str u = sb_str_cstr(a->user), r = sb_str_cstr(a->domain), p = sb_str_cstr(pw);
    if (sb_auth_ha1(SB_DIGEST_ALG_MD5, u, r, p, h->md5) < 0 ||
        sb_auth_ha1(SB_DIGEST_ALG_SHA256, u, r, p, h->sha256) < 0 ||
        sb_auth_ha1(SB_DIGEST_ALG_SHA512_256, u, r, p, h->sha512t256) < 0) {
        fprintf(stderr, "sbctl: cannot compute the HA1 hashes\n");
        return -1;
    }
    return 0;
}

static int user_add(struct sbctl *c, struct sb_db *db, const struct aor *a, const char *pw)
{
    struct ha1s h;
    if (ha1s_make(a, pw, &h) != 0)
        return 1;
    struct sb_db_kv kv[] = {
        {"username", SB_DB_VCSTR(a->user)},    {"domain", SB_DB_VCSTR(a->domain)},
        {"password", SB_DB_VCSTR(pw)},         {"ha1", SB_DB_VCSTR(h.md5)},
        {"ha1_sha256", SB_DB_VCSTR(h.sha256)}, {"ha1_sha512t256", SB_DB_VCSTR(h.sha512t256)},
    };
    struct sb_db_cond w[] = {{"username", SB_DB_EQ, SB_DB_VCSTR(a->user)},
                             {"domain", SB_DB_EQ, SB_DB_VCSTR(a->domain)}};
    struct sb_db_query q = {.table = "subscriber", .where = w, .n_where = 2};
    struct sb_db_res *r;
    int rc = sb_db_select(db, &q, &r);
    if (rc == 0) {
        unsigned n = r->n_rows;
        sb_db_res_free(r);
        if (n) {
            fprintf(stderr, "sbctl: user %s@%s already exists (use 'sbctl user passwd')\n", a->user,
                    a->domain);
            return 1;
        }
        rc = sb_db_insert(db, "subscriber", kv, SB_ARRAY_LEN(kv));
    }
    if (rc != 0) {
        fprintf(stderr, "sbctl: user add: %s\n", sb_db_errmsg(db));
        return 1;
    }
    if (c->json)
        printf("{\"added\":\"%s@%s\"}\n", a->user, a->domain);
    else
        printf("added %s@%s\n", a->user, a->domain);
    return 0;
}

static int user_passwd(struct sbctl *c, struct sb_db *db, const struct aor *a, const char *pw)
{
    struct ha1s h;
    if (ha1s_make(a, pw, &h) != 0)
        return 1;
    struct sb_db_kv set[] = {
        {"password", SB_DB_VCSTR(pw)},
        {"ha1", SB_DB_VCSTR(h.md5)},
        {"ha1_sha256", SB_DB_VCSTR(h.sha256)},
        {"ha1_sha512t256", SB_DB_VCSTR(h.sha512t256)},
    };
    struct sb_db_cond w[] = {{"username", SB_DB_EQ, SB_DB_VCSTR(a->user)},
                             {"domain", SB_DB_EQ, SB_DB_VCSTR(a->domain)}};
    uint64_t n = 0;
    if (sb_db_update(db, "subscriber", w, 2, set, SB_ARRAY_LEN(set), &n) != 0) {
        fprintf(stderr, "sbctl: user passwd: %s\n", sb_db_errmsg(db));
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "sbctl: no user %s@%s\n", a->user, a->domain);
        return 1;
    }
    if (c->json)
        printf("{\"updated\":\"%s@%s\"}\n", a->user, a->domain);
    else
        printf("password changed for %s@%s\n", a->user, a->domain);
    return 0;
}

static int user_rm(struct sbctl *c, struct sb_db *db, const struct aor *a)
{
    struct sb_db_cond w[] = {{"username", SB_DB_EQ, SB_DB_VCSTR(a->user)},
                             {"domain", SB_DB_EQ, SB_DB_VCSTR(a->domain)}};
    uint64_t n = 0;
    if (sb_db_delete(db, "subscriber", w, 2, &n) != 0) {
        fprintf(stderr, "sbctl: user rm: %s\n", sb_db_errmsg(db));
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "sbctl: no user %s@%s\n", a->user, a->domain);
        return 1;
    }
    if (c->json)
        printf("{\"removed\":\"%s@%s\"}\n", a->user, a->domain);
    else
        printf("removed %s@%s\n", a->user, a->domain);
    return 0;
}

static int user_list(struct sbctl *c, struct sb_db *db, const char *domain)
{
    static const char *const cols[] = {"username", "domain", "email_address"};
    struct sb_db_cond w = {"domain", SB_DB_EQ, SB_DB_VCSTR(domain ? domain : "")};
    struct sb_db_query q = {.table = "subscriber",
                            .cols = cols,
                            .n_cols = 3,
                            .where = domain ? &w : NULL,
                            .n_where = domain ? 1 : 0,
                            .order_by = "id"};
    struct sb_db_res *r;
    if (sb_db_select(db, &q, &r) != 0) {
        fprintf(stderr, "sbctl: user list: %s\n", sb_db_errmsg(db));
        return 1;
    }
    if (c->json)
        printf("[");
    for (unsigned i = 0; i < r->n_rows; i++) {
        sb_str u = sb_db_val_str(sb_db_res_at(r, i, 0));
        sb_str d = sb_db_val_str(sb_db_res_at(r, i, 1));
        sb_str e = sb_db_val_str(sb_db_res_at(r, i, 2));
        if (c->json) {
            printf("%s{\"username\":", i ? "," : "");
            sbctl_json_str(stdout, u.p ? u.p : "");
            printf(",\"domain\":");
            sbctl_json_str(stdout, d.p ? d.p : "");
            printf(",\"email_address\":");
            sbctl_json_str(stdout, e.p ? e.p : "");
            printf("}");
        } else {
            printf("%s@%s%s%s\n", u.p ? u.p : "", d.p ? d.p : "", e.len ? "  " : "",
                   e.len ? e.p : "");
        }
    }
    if (c->json)
        printf("]\n");
    else if (r->n_rows == 0)
        fprintf(stderr, "no users\n");
    sb_db_res_free(r);
    return 0;
}

int sbctl_user(struct sbctl *c, int argc, char **argv)
{
    struct aor a;
    const char *cmd = argc ? argv[0] : "";
    int need = strcmp(cmd, "add") == 0 || strcmp(cmd, "passwd") == 0 ? 3
               : strcmp(cmd, "rm") == 0                              ? 2
               : strcmp(cmd, "list") == 0                            ? 1
                                                                     : -1;
    if (need < 0 || argc < need || argc > (need == 1 ? 2 : need)) {
        fprintf(stderr, "usage: sbctl user add|passwd USER@DOMAIN PASSWORD | rm USER@DOMAIN | "
                        "list [DOMAIN]\n");
        return 2;
    }
    if (need > 1 && aor_parse(argv[1], &a) != 0)
        return 2;
    struct sb_db *db;
    if (sbctl_open(c, &db) != 0)
        return 1;
    int rc;
    if (strcmp(cmd, "add") == 0)
        rc = user_add(c, db, &a, argv[2]);
    else if (strcmp(cmd, "passwd") == 0)
        rc = user_passwd(c, db, &a, argv[2]);
    else if (strcmp(cmd, "rm") == 0)
        rc = user_rm(c, db, &a);
    else
        rc = user_list(c, db, argc > 1 ? argv[1] : NULL);
    sb_db_close(db);
    return rc;
}
