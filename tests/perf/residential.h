/* SPDX-License-Identifier: BSD-2-Clause */
/* The residential request route of the script benchmarks (about 30 statements, regular
 * expressions, sub-routes, a switch, a loop) and the stand-ins for the functions that need a
 * running server. Local domain: biloxi.example.com. Over an INVITE from 10.1.2.3 to
 * sip:bob@biloxi.example.com the route sets flags 1 and 2 and exits from route[local] (-2).
 * Install perf_mod with sb__script_extra_module (script/action.h) while the script loads. */
#ifndef SB_TESTS_PERF_RESIDENTIAL_H
#define SB_TESTS_PERF_RESIDENTIAL_H

#include "sb/mod.h"
#include "sb/script.h"

/* Stand-ins for what needs a running server (listeners, transactions); everything else is the
 * real core and sipmsgops functions. */
static sb_res f_is_local_domain(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    return sb_str_eq(a[0].v.s, SB_STR("biloxi.example.com")) ? sb_res_true() : sb_res_false();
}

static sb_res f_true(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx, (void)a;
    return sb_res_true();
}

static const struct sb_mod_fn perf_fns[] = {
    {.name = "is_local_domain",
     .fn = f_is_local_domain,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = SB_ROUTE_ALL},
    {.name = "record_route", .fn = f_true, .routes = SB_ROUTE_ALL},
    {.name = "relay", .fn = f_true, .routes = SB_ROUTE_ALL},
    {.name = NULL},
};

static const struct sb_module perf_mod = {.name = "perf", .fns = perf_fns};

static const char residential[] =
    "loadmodule \"sipmsgops.so\"\n"
    "route {\n"
    "    if ($hdr(Max-Forwards) == NULL || $hdr(Max-Forwards) < 1)\n"
    "        exit;\n"
    "    if ($si == 10.0.0.0/8 || $si == 192.168.0.0/16) setflag(1);\n"
    "    if (has_totag()) {\n"
    "        if (is_method(\"ACK\")) relay();\n"
    "        exit;\n"
    "    }\n"
    "    if (is_method(\"CANCEL\")) { relay(); exit; }\n"
    "    if (is_method(\"REGISTER\")) exit;\n"
    "    if ($ua =~ \"friendly-scanner|sipvicious\") drop;\n"
    "    if (is_local_domain(\"$rd\")) {\n"
    "        $var(callee) = $rU;\n"
    "    } else if (!is_local_domain(\"$fd\")) {\n"
    "        exit;\n"
    "    }\n"
    "    record_route();\n"
    "    switch ($rm) {\n"
    "    case \"INVITE\":\n"
    "        setflag(2);\n"
    "        break;\n"
    "    case \"MESSAGE\":\n"
    "        setflag(3);\n"
    "        break;\n"
    "    default:\n"
    "        setflag(4);\n"
    "    }\n"
    "    if ($rU =~ \"^\\+?[0-9]+$\") route(pstn, $rU);\n"
    "    else route(local);\n"
    "    if ($rc < 0) exit;\n"
    "    relay();\n"
    "    exit;\n"
    "}\n"
    "route[local] {\n"
    "    if ($(rU{s.len}) > 32) return(-1);\n"
    "    $var(n) = 0;\n"
    "    while ($var(n) < 3) $var(n) += 1;\n"
    "    if ([$var(n) & 2] && $cs > 0) return(1);\n"
    "    return(-2);\n"
    "}\n"
    "route[pstn] {\n"
    "    if ($param(1) =~ \"^00\") return(-1);\n"
    "    return(1);\n"
    "}\n";

#endif
