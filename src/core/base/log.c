/* SPDX-License-Identifier: BSD-2-Clause */
/* Minimal logging sink: stderr, one line per event. */
#include <stdarg.h>
#include <stdio.h>

#include "sb/log.h"

int sb_log_level = SB_LOG_NOTICE;

static const char *level_name(int level)
{
    switch (level) {
    case SB_LOG_ALERT: return "alert";
    case SB_LOG_CRIT: return "crit";
    case SB_LOG_ERR: return "error";
    case SB_LOG_WARN: return "warn";
    case SB_LOG_NOTICE: return "notice";
    case SB_LOG_INFO: return "info";
    default: return "debug";
    }
}

void sb_log(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "level=%s msg=\"%s\"\n", level_name(level), line);
}
