/* SPDX-License-Identifier: BSD-2-Clause */
/* Authorization / Proxy-Authorization credentials and WWW- / Proxy-Authenticate challenges: an
 * auth-scheme and its comma-separated auth-params (RFC 3261 §22.4, §25.1; RFC 7616; RFC 8760). */
#include <stddef.h>

#include "sb/base.h"
#include "sb/hdr.h"

static inline bool is_lws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline size_t skip_lws(const char *p, size_t i, size_t n)
{
    while (i < n && is_lws((unsigned char)p[i]))
        i++;
    return i;
}

/* An unquoted value. The ABNF wants a token (algorithm, qop, stale, userhash) or 8LHEX (nc), but
 * user agents also send bare nonces, URIs and base64 with '/', ':', '@' or '='. Anything visible
 * but the list separator and a quote is taken, which keeps the list unambiguous. */
static inline bool is_bare_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != ',' && c != '"';
}

enum kind { K_STR, K_ALG, K_NC, K_STALE, K_USERHASH };

static const struct known {
    const char *name; /* lower case */
    uint8_t kind;
    uint16_t off; /* of the sb_str field in struct sb_digest; unused for the booleans */
} known[] = {
    {"username", K_STR, offsetof(struct sb_digest, username)},
    {"realm", K_STR, offsetof(struct sb_digest, realm)},
    {"nonce", K_STR, offsetof(struct sb_digest, nonce)},
    {"uri", K_STR, offsetof(struct sb_digest, uri)},
    {"response", K_STR, offsetof(struct sb_digest, response)},
    {"algorithm", K_ALG, offsetof(struct sb_digest, algorithm)},
    {"cnonce", K_STR, offsetof(struct sb_digest, cnonce)},
    {"opaque", K_STR, offsetof(struct sb_digest, opaque)},
    {"qop", K_STR, offsetof(struct sb_digest, qop)},
    {"nc", K_NC, offsetof(struct sb_digest, nc)},
    {"domain", K_STR, offsetof(struct sb_digest, domain)},
    {"stale", K_STALE, 0},
    {"userhash", K_USERHASH, 0},
};

/* RFC7616-3.3 and RFC8760-2: algorithm names, case-insensitive. Anything else (AKAv1-MD5 of
 * RFC 3310, a future hash) is SB_DIGEST_ALG_OTHER and left to the authenticator to refuse. */
static uint8_t alg_lookup(sb_str v)
{
    static const struct {
        const char *lc;
        uint8_t alg;
    } algs[] = {
        {"md5", SB_DIGEST_ALG_MD5},
        {"md5-sess", SB_DIGEST_ALG_MD5_SESS},
        {"sha-256", SB_DIGEST_ALG_SHA256},
        {"sha-256-sess", SB_DIGEST_ALG_SHA256_SESS},
        {"sha-512-256", SB_DIGEST_ALG_SHA512_256},
        {"sha-512-256-sess", SB_DIGEST_ALG_SHA512_256_SESS},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(algs); i++)
        if (sb_str_caseeq_lit(v, algs[i].lc))
            return algs[i].alg;
    return SB_DIGEST_ALG_OTHER;
}

/* Record one auth-param. <seen> has a bit per entry of known[] so that a repeat is caught even for
 * the boolean parameters. */
static int set_param(struct sb_digest *d, sb_str name, sb_str v, uint32_t *seen)
{
    for (size_t k = 0; k < SB_ARRAY_LEN(known); k++) {
        if (!sb_str_caseeq_lit(name, known[k].name))
            continue;
        /* RFC7235-2.1: a parameter name occurs once; two values would let the authenticator and
         * whatever else reads the header disagree, so a repeat is malformed */
        if (*seen & (1u << k))
            return SB_EPARSE;
        *seen |= 1u << k;
        switch (known[k].kind) {
        case K_NC:
            /* RFC3261-25.1: nonce-count = "nc" EQUAL nc-value, nc-value = 8LHEX */
            if (v.len != 8)
                return SB_EPARSE;
            for (size_t i = 0; i < 8; i++)
                if (!sb_is_hex((unsigned char)v.p[i]))
                    return SB_EPARSE;
            break;
        case K_ALG: d->alg = alg_lookup(v); break;
        case K_STALE:
            /* RFC2617-3.2.1: anything other than TRUE (case-insensitive) means false */
            d->stale = sb_str_caseeq_lit(v, "true");
            return 0;
        case K_USERHASH:
            /* RFC7616-3.3: userhash = "true" / "false", false by default */
            d->userhash = sb_str_caseeq_lit(v, "true");
            return 0;
        default: break;
        }
        *(sb_str *)(void *)((char *)d + known[k].off) = v;
        return 0;
    }
    return 0; /* RFC7616-3.3: unknown directives are ignored */
}

/* A quoted-string starting at p[*pi] == '"'. <*v> gets the text between the quotes, quoted-pairs
 * still escaped. */
static int parse_quoted(const char *p, size_t *pi, size_t n, sb_str *v)
{
    size_t i = *pi + 1, v0 = i;

    for (; i < n && p[i] != '"'; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            /* RFC3261-25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
            if (++i == n)
                return SB_EPARSE;
            c = (unsigned char)p[i];
            if (c == '\r' || c == '\n' || c > 0x7f)
                return SB_EPARSE;
        } else if (c == '\r') {
            /* qdtext allows LWS, so a fold left in place (CRLF then WSP) passes; a bare CR or LF
             * never does, it would end the header for anyone reading the value again */
            if (i + 2 >= n || p[i + 1] != '\n' || !sb_is_ws((unsigned char)p[i + 2]))
                return SB_EPARSE;
            i += 2;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return SB_EPARSE; /* qdtext excludes the other controls; UTF8-NONASCII is fine */
        }
    }
    if (i == n)
        return SB_EPARSE; /* unterminated */
    *v = (sb_str){p + v0, i - v0};
    *pi = i + 1;
    return 0;
}

/* RFC3261-25.1: dig-resp / digest-cln *(COMMA ...), each auth-param-name EQUAL (token /
 * quoted-string). Empty list elements (",,") are skipped as RFC 7230 §7 asks of recipients. */
static int parse_params(struct sb_digest *d)
{
    const char *p = d->params.p;
    size_t n = d->params.len, i = 0;
    unsigned n_params = 0;
    uint32_t seen = 0;

    while (i < n) {
        if (p[i] == ',') {
            i = skip_lws(p, i + 1, n);
            continue;
        }
        size_t name0 = i;
        while (i < n && sb_is_token((unsigned char)p[i]))
            i++;
        if (i == name0)
            return SB_EPARSE;
        sb_str name = {p + name0, i - name0};
        i = skip_lws(p, i, n);
        if (i == n || p[i] != '=')
            return SB_EPARSE;
        i = skip_lws(p, i + 1, n);

        sb_str v;
        if (i < n && p[i] == '"') {
            if (parse_quoted(p, &i, n, &v) != 0)
                return SB_EPARSE;
        } else {
            size_t v0 = i;
            while (i < n && is_bare_char((unsigned char)p[i]))
                i++;
            if (i == v0)
                return SB_EPARSE;
            v = (sb_str){p + v0, i - v0};
        }
        if (set_param(d, name, v, &seen) != 0)
            return SB_EPARSE;
        n_params++;

        i = skip_lws(p, i, n);
        if (i < n && p[i] != ',')
            return SB_EPARSE; /* two params without a comma, or junk after a quoted value */
    }
    /* RFC3261-25.1: a Digest response or challenge has at least one parameter */
    return n_params ? 0 : SB_EPARSE;
}

int sb_digest_parse(sb_str in, struct sb_digest *out)
{
    *out = (struct sb_digest){0};
    while (in.len && is_lws((unsigned char)in.p[0])) {
        in.p++;
        in.len--;
    }
    while (in.len && is_lws((unsigned char)in.p[in.len - 1]))
        in.len--;

    const char *p = in.p;
    size_t n = in.len, i = 0;

    /* RFC3261-25.1: credentials = ("Digest" LWS digest-response) / other-response, with
     * other-response = auth-scheme LWS auth-param *(COMMA auth-param) */
    while (i < n && sb_is_token((unsigned char)p[i]))
        i++;
    if (i == 0 || (i < n && !is_lws((unsigned char)p[i])))
        return SB_EPARSE;
    out->raw = in;
    out->scheme = (sb_str){p, i};
    if (i < n) {
        i = skip_lws(p, i, n);
        out->params = (sb_str){p + i, n - i};
    }
    /* RFC7235-2.1: the scheme name is case-insensitive */
    out->is_digest = sb_str_caseeq_lit(out->scheme, "digest");
    if (!out->is_digest)
        return 0; /* Basic token68, NTLM blobs, ...: kept raw for whoever knows the scheme */
    return parse_params(out);
}
