/* SPDX-License-Identifier: BSD-2-Clause */
/* Sending: UDP from the calling worker's own socket; TCP on an open connection (this worker's,
 * or another worker's through its loop), else on a new one. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/loop.h"
#include "sb/worker.h"
#include "tp/tp_int.h"

/* Bytes handed to the worker that owns the connection: it writes them on its own thread. */
struct xsend {
    unsigned owner;
    uint32_t conn_id;
    uint8_t proto;
    unsigned sock_id;
    bool no_new_conn;
    struct sb_addr to;
    size_t len;
    char data[];
};

static int stream_send(struct tp_worker *tw, uint8_t proto, const struct sb_socket *s,
                       uint32_t conn_id, const struct sb_addr *to, const struct iovec *iov,
                       int n_iov, bool may_forward, bool no_new_conn);

static void xsend_run(void *arg)
{
    struct xsend *x = arg;
    struct tp_worker *tw = x->owner < sb_rt.n_workers ? sb_rt.workers[x->owner].tp : NULL;
    const struct sb_socket *s = sb_tp_socket(x->sock_id);
    if (tw && s) {
        struct iovec iov = {.iov_base = x->data, .iov_len = x->len};
        if (stream_send(tw, x->proto, s, x->conn_id, &x->to, &iov, 1, false, x->no_new_conn) != 0)
            TP_STAT_ADD(tw, snd_errors, 1);
    }
    free(x);
}

static int forward(unsigned owner, uint32_t conn_id, uint8_t proto, const struct sb_socket *s,
                   const struct sb_addr *to, const struct iovec *iov, int n_iov, bool no_new_conn)
{
    /* called under the index lock: the owner still has this conn, so its loop lives */
    if (owner >= sb_rt.n_workers || !sb_rt.workers[owner].loop)
        return SB_ENOENT;
    size_t total = 0;
    for (int i = 0; i < n_iov; i++)
        total += iov[i].iov_len;
    struct xsend *x = malloc(sizeof(*x) + total);
    if (!x)
        return SB_ENOMEM;
    *x = (struct xsend){.owner = owner,
                        .conn_id = conn_id,
                        .proto = proto,
                        .sock_id = s->id,
                        .no_new_conn = no_new_conn,
                        .to = *to,
                        .len = total};
    size_t at = 0;
    for (int i = 0; i < n_iov; i++) {
        memcpy(x->data + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    int rc = sb_loop_post(sb_rt.workers[owner].loop, xsend_run, free, x);
    if (rc != 0)
        free(x);
    return rc;
}

static int stream_send(struct tp_worker *tw, uint8_t proto, const struct sb_socket *s,
                       uint32_t conn_id, const struct sb_addr *to, const struct iovec *iov,
                       int n_iov, bool may_forward, bool no_new_conn)
{
    unsigned owner;
    uint32_t fid;
    sb__tp_idx_lock();
    struct tp_conn *c = sb__tp_idx_find_locked(tw, conn_id, proto, to, &owner, &fid);
    if (!c && owner != UINT_MAX && may_forward) {
        int rc = forward(owner, fid, proto, s, to, iov, n_iov, no_new_conn);
        sb__tp_idx_unlock();
        return rc;
    }
    sb__tp_idx_unlock();
    if (!c && no_new_conn)
        return SB_ENOENT;
    if (!c) {
        /* the connection is gone (or its owner handed the bytes back): open one from here */
        c = sb__tp_conn_connect(tw, s, to);
        if (!c)
            return SB_ENOENT;
    }
    return sb__tp_conn_write(c, iov, n_iov);
}

static sb__tp_send_hook_fn send_hook;

void sb__tp_set_send_hook(sb__tp_send_hook_fn fn)
{
    send_hook = fn;
}

int sb_tp_send(struct sb_dest *d, const struct iovec *iov, int n_iov)
{
    struct tp_worker *tw = sb_worker_self ? sb_worker_self->tp : NULL;
    if (!d || (!iov && n_iov) || n_iov < 0 || (!tw && !send_hook))
        return SB_EINVAL;
    uint8_t proto = d->proto ? d->proto : (d->sock ? d->sock->proto : SB_PROTO_UDP);
    if (!d->sock || d->sock->proto != proto)
        d->sock = sb_tp_pick(proto, &d->to, d->sock);
    if (!d->sock)
        return SB_ENOENT;
    if (send_hook)
        return send_hook(d, iov, n_iov);
    switch (proto) {
    case SB_PROTO_UDP: return sb__tp_udp_send(tw, d->sock, &d->to, iov, n_iov);
    case SB_PROTO_TCP:
        return stream_send(tw, proto, d->sock, d->conn_id, &d->to, iov, n_iov, true,
                           d->no_new_conn);
    default: return SB_EINVAL;
    }
}

int sb_tp_send_buf(struct sb_dest *d, const char *p, size_t len)
{
    struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
    return sb_tp_send(d, &iov, 1);
}
