/* SPDX-License-Identifier: BSD-2-Clause */
/* mi_fifo: management requests over a named pipe, OpenSIPS framing: ":reply_fifo:" then the
 * JSON-RPC request; the reply is written to <reply_dir>/<reply_fifo>, a FIFO the client made
 * and reads. Served by one thread of its own; the reply of an asynchronous command is queued when
 * it arrives and written by that thread, which meanwhile goes on with the next requests. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/loop.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/mod-t.h"

#define BUF_MAX         (256u * 1024)
#define PARTIAL_WAIT_MS 1000 /* an incomplete request is dropped after this much silence */
#define REPLY_OPEN_MS   1000 /* how long the client may take to open its reply FIFO */
#define REPLY_WRITE_MS  2000
#define REPLY_NAME_MAX  128

static struct {
    char *fifo_name;
    int fifo_mode;
    char *fifo_user;
    char *fifo_group;
    char *reply_dir;
} conf = {
    .fifo_name = "/tmp/switchboard_fifo",
    .fifo_mode = 0660,
    .reply_dir = "/tmp/",
};

static struct {
    pthread_t thread;
    bool running;
    int fd;      /* the request FIFO, read side (opened read-write: never sees EOF) */
    int stop_fd; /* eventfd: destroy wakes the thread */
    int wake_fd; /* eventfd: an asynchronous reply was queued */
    char *buf;
    size_t len;
    pthread_mutex_t q_lock;
    struct later *q_head, **q_tail; /* replies to write, in arrival order */
} st = {.fd = -1, .stop_fd = -1, .wake_fd = -1, .q_lock = PTHREAD_MUTEX_INITIALIZER};

/* A request whose command went asynchronous: where its reply goes. */
struct later {
    struct later *next;
    char *text; /* the reply line; NULL: nothing to write */
    bool name_ok;
    char name[REPLY_NAME_MAX + 1];
};

/* "fifo_mode", 0660: the script reads the number as decimal 660; take its digits as octal
 * when that is what was meant (every digit 0..7 and the decimal value out of mode range). */
static mode_t fifo_mode(void)
{
    int m = conf.fifo_mode;
    if (m > 0777) {
        int oct = 0, mul = 1;
        for (int d = m; d > 0; d /= 10, mul *= 8) {
            if (d % 10 > 7)
                return 0660;
            oct += (d % 10) * mul;
        }
        m = oct;
    }
    return (mode_t)(m & 0777);
}

static int set_owner(const char *path)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (conf.fifo_user && *conf.fifo_user) {
        char *end;
        unsigned long v = strtoul(conf.fifo_user, &end, 10);
        struct passwd *pw = *end ? getpwnam(conf.fifo_user) : NULL;
        if (*end && !pw) {
            SB_ERR("mi_fifo: unknown user '%s'", conf.fifo_user);
            return SB_EINVAL;
        }
        uid = pw ? pw->pw_uid : (uid_t)v;
        if (pw && gid == (gid_t)-1)
            gid = pw->pw_gid;
    }
    if (conf.fifo_group && *conf.fifo_group) {
        char *end;
        unsigned long v = strtoul(conf.fifo_group, &end, 10);
        struct group *gr = *end ? getgrnam(conf.fifo_group) : NULL;
        if (*end && !gr) {
            SB_ERR("mi_fifo: unknown group '%s'", conf.fifo_group);
            return SB_EINVAL;
        }
        gid = gr ? gr->gr_gid : (gid_t)v;
    }
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) {
        SB_ERR("mi_fifo: chown %s: %s", path, strerror(errno));
        return SB_EINVAL;
    }
    return 0;
}

static int make_fifo(void)
{
    struct stat sb;
    if (lstat(conf.fifo_name, &sb) == 0) {
        if (!S_ISFIFO(sb.st_mode)) {
            SB_ERR("mi_fifo: %s exists and is not a FIFO", conf.fifo_name);
            return SB_EINVAL;
        }
        /* a leftover of an earlier run: start clean */
        unlink(conf.fifo_name);
    }
    if (mkfifo(conf.fifo_name, 0600) != 0) {
        SB_ERR("mi_fifo: cannot create %s: %s", conf.fifo_name, strerror(errno));
        return SB_EINVAL;
    }
    /* chmod after mkfifo: the mode is not subject to the umask */
    if (chmod(conf.fifo_name, fifo_mode()) != 0 || set_owner(conf.fifo_name) != 0) {
        unlink(conf.fifo_name);
        return SB_EINVAL;
    }
    st.fd = open(conf.fifo_name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (st.fd < 0) {
        SB_ERR("mi_fifo: cannot open %s: %s", conf.fifo_name, strerror(errno));
        unlink(conf.fifo_name);
        return SB_EINVAL;
    }
    return 0;
}

/* ---- replies ------------------------------------------------------------------------------- */

static bool reply_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= REPLY_NAME_MAX && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

static void write_reply(const char *name, const char *text)
{
    char path[1024];
    const char *dir = conf.reply_dir ? conf.reply_dir : "/tmp/";
    size_t dl = strlen(dir);
    int n = snprintf(path, sizeof(path), "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return;
    int fd = -1;
    /* the client may open its FIFO for reading only after writing the request */
    uint64_t deadline = sb_now_ms() + REPLY_OPEN_MS;
    for (;;) {
        fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 || errno != ENXIO || sb_now_ms() >= deadline)
            break;
        usleep(10000);
    }
    if (fd < 0) {
        SB_WARN("mi_fifo: cannot open reply FIFO %s: %s", path, strerror(errno));
        return;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISFIFO(sb.st_mode)) {
        SB_WARN("mi_fifo: reply %s is not a FIFO", path);
        close(fd);
        return;
    }
    size_t len = strlen(text), off = 0;
    deadline = sb_now_ms() + REPLY_WRITE_MS;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            break;
        uint64_t now = sb_now_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, (int)(deadline - now));
    }
    if (off < len)
        SB_WARN("mi_fifo: reply to %s cut short", path);
    close(fd);
}

/* Add a newline to a reply text; NULL stays NULL. */
static char *reply_line(char *text)
{
    if (!text)
        return NULL;
    size_t tl = strlen(text);
    char *line = realloc(text, tl + 2);
    if (!line)
        return text;
    memcpy(line + tl, "\n", 2);
    return line;
}

/* An asynchronous reply (any thread): queue it for the FIFO thread. */
static void on_reply(void *arg, json_t *reply)
{
    struct later *l = arg;
    l->text = reply_line(sb_mi_reply_text(reply));
    l->next = NULL;
    pthread_mutex_lock(&st.q_lock);
    *st.q_tail = l;
    st.q_tail = &l->next;
    pthread_mutex_unlock(&st.q_lock);
    uint64_t one = 1;
    if (write(st.wake_fd, &one, sizeof(one)) < 0)
        SB_WARN("mi_fifo: cannot wake its thread: %s", strerror(errno));
}

/* Write the queued asynchronous replies (FIFO thread). */
static void write_queued(void)
{
    uint64_t n;
    if (read(st.wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        SB_WARN("mi_fifo: wake-up read: %s", strerror(errno));
    pthread_mutex_lock(&st.q_lock);
    struct later *l = st.q_head;
    st.q_head = NULL;
    st.q_tail = &st.q_head;
    pthread_mutex_unlock(&st.q_lock);
    while (l) {
        struct later *next = l->next;
        if (!l->name_ok)
            SB_WARN("mi_fifo: bad reply FIFO name; request dropped");
        else if (l->text)
            write_reply(l->name, l->text);
        free(l->text);
        free(l);
        l = next;
    }
}

/* ---- requests ------------------------------------------------------------------------------ */

/* Take complete requests off the front of the buffer. Returns true when what is left is an
 * incomplete request (wait for more). */
static bool process_buffer(void)
{
    size_t pos = 0;
    bool partial = false;
    while (pos < st.len) {
        while (pos < st.len && (st.buf[pos] == '\n' || st.buf[pos] == '\r' || st.buf[pos] == ' ' ||
                                st.buf[pos] == '\t'))
            pos++;
        if (pos == st.len)
            break;
        char *start = st.buf + pos;
        size_t left = st.len - pos;
        if (*start != ':') {
            SB_WARN("mi_fifo: request does not start with ':reply_fifo:'; dropped");
            char *nl = memchr(start, '\n', left);
            pos = nl ? (size_t)(nl - st.buf) + 1 : st.len;
            continue;
        }
        char *end = memchr(start + 1, ':', left - 1);
        if (!end) {
            partial = left < REPLY_NAME_MAX + 2;
            if (!partial)
                pos = st.len;
            break;
        }
        char name[REPLY_NAME_MAX + 1];
        size_t nl = (size_t)(end - start - 1);
        bool name_ok = nl <= REPLY_NAME_MAX;
        if (name_ok) {
            memcpy(name, start + 1, nl);
            name[nl] = '\0';
            name_ok = reply_name_ok(name);
        }
        size_t jpos = (size_t)(end + 1 - st.buf);
        json_error_t jerr;
        json_t *req = json_loadb(st.buf + jpos, st.len - jpos,
                                 JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &jerr);
        char *text = NULL;
        if (!req) {
            if ((size_t)jerr.position >= st.len - jpos) {
                partial = true; /* ran into the end of what we have */
                break;
            }
            text = sb_mi_handle("", 0); /* the parse-error reply */
            char *nlp = memchr(st.buf + jpos, '\n', st.len - jpos);
            pos = nlp ? (size_t)(nlp - st.buf) + 1 : st.len;
        } else {
            pos = jpos + (size_t)jerr.position;
            struct later *l = calloc(1, sizeof(*l));
            json_t *reply = NULL;
            int rc = SB_ENOMEM;
            if (l) {
                l->name_ok = name_ok;
                if (name_ok)
                    memcpy(l->name, name, nl + 1);
                rc = sb_mi_handle_json_async(req, on_reply, l, &reply);
            }
            json_decref(req);
            if (rc == 1)
                continue; /* on_reply queues the answer; go on with the next request */
            free(l);
            text = sb_mi_reply_text(reply);
        }
        text = reply_line(text);
        if (!name_ok)
            SB_WARN("mi_fifo: bad reply FIFO name; request dropped");
        else if (text)
            write_reply(name, text);
        free(text);
    }
    memmove(st.buf, st.buf + pos, st.len - pos);
    st.len -= pos;
    return partial && st.len > 0;
}

static void *fifo_main(void *arg)
{
    (void)arg;
    sb_mi_thread_register("MI FIFO");
    bool waiting = false;
    for (;;) {
        struct pollfd p[3] = {{.fd = st.fd, .events = POLLIN},
                              {.fd = st.stop_fd, .events = POLLIN},
                              {.fd = st.wake_fd, .events = POLLIN}};
        int n = poll(p, 3, waiting ? PARTIAL_WAIT_MS : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (p[1].revents)
            break;
        if (p[2].revents) {
            write_queued();
            if (n == 1)
                continue;
        }
        if (n == 0) {
            SB_WARN("mi_fifo: incomplete request dropped");
            st.len = 0;
            waiting = false;
            continue;
        }
        if (!(p[0].revents & POLLIN))
            continue;
        for (;;) {
            if (st.len == BUF_MAX) {
                SB_WARN("mi_fifo: request over %u bytes dropped", BUF_MAX);
                st.len = 0;
            }
            ssize_t r = read(st.fd, st.buf + st.len, BUF_MAX - st.len);
            if (r <= 0)
                break;
            st.len += (size_t)r;
        }
        waiting = process_buffer();
    }
    /* the answers of a shutdown (sb_mi_async_shutdown ran before the stop) */
    write_queued();
    sb_mi_thread_gone();
    return NULL;
}

static int mi_fifo_init(void)
{
    if (!conf.fifo_name || !*conf.fifo_name) {
        SB_ERR("mi_fifo: fifo_name is empty");
        return SB_EINVAL;
    }
    st.buf = malloc(BUF_MAX);
    st.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    st.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    st.q_head = NULL;
    st.q_tail = &st.q_head;
    if (!st.buf || st.stop_fd < 0 || st.wake_fd < 0)
        goto fail;
    if (make_fifo() != 0)
        goto fail;
    if (pthread_create(&st.thread, NULL, fifo_main, NULL) != 0) {
        SB_ERR("mi_fifo: cannot start its thread");
        unlink(conf.fifo_name);
        goto fail;
    }
    st.running = true;
    SB_NOTICE("mi_fifo: serving %s", conf.fifo_name);
    return 0;
fail:
    if (st.fd >= 0)
        close(st.fd);
    if (st.stop_fd >= 0)
        close(st.stop_fd);
    if (st.wake_fd >= 0)
        close(st.wake_fd);
    free(st.buf);
    st.buf = NULL;
    st.fd = st.stop_fd = st.wake_fd = -1;
    return SB_EINVAL;
}

static void mi_fifo_destroy(void)
{
    /* pending commands are answered (queued for the thread, which writes them before it ends) */
    sb_mi_async_shutdown();
    if (st.running) {
        uint64_t one = 1;
        if (write(st.stop_fd, &one, sizeof(one)) < 0)
            SB_WARN("mi_fifo: cannot wake its thread: %s", strerror(errno));
        pthread_join(st.thread, NULL);
        st.running = false;
        unlink(conf.fifo_name);
    }
    if (st.fd >= 0)
        close(st.fd);
    if (st.stop_fd >= 0)
        close(st.stop_fd);
    if (st.wake_fd >= 0)
        close(st.wake_fd);
    /* not written when the thread did not run */
    for (struct later *l = st.q_head, *next; l; l = next) {
        next = l->next;
        free(l->text);
        free(l);
    }
    st.q_head = NULL;
    st.q_tail = &st.q_head;
    free(st.buf);
    st.buf = NULL;
    st.len = 0;
    st.fd = st.stop_fd = st.wake_fd = -1;
}

static const struct sb_mod_param params[] = {
    {.name = "fifo_name", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), fifo_name)},
    {.name = "fifo_mode", .type = SB_MP_INT, .offset = offsetof(__typeof__(conf), fifo_mode)},
    {.name = "fifo_user", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), fifo_user)},
    {.name = "fifo_group", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), fifo_group)},
    {.name = "reply_dir", .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), reply_dir)},
    {.name = NULL},
};

const struct sb_module sb_module_mi_fifo = {
    .name = "mi_fifo",
    .summary = "management interface (JSON-RPC 2.0) over a named pipe",
    .conf = &conf,
    .params = params,
    .init = mi_fifo_init,
    .destroy = mi_fifo_destroy,
};
