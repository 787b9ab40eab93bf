/* SPDX-License-Identifier: BSD-2-Clause */
/* The location service (usrloc module): contacts bound to an address of record, kept in memory in
 * a table sharded by AOR hash with one mutex per shard, shared by every worker, optionally
 * persisted to a database. This is the C API the registrar and later modules use. */
#ifndef SB_USRLOC_H
#define SB_USRLOC_H

#include "sb/arena.h"
#include "sb/base-t.h"

/* Contact flags kept in the `flags` column. */
enum {
    SB_UL_FL_PERMANENT = 1 << 0,   /* never expires (expires == 0) */
    SB_UL_FL_MEMORY_ONLY = 1 << 1, /* never written to the database (save "memory-only") */
};

/* One binding. Strings are owned by the location table; a pointer to a live contact is valid only
 * between sb_ul_begin() and sb_ul_end() on its AOR. Copies made by sb_ul_snapshot() live in the
 * caller's arena. */
struct sb_ul_contact {
    struct sb_ul_contact *next;
    sb_str uri;      /* contact: the Contact URI as written (without < >) */
    sb_str received; /* source the REGISTER came from ("sip:ip:port;transport=x"), or empty */
    sb_str path;     /* Path header values, comma-separated, as received; or empty */
    sb_str callid;
    sb_str user_agent;
    sb_str socket;   /* "proto:ip:port" of the local socket it came in on, or empty */
    sb_str instance; /* +sip.instance value as written (with its quotes), or empty */
    sb_str attr;     /* free-form attributes (kv_store/attr), or empty */
    int64_t expires; /* absolute, Unix seconds; 0 for a permanent contact */
    int64_t last_modified;
    uint32_t cseq;
    uint32_t flags;   /* SB_UL_FL_* */
    uint32_t cflags;  /* branch flags to restore at lookup (nat_bflag ...) */
    uint32_t methods; /* enum sb_method bits the UA accepts; 0xffffffff when unknown */
    uint32_t reg_id;  /* RFC 5626 reg-id, 0 when absent */
    int16_t q;        /* 0..1000, -1 when not given */
    uint8_t db_state; /* internal: persistence bookkeeping */
};

/* What a caller gives to insert or update a contact: every string is copied. */
struct sb_ul_info {
    sb_str uri, received, path, callid, user_agent, socket, instance, attr;
    int64_t expires; /* absolute Unix seconds, 0 = permanent */
    uint32_t cseq, flags, cflags, methods, reg_id;
    int16_t q;
};

struct sb_ul_domain; /* one location table ("location") */

/* Find or create the table <name> (e.g. "location"). Control thread, before the workers start:
 * registrar's fixups call it. Returns 0 and *out, or SB_ENOMEM. */
int sb_ul_domain_register(sb_str name, struct sb_ul_domain **out);
/* Find an existing table; NULL when unknown. Any thread. */
struct sb_ul_domain *sb_ul_domain_find(sb_str name);
sb_str sb_ul_domain_name(const struct sb_ul_domain *d);

/* Does the table key AORs with their domain (usrloc use_domain)? */
bool sb_ul_use_domain(void);
/* nat_bflag: the branch flag that marks a contact behind NAT (0 when not set). */
uint32_t sb_ul_nat_bflag(void);

/* Now, in Unix seconds, on the location clock (tests may replace it). Any thread. */
int64_t sb_ul_now(void);
typedef int64_t (*sb_ul_clock_fn)(void);
void sb_ul_set_clock(sb_ul_clock_fn fn); /* NULL: the real clock */

/* ---- editing one AOR: lock, read/modify, unlock -------------------------------------------- */

/* A locked AOR. Lives on the caller's stack between sb_ul_begin and sb_ul_end. */
struct sb_ul_txn {
    struct sb_ul_domain *d;
    void *shard;
    void *rec;  /* the AOR record, NULL while it has no contact */
    sb_str aor; /* borrowed from the caller for the duration of the transaction */
    uint32_t hash;
    uint32_t n_changes;
};

/* Lock the shard of <aor> in <d>, and drop the AOR's expired contacts (lazy expiry). Every call
 * must be paired with sb_ul_end on the same thread. Any thread; blocks only on the shard mutex. */
void sb_ul_begin(struct sb_ul_domain *d, sb_str aor, struct sb_ul_txn *t);
/* Unlock; the changes made are queued for the database (never written synchronously) and
 * announced through the event hook. */
void sb_ul_end(struct sb_ul_txn *t);

/* The AOR's live contacts (NULL when none), in insertion order. Valid until sb_ul_end. */
struct sb_ul_contact *sb_ul_contacts(const struct sb_ul_txn *t);
unsigned sb_ul_count(const struct sb_ul_txn *t);
/* Add a contact; *out (optional) gets it. Returns 0 or SB_ENOMEM. */
int sb_ul_insert(struct sb_ul_txn *t, const struct sb_ul_info *ci, struct sb_ul_contact **out);
/* Replace every field of <c> with <ci>. The old pointer is invalid afterwards; *out (optional)
 * gets the new one. Returns 0 or SB_ENOMEM (then <c> is unchanged). */
int sb_ul_update(struct sb_ul_txn *t, struct sb_ul_contact *c, const struct sb_ul_info *ci,
                 struct sb_ul_contact **out);
/* Remove <c> (a contact of this AOR). */
void sb_ul_delete(struct sb_ul_txn *t, struct sb_ul_contact *c);

/* ---- convenience --------------------------------------------------------------------------- */

/* Copy the live contacts of <aor> into <a> (a NULL-terminated list in *out, insertion order;
 * *n their number). Returns 0, or SB_ENOMEM. No contact is not an error (*n == 0). */
int sb_ul_snapshot(struct sb_ul_domain *d, sb_str aor, struct sb_arena *a,
                   struct sb_ul_contact **out, unsigned *n);
/* Remove every contact of <aor>; with <uri> set only those whose contact URI equals it. Returns
 * the number removed. */
unsigned sb_ul_remove(struct sb_ul_domain *d, sb_str aor, sb_str uri);

/* Walk every AOR of <d> (one shard locked at a time): fn is called once per AOR with its live
 * contacts; a non-zero return stops the walk. The contacts are valid only during the call, and
 * fn must not call back into the location service. Returns fn's non-zero value or 0. */
typedef int (*sb_ul_walk_fn)(sb_str aor, const struct sb_ul_contact *contacts, void *arg);
int sb_ul_walk(struct sb_ul_domain *d, sb_ul_walk_fn fn, void *arg);

/* Number of AORs and of contacts in <d> (summed over shards). */
void sb_ul_counts(struct sb_ul_domain *d, uint64_t *n_aors, uint64_t *n_contacts);

/* Remove every expired contact of every table now (what the timer does every timer_interval
 * seconds). Returns the number removed. Any thread. */
unsigned sb_ul_expire_all(void);

/* ---- events -------------------------------------------------------------------------------- */

enum sb_ul_event {
    SB_UL_EV_INSERT = 1, /* E_UL_CONTACT_INSERT */
    SB_UL_EV_UPDATE,     /* E_UL_CONTACT_UPDATE */
    SB_UL_EV_DELETE,     /* E_UL_CONTACT_DELETE (also on expiry) */
};

/* Called after the shard is unlocked, once per changed contact, on the thread that made the
 * change (a worker, or the usrloc timer thread for expiries). <c> is a copy valid for the call.
 * One hook; set at start-up (the event interface plugs in here). */
typedef void (*sb_ul_event_fn)(int ev, struct sb_ul_domain *d, sb_str aor,
                               const struct sb_ul_contact *c);
void sb_ul_set_event_hook(sb_ul_event_fn fn);

/* ---- persistence --------------------------------------------------------------------------- */

/* Database writes waiting (queued or failed and to be retried). Any thread. */
unsigned sb_ul_db_pending(void);
/* Ask the usrloc thread to write what is pending now and wait at most <timeout_ms> for the
 * backlog to drain. Returns 0 when nothing is pending afterwards, SB_EAGAIN otherwise. Not on a
 * worker. */
int sb_ul_db_flush(unsigned timeout_ms);

#endif
