/* SPDX-License-Identifier: BSD-2-Clause */
/* External subscribers of events: JSON-RPC 2.0 notifications to UDP sockets (event_datagram) and
 * TCP connections kept open (event_stream), sent by one sender thread from a bounded queue so
 * that a raising worker never waits for the network. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evi_int.h"
#include "sb/base.h"
#include "sb/log.h"
#include "sb/net.h"

#define IO_TIMEOUT_MS 1000 /* connect / write to a stream subscriber */
#define SOCK_TEXT_MAX 80

struct sub {
    bool active;
    sb_evi_id ev;
    int kind; /* SB_EVI_SOCK_* */
    struct sb_addr addr;
    char text[SOCK_TEXT_MAX]; /* as given, for subscribers_list and matching */
    int64_t expires;          /* absolute, seconds */
    int fd;                   /* TCP: the connection, -1 when closed */
};

struct note {
    struct note *next;
    sb_evi_id ev;
    size_t len;
    char text[]; /* the JSON-RPC notification */
};

/* <sub_lock> guards <subs> and the TCP connections in them (the sender writes under it, so only
 * the management commands ever wait for a slow peer). <q_lock> guards the queue, which raising
 * workers touch only to append. Order: sub_lock, then q_lock. */
static pthread_mutex_t sub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sub subs[SB_EVI_MAX_SUBS];
static _Atomic int enabled_kinds;

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_idle = PTHREAD_COND_INITIALIZER;
static struct note *q_head, *q_tail;
static unsigned q_len, q_max = SB_EVI_QUEUE_MAX;
static bool q_busy; /* the sender holds a notification it took from the queue */
static bool running, stopping;
static pthread_t sender;

static _Atomic uint64_t n_dropped, n_sent;
static _Atomic int64_t clock_skew;
static int udp_fd4 = -1, udp_fd6 = -1; /* the sender's own sockets */

static int64_t now_s(void)
{
    return (int64_t)time(NULL) + atomic_load(&clock_skew);
}

/* ---- notifications ------------------------------------------------------------------------- */

static json_t *params_json(const struct sb_evi_params *p)
{
    json_t *o = json_object();
    for (unsigned i = 0; o && p && i < p->n; i++) {
        const struct sb_evi_param *e = &p->v[i];
        json_t *v = e->is_str ? json_stringn_nocheck(e->s.p ? e->s.p : "", e->s.len)
                              : json_integer((json_int_t)e->i);
        json_object_set_new(o, e->name, v);
    }
    return o;
}

void sb__evi_notify(sb_evi_id id, const struct sb_evi_params *p)
{
    json_t *msg = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", sb_evi_name(id),
                            "params", params_json(p));
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    size_t len = text ? strlen(text) : 0;
    struct note *n = text ? malloc(sizeof(*n) + len + 1) : NULL;
    if (!n) {
        free(text);
        atomic_fetch_add(&n_dropped, 1);
        return;
    }
    n->next = NULL;
    n->ev = id;
    n->len = len;
    memcpy(n->text, text, len + 1);
    free(text);
    pthread_mutex_lock(&q_lock);
    if (!running || q_len >= q_max) {
        pthread_mutex_unlock(&q_lock);
        free(n);
        atomic_fetch_add(&n_dropped, 1);
        return;
    }
    if (q_tail)
        q_tail->next = n;
    else
        q_head = n;
    q_tail = n;
    q_len++;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

/* ---- sending (sender thread) --------------------------------------------------------------- */

static int wait_fd(int fd, short ev)
{
    struct pollfd pf = {.fd = fd, .events = ev};
    int r;
    do
        r = poll(&pf, 1, IO_TIMEOUT_MS);
    while (r < 0 && errno == EINTR);
    return r > 0 && (pf.revents & ev) ? 0 : -1;
}

static int stream_connect(struct sub *s)
{
    int fd = socket(sb_addr_family(&s->addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, &s->addr.u.sa, s->addr.len) != 0) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (errno != EINPROGRESS || wait_fd(fd, POLLOUT) != 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
            close(fd);
            return -1;
        }
    }
    s->fd = fd;
    return 0;
}

static int stream_write(struct sub *s, const char *p, size_t len)
{
    if (s->fd < 0 && stream_connect(s) != 0)
        return -1;
    while (len) {
        ssize_t w = send(s->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            p += w, len -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(s->fd, POLLOUT) != 0)
                goto fail;
        } else {
            goto fail;
        }
    }
    return 0;
fail:
    close(s->fd);
    s->fd = -1;
    return -1;
}

static void drop_sub(struct sub *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->active)
        atomic_fetch_sub(&sb__evi_n_subs[s->ev], 1);
    s->active = false;
}

/* Forget expired subscriptions. Under sub_lock. */
static void reap(void)
{
    int64_t now = now_s();
    for (unsigned i = 0; i < SB_EVI_MAX_SUBS; i++)
        if (subs[i].active && subs[i].expires <= now)
            drop_sub(&subs[i]);
}

static void deliver(const struct note *n)
{
    pthread_mutex_lock(&sub_lock);
    reap();
    for (unsigned i = 0; i < SB_EVI_MAX_SUBS; i++) {
        struct sub *s = &subs[i];
        if (!s->active || s->ev != n->ev)
            continue;
        int rc;
        if (s->kind == SB_EVI_SOCK_UDP) {
            int fd = sb_addr_family(&s->addr) == AF_INET6 ? udp_fd6 : udp_fd4;
            rc = fd >= 0 && sendto(fd, n->text, n->len, MSG_DONTWAIT, &s->addr.u.sa, s->addr.len) ==
                                (ssize_t)n->len
                     ? 0
                     : -1;
        } else {
            /* one JSON-RPC object per line: readers can split the stream without parsing it */
            rc = stream_write(s, n->text, n->len);
            if (rc == 0)
                rc = stream_write(s, "\n", 1);
        }
        if (rc == 0)
            atomic_fetch_add(&n_sent, 1);
        else
            SB_DEBUG("evi: cannot send %s to %s", sb_evi_name(n->ev), s->text);
    }
    pthread_mutex_unlock(&sub_lock);
}

static void *sender_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q_lock);
    for (;;) {
        while (!q_head && !stopping)
            pthread_cond_wait(&q_cond, &q_lock);
        if (!q_head)
            break;
        struct note *n = q_head;
        q_head = n->next;
        if (!q_head)
            q_tail = NULL;
        q_len--;
        q_busy = true;
        pthread_mutex_unlock(&q_lock);
        deliver(n);
        free(n);
        pthread_mutex_lock(&q_lock);
        q_busy = false;
        if (!q_head)
            pthread_cond_broadcast(&q_idle);
    }
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

/* ---- control ------------------------------------------------------------------------------- */

int sb_evi_enable_socket(int kind)
{
    if (kind != SB_EVI_SOCK_UDP && kind != SB_EVI_SOCK_TCP)
        return SB_EINVAL;
    atomic_fetch_or(&enabled_kinds, kind);
    pthread_mutex_lock(&q_lock);
    int rc = 0;
    if (!running) {
        if (udp_fd4 < 0)
            udp_fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (udp_fd6 < 0)
            udp_fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        stopping = false;
        if (pthread_create(&sender, NULL, sender_main, NULL) != 0) {
            SB_ERR("evi: cannot start the event sender thread");
            rc = SB_ENOMEM;
        } else {
            running = true;
        }
    }
    pthread_mutex_unlock(&q_lock);
    return rc;
}

void sb_evi_shutdown(void)
{
    pthread_mutex_lock(&q_lock);
    bool was = running;
    stopping = true;
    running = false; /* no new notifications from here on */
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
    if (was)
        pthread_join(sender, NULL);
    pthread_mutex_lock(&q_lock);
    while (q_head) {
        struct note *n = q_head;
        q_head = n->next;
        free(n);
    }
    q_tail = NULL;
    q_len = 0;
    pthread_mutex_unlock(&q_lock);
    pthread_mutex_lock(&sub_lock);
    for (unsigned i = 0; i < SB_EVI_MAX_SUBS; i++)
        drop_sub(&subs[i]);
    pthread_mutex_unlock(&sub_lock);
    if (udp_fd4 >= 0)
        close(udp_fd4);
    if (udp_fd6 >= 0)
        close(udp_fd6);
    udp_fd4 = udp_fd6 = -1;
    atomic_store(&enabled_kinds, 0);
}

int sb_evi_flush(unsigned timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&q_lock);
    int rc = 0;
    while ((q_head || q_busy) && rc == 0)
        rc = pthread_cond_timedwait(&q_idle, &q_lock, &ts);
    bool empty = !q_head && !q_busy;
    pthread_mutex_unlock(&q_lock);
    return empty ? 0 : SB_EAGAIN;
}

void sb_evi_set_queue_max(unsigned n)
{
    pthread_mutex_lock(&q_lock);
    q_max = n ? n : SB_EVI_QUEUE_MAX;
    pthread_mutex_unlock(&q_lock);
}

void sb_evi_set_clock_skew(int64_t secs)
{
    atomic_store(&clock_skew, secs);
}

uint64_t sb_evi_dropped(void)
{
    return atomic_load(&n_dropped);
}

uint64_t sb_evi_sent(void)
{
    return atomic_load(&n_sent);
}

/* ---- subscriptions ------------------------------------------------------------------------- */

/* "udp:1.2.3.4:5", "tcp:[::1]:5" (case-insensitive scheme). */
static int parse_sock(sb_str t, int *kind, struct sb_addr *a)
{
    t = sb_str_trim(t);
    if (t.len < 5 || t.len >= SOCK_TEXT_MAX || t.p[3] != ':')
        return SB_EPARSE;
    sb_str scheme = {t.p, 3};
    if (sb_str_caseeq_lit(scheme, "udp"))
        *kind = SB_EVI_SOCK_UDP;
    else if (sb_str_caseeq_lit(scheme, "tcp"))
        *kind = SB_EVI_SOCK_TCP;
    else
        return SB_EPARSE;
    sb_str rest = {t.p + 4, t.len - 4};
    size_t colon = rest.len;
    while (colon > 0 && rest.p[colon - 1] != ':')
        colon--;
    if (colon < 2)
        return SB_EPARSE;
    sb_str host = {rest.p, colon - 1}, port = {rest.p + colon, rest.len - colon};
    uint32_t pn;
    if (sb_str_to_u32(port, &pn) != 0 || pn == 0 || pn > 65535)
        return SB_EPARSE;
    return sb_addr_set(a, host, (uint16_t)pn) == 0 ? 0 : SB_EPARSE;
}

static struct sub *find_sub(sb_evi_id ev, sb_str text)
{
    for (unsigned i = 0; i < SB_EVI_MAX_SUBS; i++)
        if (subs[i].active && subs[i].ev == ev && strlen(subs[i].text) == text.len &&
            strncasecmp(subs[i].text, text.p, text.len) == 0)
            return &subs[i];
    return NULL;
}

int sb_evi_subscribe(sb_str event, sb_str sock, uint32_t expire, const char **err)
{
    const char *dummy;
    if (!err)
        err = &dummy;
    sb_evi_id ev = sb_evi_find(event);
    if (!ev) {
        *err = "unknown event";
        return SB_ENOENT;
    }
    sock = sb_str_trim(sock);
    int kind;
    struct sb_addr addr;
    if (parse_sock(sock, &kind, &addr) != 0) {
        *err = "bad socket (udp:IP:PORT or tcp:IP:PORT)";
        return SB_EPARSE;
    }
    if (!(atomic_load(&enabled_kinds) & kind)) {
        *err =
            kind == SB_EVI_SOCK_UDP ? "event_datagram is not loaded" : "event_stream is not loaded";
        return SB_EINVAL;
    }
    int64_t exp = now_s() + (expire ? expire : SB_EVI_DEFAULT_EXPIRE);
    int rc = 0;
    pthread_mutex_lock(&sub_lock);
    reap();
    struct sub *s = find_sub(ev, sock);
    if (s) {
        s->expires = exp;
        goto out;
    }
    for (unsigned i = 0; i < SB_EVI_MAX_SUBS && !s; i++)
        if (!subs[i].active)
            s = &subs[i];
    if (!s) {
        *err = "too many subscriptions";
        rc = SB_ELIMIT;
        goto out;
    }
    *s = (struct sub){
        .active = true, .ev = ev, .kind = kind, .addr = addr, .expires = exp, .fd = -1};
    memcpy(s->text, sock.p, sock.len);
    s->text[sock.len] = '\0';
    atomic_fetch_add(&sb__evi_n_subs[ev], 1);
out:
    pthread_mutex_unlock(&sub_lock);
    return rc;
}

int sb_evi_unsubscribe(sb_str event, sb_str sock)
{
    sb_evi_id ev = sb_evi_find(event);
    if (!ev)
        return SB_ENOENT;
    pthread_mutex_lock(&sub_lock);
    struct sub *s = find_sub(ev, sb_str_trim(sock));
    if (s)
        drop_sub(s);
    pthread_mutex_unlock(&sub_lock);
    return s ? 0 : SB_ENOENT;
}

void sb__evi_subs_walk(sb_evi_id ev, sb__evi_sub_fn fn, void *arg)
{
    pthread_mutex_lock(&sub_lock);
    reap();
    int64_t now = now_s();
    for (unsigned i = 0; i < SB_EVI_MAX_SUBS; i++)
        if (subs[i].active && (!ev || subs[i].ev == ev))
            fn(sb_evi_name(subs[i].ev), subs[i].text, subs[i].expires - now, arg);
    pthread_mutex_unlock(&sub_lock);
}
