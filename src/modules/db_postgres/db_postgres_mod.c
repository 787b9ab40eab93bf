/* SPDX-License-Identifier: BSD-2-Clause */
/* db_postgres: the PostgreSQL driver of the database layer (URLs
 * postgres://user:pass@host:port/db). One libpq connection per handle; a lost connection is
 * reported as SB_EAGAIN and reset on the next statement. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/db.h"
#include "sb/log.h"
#include "sb/mod.h"

/* type OIDs of the built-in types we map (pg_type.dat) */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
};

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg;
    SB_DEBUG("db_postgres: %s", msg);
}

static int setup(PGconn *c, char *err, size_t errlen)
{
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    /* datetimes travel as UTC text in both directions */
    PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : SB_EAGAIN;
}

static void trim_nl(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

static int drv_open(const char *url, void **conn, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    if (!c) {
        snprintf(err, errlen, "postgres: out of memory");
        return SB_ENOMEM;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password */
        snprintf(err, errlen, "postgres: cannot connect: %s", PQerrorMessage(c));
        trim_nl(err);
        PQfinish(c);
        return SB_EAGAIN;
    }
    int rc = setup(c, err, errlen);
    if (rc != 0) {
        PQfinish(c);
        return rc;
    }
    *conn = c;
    return 0;
}

static void drv_close(void *conn)
{
    PQfinish(conn);
}

/* SQLSTATE classes that a retry can cure: connection exceptions, operator intervention (server
 * shutting down), serialization failures and deadlocks, insufficient resources. */
static bool retryable_state(const char *st)
{
    if (!st)
        return false;
    return strncmp(st, "08", 2) == 0 || strncmp(st, "57", 2) == 0 || strncmp(st, "40", 2) == 0 ||
           strncmp(st, "53", 2) == 0;
}

static int set_type(struct sb_db_res *res, struct sb_db_val *v, Oid type, const char *s, int len)
{
    char *end;
    switch (type) {
    case OID_INT2:
    case OID_INT4: *v = SB_DB_VINT((int32_t)strtol(s, &end, 10)); return 0;
    case OID_INT8:
    case OID_OID: *v = SB_DB_VBIGINT(strtoll(s, &end, 10)); return 0;
    case OID_BOOL: *v = SB_DB_VINT(s[0] == 't'); return 0;
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: *v = SB_DB_VDOUBLE(strtod(s, &end)); return 0;
    case OID_DATE:
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: {
        time_t t;
        if (sb_db_time_parse(s, (size_t)len > 19 ? 19 : (size_t)len, &t) == 0) {
            *v = SB_DB_VTIME(t);
            return 0;
        }
        break; /* infinity and other specials stay text */
    }
    case OID_BYTEA: {
        size_t n = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)s, &n);
        if (!b)
            return SB_ENOMEM;
        int rc = sb_db_res_dup(res, v, SB_DB_BLOB, b, n);
        PQfreemem(b);
        return rc;
    }
    default: break;
    }
    return sb_db_res_dup(res, v, SB_DB_STR, s, (size_t)len);
}

static int collect(PGresult *r, struct sb_db_res *res)
{
    int nc = PQnfields(r), nr = PQntuples(r);
    int rc = sb_db_res_set_cols(res, (unsigned)nc);
    for (int c = 0; rc == 0 && c < nc; c++) {
        const char *name = PQfname(r, c);
        rc = sb_db_res_set_col_name(res, (unsigned)c, name, strlen(name));
    }
    for (int i = 0; rc == 0 && i < nr; i++) {
        struct sb_db_val *row = sb_db_res_add_row(res);
        if (!row)
            return SB_ENOMEM;
        for (int c = 0; rc == 0 && c < nc; c++)
            if (!PQgetisnull(r, i, c))
                rc = set_type(res, &row[c], PQftype(r, c), PQgetvalue(r, i, c),
                              PQgetlength(r, i, c));
    }
    return rc;
}

/* Text (or, for blobs, binary) forms of the parameters; the buffers live in <mem>. */
static int params_text(const struct sb_db_val *params, unsigned n, const char **vals, int *lens,
                       int *fmts, char **mem)
{
    size_t need = 0;
    for (unsigned i = 0; i < n; i++)
        need += (params[i].type == SB_DB_STR ? params[i].v.s.len : 0) + 32;
    char *m = malloc(need + 1);
    if (!m)
        return SB_ENOMEM;
    char *p = m;
    for (unsigned i = 0; i < n; i++) {
        const struct sb_db_val *v = &params[i];
        fmts[i] = 0;
        lens[i] = 0;
        vals[i] = p;
        switch (v->type) {
        case SB_DB_NULL: vals[i] = NULL; continue;
        case SB_DB_INT: p += sprintf(p, "%d", v->v.i) + 1; continue;
        case SB_DB_BIGINT: p += sprintf(p, "%lld", (long long)v->v.bi) + 1; continue;
        case SB_DB_DOUBLE: p += sprintf(p, "%.17g", v->v.d) + 1; continue;
        case SB_DB_DATETIME:
            sb_db_time_format(v->v.t, p);
            p += 20;
            continue;
        case SB_DB_STR:
            if (v->v.s.len)
                memcpy(p, v->v.s.p, v->v.s.len);
            p[v->v.s.len] = 0;
            p += v->v.s.len + 1;
            continue;
        case SB_DB_BLOB:
            vals[i] = v->v.s.p ? v->v.s.p : "";
            lens[i] = (int)v->v.s.len;
            fmts[i] = 1;
            continue;
        default: free(m); return SB_EINVAL;
        }
    }
    *mem = m;
    return 0;
}

static int drv_exec(void *conn, const char *sql, const struct sb_db_val *params, unsigned n_params,
                    struct sb_db_res *res, char *err, size_t errlen)
{
    PGconn *c = conn;
    if (PQstatus(c) != CONNECTION_OK) {
        PQreset(c);
        if (PQstatus(c) != CONNECTION_OK || setup(c, err, errlen) != 0) {
            snprintf(err, errlen, "postgres: connection lost: %s", PQerrorMessage(c));
            trim_nl(err);
            return SB_EAGAIN;
        }
    }
    PGresult *r;
    if (!res) {
        r = PQexec(c, sql);
    } else {
        const char *vals[n_params ? n_params : 1];
        int lens[n_params ? n_params : 1], fmts[n_params ? n_params : 1];
        char *mem = NULL;
        int rc = params_text(params, n_params, vals, lens, fmts, &mem);
        if (rc != 0) {
            snprintf(err, errlen, "postgres: cannot convert parameters");
            return rc;
        }
        r = PQexecParams(c, sql, (int)n_params, NULL, vals, lens, fmts, 0);
        free(mem);
    }
    if (!r) {
        snprintf(err, errlen, "postgres: %s", PQerrorMessage(c));
        trim_nl(err);
        return PQstatus(c) != CONNECTION_OK ? SB_EAGAIN : SB_ENOMEM;
    }
    int rc = 0;
    switch (PQresultStatus(r)) {
    case PGRES_TUPLES_OK:
        rc = res ? collect(r, res) : 0;
        if (rc != 0)
            snprintf(err, errlen, "postgres: out of memory for the result");
        /* fall through */
    case PGRES_COMMAND_OK:
        if (res && rc == 0) {
            const char *n = PQcmdTuples(r);
            res->affected = n && *n ? strtoull(n, NULL, 10) : 0;
        }
        break;
    default: {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(err, errlen, "postgres: %s", PQresultErrorMessage(r));
        trim_nl(err);
        rc = (PQstatus(c) != CONNECTION_OK || retryable_state(state) || !state) ? SB_EAGAIN
                                                                                : SB_EPARSE;
    }
    }
    PQclear(r);
    return rc;
}

static const char *const schemes[] = {"postgres", "postgresql", NULL};

static const struct sb_db_driver driver = {
    .name = "postgres",
    .schemes = schemes,
    .module = "db_postgres",
    .numbered_params = true,
    .open = drv_open,
    .close = drv_close,
    .exec = drv_exec,
};

static int mod_init(void)
{
    if (!PQisthreadsafe()) {
        SB_ERR("db_postgres: libpq was built without thread support");
        return SB_EINVAL;
    }
    return sb_db_driver_register(&driver);
}

static void mod_destroy(void)
{
    sb_db_driver_unregister(&driver);
}

const struct sb_module sb_module_db_postgres = {
    .name = "db_postgres",
    .summary = "PostgreSQL driver for the database layer (postgres://user:pass@host:port/db)",
    .init = mod_init,
    .destroy = mod_destroy,
};
