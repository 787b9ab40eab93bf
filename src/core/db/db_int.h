/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the database layer shared by the synchronous API and the thread pool. */
#ifndef SB_DB_INT_H
#define SB_DB_INT_H

#include "sb/buf.h"
#include "sb/db.h"

#define SB_DB_MAX_PARAMS 256
#define SB_DB_SQL_MAX    16384
#define SB_DB_ERR_MAX    512

struct sb__db_stmt;

struct sb_db {
    const struct sb_db_driver *drv;
    void *conn;
    /* the statement being built: kept with the handle (which one thread uses at a time) because
     * it is large and every call needs one */
    struct sb__db_stmt *st;
    char err[SB_DB_ERR_MAX];
};

/* A statement ready for a driver: SQL text and the values bound to its placeholders (strings
 * borrowed from the caller unless the statement was copied with sb__db_stmt_dup). */
struct sb__db_stmt {
    struct sb_wbuf sql;
    char sql_mem[SB_DB_SQL_MAX];
    struct sb_db_val params[SB_DB_MAX_PARAMS];
    unsigned n_params;
    bool wants_rows; /* exec with a result */
    bool is_script;  /* several statements, no parameters, no rows */
    bool returns_id; /* the first column of the first row is the new id */
};

/* Look up the driver for <url>; on failure writes the message to <err>. */
int sb__db_driver_for(const char *url, const struct sb_db_driver **out, char *err, size_t errlen);

int sb__db_build_select(const struct sb_db_driver *d, const struct sb_db_query *q,
                        struct sb__db_stmt *st);
int sb__db_build_insert(const struct sb_db_driver *d, const char *table, const struct sb_db_kv *kv,
                        unsigned n, const char *id_col, struct sb__db_stmt *st);
int sb__db_build_update(const struct sb_db_driver *d, const char *table,
                        const struct sb_db_cond *where, unsigned n_where,
                        const struct sb_db_kv *set, unsigned n_set, struct sb__db_stmt *st);
int sb__db_build_delete(const struct sb_db_driver *d, const char *table,
                        const struct sb_db_cond *where, unsigned n_where, struct sb__db_stmt *st);
int sb__db_build_replace(const struct sb_db_driver *d, const char *table, const struct sb_db_kv *kv,
                         unsigned n, const char *const *key_cols, unsigned n_keys,
                         struct sb__db_stmt *st);
int sb__db_build_raw(const struct sb_db_driver *d, const char *sql, const struct sb_db_val *params,
                     unsigned n_params, bool wants_rows, struct sb__db_stmt *st);

/* A statement as run: what a stmt reduces to, and what the pool keeps per job. */
struct sb__db_call {
    const char *sql;
    const struct sb_db_val *params;
    unsigned n_params;
    bool is_script, returns_id;
};

/* Run <c> on <db>. *res (may be NULL) gets the result (NULL for a script). */
int sb__db_exec(struct sb_db *db, const struct sb__db_call *c, struct sb_db_res **res);
int sb__db_run(struct sb_db *db, const struct sb__db_stmt *st, struct sb_db_res **res);

struct sb_db_res *sb__db_res_new(void);

#endif
