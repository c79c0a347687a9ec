/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_event.c: the event identity of a Stripe body.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pay_event.h"


#define VALID_EVENT                                                           \
    "{\"id\":\"evt_1NG8Du2eZvKYlo2CUI79vXWy\",\"object\":\"event\","          \
    "\"type\":\"invoice.paid\",\"livemode\":true,\"created\":1700000000,"     \
    "\"data\":{\"object\":{\"id\":\"in_1\",\"amount_paid\":2000}}}"


/* helpers */


static pay_rc_e
parse_n(const char *body, size_t len, pay_event_t *ev)
{
    return pay_event_parse_stripe((const unsigned char *) body, len, ev);
}


static pay_rc_e
parse(const char *body, pay_event_t *ev)
{
    return parse_n(body, strlen(body), ev);
}


/* the state a failed parse must leave behind */

static void
assert_cleared(const pay_event_t *ev)
{
    pay_event_t  zero;

    memset(&zero, 0, sizeof(zero));
    zero.livemode = -1;

    assert_int_equal(ev->id_len, 0);
    assert_int_equal(ev->type_len, 0);
    assert_int_equal(ev->livemode, -1);
    assert_memory_equal(ev->id, zero.id, sizeof(zero.id));
    assert_memory_equal(ev->type, zero.type, sizeof(zero.type));
}


static void
assert_malformed_n(const char *body, size_t len)
{
    pay_event_t  ev;

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(parse_n(body, len, &ev), PAY_ERR_BODY_MALFORMED);
    assert_cleared(&ev);
}


static void
assert_malformed(const char *body)
{
    assert_malformed_n(body, strlen(body));
}


/* a body with "id" set to the given JSON value */

static void
assert_id_malformed(const char *id_json)
{
    char  body[1024];

    snprintf(body, sizeof(body), "{\"id\":%s,\"type\":\"invoice.paid\"}",
             id_json);
    assert_malformed(body);
}


/* tests */


static void
test_valid(void **state)
{
    pay_event_t  ev;

    (void) state;

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(parse(VALID_EVENT, &ev), PAY_OK);
    assert_string_equal(ev.id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
    assert_int_equal(ev.id_len, strlen("evt_1NG8Du2eZvKYlo2CUI79vXWy"));
    assert_string_equal(ev.type, "invoice.paid");
    assert_int_equal(ev.type_len, strlen("invoice.paid"));
    assert_int_equal(ev.livemode, 1);

    /* JSON whitespace around the object is fine */
    assert_int_equal(parse(" \n\t{\"type\" : \"a\" ,\r\n \"id\" : \"b\"}\n",
                           &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "b");
    assert_string_equal(ev.type, "a");
    assert_int_equal(ev.livemode, -1);
}


static void
test_missing_id(void **state)
{
    (void) state;

    assert_malformed("{\"type\":\"invoice.paid\"}");
    assert_malformed("{\"ID\":\"evt_1\",\"type\":\"invoice.paid\"}");
    assert_malformed("{\"data\":{\"id\":\"evt_1\"},\"type\":\"invoice.paid\"}");
}


static void
test_missing_type(void **state)
{
    pay_event_t  ev;

    (void) state;

    /* absent: fine, left empty; present: must be a proper value */
    assert_int_equal(parse("{\"id\":\"evt_1\"}", &ev), PAY_OK);
    assert_string_equal(ev.id, "evt_1");
    assert_int_equal(ev.type_len, 0);
    assert_string_equal(ev.type, "");

    assert_malformed("{\"id\":\"evt_1\",\"type\":null}");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"\"}");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"invoice paid\"}");
    assert_malformed("{\"id\":\"evt_1\",\"type\":[\"invoice.paid\"]}");
}


static void
test_id_not_a_string(void **state)
{
    (void) state;

    assert_id_malformed("123");
    assert_id_malformed("1.5");
    assert_id_malformed("null");
    assert_id_malformed("true");
    assert_id_malformed("{}");
    assert_id_malformed("[\"evt_1\"]");
    assert_id_malformed("{\"id\":\"evt_1\"}");
}


static void
test_id_length(void **state)
{
    char         body[1024], id[300];
    pay_event_t  ev;

    (void) state;

    assert_id_malformed("\"\"");

    /* 255 bytes: the maximum */
    memset(id, 'a', 255);
    id[255] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"t\"}", id);
    assert_int_equal(parse(body, &ev), PAY_OK);
    assert_int_equal(ev.id_len, 255);
    assert_int_equal(strlen(ev.id), 255);
    assert_memory_equal(ev.id, id, 256);

    /* 256 bytes */
    memset(id, 'a', 256);
    id[256] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"t\"}", id);
    assert_malformed(body);

    /* the same limits for type */
    id[255] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"e\",\"type\":\"%s\"}", id);
    assert_int_equal(parse(body, &ev), PAY_OK);
    assert_int_equal(ev.type_len, 255);

    id[255] = 'a';
    snprintf(body, sizeof(body), "{\"id\":\"e\",\"type\":\"%s\"}", id);
    assert_malformed(body);

    /* the limit is on the decoded bytes */
    memset(id, 'a', 255);
    memcpy(id, "\\u0061", 6);
    id[255] = '\0';
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"t\"}", id);
    assert_int_equal(parse(body, &ev), PAY_OK);
    assert_int_equal(ev.id_len, 250);

    /* a single byte */
    assert_int_equal(parse("{\"id\":\"!\",\"type\":\"~\"}", &ev), PAY_OK);
    assert_string_equal(ev.id, "!");
    assert_string_equal(ev.type, "~");
}


static void
test_id_bytes(void **state)
{
    (void) state;

    /* escapes that decode to bytes a header must never carry */
    assert_id_malformed("\"evt_1\\r\"");
    assert_id_malformed("\"evt_1\\n\"");
    assert_id_malformed("\"evt_1\\r\\nX-Injected: 1\"");
    assert_id_malformed("\"evt 1\"");
    assert_id_malformed("\" evt_1\"");
    assert_id_malformed("\"evt_1\\t\"");
    assert_id_malformed("\"evt_1\\u0001\"");
    assert_id_malformed("\"evt_1\\u001f\"");
    assert_id_malformed("\"evt_1\\u007f\"");
    assert_id_malformed("\"evt_1\\u0000\"");
    assert_id_malformed("\"evt_\\u00e9\"");
    assert_id_malformed("\"evt_\xc3\xa9\"");

    /* raw control bytes are not even JSON */
    assert_id_malformed("\"evt_1\r\"");
    assert_id_malformed("\"evt_1\n\"");
}


static void
test_id_escapes_allowed(void **state)
{
    pay_event_t  ev;

    (void) state;

    /* escapes of visible ASCII decode to what they stand for */
    assert_int_equal(parse("{\"id\":\"evt\\u005f1\\\"\\\\\\/\","
                           "\"type\":\"t\"}", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "evt_1\"\\/");
    assert_int_equal(ev.id_len, 8);
}


static void
test_duplicate_keys(void **state)
{
    (void) state;

    assert_malformed("{\"id\":\"evt_1\",\"id\":\"evt_2\",\"type\":\"t\"}");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"a\",\"type\":\"b\"}");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"t\",\"livemode\":true,"
                     "\"livemode\":false}");

    /* the same name once decoded, as the app's parser will see it */
    assert_malformed("{\"id\":\"evt_1\",\"\\u0069d\":\"evt_2\"}");
    assert_malformed("{\"\\u0069\\u0064\":\"evt_1\",\"id\":\"evt_2\"}");

    /* whatever the values */
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"t\",\"livemode\":1,"
                     "\"livemode\":null}");
}


static void
test_duplicate_keys_elsewhere(void **state)
{
    pay_event_t  ev;

    (void) state;

    /* names the edge does not read: the app's choice does not matter */
    assert_int_equal(parse("{\"id\":\"evt_1\",\"type\":\"t\","
                           "\"object\":\"event\",\"object\":\"x\"}", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "evt_1");

    /* nested, even an "id" */
    assert_int_equal(parse("{\"id\":\"evt_1\",\"type\":\"t\","
                           "\"data\":{\"a\":1,\"a\":2,"
                           "\"id\":\"in_1\",\"id\":\"in_2\"}}", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "evt_1");
    assert_string_equal(ev.type, "t");
}


static void
test_escaped_names(void **state)
{
    pay_event_t  ev;

    (void) state;

    /* "livemodE" is another name: case matters */
    assert_int_equal(parse("{\"\\u0069d\":\"evt_1\",\"typ\\u0065\":\"t\","
                           "\"livemod\\u0045\":true,"
                           "\"\\u006civemode\":false}", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "evt_1");
    assert_string_equal(ev.type, "t");
    assert_int_equal(ev.livemode, 0);
}


static void
test_trailing_garbage(void **state)
{
    (void) state;

    assert_malformed("{\"id\":\"evt_1\",\"type\":\"t\"}x");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"t\"} {}");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"t\"},");
    assert_malformed("{\"id\":\"evt_1\",\"type\":\"t\"}}");
    assert_malformed_n("{\"id\":\"evt_1\",\"type\":\"t\"}\0",
                       sizeof("{\"id\":\"evt_1\",\"type\":\"t\"}\0") - 1);
}


static void
test_truncated(void **state)
{
    size_t  len, i;

    (void) state;

    len = strlen(VALID_EVENT);

    for (i = 1; i < len; i++) {
        assert_malformed_n(VALID_EVENT, i);
    }
}


static void
test_not_an_object(void **state)
{
    (void) state;

    assert_malformed("[]");
    assert_malformed("[{\"id\":\"evt_1\",\"type\":\"t\"}]");
    assert_malformed("\"evt_1\"");
    assert_malformed("123");
    assert_malformed("null");
    assert_malformed("true");
    assert_malformed("evt_1");
}


static void
test_empty_body(void **state)
{
    pay_event_t  ev;

    (void) state;

    memset(&ev, 0xaa, sizeof(ev));
    assert_int_equal(pay_event_parse_stripe(NULL, 0, &ev),
                     PAY_ERR_BODY_MALFORMED);
    assert_cleared(&ev);

    assert_malformed_n("", 0);
    assert_malformed(" ");
    assert_malformed("\n");
    assert_malformed("{}");
    assert_malformed_n("\0", 1);
}


static void
test_livemode(void **state)
{
    pay_event_t  ev;

    (void) state;

    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\",\"livemode\":true}",
                           &ev),
                     PAY_OK);
    assert_int_equal(ev.livemode, 1);

    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\",\"livemode\":false}",
                           &ev),
                     PAY_OK);
    assert_int_equal(ev.livemode, 0);

    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\"}", &ev), PAY_OK);
    assert_int_equal(ev.livemode, -1);

    /* anything but a boolean leaves it unknown, the event still parses */
    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\","
                           "\"livemode\":\"true\"}", &ev),
                     PAY_OK);
    assert_int_equal(ev.livemode, -1);

    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\",\"livemode\":1}",
                           &ev),
                     PAY_OK);
    assert_int_equal(ev.livemode, -1);

    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\",\"livemode\":null}",
                           &ev),
                     PAY_OK);
    assert_int_equal(ev.livemode, -1);

    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\",\"livemode\":{}}",
                           &ev),
                     PAY_OK);
    assert_int_equal(ev.livemode, -1);
}


static void
test_signed_oddities_elsewhere(void **state)
{
    pay_event_t  ev;

    (void) state;

    /* a NUL escape in an unrelated string does not fail a genuine event */
    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\","
                           "\"data\":{\"description\":\"a\\u0000b\"}}", &ev),
                     PAY_OK);

    /* neither does an integer beyond 64 bits */
    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\","
                           "\"data\":{\"n\":123456789012345678901234567890}}",
                           &ev),
                     PAY_OK);

    /* nor one beyond a double (jansson rejected this one) */
    assert_int_equal(parse("{\"id\":\"e\",\"type\":\"t\","
                           "\"data\":{\"n\":1e400,\"m\":-1e-400}}", &ev),
                     PAY_OK);

    /* but a raw NUL byte is not JSON */
    assert_malformed_n("{\"id\":\"e\",\"type\":\"t\",\0\"x\":1}",
                       sizeof("{\"id\":\"e\",\"type\":\"t\",\0\"x\":1}") - 1);

    /* nor is invalid UTF-8 */
    assert_malformed("{\"id\":\"e\",\"type\":\"t\",\"x\":\"\xff\"}");
}


static void
test_vector_bodies_lack_type(void **state)
{
    pay_event_t  ev;

    (void) state;

    /*
     * PROVIDERS.md S1 and S3 bodies (copied from the SDK tests) have no
     * "type": genuine events all the same, with an empty type.
     */
    assert_int_equal(parse("{\n  \"id\": \"evt_test_webhook\",\n"
                           "  \"object\": \"event\"\n}", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "evt_test_webhook");
    assert_int_equal(ev.type_len, 0);

    assert_int_equal(parse("{\"id\":\"evt_1\",\"object\":\"event\"}", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "evt_1");
    assert_int_equal(ev.livemode, -1);
}


static void
test_deep_nesting(void **state)
{
    char    *body;
    size_t   depth, i;

    (void) state;

    /* deeper than jansson's limit: rejected, not a stack overflow */
    depth = 100000;
    body = malloc(2 * depth + 64);
    assert_non_null(body);

    memcpy(body, "{\"id\":\"e\",\"type\":\"t\",\"x\":", 25);

    for (i = 0; i < depth; i++) {
        body[25 + i] = '[';
    }

    for (i = 0; i < depth; i++) {
        body[25 + depth + i] = ']';
    }

    body[25 + 2 * depth] = '}';

    assert_malformed_n(body, 26 + 2 * depth);

    free(body);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_missing_id),
        cmocka_unit_test(test_missing_type),
        cmocka_unit_test(test_id_not_a_string),
        cmocka_unit_test(test_id_length),
        cmocka_unit_test(test_id_bytes),
        cmocka_unit_test(test_id_escapes_allowed),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_duplicate_keys_elsewhere),
        cmocka_unit_test(test_escaped_names),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_livemode),
        cmocka_unit_test(test_signed_oddities_elsewhere),
        cmocka_unit_test(test_vector_bodies_lack_type),
        cmocka_unit_test(test_deep_nesting),
    };

    return cmocka_run_group_tests_name("pay_event", tests, NULL, NULL);
}
