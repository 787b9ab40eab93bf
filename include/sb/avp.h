/* SPDX-License-Identifier: BSD-2-Clause */
/* AVP lists: named stacks of script values ($avp(name)), owned by a transaction or by one script
 * execution, and the process-wide table of AVP names. */
#ifndef SB_AVP_H
#define SB_AVP_H

#include "sb/script-t.h"

/* AVP names are interned once into small ids shared by every list: the script checker does it
 * for $avp(name), a module for the names it configures. The table only grows, for the life of
 * the process, and is guarded by its own lock: any thread may call these, but they take a lock
 * and search linearly, so resolve names at check or init time, not per message.
 * Returns 0 and *id, or SB_ENOMEM / SB_EINVAL (empty name). */
int sb_avp_id(sb_str name, uint32_t *id);
/* The name of <id> (valid for the life of the process); empty for an unknown id. */
sb_str sb_avp_name(uint32_t id);

/* A list of stacks, one per name. It lives on the heap, and so do its values: every string is
 * deep-copied in and stays until its value is deleted or replaced, or the list is cleared or
 * freed, so a list may outlive the message and the execution that filled it (a transaction keeps
 * it across failure routes). One owner thread at a time; no locking.
 * Indexes: 0 is the value added last (the top), 1 the one before, ...; a negative index counts
 * from the bottom: -1 is the value added first. */
struct sb_avps;

/* NULL when out of memory. */
struct sb_avps *sb_avps_new(void);
/* Frees the list and every value; NULL is accepted. */
void sb_avps_free(struct sb_avps *l);
/* Deletes every value of every name; keeps the list usable. */
void sb_avps_clear(struct sb_avps *l);

/* Push a copy of <v> on top of <id>'s stack. A SB_VAL_NULL value is not stored (SB_EINVAL).
 * Returns 0, SB_ENOMEM. */
int sb_avps_push(struct sb_avps *l, uint32_t id, const struct sb_val *v);
/* Add a copy of <v> at the bottom of the stack (it becomes index -1): $(avp(x)[append]). */
int sb_avps_append(struct sb_avps *l, uint32_t id, const struct sb_val *v);
/* Overwrite the value at <idx> with a copy of <v> (not NULL). SB_ENOENT when out of range. */
int sb_avps_replace(struct sb_avps *l, uint32_t id, int32_t idx, const struct sb_val *v);
/* Number of values of <id>. */
unsigned sb_avps_count(const struct sb_avps *l, uint32_t id);
/* Read the value at <idx> into *out; a string borrows from the list until that value is deleted
 * or replaced. Returns false (and a SB_VAL_NULL *out) when out of range. */
bool sb_avps_get(const struct sb_avps *l, uint32_t id, int32_t idx, struct sb_val *out);
/* Delete the value at <idx>. SB_ENOENT when out of range. */
int sb_avps_del(struct sb_avps *l, uint32_t id, int32_t idx);
/* Delete every value of <id>. */
void sb_avps_del_all(struct sb_avps *l, uint32_t id);
/* Walk the names that hold values: start with *pos = 0, call until it returns false. Deleting
 * during the walk is allowed; adding a new name is not. */
bool sb_avps_next(const struct sb_avps *l, size_t *pos, uint32_t *id, unsigned *count);

#endif
