/* SPDX-License-Identifier: BSD-2-Clause */
/* AVP lists (named stacks of values on the heap) and the grow-only name tables that give $avp
 * names and $var names their small integer ids. */
#include <stdlib.h>
#include <string.h>

#include "sb/avp.h"
#include "pv_int.h"

/* ---- interned names ------------------------------------------------------------------------ */

int sb__names_intern(struct sb__names *t, sb_str name, uint32_t *id)
{
    if (name.len == 0)
        return SB_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    for (uint32_t i = 0; i < t->n; i++) {
        if (strlen(t->names[i]) == name.len && memcmp(t->names[i], name.p, name.len) == 0) {
            *id = i;
            goto out;
        }
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 32;
        char **v = realloc(t->names, cap * sizeof(*v));
        if (!v) {
            rc = SB_ENOMEM;
            goto out;
        }
        t->names = v;
        t->cap = cap;
    }
    char *copy = malloc(name.len + 1);
    if (!copy) {
        rc = SB_ENOMEM;
        goto out;
    }
    memcpy(copy, name.p, name.len);
    copy[name.len] = '\0';
    t->names[t->n] = copy;
    *id = t->n++;
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

sb_str sb__names_get(struct sb__names *t, uint32_t id)
{
    sb_str s = SB_STR("");
    pthread_mutex_lock(&t->lock);
    if (id < t->n)
        s = sb_str_cstr(t->names[id]);
    pthread_mutex_unlock(&t->lock);
    return s;
}

/* AVP names; the lock is inside the struct. */
static struct sb__names avp_names = SB__NAMES_INIT;

int sb_avp_id(sb_str name, uint32_t *id)
{
    return sb__names_intern(&avp_names, name, id);
}

sb_str sb_avp_name(uint32_t id)
{
    return sb__names_get(&avp_names, id);
}

/* ---- lists --------------------------------------------------------------------------------- */

/* One name's values, oldest first: the top of the stack is vals[n - 1]. */
struct avp_stack {
    uint32_t id;
    uint32_t n, cap;
    struct sb_val *vals;
};

/* Transactions hold a handful of names, so a linear scan beats hashing here. */
struct sb_avps {
    struct avp_stack *stacks;
    uint32_t n, cap;
};

struct sb_avps *sb_avps_new(void)
{
    return calloc(1, sizeof(struct sb_avps));
}

static void stack_clear(struct avp_stack *st)
{
    for (uint32_t i = 0; i < st->n; i++)
        sb__val_heap_free(&st->vals[i]);
    st->n = 0;
}

void sb_avps_clear(struct sb_avps *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        stack_clear(&l->stacks[i]);
}

void sb_avps_free(struct sb_avps *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++) {
        stack_clear(&l->stacks[i]);
        free(l->stacks[i].vals);
    }
    free(l->stacks);
    free(l);
}

static struct avp_stack *stack_find(const struct sb_avps *l, uint32_t id)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->stacks[i].id == id)
            return &l->stacks[i];
    return NULL;
}

static struct avp_stack *stack_get(struct sb_avps *l, uint32_t id)
{
    struct avp_stack *st = stack_find(l, id);
    if (st)
        return st;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        struct avp_stack *v = realloc(l->stacks, cap * sizeof(*v));
        if (!v)
            return NULL;
        l->stacks = v;
        l->cap = cap;
    }
    st = &l->stacks[l->n++];
    *st = (struct avp_stack){.id = id};
    return st;
}

/* Array position of stack index <idx>, or -1 when out of range. */
static long stack_pos(const struct avp_stack *st, int32_t idx)
{
    if (!st)
        return -1;
    long n = st->n;
    long pos = idx >= 0 ? n - 1 - (long)idx : -(long)idx - 1;
    return pos >= 0 && pos < n ? pos : -1;
}

/* Insert a copy of <v> at array position <pos> (0 = bottom, n = top). */
static int stack_insert(struct sb_avps *l, uint32_t id, uint32_t pos_from_top,
                        const struct sb_val *v)
{
    if (v->type == SB_VAL_NULL)
        return SB_EINVAL;
    struct avp_stack *st = stack_get(l, id);
    if (!st)
        return SB_ENOMEM;
    if (st->n == st->cap) {
        uint32_t cap = st->cap ? st->cap * 2 : 4;
        struct sb_val *nv = realloc(st->vals, cap * sizeof(*nv));
        if (!nv)
            return SB_ENOMEM;
        st->vals = nv;
        st->cap = cap;
    }
    struct sb_val copy;
    int rc = sb__val_heap_copy(&copy, v);
    if (rc)
        return rc;
    uint32_t pos = st->n - pos_from_top;
    memmove(&st->vals[pos + 1], &st->vals[pos], (st->n - pos) * sizeof(*st->vals));
    st->vals[pos] = copy;
    st->n++;
    return 0;
}

int sb_avps_push(struct sb_avps *l, uint32_t id, const struct sb_val *v)
{
    return stack_insert(l, id, 0, v);
}

int sb_avps_append(struct sb_avps *l, uint32_t id, const struct sb_val *v)
{
    struct avp_stack *st = stack_find(l, id);
    return stack_insert(l, id, st ? st->n : 0, v);
}

int sb_avps_replace(struct sb_avps *l, uint32_t id, int32_t idx, const struct sb_val *v)
{
    if (v->type == SB_VAL_NULL)
        return SB_EINVAL;
    struct avp_stack *st = stack_find(l, id);
    long pos = stack_pos(st, idx);
    if (pos < 0)
        return SB_ENOENT;
    /* copy first: <v> may borrow from the value being replaced */
    struct sb_val copy;
    int rc = sb__val_heap_copy(&copy, v);
    if (rc)
        return rc;
    sb__val_heap_free(&st->vals[pos]);
    st->vals[pos] = copy;
    return 0;
}

unsigned sb_avps_count(const struct sb_avps *l, uint32_t id)
{
    const struct avp_stack *st = stack_find(l, id);
    return st ? st->n : 0;
}

bool sb_avps_get(const struct sb_avps *l, uint32_t id, int32_t idx, struct sb_val *out)
{
    const struct avp_stack *st = stack_find(l, id);
    long pos = stack_pos(st, idx);
    if (pos < 0) {
        sb__val_null(out);
        return false;
    }
    *out = st->vals[pos];
    return true;
}

int sb_avps_del(struct sb_avps *l, uint32_t id, int32_t idx)
{
    struct avp_stack *st = stack_find(l, id);
    long pos = stack_pos(st, idx);
    if (pos < 0)
        return SB_ENOENT;
    sb__val_heap_free(&st->vals[pos]);
    memmove(&st->vals[pos], &st->vals[pos + 1], (st->n - (size_t)pos - 1) * sizeof(*st->vals));
    st->n--;
    return 0;
}

void sb_avps_del_all(struct sb_avps *l, uint32_t id)
{
    struct avp_stack *st = stack_find(l, id);
    if (st)
        stack_clear(st);
}

bool sb_avps_next(const struct sb_avps *l, size_t *pos, uint32_t *id, unsigned *count)
{
    while (*pos < l->n) {
        const struct avp_stack *st = &l->stacks[(*pos)++];
        if (st->n) {
            *id = st->id;
            *count = st->n;
            return true;
        }
    }
    return false;
}
