/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP listeners: each worker has its own SO_REUSEPORT listening socket per TCP address, so the
 * kernel spreads new connections over the workers; a connection stays on the worker that
 * accepted it. */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/log.h"
#include "tp/tp_int.h"

/* Connections taken per readiness callback, so that a connect flood cannot starve the loop. */
#define ACCEPTS_PER_WAKEUP 64
#define LISTEN_BACKLOG     1024

int sb__tp_bind_fd(const struct sb_socket *s, int type)
{
    int fam = sb_addr_family(&s->addr);
    int fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        SB_ERR("socket for %s:%u: %s", s->ip, s->port, strerror(errno));
        return SB_EINVAL;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        SB_WARN("SO_REUSEPORT on %s:%u: %s", s->ip, s->port, strerror(errno));
    /* "::" must not take the IPv4 port too: an IPv4 listener on the same port may follow */
    if (fam == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, &s->addr.u.sa, s->addr.len) != 0) {
        SB_ERR("bind %s:%u: %s", s->ip, s->port, strerror(errno));
        close(fd);
        return SB_EINVAL;
    }
    return fd;
}

static void on_accept(struct sb_io *io, uint32_t events)
{
    (void)events;
    struct tp_fd *f = io->data;
    struct tp_worker *tw = f->tw;
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                SB_WARN("tcp %s:%u: accept: %s", f->sock->ip, f->sock->port, strerror(errno));
            return;
        }
        if (tw->n_conns >= sb__tp.max_conns) {
            TP_STAT_ADD(tw, tcp_rejected, 1);
            close(fd);
            continue;
        }
        struct sb_addr peer;
        sb_addr_from_sa(&peer, (struct sockaddr *)&ss, sl);
        if (!sb__tp_conn_accepted(tw, fd, f->sock, &peer))
            close(fd);
    }
}

int sb__tp_tcp_start(struct tp_worker *tw)
{
    for (unsigned i = 0; i < sb__tp.n_socks; i++) {
        const struct sb_socket *s = &sb__tp.socks[i];
        if (s->proto != SB_PROTO_TCP)
            continue;
        int fd = sb__tp_bind_fd(s, SOCK_STREAM);
        if (fd < 0)
            return fd;
        if (listen(fd, LISTEN_BACKLOG) != 0) {
            SB_ERR("listen %s:%u: %s", s->ip, s->port, strerror(errno));
            close(fd);
            return SB_EINVAL;
        }
        struct tp_fd *f = &tw->lsn[i];
        f->sock = s;
        f->tw = tw;
        int rc = sb_io_start(tw->loop, &f->io, fd, SB_IO_READ, on_accept, f);
        if (rc != 0) {
            close(fd);
            f->io.fd = -1;
            return rc;
        }
    }
    return 0;
}
