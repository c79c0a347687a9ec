/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_json.c: the validator and its top-level members.
 * Every input is copied into a heap buffer of its exact size, so that
 * under ASan a read past the end fails the test.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pay_json.h"


#define ID        0
#define TYPE      1
#define LIVEMODE  2
#define NWANTED   3


typedef struct {
    unsigned char      *buf;
    pay_json_member_t   m[NWANTED];
} scan_t;


/* helpers */


/* scans json[0..len) for "id", "type" and "livemode"; see scan_done() */

static int
scan_n(scan_t *s, const char *json, size_t len)
{
    s->buf = NULL;

    if (len != 0) {
        s->buf = malloc(len);
        assert_non_null(s->buf);
        memcpy(s->buf, json, len);
    }

    s->m[ID].name = "id";
    s->m[TYPE].name = "type";
    s->m[LIVEMODE].name = "livemode";

    return pay_json_scan_object(s->buf, len, s->m, NWANTED);
}


static int
scan(scan_t *s, const char *json)
{
    return scan_n(s, json, strlen(json));
}


static void
scan_done(scan_t *s)
{
    free(s->buf);
    s->buf = NULL;
}


static void
assert_absent(const pay_json_member_t *m)
{
    assert_int_equal(m->type, PAY_JSON_ABSENT);
    assert_null(m->value);
    assert_int_equal(m->len, 0);
}


static void
assert_member(const pay_json_member_t *m, pay_json_type_e type,
    const char *value)
{
    assert_int_equal(m->type, type);
    assert_int_equal(m->len, strlen(value));
    assert_memory_equal(m->value, value, m->len);
}


static void
assert_valid_n(const char *json, size_t len)
{
    scan_t  s;

    if (scan_n(&s, json, len) != 0) {
        print_error("rejected: %.*s\n", (int) len, json);
        fail();
    }

    scan_done(&s);
}


static void
assert_valid(const char *json)
{
    assert_valid_n(json, strlen(json));
}


static void
assert_invalid_n(const char *json, size_t len)
{
    scan_t  s;
    size_t  i;

    if (scan_n(&s, json, len) != -1) {
        print_error("accepted: %.*s\n", (int) len, json);
        fail();
    }

    for (i = 0; i < NWANTED; i++) {
        assert_absent(&s.m[i]);
    }

    scan_done(&s);
}


static void
assert_invalid(const char *json)
{
    assert_invalid_n(json, strlen(json));
}


/* for a literal with NUL bytes in it */
#define assert_invalid_lit(json)  assert_invalid_n(json, sizeof(json) - 1)


/* {"a": <value>} */

static void
assert_value_valid(const char *value)
{
    char  json[256];

    snprintf(json, sizeof(json), "{\"a\":%s}", value);
    assert_valid(json);
}


static void
assert_value_invalid(const char *value)
{
    char  json[256];

    snprintf(json, sizeof(json), "{\"a\":%s}", value);
    assert_invalid(json);
}


/* {"a":"<bytes>"} */

static void
assert_string_valid(const char *bytes)
{
    char  json[256];

    snprintf(json, sizeof(json), "{\"a\":\"%s\"}", bytes);
    assert_valid(json);
}


static void
assert_string_invalid(const char *bytes)
{
    char  json[256];

    snprintf(json, sizeof(json), "{\"a\":\"%s\"}", bytes);
    assert_invalid(json);

    /* the same rules for names */
    snprintf(json, sizeof(json), "{\"%s\":1}", bytes);
    assert_invalid(json);
}


/*
 * "{\"a\":" + levels - 1 containers + inner + closers + "}": levels
 * counts the top-level object.
 */

static char *
nested(size_t levels, char open, const char *inner, size_t *len)
{
    char    *json, close;
    size_t   n, i, inner_len;

    close = (open == '[') ? ']' : '}';
    inner_len = strlen(inner);

    json = malloc(2 * 6 * levels + inner_len + 16);
    assert_non_null(json);

    memcpy(json, "{\"a\":", 5);
    n = 5;

    for (i = 1; i < levels; i++) {
        if (open == '[') {
            json[n++] = '[';

        } else if (i + 1 < levels || inner_len != 0) {
            memcpy(json + n, "{\"a\":", 5);
            n += 5;

        } else {
            json[n++] = '{';
        }
    }

    memcpy(json + n, inner, inner_len);
    n += inner_len;

    for (i = 1; i < levels; i++) {
        json[n++] = close;
    }

    json[n++] = '}';
    *len = n;

    return json;
}


static void
assert_ascii(const char *value, const char *expected)
{
    char    dst[64];
    size_t  len;

    len = 12345;

    assert_int_equal(pay_json_string_ascii((const unsigned char *) value,
                                           strlen(value), dst, sizeof(dst),
                                           &len),
                     0);
    assert_int_equal(len, strlen(expected));
    assert_string_equal(dst, expected);
}


static void
assert_not_ascii(const char *value)
{
    char    dst[64];
    size_t  len;

    len = 12345;

    assert_int_equal(pay_json_string_ascii((const unsigned char *) value,
                                           strlen(value), dst, sizeof(dst),
                                           &len),
                     -1);
    assert_int_equal(len, 12345);
}


/* tests: valid documents */


/*
 * Every byte value at every offset of a long string (the scanner looks at
 * eight bytes at a time): valid exactly when the byte stands for itself
 * (0x20..0x7f but '"' and '\\'); alone, anything else is an error.
 */
static void
test_every_byte_at_every_offset(void **state)
{
    int            expect, got;
    char           json[64];
    size_t         k, len;
    unsigned int   b;
    scan_t         s;

    (void) state;

    for (b = 0; b < 256; b++) {
        expect = (b >= 0x20 && b <= 0x7f && b != '"' && b != '\\');

        for (k = 0; k < 24; k++) {
            memcpy(json, "{\"a\":\"", 6);
            memset(json + 6, 'x', 24);
            json[6 + k] = (char) b;
            memcpy(json + 30, "\"}", 2);
            len = 32;

            got = (scan_n(&s, json, len) == 0);
            scan_done(&s);

            if (got != expect) {
                print_error("byte 0x%02x at %zu: %s\n", b, k,
                            got ? "accepted" : "rejected");
                fail();
            }
        }
    }
}


/*
 * A string's end, an escape, UTF-8 or a bad byte at every offset of the
 * eight-byte words the scanner loads, with more bytes that are not plain
 * after it in the same word: only the first of them may count
 */

static void
test_string_ends_at_every_offset(void **state)
{
    int            valid;
    char           json[96];
    size_t         i, k, len, value_len;
    scan_t         s;

    static const struct {
        const char  *tail;      /* after k plain bytes of the id */
        size_t       extra;     /* the id's bytes in tail */
        int          valid;
    } cases[] = {
        { "\",\"type\":\"\\n\xc3\xa9\"}", 0, 1 },
        { "\"}", 0, 1 },
        { "\xc3\xa9\"}", 2, 1 },
        { "\xe2\x82\xac\"\"}", 3, 0 },
        { "\\\"\\\\y\"}", 5, 1 },
        { "\\u00e9\"}", 6, 1 },
        { "\x1f\"}", 0, 0 },
        { "\x80\"}", 0, 0 },
        { "\"\x80}", 0, 0 },
        { "\\q\"}", 0, 0 }
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (k = 0; k < 24; k++) {
            memcpy(json, "{\"id\":\"", 7);
            memset(json + 7, 'x', k);
            len = 7 + k + strlen(cases[i].tail);
            memcpy(json + 7 + k, cases[i].tail, len - 7 - k);
            value_len = k + cases[i].extra;

            valid = (scan_n(&s, json, len) == 0);

            if (valid != cases[i].valid
                || (valid && (s.m[ID].type != PAY_JSON_STRING
                              || s.m[ID].len != value_len
                              || memcmp(s.m[ID].value, json + 7,
                                        value_len) != 0)))
            {
                print_error("case %zu at %zu: %s, id of %zu bytes\n", i, k,
                            valid ? "accepted" : "rejected", s.m[ID].len);
                scan_done(&s);
                fail();
            }

            scan_done(&s);
        }
    }
}


static void
test_valid_objects(void **state)
{
    (void) state;

    assert_valid("{}");
    assert_valid("{\"a\":{}}");
    assert_valid("{\"a\":[]}");
    assert_valid("{\"a\":{\"b\":{\"c\":[1,[2,[3,{}]],{\"d\":null}]}}}");
    assert_valid("{\"a\":[true,false,null,\"x\",-1.5e3,{},[]],\"b\":\"\"}");
    assert_valid("{\"\":\"\"}");
    assert_valid("{\"a\":1,\"b\":2,\"c\":3}");
}


static void
test_valid_whitespace(void **state)
{
    (void) state;

    assert_valid(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n,"
                 " \t\r\n{ \t\r\n} \t\r\n] \t\r\n, \t\r\n\"b\" \t\r\n:"
                 " \t\r\ntrue \t\r\n} \t\r\n");
    assert_valid("{ }");
    assert_valid("{\"a\":[ ]}");
}


static void
test_valid_escapes(void **state)
{
    (void) state;

    assert_string_valid("\\\"\\\\\\/\\b\\f\\n\\r\\t");
    assert_string_valid("\\u0041\\u00e9\\u00E9\\uffff\\uFFFF\\u20ac");
    assert_string_valid("\\u0000");

    /* U+1F600, either case */
    assert_string_valid("\\ud83d\\ude00");
    assert_string_valid("\\uD83D\\uDE00");

    /* the first and last pairs */
    assert_string_valid("\\ud800\\udc00");
    assert_string_valid("\\udbff\\udfff");

    /* DEL is not a control character for JSON */
    assert_string_valid("\x7f");
}


static void
test_valid_utf8(void **state)
{
    (void) state;

    /* both ends of each row of Unicode Table 3-7 */
    assert_string_valid("\xc2\x80" "\xdf\xbf");                 /* 2 bytes */
    assert_string_valid("\xe0\xa0\x80" "\xe0\xbf\xbf");         /* 3 bytes */
    assert_string_valid("\xe1\x80\x80" "\xec\xbf\xbf");
    assert_string_valid("\xed\x80\x80" "\xed\x9f\xbf");
    assert_string_valid("\xee\x80\x80" "\xef\xbf\xbf");
    assert_string_valid("\xf0\x90\x80\x80" "\xf0\xbf\xbf\xbf"); /* 4 bytes */
    assert_string_valid("\xf1\x80\x80\x80" "\xf3\xbf\xbf\xbf");
    assert_string_valid("\xf4\x80\x80\x80" "\xf4\x8f\xbf\xbf");

    assert_string_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");

    /* in names too */
    assert_valid("{\"\xc3\xa9\":1}");
}


static void
test_valid_numbers(void **state)
{
    (void) state;

    assert_value_valid("0");
    assert_value_valid("-0");
    assert_value_valid("7");
    assert_value_valid("-7");
    assert_value_valid("1234567890");
    assert_value_valid("0.5");
    assert_value_valid("-0.0");
    assert_value_valid("3.14159");
    assert_value_valid("1e5");
    assert_value_valid("1E5");
    assert_value_valid("1e+5");
    assert_value_valid("1e-5");
    assert_value_valid("-1.5E-05");
    assert_value_valid("0e0");
    assert_value_valid("[0,-0,1,10,0.1,1e1]");

    /* magnitude is not checked, unlike jansson for the last two */
    assert_value_valid("123456789012345678901234567890");
    assert_value_valid("1e400");
    assert_value_valid("-1e400");
    assert_value_valid("1e-400");
}


static void
test_valid_literals(void **state)
{
    (void) state;

    assert_value_valid("true");
    assert_value_valid("false");
    assert_value_valid("null");
    assert_value_valid("[true,false,null]");
}


/* tests: members */


static void
test_members_found(void **state)
{
    scan_t  s;

    (void) state;

    assert_int_equal(scan(&s, "{\"object\":\"event\",\"id\":\"evt_1\","
                              "\"type\":\"a.b\",\"livemode\":true}"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_STRING, "evt_1");
    assert_member(&s.m[TYPE], PAY_JSON_STRING, "a.b");
    assert_member(&s.m[LIVEMODE], PAY_JSON_TRUE, "true");

    /* the value points into the input */
    assert_ptr_equal(s.m[ID].value, s.buf + 24);
    scan_done(&s);

    /* escapes are not decoded */
    assert_int_equal(scan(&s, "{ \"id\" : \"a\\u0041\\n\" ,"
                              " \"type\" : \"\" }"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_STRING, "a\\u0041\\n");
    assert_member(&s.m[TYPE], PAY_JSON_STRING, "");
    assert_absent(&s.m[LIVEMODE]);
    scan_done(&s);
}


static void
test_members_types(void **state)
{
    scan_t  s;

    (void) state;

    assert_int_equal(scan(&s, "{\"id\":-1.5e3,\"type\":null,"
                              "\"livemode\":false}"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_NUMBER, "-1.5e3");
    assert_member(&s.m[TYPE], PAY_JSON_NULL, "null");
    assert_member(&s.m[LIVEMODE], PAY_JSON_FALSE, "false");
    scan_done(&s);

    /* a container from its opening to its closing bracket */
    assert_int_equal(scan(&s, "{\"id\":{\"a\":[1, {}]} ,\"type\":[ ],"
                              "\"livemode\":0}"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_OBJECT, "{\"a\":[1, {}]}");
    assert_member(&s.m[TYPE], PAY_JSON_ARRAY, "[ ]");
    assert_member(&s.m[LIVEMODE], PAY_JSON_NUMBER, "0");
    scan_done(&s);

    /* a value that ends the object */
    assert_int_equal(scan(&s, "{\"livemode\":12}"), 0);
    assert_member(&s.m[LIVEMODE], PAY_JSON_NUMBER, "12");
    assert_absent(&s.m[ID]);
    assert_absent(&s.m[TYPE]);
    scan_done(&s);
}


static void
test_members_top_level_only(void **state)
{
    scan_t  s;

    (void) state;

    assert_int_equal(scan(&s, "{\"data\":{\"id\":\"in_1\",\"type\":\"x\"},"
                              "\"list\":[{\"id\":\"in_2\"}],"
                              "\"type\":\"t\"}"),
                     0);
    assert_absent(&s.m[ID]);
    assert_member(&s.m[TYPE], PAY_JSON_STRING, "t");
    assert_absent(&s.m[LIVEMODE]);
    scan_done(&s);

    /* after a nested one */
    assert_int_equal(scan(&s, "{\"data\":{\"id\":\"in_1\"},\"id\":\"evt_1\"}"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_STRING, "evt_1");
    scan_done(&s);

    /* a string value that looks like a name */
    assert_int_equal(scan(&s, "{\"a\":\"id\",\"b\":[\"id\",\"type\"]}"), 0);
    assert_absent(&s.m[ID]);
    assert_absent(&s.m[TYPE]);
    scan_done(&s);
}


static void
test_members_escaped_names(void **state)
{
    scan_t  s;

    (void) state;

    /* the app's parser sees "id", "type" and "livemode" */
    assert_int_equal(scan(&s, "{\"\\u0069d\":\"e\",\"\\u0074\\u0079pe\":\"t\","
                              "\"live\\u006Dode\":true}"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_STRING, "e");
    assert_member(&s.m[TYPE], PAY_JSON_STRING, "t");
    assert_member(&s.m[LIVEMODE], PAY_JSON_TRUE, "true");
    scan_done(&s);
}


static void
test_members_names_not_matching(void **state)
{
    char    json[256];
    scan_t  s;

    (void) state;

    /* names are case-sensitive, and compared whole */
    assert_int_equal(scan(&s, "{\"ID\":1,\"Id\":2,\"i\":3,\"idx\":4,"
                              "\"id \":5,\" id\":6,\"types\":7}"),
                     0);
    assert_absent(&s.m[ID]);
    assert_absent(&s.m[TYPE]);
    scan_done(&s);

    /* decoded to something else than ASCII 0x01..0x7f */
    assert_int_equal(scan(&s, "{\"id\\u0000\":1,\"\\u0000id\":2,"
                              "\"id\xc3\xa9\":3,\"id\\u00e9\":4}"),
                     0);
    assert_absent(&s.m[ID]);
    scan_done(&s);

    /* a name longer than PAY_JSON_NAME_MAX, beginning with "id" */
    memset(json, 'x', sizeof(json));
    memcpy(json, "{\"id", 4);
    memcpy(json + 6 + PAY_JSON_NAME_MAX, "\":1}", 5);
    assert_int_equal(scan(&s, json), 0);
    assert_absent(&s.m[ID]);
    scan_done(&s);
}


static void
test_members_long_names(void **state)
{
    char               json[256], name[PAY_JSON_NAME_MAX + 2];
    pay_json_member_t  m[1];

    (void) state;

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    m[0].name = name;

    /* a name of PAY_JSON_NAME_MAX bytes can match, escaped or not */
    name[PAY_JSON_NAME_MAX] = '\0';
    snprintf(json, sizeof(json), "{\"%s\":1}", name);
    assert_int_equal(pay_json_scan_object((unsigned char *) json,
                                          strlen(json), m, 1),
                     0);
    assert_int_equal(m[0].type, PAY_JSON_NUMBER);

    snprintf(json, sizeof(json), "{\"\\u006e%s\":1}", name + 1);
    assert_int_equal(pay_json_scan_object((unsigned char *) json,
                                          strlen(json), m, 1),
                     0);
    assert_int_equal(m[0].type, PAY_JSON_NUMBER);

    /* a longer one never does */
    name[PAY_JSON_NAME_MAX] = 'n';
    snprintf(json, sizeof(json), "{\"%s\":1}", name);
    assert_int_equal(pay_json_scan_object((unsigned char *) json,
                                          strlen(json), m, 1),
                     0);
    assert_int_equal(m[0].type, PAY_JSON_ABSENT);
}


static void
test_members_absent(void **state)
{
    scan_t  s;
    size_t  i;

    (void) state;

    assert_int_equal(scan(&s, "{}"), 0);

    for (i = 0; i < NWANTED; i++) {
        assert_absent(&s.m[i]);
    }

    scan_done(&s);

    /* no wanted member at all */
    assert_int_equal(pay_json_scan_object((const unsigned char *) "{}", 2,
                                          NULL, 0),
                     0);
}


static void
test_members_cleared_on_failure(void **state)
{
    scan_t  s;
    size_t  i;

    (void) state;

    /* members found before the error are not reported */
    assert_int_equal(scan(&s, "{\"id\":\"e\",\"type\":\"t\",\"livemode\":true,"
                              "\"x\":tru}"),
                     -1);

    for (i = 0; i < NWANTED; i++) {
        assert_absent(&s.m[i]);
    }

    scan_done(&s);
}


/* tests: duplicates */


static void
test_duplicate_wanted_rejected(void **state)
{
    (void) state;

    assert_invalid("{\"id\":\"a\",\"id\":\"b\"}");
    assert_invalid("{\"id\":\"a\",\"id\":\"a\"}");
    assert_invalid("{\"type\":\"a\",\"x\":1,\"type\":\"b\"}");
    assert_invalid("{\"livemode\":true,\"livemode\":false}");

    /* whatever the types */
    assert_invalid("{\"id\":{},\"id\":[]}");
    assert_invalid("{\"id\":null,\"id\":\"a\"}");

    /* the same name once decoded */
    assert_invalid("{\"id\":\"a\",\"\\u0069d\":\"b\"}");
    assert_invalid("{\"\\u0069\\u0064\":\"a\",\"i\\u0064\":\"b\"}");
}


static void
test_duplicate_others_accepted(void **state)
{
    scan_t  s;

    (void) state;

    /* names the caller did not ask for */
    assert_valid("{\"a\":1,\"a\":2}");
    assert_valid("{\"id\":\"e\",\"object\":\"event\",\"object\":\"x\"}");

    /* nested, wanted names included */
    assert_int_equal(scan(&s, "{\"id\":\"e\",\"data\":{\"id\":1,\"id\":2,"
                              "\"a\":[{\"type\":1,\"type\":2}]}}"),
                     0);
    assert_member(&s.m[ID], PAY_JSON_STRING, "e");
    assert_absent(&s.m[TYPE]);
    scan_done(&s);
}


/* tests: invalid documents */


static void
test_not_an_object(void **state)
{
    (void) state;

    assert_int_equal(pay_json_scan_object(NULL, 0, NULL, 0), -1);
    assert_invalid_n("", 0);
    assert_invalid(" ");
    assert_invalid(" \t\r\n");
    assert_invalid("[]");
    assert_invalid("[{}]");
    assert_invalid("\"a\"");
    assert_invalid("1");
    assert_invalid("true");
    assert_invalid("null");
    assert_invalid("}");
    assert_invalid("{");
}


static void
test_trailing_bytes(void **state)
{
    (void) state;

    assert_invalid("{}x");
    assert_invalid("{} {}");
    assert_invalid("{}}");
    assert_invalid("{},");
    assert_invalid("{} \n 1");
    assert_invalid_lit("{}\0");
    assert_invalid_lit("{} \0");
}


static void
test_invalid_whitespace(void **state)
{
    (void) state;

    assert_invalid("\f{}");
    assert_invalid("{\v}");
    assert_invalid("{\"a\":\xc2\xa0" "1}");
    assert_invalid_lit("{\0}");
    assert_invalid_lit("{\"a\":\0" "1}");

    /* jansson drops a NUL it read past the end of a number or a literal */
    assert_invalid_lit("{\"a\":1\0}");
    assert_invalid_lit("{\"a\":true\0}");
}


static void
test_invalid_structure(void **state)
{
    (void) state;

    assert_invalid("{\"a\"}");
    assert_invalid("{\"a\" 1}");
    assert_invalid("{\"a\"::1}");
    assert_invalid("{\"a\":}");
    assert_invalid("{\"a\":1 \"b\":2}");
    assert_invalid("{\"a\":1,}");
    assert_invalid("{,\"a\":1}");
    assert_invalid("{,}");
    assert_invalid("{a:1}");
    assert_invalid("{1:1}");
    assert_invalid("{'a':1}");
    assert_invalid("{null:1}");
    assert_invalid("{\"a\":[1,]}");
    assert_invalid("{\"a\":[,1]}");
    assert_invalid("{\"a\":[1 2]}");
    assert_invalid("{\"a\":[\"b\":1]}");
    assert_invalid("{\"a\":[}");
    assert_invalid("{\"a\":{]}");
    assert_invalid("{\"a\":[1}]");
    assert_invalid("{\"a\":{\"b\":1]}");
    assert_invalid("{\"a\":[[]}");
    assert_invalid("{\"a\":{}");
    assert_invalid("{\"a\":1]");
}


static void
test_invalid_control_bytes(void **state)
{
    char  bytes[2];
    int   c;

    (void) state;

    bytes[1] = '\0';

    for (c = 0x01; c < 0x20; c++) {
        bytes[0] = (char) c;
        assert_string_invalid(bytes);
    }

    assert_invalid_lit("{\"a\":\"\0\"}");
    assert_invalid_lit("{\"\0\":1}");
}


static void
test_invalid_escapes(void **state)
{
    (void) state;

    assert_string_invalid("\\a");
    assert_string_invalid("\\x41");
    assert_string_invalid("\\'");
    assert_string_invalid("\\0");
    assert_string_invalid("\\U0041");
    assert_string_invalid("\\ ");
    assert_string_invalid("\\\xc3\xa9");

    /* exactly 4 hex digits */
    assert_string_invalid("\\u");
    assert_string_invalid("\\u4");
    assert_string_invalid("\\u41");
    assert_string_invalid("\\u041");
    assert_string_invalid("\\u004g");
    assert_string_invalid("\\u-041");
    assert_string_invalid("\\u 041");

    /* the escape runs into the closing quote or the end of input */
    assert_invalid("{\"a\":\"\\\"}");
    assert_invalid("{\"a\":\"\\");
    assert_invalid("{\"a\":\"\\u00");
}


static void
test_invalid_surrogates(void **state)
{
    (void) state;

    /* a lone high surrogate */
    assert_string_invalid("\\ud800");
    assert_string_invalid("\\udbff");
    assert_string_invalid("\\ud83dx");
    assert_string_invalid("\\ud83d\\n");
    assert_string_invalid("\\ud83d\\u0041");
    assert_string_invalid("\\ud83d\\ud83d");
    assert_string_invalid("\\ud83d\\ude0");
    assert_string_invalid("\\ud83d\\Ude00");
    assert_string_invalid("\\ud83dzzde00");
    assert_string_invalid("\\ud83d\\");

    /* a lone low surrogate, or a pair the wrong way round */
    assert_string_invalid("\\udc00");
    assert_string_invalid("\\udfff");
    assert_string_invalid("\\ude00\\ud83d");
    assert_string_invalid("\\udc00\\udc00");
    assert_string_invalid("\\ude00\\ude00");

    /* surrogates split by a raw character */
    assert_string_invalid("\\ud83d\xc3\xa9\\ude00");
}


static void
test_invalid_utf8(void **state)
{
    (void) state;

    /* bytes that never start a character */
    assert_string_invalid("\x80");
    assert_string_invalid("\xbf");
    assert_string_invalid("a\x80" "b");
    assert_string_invalid("\xc3\xa9\xa9");
    assert_string_invalid("\xf5\x80\x80\x80");
    assert_string_invalid("\xf8\x88\x80\x80\x80");
    assert_string_invalid("\xfe");
    assert_string_invalid("\xff");

    /* overlong forms */
    assert_string_invalid("\xc0\x80");
    assert_string_invalid("\xc1\xbf");
    assert_string_invalid("\xe0\x80\x80");
    assert_string_invalid("\xe0\x9f\xbf");
    assert_string_invalid("\xf0\x80\x80\x80");
    assert_string_invalid("\xf0\x8f\xbf\xbf");

    /* encoded surrogates */
    assert_string_invalid("\xed\xa0\x80");
    assert_string_invalid("\xed\xbf\xbf");
    assert_string_invalid("\xed\xa0\xbd\xed\xb8\x80");

    /* beyond U+10FFFF */
    assert_string_invalid("\xf4\x90\x80\x80");
    assert_string_invalid("\xf4\xbf\xbf\xbf");

    /* bad continuation bytes */
    assert_string_invalid("\xc3" "a");
    assert_string_invalid("\xc3\xc3\xa9");
    assert_string_invalid("\xe2\x82" "a");
    assert_string_invalid("\xe2\x28\xa1");
    assert_string_invalid("\xf0\x9f\x98" "a");
    assert_string_invalid("\xf0\x9f\x28\x80");

    /* truncated by the closing quote, or by the end of the input */
    assert_string_invalid("\xc3");
    assert_string_invalid("\xe2\x82");
    assert_string_invalid("\xf0\x9f\x98");
    assert_invalid("{\"a\":\"\xc3");
    assert_invalid("{\"a\":\"\xe2\x82");
    assert_invalid("{\"a\":\"\xf0\x9f\x98");

    /* raw non-ASCII outside strings */
    assert_invalid("{\"a\":\xc3\xa9}");
}


static void
test_invalid_numbers(void **state)
{
    (void) state;

    assert_value_invalid("01");
    assert_value_invalid("-01");
    assert_value_invalid("00");
    assert_value_invalid("1.");
    assert_value_invalid("1.e5");
    assert_value_invalid(".5");
    assert_value_invalid("-.5");
    assert_value_invalid("+1");
    assert_value_invalid("-");
    assert_value_invalid("--1");
    assert_value_invalid("1e");
    assert_value_invalid("1e+");
    assert_value_invalid("1e-");
    assert_value_invalid("1ee5");
    assert_value_invalid("1e5.5");
    assert_value_invalid("1.5.3");
    assert_value_invalid("0x10");
    assert_value_invalid("1 2");
    assert_value_invalid("Infinity");
    assert_value_invalid("-Infinity");
    assert_value_invalid("NaN");
    assert_value_invalid("1a");

    /* cut by the end of the input */
    assert_invalid("{\"a\":-");
    assert_invalid("{\"a\":1.");
    assert_invalid("{\"a\":1e");
    assert_invalid("{\"a\":1");
}


static void
test_invalid_literals(void **state)
{
    (void) state;

    assert_value_invalid("tru");
    assert_value_invalid("truee");
    assert_value_invalid("True");
    assert_value_invalid("TRUE");
    assert_value_invalid("fals");
    assert_value_invalid("falsey");
    assert_value_invalid("nul");
    assert_value_invalid("nulll");
    assert_value_invalid("undefined");
    assert_value_invalid("true1");

    assert_invalid("{\"a\":t");
    assert_invalid("{\"a\":fals");
}


static void
test_depth(void **state)
{
    char    *json;
    size_t   len;

    (void) state;

    /* 2048 levels, the top-level object included */
    json = nested(PAY_JSON_MAX_DEPTH, '[', "", &len);
    assert_valid_n(json, len);
    free(json);

    json = nested(PAY_JSON_MAX_DEPTH, '{', "", &len);
    assert_valid_n(json, len);
    free(json);

    json = nested(PAY_JSON_MAX_DEPTH + 1, '[', "", &len);
    assert_invalid_n(json, len);
    free(json);

    json = nested(PAY_JSON_MAX_DEPTH + 1, '{', "", &len);
    assert_invalid_n(json, len);
    free(json);

    /* a scalar counts as a level, as with jansson */
    json = nested(PAY_JSON_MAX_DEPTH - 1, '[', "1", &len);
    assert_valid_n(json, len);
    free(json);

    json = nested(PAY_JSON_MAX_DEPTH, '[', "1", &len);
    assert_invalid_n(json, len);
    free(json);

    json = nested(PAY_JSON_MAX_DEPTH, '{', "1", &len);
    assert_invalid_n(json, len);
    free(json);

    /* far deeper: rejected without recursion */
    json = nested(200000, '[', "", &len);
    assert_invalid_n(json, len);
    free(json);
}


static void
test_depth_mixed(void **state)
{
    char    *json, *closers;
    size_t   i, n, c, levels;

    (void) state;

    /*
     * Objects and arrays in a pattern that does not follow the bytes of
     * the level stack, at every depth up to the limit: each closing
     * bracket must match its own opening one.
     */

    levels = PAY_JSON_MAX_DEPTH - 1;
    json = malloc(7 * levels + 16);
    closers = malloc(levels);
    assert_non_null(json);
    assert_non_null(closers);

    memcpy(json, "{\"a\":", 5);
    n = 5;
    c = 0;

    for (i = 1; i < levels; i++) {
        if (i % 3 == 0) {
            memcpy(json + n, "{\"a\":", 5);
            n += 5;
            closers[c++] = '}';

        } else {
            json[n++] = '[';
            closers[c++] = ']';
        }
    }

    json[n++] = '0';

    while (c > 0) {
        json[n++] = closers[--c];
    }

    json[n++] = '}';

    assert_valid_n(json, n);

    /* the closer of level 1000 (an array) and of level 999 (an object) */
    i = n - 1 - (levels - 1000) - 1;
    assert_int_equal(json[i], ']');
    assert_int_equal(json[i + 1], '}');

    json[i] = '}';
    assert_invalid_n(json, n);

    json[i] = ']';
    json[i + 1] = ']';
    assert_invalid_n(json, n);

    free(closers);
    free(json);

    assert_valid("{\"a\":[{\"b\":[{}]},{\"c\":[[],{}]}],\"d\":{\"e\":[]}}");
}


static void
test_truncated(void **state)
{
    size_t       i, len;
    const char  *json;

    (void) state;

    json = "{\"id\":\"e\\u0041\\ud83d\\ude00\xf0\x9f\x98\x80\","
           "\"a\":[1.5e-3,true,false,null,{\"b\":{}}],\"c\":-0}";
    len = strlen(json);

    assert_valid_n(json, len);

    for (i = 0; i < len; i++) {
        assert_invalid_n(json, i);
    }
}


/* tests: pay_json_string_ascii() */


static void
test_ascii_plain(void **state)
{
    (void) state;

    assert_ascii("", "");
    assert_ascii("evt_1", "evt_1");
    assert_ascii("\x7f", "\x7f");
}


static void
test_ascii_escapes(void **state)
{
    (void) state;

    assert_ascii("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t");
    assert_ascii("\\u0041\\u007a\\u007F\\u0001", "Az\x7f\x01");
    assert_ascii("a\\u0062c", "abc");
}


static void
test_ascii_rejected(void **state)
{
    (void) state;

    assert_not_ascii("\\u0000");
    assert_not_ascii("a\\u0000b");
    assert_not_ascii("\\u0080");
    assert_not_ascii("\\u00e9");
    assert_not_ascii("\\ud83d\\ude00");
    assert_not_ascii("caf\xc3\xa9");
    assert_not_ascii("\x80");
    assert_not_ascii("\xff");

    /* not the inside of a valid JSON string */
    assert_not_ascii("\\");
    assert_not_ascii("\\x");
    assert_not_ascii("\\u004");
    assert_not_ascii("\\u004g");
    assert_not_ascii("a\"b");
    assert_not_ascii("a\nb");
}


static void
test_ascii_size(void **state)
{
    char    dst[8];
    size_t  len;

    (void) state;

    /* 7 bytes and the NUL fit, 8 do not */
    memset(dst, 'x', sizeof(dst));
    assert_int_equal(pay_json_string_ascii((const unsigned char *) "1234567",
                                           7, dst, 8, &len),
                     0);
    assert_int_equal(len, 7);
    assert_string_equal(dst, "1234567");

    assert_int_equal(pay_json_string_ascii((const unsigned char *) "12345678",
                                           8, dst, 8, &len),
                     -1);

    /* decoded, not raw, bytes count */
    assert_int_equal(pay_json_string_ascii((const unsigned char *)
                                           "\\u0031\\u0032\\u0033\\u0034"
                                           "\\u0035\\u0036\\u0037", 42,
                                           dst, 8, &len),
                     0);
    assert_int_equal(len, 7);
    assert_string_equal(dst, "1234567");

    /* no room even for the NUL */
    assert_int_equal(pay_json_string_ascii((const unsigned char *) "", 0,
                                           dst, 0, &len),
                     -1);
    assert_int_equal(pay_json_string_ascii((const unsigned char *) "", 0,
                                           dst, 1, &len),
                     0);
    assert_int_equal(len, 0);
    assert_string_equal(dst, "");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid_objects),
        cmocka_unit_test(test_valid_whitespace),
        cmocka_unit_test(test_valid_escapes),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_valid_numbers),
        cmocka_unit_test(test_valid_literals),
        cmocka_unit_test(test_members_found),
        cmocka_unit_test(test_members_types),
        cmocka_unit_test(test_members_top_level_only),
        cmocka_unit_test(test_members_escaped_names),
        cmocka_unit_test(test_members_names_not_matching),
        cmocka_unit_test(test_members_long_names),
        cmocka_unit_test(test_members_absent),
        cmocka_unit_test(test_members_cleared_on_failure),
        cmocka_unit_test(test_duplicate_wanted_rejected),
        cmocka_unit_test(test_duplicate_others_accepted),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_invalid_whitespace),
        cmocka_unit_test(test_invalid_structure),
        cmocka_unit_test(test_invalid_control_bytes),
        cmocka_unit_test(test_every_byte_at_every_offset),
        cmocka_unit_test(test_string_ends_at_every_offset),
        cmocka_unit_test(test_invalid_escapes),
        cmocka_unit_test(test_invalid_surrogates),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_invalid_numbers),
        cmocka_unit_test(test_invalid_literals),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_depth_mixed),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_ascii_plain),
        cmocka_unit_test(test_ascii_escapes),
        cmocka_unit_test(test_ascii_rejected),
        cmocka_unit_test(test_ascii_size),
    };

    return cmocka_run_group_tests_name("pay_json", tests, NULL, NULL);
}
