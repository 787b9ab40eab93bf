/* SPDX-License-Identifier: BSD-2-Clause */
/* Lumps: edits of a received message, kept sorted in its arena and applied once (flat, as an
 * iovec, or over one header field); and the header-level edits built on them. */
#include <stdarg.h>
#include <stdio.h>

#include "msg/lump_int.h"

/* Sort key: offset, then the inserts at that offset before the delete/replace there. Equal keys
 * keep the order of addition (a new lump goes after its equals unless SB__LUMP_FRONT). */
static inline uint64_t lump_key(uint32_t off, uint32_t del)
{
    return ((uint64_t)off << 1) | (del != 0);
}

/* Index of the first lump whose key is >= <key> (or > <key> with <upper>). */
static uint32_t lumps_bound(const struct sb__lumps *s, uint64_t key, bool upper)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t k = lump_key(s->v[mid].off, s->v[mid].del);
        if (k < key || (upper && k == key))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t sb__lumps_lower(const struct sb__lumps *s, uint32_t off)
{
    return lumps_bound(s, lump_key(off, 0), false);
}

size_t sb__lumps_total(const struct sb__lumps *s)
{
    size_t n = s->limit;
    for (uint32_t i = 0; i < s->n; i++)
        n += s->v[i].ins.len - s->v[i].del;
    return n;
}

static int lumps_grow(struct sb__lumps *s)
{
    if (s->cap >= UINT32_MAX / 4 / sizeof(struct sb_lump))
        return SB_ENOMEM;
    uint32_t cap = s->cap ? s->cap * 2 : 8;
    struct sb_lump *v = sb_arena_alloc(s->arena, (size_t)cap * sizeof(*v));
    if (!v)
        return SB_ENOMEM;
    if (s->n)
        memcpy(v, s->v, s->n * sizeof(*v));
    s->v = v;
    s->cap = cap;
    return 0;
}

/* Does the delete [a, b) swallow lump <l>? Deletes inside it, inserts strictly inside it and, with
 * <end_too>, inserts at <b>. An insert at <a> stays: it goes before the deleted span. */
static inline bool absorbs(const struct sb_lump *l, uint32_t a, uint32_t b, bool end_too)
{
    if (l->del)
        return l->off >= a && l->off + l->del <= b;
    return (l->off > a && l->off < b) || (end_too && l->off == b);
}

/* Drop what the delete [a, b) swallows. A delete straddling one of its ends is a conflict; checked
 * before anything moves so that the set stays unchanged on error. */
static int lumps_absorb(struct sb__lumps *s, uint32_t a, uint32_t b, bool end_too)
{
    uint32_t first = lumps_bound(s, lump_key(a, 0), false), i;
    for (i = first; i < s->n && s->v[i].off <= b; i++) {
        const struct sb_lump *l = &s->v[i];
        if (l->del && l->off < b && l->off + l->del > b)
            return SB_EINVAL;
    }
    uint32_t w = first;
    for (i = first; i < s->n && s->v[i].off <= b; i++)
        if (!absorbs(&s->v[i], a, b, end_too))
            s->v[w++] = s->v[i];
    if (w != i) {
        memmove(&s->v[w], &s->v[i], (s->n - i) * sizeof(*s->v));
        s->n -= i - w;
    }
    return 0;
}

int sb__lumps_add(struct sb__lumps *s, uint32_t off, uint32_t del, sb_str ins, unsigned flags)
{
    if ((uint64_t)off + del > s->limit || (ins.len && !ins.p) || ins.len > UINT32_MAX)
        return SB_EINVAL;
    if (del == 0 && ins.len == 0)
        return 0;
    if (del && (flags & (SB__LUMP_ABSORB | SB__LUMP_ABSORB_END))) {
        int rc = lumps_absorb(s, off, off + del, flags & SB__LUMP_ABSORB_END);
        if (rc)
            return rc;
    }
    uint32_t pos = lumps_bound(s, lump_key(off, del), !(flags & SB__LUMP_FRONT));
    /* deletes never overlap, so the last delete before <pos> is the only one that can reach into
     * <off>: it would hold the new insert strictly inside, or overlap the new delete */
    for (uint32_t j = pos; j-- > 0;) {
        if (!s->v[j].del)
            continue;
        if (s->v[j].off + s->v[j].del > off)
            return SB_EINVAL;
        break;
    }
    /* what follows a new delete starts after its offset; it must not start inside it */
    if (del && pos < s->n && s->v[pos].off < off + del)
        return SB_EINVAL;
    if (s->n == s->cap && lumps_grow(s) != 0)
        return SB_ENOMEM;
    memmove(&s->v[pos + 1], &s->v[pos], (s->n - pos) * sizeof(*s->v));
    s->v[pos] = (struct sb_lump){.off = off, .del = del, .ins = ins, .seq = s->n};
    s->n++;
    return 0;
}

int sb__lumps_commit(struct sb_msg *m, const struct sb__lumps *s, int rc)
{
    m->lumps = s->v;
    m->n_lumps = s->n;
    m->cap_lumps = s->cap;
    if (rc && !m->lump_err)
        m->lump_err = rc;
    return rc;
}

/* A read-only view of m's lumps. */
static inline struct sb__lumps lumps_view(const struct sb_msg *m)
{
    return (struct sb__lumps){m->lumps, m->n_lumps, m->cap_lumps, m->len, NULL};
}

/* ---- walking the output --------------------------------------------------------------------- */

void sb__lump_it_init(struct sb__lump_it *it, const struct sb__lumps *s, const char *buf,
                      uint32_t a, uint32_t b, enum sb__lump_range range)
{
    it->s = s;
    it->buf = buf;
    it->pos = it->a = a;
    it->end = b;
    it->i = a ? lumps_bound(s, lump_key(a, 0), false) : 0;
    it->pending = false;
    it->range = (uint8_t)range;
}

static inline bool it_takes(const struct sb__lump_it *it, const struct sb_lump *l)
{
    if (l->del)
        return l->off >= it->a && l->off + l->del <= it->end;
    if (it->range == SB__RANGE_INNER)
        return l->off > it->a && l->off < it->end;
    return l->off >= it->a && l->off <= it->end;
}

bool sb__lump_it_next(struct sb__lump_it *it, sb_str *piece)
{
    const struct sb__lumps *s = it->s;
    for (;;) {
        if (it->pending) {
            const struct sb_lump *l = &s->v[it->i++];
            it->pending = false;
            it->pos = l->off + l->del;
            if (l->ins.len) {
                *piece = l->ins;
                return true;
            }
            continue;
        }
        while (it->i < s->n && s->v[it->i].off <= it->end && !it_takes(it, &s->v[it->i]))
            it->i++;
        if (it->i < s->n && s->v[it->i].off <= it->end) {
            const struct sb_lump *l = &s->v[it->i];
            SB_BUG_ON(l->off < it->pos); /* the set never overlaps */
            it->pending = true;
            if (l->off > it->pos) {
                *piece = (sb_str){it->buf + it->pos, l->off - it->pos};
                it->pos = l->off;
                return true;
            }
            continue;
        }
        if (it->pos < it->end) {
            *piece = (sb_str){it->buf + it->pos, it->end - it->pos};
            it->pos = it->end;
            return true;
        }
        return false;
    }
}

size_t sb__lumps_range_len(const struct sb__lumps *s, const char *buf, uint32_t a, uint32_t b,
                           enum sb__lump_range range)
{
    struct sb__lump_it it;
    sb_str p;
    size_t n = 0;
    sb__lump_it_init(&it, s, buf, a, b, range);
    while (sb__lump_it_next(&it, &p))
        n += p.len;
    return n;
}

void sb__lumps_range_write(const struct sb__lumps *s, const char *buf, uint32_t a, uint32_t b,
                           enum sb__lump_range range, struct sb_wbuf *w)
{
    struct sb__lump_it it;
    sb_str p;
    sb__lump_it_init(&it, s, buf, a, b, range);
    while (sb__lump_it_next(&it, &p))
        sb_wbuf_put(w, p.p, p.len);
}

size_t sb_msg_lumps_len(const struct sb_msg *m)
{
    struct sb__lumps s = lumps_view(m);
    return sb__lumps_total(&s);
}

int sb_msg_lumps_apply(const struct sb_msg *m, char *out, size_t cap, size_t *out_len)
{
    if (m->lump_err)
        return m->lump_err;
    struct sb__lumps s = lumps_view(m);
    struct sb_wbuf w;
    sb_wbuf_init(&w, out, cap);
    if (sb_msg_lumps_len(m) > cap)
        return SB_ENOSPC;
    sb__lumps_range_write(&s, m->buf, 0, m->len, SB__RANGE_ALL, &w);
    if (w.err)
        return w.err;
    *out_len = w.len;
    return 0;
}

int sb_msg_lumps_iov(const struct sb_msg *m, struct iovec *iov, int max_iov, int *n_iov)
{
    if (m->lump_err)
        return m->lump_err;
    struct sb__lumps s = lumps_view(m);
    struct sb__lump_it it;
    sb_str p;
    int n = 0;
    sb__lump_it_init(&it, &s, m->buf, 0, m->len, SB__RANGE_ALL);
    while (sb__lump_it_next(&it, &p)) {
        if (n < max_iov)
            iov[n] = (struct iovec){.iov_base = (void *)p.p, .iov_len = p.len};
        n++;
    }
    *n_iov = n;
    return n > max_iov ? SB_ENOSPC : 0;
}

/* ---- recording ------------------------------------------------------------------------------ */

static int msg_lump(struct sb_msg *m, uint32_t off, uint32_t del, sb_str ins, unsigned flags)
{
    if (m->lump_err)
        return m->lump_err;
    struct sb__lumps s = sb__lumps_of(m);
    return sb__lumps_commit(m, &s, sb__lumps_add(&s, off, del, ins, flags));
}

int sb_msg_lump_insert(struct sb_msg *m, uint32_t off, sb_str text)
{
    return msg_lump(m, off, 0, text, 0);
}

int sb_msg_lump_delete(struct sb_msg *m, sb_span span)
{
    return msg_lump(m, span.off, span.len, SB_STR_NULL, 0);
}

int sb_msg_lump_replace(struct sb_msg *m, sb_span span, sb_str text)
{
    return msg_lump(m, span.off, span.len, text, 0);
}

sb_str sb_msg_strdup(struct sb_msg *m, sb_str s)
{
    char *p = sb_arena_dup(&m->arena, s.p, s.len);
    if (!p) {
        if (!m->lump_err)
            m->lump_err = SB_ENOMEM;
        return SB_STR_NULL;
    }
    return (sb_str){p, s.len};
}

sb_str sb_msg_printf(struct sb_msg *m, const char *fmt, ...)
{
    char tmp[256];
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    sb_str out = SB_STR_NULL;
    if (n >= 0 && (size_t)n < sizeof(tmp)) {
        out = sb_msg_strdup(m, (sb_str){tmp, (size_t)n});
    } else if (n >= 0) {
        char *p = sb_arena_alloc(&m->arena, (size_t)n + 1);
        if (p) {
            vsnprintf(p, (size_t)n + 1, fmt, again);
            out = (sb_str){p, (size_t)n};
        } else if (!m->lump_err) {
            m->lump_err = SB_ENOMEM;
        }
    } else if (!m->lump_err) {
        m->lump_err = SB_EINVAL;
    }
    va_end(again);
    return out;
}

/* ---- header-level edits --------------------------------------------------------------------- */

/* Its unique address marks the line end added by sb__lumps_eol_fix, so that it is added once. */
static const char eol_fix[2] = {'\r', '\n'};

int sb__lumps_eol_fix(struct sb__lumps *s, const struct sb_msg *m)
{
    uint32_t e = m->hdrs_end;
    if (e == 0 || m->buf[e - 1] == '\n')
        return 0;
    uint32_t i = lumps_bound(s, lump_key(e, 0), false);
    if (i < s->n && s->v[i].off == e && s->v[i].ins.p == eol_fix)
        return 0;
    return sb__lumps_add(s, e, 0, (sb_str){eol_fix, 2}, SB__LUMP_FRONT);
}

static inline uint32_t val_end(const struct sb_hdr *h)
{
    return h->value.off + h->value.len;
}

/* Remove value <i> of the comma list made of entries [i0, ik]. Each value owns the separator after
 * it while a kept value follows; the last kept value gives its separator up. Removing every value
 * also removes the name and the line end, so that the lumps of one field always tile it exactly. */
static int list_remove(struct sb_msg *m, struct sb__lumps *s, uint32_t i0, uint32_t i, uint32_t ik)
{
    struct sb_hdr *H = m->hdrs;
    bool kept_after = false;
    int rc;
    for (uint32_t j = i + 1; j <= ik && !kept_after; j++)
        kept_after = !(H[j].flags & SB_HDRF_REMOVED);
    if (kept_after)
        rc = sb__lumps_add(s, H[i].value.off, H[i + 1].value.off - H[i].value.off, SB_STR_NULL,
                           SB__LUMP_ABSORB);
    else
        rc = sb__lumps_add(s, H[i].value.off, H[i].value.len, SB_STR_NULL,
                           SB__LUMP_ABSORB | SB__LUMP_ABSORB_END);
    if (rc)
        return rc;
    H[i].flags |= SB_HDRF_REMOVED;
    if (kept_after)
        return 0;
    for (uint32_t j = i; j-- > i0;) {
        if (!(H[j].flags & SB_HDRF_REMOVED)) /* the new last value: drop its separator */
            return sb__lumps_add(s, val_end(&H[j]), H[j + 1].value.off - val_end(&H[j]),
                                 SB_STR_NULL, 0);
    }
    const struct sb_hdr *h = &H[i];
    rc = sb__lumps_add(s, h->field.off, H[i0].value.off - h->field.off, SB_STR_NULL,
                       SB__LUMP_ABSORB | SB__LUMP_ABSORB_END);
    if (rc)
        return rc;
    return sb__lumps_add(s, val_end(&H[ik]), h->field.off + h->field.len - val_end(&H[ik]),
                         SB_STR_NULL, SB__LUMP_ABSORB);
}

int sb_msg_hdr_remove(struct sb_msg *m, struct sb_hdr *h)
{
    if (m->lump_err)
        return m->lump_err;
    if (h < m->hdrs || h >= m->hdrs + m->n_hdrs)
        return m->lump_err = SB_EINVAL;
    if (h->flags & SB_HDRF_REMOVED)
        return 0;
    /* the entries of one field are adjacent in the index and share its span */
    uint32_t i = h->idx, i0 = i, ik = i;
    while (i0 > 0 && m->hdrs[i0 - 1].field.off == h->field.off)
        i0--;
    while (ik + 1 < m->n_hdrs && m->hdrs[ik + 1].field.off == h->field.off)
        ik++;
    struct sb__lumps s = sb__lumps_of(m);
    int rc;
    if (i0 == ik) {
        rc = sb__lumps_add(&s, h->field.off, h->field.len, SB_STR_NULL, SB__LUMP_ABSORB);
        if (rc == 0)
            h->flags |= SB_HDRF_REMOVED;
    } else {
        rc = list_remove(m, &s, i0, i, ik);
    }
    return sb__lumps_commit(m, &s, rc);
}

static bool has_line_break(sb_str s)
{
    return s.len && (memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len));
}

/* Add "<line>\r\n" at <off>, after the inserts already there. */
static int hdr_add_line(struct sb_msg *m, uint32_t off, sb_str line)
{
    if (m->lump_err)
        return m->lump_err;
    struct sb__lumps s = sb__lumps_of(m);
    int rc = SB_EINVAL;
    if (line.len && line.p && !has_line_break(line)) {
        rc = off == m->hdrs_end ? sb__lumps_eol_fix(&s, m) : 0;
        if (rc == 0)
            rc = sb__lumps_add(&s, off, 0, line, 0);
        if (rc == 0)
            rc = sb__lumps_add(&s, off, 0, SB_STR("\r\n"), 0);
    }
    return sb__lumps_commit(m, &s, rc);
}

int sb_msg_hdr_append(struct sb_msg *m, sb_str line)
{
    return hdr_add_line(m, m->hdrs_end, line);
}

int sb_msg_hdr_prepend(struct sb_msg *m, sb_str line)
{
    return hdr_add_line(m, m->n_hdrs ? m->hdrs[0].field.off : m->hdrs_end, line);
}
