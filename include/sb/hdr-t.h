/* SPDX-License-Identifier: BSD-2-Clause */
/* Header types and the parsed forms of header values. Types only. */
#ifndef SB_HDR_T_H
#define SB_HDR_T_H

#include "sb/uri-t.h"

/* Header types known to the parser. Values index sb_hdr_info[]. Unknown names are SB_HDR_OTHER. */
enum sb_hdr_type {
    SB_HDR_OTHER = 0,
    SB_HDR_VIA,
    SB_HDR_FROM,
    SB_HDR_TO,
    SB_HDR_CALL_ID,
    SB_HDR_CSEQ,
    SB_HDR_CONTACT,
    SB_HDR_MAX_FORWARDS,
    SB_HDR_ROUTE,
    SB_HDR_RECORD_ROUTE,
    SB_HDR_CONTENT_LENGTH,
    SB_HDR_CONTENT_TYPE,
    SB_HDR_EXPIRES,
    SB_HDR_MIN_EXPIRES,
    SB_HDR_AUTHORIZATION,
    SB_HDR_PROXY_AUTHORIZATION,
    SB_HDR_WWW_AUTHENTICATE,
    SB_HDR_PROXY_AUTHENTICATE,
    SB_HDR_EVENT,
    SB_HDR_SUPPORTED,
    SB_HDR_REQUIRE,
    SB_HDR_PROXY_REQUIRE,
    SB_HDR_UNSUPPORTED,
    SB_HDR_ALLOW,
    SB_HDR_SESSION_EXPIRES,
    SB_HDR_MIN_SE,
    SB_HDR_REPLY_TO,
    SB_HDR_PATH,
    SB_HDR_P_ASSERTED_IDENTITY,
    SB_HDR_P_PREFERRED_IDENTITY,
    SB_HDR_REFER_TO,
    SB_HDR_REFERRED_BY,
    SB_HDR_CONTENT_ENCODING,
    SB_HDR_CONTENT_LANGUAGE,
    SB_HDR_CONTENT_DISPOSITION,
    SB_HDR_ACCEPT,
    SB_HDR_ACCEPT_ENCODING,
    SB_HDR_ACCEPT_LANGUAGE,
    SB_HDR_ALLOW_EVENTS,
    SB_HDR_SUBSCRIPTION_STATE,
    SB_HDR_SUBJECT,
    SB_HDR_USER_AGENT,
    SB_HDR_SERVER,
    SB_HDR_DATE,
    SB_HDR_ORGANIZATION,
    SB_HDR_PRIORITY,
    SB_HDR_RACK,
    SB_HDR_RSEQ,
    SB_HDR_REASON,
    SB_HDR_SIP_ETAG,
    SB_HDR_SIP_IF_MATCH,
    SB_HDR_IDENTITY,
    SB_HDR_DIVERSION,
    SB_HDR_WARNING,
    SB_HDR_RETRY_AFTER,
    SB_HDR_AUTHENTICATION_INFO,
    SB_HDR_CALL_INFO,
    SB_HDR_ALERT_INFO,
    SB_HDR_ERROR_INFO,
    SB_HDR_IN_REPLY_TO,
    SB_HDR_MIME_VERSION,
    SB_HDR_TIMESTAMP,
    SB_HDR_ACCEPT_CONTACT,
    SB_HDR_REJECT_CONTACT,
    SB_HDR_REQUEST_DISPOSITION,
    SB_HDR_PRIVACY,
    SB_HDR__COUNT
};

/* SIP methods as bit flags (so that a set of methods is one word). */
enum sb_method {
    SB_METHOD_OTHER = 0,
    SB_METHOD_INVITE = 1 << 0,
    SB_METHOD_ACK = 1 << 1,
    SB_METHOD_BYE = 1 << 2,
    SB_METHOD_CANCEL = 1 << 3,
    SB_METHOD_REGISTER = 1 << 4,
    SB_METHOD_OPTIONS = 1 << 5,
    SB_METHOD_INFO = 1 << 6,
    SB_METHOD_UPDATE = 1 << 7,
    SB_METHOD_PRACK = 1 << 8,
    SB_METHOD_SUBSCRIBE = 1 << 9,
    SB_METHOD_NOTIFY = 1 << 10,
    SB_METHOD_PUBLISH = 1 << 11,
    SB_METHOD_MESSAGE = 1 << 12,
    SB_METHOD_REFER = 1 << 13,
};

/* Transport protocols named in a Via or a transport= parameter. */
enum sb_proto {
    SB_PROTO_OTHER = 0,
    SB_PROTO_UDP,
    SB_PROTO_TCP,
    SB_PROTO_TLS,
    SB_PROTO_SCTP,
    SB_PROTO_WS,
    SB_PROTO_WSS,
};

/* One via-parm (the index splits "Via: a, b" into one entry per via-parm). */
struct sb_via {
    sb_str raw;        /* the whole via-parm */
    sb_str proto_name; /* "SIP" */
    sb_str proto_ver;  /* "2.0" */
    sb_str transport;  /* as written: "UDP", "TCP", "TLS", "SCTP", "WS", or any token */
    uint8_t proto;     /* enum sb_proto */
    uint8_t host_kind; /* enum sb_host_kind */
    bool has_rport;    /* ";rport" present, with or without a value */
    uint16_t port_no;  /* 0 when absent */
    sb_str host;       /* sent-by host; IPv6 keeps brackets */
    sb_str port;       /* as written */
    sb_str params;     /* everything after the first ';', raw */
    sb_str branch;     /* well-known params: values as written, p == NULL when absent */
    sb_str received;
    sb_str rport; /* value; empty (p != NULL, len 0) for a bare ";rport" */
    sb_str maddr;
    sb_str ttl;
    sb_str comment; /* a trailing "(comment)", rare */
};

/* name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route, Reply-To,
 * Path, P-Asserted-Identity, P-Preferred-Identity, Refer-To, Referred-By. */
struct sb_nameaddr {
    sb_str raw;
    bool is_star;        /* Contact: * */
    bool has_angle;      /* the URI was in <...> */
    bool display_quoted; /* display name was a quoted-string; <display> excludes the quotes */
    sb_str display;      /* display name, p == NULL when absent */
    sb_str uri_str;      /* the URI text (without < >) */
    struct sb_uri uri;   /* parsed <uri_str> */
    sb_str params;       /* header parameters after the URI, raw, without the leading ';' */
    sb_str tag;          /* well-known params: values as written, p == NULL when absent */
    sb_str expires;
    sb_str q;
};

struct sb_cseq {
    uint32_t
        num; /* RFC3261-8.1.1.5: less than 2^31 for requests we generate; any 32-bit accepted */
    uint32_t method_id; /* enum sb_method */
    sb_str method;
};

/* A header whose value is one number: Max-Forwards, Expires, Min-Expires, Content-Length, RSeq,
 * Min-SE (delta only). */
struct sb_hdr_num {
    uint32_t v;
};

/* One token from a comma list (Supported, Require, Proxy-Require, Unsupported, Allow, Allow-Events,
 * Content-Encoding, Accept-Encoding, ...), trimmed. */
struct sb_hdr_token {
    sb_str v;
};

struct sb_ctype {
    sb_str type;    /* "application" */
    sb_str subtype; /* "sdp" */
    sb_str params;  /* raw, without the first ';' */
};

struct sb_event {
    sb_str package; /* event-type, e.g. "presence" or "presence.winfo" */
    sb_str id;      /* ;id= value, p == NULL when absent */
    sb_str params;
};

struct sb_session_expires {
    uint32_t delta;
    sb_str refresher; /* "uac" / "uas", p == NULL when absent */
    sb_str params;
};

enum sb_digest_alg {
    SB_DIGEST_ALG_NONE = 0, /* no algorithm parameter: MD5 by default */
    SB_DIGEST_ALG_MD5,
    SB_DIGEST_ALG_MD5_SESS,
    SB_DIGEST_ALG_SHA256,
    SB_DIGEST_ALG_SHA256_SESS,
    SB_DIGEST_ALG_SHA512_256,
    SB_DIGEST_ALG_SHA512_256_SESS,
    SB_DIGEST_ALG_OTHER,
};

/* Authorization / Proxy-Authorization credentials, or WWW- / Proxy-Authenticate challenges.
 * Quoted values are given without their quotes (quoted-pairs left escaped). */
struct sb_digest {
    sb_str raw;
    sb_str scheme; /* "Digest" or another auth-scheme */
    bool is_digest;
    bool stale;    /* challenge: stale=true */
    bool userhash; /* userhash=true (RFC 7616/8760) */
    uint8_t alg;   /* enum sb_digest_alg */
    sb_str username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc, domain;
    sb_str params; /* everything after the scheme, raw */
};

#endif
