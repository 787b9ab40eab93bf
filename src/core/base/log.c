/* SPDX-License-Identifier: BSD-2-Clause */
/* Logging sinks: plain or JSON lines on stderr, or syslog. Each line is built in a stack buffer
 * and written with one write(2), which keeps concurrent lines whole without a lock. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sb/base-t.h"
#include "sb/log.h"

#define LINE_MAX_LEN 4096
#define MSG_MAX_LEN  2048

int sb_log_level = SB_LOG_NOTICE;

/* Written once by sb_log_setup() before the workers start, read-only afterwards. */
static struct {
    bool to_syslog;
    bool json;
    int fd;
    char *prefix;
    char *ident;
} lg = {.fd = 2};

static _Thread_local int log_worker = -1;

const char *sb_log_level_name(int level)
{
    switch (level) {
    case SB_LOG_ALERT: return "ALERT";
    case SB_LOG_CRIT: return "CRITICAL";
    case SB_LOG_ERR: return "ERROR";
    case SB_LOG_WARN: return "WARNING";
    case SB_LOG_NOTICE: return "NOTICE";
    case SB_LOG_INFO: return "INFO";
    default: return "DEBUG";
    }
}

static int syslog_prio(int level)
{
    switch (level) {
    case SB_LOG_ALERT: return LOG_ALERT;
    case SB_LOG_CRIT: return LOG_CRIT;
    case SB_LOG_ERR: return LOG_ERR;
    case SB_LOG_WARN: return LOG_WARNING;
    case SB_LOG_NOTICE: return LOG_NOTICE;
    case SB_LOG_INFO: return LOG_INFO;
    default: return LOG_DEBUG;
    }
}

void sb_log_set_worker(int id)
{
    log_worker = id;
}

bool sb__log_is_syslog(void)
{
    return lg.to_syslog;
}

void sb_log_set_fd(int fd)
{
    lg.fd = fd;
}

int sb_log_facility_parse(const char *name, int *out)
{
    static const struct {
        const char *name;
        int fac;
    } tab[] = {
        {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
        {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"kern", LOG_KERN},
        {"lpr", LOG_LPR},       {"mail", LOG_MAIL},         {"news", LOG_NEWS},
        {"syslog", LOG_SYSLOG}, {"user", LOG_USER},         {"uucp", LOG_UUCP},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    if (!name)
        return SB_EINVAL;
    if (strncasecmp(name, "LOG_", 4) == 0)
        name += 4;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strcasecmp(name, tab[i].name) == 0) {
            *out = tab[i].fac;
            return 0;
        }
    }
    return SB_EINVAL;
}

int sb_log_setup(const struct sb_log_cfg *c)
{
    char *prefix = NULL, *ident = NULL;
    if (c->prefix && *c->prefix && !(prefix = strdup(c->prefix)))
        return SB_ENOMEM;
    if (!(ident = strdup(c->syslog_name && *c->syslog_name ? c->syslog_name : "switchboard"))) {
        free(prefix);
        return SB_ENOMEM;
    }
    free(lg.prefix);
    free(lg.ident);
    lg.prefix = prefix;
    lg.ident = ident;
    lg.json = c->json;
    if (lg.to_syslog)
        closelog();
    lg.to_syslog = !c->to_stderr;
    if (lg.to_syslog)
        openlog(lg.ident, LOG_PID | LOG_NDELAY, c->syslog_facility);
    return 0;
}

/* Length of the valid UTF-8 sequence at <p> (at most <n> bytes), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned char c = p[0];
    if (c < 0xc2)
        return 0; /* continuation byte, or an overlong 2-byte lead */
    else if (c < 0xe0)
        len = 2;
    else if (c < 0xf0)
        len = 3;
    else if (c < 0xf5)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* overlong 3/4-byte forms, UTF-16 surrogates and code points past U+10FFFF */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0;
    return len;
}

size_t sb_log_json_escape(char *out, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        size_t n = 0, take = 1;
        const char *src = esc;
        switch (c) {
        case '"': esc[0] = '\\', esc[1] = '"', n = 2; break;
        case '\\': esc[0] = '\\', esc[1] = '\\', n = 2; break;
        case '\n': esc[0] = '\\', esc[1] = 'n', n = 2; break;
        case '\r': esc[0] = '\\', esc[1] = 'r', n = 2; break;
        case '\t': esc[0] = '\\', esc[1] = 't', n = 2; break;
        case '\b': esc[0] = '\\', esc[1] = 'b', n = 2; break;
        case '\f': esc[0] = '\\', esc[1] = 'f', n = 2; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4], esc[5] = hex[c & 15], n = 6;
            } else if (c < 0x80) {
                esc[0] = (char)c, n = 1;
            } else if ((take = utf8_seq((const unsigned char *)s + i, len - i)) > 0) {
                src = s + i, n = take;
            } else {
                take = 1;
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4], esc[5] = hex[c & 15], n = 6;
            }
        }
        if (o + n >= cap)
            break;
        memcpy(out + o, src, n);
        o += n;
        i += take;
    }
    out[o] = '\0';
    return o;
}

static size_t append(char *buf, size_t o, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t o, size_t cap, const char *fmt, ...)
{
    if (o >= cap)
        return o;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + o, cap - o, fmt, ap);
    va_end(ap);
    if (n < 0)
        return o;
    return (size_t)n >= cap - o ? cap - 1 : o + (size_t)n;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static size_t format_json(char *line, size_t cap, int level, const char *msg, size_t msg_len)
{
    struct timeval tv;
    struct tm tm;
    char ts[32];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    size_t o = append(line, 0, cap - 3, "{\"time\":\"%s.%03dZ\",\"level\":\"%s\",\"pid\":%d", ts,
                      (int)(tv.tv_usec / 1000), sb_log_level_name(level), (int)getpid());
    if (log_worker >= 0)
        o = append(line, o, cap - 3, ",\"worker\":%d", log_worker);
    o = append(line, o, cap - 3, ",\"msg\":\"");
    /* room is kept for the closing "}\n */
    if (o + 4 < cap) {
        if (lg.prefix)
            o += sb_log_json_escape(line + o, cap - 3 - o, lg.prefix, strlen(lg.prefix));
        o += sb_log_json_escape(line + o, cap - 3 - o, msg, msg_len);
    }
    memcpy(line + o, "\"}\n", 3);
    return o + 3;
}

static size_t format_plain(char *line, size_t cap, int level, const char *msg)
{
    time_t now = time(NULL);
    struct tm tm;
    char ts[32];
    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
    size_t o = append(line, 0, cap - 1, "%s [%d] ", ts, (int)getpid());
    if (log_worker >= 0)
        o = append(line, o, cap - 1, "w%d ", log_worker);
    o = append(line, o, cap - 1, "%s: %s%s", sb_log_level_name(level), lg.prefix ? lg.prefix : "",
               msg);
    line[o++] = '\n';
    return o;
}

void sb_log(int level, const char *fmt, ...)
{
    char msg[MSG_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t msg_len = (size_t)n;
    if (msg_len >= sizeof(msg)) {
        msg_len = sizeof(msg) - 1;
        memcpy(msg + msg_len - 3, "...", 3);
    }
    /* a trailing newline from the caller would split the line */
    while (msg_len > 0 && msg[msg_len - 1] == '\n')
        msg[--msg_len] = '\0';

    if (lg.to_syslog) {
        if (log_worker >= 0)
            syslog(syslog_prio(level), "w%d %s: %s%s", log_worker, sb_log_level_name(level),
                   lg.prefix ? lg.prefix : "", msg);
        else
            syslog(syslog_prio(level), "%s: %s%s", sb_log_level_name(level),
                   lg.prefix ? lg.prefix : "", msg);
        return;
    }
    char line[LINE_MAX_LEN];
    size_t len = lg.json ? format_json(line, sizeof(line), level, msg, msg_len)
                         : format_plain(line, sizeof(line), level, msg);
    write_all(lg.fd, line, len);
}
