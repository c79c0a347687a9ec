/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_intent.c: validation of intent requests, what the
 * client may send (the policy), the values the server sets, and the 422
 * problem+json.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "pay_intent.h"


#define MAX_AMOUNT  100000000LL

#define R_AMOUNT    "must be a positive integer in minor units"
#define R_FORM      "must be an integer in minor units, without fraction " \
                    "or exponent"
#define R_MAX       "exceeds the maximum amount"
#define R_REFUSED   "is not accepted here"
#define R_ID        "must be a string of 1 to 255 visible ASCII characters"
#define R_URL       "must be an http:// or https:// URL of at most 2048 bytes"
#define R_UTF8      "must be UTF-8 without NUL"

#define FULL_BODY                                                             \
    "{\"amount\":2000,\"currency\":\"usd\",\"provider\":\"stripe\","          \
    "\"description\":\"d\",\"customer\":\"cus_evil\","                        \
    "\"metadata\":{\"order_id\":\"someone-elses\","                           \
    "\"note\":\"n\"},"                                                        \
    "\"return_url\":\"https://evil.example/\","                               \
    "\"cancel_url\":\"https://evil.example/c\","                              \
    "\"source_id\":\"ccof:other-users-card\"}"


static pay_intent_request_t  req;
static pay_field_errors_t    errs;


static pay_rc_e parse_max(const char *body, long long max);
static pay_rc_e parse(const char *body);
static pay_rc_e parse_policy(const char *body,
    const pay_intent_policy_t *policy);
static pay_intent_setting_t setting(const char *name, const char *value);
static void assert_only_error(const char *body, const char *field,
    const char *reason);
static void assert_has_error(const char *field, const char *reason);
static char *metadata_body(size_t keys, size_t key_len, size_t value_len);
static char *fill(char *p, char c, size_t n);


static pay_rc_e
parse_max(const char *body, long long max)
{
    pay_intent_request_free(&req);

    return pay_intent_parse((const unsigned char *) body, strlen(body), max,
                            &req, &errs);
}


static pay_rc_e
parse(const char *body)
{
    return parse_max(body, MAX_AMOUNT);
}


static pay_rc_e
parse_policy(const char *body, const pay_intent_policy_t *policy)
{
    pay_intent_request_free(&req);

    return pay_intent_parse_client((const unsigned char *) body,
                                   strlen(body), MAX_AMOUNT, policy, &req,
                                   &errs);
}


/* a server setting as the directive writes it: "metadata.KEY" VALUE */

static pay_intent_setting_t
setting(const char *name, const char *value)
{
    pay_intent_setting_t  set;

    set.field = pay_intent_field(name, strlen(name), &set.key);
    set.value.data = value;
    set.value.len = strlen(value);

    return set;
}


static void
assert_only_error(const char *body, const char *field, const char *reason)
{
    assert_int_equal(parse(body), PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.items[0].field, field);
    assert_string_equal(errs.items[0].reason, reason);
    assert_null(req.storage);
}


static void
assert_has_error(const char *field, const char *reason)
{
    size_t  i;

    for (i = 0; i < errs.n; i++) {
        if (strcmp(errs.items[i].field, field) == 0
            && strcmp(errs.items[i].reason, reason) == 0)
        {
            return;
        }
    }

    fail_msg("no error %s: %s", field, reason);
}


static char *
fill(char *p, char c, size_t n)
{
    memset(p, c, n);

    return p + n;
}


/* {"amount":1,"currency":"usd","metadata":{"<k>0000":"<v>",...}} */

static char *
metadata_body(size_t keys, size_t key_len, size_t value_len)
{
    char    *body, *p;
    size_t   i;

    body = malloc(64 + keys * (key_len + value_len + 8));
    assert_non_null(body);

    p = body + sprintf(body, "{\"amount\":1,\"currency\":\"usd\","
                       "\"metadata\":{");

    for (i = 0; i < keys; i++) {
        p += sprintf(p, "%s\"%04u", i ? "," : "", (unsigned) i);
        p = fill(p, 'k', key_len - 4);
        p += sprintf(p, "\":\"");
        p = fill(p, 'v', value_len);
        *p++ = '"';
    }

    strcpy(p, "}}");

    return body;
}


static int
teardown(void **state)
{
    (void) state;

    pay_intent_request_free(&req);

    return 0;
}


static void
test_full_request(void **state)
{
    (void) state;

    assert_int_equal(parse("{\"amount\": 2000, \"currency\": \"USD\","
                           " \"provider\": \"stripe\","
                           " \"description\": \"Caf\\u00e9 order #1\","
                           " \"customer\": \"cus_123\","
                           " \"metadata\": {\"order_id\": \"6735\","
                           " \"a b\": \"x&y=z\"},"
                           " \"return_url\": \"https://shop.example/ok\","
                           " \"cancel_url\": \"https://shop.example/no\","
                           " \"source_id\": \"cnon:card-nonce-ok\"}"),
                     PAY_OK);

    assert_int_equal(errs.n, 0);
    assert_int_equal(req.amount, 2000);
    assert_string_equal(req.currency, "usd");
    assert_int_equal(req.exponent, 2);
    assert_int_equal(req.provider, PAY_PROVIDER_STRIPE);
    assert_string_equal(req.description.data, "Caf\xc3\xa9 order #1");
    assert_int_equal(req.description.len, 14);
    assert_string_equal(req.customer.data, "cus_123");
    assert_string_equal(req.return_url.data, "https://shop.example/ok");
    assert_string_equal(req.cancel_url.data, "https://shop.example/no");
    assert_string_equal(req.source_id.data, "cnon:card-nonce-ok");

    /* body order */
    assert_int_equal(req.nmetadata, 2);
    assert_string_equal(req.metadata[0].key.data, "order_id");
    assert_string_equal(req.metadata[0].value.data, "6735");
    assert_string_equal(req.metadata[1].key.data, "a b");
    assert_int_equal(req.metadata[1].key.len, 3);
    assert_string_equal(req.metadata[1].value.data, "x&y=z");
}


static void
test_minimal_request(void **state)
{
    (void) state;

    assert_int_equal(parse("{\"amount\":5000,\"currency\":\"jpy\"}"), PAY_OK);

    assert_int_equal(req.amount, 5000);
    assert_string_equal(req.currency, "jpy");
    assert_int_equal(req.exponent, 0);
    assert_int_equal(req.provider, PAY_PROVIDER_NONE);
    assert_null(req.description.data);
    assert_null(req.customer.data);
    assert_null(req.return_url.data);
    assert_null(req.cancel_url.data);
    assert_null(req.source_id.data);
    assert_null(req.metadata);
    assert_int_equal(req.nmetadata, 0);
    assert_null(req.storage);

    assert_int_equal(parse("{\"currency\":\"KWD\",\"amount\":1234}"), PAY_OK);
    assert_string_equal(req.currency, "kwd");
    assert_int_equal(req.exponent, 3);
}


static void
test_amount_missing(void **state)
{
    (void) state;

    assert_only_error("{\"currency\":\"usd\"}", "amount", "is required");
}


/* the "amount in dollars" bug */

static void
test_amount_not_integer(void **state)
{
    size_t             i;
    char               body[128];
    static const char  *forms[] = {
        "20.00", "20.0", "2e3", "2E3", "2000.0", "2e+3", "0.5", "1.5e3"
    };

    (void) state;

    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(body, sizeof(body), "{\"amount\":%s,\"currency\":\"usd\"}",
                 forms[i]);
        assert_only_error(body, "amount", R_FORM);
    }

    assert_int_equal(parse("{\"amount\":2000,\"currency\":\"usd\"}"), PAY_OK);
    assert_int_equal(req.amount, 2000);
}


static void
test_amount_wrong_type_or_sign(void **state)
{
    size_t             i;
    char               body[128];
    static const char  *values[] = {
        "\"2000\"", "\"20.00\"", "-5", "0", "-0", "-2.5", "true", "null",
        "[2000]", "{}"
    };

    (void) state;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(body, sizeof(body), "{\"amount\":%s,\"currency\":\"usd\"}",
                 values[i]);
        assert_only_error(body, "amount", R_AMOUNT);
    }
}


static void
test_amount_limits(void **state)
{
    (void) state;

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\"}"), PAY_OK);
    assert_int_equal(req.amount, 1);

    assert_int_equal(parse("{\"amount\":100000000,\"currency\":\"usd\"}"),
                     PAY_OK);
    assert_int_equal(req.amount, MAX_AMOUNT);

    assert_only_error("{\"amount\":100000001,\"currency\":\"usd\"}",
                      "amount", R_MAX);
    assert_only_error("{\"amount\":99999999999999999999999999999999,"
                      "\"currency\":\"usd\"}", "amount", R_MAX);

    /* no configured maximum: up to LLONG_MAX */
    assert_int_equal(parse_max("{\"amount\":9223372036854775807,"
                               "\"currency\":\"usd\"}", 0),
                     PAY_OK);
    assert_int_equal(req.amount, 9223372036854775807LL);

    assert_int_equal(parse_max("{\"amount\":9223372036854775808,"
                               "\"currency\":\"usd\"}", 0),
                     PAY_ERR_VALIDATION_FAILED);
    assert_has_error("amount", R_MAX);
}


static void
test_currency(void **state)
{
    (void) state;

    assert_only_error("{\"amount\":1}", "currency", "is required");
    assert_only_error("{\"amount\":1,\"currency\":null}", "currency",
                      "is required");
    assert_only_error("{\"amount\":1,\"currency\":\"xyz\"}", "currency",
                      "unknown currency");
    assert_only_error("{\"amount\":1,\"currency\":\"usdd\"}", "currency",
                      "unknown currency");
    assert_only_error("{\"amount\":1,\"currency\":\"\"}", "currency",
                      "unknown currency");
    assert_only_error("{\"amount\":1,\"currency\":\"XAU\"}", "currency",
                      "unknown currency");
    assert_only_error("{\"amount\":1,\"currency\":840}", "currency",
                      "must be a string");

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"Eur\"}"), PAY_OK);
    assert_string_equal(req.currency, "eur");
}


static void
test_provider(void **state)
{
    (void) state;

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"provider\":\"paypal\"}"), PAY_OK);
    assert_int_equal(req.provider, PAY_PROVIDER_PAYPAL);

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"provider\":\"square\"}"), PAY_OK);
    assert_int_equal(req.provider, PAY_PROVIDER_SQUARE);

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"provider\":null}"), PAY_OK);
    assert_int_equal(req.provider, PAY_PROVIDER_NONE);

    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"provider\":\"Stripe\"}", "provider",
                      "unknown provider");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"provider\":\"standard\"}", "provider",
                      "unknown provider");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"provider\":1}", "provider", "must be a string");
}


static void
test_strings(void **state)
{
    char  body[512], *p;

    (void) state;

    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"customer\":\"cus 1\"}", "customer",
                      "must be a string of 1 to 255 visible ASCII "
                      "characters");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"customer\":\"\"}", "customer",
                      "must be a string of 1 to 255 visible ASCII "
                      "characters");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"source_id\":[]}", "source_id",
                      "must be a string of 1 to 255 visible ASCII "
                      "characters");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"return_url\":\"ftp://x\"}", "return_url",
                      "must be an http:// or https:// URL of at most 2048 "
                      "bytes");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"cancel_url\":\"https://\"}", "cancel_url",
                      "must be an http:// or https:// URL of at most 2048 "
                      "bytes");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"cancel_url\":\"https://a b\"}", "cancel_url",
                      "must be an http:// or https:// URL of at most 2048 "
                      "bytes");

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"return_url\":\"HTTPS://x.example/\","
                           "\"cancel_url\":\"http://y\","
                           "\"description\":\"\","
                           "\"customer\":null}"), PAY_OK);
    assert_string_equal(req.return_url.data, "HTTPS://x.example/");
    assert_string_equal(req.description.data, "");
    assert_null(req.customer.data);

    /* description: 255 bytes fit, 256 do not */

    p = body + sprintf(body, "{\"amount\":1,\"currency\":\"usd\","
                       "\"description\":\"");
    p = fill(p, 'd', 255);
    strcpy(p, "\"}");
    assert_int_equal(parse(body), PAY_OK);
    assert_int_equal(req.description.len, 255);

    p = fill(p, 'd', 1);
    strcpy(p, "\"}");
    assert_only_error(body, "description",
                      "must be a string of at most 255 bytes");
}


static void
test_metadata_limits(void **state)
{
    char  *body;

    (void) state;

    /* 50 values of 500 bytes would not fit in the 16 KB of a body */

    body = metadata_body(50, 40, 200);
    assert_int_equal(parse(body), PAY_OK);
    assert_int_equal(req.nmetadata, 50);
    assert_int_equal(req.metadata[49].key.len, 40);
    assert_int_equal(req.metadata[49].value.len, 200);
    assert_memory_equal(req.metadata[49].key.data, "0049kkk", 7);
    free(body);

    body = metadata_body(3, 40, 500);
    assert_int_equal(parse(body), PAY_OK);
    assert_int_equal(req.nmetadata, 3);
    assert_int_equal(req.metadata[2].value.len, 500);
    free(body);

    body = metadata_body(51, 8, 1);
    assert_only_error(body, "metadata", "must have at most 50 keys");
    free(body);

    body = metadata_body(3, 41, 1);
    assert_only_error(body, "metadata", "keys must be 1 to 40 bytes");
    free(body);

    body = metadata_body(3, 8, 501);
    assert_only_error(body, "metadata", "values must be at most 500 bytes");
    free(body);

    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"metadata\":{\"\":\"x\"}}", "metadata",
                      "keys must be 1 to 40 bytes");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"metadata\":{\"a[b]\":\"x\"}}", "metadata",
                      "keys must not contain [ or ]");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"metadata\":{\"a\":1,\"b\":true,\"c\":null}}",
                      "metadata", "values must be strings");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"metadata\":[\"a\"]}", "metadata",
                      "must be an object of strings");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"metadata\":\"a=b\"}", "metadata",
                      "must be an object of strings");

    /* several problems: each reason once */

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"metadata\":{\"a\":1,\"b\":2,"
                           "\"[\":\"x\",\"]\":\"y\"}}"),
                     PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, 2);
    assert_has_error("metadata", "values must be strings");
    assert_has_error("metadata", "keys must not contain [ or ]");

    /* an empty object is no metadata */
    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"metadata\":{}}"), PAY_OK);
    assert_int_equal(req.nmetadata, 0);
}


static void
test_body_size(void **state)
{
    char    *body;
    size_t   len;

    (void) state;

    body = malloc(PAY_INTENT_BODY_MAX + 2);
    assert_non_null(body);

    len = (size_t) sprintf(body, "{\"amount\":1,\"currency\":\"usd\"}");
    memset(body + len, ' ', PAY_INTENT_BODY_MAX + 1 - len);

    assert_int_equal(pay_intent_parse((unsigned char *) body,
                                      PAY_INTENT_BODY_MAX, MAX_AMOUNT, &req,
                                      &errs),
                     PAY_OK);
    pay_intent_request_free(&req);

    assert_int_equal(pay_intent_parse((unsigned char *) body,
                                      PAY_INTENT_BODY_MAX + 1, MAX_AMOUNT,
                                      &req, &errs),
                     PAY_ERR_BODY_TOO_LARGE);

    free(body);
}


static void
test_unknown_members(void **state)
{
    char  body[2048], *p;
    int   i;

    (void) state;

    assert_only_error("{\"amount\":1,\"currency\":\"usd\",\"amout\":1}",
                      "amout", "unknown member");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\",\"Amount\":1}",
                      "Amount", "unknown member");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"confirm\":true}", "confirm", "unknown member");

    /* names that could confuse a reader are not echoed */
    assert_only_error("{\"amount\":1,\"currency\":\"usd\",\"a b\":1}",
                      "?", "unknown member");
    assert_only_error("{\"amount\":1,\"currency\":\"usd\","
                      "\"\\u00e9\":1}", "?", "unknown member");

    /* more than fit */

    p = body + sprintf(body, "{\"amount\":1,\"currency\":\"usd\"");

    for (i = 0; i < 20; i++) {
        p += sprintf(p, ",\"x%d\":1", i);
    }

    strcpy(p, "}");

    assert_int_equal(parse(body), PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, PAY_INTENT_ERRORS_MAX);
    assert_int_equal(errs.truncated, 1);
    assert_string_equal(errs.items[0].field, "x0");
}


static void
test_multiple_errors(void **state)
{
    (void) state;

    assert_int_equal(parse("{\"zz\":0,\"metadata\":{\"k\":5},"
                           "\"amount\":20.00,\"currency\":\"zzz\","
                           "\"provider\":\"venmo\","
                           "\"return_url\":\"javascript:alert(1)\"}"),
                     PAY_ERR_VALIDATION_FAILED);

    /* the documented order, then unknown members */

    assert_int_equal(errs.n, 6);
    assert_string_equal(errs.items[0].field, "amount");
    assert_string_equal(errs.items[0].reason, R_FORM);
    assert_string_equal(errs.items[1].field, "currency");
    assert_string_equal(errs.items[2].field, "provider");
    assert_string_equal(errs.items[3].field, "return_url");
    assert_string_equal(errs.items[4].field, "metadata");
    assert_string_equal(errs.items[5].field, "zz");
    assert_null(req.storage);
}


static void
test_malformed(void **state)
{
    size_t             i;
    static const char  *bodies[] = {
        "", " ", "[]", "\"x\"", "2000", "null", "{", "{\"amount\":1",
        "not json", "{\"amount\":1,\"currency\":\"usd\"} x",
        "{\"amount\":1,\"currency\":\"usd\"}{}",
        "{\"amount\":1,\"amount\":2,\"currency\":\"usd\"}",
        "{\"amount\":1,\"currency\":\"usd\",\"currency\":\"eur\"}",
        "{\"amount\":1,\"currency\":\"usd\",\"metadata\":{\"a\":\"1\","
        "\"a\":\"2\"}}",
        "{\"amount\":1,\"currency\":\"usd\",\"description\":\"a\\u0000\"}",
        "{\"amount\":1,\"currency\":\"usd\",\"x\":1e400}",
        "{\"amount\":1e400,\"currency\":\"usd\"}",
        "{\"amount\":01,\"currency\":\"usd\"}",
        "{\"amount\":+1,\"currency\":\"usd\"}",
        "{'amount':1}",
        "{\"amount\":1,\"currency\":\"usd\",}"
    };

    (void) state;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(parse(bodies[i]), PAY_ERR_BODY_MALFORMED);
        assert_null(req.storage);
    }

    assert_int_equal(pay_intent_parse(NULL, 0, MAX_AMOUNT, &req, &errs),
                     PAY_ERR_BODY_MALFORMED);

    /* invalid UTF-8 */
    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"description\":\"\xc3\x28\"}"),
                     PAY_ERR_BODY_MALFORMED);
}


static void
test_problem_json(void **state)
{
    char          *out;
    size_t         len, again, i;
    json_t        *json, *list;
    json_error_t   error;

    (void) state;

    assert_int_equal(parse("{\"amount\":\"20\",\"currency\":\"usd\","
                           "\"extra\":1}"), PAY_ERR_VALIDATION_FAILED);

    len = pay_intent_problem_json(&errs, NULL, NULL, 0);
    assert_true(len > 0);

    out = malloc(len);
    assert_non_null(out);

    /* too small: the size again, nothing promised */
    assert_int_equal(pay_intent_problem_json(&errs, NULL, out, len - 1),
                     len);

    again = pay_intent_problem_json(&errs, NULL, out, len);
    assert_int_equal(again, len);
    assert_int_equal(out[len - 1], '\n');
    assert_null(memchr(out, '\n', len - 1));

    assert_memory_equal(out, "{\"type\":\"urn:ngx-pay:error:"
                        "validation_failed\",\"title\":\"Validation failed\","
                        "\"status\":422,\"detail\":",
                        sizeof("{\"type\":\"urn:ngx-pay:error:"
                               "validation_failed\",\"title\":\"Validation "
                               "failed\",\"status\":422,\"detail\":") - 1);

    json = json_loadb(out, len, 0, &error);
    assert_non_null(json);

    assert_string_equal(json_string_value(json_object_get(json, "code")),
                        "validation_failed");
    assert_int_equal(json_integer_value(json_object_get(json, "status")),
                     422);

    list = json_object_get(json, "errors");
    assert_int_equal(json_array_size(list), 2);

    for (i = 0; i < 2; i++) {
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(list, i),
                                              "field")),
            errs.items[i].field);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(list, i),
                                              "reason")),
            errs.items[i].reason);
    }

    assert_string_equal(errs.items[0].field, "amount");
    assert_string_equal(errs.items[1].field, "extra");

    json_decref(json);
    free(out);

    /* a detail of the caller's, escaped */

    len = pay_intent_problem_json(&errs, "bad \"input\"", NULL, 0);
    out = malloc(len);
    assert_non_null(out);
    assert_int_equal(pay_intent_problem_json(&errs, "bad \"input\"", out,
                                             len),
                     len);

    json = json_loadb(out, len, 0, &error);
    assert_non_null(json);
    assert_string_equal(json_string_value(json_object_get(json, "detail")),
                        "bad \"input\"");
    json_decref(json);
    free(out);
}


static void
test_field_errors_add(void **state)
{
    pay_field_errors_t  e;

    (void) state;

    memset(&e, 0, sizeof(e));

    pay_field_errors_add(&e, "Idempotency-Key", 15, "r");
    pay_field_errors_add(&e, "bad\nname", 8, "r");
    pay_field_errors_add(&e, NULL, 0, "r");

    assert_int_equal(e.n, 3);
    assert_string_equal(e.items[0].field, "Idempotency-Key");
    assert_string_equal(e.items[1].field, "?");
    assert_string_equal(e.items[2].field, "?");
}


static void
test_provider_names(void **state)
{
    (void) state;

    assert_int_equal(pay_intent_provider("stripe", 6), PAY_PROVIDER_STRIPE);
    assert_int_equal(pay_intent_provider("paypal", 6), PAY_PROVIDER_PAYPAL);
    assert_int_equal(pay_intent_provider("square", 6), PAY_PROVIDER_SQUARE);
    assert_int_equal(pay_intent_provider("standard", 8), PAY_PROVIDER_NONE);
    assert_int_equal(pay_intent_provider("strip", 5), PAY_PROVIDER_NONE);
    assert_int_equal(pay_intent_provider(NULL, 0), PAY_PROVIDER_NONE);

    assert_string_equal(pay_intent_provider_name(PAY_PROVIDER_STRIPE),
                        "stripe");
    assert_string_equal(pay_intent_provider_name(PAY_PROVIDER_PAYPAL),
                        "paypal");
    assert_string_equal(pay_intent_provider_name(PAY_PROVIDER_SQUARE),
                        "square");
    assert_null(pay_intent_provider_name(PAY_PROVIDER_STANDARD));
    assert_null(pay_intent_provider_name(PAY_PROVIDER_NONE));
}


/* by default the client sends amount, currency and provider: no more */

static void
test_policy_default(void **state)
{
    pay_intent_policy_t  policy;

    (void) state;

    memset(&policy, 0, sizeof(pay_intent_policy_t));
    policy.metadata_max = PAY_INTENT_METADATA_MAX;

    assert_int_equal(parse_policy("{\"amount\":2000,\"currency\":\"usd\","
                                  "\"provider\":\"stripe\"}", &policy),
                     PAY_OK);
    assert_int_equal(req.provider, PAY_PROVIDER_STRIPE);

    /* every other member is named, in the documented order, unchecked */

    assert_int_equal(parse_policy(FULL_BODY, &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, 6);
    assert_string_equal(errs.items[0].field, "description");
    assert_string_equal(errs.items[1].field, "customer");
    assert_string_equal(errs.items[2].field, "return_url");
    assert_string_equal(errs.items[3].field, "cancel_url");
    assert_string_equal(errs.items[4].field, "source_id");
    assert_string_equal(errs.items[5].field, "metadata");
    assert_string_equal(errs.items[0].reason, R_REFUSED);
    assert_string_equal(errs.items[5].reason, R_REFUSED);
    assert_null(req.storage);

    /* refused whatever the value, even an invalid one */
    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"customer\":\"\",\"metadata\":7}",
                                  &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.items[0].reason, R_REFUSED);
    assert_string_equal(errs.items[1].reason, R_REFUSED);

    /* null is absent, as ever */
    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"customer\":null}", &policy),
                     PAY_OK);

    /* unknown members stay unknown */
    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"customer_id\":\"x\"}", &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_string_equal(errs.items[0].field, "customer_id");
    assert_string_equal(errs.items[0].reason, "unknown member");
}


static void
test_policy_allowed(void **state)
{
    pay_intent_str_t     keys[1];
    pay_intent_policy_t  policy;

    (void) state;

    memset(&policy, 0, sizeof(pay_intent_policy_t));
    policy.metadata_max = PAY_INTENT_METADATA_MAX;
    policy.fields = pay_intent_field_bit(PAY_INTENT_FIELD_DESCRIPTION)
                    | pay_intent_field_bit(PAY_INTENT_FIELD_SOURCE_ID);

    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"description\":\"Blue mug\","
                                  "\"source_id\":\"cnon:ok\"}", &policy),
                     PAY_OK);
    assert_string_equal(req.description.data, "Blue mug");
    assert_string_equal(req.source_id.data, "cnon:ok");

    /* an allowed member is still checked */
    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"source_id\":\"\"}", &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_string_equal(errs.items[0].reason, R_ID);

    /* metadata.KEY: only that key */
    keys[0].data = "note";
    keys[0].len = 4;
    policy.metadata_keys = keys;
    policy.nmetadata_keys = 1;

    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"metadata\":{\"note\":\"gift\"}}",
                                  &policy),
                     PAY_OK);
    assert_int_equal(req.nmetadata, 1);
    assert_string_equal(req.metadata[0].value.data, "gift");

    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"metadata\":{\"note\":\"gift\","
                                  "\"order_id\":\"42\",\"notes\":\"x\"}}",
                                  &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.items[0].field, "metadata.order_id");
    assert_string_equal(errs.items[0].reason, R_REFUSED);
    assert_string_equal(errs.items[1].field, "metadata.notes");

    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"metadata\":[]}", &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_string_equal(errs.items[0].field, "metadata");
    assert_string_equal(errs.items[0].reason, "must be an object of strings");

    /* the whole of metadata, fewer keys when the server sets some */
    policy.fields |= pay_intent_field_bit(PAY_INTENT_FIELD_METADATA);
    policy.metadata_max = 1;

    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"metadata\":{\"a\":\"1\"}}", &policy),
                     PAY_OK);
    assert_int_equal(parse_policy("{\"amount\":1,\"currency\":\"usd\","
                                  "\"metadata\":{\"a\":\"1\",\"b\":\"2\"}}",
                                  &policy),
                     PAY_ERR_VALIDATION_FAILED);
    assert_string_equal(errs.items[0].field, "metadata");
    assert_string_equal(errs.items[0].reason,
                        "must have at most 50 keys, with those the server "
                        "sets");

    /* everything: pay_intent_parse() */
    policy.fields = PAY_INTENT_FIELDS_ALL;
    policy.metadata_max = PAY_INTENT_METADATA_MAX;

    assert_int_equal(parse_policy(FULL_BODY, &policy), PAY_OK);
    assert_int_equal(parse_policy(FULL_BODY, NULL), PAY_OK);
}


/* the server's values win, and follow the client's rules */

static void
test_apply(void **state)
{
    pay_intent_setting_t  set[6];

    (void) state;

    assert_int_equal(parse(FULL_BODY), PAY_OK);

    set[0] = setting("customer", "cus_mine");
    set[1] = setting("metadata.order_id", "42");
    set[2] = setting("return_url", "");
    set[3] = setting("metadata.channel", "web");
    set[4] = setting("metadata.unset", "");
    set[5] = setting("description", "Order 42");

    assert_int_equal(pay_intent_apply(&req, set, 6, &errs), PAY_OK);
    assert_int_equal(errs.n, 0);

    assert_string_equal(req.customer.data, "cus_mine");
    assert_int_equal(req.customer.len, 8);
    assert_string_equal(req.description.data, "Order 42");
    assert_null(req.return_url.data);
    assert_int_equal(req.return_url.len, 0);

    /* untouched */
    assert_int_equal(req.amount, 2000);
    assert_string_equal(req.currency, "usd");
    assert_int_equal(req.provider, PAY_PROVIDER_STRIPE);
    assert_string_equal(req.cancel_url.data, "https://evil.example/c");
    assert_string_equal(req.source_id.data, "ccof:other-users-card");

    /* the client's other keys, then the server's, in settings order */
    assert_int_equal(req.nmetadata, 3);
    assert_string_equal(req.metadata[0].key.data, "note");
    assert_string_equal(req.metadata[0].value.data, "n");
    assert_string_equal(req.metadata[1].key.data, "order_id");
    assert_string_equal(req.metadata[1].value.data, "42");
    assert_string_equal(req.metadata[2].key.data, "channel");
    assert_string_equal(req.metadata[2].value.data, "web");

    /* a request with nothing of its own */
    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\"}"), PAY_OK);
    assert_int_equal(pay_intent_apply(&req, set, 1, &errs), PAY_OK);
    assert_string_equal(req.customer.data, "cus_mine");
    assert_int_equal(req.nmetadata, 0);

    assert_int_equal(pay_intent_apply(&req, NULL, 0, &errs), PAY_OK);
    assert_string_equal(req.customer.data, "cus_mine");

    /* everything left out: nothing is allocated */
    set[0] = setting("customer", "");
    assert_int_equal(pay_intent_apply(&req, set, 1, &errs), PAY_OK);
    assert_null(req.storage);
    assert_null(req.customer.data);
}


static void
test_apply_invalid(void **state)
{
    char                  long_value[502];
    pay_intent_setting_t  set[5];

    (void) state;

    memset(long_value, 'v', 501);
    long_value[501] = '\0';

    assert_int_equal(parse("{\"amount\":1,\"currency\":\"usd\","
                           "\"customer\":\"cus_client\"}"), PAY_OK);

    set[0] = setting("customer", "cus 1");
    set[1] = setting("return_url", "javascript:alert(1)");
    set[2] = setting("metadata.order_id", long_value);
    set[3] = setting("metadata.a[b]", "x");
    set[4] = setting("description", "caf\xc3");

    assert_int_equal(pay_intent_apply(&req, set, 5, &errs),
                     PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(errs.n, 5);
    assert_string_equal(errs.items[0].field, "customer");
    assert_string_equal(errs.items[0].reason, R_ID);
    assert_string_equal(errs.items[1].field, "return_url");
    assert_string_equal(errs.items[1].reason, R_URL);
    assert_string_equal(errs.items[2].field, "metadata.order_id");
    assert_string_equal(errs.items[2].reason,
                        "values must be at most 500 bytes");
    assert_string_equal(errs.items[3].field, "metadata.a[b]");
    assert_string_equal(errs.items[3].reason, "keys must not contain [ or ]");
    assert_string_equal(errs.items[4].field, "description");
    assert_string_equal(errs.items[4].reason, R_UTF8);

    /* the request is as it was */
    assert_string_equal(req.customer.data, "cus_client");

    /* a NUL is not a client's either */
    set[0].field = PAY_INTENT_FIELD_DESCRIPTION;
    set[0].value.data = "a\0b";
    set[0].value.len = 3;

    assert_int_equal(pay_intent_apply(&req, set, 1, &errs),
                     PAY_ERR_VALIDATION_FAILED);
    assert_string_equal(errs.items[0].reason, R_UTF8);

    set[0].field = PAY_INTENT_FIELD_NONE;
    assert_int_equal(pay_intent_apply(&req, set, 1, &errs), PAY_ERR_INTERNAL);
    assert_string_equal(req.customer.data, "cus_client");
}


/* 50 client keys and one of the server's: over the limit */

static void
test_apply_metadata_limit(void **state)
{
    char                 *body;
    pay_intent_setting_t  set[1];

    (void) state;

    body = metadata_body(50, 8, 1);
    assert_int_equal(parse(body), PAY_OK);
    free(body);

    set[0] = setting("metadata.server", "1");

    assert_int_equal(pay_intent_apply(&req, set, 1, &errs),
                     PAY_ERR_VALIDATION_FAILED);
    assert_string_equal(errs.items[0].field, "metadata");
    assert_int_equal(req.nmetadata, 50);

    /* replacing one of the client's keys adds none */
    set[0] = setting("metadata.0000kkkk", "server");

    assert_int_equal(pay_intent_apply(&req, set, 1, &errs), PAY_OK);
    assert_int_equal(req.nmetadata, 50);
    assert_string_equal(req.metadata[49].key.data, "0000kkkk");
    assert_string_equal(req.metadata[49].value.data, "server");
}


static void
test_fields_and_reasons(void **state)
{
    pay_intent_str_t  key;

    (void) state;

    assert_int_equal(pay_intent_field("customer", 8, &key),
                     PAY_INTENT_FIELD_CUSTOMER);
    assert_null(key.data);
    assert_int_equal(pay_intent_field("description", 11, NULL),
                     PAY_INTENT_FIELD_DESCRIPTION);
    assert_int_equal(pay_intent_field("return_url", 10, NULL),
                     PAY_INTENT_FIELD_RETURN_URL);
    assert_int_equal(pay_intent_field("cancel_url", 10, NULL),
                     PAY_INTENT_FIELD_CANCEL_URL);
    assert_int_equal(pay_intent_field("source_id", 9, NULL),
                     PAY_INTENT_FIELD_SOURCE_ID);
    assert_int_equal(pay_intent_field("metadata", 8, &key),
                     PAY_INTENT_FIELD_METADATA);
    assert_null(key.data);
    assert_int_equal(pay_intent_field("metadata.order_id", 17, &key),
                     PAY_INTENT_FIELD_METADATA);
    assert_int_equal(key.len, 8);
    assert_memory_equal(key.data, "order_id", 8);
    assert_int_equal(pay_intent_field("metadata.", 9, &key),
                     PAY_INTENT_FIELD_METADATA);
    assert_int_equal(key.len, 0);

    assert_int_equal(pay_intent_field("amount", 6, NULL),
                     PAY_INTENT_FIELD_NONE);
    assert_int_equal(pay_intent_field("currency", 8, NULL),
                     PAY_INTENT_FIELD_NONE);
    assert_int_equal(pay_intent_field("provider", 8, NULL),
                     PAY_INTENT_FIELD_NONE);
    assert_int_equal(pay_intent_field("customer_id", 11, NULL),
                     PAY_INTENT_FIELD_NONE);
    assert_int_equal(pay_intent_field("custome", 7, NULL),
                     PAY_INTENT_FIELD_NONE);
    assert_int_equal(pay_intent_field(NULL, 0, NULL), PAY_INTENT_FIELD_NONE);

    assert_null(pay_intent_metadata_key_reason("order_id", 8));
    assert_null(pay_intent_metadata_key_reason("caf\xc3\xa9", 5));
    assert_non_null(pay_intent_metadata_key_reason("", 0));
    assert_non_null(pay_intent_metadata_key_reason(
                        "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 41));
    assert_non_null(pay_intent_metadata_key_reason("a]", 2));
    assert_non_null(pay_intent_metadata_key_reason("\xff", 1));

    assert_null(pay_intent_value_reason(PAY_INTENT_FIELD_CUSTOMER, "", 0));
    assert_null(pay_intent_value_reason(PAY_INTENT_FIELD_RETURN_URL,
                                        "https://shop.example/ok", 23));
    assert_string_equal(pay_intent_value_reason(PAY_INTENT_FIELD_CANCEL_URL,
                                                "ftp://x", 7),
                        R_URL);
    assert_null(pay_intent_value_reason(PAY_INTENT_FIELD_METADATA,
                                        "caf\xc3\xa9", 5));
    assert_string_equal(pay_intent_value_reason(PAY_INTENT_FIELD_NONE,
                                                "x", 1),
                        "unknown member");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_full_request, teardown),
        cmocka_unit_test_teardown(test_minimal_request, teardown),
        cmocka_unit_test_teardown(test_amount_missing, teardown),
        cmocka_unit_test_teardown(test_amount_not_integer, teardown),
        cmocka_unit_test_teardown(test_amount_wrong_type_or_sign, teardown),
        cmocka_unit_test_teardown(test_amount_limits, teardown),
        cmocka_unit_test_teardown(test_currency, teardown),
        cmocka_unit_test_teardown(test_provider, teardown),
        cmocka_unit_test_teardown(test_strings, teardown),
        cmocka_unit_test_teardown(test_metadata_limits, teardown),
        cmocka_unit_test_teardown(test_body_size, teardown),
        cmocka_unit_test_teardown(test_unknown_members, teardown),
        cmocka_unit_test_teardown(test_multiple_errors, teardown),
        cmocka_unit_test_teardown(test_malformed, teardown),
        cmocka_unit_test_teardown(test_problem_json, teardown),
        cmocka_unit_test(test_field_errors_add),
        cmocka_unit_test(test_provider_names),
        cmocka_unit_test_teardown(test_policy_default, teardown),
        cmocka_unit_test_teardown(test_policy_allowed, teardown),
        cmocka_unit_test_teardown(test_apply, teardown),
        cmocka_unit_test_teardown(test_apply_invalid, teardown),
        cmocka_unit_test_teardown(test_apply_metadata_limit, teardown),
        cmocka_unit_test(test_fields_and_reasons),
    };

    return cmocka_run_group_tests_name("pay_intent", tests, NULL, NULL);
}
