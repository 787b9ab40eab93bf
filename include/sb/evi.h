/* SPDX-License-Identifier: BSD-2-Clause */
/* The event interface (OpenSIPS "evi"): named events ("E_UL_CONTACT_INSERT") registered by the
 * core, modules and the script; raising one runs the script's event_route[E_NAME] and delivers a
 * JSON-RPC notification to every external subscriber (event_subscribe over the management
 * interface: UDP datagrams or a TCP stream). docs/events.md describes the behaviour. */
#ifndef SB_EVI_H
#define SB_EVI_H

#include "sb/base-t.h"

#define SB_EVI_MAX            256  /* registered events */
#define SB_EVI_NAME_MAX       64   /* bytes of an event name */
#define SB_EVI_MAX_PARAMS     16   /* parameters of one raise */
#define SB_EVI_MAX_SUBS       64   /* external subscriptions, all events */
#define SB_EVI_QUEUE_MAX      1024 /* notifications waiting for the sender thread */
#define SB_EVI_DEFAULT_EXPIRE 3600

typedef uint32_t sb_evi_id; /* 0 is "no event": raising it does nothing */

/* One parameter of a raise: a name and an integer or a string. Everything borrows from the
 * caller for the duration of sb_evi_raise(). */
struct sb_evi_param {
    const char *name;
    bool is_str;
    int64_t i;
    sb_str s;
};

struct sb_evi_params {
    unsigned n;
    struct sb_evi_param v[SB_EVI_MAX_PARAMS];
};

/* Append a parameter. Return 0, or SB_ELIMIT past SB_EVI_MAX_PARAMS (nothing is added). */
int sb_evi_param_int(struct sb_evi_params *p, const char *name, int64_t v);
int sb_evi_param_str(struct sb_evi_params *p, const char *name, sb_str v);

/* ---- registry ------------------------------------------------------------------------------ */

/* Register <name> (E_ followed by [A-Za-z0-9_], at most SB_EVI_NAME_MAX - 1 bytes) and return
 * its id in *out. Registering a name again returns the same id. Any thread (modules call it in
 * init, the script checker for raise_event's constant names). Returns 0, SB_EINVAL or
 * SB_ELIMIT. The core's events (E_CORE_THRESHOLD) are always registered. */
int sb_evi_register(const char *name, sb_evi_id *out);
int sb_evi_register_str(sb_str name, sb_evi_id *out);
/* The id of <name>, or 0. Any thread. */
sb_evi_id sb_evi_find(sb_str name);
/* Registered events: ids run from 1 to sb_evi_count(). */
unsigned sb_evi_count(void);
const char *sb_evi_name(sb_evi_id id);

/* ---- raising ------------------------------------------------------------------------------- */

/* Raise <id> with <p> (may be NULL). On a worker thread the script's event_route[NAME] runs now,
 * on this thread, before the call returns (OpenSIPS's default, synchronous mode; routes declared
 * `async` run the same way). On any other thread it runs on a worker, posted through that
 * worker's loop. Subscribers get a notification through a bounded queue served by the sender
 * thread: never blocks; a full queue drops the notification and counts it. Returns 0,
 * SB_ENOENT (unknown id) or SB_ENOMEM. Reentrant: an event_route may raise events (nesting is
 * bounded; deeper raises only notify subscribers). */
int sb_evi_raise(sb_evi_id id, const struct sb_evi_params *p);
/* Is anything listening for <id> (an event_route in the current script or a subscriber)?
 * Lets a hot path skip building parameters. Any thread. */
bool sb_evi_wanted(sb_evi_id id);

/* E_CORE_THRESHOLD: an operation took <us> microseconds, above its limit. <source> is "core" or
 * a module name; <extra> describes it ("msg processing ..."). For the SIP layer to call when a
 * message took longer than exec_msg_threshold. Any thread. */
void sb_evi_core_threshold(const char *source, int64_t us, sb_str extra);

/* ---- external subscribers ------------------------------------------------------------------ */

enum sb_evi_sock {
    SB_EVI_SOCK_UDP = 1, /* event_datagram: one notification per datagram */
    SB_EVI_SOCK_TCP = 2, /* event_stream: notifications over a kept-open TCP connection */
};

/* Allow subscriptions of <kind> (the event_datagram / event_stream modules do it in init) and
 * start the sender thread if it is not running. Control thread. Returns 0 or < 0. */
int sb_evi_enable_socket(int kind);
/* Stop the sender thread (if running), drop every subscription and queued notification, and
 * disable every socket kind. Shutdown and tests. */
void sb_evi_shutdown(void);

/* Subscribe <sock> ("udp:127.0.0.1:9000", "tcp:[::1]:9000") to <event> for <expire> seconds (0:
 * SB_EVI_DEFAULT_EXPIRE). Subscribing the same socket again refreshes it. Any thread. Returns
 * 0, SB_ENOENT (unknown event), SB_EPARSE (bad socket), SB_EINVAL (the socket's kind is not
 * enabled: its module is not loaded) or SB_ELIMIT. <err> gets a short static reason on failure. */
int sb_evi_subscribe(sb_str event, sb_str sock, uint32_t expire, const char **err);
/* Remove the subscription of <sock> to <event> (what event_subscribe with expire 0 does).
 * Returns 0 or SB_ENOENT. */
int sb_evi_unsubscribe(sb_str event, sb_str sock);
/* Notifications dropped because the queue was full, and sent (datagrams / stream writes). */
uint64_t sb_evi_dropped(void);
uint64_t sb_evi_sent(void);
/* Wait up to <timeout_ms> for the sender thread to empty its queue (tests). Returns 0 when
 * empty, SB_EAGAIN otherwise. */
int sb_evi_flush(unsigned timeout_ms);
/* Tests: the queue limit (0 restores SB_EVI_QUEUE_MAX) and a clock offset in seconds added to
 * the real time when checking expiries. */
void sb_evi_set_queue_max(unsigned n);
void sb_evi_set_clock_skew(int64_t secs);

/* The management commands (event_subscribe, events_list, subscribers_list, raise_event; also
 * reachable as evi:<name>). Registers them once; a second call does nothing. Control thread. */
int sb_evi_mi_register(void);

#endif
