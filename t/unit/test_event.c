/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_event.c: the event identity and kind of a Stripe,
 * Square, PayPal or Standard Webhooks body (vectors read from
 * $PAY_VECTORS, default t/vectors, relative to the directory the test
 * runs in; t/vectors/README.md).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit_vector.h"

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
    assert_null(ev->kind);
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
    assert_string_equal(ev.kind, "invoice.paid");

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
     * The Stripe vectors S1 (from stripe-node's tests) and S3 have no
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


/* the kind of a Stripe event */


static void
test_stripe_kind(void **state)
{
    pay_event_t  ev;

    (void) state;

    assert_int_equal(parse("{\"id\":\"evt_1\",\"type\":\"charge.refunded\"}",
                           &ev),
                     PAY_OK);
    assert_string_equal(ev.kind, "payment.refunded");

    assert_int_equal(parse("{\"id\":\"evt_1\",\"type\":\"customer.created\"}",
                           &ev),
                     PAY_OK);
    assert_string_equal(ev.kind, "other");

    /* no type: still a kind */
    assert_int_equal(parse("{\"id\":\"evt_1\"}", &ev), PAY_OK);
    assert_non_null(ev.kind);
    assert_string_equal(ev.kind, "other");

    /* the type as decoded */
    assert_int_equal(parse("{\"id\":\"evt_1\",\"type\":\"invoice.pai\\u0064\"}",
                           &ev),
                     PAY_OK);
    assert_string_equal(ev.kind, "invoice.paid");
}


/* the field rule */


static void
test_field_check(void **state)
{
    char  s[300];
    int   c;

    (void) state;

    assert_int_equal(pay_event_field_check("a", 1), 0);
    assert_int_equal(pay_event_field_check("!~", 2), 0);
    assert_int_equal(pay_event_field_check(NULL, 0), -1);
    assert_int_equal(pay_event_field_check(NULL, 1), -1);
    assert_int_equal(pay_event_field_check("", 0), -1);
    assert_int_equal(pay_event_field_check("a\0", 2), -1);

    for (c = 0; c < 256; c++) {
        s[0] = (char) c;
        assert_int_equal(pay_event_field_check(s, 1),
                         (c >= 0x21 && c <= 0x7e) ? 0 : -1);
    }

    memset(s, 'x', sizeof(s));
    assert_int_equal(pay_event_field_check(s, 255), 0);
    assert_int_equal(pay_event_field_check(s, 256), -1);
}


/* Square */


#define SQUARE_PAYMENT(type, status)                                          \
    "{\"merchant_id\":\"ML82H4QPKMGXY\",\"type\":\"" type "\","               \
    "\"event_id\":\"6a8f5f28-54a1-4eb0-a98a-3111513fd4fc\","                  \
    "\"created_at\":\"2024-05-20T14:25:28.000Z\","                            \
    "\"data\":{\"type\":\"payment\","                                         \
    "\"id\":\"KkAkhdMsgzn59SM8A89WgKwekxLZY\","                               \
    "\"object\":{\"payment\":{\"id\":\"KkAkhdMsgzn59SM8A89WgKwekxLZY\","      \
    "\"amount_money\":{\"amount\":200,\"currency\":\"USD\"},"                 \
    "\"status\":" status ",\"source_type\":\"CARD\","                         \
    "\"card_details\":{\"status\":\"CAPTURED\"},"                             \
    "\"order_id\":\"CAISENgvhpdP05f1DWG9H8yMn4kZY\"}}}}"


static pay_rc_e
parse_square(const char *body, pay_event_t *ev)
{
    return pay_event_parse_square((const unsigned char *) body, strlen(body),
                                  ev);
}


static void
assert_square_kind(const char *body, const char *kind)
{
    pay_event_t  ev;

    assert_int_equal(parse_square(body, &ev), PAY_OK);
    assert_string_equal(ev.kind, kind);
}


static void
assert_square_malformed(const char *body)
{
    pay_event_t  ev;

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(parse_square(body, &ev), PAY_ERR_BODY_MALFORMED);
    assert_cleared(&ev);
}


static void
test_square_vector(void **state)
{
    body_t       q1;
    pay_event_t  ev;

    (void) state;

    assert_int_equal(read_vector("square_q1_body.json", &q1), 0);

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(pay_event_parse_square(q1.data, q1.len, &ev), PAY_OK);
    assert_string_equal(ev.id, "ac3ac95b-f97d-458c-a6e6-18981597e05f");
    assert_int_equal(ev.id_len, 36);
    assert_string_equal(ev.type, "webhooks.test_notification");
    assert_int_equal(ev.type_len, strlen("webhooks.test_notification"));
    assert_int_equal(ev.livemode, -1);
    assert_string_equal(ev.kind, "other");

    /* Stripe's reading of the same body: there is no "id" */
    assert_int_equal(pay_event_parse_stripe(q1.data, q1.len, &ev),
                     PAY_ERR_BODY_MALFORMED);

    free(q1.data);
}


static void
test_square_payment(void **state)
{
    pay_event_t  ev;

    (void) state;

    assert_int_equal(parse_square(SQUARE_PAYMENT("payment.updated",
                                                 "\"COMPLETED\""), &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc");
    assert_string_equal(ev.type, "payment.updated");
    assert_int_equal(ev.livemode, -1);
    assert_string_equal(ev.kind, "payment.succeeded");

    assert_square_kind(SQUARE_PAYMENT("payment.created", "\"COMPLETED\""),
                       "payment.succeeded");
    assert_square_kind(SQUARE_PAYMENT("payment.updated", "\"FAILED\""),
                       "payment.failed");
    assert_square_kind(SQUARE_PAYMENT("payment.updated", "\"APPROVED\""),
                       "other");
    assert_square_kind(SQUARE_PAYMENT("payment.created", "\"PENDING\""),
                       "other");

    /* the status as decoded, as the app's parser reads it */
    assert_square_kind(SQUARE_PAYMENT("payment.updated",
                                      "\"\\u0043OMPLETED\""),
                       "payment.succeeded");
}


static void
test_square_status_unknown(void **state)
{
    char  body[1024];

    (void) state;

    /* not a string, too long, not ASCII: no status, the event parses */
    assert_square_kind(SQUARE_PAYMENT("payment.updated", "null"), "other");
    assert_square_kind(SQUARE_PAYMENT("payment.updated", "1"), "other");
    assert_square_kind(SQUARE_PAYMENT("payment.updated", "[\"COMPLETED\"]"),
                       "other");
    assert_square_kind(SQUARE_PAYMENT("payment.updated",
                                      "{\"status\":\"COMPLETED\"}"),
                       "other");
    assert_square_kind(SQUARE_PAYMENT("payment.updated",
                                      "\"COMPLETED_COMPLETED_COMPLETED_COM\""),
                       "other");
    assert_square_kind(SQUARE_PAYMENT("payment.updated",
                                      "\"COMPL\\u00c9TED\""),
                       "other");

    /* a status elsewhere does not count */
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"status\":\"COMPLETED\","
                       "\"data\":{\"status\":\"COMPLETED\","
                       "\"object\":{\"status\":\"COMPLETED\","
                       "\"refund\":{\"status\":\"COMPLETED\"},"
                       "\"payment\":{\"card_details\":"
                       "{\"status\":\"COMPLETED\"}}}}}",
                       "other");

    /* the path broken at each step */
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\"}",
                       "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"data\":[]}", "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"data\":{\"object\":\"payment\"}}", "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"data\":{\"object\":{\"payment\":null}}}", "other");

    /*
     * A name twice on the path: readers may disagree on which one counts,
     * so the status is unknown, and the kind is the type's alone.
     */
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"data\":{\"object\":{\"payment\":"
                       "{\"status\":\"COMPLETED\",\"status\":\"FAILED\"}}}}",
                       "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"data\":{\"object\":{\"payment\":"
                       "{\"status\":\"FAILED\"},\"payment\":"
                       "{\"status\":\"COMPLETED\"}}}}", "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"payment.updated\","
                       "\"data\":{\"object\":{\"payment\":"
                       "{\"status\":\"COMPLETED\"}},\"object\":{}}}", "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"subscription.updated\","
                       "\"data\":{\"object\":{\"subscription\":"
                       "{\"status\":\"CANCELED\",\"status\":\"ACTIVE\"}}}}",
                       "subscription.updated");

    /* but duplicates off the path are somebody else's business */
    snprintf(body, sizeof(body),
             "{\"event_id\":\"e\",\"type\":\"payment.updated\","
             "\"data\":{\"id\":1,\"id\":2,\"object\":{\"payment\":"
             "{\"a\":1,\"a\":2,\"status\":\"COMPLETED\"},\"x\":[],\"x\":{}}}}");
    assert_square_kind(body, "payment.succeeded");
}


static void
test_square_other_objects(void **state)
{
    (void) state;

    assert_square_kind("{\"event_id\":\"e\",\"type\":\"refund.updated\","
                       "\"data\":{\"type\":\"refund\",\"object\":{\"refund\":"
                       "{\"id\":\"r\",\"status\":\"COMPLETED\"}}}}",
                       "payment.refunded");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"refund.created\","
                       "\"data\":{\"type\":\"refund\",\"object\":{\"refund\":"
                       "{\"id\":\"r\",\"status\":\"PENDING\"}}}}",
                       "other");

    /* a dispute has a state, not a status */
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"dispute.state.updated\","
                       "\"data\":{\"type\":\"dispute\",\"object\":"
                       "{\"dispute\":{\"state\":\"WON\"}}}}",
                       "dispute.closed");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"dispute.state.updated\","
                       "\"data\":{\"type\":\"dispute\",\"object\":"
                       "{\"dispute\":{\"status\":\"WON\"}}}}",
                       "other");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"dispute.created\","
                       "\"data\":{\"object\":{\"dispute\":"
                       "{\"state\":\"EVIDENCE_REQUIRED\"}}}}",
                       "dispute.opened");

    assert_square_kind("{\"event_id\":\"e\",\"type\":\"subscription.updated\","
                       "\"data\":{\"object\":{\"subscription\":"
                       "{\"status\":\"CANCELED\"}}}}",
                       "subscription.canceled");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"subscription.updated\","
                       "\"data\":{\"object\":{\"subscription\":"
                       "{\"status\":\"ACTIVE\"}}}}",
                       "subscription.updated");
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"invoice.payment_made\","
                       "\"data\":{\"object\":{\"invoice\":"
                       "{\"status\":\"PAID\"}}}}",
                       "invoice.paid");

    /* the object named by the type, not another one */
    assert_square_kind("{\"event_id\":\"e\",\"type\":\"refund.updated\","
                       "\"data\":{\"object\":{\"payment\":"
                       "{\"status\":\"COMPLETED\"}}}}",
                       "other");
}


static void
test_square_identity(void **state)
{
    (void) state;

    /* event_id and type are both required, with the usual rules */
    assert_square_malformed("{\"type\":\"payment.updated\"}");
    assert_square_malformed("{\"id\":\"e\",\"type\":\"payment.updated\"}");
    assert_square_malformed("{\"event_id\":\"e\"}");
    assert_square_malformed("{\"event_id\":\"e\",\"type\":null}");
    assert_square_malformed("{\"event_id\":\"e\",\"type\":\"\"}");
    assert_square_malformed("{\"event_id\":\"e 1\",\"type\":\"t\"}");
    assert_square_malformed("{\"event_id\":\"e\\r\\n\",\"type\":\"t\"}");
    assert_square_malformed("{\"event_id\":1,\"type\":\"t\"}");
    assert_square_malformed("{\"data\":{\"event_id\":\"e\"},\"type\":\"t\"}");

    /* no second event_id or type */
    assert_square_malformed("{\"event_id\":\"e\",\"event_id\":\"f\","
                            "\"type\":\"t\"}");
    assert_square_malformed("{\"event_id\":\"e\",\"type\":\"t\","
                            "\"type\":\"u\"}");
    assert_square_malformed("{\"event_\\u0069d\":\"e\",\"event_id\":\"f\","
                            "\"type\":\"t\"}");

    /* nor a second data: the path to the status must be unambiguous */
    assert_square_malformed("{\"event_id\":\"e\",\"type\":\"t\","
                            "\"data\":{},\"data\":{}}");

    /* and a body that is JSON */
    assert_square_malformed("");
    assert_square_malformed("[]");
    assert_square_malformed("{\"event_id\":\"e\",\"type\":\"t\"}x");
    assert_square_malformed("{\"event_id\":\"e\",\"type\":\"t\","
                            "\"data\":{\"object\":{\"payment\":"
                            "{\"status\":\"COMPLETED\"}}}");
}


static void
test_square_large_body(void **state)
{
    char         *body;
    size_t        len, pad, i;
    pay_event_t   ev;

    (void) state;

    /* 1 MB of payment, the status last: four linear passes at most */
    pad = 1024 * 1024;
    body = malloc(pad + 256);
    assert_non_null(body);

    len = (size_t) sprintf(body, "{\"event_id\":\"e\",\"type\":"
                           "\"payment.updated\",\"data\":{\"object\":"
                           "{\"payment\":{\"note\":\"");

    for (i = 0; i < pad; i++) {
        body[len++] = 'a';
    }

    len += (size_t) sprintf(body + len, "\",\"status\":\"COMPLETED\"}}}}");

    assert_int_equal(pay_event_parse_square((unsigned char *) body, len, &ev),
                     PAY_OK);
    assert_string_equal(ev.kind, "payment.succeeded");

    free(body);
}


/* PayPal */


static void
assert_paypal_malformed(const char *body)
{
    pay_event_t  ev;

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(pay_event_parse_paypal((const unsigned char *) body,
                                            strlen(body), &ev),
                     PAY_ERR_BODY_MALFORMED);
    assert_cleared(&ev);
}


static void
test_paypal_vectors(void **state)
{
    body_t       p1, p2;
    pay_event_t  ev;

    (void) state;

    assert_int_equal(read_vector("paypal_p1_body.json", &p1), 0);
    assert_int_equal(read_vector("paypal_p2_body.json", &p2), 0);

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(pay_event_parse_paypal(p1.data, p1.len, &ev), PAY_OK);
    assert_string_equal(ev.id, "WH-2MW4820926242972J-6SG447389E205703U");
    assert_string_equal(ev.type, "BILLING.PLAN.CREATED");
    assert_int_equal(ev.livemode, -1);
    assert_string_equal(ev.kind, "other");

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(pay_event_parse_paypal(p2.data, p2.len, &ev), PAY_OK);
    assert_string_equal(ev.id, "WH-2WR32451HC0233532-67976317FL4543714");
    assert_int_equal(ev.id_len, 38);
    assert_string_equal(ev.type, "PAYMENT.SALE.COMPLETED");
    assert_int_equal(ev.type_len, 22);
    assert_int_equal(ev.livemode, -1);
    assert_string_equal(ev.kind, "payment.succeeded");

    free(p1.data);
    free(p2.data);
}


static void
test_paypal_identity(void **state)
{
    const char   *body;
    pay_event_t   ev;

    (void) state;

    body = "{\"id\":\"WH-1\",\"event_type\":\"PAYMENT.CAPTURE.REFUNDED\","
           "\"resource\":{\"id\":\"2\",\"event_type\":\"x\"}}";

    assert_int_equal(pay_event_parse_paypal((const unsigned char *) body,
                                            strlen(body), &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "WH-1");
    assert_string_equal(ev.kind, "payment.refunded");

    /* both required; "type" is not PayPal's name */
    assert_paypal_malformed("{\"id\":\"WH-1\"}");
    assert_paypal_malformed("{\"event_type\":\"PAYMENT.SALE.COMPLETED\"}");
    assert_paypal_malformed("{\"id\":\"WH-1\",\"type\":"
                            "\"PAYMENT.SALE.COMPLETED\"}");
    assert_paypal_malformed("{\"id\":\"WH-1\",\"event_type\":\"\"}");
    assert_paypal_malformed("{\"id\":\"WH 1\",\"event_type\":\"A\"}");
    assert_paypal_malformed("{\"id\":[],\"event_type\":\"A\"}");

    /* no second id or event_type */
    assert_paypal_malformed("{\"id\":\"WH-1\",\"id\":\"WH-2\","
                            "\"event_type\":\"A\"}");
    assert_paypal_malformed("{\"id\":\"WH-1\",\"event_type\":\"A\","
                            "\"event_typ\\u0065\":\"B\"}");

    assert_paypal_malformed("{\"id\":\"WH-1\",\"event_type\":\"A\"");
    assert_paypal_malformed("null");
}


/* Standard Webhooks */


static pay_rc_e
parse_standard(const char *body, const char *id, pay_event_t *ev)
{
    return pay_event_parse_standard((const unsigned char *) body,
                                    strlen(body), id,
                                    id != NULL ? strlen(id) : 0, ev);
}


static void
assert_standard_fails(const char *body, const char *id, pay_rc_e rc)
{
    pay_event_t  ev;

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(parse_standard(body, id, &ev), rc);
    assert_cleared(&ev);
}


static void
test_standard_vector(void **state)
{
    body_t       w1;
    pay_event_t  ev;

    (void) state;

    assert_int_equal(read_vector("stdwh_w1_body.json", &w1), 0);

    memset(&ev, 0xaa, sizeof(ev));

    assert_int_equal(pay_event_parse_standard(w1.data, w1.len,
                                              "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                              28, &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assert_int_equal(ev.id_len, 28);
    assert_int_equal(ev.type_len, 0);
    assert_string_equal(ev.type, "");
    assert_int_equal(ev.livemode, -1);
    assert_string_equal(ev.kind, "other");

    free(w1.data);
}


static void
test_standard_type(void **state)
{
    pay_event_t  ev;

    (void) state;

    /* the spec's recommended shape */
    assert_int_equal(parse_standard("{\"type\":\"invoice.paid\","
                                    "\"timestamp\":\"2022-11-03T20:26:10Z\","
                                    "\"data\":{\"id\":\"in_1\"}}",
                                    "msg_1", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "msg_1");
    assert_string_equal(ev.type, "invoice.paid");
    assert_string_equal(ev.kind, "invoice.paid");

    assert_int_equal(parse_standard("{\"type\":\"user.created\"}", "msg_1",
                                    &ev),
                     PAY_OK);
    assert_string_equal(ev.type, "user.created");
    assert_string_equal(ev.kind, "other");

    /* the id is the header's, whatever the body says */
    assert_int_equal(parse_standard("{\"id\":\"evt_body\",\"type\":\"t\"}",
                                    "msg_header", &ev),
                     PAY_OK);
    assert_string_equal(ev.id, "msg_header");

    assert_int_equal(parse_standard("{}", "m", &ev), PAY_OK);
    assert_string_equal(ev.id, "m");
    assert_string_equal(ev.kind, "other");

    /* a type present must be a proper one, and only one */
    assert_standard_fails("{\"type\":\"user created\"}", "m",
                          PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("{\"type\":\"\"}", "m", PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("{\"type\":42}", "m", PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("{\"type\":\"a\",\"type\":\"b\"}", "m",
                          PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("{\"type\":\"a\",\"t\\u0079pe\":\"a\"}", "m",
                          PAY_ERR_BODY_MALFORMED);

    /* and the body one JSON object */
    assert_standard_fails("", "m", PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("[]", "m", PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("\"x\"", "m", PAY_ERR_BODY_MALFORMED);
    assert_standard_fails("{\"type\":\"a\"} {}", "m",
                          PAY_ERR_BODY_MALFORMED);
}


static void
test_standard_id(void **state)
{
    char         id[300];
    pay_event_t  ev;

    (void) state;

    /* the header's codes, as pay_standard_verify() gives them */
    assert_standard_fails("{}", NULL, PAY_ERR_SIGNATURE_MISSING);
    assert_standard_fails("{}", "", PAY_ERR_SIGNATURE_MISSING);
    assert_standard_fails("{}", "msg 1", PAY_ERR_SIGNATURE_MALFORMED);
    assert_standard_fails("{}", "msg_1\r\nX: 1", PAY_ERR_SIGNATURE_MALFORMED);
    assert_standard_fails("{}", "msg_\xc3\xa9", PAY_ERR_SIGNATURE_MALFORMED);

    /* the header is looked at first */
    assert_standard_fails("not json", "msg 1", PAY_ERR_SIGNATURE_MALFORMED);

    memset(&ev, 0xaa, sizeof(ev));
    assert_int_equal(pay_event_parse_standard((const unsigned char *) "{}", 2,
                                              "a\0b", 3, &ev),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_cleared(&ev);

    memset(id, 'm', 255);
    id[255] = '\0';
    assert_int_equal(parse_standard("{}", id, &ev), PAY_OK);
    assert_int_equal(ev.id_len, 255);
    assert_memory_equal(ev.id, id, 256);

    id[255] = 'm';
    id[256] = '\0';
    assert_standard_fails("{}", id, PAY_ERR_SIGNATURE_MALFORMED);
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
        cmocka_unit_test(test_stripe_kind),
        cmocka_unit_test(test_field_check),
        cmocka_unit_test(test_square_vector),
        cmocka_unit_test(test_square_payment),
        cmocka_unit_test(test_square_status_unknown),
        cmocka_unit_test(test_square_other_objects),
        cmocka_unit_test(test_square_identity),
        cmocka_unit_test(test_square_large_body),
        cmocka_unit_test(test_paypal_vectors),
        cmocka_unit_test(test_paypal_identity),
        cmocka_unit_test(test_standard_vector),
        cmocka_unit_test(test_standard_type),
        cmocka_unit_test(test_standard_id),
    };

    return cmocka_run_group_tests_name("pay_event", tests, NULL, NULL);
}
