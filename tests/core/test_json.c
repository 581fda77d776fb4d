#include "mk_test.h"
#include "modemkit/json.h"

static struct mk_json_tok toks[64];

static enum mk_err parse(struct mk_json *d, const char *s)
{
    return mk_json_parse(d, s, strlen(s), toks, sizeof toks / sizeof toks[0]);
}

MK_TEST(manifest_like_document)
{
    struct mk_json d;
    const char *s = "{ \"model\": \"SIM7600SA\", \"source\": \"LE11B01SIM7600M21-A\",\n"
                    "  \"size\": 109285, \"post\": [\"hard-power-cycle\"], \"signed\": true,\n"
                    "  \"nested\": {\"a\": [1, 2, {\"b\": null}]}, \"rate\": -2.5e1 }";
    MK_CHECK_EQ_INT(parse(&d, s), MK_OK);
    char buf[64];
    int v = mk_json_get(&d, 0, "source");
    MK_CHECK_EQ_INT(mk_json_str(&d, v, buf, sizeof buf), MK_OK);
    MK_CHECK_EQ_STR(buf, "LE11B01SIM7600M21-A");
    int64_t n;
    MK_CHECK_EQ_INT(mk_json_int(&d, mk_json_get(&d, 0, "size"), &n), MK_OK);
    MK_CHECK_EQ_INT(n, 109285);
    int post = mk_json_get(&d, 0, "post");
    MK_CHECK(mk_json_streq(&d, mk_json_at(&d, post, 0), "hard-power-cycle"));
    MK_CHECK_EQ_INT(mk_json_at(&d, post, 1), -1);
    bool b;
    MK_CHECK_EQ_INT(mk_json_bool(&d, mk_json_get(&d, 0, "signed"), &b), MK_OK);
    MK_CHECK(b);
    /* lookups skip over nested containers correctly */
    double r;
    MK_CHECK_EQ_INT(mk_json_num(&d, mk_json_get(&d, 0, "rate"), &r), MK_OK);
    MK_CHECK(r == -25.0);
    int nested = mk_json_get(&d, 0, "nested");
    int a = mk_json_get(&d, nested, "a");
    int third = mk_json_at(&d, a, 2);
    MK_CHECK_EQ_INT(d.toks[mk_json_get(&d, third, "b")].type, MK_JSON_NULL);
    MK_CHECK_EQ_INT(mk_json_get(&d, 0, "missing"), -1);
    MK_CHECK_EQ_INT(mk_json_int(&d, mk_json_get(&d, 0, "rate"), &n), MK_E_FORMAT);
}

MK_TEST(escapes_and_unicode)
{
    struct mk_json d;
    char buf[32];
    MK_CHECK_EQ_INT(parse(&d, "\"a\\n\\\"b\\u00e9\\ud83d\\ude00\""), MK_OK);
    MK_CHECK_EQ_INT(mk_json_str(&d, 0, buf, sizeof buf), MK_OK);
    MK_CHECK_EQ_STR(buf, "a\n\"b\xc3\xa9\xf0\x9f\x98\x80");
    MK_CHECK(mk_json_streq(&d, 0, "a\n\"b\xc3\xa9\xf0\x9f\x98\x80"));
    MK_CHECK(!mk_json_streq(&d, 0, "a\n\"b"));
    MK_CHECK_EQ_INT(mk_json_str(&d, 0, buf, 4), MK_E_NOSPC);
}

MK_TEST(rejects_malformed)
{
    static const char *bad[] = {
        "", "{", "}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]", "01", "1.", "-", "1e",
        "\"abc", "\"a\\x\"", "\"\\u12G4\"", "tru", "nul", "{\"a\":1} x", "\"a\x01\"", "{1:2}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    struct mk_json d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum mk_err e = parse(&d, bad[i]);
        if (e == MK_OK)
            MK_FAIL_AT(__FILE__, __LINE__, "accepted malformed input #%zu: %s", i, bad[i]);
    }
}

MK_TEST(token_budget)
{
    struct mk_json d;
    MK_CHECK_EQ_INT(mk_json_parse(&d, "[1,2,3]", 7, toks, 3), MK_E_NOSPC);
    MK_CHECK_EQ_INT(mk_json_parse(&d, "[1,2,3]", 7, toks, 4), MK_OK);
    MK_CHECK_EQ_INT(d.toks[0].count, 3);
}

MK_TEST_MAIN()
