/* SPDX-License-Identifier: BSD-2-Clause */
/* The SIP message: parse (start line + header index in one pass), lazy header access, framing. */
#ifndef SB_MSG_H
#define SB_MSG_H

#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/msg-t.h"

/* Parse flags. */
enum {
    SB_MSG_STREAM = 1 << 0, /* received on a stream: Content-Length is required */
};

extern const struct sb_msg_limits sb_msg_limits_default;

/* Prepare <m> for use with <limits> (NULL = defaults); <limits> must outlive <m>. */
void sb_msg_init(struct sb_msg *m, const struct sb_msg_limits *limits);
/* Release what a parse took (arena, owner reference, lumps) so that <m> can parse again. */
void sb_msg_reset(struct sb_msg *m);
void sb_msg_deinit(struct sb_msg *m);

/* Parse the message in <buf> (<len> bytes, which must stay valid and unchanged while <m> is used):
 * start line, header index, Content-Length framing. Header values are parsed later, on access.
 * A datagram's bytes after Content-Length are cut off. Returns 0, or a negative SB_E* with
 * m->err describing the fault. Worker-local. */
int sb_msg_parse(struct sb_msg *m, const char *buf, size_t len, unsigned flags);

/* As sb_msg_parse, taking a reference on <b> which reset releases. */
int sb_msg_parse_buf(struct sb_msg *m, struct sb_buf *b, unsigned flags);

/* Stream framing: how long is the first message in <buf>? Returns the length (> 0) once the header
 * section and the Content-Length body are complete, SB_EAGAIN when more bytes are needed, SB_EPARSE
 * when there is no usable Content-Length, SB_ELIMIT when the message would exceed <limits>.
 * Leading CRLFs (keep-alives) must be consumed by the caller first. */
long sb_msg_frame(const char *buf, size_t len, const struct sb_msg_limits *limits);

/* Parse every known header value and the Request-URI; returns the first error (also in m->err).
 * What a server calls before trusting a message. */
int sb_msg_parse_all(struct sb_msg *m);
/* The lazy part of sb_msg_parse_all: the Request-URI, the header fields every message carries
 * (Via, From, To, Call-ID, CSeq) parsed, and the CSeq method matching the request's; a reply's
 * method_id taken from its CSeq. What a server checks on every message before handling it; the
 * other headers stay unparsed. Returns 0 or the error recorded in m->err. */
int sb_msg_check(struct sb_msg *m);

/* Status a server should answer a parse failure with (400, 505, 413, 414, 513, 500), and the
 * reason phrase ("Bad Via", "Version Not Supported" ...) written into <out> (NUL-terminated). */
int sb_msg_err_status(const struct sb_msg *m);
size_t sb_msg_err_reason(const struct sb_msg *m, char *out, size_t n);
/* One-line description for logs: "bad Via at offset 123". */
size_t sb_msg_err_describe(const struct sb_msg *m, char *out, size_t n);

static inline sb_str sb_msg_span(const struct sb_msg *m, sb_span s)
{
    return (sb_str){m->buf + s.off, s.len};
}

/* Header index access. Views borrow from the message. Worker-local. */
static inline struct sb_hdr *sb_msg_hdr_first(const struct sb_msg *m, enum sb_hdr_type t)
{
    return m->first[t] ? &m->hdrs[m->first[t] - 1] : NULL;
}
static inline struct sb_hdr *sb_msg_hdr_next(const struct sb_msg *m, const struct sb_hdr *h)
{
    return h->next ? &m->hdrs[h->next - 1] : NULL;
}
/* First header entry whose name matches <name> (any case; compact forms of known headers match
 * their long names). NULL when absent. */
struct sb_hdr *sb_msg_hdr_find(const struct sb_msg *m, sb_str name);
/* Number of entries of type <t>. */
unsigned sb_msg_hdr_count(const struct sb_msg *m, enum sb_hdr_type t);
/* The value of an entry, unfolded when it was folded. */
sb_str sb_msg_hdr_value(const struct sb_msg *m, const struct sb_hdr *h);
static inline sb_str sb_msg_hdr_name(const struct sb_msg *m, const struct sb_hdr *h)
{
    return sb_msg_span(m, h->name);
}

/* Parse an entry's value with its type's parser, once; the result is cached. Returns the parsed
 * struct (type per sb_hdr_info[h->type]) or NULL on a parse error (recorded in m->err) or when the
 * type has no parser. */
const void *sb_msg_hdr_parsed(struct sb_msg *m, struct sb_hdr *h);

/* Typed shortcuts: the first entry of the type, parsed; NULL when absent or malformed. */
const struct sb_uri *sb_msg_ruri(struct sb_msg *m);
const struct sb_via *sb_msg_via1(struct sb_msg *m);
const struct sb_via *sb_msg_via2(struct sb_msg *m);
const struct sb_nameaddr *sb_msg_from(struct sb_msg *m);
const struct sb_nameaddr *sb_msg_to(struct sb_msg *m);
const struct sb_cseq *sb_msg_cseq(struct sb_msg *m);
/* Call-ID value, p == NULL when absent or malformed. */
sb_str sb_msg_callid(struct sb_msg *m);
/* Numeric headers: 0 and *out set, SB_ENOENT when absent, SB_EPARSE when malformed. */
int sb_msg_num(struct sb_msg *m, enum sb_hdr_type t, uint32_t *out);
/* Does a token-list header (Supported, Require ...) contain <token> (case-insensitive)? */
bool sb_msg_has_token(struct sb_msg *m, enum sb_hdr_type t, sb_str token);

static inline sb_str sb_msg_method(const struct sb_msg *m)
{
    return sb_msg_span(m, m->method);
}
static inline bool sb_msg_is_request(const struct sb_msg *m)
{
    return m->kind == SB_MSG_REQUEST;
}

#endif
