/* SPDX-License-Identifier: BSD-2-Clause */
/* String transformations {s.*}: length and conversions, slicing, searching, padding, case,
 * escaping, hex/base64 encodings, checksums and digests (OpenSSL libcrypto). */
#include <string.h>

#include <openssl/evp.h>

#include "pv_int.h"
#include "sb/uri.h"

static char *scratch(struct sb_sctx *ctx, size_t n)
{
    return sb_arena_alloc(ctx->scratch, n ? n : 1);
}

/* The usual prologue of a string transformation: the input as a string, and <mult> output bytes
 * per input byte in the scratch arena. Returns 0 or < 0. */
static int in_out(struct sb_sctx *ctx, struct sb_val *v, sb_str *s, size_t mult, char **p)
{
    int r = sb__tr_in_str(ctx, v, s);
    if (r < 0)
        return r;
    *p = scratch(ctx, mult * s->len);
    return *p ? 0 : SB_ENOMEM;
}

static void set_str(struct sb_val *v, const char *p, size_t n)
{
    sb__val_str(v, (sb_str){p, n});
}

static const char hex_lc[] = "0123456789abcdef";
static const char hex_uc[] = "0123456789ABCDEF";

/* ---- length, numbers ----------------------------------------------------------------------- */

static int tr_len(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s = SB_STR("");
    int r;
    if (v->type != SB_VAL_NULL && (r = sb__tr_in_str(ctx, v, &s)) < 0)
        return r;
    sb__val_int(v, (int32_t)s.len); /* NULL has length 0 */
    return 0;
}

static int tr_int(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)ctx, (void)tr;
    int32_t i;
    if (v->type == SB_VAL_NULL || !sb_val_to_int(v, &i))
        return SB_EINVAL;
    sb__val_int(v, i);
    return 0;
}

/* Hex rendering of the 32-bit pattern: -1 is "ffffffff", and s.hex2dec gives it back. */
static int tr_dec2hex(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    int32_t i;
    if (v->type == SB_VAL_NULL || !sb_val_to_int(v, &i))
        return SB_EINVAL;
    char *p = scratch(ctx, 8);
    if (!p)
        return SB_ENOMEM;
    uint32_t u = (uint32_t)i;
    int n = 0;
    for (int shift = 28; shift >= 0; shift -= 4)
        if ((u >> shift) || n || shift == 0)
            p[n++] = hex_lc[(u >> shift) & 15];
    set_str(v, p, (size_t)n);
    return 0;
}

static int tr_hex2dec(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    if (s.len > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X'))
        s.p += 2, s.len -= 2;
    if (s.len == 0 || s.len > 8)
        return SB_EINVAL;
    uint32_t u = 0;
    for (size_t i = 0; i < s.len; i++) {
        int d = sb_hex_val((unsigned char)s.p[i]);
        if (d < 0)
            return SB_EINVAL;
        u = u << 4 | (uint32_t)d;
    }
    sb__val_int(v, (int32_t)u);
    return 0;
}

/* ---- slicing and searching ----------------------------------------------------------------- */

/* {s.substr,offset,length}: a negative offset counts from the end; length 0 takes the rest, a
 * negative length stops that many bytes before the end. Out of range fails. */
static int tr_substr(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s;
    int32_t o, l;
    int r;
    if ((r = sb__tr_in_str(ctx, v, &s)) < 0 || (r = sb__tr_arg_int(ctx, tr, 0, &o)) < 0 ||
        (r = sb__tr_arg_int(ctx, tr, 1, &l)) < 0)
        return r;
    long len = (long)s.len, off = o < 0 ? len + o : o;
    if (off < 0 || off > len)
        return SB_EINVAL;
    long rest = len - off, take = l == 0 ? rest : l > 0 ? (l < rest ? l : rest) : rest + l;
    if (take < 0)
        return SB_EINVAL;
    set_str(v, s.p + off, (size_t)take);
    return 0;
}

/* {s.select,index,separator}: the index-th field split on the separator's first byte; a
 * negative index counts from the end (-1 is the last field). */
static int tr_select(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s, sep;
    int32_t idx;
    int r;
    if ((r = sb__tr_in_str(ctx, v, &s)) < 0 || (r = sb__tr_arg_int(ctx, tr, 0, &idx)) < 0 ||
        (r = sb__tr_arg_str(ctx, tr, 1, &sep)) < 0)
        return r;
    if (sep.len == 0)
        return SB_EINVAL;
    long n = 1;
    for (size_t i = 0; i < s.len; i++)
        n += s.p[i] == sep.p[0];
    long want = idx < 0 ? n + idx : idx;
    if (want < 0 || want >= n)
        return SB_EINVAL;
    size_t start = 0;
    for (long f = 0; f < want; f++)
        start += (size_t)sb_str_chr((sb_str){s.p + start, s.len - start}, sep.p[0]) + 1;
    long end = sb_str_chr((sb_str){s.p + start, s.len - start}, sep.p[0]);
    set_str(v, s.p + start, end < 0 ? s.len - start : (size_t)end);
    return 0;
}

static long find_fwd(sb_str h, sb_str n, long from)
{
    for (long i = from; i >= 0 && (size_t)i + n.len <= h.len; i++)
        if (memcmp(h.p + i, n.p, n.len) == 0)
            return i;
    return -1;
}

static long find_back(sb_str h, sb_str n, long from)
{
    if (n.len > h.len)
        return -1;
    long last = (long)(h.len - n.len);
    for (long i = from < last ? from : last; i >= 0; i--)
        if (memcmp(h.p + i, n.p, n.len) == 0)
            return i;
    return -1;
}

/* {s.index,needle[,start]} / {s.rindex,needle[,start]}: offset of the first / last occurrence
 * at or after / at or before <start> (negative: from the end), -1 when there is none. */
static int search(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v, bool back)
{
    sb_str s, needle;
    int r;
    if ((r = sb__tr_in_str(ctx, v, &s)) < 0 || (r = sb__tr_arg_str(ctx, tr, 0, &needle)) < 0)
        return r;
    int32_t start = back ? -1 : 0;
    if (tr->n_args > 1 && (r = sb__tr_arg_int(ctx, tr, 1, &start)) < 0)
        return r;
    long from = start < 0 ? (long)s.len + start : start;
    long at = from < 0 ? -1 : back ? find_back(s, needle, from) : find_fwd(s, needle, from);
    sb__val_int(v, (int32_t)at);
    return 0;
}

static int tr_index(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    return search(ctx, tr, v, false);
}

static int tr_rindex(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    return search(ctx, tr, v, true);
}

static int tr_reverse(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 1, &p);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s.len; i++)
        p[i] = s.p[s.len - 1 - i];
    set_str(v, p, s.len);
    return 0;
}

/* ---- padding, trimming, case --------------------------------------------------------------- */

/* {s.fill.left,pad,width} / {s.fill.right,pad,width}: repeat <pad> until <width> bytes. */
static int fill(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v, bool left)
{
    sb_str s, pad;
    int32_t w;
    int r;
    if ((r = sb__tr_in_str(ctx, v, &s)) < 0 || (r = sb__tr_arg_str(ctx, tr, 0, &pad)) < 0 ||
        (r = sb__tr_arg_int(ctx, tr, 1, &w)) < 0)
        return r;
    if (pad.len == 0 || w < 0)
        return SB_EINVAL;
    if ((size_t)w <= s.len) {
        set_str(v, s.p, s.len);
        return 0;
    }
    size_t np = (size_t)w - s.len;
    char *p = scratch(ctx, (size_t)w);
    if (!p)
        return SB_ENOMEM;
    char *fillp = left ? p : p + s.len;
    for (size_t i = 0; i < np; i++)
        fillp[i] = pad.p[i % pad.len];
    memcpy(left ? p + np : p, s.p, s.len);
    set_str(v, p, (size_t)w);
    return 0;
}

static int tr_fill_left(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    return fill(ctx, tr, v, true);
}

static int tr_fill_right(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    return fill(ctx, tr, v, false);
}

/* {s.width,n}: cut to n bytes or pad with spaces on the right. */
static int tr_width(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s;
    int32_t w;
    int r;
    if ((r = sb__tr_in_str(ctx, v, &s)) < 0 || (r = sb__tr_arg_int(ctx, tr, 0, &w)) < 0)
        return r;
    if (w < 0)
        return SB_EINVAL;
    if ((size_t)w <= s.len) {
        set_str(v, s.p, (size_t)w);
        return 0;
    }
    char *p = scratch(ctx, (size_t)w);
    if (!p)
        return SB_ENOMEM;
    memcpy(p, s.p, s.len);
    memset(p + s.len, ' ', (size_t)w - s.len);
    set_str(v, p, (size_t)w);
    return 0;
}

static bool trim_ch(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum { TRIM_L = 1, TRIM_R = 2 };

static int trim(struct sb_sctx *ctx, struct sb_val *v, int how)
{
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    while ((how & TRIM_L) && s.len && trim_ch(s.p[0]))
        s.p++, s.len--;
    while ((how & TRIM_R) && s.len && trim_ch(s.p[s.len - 1]))
        s.len--;
    set_str(v, s.p, s.len);
    return 0;
}

static int tr_trim(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return trim(ctx, v, TRIM_L | TRIM_R);
}

static int tr_triml(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return trim(ctx, v, TRIM_L);
}

static int tr_trimr(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return trim(ctx, v, TRIM_R);
}

static int change_case(struct sb_sctx *ctx, struct sb_val *v, bool upper)
{
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 1, &p);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        p[i] = (char)(upper ? ((unsigned)(c - 'a') < 26u ? c & ~0x20 : c) : sb_lower(c));
    }
    set_str(v, p, s.len);
    return 0;
}

static int tr_tolower(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return change_case(ctx, v, false);
}

static int tr_toupper(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return change_case(ctx, v, true);
}

/* ---- escaping ------------------------------------------------------------------------------ */

/* {s.escape.common}: backslash before ' " and \, and NUL as \0 (for SQL and shell strings). */
static int tr_escape_common(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 2, &p);
    if (r < 0)
        return r;
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\'' || c == '"' || c == '\\' || c == '\0')
            p[n++] = '\\';
        p[n++] = c == '\0' ? '0' : c;
    }
    set_str(v, p, n);
    return 0;
}

/* The reverse; any other escape, or a trailing backslash, fails. */
static int tr_unescape_common(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 1, &p);
    if (r < 0)
        return r;
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\\') {
            if (++i == s.len)
                return SB_EINVAL;
            c = s.p[i];
            if (c == '0')
                c = '\0';
            else if (c != '\'' && c != '"' && c != '\\')
                return SB_EINVAL;
        }
        p[n++] = c;
    }
    set_str(v, p, n);
    return 0;
}

/* RFC3261-25.1: what a user part / a uri-parameter may carry unescaped, besides unreserved. */
static bool user_ok(unsigned char c)
{
    return (sb_ctype[c] & SB_CC_UNRESERVED) || strchr("&=+$,;?/", c) != NULL;
}

static bool param_ok(unsigned char c)
{
    return (sb_ctype[c] & SB_CC_UNRESERVED) || strchr("[]/:&+$", c) != NULL;
}

static int escape(struct sb_sctx *ctx, struct sb_val *v, bool (*ok)(unsigned char))
{
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 3, &p);
    if (r < 0)
        return r;
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c && ok(c)) {
            p[n++] = (char)c;
        } else {
            p[n++] = '%';
            p[n++] = hex_uc[c >> 4];
            p[n++] = hex_uc[c & 15];
        }
    }
    set_str(v, p, n);
    return 0;
}

/* %HH decoding; a broken escape fails. The same for user parts and parameters. */
static int unescape(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 1, &p);
    if (r < 0)
        return r;
    long n = sb_uri_unescape(s, p);
    if (n < 0)
        return SB_EINVAL;
    set_str(v, p, (size_t)n);
    return 0;
}

static int tr_escape_user(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return escape(ctx, v, user_ok);
}

static int tr_escape_param(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    return escape(ctx, v, param_ok);
}

/* ---- hex and base64 ------------------------------------------------------------------------ */

static int tr_encode_hexa(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    char *p;
    int r = in_out(ctx, v, &s, 2, &p);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s.len; i++) {
        p[2 * i] = hex_lc[(unsigned char)s.p[i] >> 4];
        p[2 * i + 1] = hex_lc[(unsigned char)s.p[i] & 15];
    }
    set_str(v, p, 2 * s.len);
    return 0;
}

static int tr_decode_hexa(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0 || s.len % 2)
        return r < 0 ? r : SB_EINVAL;
    char *p = scratch(ctx, s.len / 2);
    if (!p)
        return SB_ENOMEM;
    for (size_t i = 0; i < s.len; i += 2) {
        int hi = sb_hex_val((unsigned char)s.p[i]), lo = sb_hex_val((unsigned char)s.p[i + 1]);
        if (hi < 0 || lo < 0)
            return SB_EINVAL;
        p[i / 2] = (char)(hi << 4 | lo);
    }
    set_str(v, p, s.len / 2);
    return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int tr_b64encode(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    size_t n = (s.len + 2) / 3 * 4;
    char *p = r == 0 ? scratch(ctx, n) : NULL;
    if (r < 0 || !p)
        return r < 0 ? r : SB_ENOMEM;
    const unsigned char *in = (const unsigned char *)s.p;
    for (size_t i = 0, o = 0; i < s.len; i += 3, o += 4) {
        size_t left = s.len - i;
        uint32_t w = (uint32_t)in[i] << 16 | (left > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
                     (left > 2 ? in[i + 2] : 0);
        p[o] = b64[w >> 18];
        p[o + 1] = b64[(w >> 12) & 63];
        p[o + 2] = left > 1 ? b64[(w >> 6) & 63] : '=';
        p[o + 3] = left > 2 ? b64[w & 63] : '=';
    }
    set_str(v, p, n);
    return 0;
}

static int b64_val(char c)
{
    const char *at = c ? strchr(b64, c) : NULL;
    return at ? (int)(at - b64) : -1;
}

/* Padding is optional; anything outside the alphabet fails. */
static int tr_b64decode(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    for (int k = 0; k < 2 && s.len && s.p[s.len - 1] == '='; k++)
        s.len--;
    if (s.len % 4 == 1)
        return SB_EINVAL;
    char *p = scratch(ctx, s.len * 3 / 4);
    if (!p)
        return SB_ENOMEM;
    size_t n = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < s.len; i++) {
        int d = b64_val(s.p[i]);
        if (d < 0)
            return SB_EINVAL;
        acc = acc << 6 | (uint32_t)d;
        if (i % 4 == 3) {
            p[n++] = (char)(acc >> 16);
            p[n++] = (char)(acc >> 8);
            p[n++] = (char)acc;
            acc = 0;
        }
    }
    if (s.len % 4 == 2) {
        p[n++] = (char)(acc >> 4);
    } else if (s.len % 4 == 3) {
        p[n++] = (char)(acc >> 10);
        p[n++] = (char)(acc >> 2);
    }
    set_str(v, p, n);
    return 0;
}

/* ---- checksums and digests ----------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, as zlib and Ethernet), bitwise: script strings are short. Rendered as the
 * unsigned decimal, since it does not fit a script int. */
static int tr_crc32(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)tr;
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    char *p = r == 0 ? scratch(ctx, 10) : NULL;
    if (r < 0 || !p)
        return r < 0 ? r : SB_ENOMEM;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < s.len; i++) {
        crc ^= (unsigned char)s.p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    set_str(v, p, sb_u64_to_dec(crc ^ 0xffffffffu, p));
    return 0;
}

/* One digest context per thread, reused: no allocation per call once warm. */
static _Thread_local EVP_MD_CTX *tls_md;

void sb__tr_str_thread_exit(void)
{
    EVP_MD_CTX_free(tls_md);
    tls_md = NULL;
}

static int digest_hex(struct sb_sctx *ctx, struct sb_val *v, const EVP_MD *md)
{
    sb_str s;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    if (!tls_md && !(tls_md = EVP_MD_CTX_new()))
        return SB_ENOMEM;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!EVP_DigestInit_ex(tls_md, md, NULL) || !EVP_DigestUpdate(tls_md, s.p, s.len) ||
        !EVP_DigestFinal_ex(tls_md, d, &n))
        return SB_EINVAL;
    char *p = scratch(ctx, 2 * n);
    if (!p)
        return SB_ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        p[2 * i] = hex_lc[d[i] >> 4];
        p[2 * i + 1] = hex_lc[d[i] & 15];
    }
    set_str(v, p, 2 * n);
    return 0;
}

#define DIGEST(fn, md)                                                                             \
    static int fn(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)                   \
    {                                                                                              \
        (void)tr;                                                                                  \
        return digest_hex(ctx, v, md());                                                           \
    }
DIGEST(tr_md5, EVP_md5)
DIGEST(tr_sha1, EVP_sha1)
DIGEST(tr_sha224, EVP_sha224)
DIGEST(tr_sha256, EVP_sha256)
DIGEST(tr_sha384, EVP_sha384)
DIGEST(tr_sha512, EVP_sha512)

/* ---- the table ----------------------------------------------------------------------------- */

static int fix_ints_all(struct sb_fixup *fx, struct sb_tr *tr)
{
    return sb__tr_fix_int_args(fx, tr, ~0u);
}

static int fix_int_first(struct sb_fixup *fx, struct sb_tr *tr)
{
    return sb__tr_fix_int_args(fx, tr, 1u);
}

static int fix_int_second(struct sb_fixup *fx, struct sb_tr *tr)
{
    return sb__tr_fix_int_args(fx, tr, 2u);
}

#define S0(n, fn)                                                                                  \
    {                                                                                              \
        .cls = "s", .name = n, .apply = fn                                                         \
    }
#define SN(n, lo, hi, fn, fx)                                                                      \
    {                                                                                              \
        .cls = "s", .name = n, .min_args = lo, .max_args = hi, .apply = fn, .fix = fx              \
    }

const struct sb_tr_def sb__tr_str_defs[] = {
    S0("len", tr_len),
    S0("int", tr_int),
    S0("md5", tr_md5),
    S0("sha1", tr_sha1),
    S0("sha224", tr_sha224),
    S0("sha256", tr_sha256),
    S0("sha384", tr_sha384),
    S0("sha512", tr_sha512),
    S0("crc32", tr_crc32),
    S0("reverse", tr_reverse),
    SN("substr", 2, 2, tr_substr, fix_ints_all),
    SN("select", 2, 2, tr_select, fix_int_first),
    S0("encode.hexa", tr_encode_hexa),
    S0("decode.hexa", tr_decode_hexa),
    S0("escape.common", tr_escape_common),
    S0("unescape.common", tr_unescape_common),
    S0("escape.user", tr_escape_user),
    S0("unescape.user", unescape),
    S0("escape.param", tr_escape_param),
    S0("unescape.param", unescape),
    S0("tolower", tr_tolower),
    S0("toupper", tr_toupper),
    SN("index", 1, 2, tr_index, fix_int_second),
    SN("rindex", 1, 2, tr_rindex, fix_int_second),
    SN("fill.left", 2, 2, tr_fill_left, fix_int_second),
    SN("fill.right", 2, 2, tr_fill_right, fix_int_second),
    SN("width", 1, 1, tr_width, fix_ints_all),
    S0("trim", tr_trim),
    S0("trimr", tr_trimr),
    S0("triml", tr_triml),
    S0("dec2hex", tr_dec2hex),
    S0("hex2dec", tr_hex2dec),
    S0("b64encode", tr_b64encode),
    S0("b64decode", tr_b64decode),
    {.cls = NULL},
};
