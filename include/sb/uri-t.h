/* SPDX-License-Identifier: BSD-2-Clause */
/* Parsed URIs (sip, sips, tel; others opaque) and parameter lists. Types only. */
#ifndef SB_URI_T_H
#define SB_URI_T_H

#include "sb/base-t.h"

enum sb_uri_scheme {
    SB_URI_OTHER = 0, /* any other absolute URI: kept opaque in <opaque> */
    SB_URI_SIP,
    SB_URI_SIPS,
    SB_URI_TEL,
};

enum sb_host_kind {
    SB_HOST_NONE = 0,
    SB_HOST_NAME, /* hostname (may be a bare label) */
    SB_HOST_IPV4,
    SB_HOST_IPV6, /* IPv6reference: <host> keeps the brackets */
};

/* A parsed URI. Every sb_str borrows from the parsed input and keeps it exactly as written (still
 * %-escaped); an absent part has p == NULL and len == 0, an empty-but-present one (e.g. "sip:@h")
 * has p != NULL and len == 0. */
struct sb_uri {
    uint8_t scheme;    /* enum sb_uri_scheme */
    uint8_t host_kind; /* enum sb_host_kind */
    bool lr;           /* ;lr present */
    uint16_t port_no;  /* 0 when no port was given */
    sb_str raw;        /* the whole URI */
    sb_str scheme_str; /* as written, without the ':' */
    sb_str user;       /* sip/sips userinfo user part; tel: the telephone-subscriber number */
    sb_str passwd;     /* after ':' in userinfo */
    sb_str host;       /* sip/sips only; IPv6 with its brackets */
    sb_str port;       /* digits as written */
    sb_str params;     /* everything after the first ';' of the URI (sip/sips/tel), before '?' */
    sb_str headers;    /* everything after '?' (sip/sips) */
    sb_str opaque;     /* SB_URI_OTHER: everything after "scheme:" */
    /* well-known uri-parameters (values as written; p == NULL when absent) */
    sb_str transport, user_param, method, ttl, maddr;
};

/* One parameter from a ';'-separated list: name[=value]. For a quoted value, <value> keeps the
 * quotes. */
struct sb_param {
    sb_str name;
    sb_str value;
    bool has_value;
};

#endif
