/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging: one line per event, logfmt-style. The sink is stderr until the runtime installs one. */
#ifndef SB_LOG_H
#define SB_LOG_H

enum sb_log_level {
    SB_LOG_ALERT = -3,
    SB_LOG_CRIT = -2,
    SB_LOG_ERR = -1,
    SB_LOG_WARN = 1,
    SB_LOG_NOTICE = 2,
    SB_LOG_INFO = 3,
    SB_LOG_DEBUG = 4,
};

extern int sb_log_level; /* messages above this level are dropped; default SB_LOG_NOTICE */

void sb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SB_LOG(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) <= sb_log_level)                                                                 \
            sb_log((lvl), __VA_ARGS__);                                                            \
    } while (0)
#define SB_ERR(...)   SB_LOG(SB_LOG_ERR, __VA_ARGS__)
#define SB_WARN(...)  SB_LOG(SB_LOG_WARN, __VA_ARGS__)
#define SB_INFO(...)  SB_LOG(SB_LOG_INFO, __VA_ARGS__)
#define SB_DEBUG(...) SB_LOG(SB_LOG_DEBUG, __VA_ARGS__)

#endif
