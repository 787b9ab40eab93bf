/* SPDX-License-Identifier: BSD-2-Clause */
/* The parsed SIP message: start line, header index, body, lumps. Types only. */
#ifndef SB_MSG_T_H
#define SB_MSG_T_H

#include "sb/arena.h"
#include "sb/hdr-t.h"

struct sb_buf;

enum sb_msg_kind {
    SB_MSG_REQUEST = 1,
    SB_MSG_REPLY = 2,
};

/* Header index entry flags. */
enum {
    SB_HDRF_LIST_FIRST = 1 << 0, /* first value of its header field */
    SB_HDRF_LIST_LAST = 1 << 1,  /* last value of its header field */
    SB_HDRF_FOLDED = 1 << 2,     /* the value spans folded lines; see sb_msg_hdr_value() */
    SB_HDRF_COMPACT = 1 << 3,    /* the name was the compact form */
    SB_HDRF_PARSED = 1 << 4,     /* the value parser ran (parsed may still be NULL on error) */
    SB_HDRF_BAD = 1 << 5,        /* the value parser failed */
    SB_HDRF_REMOVED = 1 << 6,    /* removed by sb_msg_hdr_remove() (msg_build.h) */
    /* a repeated single-value field (RFC 4475 §3.3.8), an error: in the index but not in its
     * type's chain, so that lookups and replies see the first value only */
    SB_HDRF_REPEATED = 1 << 7,
};

/* One header value. A comma-list header field ("Via: a, b") gives one entry per value, each with
 * the same <field>; other headers give one entry per field. Spans are offsets into the message
 * buffer. */
struct sb_hdr {
    uint16_t type;        /* enum sb_hdr_type */
    uint16_t flags;       /* SB_HDRF_* */
    uint16_t next;        /* index + 1 of the next entry of the same type, 0 at the end */
    uint16_t idx;         /* own index in the header array */
    sb_span name;         /* as written */
    sb_span field;        /* the whole header field, from the name to the end of its CRLF */
    sb_span value;        /* this value, LWS-trimmed; may contain CRLF+WS when SB_HDRF_FOLDED */
    const char *unfolded; /* SB_HDRF_FOLDED: a copy of <value> with each CRLF+WS turned into one
                             space, in the message arena, <unfolded_len> bytes */
    uint32_t unfolded_len;
    void *parsed; /* parsed value (struct sb_via ...), in the message arena; NULL until parsed */
};

/* What went wrong in a parse: which part, where, and a short reason for logs and 400 replies. */
enum sb_msg_errpart {
    SB_MSG_ERRP_NONE = 0,
    SB_MSG_ERRP_START_LINE,
    SB_MSG_ERRP_METHOD,
    SB_MSG_ERRP_RURI,
    SB_MSG_ERRP_VERSION, /* unsupported SIP-Version: a server answers 505 */
    SB_MSG_ERRP_STATUS,
    SB_MSG_ERRP_HEADER, /* header syntax, or a bad header value (see hdr_type/hdr_name) */
    SB_MSG_ERRP_BODY,   /* framing: Content-Length versus the body */
    SB_MSG_ERRP_LIMIT,  /* a configured limit: size, headers, line, URI */
};

struct sb_msg_error {
    int code;          /* 0, or SB_EPARSE / SB_ELIMIT / SB_EVERSION / SB_ENOMEM / SB_EAGAIN */
    uint8_t part;      /* enum sb_msg_errpart */
    uint16_t hdr_type; /* header at fault (SB_HDR_OTHER for an unknown name or none) */
    sb_span hdr_name;  /* name of the header at fault as written; len 0 when none */
    uint32_t offset;   /* byte offset of the fault in the buffer */
    const char *what;  /* static text: "bad Via", "duplicate CSeq", "message too large" ... */
};

struct sb_msg_limits {
    uint32_t max_size;    /* whole message, bytes */
    uint32_t max_headers; /* header index entries (at most 65535) */
    uint32_t max_line;    /* one header field, folded lines included; also the start line */
    uint32_t max_uri;     /* the Request-URI and URIs in name-addr headers */
    uint32_t arena_cap;   /* heap bytes the message arena may take */
};

/* An edit of the message, applied when it is built for sending; never to the received buffer.
 * At <off> of the original, <del> bytes are removed and <ins> is inserted. Several lumps at one
 * offset apply in the order they were added. */
struct sb_lump {
    uint32_t off;
    uint32_t del;
    sb_str ins; /* borrowed: must live as long as the message (static, or in the message arena) */
    uint32_t seq;
};

enum { SB_MSG_VF_RECEIVED = 1 << 0, SB_MSG_VF_RPORT = 1 << 1 };

#define SB_MSG_INLINE_HDRS  32
#define SB_MSG_INLINE_ARENA 2048

struct sb_msg {
    const char *buf; /* the message: start line, headers, body (datagram tail excluded) */
    uint32_t len;
    uint32_t rcv_len;     /* bytes received, >= len (a datagram may carry bytes after the body) */
    struct sb_buf *owner; /* optional reference that keeps <buf> alive; released by reset */
    const struct sb_msg_limits *limits;

    uint8_t kind;   /* enum sb_msg_kind */
    bool is_stream; /* came over a stream transport: Content-Length is mandatory */
    bool has_clen;
    uint16_t status;            /* replies */
    uint32_t method_id;         /* enum sb_method; requests; replies take it from CSeq */
    sb_span start_line;         /* without its CRLF */
    sb_span method;             /* requests */
    sb_span ruri;               /* requests */
    sb_span version;            /* "SIP/2.0" */
    sb_span reason;             /* replies: may be empty */
    struct sb_uri *ruri_parsed; /* lazily, see sb_msg_ruri() */

    struct sb_hdr *hdrs; /* header index, in order of appearance */
    uint32_t n_hdrs;
    uint32_t cap_hdrs;
    uint16_t first[SB_HDR__COUNT]; /* index + 1 of the first entry of each type, 0 when absent */
    uint16_t last[SB_HDR__COUNT];
    uint32_t hdrs_end; /* offset of the empty line that ends the header section */
    sb_span body;
    uint32_t clen; /* Content-Length value, when has_clen */

    struct sb_msg_error err;

    struct sb_lump *lumps;
    uint32_t n_lumps;
    uint32_t cap_lumps;
    int lump_err; /* sticky: the first lump error */
    /* received / rport already recorded on the top Via by the SIP layer (RFC 3261 §18.2.1,
     * RFC 3581): SB_MSG_VF_* bits; part of the message so that it is forgotten with it */
    uint8_t via_fixed;

    struct sb_arena arena;
    struct sb_hdr hdr_inline[SB_MSG_INLINE_HDRS];
    _Alignas(16) char arena_inline[SB_MSG_INLINE_ARENA];
};

#endif
