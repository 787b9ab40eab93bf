/* SPDX-License-Identifier: BSD-2-Clause */
/* Result sets built by drivers, value readers and the datetime text form. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db_int.h"
#include "sb/arena.h"
#include "sb/base.h"

/* A result, its arena and the arena's first block in one allocation: most results (a lookup's
 * row, an affected count) fit in that block and cost a single malloc. */
struct res_mem {
    struct sb_db_res res;
    struct sb_arena arena; /* column names, strings and blobs */
    _Alignas(8) char first[320];
};

struct sb_db_res *sb__db_res_new(void)
{
    struct res_mem *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    m->res = (struct sb_db_res){.mem = m};
    sb_arena_init(&m->arena, m->first, sizeof m->first, 0);
    return &m->res;
}

void sb_db_res_free(struct sb_db_res *r)
{
    if (!r)
        return;
    struct res_mem *m = r->mem;
    sb_arena_deinit(&m->arena);
    free(r->vals);
    free(m);
}

int sb_db_res_col(const struct sb_db_res *r, const char *name)
{
    for (unsigned i = 0; i < r->n_cols; i++)
        if (r->cols[i] && strcasecmp(r->cols[i], name) == 0)
            return (int)i;
    return -1;
}

int sb_db_res_set_cols(struct sb_db_res *r, unsigned n_cols)
{
    if (r->cols || r->n_rows)
        return SB_EINVAL;
    if (n_cols == 0)
        return 0;
    struct res_mem *m = r->mem;
    r->cols = sb_arena_zalloc(&m->arena, n_cols * sizeof *r->cols);
    if (!r->cols)
        return SB_ENOMEM;
    r->n_cols = n_cols;
    return 0;
}

int sb_db_res_set_col_name(struct sb_db_res *r, unsigned col, const char *name, size_t len)
{
    struct res_mem *m = r->mem;
    if (col >= r->n_cols)
        return SB_EINVAL;
    char *p = sb_arena_alloc(&m->arena, len + 1);
    if (!p)
        return SB_ENOMEM;
    memcpy(p, name, len);
    p[len] = 0;
    r->cols[col] = p;
    return 0;
}

struct sb_db_val *sb_db_res_add_row(struct sb_db_res *r)
{
    if (r->n_cols == 0)
        return NULL;
    if (r->n_rows == r->cap_rows) {
        unsigned cap = r->cap_rows ? r->cap_rows * 2 : 16;
        struct sb_db_val *v = realloc(r->vals, (size_t)cap * r->n_cols * sizeof *v);
        if (!v)
            return NULL;
        r->vals = v;
        r->cap_rows = cap;
    }
    struct sb_db_val *row = &r->vals[(size_t)r->n_rows * r->n_cols];
    memset(row, 0, r->n_cols * sizeof *row);
    r->n_rows++;
    return row;
}

int sb_db_res_dup(struct sb_db_res *r, struct sb_db_val *v, uint8_t type, const void *p, size_t len)
{
    struct res_mem *m = r->mem;
    char *c = sb_arena_alloc(&m->arena, len + 1);
    if (!c)
        return SB_ENOMEM;
    if (len)
        memcpy(c, p, len);
    c[len] = 0;
    v->type = type;
    v->v.s = (sb_str){c, len};
    return 0;
}

/* ---- values ------------------------------------------------------------------------------- */

int64_t sb_db_val_int(const struct sb_db_val *v, int64_t dflt)
{
    switch (v->type) {
    case SB_DB_INT: return v->v.i;
    case SB_DB_BIGINT: return v->v.bi;
    case SB_DB_DOUBLE:
        if (!isfinite(v->v.d) || v->v.d > 9.2e18 || v->v.d < -9.2e18)
            return dflt;
        return (int64_t)v->v.d;
    case SB_DB_DATETIME: return (int64_t)v->v.t;
    case SB_DB_STR: {
        char buf[32];
        if (v->v.s.len == 0 || v->v.s.len >= sizeof buf)
            return dflt;
        memcpy(buf, v->v.s.p, v->v.s.len);
        buf[v->v.s.len] = 0;
        char *end;
        errno = 0;
        long long x = strtoll(buf, &end, 10);
        return (errno || *end) ? dflt : (int64_t)x;
    }
    default: return dflt;
    }
}

double sb_db_val_double(const struct sb_db_val *v, double dflt)
{
    switch (v->type) {
    case SB_DB_DOUBLE: return v->v.d;
    case SB_DB_STR: {
        char buf[64];
        if (v->v.s.len == 0 || v->v.s.len >= sizeof buf)
            return dflt;
        memcpy(buf, v->v.s.p, v->v.s.len);
        buf[v->v.s.len] = 0;
        char *end;
        double d = strtod(buf, &end);
        return *end ? dflt : d;
    }
    case SB_DB_INT:
    case SB_DB_BIGINT:
    case SB_DB_DATETIME: return (double)sb_db_val_int(v, 0);
    default: return dflt;
    }
}

time_t sb_db_val_time(const struct sb_db_val *v, time_t dflt)
{
    time_t t;
    if (v->type == SB_DB_STR)
        return sb_db_time_parse(v->v.s.p, v->v.s.len, &t) == 0 ? t : dflt;
    if (v->type == SB_DB_NULL || v->type == SB_DB_BLOB)
        return dflt;
    return (time_t)sb_db_val_int(v, (int64_t)dflt);
}

sb_str sb_db_val_str(const struct sb_db_val *v)
{
    if (v->type == SB_DB_STR || v->type == SB_DB_BLOB)
        return v->v.s;
    return SB_STR_NULL;
}

/* ---- datetime text ------------------------------------------------------------------------- */

static int digits(const char *s, size_t n, int *out)
{
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sb_is_digit((unsigned char)s[i]))
            return SB_EPARSE;
        x = x * 10 + (s[i] - '0');
    }
    *out = x;
    return 0;
}

int sb_db_time_parse(const char *s, size_t len, time_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    /* YYYY-MM-DD[( |T)HH:MM:SS[.frac][+00|Z]] */
    if (len < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d))
        return SB_EPARSE;
    if (len >= 19) {
        if ((s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' ||
            digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
            return SB_EPARSE;
    } else if (len != 10) {
        return SB_EPARSE;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return SB_EPARSE;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    *out = timegm(&tm);
    return 0;
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Written out rather than through gmtime_r/strftime: every datetime parameter of every write
 * passes here. Days to a proleptic Gregorian date by 400-year eras (146097 days each). */
void sb_db_time_format(time_t t, char out[20])
{
    int64_t secs = (int64_t)t, days = secs / 86400, sod = secs % 86400;
    if (sod < 0)
        sod += 86400, days--;
    days += 719468; /* from 1970-01-01 to 0000-03-01 */
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);                       /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t year = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                      /* March = 0 */
    unsigned day = doy - (153 * mp + 2) / 5 + 1;
    unsigned month = mp < 10 ? mp + 3 : mp - 9;
    year += month <= 2;
    if (year > 9999 || year < 0) {
        memcpy(out, "1970-01-01 00:00:00", 20);
        return;
    }
    unsigned y = (unsigned)year;
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, month);
    out[7] = '-';
    put2(out + 8, day);
    out[10] = ' ';
    put2(out + 11, (unsigned)(sod / 3600));
    out[13] = ':';
    put2(out + 14, (unsigned)(sod / 60 % 60));
    out[16] = ':';
    put2(out + 17, (unsigned)(sod % 60));
    out[19] = 0;
}
