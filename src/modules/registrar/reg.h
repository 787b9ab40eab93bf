/* SPDX-License-Identifier: BSD-2-Clause */
/* registrar internals shared by its files. */
#ifndef SB_REG_H
#define SB_REG_H

#include "sb/mod-t.h"
#include "sb/stats.h"
#include "sb/usrloc.h"

struct reg_conf {
    int default_expires;
    int min_expires;
    int max_expires;    /* 0: no limit */
    int default_q;      /* -1: unspecified */
    int max_contacts;   /* 0: no limit */
    char *received_avp; /* "$avp(name)": where nathelper's fix_nated_register leaves the source */
    uint32_t received_avp_id; /* resolved at init; 0: none */
};
extern struct reg_conf sb__reg_conf;

extern sb_stat_t sb__reg_st_accepted, sb__reg_st_rejected;

/* save() flags */
enum {
    REG_SF_NO_REPLY = 1 << 0,
    REG_SF_FORCE_REG = 1 << 1,
    REG_SF_PATH_STRICT = 1 << 2,
    REG_SF_PATH_LAZY = 1 << 3,
    REG_SF_PATH_OFF = 1 << 4,
    REG_SF_PATH_RECEIVED = 1 << 5,
    REG_SF_MEMORY_ONLY = 1 << 6,
};

/* lookup() flags */
enum {
    REG_LF_METHOD_FILTER = 1 << 0,
    REG_LF_NO_BRANCHES = 1 << 1,
    REG_LF_TO_BRANCHES_ONLY = 1 << 2,
};

struct reg_flags {
    uint32_t f;
    int max_contacts; /* -1: modparam */
    int min_expires;
    int max_expires;
};

/* Parse a comma-separated flag list for save (is_save) or lookup. Returns 0, or SB_EPARSE with
 * *bad set to the offending flag. */
int sb__reg_flags_parse(sb_str s, bool is_save, struct reg_flags *out, sb_str *bad);

/* The AOR of <uri_text> ("sip:user@Host:5060;x" -> "user@host", or "user" without use_domain),
 * written into <out> (cap bytes). Returns its length, or < 0 when the URI does not parse. */
long sb__reg_aor(sb_str uri_text, char *out, size_t cap);

sb_res sb__reg_save(struct sb_sctx *ctx, struct sb_ul_domain *d, const struct reg_flags *fl,
                    sb_str aor_uri);
sb_res sb__reg_lookup(struct sb_sctx *ctx, struct sb_ul_domain *d, const struct reg_flags *fl,
                      sb_str aor_uri);

#endif
