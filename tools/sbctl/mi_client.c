/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl's management transports: a minimal HTTP/1.1 POST client (mi_http) and the FIFO framing
 * of mi_fifo (":reply_fifo:" + request, the reply read from a FIFO we create). Every wait is
 * bounded by the deadline of the call. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/loop.h"
#include "sbctl.h"

#define REPLY_MAX (64u * 1024 * 1024)

/* A growing byte buffer, always NUL-terminated. */
struct grow {
    char *p;
    size_t len, cap;
};

static int grow_add(struct grow *g, const void *data, size_t n)
{
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < g->len + n + 1)
            cap *= 2;
        char *p = realloc(g->p, cap);
        if (!p)
            return SB_ENOMEM;
        g->p = p;
        g->cap = cap;
    }
    memcpy(g->p + g->len, data, n);
    g->len += n;
    g->p[g->len] = '\0';
    return 0;
}

static int ms_left(uint64_t deadline)
{
    uint64_t now = sb_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for <events> on <fd> until <deadline>. 0 when ready, SBCTL_ETIMEOUT otherwise. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms_left(deadline));
        if (n > 0)
            return 0;
        if (n == 0)
            return SBCTL_ETIMEOUT;
        if (errno != EINTR)
            return SBCTL_EIO;
    }
}

static int write_all(int fd, const char *p, size_t len, uint64_t deadline)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w > 0) {
            p += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return SBCTL_EIO;
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

struct url {
    char host[256], port[8], path[1024], auth[512];
};

static int url_parse(const char *s, struct url *u)
{
    memset(u, 0, sizeof(*u));
    if (strncasecmp(s, "http://", 7) != 0)
        return SB_EINVAL;
    s += 7;
    const char *end = s + strcspn(s, "/");
    const char *at = memchr(s, '@', (size_t)(end - s));
    if (at) {
        if ((size_t)(at - s) >= sizeof(u->auth))
            return SB_EINVAL;
        memcpy(u->auth, s, (size_t)(at - s));
        s = at + 1;
    }
    const char *hend, *colon;
    if (*s == '[') {
        hend = memchr(s, ']', (size_t)(end - s));
        if (!hend)
            return SB_EINVAL;
        s++;
        colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
    } else {
        colon = memchr(s, ':', (size_t)(end - s));
        hend = colon ? colon : end;
    }
    size_t hl = (size_t)(hend - s);
    if (hl == 0 || hl >= sizeof(u->host))
        return SB_EINVAL;
    memcpy(u->host, s, hl);
    size_t pl = colon ? (size_t)(end - colon - 1) : 0;
    if (colon && (pl == 0 || pl >= sizeof(u->port) || strspn(colon + 1, "0123456789") < pl))
        return SB_EINVAL;
    if (pl)
        memcpy(u->port, colon + 1, pl);
    else
        strcpy(u->port, "80");
    int n = snprintf(u->path, sizeof(u->path), "%s", *end ? end : "/");
    return n > 0 && (size_t)n < sizeof(u->path) ? 0 : SB_EINVAL;
}

static int tcp_connect(const struct url *u, uint64_t deadline, char *err, size_t cap)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g != 0) {
        snprintf(err, cap, "%s: %s", u->host, gai_strerror(g));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        e = errno;
        if (e == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0) {
            socklen_t l = sizeof(e);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0)
                break;
        } else if (e == EINPROGRESS) {
            e = ETIMEDOUT;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, cap, "cannot connect to %s%s%s:%s: %s", strchr(u->host, ':') ? "[" : "",
                 u->host, strchr(u->host, ':') ? "]" : "", u->port, strerror(e));
    return fd;
}

/* Decode a chunked body in place. Returns the decoded length, or -1 when it is malformed. */
static long dechunk(char *p, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *eol = memmem(p + in, len - in, "\r\n", 2);
        if (!eol)
            return -1;
        char *end;
        unsigned long n = strtoul(p + in, &end, 16);
        if (end == p + in)
            return -1;
        in = (size_t)(eol - p) + 2;
        if (n == 0)
            return (long)out;
        if (n > len - in)
            return -1;
        memmove(p + out, p + in, n);
        out += n;
        in += n + 2;
        if (in > len)
            return -1;
    }
}

/* Split a complete response into status and body; the body is moved to the buffer's start.
 * Returns 1 when more bytes are needed (and <eof> is false), 0 when done, < 0 when malformed. */
static int http_parse(struct grow *g, bool eof, int *status)
{
    char *hend = g->p ? strstr(g->p, "\r\n\r\n") : NULL;
    if (!hend)
        return eof ? SB_EPARSE : 1;
    if (sscanf(g->p, "HTTP/1.%*d %d", status) != 1)
        return SB_EPARSE;
    size_t hlen = (size_t)(hend - g->p) + 4;
    long clen = -1;
    bool chunked = false;
    for (char *l = strstr(g->p, "\r\n") + 2; l < hend; l = strstr(l, "\r\n") + 2) {
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            clen = strtol(l + 15, NULL, 10);
        else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0)
            chunked = strstr(l, "chunked") && strstr(l, "chunked") < strstr(l, "\r\n");
    }
    size_t have = g->len - hlen;
    if (*status == 204 || *status == 304)
        have = 0;
    else if (chunked && !eof && !memmem(g->p + hlen, have, "0\r\n\r\n", 5))
        return 1;
    else if (!chunked && clen >= 0 && have < (size_t)clen)
        return eof ? SB_EPARSE : 1;
    else if (!chunked && clen < 0 && !eof)
        return 1;
    if (!chunked && clen >= 0)
        have = (size_t)clen;
    memmove(g->p, g->p + hlen, have);
    g->len = have;
    g->p[have] = '\0';
    if (chunked) {
        long n = dechunk(g->p, g->len);
        if (n < 0)
            return SB_EPARSE;
        g->len = (size_t)n;
        g->p[n] = '\0';
    }
    return 0;
}

static int http_call(const struct sbctl *c, const char *req, char **reply, char *err, size_t cap)
{
    struct url u;
    if (url_parse(c->mi_url, &u) != 0) {
        snprintf(err, cap, "bad URL '%s' (expected http://HOST[:PORT]/PATH)", c->mi_url);
        return SB_EINVAL;
    }
    uint64_t deadline = sb_now_ms() + c->timeout_ms;
    int fd = tcp_connect(&u, deadline, err, cap);
    if (fd < 0) {
        /* the usual reason by far: say it first, keep the socket error for the rest */
        char why[512];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, cap, "switchboard is not running (no answer on %.200s): %.200s", c->mi_url,
                 why);
        return SBCTL_EIO;
    }
    char auth[800] = "";
    if (u.auth[0]) {
        char b64[700];
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)u.auth, (int)strlen(u.auth));
        snprintf(auth, sizeof(auth), "Authorization: Basic %s\r\n", b64);
    }
    bool v6 = strchr(u.host, ':') != NULL;
    char head[2048];
    int hl = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nContent-Type: application/json\r\n"
                      "Accept: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
                      "%s\r\n",
                      u.path, v6 ? "[" : "", u.host, v6 ? "]" : "", u.port, strlen(req), auth);
    struct grow g = {0};
    int rc = hl > 0 && (size_t)hl < sizeof(head) ? 0 : SB_EINVAL;
    if (rc == 0)
        rc = write_all(fd, head, (size_t)hl, deadline);
    if (rc == 0)
        rc = write_all(fd, req, strlen(req), deadline);
    int status = 0;
    while (rc == 0) {
        char buf[16384];
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            rc = wait_fd(fd, POLLIN, deadline);
            continue;
        }
        if (r < 0) {
            rc = SBCTL_EIO;
            break;
        }
        if (r > 0 && (g.len + (size_t)r > REPLY_MAX || grow_add(&g, buf, (size_t)r) != 0)) {
            rc = SB_ELIMIT;
            break;
        }
        int p = http_parse(&g, r == 0, &status);
        if (p <= 0) {
            rc = p;
            break;
        }
    }
    close(fd);
    if (rc == SBCTL_ETIMEOUT)
        snprintf(err, cap, "no answer from %s within %u ms", c->mi_url, c->timeout_ms);
    else if (rc == SB_EPARSE)
        snprintf(err, cap, "%s: malformed HTTP response", c->mi_url);
    else if (rc != 0)
        snprintf(err, cap, "%s: %s", c->mi_url,
                 rc == SB_ELIMIT ? "response too large" : "connection failed");
    else if (status == 204)
        *reply = NULL;
    else if (status != 200)
        snprintf(err, cap, "%s: HTTP %d%s%.200s", c->mi_url, status, g.len ? ": " : "",
                 g.len ? g.p : "");
    if (rc == 0 && status != 200 && status != 204)
        rc = SBCTL_EIO;
    if (rc == 0 && status == 200) {
        *reply = g.p;
        g.p = NULL;
    }
    free(g.p);
    /* a trailing newline of the HTTP error body reads badly inside a message */
    size_t el = strlen(err);
    while (el && (err[el - 1] == '\n' || err[el - 1] == '\r'))
        err[--el] = '\0';
    return rc;
}

/* ---- FIFO ---------------------------------------------------------------------------------- */

/* The reply FIFO, removed on SIGINT/SIGTERM too so that an interrupted call leaves nothing. */
static char reply_path[1024];

static void on_signal(int sig)
{
    if (reply_path[0])
        unlink(reply_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int make_reply_fifo(const struct sbctl *c, char *name, size_t cap, char *err, size_t ecap)
{
    const char *dir = c->mi_reply_dir && *c->mi_reply_dir ? c->mi_reply_dir : "/tmp";
    size_t dl = strlen(dir);
    const char *sep = dir[dl - 1] == '/' ? "" : "/";
    for (unsigned attempt = 0; attempt < 16; attempt++) {
        snprintf(name, cap, "sbctl_reply_%d_%u", (int)getpid(),
                 (unsigned)(sb_now_ms() % 100000u) + attempt);
        int n = snprintf(reply_path, sizeof(reply_path), "%s%s%s", dir, sep, name);
        if (n < 0 || (size_t)n >= sizeof(reply_path)) {
            snprintf(err, ecap, "reply directory name too long");
            break;
        }
        if (mkfifo(reply_path, 0600) == 0) {
            /* the server may run as another user: it must be able to write, but no one else
             * may read our reply */
            if (chmod(reply_path, 0622) != 0) {
                snprintf(err, ecap, "chmod %s: %s", reply_path, strerror(errno));
                unlink(reply_path);
                break;
            }
            return 0;
        }
        if (errno != EEXIST) {
            snprintf(err, ecap, "cannot create %.200s: %s", reply_path, strerror(errno));
            break;
        }
    }
    if (!err[0])
        snprintf(err, ecap, "cannot create a reply FIFO in %s", dir);
    reply_path[0] = '\0';
    return SBCTL_EIO;
}

static int fifo_call(const struct sbctl *c, const char *req, char **reply, char *err, size_t cap)
{
    uint64_t deadline = sb_now_ms() + c->timeout_ms;
    char name[64];
    if (make_reply_fifo(c, name, sizeof(name), err, cap) != 0)
        return SBCTL_EIO;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = SBCTL_EIO, wfd = -1;
    struct grow g = {0};
    /* opened before the request goes out, so that the server's open never finds no reader */
    int rfd = open(reply_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (rfd < 0) {
        snprintf(err, cap, "cannot open %.200s: %s", reply_path, strerror(errno));
        goto out;
    }
    wfd = open(c->mi_fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (wfd < 0) {
        if (errno == ENXIO || errno == ENOENT)
            snprintf(err, cap, "switchboard is not running (%s %s)",
                     errno == ENXIO ? "no reader on" : "no FIFO at", c->mi_fifo);
        else
            snprintf(err, cap, "%s: %s", c->mi_fifo, strerror(errno));
        goto out;
    }
    if (fstat(wfd, &sb) != 0 || !S_ISFIFO(sb.st_mode)) {
        snprintf(err, cap, "%s is not a FIFO", c->mi_fifo);
        goto out;
    }
    size_t rl = strlen(req);
    char *msg = malloc(strlen(name) + rl + 4);
    if (!msg) {
        rc = SB_ENOMEM;
        snprintf(err, cap, "out of memory");
        goto out;
    }
    int ml = sprintf(msg, ":%s:%s\n", name, req);
    rc = write_all(wfd, msg, (size_t)ml, deadline);
    free(msg);
    close(wfd);
    wfd = -1;
    if (rc != 0) {
        snprintf(err, cap, "%s: cannot write the request", c->mi_fifo);
        goto out;
    }
    /* the server appends a newline to its one-line JSON reply */
    while (!(g.len && g.p[g.len - 1] == '\n')) {
        char buf[16384];
        ssize_t r = read(rfd, buf, sizeof(buf));
        if (r > 0) {
            if (g.len + (size_t)r > REPLY_MAX || grow_add(&g, buf, (size_t)r) != 0) {
                rc = SB_ELIMIT;
                snprintf(err, cap, "reply too large");
                goto out;
            }
            continue;
        }
        if (r == 0 && g.len)
            break; /* the writer closed */
        if (r < 0 && errno != EAGAIN && errno != EINTR) {
            rc = SBCTL_EIO;
            snprintf(err, cap, "reading %.200s: %s", reply_path, strerror(errno));
            goto out;
        }
        /* r == 0 without data: no writer yet (Linux raises no POLLHUP before one came) */
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        int left = ms_left(deadline);
        int n = left ? poll(&p, 1, left < 50 ? left : 50) : 0;
        if (n > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN)) {
            rc = SBCTL_EIO;
            snprintf(err, cap, "%s: the server closed the reply without an answer", c->mi_fifo);
            goto out;
        }
        if (left == 0 || (n < 0 && errno != EINTR)) {
            rc = SBCTL_ETIMEOUT;
            snprintf(err, cap, "no reply on %s within %u ms", c->mi_fifo, c->timeout_ms);
            goto out;
        }
    }
    rc = 0;
    *reply = g.p;
    g.p = NULL;
out:
    free(g.p);
    if (wfd >= 0)
        close(wfd);
    if (rfd >= 0)
        close(rfd);
    unlink(reply_path);
    reply_path[0] = '\0';
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

int sbctl_mi_call(const struct sbctl *c, const char *req, char **reply)
{
    char err[512] = "";
    *reply = NULL;
    int rc = c->mi_fifo ? fifo_call(c, req, reply, err, sizeof(err))
                        : http_call(c, req, reply, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "sbctl: %s\n", err[0] ? err : "management call failed");
    return rc;
}
