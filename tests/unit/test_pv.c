/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the pseudo-variable engine: syntax and errors, every message variable over an
 * INVITE, a REGISTER and a 200 reply, writes and read-back of the R-URI parts and $du, $var
 * persistence, $avp stacks and indexes, route arguments, flags and the registry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "pv_fixture.h"

/* ---- syntax -------------------------------------------------------------------------------- */

static int get_reply_code(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx,
                          struct sb_val *out)
{
    (void)pv, (void)idx;
    out->type = SB_VAL_INT;
    out->i = ctx->reply ? ctx->reply->status : 0;
    return 0;
}

static const struct sb_pv_def module_pvs[] = {
    {.name = "T_reply_code", .routes = SB_ROUTE_FAILURE, .get = get_reply_code},
    {.name = NULL},
};

/* Registration is process-wide: the first test that needs the module table adds it. */
static void ensure_module_pvs(void)
{
    if (!sb_pv_lookup(SB_STR("T_reply_code")))
        assert_int_equal(sb_pv_register(module_pvs), 0);
    assert_ptr_equal(sb_pv_lookup(SB_STR("T_reply_code")), &module_pvs[0]);
}

static void test_parse_forms(void **state)
{
    (void)state;
    const struct sb_pv *pv = P("$ru");
    assert_string_equal(pv->def->name, "ru");
    assert_int_equal(pv->idx, SB_PV_IDX_NONE);
    assert_int_equal(pv->n_trs, 0);

    pv = P("$hdr(Via)[2]");
    assert_string_equal(pv->def->name, "hdr");
    assert_int_equal(pv->sub.len, 3);
    assert_memory_equal(pv->sub.p, "Via", 3);
    assert_int_equal(pv->idx, 2);
    assert_int_equal(pv->text.len, 12);

    pv = P("$(avp(x)[*])");
    assert_int_equal(pv->idx, SB_PV_IDX_ALL);
    pv = P("$(avp(x)[-1])");
    assert_int_equal(pv->idx, -1);
    pv = P("$(avp(x)[append])");
    assert_int_equal(pv->idx, SB_PV_IDX_APPEND);

    pv = P("$(<reply>hdr(Contact))");
    assert_true(pv->reply_ctx);
    assert_false(pv->request_ctx);
    pv = P("$(<request>ru)");
    assert_true(pv->request_ctx);

    pv = P("$hdr($var(h))");
    assert_non_null(pv->sub_pv);
    assert_string_equal(pv->sub_pv->def->name, "var");
    pv = P("$(avp(x)[$var(i)])");
    assert_non_null(pv->idx_pv);

    pv = P("$ct.fields(uri)");
    assert_string_equal(pv->def->name, "ct.fields");

    pv = P("$(hdr(From){nameaddr.uri}{uri.user}{s.tolower})");
    assert_int_equal(pv->n_trs, 3);
    assert_string_equal(pv->trs[1].def->cls, "uri");
    assert_string_equal(pv->trs[1].def->name, "user");
    pv = P("$(ru{s.substr,1,$var(len)})");
    assert_int_equal(pv->trs[0].n_args, 2);
    assert_int_equal(pv->trs[0].args[0].v.type, SB_VAL_INT);
    assert_int_equal(pv->trs[0].args[0].v.i, 1);
    assert_non_null(pv->trs[0].args[1].pv);

    /* module variables: looked up after the core table */
    ensure_module_pvs();
    P("$T_reply_code");
    assert_int_equal(sb_pv_register(module_pvs), SB_EINVAL);
    /* a name already taken is refused */
    static const struct sb_pv_def dup[] = {{.name = "ru", .get = get_reply_code}, {.name = NULL}};
    assert_int_equal(sb_pv_register(dup), SB_EINVAL);
    static const struct sb_pv_def bad[] = {{.name = "no get"}, {.name = NULL}};
    assert_int_equal(sb_pv_register(bad), SB_EINVAL);
}

/* The parser stops where the variable ends, so that format strings can go on. */
static void test_parse_extent(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int consumed;
    } cases[] = {
        {"$ru.", 3},
        {"$ru rest", 3},
        {"$ru[x]", 3},
        {"$fU@$fd", 3},
        {"$ct.fields(q)x", 13},
        {"$ru.foo", 3},
        {"$hdr(A)[1]b", 10},
        {"$(ru)x", 5},
        {"$var(a)[0]", 7}, /* $var is not indexable: the short form leaves [0] as text */
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        struct sb_pv pv;
        int n = sb_pv_parse(sb_str_cstr(cases[i].text), &pv, &F->script, &F->fx);
        if (n != cases[i].consumed)
            fail_msg("%s: consumed %d, expected %d (%s)", cases[i].text, n, cases[i].consumed,
                     first_diag());
    }
}

static void test_parse_errors(void **state)
{
    (void)state;
    /* columns: the fixup points at column 10 */
    expect_parse_error("$foo", "unknown pseudo-variable $foo", 10);
    expect_parse_error("$foo.bar", "unknown pseudo-variable $foo.bar", 10);
    expect_parse_error("$ru(x)", "pseudo-variable $ru takes no subname", 13);
    expect_parse_error("$hdr", "pseudo-variable $hdr needs a subname", 14);
    expect_parse_error("$hdr()", "empty subname in $hdr()", 14);
    expect_parse_error("$(ru[1])", "pseudo-variable $ru cannot be indexed", 14);
    expect_parse_error("$(avp(x)[abc])", "bad index [abc] of $avp", 19);
    expect_parse_error("$(avp(x)[1)", "missing ']' after the index of $avp", 18);
    expect_parse_error("$(ru{s.nope})", "unknown transformation {s.nope}", 15);
    expect_parse_error("$(ru{nodot})", "bad transformation {nodot}", 15);
    /* the last argument takes the rest of the text ({s.select,0,,} splits on ',') */
    expect_parse_error("$(ru{s.substr,1,2,3})",
                       "argument 2 of {s.substr} must be a number, not "
                       "'2,3'",
                       15);
    expect_parse_error("$(ru{s.tolower,x})", "too many arguments for {s.tolower} (at most 0)", 0);
    expect_parse_error("$(ru{s.substr,1})", "{s.substr} needs at least 2 arguments", 15);
    expect_parse_error("$(ru{s.substr,a,1})", "argument 1 of {s.substr} must be a number", 0);
    expect_parse_error("$(ru{s.len)", "missing '}'", 14);
    expect_parse_error("$(<foo>ru)", "unknown context <foo>", 12);
    expect_parse_error("$(ru", "missing ')' to close $(", 10);
    expect_parse_error("$(ru x)", "unexpected ' ' in $(...)", 14);
    expect_parse_error("$var($ru)", "the subname of $var must be a constant", 15);
    expect_parse_error("$avp($var(x))", "the subname of $avp must be a constant", 15);
    expect_parse_error("$hdr($var(x)y)", "unexpected 'y' in the subname of $hdr", 22);
    expect_parse_error("$hdr($nope)", "unknown pseudo-variable $nope", 15);
    expect_parse_error("$ct.fields(bad)", "unknown Contact field 'bad'", 21);
    expect_parse_error("$(ru{s.len}{uri.nope})", "unknown transformation {uri.nope}", 22);
    expect_parse_error("$", "expected a pseudo-variable name", 11);
    expect_parse_error("$1", "expected a pseudo-variable name", 11);
    expect_parse_error("ru", "expected a pseudo-variable", 10);
    expect_parse_error("$(var(x){ip.matches,10.0.0.0/33})", "bad network '10.0.0.0/33'", 0);
    expect_parse_error("$(var(x){re.subst,/[a/x/})", "bad regular expression", 0);
    expect_parse_error("$(var(x){re.subst,/a{2,1}/x/})", "bad regular expression", 0);
    expect_parse_error("$(var(x){re.subst,/a/b/z})", "unknown flag", 0);
    expect_parse_error("$(var(x){re.subst,abc})", "expected /regex/replacement/flags", 0);
    char longfmt[160] = "$time(";
    memset(longfmt + 6, 'x', 128);
    strcpy(longfmt + 134, ")");
    expect_parse_error(longfmt, "$time() format longer than 127 bytes", 16);
    longfmt[133] = ')';
    longfmt[134] = '\0';
    P(longfmt); /* 127 bytes are fine */
}

/* ---- message variables --------------------------------------------------------------------- */

static void test_request_uri(void **state)
{
    (void)state;
    expect_str("$ru", "sip:bob@biloxi.example.com;transport=tcp");
    expect_str("$rU", "bob");
    expect_str("$rd", "biloxi.example.com");
    expect_int("$rp", 5060); /* no port written: the default */
    expect_str("$rP", "tcp");
    expect_str("$ou", "sip:bob@biloxi.example.com;transport=tcp");
    expect_str("$oU", "bob");
    expect_str("$od", "biloxi.example.com");
    expect_null("$du");
    expect_null("$dd");
    expect_null("$dp");
    expect_null("$dP");
    /* a REGISTER's R-URI has no user; sips and tls default to 5061 */
    F->ctx.msg = &F->reg;
    expect_null("$rU");
    expect_str("$rd", "registrar.example.com");
    expect_str("$rP", "udp");
    assert_int_equal(set_str("$ru", "sips:x@h.example.com"), 0);
    expect_int("$rp", 5061);
    expect_str("$rP", "tls");
    assert_int_equal(set_str("$ru", "sip:x@h.example.com;transport=TLS"), 0);
    expect_int("$rp", 5061);
    assert_int_equal(set_str("$ru", "tel:+15551234"), 0);
    expect_str("$rU", "+15551234");
    expect_null("$rd");
    expect_null("$rp");
}

static void test_from_to(void **state)
{
    (void)state;
    expect_str("$fu", "sip:alice@atlanta.example.com");
    expect_str("$fU", "alice");
    expect_str("$fd", "atlanta.example.com");
    expect_str("$fn", "Alice Liddell");
    expect_str("$ft", "1928301774");
    expect_str("$tu", "sip:bob@biloxi.example.com");
    expect_str("$tU", "bob");
    expect_str("$td", "biloxi.example.com");
    expect_str("$tn", "Bob");
    expect_null("$tt");
    F->ctx.msg = &F->reg;
    expect_null("$fn");
    expect_str("$ft", "reg77");
    expect_str("$tU", "carol");
    F->ctx.msg = &F->rpl;
    expect_str("$tt", "a6c85cf");
}

static void test_message_values(void **state)
{
    (void)state;
    expect_str("$ci", "a84b4c76e66710@pc33.atlanta.example.com");
    expect_int("$cs", 314159);
    expect_str("$rm", "INVITE");
    expect_null("$rs");
    expect_null("$rr");
    expect_str("$cT", "application/sdp");
    expect_int("$cl", 5);
    expect_str("$ua", "Softphone/1.0");
    expect_str("$rb", "v=0\r\n");
    expect_int("$ml", (int32_t)strlen(INVITE));
    struct sb_val v = get("$mb");
    assert_int_equal(v.type, SB_VAL_STR);
    assert_int_equal(v.s.len, strlen(INVITE));
    assert_memory_equal(v.s.p, INVITE, strlen(INVITE));
    expect_str("$ai", "sip:+15551234@atlanta.example.com");
    expect_str("$pu", "sip:alice.pref@atlanta.example.com");
    expect_str("$re", "sip:rpid@atlanta.example.com");
    expect_str("$di", "sip:diverter@example.com");
    expect_str("$path", "<sip:p1.example.com;lr>,<sip:p2.example.com;lr>");
    F->ctx.msg = &F->reg;
    expect_str("$rm", "REGISTER");
    expect_int("$cs", 2);
    expect_int("$cl", 0);
    expect_str("$rb", "");
    expect_null("$ua");
    expect_null("$cT");
    expect_null("$ai");
    expect_null("$re");
    expect_null("$di");
    expect_null("$path");
}

static void test_headers(void **state)
{
    (void)state;
    /* each value of a comma list is a value of its own */
    expect_str("$hdr(Via)", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds");
    expect_str("$hdr(via)[1]", "SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKp1");
    expect_str("$(hdr(Via)[2])",
               "SIP/2.0/UDP relay.example.com;branch=z9hG4bKr2;received=192.0.2.9");
    expect_str("$(hdr(Via)[-1])",
               "SIP/2.0/UDP relay.example.com;branch=z9hG4bKr2;received=192.0.2.9");
    expect_str("$(hdr(Via)[-3])", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds");
    expect_null("$(hdr(Via)[3])");
    expect_null("$(hdr(Via)[-4])");
    expect_str("$(hdr(v)[1])", "SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKp1");
    expect_str("$(hdr(Via)[*])",
               "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds,"
               "SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKp1,"
               "SIP/2.0/UDP relay.example.com;branch=z9hG4bKr2;received=192.0.2.9");
    expect_int("$hdrcnt(Via)", 3);
    /* unknown names match in any case */
    expect_str("$hdr(X-Custom)", "one");
    expect_str("$hdr(X-CUSTOM)[1]", "two");
    expect_str("$(hdr(x-custom)[*])", "one,two");
    expect_int("$hdrcnt(x-Custom)", 2);
    expect_null("$hdr(X-Nope)");
    expect_null("$(hdr(X-Nope)[*])");
    expect_int("$hdrcnt(X-Nope)", 0);
    expect_str("$hdr(Max-Forwards)", "70");
    assert_int_equal(sb_pv_count(&F->ctx, P("$hdr(Via)")), 3);
    assert_int_equal(sb_pv_count(&F->ctx, P("$hdr(X-Nope)")), 0);
    struct sb_val v;
    assert_int_equal(sb_pv_get_at(&F->ctx, P("$hdr(X-Custom)"), 1, &v), 0);
    assert_int_equal(v.type, SB_VAL_STR);
    assert_memory_equal(v.s.p, "two", 3);

    /* header fields by position: the two-value Via field counts once */
    expect_str("$hdr_name", "Via");
    expect_str("$hdr_name[1]", "Via");
    expect_str("$hdr_name[2]", "Max-Forwards");
    expect_str("$hdr_name[15]", "x-custom");
    expect_str("$(hdr_name[-1])", "Content-Length");
    expect_null("$hdr_name[18]");
    assert_int_equal(sb_pv_count(&F->ctx, P("$hdr_name")), 18);

    /* a dynamic name */
    assert_int_equal(set_str("$var(h)", "User-Agent"), 0);
    expect_str("$hdr($var(h))", "Softphone/1.0");
    expect_int("$hdrcnt($var(h))", 1);
    assert_int_equal(set_str("$var(h)", "x-custom"), 0);
    expect_str("$(hdr($var(h))[-1])", "two");
    assert_int_equal(set_null("$var(h)", SB_OP_SET), 0);
    expect_null("$hdr($var(h))");
    assert_int_equal(set_str("$var(h)", ""), 0);
    expect_null("$hdr($var(h))");
}

static void test_contact(void **state)
{
    (void)state;
    expect_str("$ct", "<sip:alice@pc33.atlanta.example.com;transport=udp>;expires=60;q=0.7");
    expect_str("$ct.fields(uri)", "sip:alice@pc33.atlanta.example.com;transport=udp");
    expect_null("$ct.fields(name)");
    expect_str("$ct.fields(q)", "0.7");
    expect_str("$ct.fields(expires)", "60");
    expect_str("$ct.fields(params)", "expires=60;q=0.7");
    F->ctx.msg = &F->reg;
    expect_str("$ct", "<sip:carol@192.0.2.4:5060>;expires=3600");
    expect_str("$(ct[1])", "\"Carol Mobile\" <sip:carol@198.51.100.7>;q=0.5");
    expect_str("$(ct[*])", "<sip:carol@192.0.2.4:5060>;expires=3600,\"Carol Mobile\" "
                           "<sip:carol@198.51.100.7>;q=0.5");
    expect_str("$(ct.fields(name)[1])", "Carol Mobile");
    expect_str("$(ct.fields(q)[-1])", "0.5");
    expect_null("$ct.fields(q)");
    expect_str("$(ct.fields(uri)[-2])", "sip:carol@192.0.2.4:5060");
    expect_null("$(ct.fields(uri)[2])");
    assert_int_equal(sb_pv_count(&F->ctx, P("$ct")), 2);
    F->ctx.msg = &F->rpl;
    expect_str("$ct.fields(uri)", "sip:bob@192.0.2.4");
}

static void test_credentials(void **state)
{
    (void)state;
    F->ctx.msg = &F->reg;
    expect_str("$aU", "carol@example.org");
    expect_str("$au", "carol");
    expect_str("$ad", "example.org");
    expect_str("$ar", "example.com");
    expect_str("$an", "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    F->ctx.msg = &F->req;
    expect_null("$au");
    expect_null("$ad");
    expect_null("$ar");
    expect_null("$an");
}

static void test_reply_and_contexts(void **state)
{
    (void)state;
    F->ctx.msg = &F->rpl;
    expect_int("$rs", 200);
    expect_str("$rr", "OK");
    expect_str("$rm", "INVITE"); /* from CSeq */
    expect_null("$ru");
    expect_null("$rU");
    expect_int("$cs", 314159);
    expect_str("$hdr(Server)", "Phone/2");
    /* the reply seen from the request (failure_route) */
    F->ctx.msg = &F->req;
    F->ctx.reply = &F->rpl;
    expect_null("$rs");
    expect_int("$(<reply>rs)", 200);
    expect_str("$(<reply>hdr(Contact))", "<sip:bob@192.0.2.4>");
    expect_str("$(<reply>tt)", "a6c85cf");
    expect_str("$(<request>ru)", "sip:bob@biloxi.example.com;transport=tcp");
    expect_str("$(<reply>rr{s.tolower})", "ok");
    /* the request seen from the reply (onreply_route) */
    F->ctx.msg = &F->rpl;
    F->ctx.reply = NULL;
    F->ctx.request = &F->req;
    expect_str("$(<request>ru)", "sip:bob@biloxi.example.com;transport=tcp");
    expect_str("$(<request>hdr(User-Agent))", "Softphone/1.0");
    expect_int("$(<reply>rs)", 200);
    F->ctx.request = NULL;
    expect_null("$(<request>ru)");
    /* the message is restored after a context switch */
    assert_ptr_equal(F->ctx.msg, &F->rpl);
    /* a context in an index still evaluates in its own */
    F->ctx.msg = &F->req;
    F->ctx.reply = &F->rpl;
    assert_int_equal(set_int("$var(i)", 0), 0);
    expect_str("$(<reply>hdr(Via)[$var(i)])",
               "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1");
    ensure_module_pvs();
    expect_int("$T_reply_code", 200);
}

static void test_no_message(void **state)
{
    (void)state;
    F->ctx.msg = NULL;
    F->ctx.rs = NULL;
    expect_null("$ru");
    expect_null("$fu");
    expect_null("$hdr(Via)");
    expect_null("$(hdr(Via)[*])");
    expect_null("$ct.fields(uri)");
    expect_null("$hdr_name");
    expect_null("$ci");
    expect_null("$cs");
    expect_null("$mf");
    expect_null("$au");
    assert_int_equal(sb_pv_count(&F->ctx, P("$ct")), 0);
    assert_int_equal(set_str("$ru", "sip:a@b"), SB_EINVAL);
    assert_int_equal(set_int("$mf", 1), SB_EINVAL);
    /* no transport information */
    expect_null("$si");
}

static void test_peer(void **state)
{
    (void)state;
    expect_null("$si");
    expect_null("$sp");
    F->ctx.peer = &F->peer;
    expect_str("$si", "192.0.2.33");
    expect_int("$sp", 5062);
}

/* ---- writes -------------------------------------------------------------------------------- */

static void test_write_ruri(void **state)
{
    (void)state;
    /* one part replaced, the rest of the received R-URI kept as written */
    assert_int_equal(set_str("$rU", "x"), 0);
    expect_str("$ru", "sip:x@biloxi.example.com;transport=tcp");
    expect_str("$ou", "sip:bob@biloxi.example.com;transport=tcp");

    assert_int_equal(set_str("$ru", "sip:carol@chicago.example.com:5070"), 0);
    expect_str("$ru", "sip:carol@chicago.example.com:5070");
    expect_str("$rU", "carol");
    expect_str("$rd", "chicago.example.com");
    expect_int("$rp", 5070);
    expect_str("$oU", "bob");
    assert_int_equal(set_str("$rU", "dave"), 0);
    expect_str("$ru", "sip:dave@chicago.example.com:5070");
    assert_int_equal(set_str("$rd", "new.example.com"), 0);
    expect_str("$ru", "sip:dave@new.example.com:5070");
    assert_int_equal(set_int("$rp", 5080), 0);
    expect_str("$ru", "sip:dave@new.example.com:5080");
    expect_int("$rp", 5080);
    assert_int_equal(set_null("$rp", SB_OP_SET), 0);
    expect_str("$ru", "sip:dave@new.example.com");
    expect_int("$rp", 5060);
    assert_int_equal(set_null("$rU", SB_OP_SET), 0);
    expect_str("$ru", "sip:new.example.com");
    expect_null("$rU");
    assert_int_equal(set_str("$rU", "erin"), 0);
    expect_str("$ru", "sip:erin@new.example.com");
    assert_int_equal(set_str("$rp", "5090"), 0);
    expect_str("$ru", "sip:erin@new.example.com:5090");
    assert_int_equal(set_int("$rU", 1234), 0);
    expect_str("$ru", "sip:1234@new.example.com:5090");

    /* refused writes change nothing */
    assert_int_equal(set_int("$rp", 70000), SB_EINVAL);
    assert_int_equal(set_str("$rp", "50a"), SB_EINVAL);
    assert_int_equal(set_str("$rd", ""), SB_EINVAL);
    assert_int_equal(set_str("$rU", "a@b"), SB_EPARSE);
    assert_int_equal(set_str("$ru", "not a uri"), SB_EPARSE);
    assert_int_equal(set_int("$ru", 5), SB_EINVAL);
    expect_str("$ru", "sip:1234@new.example.com:5090");

    /* password, parameters and headers survive a part write */
    assert_int_equal(set_str("$ru", "sip:bob:pw@h.example.com;lr?X=y"), 0);
    assert_int_equal(set_str("$rU", "al"), 0);
    expect_str("$ru", "sip:al:pw@h.example.com;lr?X=y");
    assert_int_equal(set_int("$rp", 5062), 0);
    expect_str("$ru", "sip:al:pw@h.example.com:5062;lr?X=y");
    assert_int_equal(set_null("$rU", SB_OP_SET), 0);
    expect_str("$ru", "sip:h.example.com:5062;lr?X=y");
    assert_int_equal(set_str("$ru", "sip:u@[2001:db8::1]"), 0);
    assert_int_equal(set_int("$rp", 5070), 0);
    expect_str("$ru", "sip:u@[2001:db8::1]:5070");
    expect_str("$rd", "[2001:db8::1]");
    assert_int_equal(set_str("$rd", "10.0.0.1"), 0);
    expect_str("$ru", "sip:u@10.0.0.1:5070");
    /* a tel URI has a number, no host */
    assert_int_equal(set_str("$ru", "tel:+1555"), 0);
    assert_int_equal(set_str("$rU", "+1666"), 0);
    expect_str("$ru", "tel:+1666");
    assert_int_equal(set_str("$rd", "h"), SB_EINVAL);
    assert_int_equal(set_str("$ru", "urn:service:sos"), 0);
    assert_int_equal(set_str("$rU", "x"), SB_EINVAL);

    /* the new R-URI lives in the message arena: the execution's scratch may go */
    assert_int_equal(set_str("$ru", "sip:keep@k.example.com"), 0);
    sb_arena_reset(&F->scratch);
    expect_str("$rU", "keep");

    /* code that sets new_ruri directly (a module) is seen too: the cache is keyed by address */
    F->rs.new_ruri = SB_STR("sip:zed@z.example.com");
    expect_str("$rU", "zed");
    expect_str("$rd", "z.example.com");
    /* NULL goes back to the received R-URI */
    assert_int_equal(set_null("$ru", SB_OP_SET), 0);
    expect_str("$ru", "sip:bob@biloxi.example.com;transport=tcp");
    /* R-URI writes need a request */
    F->ctx.msg = &F->rpl;
    assert_int_equal(set_str("$rU", "x"), SB_EINVAL);
}

static void test_write_du(void **state)
{
    (void)state;
    assert_int_equal(set_str("$du", "sip:proxy.example.com:5080;transport=tls"), 0);
    expect_str("$du", "sip:proxy.example.com:5080;transport=tls");
    expect_str("$dd", "proxy.example.com");
    expect_int("$dp", 5080);
    expect_str("$dP", "tls");
    assert_non_null(F->rs.dst_uri.p);
    assert_int_equal(set_str("$du", "sip:[2001:db8::5]"), 0);
    expect_str("$dd", "[2001:db8::5]");
    expect_int("$dp", 5060);
    expect_str("$dP", "udp");
    assert_int_equal(set_str("$du", "bad uri"), SB_EPARSE);
    expect_str("$du", "sip:[2001:db8::5]");
    assert_int_equal(set_null("$du", SB_OP_SET), 0);
    expect_null("$du");
    expect_null("$dd");
    assert_int_equal(set_str("$du", "sip:a.example.com"), 0);
    assert_int_equal(set_str("$du", ""), 0);
    expect_null("$du");
    /* the R-URI is independent */
    expect_str("$ru", "sip:bob@biloxi.example.com;transport=tcp");
}

static void test_read_only(void **state)
{
    (void)state;
    static const char *const ro[] = {"$fu", "$rP", "$ou", "$ci", "$hdr(Via)", "$ct",
                                     "$rc", "$si", "$au", "$Ts", "$param(1)", "$dd"};
    for (size_t i = 0; i < SB_ARRAY_LEN(ro); i++)
        if (set_str(ro[i], "x") != SB_EINVAL)
            fail_msg("%s accepted a write", ro[i]);
    /* a transformed variable cannot be written */
    assert_int_equal(set_str("$(var(x){s.len})", "1"), SB_EINVAL);
    assert_int_equal(set_str("$(ru{s.len})", "sip:a@b"), SB_EINVAL);
}

static void test_flags(void **state)
{
    (void)state;
    expect_int("$mf", 0);
    assert_int_equal(set_int("$mf", 5), 0);
    assert_int_equal(F->rs.flags, 5);
    expect_int("$mf", 5);
    struct sb_val four = {.type = SB_VAL_INT, .i = 4};
    assert_int_equal(set_op("$mf", SB_OP_XOR_SET, &four), 0);
    expect_int("$mf", 1);
    assert_int_equal(set_str("$bf", "12"), 0);
    assert_int_equal(F->rs.bflags, 12);
    expect_int("$bf", 12);
    assert_int_equal(set_str("$bf", "x"), SB_EINVAL);
    assert_int_equal(set_null("$bf", SB_OP_SET), 0);
    expect_int("$bf", 0);
}

/* ---- $var ---------------------------------------------------------------------------------- */

static void *other_thread(void *arg)
{
    (void)arg;
    /* per worker: another thread sees nothing of ours and keeps its own */
    struct sb_val v;
    int r = sb_pv_get(&F->ctx, P("$var(a)"), &v);
    long ok = r == 0 && v.type == SB_VAL_NULL;
    ok = ok && set_str("$var(a)", "theirs") == 0;
    ok = ok && sb_pv_get(&F->ctx, P("$var(a)"), &v) == 0 && v.type == SB_VAL_STR && v.s.len == 6;
    sb_pv_worker_exit();
    return (void *)ok;
}

static void test_var(void **state)
{
    (void)state;
    expect_null("$var(a)");
    assert_int_equal(set_str("$var(a)", "hello"), 0);
    expect_str("$var(a)", "hello");
    /* the next message: a new scratch, a new context; the value stays */
    sb_arena_reset(&F->scratch);
    F->ctx.msg = &F->reg;
    expect_str("$var(a)", "hello");
    /* the value is a copy: the source may go */
    char buf[8] = "temp";
    assert_int_equal(set_str("$var(b)", buf), 0);
    memcpy(buf, "XXXX", 4);
    expect_str("$var(b)", "temp");
    /* assigning a variable to itself */
    assert_int_equal(sb_pv_set(&F->ctx, P("$var(b)"), SB_OP_SET, &(struct sb_val){0}), 0);
    expect_null("$var(b)");
    assert_int_equal(set_str("$var(b)", "self"), 0);
    struct sb_val cur = get("$var(b)");
    assert_int_equal(sb_pv_set(&F->ctx, P("$var(b)"), SB_OP_SET, &cur), 0);
    expect_str("$var(b)", "self");
    /* one value per name; an int stays an int */
    assert_int_equal(set_int("$var(a)", 42), 0);
    expect_int("$var(a)", 42);
    assert_int_equal(set_str("$var(a)", ""), 0);
    expect_str("$var(a)", "");
    assert_int_equal(set_null("$var(a)", SB_OP_SET_ALL), 0);
    expect_null("$var(a)");
    /* names are shared between parses, and many fit */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "$var(n%d)", i);
        assert_int_equal(set_int(name, i), 0);
    }
    expect_int("$var(n0)", 0);
    expect_int("$var(n99)", 99);

    pthread_t t;
    void *ok;
    assert_int_equal(set_str("$var(a)", "mine"), 0);
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_true(ok != NULL);
    expect_str("$var(a)", "mine");

    /* the worker exit releases everything; the thread may start again */
    sb_pv_worker_exit();
    expect_null("$var(a)");
    assert_int_equal(set_str("$var(a)", "again"), 0);
    expect_str("$var(a)", "again");
}

static void test_compound(void **state)
{
    (void)state;
    struct sb_val two = {.type = SB_VAL_INT, .i = 2}, zero = {.type = SB_VAL_INT, .i = 0};
    struct sb_val c = {.type = SB_VAL_STR, .s = SB_STR("c")};
    assert_int_equal(set_int("$var(n)", 7), 0);
    assert_int_equal(set_op("$var(n)", SB_OP_ADD_SET, &two), 0);
    expect_int("$var(n)", 9);
    assert_int_equal(set_op("$var(n)", SB_OP_SUB_SET, &two), 0);
    expect_int("$var(n)", 7);
    assert_int_equal(set_op("$var(n)", SB_OP_MUL_SET, &two), 0);
    expect_int("$var(n)", 14);
    assert_int_equal(set_op("$var(n)", SB_OP_DIV_SET, &two), 0);
    expect_int("$var(n)", 7);
    assert_int_equal(set_op("$var(n)", SB_OP_MOD_SET, &two), 0);
    expect_int("$var(n)", 1);
    assert_int_equal(set_op("$var(n)", SB_OP_OR_SET, &two), 0);
    expect_int("$var(n)", 3);
    assert_int_equal(set_op("$var(n)", SB_OP_AND_SET, &two), 0);
    expect_int("$var(n)", 2);
    assert_int_equal(set_op("$var(n)", SB_OP_DIV_SET, &zero), SB_EINVAL);
    assert_int_equal(set_op("$var(n)", SB_OP_MOD_SET, &zero), SB_EINVAL);
    expect_int("$var(n)", 2);
    /* a string that is a number counts as one; '+' with a string operand concatenates */
    assert_int_equal(set_str("$var(n)", "40"), 0);
    assert_int_equal(set_op("$var(n)", SB_OP_SUB_SET, &two), 0);
    expect_int("$var(n)", 38);
    assert_int_equal(set_str("$var(s)", "ab"), 0);
    assert_int_equal(set_op("$var(s)", SB_OP_ADD_SET, &c), 0);
    expect_str("$var(s)", "abc");
    assert_int_equal(set_op("$var(s)", SB_OP_ADD_SET, &two), 0);
    expect_str("$var(s)", "abc2");
    assert_int_equal(set_op("$var(s)", SB_OP_MUL_SET, &two), SB_EINVAL);
    /* an unset variable counts as 0 */
    assert_int_equal(set_op("$var(fresh)", SB_OP_ADD_SET, &two), 0);
    expect_int("$var(fresh)", 2);
    /* wrap-around, as 32-bit script integers do */
    assert_int_equal(set_int("$var(n)", INT32_MAX), 0);
    struct sb_val one = {.type = SB_VAL_INT, .i = 1};
    assert_int_equal(set_op("$var(n)", SB_OP_ADD_SET, &one), 0);
    expect_int("$var(n)", INT32_MIN);
    assert_int_equal(set_op("$var(n)", SB_OP_NOT, &one), SB_EINVAL);
}

/* ---- $avp ---------------------------------------------------------------------------------- */

static void push3(void)
{
    assert_int_equal(set_str("$avp(x)", "a"), 0);
    assert_int_equal(set_str("$avp(x)", "b"), 0);
    assert_int_equal(set_str("$avp(x)", "c"), 0);
}

static void test_avp_stack(void **state)
{
    (void)state;
    expect_null("$avp(x)");
    expect_null("$(avp(x)[*])");
    assert_int_equal(sb_pv_count(&F->ctx, P("$avp(x)")), 0);
    push3();
    /* the last added is on top */
    expect_str("$avp(x)", "c");
    expect_str("$(avp(x)[0])", "c");
    expect_str("$(avp(x)[1])", "b");
    expect_str("$(avp(x)[2])", "a");
    expect_null("$(avp(x)[3])");
    expect_str("$(avp(x)[-1])", "a");
    expect_str("$(avp(x)[-2])", "b");
    expect_str("$(avp(x)[-3])", "c");
    expect_null("$(avp(x)[-4])");
    expect_str("$(avp(x)[*])", "c,b,a");
    assert_int_equal(sb_pv_count(&F->ctx, P("$avp(x)")), 3);
    struct sb_val v;
    assert_int_equal(sb_pv_get_at(&F->ctx, P("$avp(x)"), 2, &v), 0);
    assert_memory_equal(v.s.p, "a", 1);
    assert_int_equal(sb_pv_get_at(&F->ctx, P("$(avp(x){s.toupper})"), 1, &v), 0);
    assert_memory_equal(v.s.p, "B", 1);
    /* a dynamic index */
    assert_int_equal(set_int("$var(i)", 1), 0);
    expect_str("$(avp(x)[$var(i)])", "b");
    assert_int_equal(set_int("$var(i)", -1), 0);
    expect_str("$(avp(x)[$var(i)])", "a");
    assert_int_equal(set_str("$var(i)", "zz"), 0);
    expect_null("$(avp(x)[$var(i)])");
    /* names are independent */
    expect_null("$avp(y)");
    assert_int_equal(set_int("$avp(y)", 5), 0);
    expect_int("$avp(y)", 5);
    expect_str("$(avp(x)[*])", "c,b,a");

    /* = NULL deletes the top one */
    assert_int_equal(set_null("$avp(x)", SB_OP_SET), 0);
    expect_str("$(avp(x)[*])", "b,a");
    /* [append] adds at the bottom */
    assert_int_equal(set_str("$(avp(x)[append])", "z"), 0);
    expect_str("$(avp(x)[*])", "b,a,z");
    expect_str("$(avp(x)[-1])", "z");
    expect_null("$(avp(x)[append])");
    /* an index overwrites */
    assert_int_equal(set_str("$(avp(x)[1])", "A"), 0);
    expect_str("$(avp(x)[*])", "b,A,z");
    assert_int_equal(set_str("$(avp(x)[-1])", "Z"), 0);
    expect_str("$(avp(x)[*])", "b,A,Z");
    assert_int_equal(set_str("$(avp(x)[7])", "no"), SB_ENOENT);
    assert_int_equal(set_str("$(avp(x)[-7])", "no"), SB_ENOENT);
    /* an index with NULL deletes that one */
    assert_int_equal(set_null("$(avp(x)[1])", SB_OP_SET), 0);
    expect_str("$(avp(x)[*])", "b,Z");
    /* := replaces all, with itself too */
    push3();
    expect_str("$(avp(x)[*])", "c,b,a,b,Z");
    struct sb_val top = get("$avp(x)");
    assert_int_equal(sb_pv_set(&F->ctx, P("$avp(x)"), SB_OP_SET_ALL, &top), 0);
    expect_str("$(avp(x)[*])", "c");
    assert_int_equal(sb_pv_count(&F->ctx, P("$avp(x)")), 1);
    /* := NULL deletes all */
    push3();
    assert_int_equal(set_null("$avp(x)", SB_OP_SET_ALL), 0);
    expect_null("$avp(x)");
    assert_int_equal(sb_pv_count(&F->ctx, P("$avp(x)")), 0);
    push3();
    assert_int_equal(set_null("$(avp(x)[*])", SB_OP_SET), 0);
    expect_null("$(avp(x)[*])");
    /* deleting from an empty stack is fine */
    assert_int_equal(set_null("$avp(x)", SB_OP_SET), 0);
    /* compound assignment changes the top instead of pushing */
    assert_int_equal(set_int("$avp(n)", 5), 0);
    struct sb_val one = {.type = SB_VAL_INT, .i = 1};
    assert_int_equal(set_op("$avp(n)", SB_OP_ADD_SET, &one), 0);
    expect_int("$avp(n)", 6);
    assert_int_equal(sb_pv_count(&F->ctx, P("$avp(n)")), 1);
    /* mixed types, and [*] with ints */
    assert_int_equal(set_str("$avp(n)", "s"), 0);
    expect_str("$(avp(n)[*])", "s,6");
    /* no list: reads are NULL, writes refused */
    F->ctx.avps = NULL;
    expect_null("$avp(n)");
    assert_int_equal(set_int("$avp(n)", 1), SB_EINVAL);
}

static void test_avp_api(void **state)
{
    (void)state;
    uint32_t a, b, a2;
    assert_int_equal(sb_avp_id(SB_STR("api_a"), &a), 0);
    assert_int_equal(sb_avp_id(SB_STR("api_b"), &b), 0);
    assert_int_equal(sb_avp_id(SB_STR("api_a"), &a2), 0);
    assert_int_equal(a, a2);
    assert_int_not_equal(a, b);
    assert_int_equal(sb_avp_id(SB_STR(""), &a2), SB_EINVAL);
    sb_str n = sb_avp_name(b);
    assert_int_equal(n.len, 5);
    assert_memory_equal(n.p, "api_b", 5);
    assert_int_equal(sb_avp_name(99999).len, 0);

    struct sb_avps *l = sb_avps_new();
    assert_non_null(l);
    struct sb_val v1 = {.type = SB_VAL_INT, .i = 1}, v2 = {.type = SB_VAL_STR, .s = SB_STR("two")};
    struct sb_val nul = {.type = SB_VAL_NULL}, out;
    assert_int_equal(sb_avps_push(l, a, &v1), 0);
    assert_int_equal(sb_avps_push(l, a, &v2), 0);
    assert_int_equal(sb_avps_push(l, a, &nul), SB_EINVAL);
    assert_int_equal(sb_avps_append(l, b, &v1), 0);
    assert_int_equal(sb_avps_count(l, a), 2);
    assert_int_equal(sb_avps_count(l, b), 1);
    assert_true(sb_avps_get(l, a, 0, &out));
    assert_int_equal(out.type, SB_VAL_STR);
    assert_true(sb_avps_get(l, a, -1, &out));
    assert_int_equal(out.i, 1);
    assert_false(sb_avps_get(l, a, 2, &out));
    assert_int_equal(out.type, SB_VAL_NULL);
    assert_int_equal(sb_avps_replace(l, a, 1, &v2), 0);
    assert_int_equal(sb_avps_replace(l, a, 5, &v2), SB_ENOENT);
    assert_int_equal(sb_avps_del(l, a, 5), SB_ENOENT);
    size_t pos = 0;
    uint32_t id;
    unsigned cnt, seen = 0;
    while (sb_avps_next(l, &pos, &id, &cnt))
        seen += cnt;
    assert_int_equal(seen, 3);
    assert_int_equal(sb_avps_del(l, a, 0), 0);
    sb_avps_del_all(l, b);
    pos = 0;
    assert_true(sb_avps_next(l, &pos, &id, &cnt));
    assert_int_equal(id, a);
    assert_int_equal(cnt, 1);
    assert_false(sb_avps_next(l, &pos, &id, &cnt));
    sb_avps_clear(l);
    assert_int_equal(sb_avps_count(l, a), 0);
    assert_int_equal(sb_avps_push(l, a, &v2), 0);
    sb_avps_free(l);
    sb_avps_free(NULL);
}

/* ---- route arguments, results, facts ------------------------------------------------------- */

static void test_params_returns(void **state)
{
    (void)state;
    F->ctx.n_params = 2;
    F->ctx.params[0] = (struct sb_val){.type = SB_VAL_STR, .s = SB_STR("first")};
    F->ctx.params[1] = (struct sb_val){.type = SB_VAL_INT, .i = 5};
    expect_str("$param(1)", "first");
    expect_int("$param(2)", 5);
    expect_null("$param(3)");
    expect_null("$param(0)");
    assert_int_equal(set_int("$var(k)", 2), 0);
    expect_int("$param($var(k))", 5);
    expect_parse_error("$param(-1)", "negative position '-1'", 17);
    /* event_route parameters by name */
    static const sb_str names[] = {SB_STR("ip"), SB_STR("port")};
    static const struct sb_val vals[] = {{.type = SB_VAL_STR, .s = SB_STR("10.0.0.1")},
                                         {.type = SB_VAL_INT, .i = 5060}};
    F->ctx.event_param_names = names;
    F->ctx.event_params = vals;
    F->ctx.n_event_params = 2;
    expect_str("$param(ip)", "10.0.0.1");
    expect_int("$param(port)", 5060);
    expect_null("$param(nope)");
    assert_int_equal(set_str("$var(k)", "ip"), 0);
    expect_str("$param($var(k))", "10.0.0.1");

    F->ctx.n_returns = 2;
    F->ctx.returns[0] = (struct sb_val){.type = SB_VAL_STR, .s = SB_STR("ok")};
    F->ctx.returns[1] = (struct sb_val){.type = SB_VAL_INT, .i = -3};
    expect_str("$return(0)", "ok");
    expect_int("$return(1)", -3);
    expect_null("$return(2)");
    F->ctx.rc = -2;
    expect_int("$rc", -2);
    expect_int("$retcode", -2);
}

static void test_facts(void **state)
{
    (void)state;
    expect_null("$route");
    F->ctx.route_name = "relay";
    expect_str("$route", "relay");
    F->ctx.cfg_line = 42;
    expect_int("$cfg_line", 42);
    expect_int("$pp", (int32_t)getpid());

    time_t before = time(NULL);
    struct sb_val ts = get("$Ts");
    assert_int_equal(ts.type, SB_VAL_INT);
    assert_true(ts.i >= before && ts.i <= time(NULL));
    struct sb_val start = get("$TS");
    assert_true(start.i > 0 && start.i <= ts.i);
    struct sb_val usec = get("$Tsm");
    assert_true(usec.i >= 0 && usec.i < 1000000);

    char year[8];
    struct tm tm;
    time_t now = time(NULL);
    localtime_r(&now, &tm);
    strftime(year, sizeof(year), "%Y", &tm);
    expect_str("$time(%Y)", year);

    int32_t r[8];
    bool differ = false;
    for (int i = 0; i < 8; i++) {
        struct sb_val v = get("$RANDOM");
        assert_int_equal(v.type, SB_VAL_INT);
        assert_true(v.i >= 0);
        r[i] = v.i;
        differ = differ || r[i] != r[0];
    }
    assert_true(differ);

    setenv("SB_TEST_ENV", "value-1", 1);
    expect_str("$env(SB_TEST_ENV)", "value-1");
    unsetenv("SB_TEST_ENV");
    expect_null("$env(SB_TEST_ENV)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_forms, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_parse_extent, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_request_uri, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_from_to, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_message_values, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_headers, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_contact, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_credentials, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_reply_and_contexts, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_no_message, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_peer, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_write_ruri, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_write_du, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_read_only, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_flags, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_var, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_compound, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_avp_stack, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_avp_api, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_params_returns, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_facts, fix_setup, fix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
