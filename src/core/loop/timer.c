/* SPDX-License-Identifier: BSD-2-Clause */
/* Millisecond timers on a hierarchical hashed wheel: O(1) start and stop, cascading of far
 * timers towards level 0 as their time approaches. */
#include <limits.h>
#include <string.h>

#include "loop/loop-int.h"
#include "sb/base.h"

#define L0_MASK    (SB__WHEEL_L0 - 1)
#define LN_MASK    (SB__WHEEL_LN - 1)
#define WHEEL_SPAN (UINT64_C(1) << (SB__WHEEL_L0_BITS + (SB__WHEEL_LEVELS - 1) * SB__WHEEL_LN_BITS))

static unsigned level_shift(unsigned level)
{
    return level == 0 ? 0 : SB__WHEEL_L0_BITS + (level - 1) * SB__WHEEL_LN_BITS;
}

static unsigned slot_base(unsigned level)
{
    return level == 0 ? 0 : SB__WHEEL_L0 + (level - 1) * SB__WHEEL_LN;
}

static void list_init(struct sb_timer *head)
{
    head->next = head->prev = head;
}

static bool list_empty(const struct sb_timer *head)
{
    return head->next == head;
}

static void list_append(struct sb_timer *head, struct sb_timer *t)
{
    t->prev = head->prev;
    t->next = head;
    head->prev->next = t;
    head->prev = t;
}

/* Move every element of <from> to the (empty) list <to>. */
static void list_take(struct sb_timer *to, struct sb_timer *from)
{
    if (list_empty(from)) {
        list_init(to);
        return;
    }
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    list_init(from);
}

static void set_busy(struct sb__wheel *w, unsigned idx)
{
    if (idx < SB__WHEEL_L0)
        w->busy0[idx / 64] |= UINT64_C(1) << (idx % 64);
    else
        w->busy[(idx - SB__WHEEL_L0) / SB__WHEEL_LN] |= UINT64_C(1)
                                                        << ((idx - SB__WHEEL_L0) % SB__WHEEL_LN);
}

static void clear_busy(struct sb__wheel *w, unsigned idx)
{
    if (idx < SB__WHEEL_L0)
        w->busy0[idx / 64] &= ~(UINT64_C(1) << (idx % 64));
    else
        w->busy[(idx - SB__WHEEL_L0) / SB__WHEEL_LN] &=
            ~(UINT64_C(1) << ((idx - SB__WHEEL_L0) % SB__WHEEL_LN));
}

/* Index of <p> among the wheel's slot heads, or -1 when it is a timer or another list head. The
 * comparison goes through integers because <p> may point anywhere. */
static int slot_index(const struct sb__wheel *w, const struct sb_timer *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)&w->slot[0];
    if (a < lo || a >= (uintptr_t)&w->slot[SB__WHEEL_SLOTS])
        return -1;
    return (int)((a - lo) / sizeof(struct sb_timer));
}

static void unlink_timer(struct sb__wheel *w, struct sb_timer *t)
{
    /* The list becomes empty when both neighbours are its head: clear the slot's busy bit. */
    if (t->next == t->prev) {
        int idx = slot_index(w, t->next);
        if (idx >= 0)
            clear_busy(w, (unsigned)idx);
    }
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->next = t->prev = NULL;
}

static void file_timer(struct sb__wheel *w, struct sb_timer *t)
{
    uint64_t exp = t->expires;
    if (exp < w->tick) {
        list_append(&w->due, t);
        return;
    }
    uint64_t delta = exp - w->tick;
    unsigned level = 0;
    while (level < SB__WHEEL_LEVELS - 1 && delta >= UINT64_C(1) << level_shift(level + 1))
        level++;
    if (level == SB__WHEEL_LEVELS - 1 && delta >= WHEEL_SPAN)
        exp = w->tick + WHEEL_SPAN - 1; /* parked: re-filed with its real time at each cascade */
    unsigned mask = level == 0 ? L0_MASK : LN_MASK;
    unsigned idx = slot_base(level) + (unsigned)((exp >> level_shift(level)) & mask);
    list_append(&w->slot[idx], t);
    set_busy(w, idx);
}

void sb__wheel_init(struct sb__wheel *w, uint64_t now)
{
    memset(w, 0, sizeof(*w));
    w->tick = now;
    for (unsigned i = 0; i < SB__WHEEL_SLOTS; i++)
        list_init(&w->slot[i]);
    list_init(&w->due);
}

static void disarm_list(struct sb_timer *head)
{
    while (!list_empty(head)) {
        struct sb_timer *t = head->next;
        head->next = t->next;
        t->next = t->prev = NULL;
        t->loop = NULL;
    }
    list_init(head);
}

void sb__wheel_clear(struct sb__wheel *w)
{
    for (unsigned i = 0; i < SB__WHEEL_SLOTS; i++)
        disarm_list(&w->slot[i]);
    disarm_list(&w->due);
    memset(w->busy0, 0, sizeof(w->busy0));
    memset(w->busy, 0, sizeof(w->busy));
    w->n_armed = 0;
}

void sb__wheel_rebase(struct sb__wheel *w, uint64_t old_now, uint64_t new_now)
{
    struct sb_timer all;
    list_init(&all);
    for (unsigned i = 0; i < SB__WHEEL_SLOTS; i++) {
        while (!list_empty(&w->slot[i])) {
            struct sb_timer *t = w->slot[i].next;
            unlink_timer(w, t);
            list_append(&all, t);
        }
    }
    while (!list_empty(&w->due)) {
        struct sb_timer *t = w->due.next;
        unlink_timer(w, t);
        list_append(&all, t);
    }
    w->tick = new_now;
    while (!list_empty(&all)) {
        struct sb_timer *t = all.next;
        unlink_timer(w, t);
        uint64_t left = t->expires > old_now ? t->expires - old_now : 0;
        t->expires = new_now + left;
        file_timer(w, t);
    }
}

void sb_timer_init(struct sb_timer *t, sb_timer_cb cb, void *data)
{
    t->next = t->prev = NULL;
    t->expires = 0;
    t->cb = cb;
    t->data = data;
    t->loop = NULL;
}

void sb_timer_start(struct sb_loop *l, struct sb_timer *t, uint64_t ms)
{
    SB_BUG_ON(l == NULL || t->cb == NULL);
    sb_timer_stop(t);
    uint64_t now = l->now;
    t->expires = ms > UINT64_MAX - now ? UINT64_MAX : now + ms;
    t->loop = l;
    file_timer(&l->wheel, t);
    l->wheel.n_armed++;
}

void sb_timer_stop(struct sb_timer *t)
{
    struct sb_loop *l = t->loop;
    if (l == NULL)
        return;
    unlink_timer(&l->wheel, t);
    t->loop = NULL;
    l->wheel.n_armed--;
}

/* Re-file the timers of slot <i> of <level> (at least 1) with the current tick: they land on a
 * lower level, or level 0 when they are less than 256 ms away. Returns the slot index. */
static unsigned cascade(struct sb__wheel *w, unsigned level)
{
    unsigned i = (unsigned)((w->tick >> level_shift(level)) & LN_MASK);
    unsigned idx = slot_base(level) + i;
    struct sb_timer work;
    list_take(&work, &w->slot[idx]);
    clear_busy(w, idx);
    while (!list_empty(&work)) {
        struct sb_timer *t = work.next;
        unlink_timer(w, t);
        file_timer(w, t);
    }
    return i;
}

static bool level_busy(const struct sb__wheel *w, unsigned level)
{
    if (level == 0) {
        for (unsigned i = 0; i < SB__WHEEL_L0 / 64; i++)
            if (w->busy0[i])
                return true;
        return false;
    }
    return w->busy[level - 1] != 0;
}

/* Run the timers of list <src>, which are detached from the wheel's slots first so that
 * callbacks may start and stop any timer, those of this very list included. */
static int run_list(struct sb__wheel *w, struct sb_timer *src)
{
    struct sb_timer work;
    int n = 0;
    list_take(&work, src);
    while (!list_empty(&work)) {
        struct sb_timer *t = work.next;
        unlink_timer(w, t);
        t->loop = NULL;
        w->n_armed--;
        t->cb(t);
        n++;
    }
    return n;
}

int sb__wheel_run(struct sb__wheel *w, uint64_t now)
{
    int n = 0;
    if (!list_empty(&w->due))
        n += run_list(w, &w->due);
    while (w->tick <= now) {
        if (w->n_armed == 0) {
            w->tick = now + 1;
            break;
        }
        unsigned i0 = (unsigned)(w->tick & L0_MASK);
        if (i0 == 0) {
            for (unsigned level = 1; level < SB__WHEEL_LEVELS; level++)
                if (cascade(w, level) != 0)
                    break;
        }
        if (!level_busy(w, 0)) {
            /* Nothing to run before the next point where a busy level cascades: jump there. */
            unsigned level = 1;
            while (level < SB__WHEEL_LEVELS && !level_busy(w, level))
                level++;
            if (level == SB__WHEEL_LEVELS) {
                w->tick = now + 1;
                break;
            }
            uint64_t step = UINT64_C(1) << level_shift(level);
            uint64_t next = (w->tick | (step - 1)) + 1;
            w->tick = next > now + 1 ? now + 1 : next;
            continue;
        }
        w->tick++;
        if (!list_empty(&w->slot[i0])) {
            clear_busy(w, i0);
            n += run_list(w, &w->slot[i0]);
        }
    }
    return n;
}

/* First busy bit of a 64-slot <mask> at or after <from>, wrapping; returns the distance. */
static int first_busy(uint64_t mask, unsigned from)
{
    if (mask == 0)
        return -1;
    uint64_t rot = from ? (mask >> from) | (mask << (64 - from)) : mask;
    return __builtin_ctzll(rot);
}

int sb__wheel_timeout(const struct sb__wheel *w, uint64_t now)
{
    if (w->n_armed == 0)
        return -1;
    if (!list_empty(&w->due))
        return 0;
    uint64_t best = UINT64_MAX;

    /* Level 0 holds exactly one expiry per slot within the next 256 ms. */
    unsigned i0 = (unsigned)(w->tick & L0_MASK);
    for (unsigned d = 0; d < SB__WHEEL_L0;) {
        unsigned i = (i0 + d) & L0_MASK;
        uint64_t word = w->busy0[i / 64] >> (i % 64);
        if (word) {
            unsigned skip = (unsigned)__builtin_ctzll(word);
            if (d + skip < SB__WHEEL_L0) {
                best = w->tick + d + skip;
                break;
            }
        }
        d += 64 - (i % 64);
    }

    /* Higher levels: the time their first busy slot cascades, which is no later than any expiry
     * in it. */
    for (unsigned level = 1; level < SB__WHEEL_LEVELS; level++) {
        if (!w->busy[level - 1])
            continue;
        uint64_t gran = UINT64_C(1) << level_shift(level);
        uint64_t start = (w->tick + gran - 1) & ~(gran - 1);
        unsigned is = (unsigned)((start >> level_shift(level)) & LN_MASK);
        int d = first_busy(w->busy[level - 1], is);
        uint64_t at = start + (uint64_t)d * gran;
        if (at < best)
            best = at;
    }
    if (best <= now)
        return 0;
    uint64_t ms = best - now;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}
