/* SPDX-License-Identifier: BSD-2-Clause */
/* usrloc internals shared by the files of the module: configuration, the table, the change log
 * that a transaction hands to the event hook and the database queue. */
#ifndef SB_UL_INT_H
#define SB_UL_INT_H

#include <pthread.h>

#include "sb/stats.h"
#include "sb/usrloc.h"

enum ul_mode {
    UL_MODE_NO_DB = 0,
    UL_MODE_WRITE_THROUGH,
    UL_MODE_WRITE_BACK,
    UL_MODE_SQL_ONLY,
};

struct ul_conf {
    int use_domain;
    int nat_bflag;         /* flag index, -1 when unset */
    int timer_interval;    /* seconds between expiry sweeps (and write-back flushes) */
    int hash_size;         /* log2 of the number of shards */
    int db_retry_interval; /* seconds between attempts while the database is down */
    char *db_url;
    int mode; /* enum ul_mode; -1 until chosen (then from db_url) */
};
extern struct ul_conf sb__ul_conf;

/* An AOR and its contacts. */
struct ul_rec {
    struct ul_rec *next; /* bucket chain */
    uint32_t hash;
    uint32_t n;
    struct sb_ul_contact *contacts;
    uint32_t aor_len;
    char aor[];
};

struct ul_shard {
    pthread_mutex_t mu;
    struct ul_rec **buckets;
    uint32_t n_buckets; /* power of two */
    uint32_t n_recs;
};

struct sb_ul_domain {
    struct sb_ul_domain *next;
    sb_str name; /* heap, NUL-terminated */
    struct ul_shard *shards;
    uint32_t n_shards; /* power of two */
    _Atomic uint64_t n_aors, n_contacts;
    sb_stat_t st_contacts, st_expires;
};

/* DB operations handed to the writer. */
enum { UL_DB_UPSERT = 1, UL_DB_DELETE };

/* The domains, in registration order. */
struct sb_ul_domain *sb__ul_domains(void);
void sb__ul_domains_free(void);

/* E_UL_CONTACT_INSERT / UPDATE / DELETE in the event interface (init), and forgetting the ids
 * (destroy). */
int sb__ul_events_register(void);
void sb__ul_events_forget(void);

/* Release what the calling thread holds for the change log (a worker or the usrloc thread, at
 * exit). */
void sb__ul_thread_cleanup(void);

/* A standalone copy of <c> (one allocation), or NULL. */
struct sb_ul_contact *sb__ul_contact_copy(const struct sb_ul_contact *c);
/* Insert a contact loaded from the database (no event, no database write). */
int sb__ul_load_contact(struct sb_ul_domain *d, sb_str aor, const struct sb_ul_info *ci);

/* The database side (ul_db.c). */
bool sb__ul_db_enabled(void);
/* Takes ownership of <c> (a copy); <aor> is copied. */
void sb__ul_db_queue(int op, struct sb_ul_domain *d, sb_str aor, struct sb_ul_contact *c);
int sb__ul_db_start(void);
void sb__ul_db_stop(void);
/* Write what is queued; called by the usrloc thread. Returns the number still pending. */
unsigned sb__ul_db_drain(void);
/* Did the last attempt fail (the server is unreachable)? */
bool sb__ul_db_down(void);
/* Load every table's rows into memory at start. */
int sb__ul_db_load(void);

/* The usrloc thread (expiry sweep, database writer). */
int sb__ul_thread_start(void);
void sb__ul_thread_stop(void);
void sb__ul_thread_kick(void);

#endif
