/* SPDX-License-Identifier: BSD-2-Clause */
/* Editing a received message (lumps, applied once when it is sent) and the two builders: a request
 * forwarded by a proxy (RFC 3261 §16.6) and a reply made from a request (RFC 3261 §8.2.6). */
#ifndef SB_MSG_BUILD_H
#define SB_MSG_BUILD_H

#include <sys/uio.h>

#include "sb/buf.h"
#include "sb/msg.h"

/* ---- Lumps -------------------------------------------------------------------------------------
 * Edits of a parsed message. They are recorded in the message arena, never in the received buffer,
 * and applied when the message is built. Offsets and spans are relative to m->buf and must lie in
 * [0, m->len]: the datagram bytes past the body are not part of the message.
 *
 * Order: edits may be recorded in any order; they are kept sorted by offset. At one offset the
 * inserts come first, in the order they were added, then at most one delete/replace. So an insert
 * at the start of a deleted span is written before the replacement text, and an insert at the end
 * of a deleted span (the offset just past it) after it.
 *
 * Errors are sticky. An out-of-range span, a delete/replace overlapping an earlier delete/replace,
 * an insert strictly inside an earlier deleted span or a delete strictly covering an earlier insert
 * is SB_EINVAL; running out of arena is SB_ENOMEM. The first error is kept in m->lump_err; the
 * failing call and every later lump call return it, and the apply functions fail with it.
 *
 * <text> is borrowed: it must stay valid and unchanged until the message is reset (a literal, bytes
 * of the message buffer, or a copy made by sb_msg_strdup / sb_msg_printf). Worker-local. */

/* Insert <text> at byte <off>. An empty text records nothing. */
int sb_msg_lump_insert(struct sb_msg *m, uint32_t off, sb_str text);
/* Delete <span>. An empty span records nothing. */
int sb_msg_lump_delete(struct sb_msg *m, sb_span span);
/* Replace <span> by <text>; with an empty span this is an insert. */
int sb_msg_lump_replace(struct sb_msg *m, sb_span span, sb_str text);

/* Copy <s> into the message arena, for use as lump text. On failure p is NULL and m->lump_err is
 * set to SB_ENOMEM (so that the edit cannot silently go missing). */
sb_str sb_msg_strdup(struct sb_msg *m, sb_str s);
/* printf into the message arena; same failure rule as sb_msg_strdup. */
sb_str sb_msg_printf(struct sb_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Header-level edits, on top of the lumps. */

/* Remove one header entry. The only value of its field removes the whole field (h->field, CRLF
 * included). One value of a comma list removes the value and one separating comma so that the rest
 * stays a well-formed list ("Via: a, b, c" less b is "Via: a, c"; less c is "Via: a, b"); removing
 * every value of a field removes the field. Edits recorded earlier strictly inside what is removed
 * (e.g. a parameter appended to that value) are dropped with it. Marks the entry SB_HDRF_REMOVED;
 * removing it again does nothing. */
int sb_msg_hdr_remove(struct sb_msg *m, struct sb_hdr *h);
/* Add the header line <line> ("Name: value", without CRLF; it must not contain CR or LF) at the end
 * of the header section, after every existing header, in the order of the calls. */
int sb_msg_hdr_append(struct sb_msg *m, sb_str line);
/* Add the header line <line> at the top of the header section, just after the start line; several
 * calls keep their order (the first added comes first). */
int sb_msg_hdr_prepend(struct sb_msg *m, sb_str line);

/* Applying. The output is m->buf[0 .. m->len) with every lump applied. */

/* Exact length of the output. */
size_t sb_msg_lumps_len(const struct sb_msg *m);
/* Write the output into <out> (<cap> bytes, not NUL-terminated); *out_len gets its length. Returns
 * 0, m->lump_err, or SB_ENOSPC when <cap> is too small (nothing useful written). */
int sb_msg_lumps_apply(const struct sb_msg *m, char *out, size_t cap, size_t *out_len);
/* Zero-copy output for sendmsg(): <iov> gets pieces of m->buf and of the lump texts, in order, with
 * no empty piece; *n_iov gets their number. The pieces borrow from the message. Returns 0,
 * m->lump_err, or SB_ENOSPC with *n_iov set to the number needed when <max_iov> is too small. */
int sb_msg_lumps_iov(const struct sb_msg *m, struct iovec *iov, int max_iov, int *n_iov);

/* ---- Forwarding a request (RFC 3261 §16.6) -------------------------------------------------- */

struct sb_fwd_opts {
    /* new Request-URI (no SP, CR or LF); p == NULL keeps the received one */
    sb_str ruri;
    /* a whole Via value to push on top, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK..."; p == NULL
     * pushes none */
    sb_str via;
    /* raw "Name: value\r\n" lines added at the end of the header section */
    sb_str add_hdrs;
    /* raw "Name: value\r\n" lines added at the top of the header section, just below the pushed
     * Via and above the lines of sb_msg_hdr_prepend (the outbound Record-Route of RFC 5658) */
    sb_str top_hdrs;
    /* every field of these types is removed (SB_HDR_OTHER is refused); one entry at a time is
     * sb_msg_hdr_remove's job */
    const uint16_t *remove_types;
    uint32_t n_remove;
    /* the new body, when replace_body */
    sb_str body;
    bool replace_body;
    /* non-zero: decrement Max-Forwards, or add "Max-Forwards: 70" when absent */
    int maxfwd_dec;
};

/* Build the request <m> for sending: m's own lumps plus the edits <o> asks for, then a
 * Content-Length that is always present and right (RFC 3261 §18.3: mandatory on streams; always
 * written), into a new buffer *out (refcount 1, the caller's). The edits of <o> are not recorded in
 * <m>: the same request can be built once per branch with a different R-URI and Via. <o> may be
 * NULL (only lumps and Content-Length). On a reply (forwarding it upstream, RFC 3261 §16.7 step 9,
 * after sb_msg_hdr_remove of our Via) only add_hdrs, remove_types and the body apply.
 * Returns 0; m->lump_err; SB_EINVAL for a bad option or an edit that conflicts with m's lumps;
 * SB_ERANGE when Max-Forwards is 0 (the caller answers 483, RFC 3261 §16.3 step 2); SB_EPARSE for
 * a malformed Max-Forwards; SB_ENOMEM. Worker-local. */
int sb_msg_build_request(struct sb_msg *m, const struct sb_fwd_opts *o, struct sb_buf **out);

/* Branch parameters we generate: "z9hG4bK" (RFC 3261 §8.1.1.7), "sb", the owner worker in two
 * characters and a 64-bit key in thirteen (a case-insensitive base-32 alphabet, so that a branch
 * survives a peer that changes case), and one check character. */
#define SB_BRANCH_LEN        25
#define SB_BRANCH_MAX_WORKER 1023

/* Write the branch for (<worker>, <key>) into <out>, NUL-terminated when <cap> allows. Returns its
 * length (SB_BRANCH_LEN), or 0 when <cap> < SB_BRANCH_LEN or <worker> > SB_BRANCH_MAX_WORKER. The
 * key should be unique per branch (RFC 3261 §16.6 step 8). Any thread. */
size_t sb_branch_make(char *out, size_t cap, unsigned worker, uint64_t key);
/* The worker encoded in a branch made by sb_branch_make, or -1 when it is not one of ours. */
int sb_branch_worker(sb_str branch);
/* The worker of the branch of the top Via of the reply in p[0..len), found without parsing the
 * message (a look at the start line and the header lines up to the first Via), or -1 when this
 * look cannot tell: a request, no Via, a folded or multi-value top Via before its branch, a quoted
 * parameter. The answer is a routing hint (which worker should parse the reply), not a check: a
 * message the parser rejects, or reads otherwise, can still get one. */
int sb_branch_reply_worker(const char *p, size_t len);

/* ---- Replies (RFC 3261 §8.2.6) -------------------------------------------------------------- */

struct sb_reply_opts {
    int code;      /* 100..699 */
    sb_str reason; /* p == NULL: sb_reason_phrase(code) */
    sb_str to_tag; /* a token; added to To when code > 100 and To has no tag */
    sb_str hdrs;   /* raw "Name: value\r\n" lines, after the copied headers */
    sb_str body;
    sb_str content_type;    /* written when the body is not empty */
    bool copy_record_route; /* copy Record-Route (18x/2xx to dialog-creating requests) */
    sb_str server;          /* a Server header value; p == NULL for none */
};

/* Default reason phrase for <code>: RFC 3261 §21 and the registered extension codes; the class name
 * ("Client Error" ...) for an unknown code of a valid class, "Unknown" outside 100..699. */
sb_str sb_reason_phrase(int code);

/* Write the reply to <req> into <w>: the status line; every Via field exactly as received, in order
 * (edits recorded on the request inside a Via field, such as the received/rport parameters of
 * RFC 3261 §18.2.1 and RFC 3581, are applied); From; To, with ;tag=<to_tag> appended when it has
 * none and code > 100 (RFC 3261 §8.2.6.2); Call-ID; CSeq; Record-Route when asked; Server; the
 * extra lines; Content-Type; Content-Length (always); the body. Headers missing from the request
 * are skipped (a 400 to a broken request still goes out). Returns 0, SB_EINVAL for a bad option or
 * when <req> is not a request or is an ACK, or w->err (SB_ENOSPC). Worker-local. */
int sb_msg_reply_write(struct sb_msg *req, const struct sb_reply_opts *o, struct sb_wbuf *w);
/* The exact number of bytes sb_msg_reply_write writes; 0 when the options are refused. */
size_t sb_msg_reply_len(struct sb_msg *req, const struct sb_reply_opts *o);
/* The reply in a new buffer *out (refcount 1, the caller's); same rules as sb_msg_reply_write. */
int sb_msg_build_reply(struct sb_msg *req, const struct sb_reply_opts *o, struct sb_buf **out);

#endif
