/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging: one whole line per event, to stderr (plain text or JSON) or to syslog. Any thread may
 * log; a line is written with a single write(2) so that lines of different threads never mix. */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum sb_log_level {
    SB_LOG_ALERT = -3,
    SB_LOG_CRIT = -2,
    SB_LOG_ERR = -1,
    SB_LOG_WARN = 1,
    SB_LOG_NOTICE = 2,
    SB_LOG_INFO = 3,
    SB_LOG_DEBUG = 4,
};

/* Messages above this level are dropped; default SB_LOG_NOTICE. The management interface changes
 * it while workers log: access it with relaxed atomics (sb_log_enabled()). */
extern int sb_log_level;

static inline int sb_log_enabled(int level)
{
    return level <= __atomic_load_n(&sb_log_level, __ATOMIC_RELAXED);
}

void sb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SB_LOG(lvl, ...)                                                                           \
    do {                                                                                           \
        if (sb_log_enabled(lvl))                                                                   \
            sb_log((lvl), __VA_ARGS__);                                                            \
    } while (0)
#define SB_ERR(...)    SB_LOG(SB_LOG_ERR, __VA_ARGS__)
#define SB_WARN(...)   SB_LOG(SB_LOG_WARN, __VA_ARGS__)
#define SB_NOTICE(...) SB_LOG(SB_LOG_NOTICE, __VA_ARGS__)
#define SB_INFO(...)   SB_LOG(SB_LOG_INFO, __VA_ARGS__)
#define SB_DEBUG(...)  SB_LOG(SB_LOG_DEBUG, __VA_ARGS__)

/* Where lines go. Until sb_log_setup() is called: plain text on stderr. */
struct sb_log_cfg {
    bool to_stderr;          /* false: syslog */
    bool json;               /* stderr lines as JSON objects (stderror_log_format = json) */
    const char *prefix;      /* log_prefix, put before every message; NULL for none */
    const char *syslog_name; /* openlog ident; NULL: "switchboard" */
    int syslog_facility;     /* LOG_DAEMON, LOG_LOCAL0 ... (syslog.h) */
};

/* Install <c> (strings are copied). Call before the worker threads start. Returns 0 or
 * SB_ENOMEM. */
int sb_log_setup(const struct sb_log_cfg *c);
/* "LOG_LOCAL0", "local0", "daemon" ... to a syslog facility. Returns 0 or SB_EINVAL. */
int sb_log_facility_parse(const char *name, int *out);
/* The worker id shown in the calling thread's lines; -1 (the default) for none. */
void sb_log_set_worker(int id);
/* "ERROR", "NOTICE" ... */
const char *sb_log_level_name(int level);

/* Write stderr lines to <fd> instead of 2 (tests, and the daemon once stdio is /dev/null). */
void sb_log_set_fd(int fd);
/* JSON string body of <s>[0..len): quotes, backslashes and control characters escaped, invalid
 * UTF-8 bytes as \u00XX. Writes at most <cap> - 1 bytes and a NUL, never cutting an escape;
 * returns the length written. */
size_t sb_log_json_escape(char *out, size_t cap, const char *s, size_t len);

/* Internal: are lines going to syslog (SB_BUG_ON then also logs the backtrace there)? */
bool sb__log_is_syslog(void);

#endif
