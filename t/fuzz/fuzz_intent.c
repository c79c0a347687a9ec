/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target: pay_intent_parse() on arbitrary bodies, then, for an
 * accepted one, every provider body and the record encoding built from
 * it, and the same request completed with the input's bytes as server
 * values (pay_intent_apply()); the default policy, under which no
 * optional member gets through; and pay_idempotency_record_decode() and
 * pay_provider_normalize() on the same bytes, Stripe's 2xx against
 * jansson's reading of them.  Invariants that do not
 * hold abort().
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pay_idempotency.h"
#include "pay_intent.h"
#include "pay_intent_result.h"
#include "pay_provider_api.h"


#define FUZZ_KEY  "ngxpay-90832a0cc2c421ae237c2af7eaca8897"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_accepted(const pay_intent_request_t *req);
static void check_body(pay_provider_e provider,
    const pay_intent_request_t *req);
static void check_apply(pay_intent_request_t *req, const unsigned char *v,
    size_t len);
static void check_policy(const unsigned char *body, size_t len);
static void check_stripe_answer(const unsigned char *body, size_t len);
static int jansson_visible(json_t *value, size_t max);


static void
check_body(pay_provider_e provider, const pay_intent_request_t *req)
{
    char    *out;
    size_t   len;

    len = pay_provider_request_body(provider, req, FUZZ_KEY, "L1", NULL, 0);
    if (len == 0) {
        abort();
    }

    out = malloc(len);
    if (out == NULL
        || pay_provider_request_body(provider, req, FUZZ_KEY, "L1", out,
                                     len)
           != len)
    {
        abort();
    }

    free(out);
}


static void
check_accepted(const pay_intent_request_t *req)
{
    size_t  i;

    if (req->amount <= 0 || req->exponent < 0 || strlen(req->currency) != 3
        || req->nmetadata > PAY_INTENT_METADATA_MAX)
    {
        abort();
    }

    for (i = 0; i < req->nmetadata; i++) {
        if (req->metadata[i].key.len == 0
            || req->metadata[i].key.len > PAY_INTENT_METADATA_KEY_MAX
            || req->metadata[i].value.len > PAY_INTENT_METADATA_VALUE_MAX
            || req->metadata[i].key.data[req->metadata[i].key.len] != '\0')
        {
            abort();
        }
    }

    check_body(PAY_PROVIDER_STRIPE, req);
    check_body(PAY_PROVIDER_PAYPAL, req);
    check_body(PAY_PROVIDER_SQUARE, req);
}


/* the input as the server's customer, description and metadata.note */

static void
check_apply(pay_intent_request_t *req, const unsigned char *v, size_t len)
{
    size_t                i;
    pay_rc_e              rc;
    pay_field_errors_t    errs;
    pay_intent_setting_t  set[3];

    memset(set, 0, sizeof(set));

    set[0].field = PAY_INTENT_FIELD_CUSTOMER;
    set[1].field = PAY_INTENT_FIELD_DESCRIPTION;
    set[2].field = PAY_INTENT_FIELD_METADATA;
    set[2].key.data = "note";
    set[2].key.len = 4;

    for (i = 0; i < 3; i++) {
        set[i].value.data = (const char *) v;
        set[i].value.len = len;
    }

    rc = pay_intent_apply(req, set, 3, &errs);

    if (rc == PAY_OK) {
        if (req->customer.len != len
            || (len > 0 && memcmp(req->customer.data, v, len) != 0))
        {
            abort();
        }

        check_accepted(req);

    } else if (rc == PAY_ERR_VALIDATION_FAILED) {
        if (errs.n == 0) {
            abort();
        }
    }
}


/* by default only amount, currency and provider get through */

static void
check_policy(const unsigned char *body, size_t len)
{
    pay_rc_e              rc;
    pay_field_errors_t    errs;
    pay_intent_policy_t   policy;
    pay_intent_request_t  req;

    memset(&policy, 0, sizeof(pay_intent_policy_t));
    policy.metadata_max = PAY_INTENT_METADATA_MAX;

    rc = pay_intent_parse_client(body, len, 0, &policy, &req, &errs);

    if (rc == PAY_OK
        && (req.description.data != NULL || req.customer.data != NULL
            || req.return_url.data != NULL || req.cancel_url.data != NULL
            || req.source_id.data != NULL || req.nmetadata != 0))
    {
        abort();
    }

    pay_intent_request_free(&req);
}


/*
 * The input as Stripe's 2xx, which pay_json scans in place, against
 * jansson's reading of it.  Whatever jansson (as the module called it
 * before, duplicates refused) reads as an intent, its id, status and
 * client_secret visible ASCII, is one, with the same values, unless the
 * input has a raw NUL (jansson lets one through after a number or a
 * literal).  And the other way: whatever is read as an intent, jansson
 * (with pay_json.h's rules, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)
 * reads as an object with those values, unless it refuses a real that
 * overflows or a NUL in a name, the differences pay_json.h lists.  An
 * intent's JSON reads back the same.
 */
static void
check_stripe_answer(const unsigned char *body, size_t len)
{
    char                         out[4096];
    size_t                       n;
    json_t                      *root, *secret;
    json_error_t                 error;
    pay_field_errors_t           errs;
    pay_intent_result_t          back;
    pay_provider_answer_t        ans;
    static int                   ready;
    static pay_intent_request_t  req;
    static const char            order[] =
        "{\"amount\":2000,\"currency\":\"usd\"}";

    if (!ready) {
        if (pay_intent_parse((const unsigned char *) order,
                             sizeof(order) - 1, 0, &req, &errs)
            != PAY_OK)
        {
            abort();
        }

        ready = 1;
    }

    (void) pay_provider_normalize(PAY_PROVIDER_STRIPE, &req, 200, body, len,
                                  &ans);

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES,
                      NULL);
    secret = json_object_get(root, "client_secret");

    if (json_is_object(root) && memchr(body, '\0', len) == NULL
        && jansson_visible(json_object_get(root, "id"),
                           PAY_INTENT_RESULT_ID_MAX)
        && jansson_visible(json_object_get(root, "status"),
                           PAY_INTENT_RESULT_STATUS_MAX)
        && (secret == NULL || json_is_null(secret)
            || jansson_visible(secret, PAY_INTENT_RESULT_LINK_MAX)))
    {
        if (ans.outcome != PAY_PROVIDER_OK) {
            abort();
        }
    }

    json_decref(root);

    if (ans.outcome != PAY_PROVIDER_OK) {
        return;
    }

    root = json_loadb((const char *) body, len,
                      JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &error);

    if (root == NULL) {
        if (strstr(error.text, "overflow") == NULL
            && strstr(error.text, "NUL byte in object key") == NULL)
        {
            abort();
        }

    } else {
        secret = json_object_get(root, "client_secret");

        if (!json_is_object(root)
            || strcmp(ans.result.id,
                      json_string_value(json_object_get(root, "id")))
               != 0
            || strcmp(ans.result.status,
                      json_string_value(json_object_get(root, "status")))
               != 0
            || (json_is_string(secret)
                ? strcmp(ans.result.link_value, json_string_value(secret))
                  != 0
                : ans.result.link != PAY_INTENT_LINK_NONE))
        {
            abort();
        }

        json_decref(root);
    }

    n = pay_intent_result_json(&ans.result, out, sizeof(out));

    if (n == 0 || n > sizeof(out)
        || pay_intent_result_parse((unsigned char *) out, n, &back) != 0
        || memcmp(&back, &ans.result, sizeof(back)) != 0)
    {
        abort();
    }
}


static int
jansson_visible(json_t *value, size_t max)
{
    size_t       i, len;
    const char  *s;

    if (!json_is_string(value)) {
        return 0;
    }

    s = json_string_value(value);
    len = json_string_length(value);

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e) {
            return 0;
        }
    }

    return len > 0 && len <= max;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                      out[2048];
    size_t                    len;
    pay_rc_e                  rc;
    unsigned char            *body;
    pay_field_errors_t        errs;
    pay_intent_request_t      req;
    pay_provider_answer_t     ans;
    pay_idempotency_record_t  rec;

    /* an exact-size copy, so ASan sees any read past the end */

    body = malloc(size > 0 ? size : 1);
    if (body == NULL) {
        return 0;
    }

    if (size > 0) {
        memcpy(body, data, size);
    }

    rc = pay_intent_parse(body, size, 0, &req, &errs);

    if (rc == PAY_OK) {
        check_accepted(&req);

        (void) pay_provider_normalize(PAY_PROVIDER_STRIPE, &req, 200, body,
                                      size, &ans);

        if (ans.outcome == PAY_PROVIDER_OK) {
            len = pay_intent_result_json(&ans.result, out, sizeof(out));

            if (len == 0 || len > sizeof(out)) {
                abort();
            }
        }

        (void) pay_provider_normalize(PAY_PROVIDER_PAYPAL, &req, 422, body,
                                      size, &ans);
        (void) pay_provider_normalize(PAY_PROVIDER_SQUARE, &req, 200, body,
                                      size, &ans);

        check_apply(&req, body, size);

    } else if (rc == PAY_ERR_VALIDATION_FAILED) {
        if (errs.n == 0 || req.storage != NULL
            || pay_intent_problem_json(&errs, NULL, NULL, 0) == 0)
        {
            abort();
        }

    } else if (req.storage != NULL) {
        abort();
    }

    pay_intent_request_free(&req);

    check_policy(body, size);
    check_stripe_answer(body, size);

    if (pay_idempotency_record_decode(body, size, &rec) == 0
        && pay_idempotency_record_size(&rec) != size)
    {
        abort();
    }

    free(body);

    return 0;
}
