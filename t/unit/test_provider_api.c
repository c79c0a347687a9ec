/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_provider_api.c: the request bodies of the intent
 * calls and the normalization of realistic provider answers (shapes from
 * the Stripe, PayPal Orders v2 and Square API references).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "pay_intent_result.h"
#include "pay_provider_api.h"


#define PROVIDER_KEY  "ngxpay-90832a0cc2c421ae237c2af7eaca8897"

#define STRIPE_PI                                                             \
    "{\"id\":\"pi_3MtwBwLkdIwHu7ix28a3tqPa\",\"object\":\"payment_intent\","  \
    "\"amount\":2000,\"amount_capturable\":0,\"amount_received\":0,"          \
    "\"automatic_payment_methods\":{\"enabled\":true},"                       \
    "\"capture_method\":\"automatic\",\"client_secret\":"                     \
    "\"pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH\","       \
    "\"confirmation_method\":\"automatic\",\"created\":1680800504,"           \
    "\"currency\":\"usd\",\"customer\":null,\"description\":null,"            \
    "\"livemode\":false,\"metadata\":{},\"next_action\":null,"                \
    "\"payment_method\":null,\"payment_method_types\":[\"card\",\"link\"],"   \
    "\"status\":\"requires_payment_method\"}"

#define STRIPE_DECLINE                                                        \
    "{\"error\":{\"charge\":\"ch_1\",\"code\":\"card_declined\","             \
    "\"decline_code\":\"insufficient_funds\",\"doc_url\":"                    \
    "\"https://stripe.com/docs/error-codes/card-declined\","                  \
    "\"message\":\"Your card has insufficient funds.\","                      \
    "\"payment_intent\":{\"id\":\"pi_1\",\"status\":"                         \
    "\"requires_payment_method\"},\"type\":\"card_error\"}}"

#define PAYPAL_CREATED                                                        \
    "{\"id\":\"5O190127TN364715T\",\"status\":\"CREATED\",\"links\":["        \
    "{\"href\":\"https://api-m.paypal.com/v2/checkout/orders/"                \
    "5O190127TN364715T\",\"rel\":\"self\",\"method\":\"GET\"},"               \
    "{\"href\":\"https://www.paypal.com/checkoutnow?token="                   \
    "5O190127TN364715T\",\"rel\":\"approve\",\"method\":\"GET\"},"            \
    "{\"href\":\"https://api-m.paypal.com/v2/checkout/orders/"                \
    "5O190127TN364715T\",\"rel\":\"update\",\"method\":\"PATCH\"},"           \
    "{\"href\":\"https://api-m.paypal.com/v2/checkout/orders/"                \
    "5O190127TN364715T/capture\",\"rel\":\"capture\",\"method\":\"POST\"}]}"

#define PAYPAL_PAYER_ACTION                                                   \
    "{\"id\":\"8JW04786RN4281544\",\"status\":\"PAYER_ACTION_REQUIRED\","     \
    "\"payment_source\":{\"paypal\":{}},\"links\":["                          \
    "{\"href\":\"https://api-m.sandbox.paypal.com/v2/checkout/orders/"        \
    "8JW04786RN4281544\",\"rel\":\"self\",\"method\":\"GET\"},"               \
    "{\"href\":\"https://www.sandbox.paypal.com/checkoutnow?token="           \
    "8JW04786RN4281544\",\"rel\":\"payer-action\",\"method\":\"GET\"}]}"

#define PAYPAL_422                                                            \
    "{\"name\":\"UNPROCESSABLE_ENTITY\",\"details\":[{\"field\":"             \
    "\"/purchase_units/@reference_id=='default'/amount/currency_code\","      \
    "\"value\":\"XYZ\",\"location\":\"body\",\"issue\":"                      \
    "\"CURRENCY_NOT_SUPPORTED\",\"description\":\"Currency code is not "      \
    "currently supported.\"}],\"message\":\"The requested action could not "  \
    "be performed, semantically incorrect, or the business validation "       \
    "failed.\",\"debug_id\":\"f1d2c3b4a5e6\",\"links\":[{\"href\":"           \
    "\"https://developer.paypal.com/docs/api/orders/v2/"                      \
    "#error-CURRENCY_NOT_SUPPORTED\",\"rel\":\"information_link\","           \
    "\"method\":\"GET\"}]}"

#define SQUARE_PAYMENT                                                        \
    "{\"payment\":{\"id\":\"KkAkhdMsgzn59SM8A89WgKwekxLZY\",\"created_at\":"  \
    "\"2019-07-10T13:39:55.317Z\",\"updated_at\":"                            \
    "\"2019-07-10T13:40:05.982Z\",\"amount_money\":{\"amount\":2000,"         \
    "\"currency\":\"USD\"},\"status\":\"APPROVED\",\"delay_duration\":"       \
    "\"PT168H\",\"source_type\":\"CARD\",\"card_details\":{\"status\":"       \
    "\"AUTHORIZED\",\"card\":{\"card_brand\":\"VISA\",\"last_4\":\"1111\","   \
    "\"exp_month\":7,\"exp_year\":2026},\"entry_method\":\"KEYED\","          \
    "\"cvv_status\":\"CVV_ACCEPTED\",\"avs_status\":\"AVS_ACCEPTED\"},"       \
    "\"location_id\":\"L123\",\"order_id\":\"CAISENgvlJ6jLWAzERDzjyHVybY\","  \
    "\"total_money\":{\"amount\":2000,\"currency\":\"USD\"}}}"

#define SQUARE_LINK                                                           \
    "{\"payment_link\":{\"id\":\"MQ2QJXRD4JTEMX3S\",\"version\":1,"           \
    "\"order_id\":\"xqKsnCcGp7vBh8WzaUOZXfoZ3vSZY\",\"checkout_options\":"    \
    "{\"redirect_url\":\"https://shop.example/ok\"},\"url\":"                 \
    "\"https://square.link/u/EXAMPLE1\",\"long_url\":"                        \
    "\"https://checkout.square.site/merchant/ML7/order/xqKs/pay\","           \
    "\"created_at\":\"2022-04-25T21:54:45Z\"},\"related_resources\":"         \
    "{\"orders\":[{\"id\":\"xqKsnCcGp7vBh8WzaUOZXfoZ3vSZY\","                 \
    "\"location_id\":\"L123\",\"state\":\"DRAFT\"}]}}"

#define SQUARE_DECLINE                                                        \
    "{\"errors\":[{\"code\":\"GENERIC_DECLINE\",\"detail\":"                  \
    "\"Authorization error: 'GENERIC_DECLINE'\",\"category\":"                \
    "\"PAYMENT_METHOD_ERROR\"}],\"payment\":{\"id\":\"x\",\"status\":"        \
    "\"FAILED\"}}"


static pay_intent_request_t  req;


static void request(const char *json);
static char *body_of(pay_provider_e provider, const char *location_id,
    size_t *len);
static json_t *json_body_of(pay_provider_e provider,
    const char *location_id);
static const char *get_str(json_t *root, const char *path);
static pay_provider_outcome_e normalize(pay_provider_e provider,
    int status, const char *body, pay_provider_answer_t *ans);


static void
request(const char *json)
{
    pay_field_errors_t  errs;

    pay_intent_request_free(&req);

    assert_int_equal(pay_intent_parse((const unsigned char *) json,
                                      strlen(json), 0, &req, &errs),
                     PAY_OK);
}


static char *
body_of(pay_provider_e provider, const char *location_id, size_t *len)
{
    char    *out;
    size_t   size;

    size = pay_provider_request_body(provider, &req, PROVIDER_KEY,
                                     location_id, NULL, 0);
    assert_true(size > 0);

    out = malloc(size + 1);
    assert_non_null(out);

    assert_int_equal(pay_provider_request_body(provider, &req, PROVIDER_KEY,
                                               location_id, out, size),
                     size);
    out[size] = '\0';
    *len = size;

    return out;
}


static json_t *
json_body_of(pay_provider_e provider, const char *location_id)
{
    char          *out;
    size_t         len;
    json_t        *root;
    json_error_t   error;

    out = body_of(provider, location_id, &len);

    root = json_loadb(out, len, JSON_REJECT_DUPLICATES, &error);
    assert_non_null(root);

    free(out);

    return root;
}


/* a dotted path; "0" picks an array element */

static const char *
get_str(json_t *root, const char *path)
{
    char     buf[256], *name, *dot;
    json_t  *v;

    strcpy(buf, path);
    v = root;

    for (name = buf; name != NULL; name = dot) {
        dot = strchr(name, '.');

        if (dot != NULL) {
            *dot++ = '\0';
        }

        v = json_is_array(v) ? json_array_get(v, (size_t) atoi(name))
                             : json_object_get(v, name);
    }

    return json_string_value(v);
}


static pay_provider_outcome_e
normalize(pay_provider_e provider, int status, const char *body,
    pay_provider_answer_t *ans)
{
    return pay_provider_normalize(provider, &req, status,
                                  (const unsigned char *) body,
                                  body != NULL ? strlen(body) : 0, ans);
}


static int
teardown(void **state)
{
    (void) state;

    pay_intent_request_free(&req);

    return 0;
}


static void
test_calls(void **state)
{
    const pay_provider_call_t  *call;

    (void) state;

    request("{\"amount\":1,\"currency\":\"usd\"}");

    call = pay_provider_call(PAY_PROVIDER_STRIPE, &req);
    assert_string_equal(call->method, "POST");
    assert_string_equal(call->path, "/v1/payment_intents");
    assert_string_equal(call->content_type,
                        "application/x-www-form-urlencoded");
    assert_string_equal(call->idempotency_header, "Idempotency-Key");

    call = pay_provider_call(PAY_PROVIDER_PAYPAL, &req);
    assert_string_equal(call->path, "/v2/checkout/orders");
    assert_string_equal(call->content_type, "application/json");
    assert_string_equal(call->idempotency_header, "PayPal-Request-Id");

    call = pay_provider_call(PAY_PROVIDER_SQUARE, &req);
    assert_string_equal(call->path, "/v2/online-checkout/payment-links");
    assert_null(call->idempotency_header);

    request("{\"amount\":1,\"currency\":\"usd\",\"source_id\":\"cnon:x\"}");
    call = pay_provider_call(PAY_PROVIDER_SQUARE, &req);
    assert_string_equal(call->path, "/v2/payments");

    assert_null(pay_provider_call(PAY_PROVIDER_STANDARD, &req));
    assert_null(pay_provider_call(PAY_PROVIDER_NONE, &req));
}


static void
test_stripe_form_exact(void **state)
{
    char    *out, small[16];
    size_t   len;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"USD\","
            "\"description\":\"Caf\\u00e9 & more +1 = 100%\","
            "\"customer\":\"cus_NffrFeUfNV2Hib\","
            "\"metadata\":{\"order_id\":\"6735\",\"note key\":\"a/b?c=d&e\","
            "\"empty\":\"\",\"t~x.y-z_\":\"*'()!\"},"
            "\"return_url\":\"https://shop.example/ok\","
            "\"source_id\":\"ignored\"}");

    out = body_of(PAY_PROVIDER_STRIPE, "L123", &len);

    assert_string_equal(out,
        "amount=2000&currency=usd&automatic_payment_methods[enabled]=true"
        "&description=Caf%C3%A9%20%26%20more%20%2B1%20%3D%20100%25"
        "&customer=cus_NffrFeUfNV2Hib"
        "&metadata[order_id]=6735"
        "&metadata[note%20key]=a%2Fb%3Fc%3Dd%26e"
        "&metadata[empty]="
        "&metadata[t~x.y-z_]=%2A%27%28%29%21");
    assert_int_equal(len, strlen(out));

    free(out);

    /* too small: the size, nothing past the buffer */

    memset(small, '#', sizeof(small));
    assert_int_equal(pay_provider_request_body(PAY_PROVIDER_STRIPE, &req,
                                               NULL, NULL, small, 8),
                     len);
    assert_int_equal(small[8], '#');

    request("{\"amount\":5000,\"currency\":\"jpy\"}");
    out = body_of(PAY_PROVIDER_STRIPE, NULL, &len);
    assert_string_equal(out, "amount=5000&currency=jpy"
                             "&automatic_payment_methods[enabled]=true");
    free(out);

    /* Stripe counts ISK and UGX in hundredths: 500 ISK is 50000 there */

    request("{\"amount\":500,\"currency\":\"isk\"}");
    out = body_of(PAY_PROVIDER_STRIPE, NULL, &len);
    assert_string_equal(out, "amount=50000&currency=isk"
                             "&automatic_payment_methods[enabled]=true");
    free(out);

    request("{\"amount\":7,\"currency\":\"UGX\"}");
    out = body_of(PAY_PROVIDER_STRIPE, NULL, &len);
    assert_string_equal(out, "amount=700&currency=ugx"
                             "&automatic_payment_methods[enabled]=true");
    free(out);
}


static void
test_paypal_body(void **state)
{
    json_t  *root;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\","
            "\"description\":\"Order 6735\",\"customer\":\"cus_1\","
            "\"metadata\":{\"k\":\"v\"},"
            "\"return_url\":\"https://shop.example/ok\","
            "\"cancel_url\":\"https://shop.example/cancel\"}");

    root = json_body_of(PAY_PROVIDER_PAYPAL, NULL);

    assert_string_equal(get_str(root, "intent"), "CAPTURE");
    assert_int_equal(json_array_size(json_object_get(root,
                                                     "purchase_units")),
                     1);
    assert_string_equal(get_str(root, "purchase_units.0.amount."
                                      "currency_code"),
                        "USD");
    assert_string_equal(get_str(root, "purchase_units.0.amount.value"),
                        "20.00");
    assert_string_equal(get_str(root, "purchase_units.0.description"),
                        "Order 6735");
    assert_string_equal(get_str(root, "payment_source.paypal."
                                      "experience_context.return_url"),
                        "https://shop.example/ok");
    assert_string_equal(get_str(root, "payment_source.paypal."
                                      "experience_context.cancel_url"),
                        "https://shop.example/cancel");

    /* no counterpart at PayPal: not sent */
    assert_null(json_object_get(root, "metadata"));
    assert_null(json_object_get(root, "customer"));

    json_decref(root);

    /* zero- and three-decimal currencies, no URLs */

    request("{\"amount\":5000,\"currency\":\"JPY\"}");
    root = json_body_of(PAY_PROVIDER_PAYPAL, NULL);
    assert_string_equal(get_str(root, "purchase_units.0.amount.value"),
                        "5000");
    assert_string_equal(get_str(root, "purchase_units.0.amount."
                                      "currency_code"),
                        "JPY");
    assert_null(json_object_get(root, "payment_source"));
    assert_null(json_object_get(json_array_get(
                    json_object_get(root, "purchase_units"), 0),
                    "description"));
    json_decref(root);

    request("{\"amount\":1234,\"currency\":\"kwd\"}");
    root = json_body_of(PAY_PROVIDER_PAYPAL, NULL);
    assert_string_equal(get_str(root, "purchase_units.0.amount.value"),
                        "1.234");
    json_decref(root);

    /* PayPal takes HUF and TWD without decimals: whole units as such */

    request("{\"amount\":250000,\"currency\":\"huf\"}");
    root = json_body_of(PAY_PROVIDER_PAYPAL, NULL);
    assert_string_equal(get_str(root, "purchase_units.0.amount.value"),
                        "2500");
    json_decref(root);

    request("{\"amount\":12345,\"currency\":\"twd\"}");
    root = json_body_of(PAY_PROVIDER_PAYPAL, NULL);
    assert_string_equal(get_str(root, "purchase_units.0.amount.value"),
                        "123.45");
    json_decref(root);

    request("{\"amount\":5,\"currency\":\"usd\","
            "\"cancel_url\":\"https://shop.example/cancel\"}");
    root = json_body_of(PAY_PROVIDER_PAYPAL, NULL);
    assert_string_equal(get_str(root, "purchase_units.0.amount.value"),
                        "0.05");
    assert_null(get_str(root, "payment_source.paypal.experience_context."
                              "return_url"));
    assert_string_equal(get_str(root, "payment_source.paypal."
                                      "experience_context.cancel_url"),
                        "https://shop.example/cancel");
    json_decref(root);
}


static void
test_square_payment_body(void **state)
{
    json_t  *root, *money;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\","
            "\"source_id\":\"cnon:card-nonce-ok\",\"customer\":\"W92WH6P1\","
            "\"description\":\"Order 6735\",\"metadata\":{\"k\":\"v\"}}");

    root = json_body_of(PAY_PROVIDER_SQUARE, "L123");

    assert_string_equal(get_str(root, "source_id"), "cnon:card-nonce-ok");
    assert_string_equal(get_str(root, "idempotency_key"), PROVIDER_KEY);
    assert_string_equal(get_str(root, "location_id"), "L123");
    assert_string_equal(get_str(root, "customer_id"), "W92WH6P1");
    assert_string_equal(get_str(root, "note"), "Order 6735");
    assert_true(json_is_false(json_object_get(root, "autocomplete")));

    money = json_object_get(root, "amount_money");
    assert_int_equal(json_integer_value(json_object_get(money, "amount")),
                     2000);
    assert_string_equal(get_str(money, "currency"), "USD");
    assert_null(json_object_get(root, "metadata"));

    json_decref(root);

    /* location_id is optional for a payment (the main location) */

    root = json_body_of(PAY_PROVIDER_SQUARE, NULL);
    assert_null(json_object_get(root, "location_id"));
    json_decref(root);

    /* the key travels in the body: without one, no body */
    assert_int_equal(pay_provider_request_body(PAY_PROVIDER_SQUARE, &req,
                                               NULL, "L123", NULL, 0),
                     0);
}


static void
test_square_link_body(void **state)
{
    json_t  *root, *money;

    (void) state;

    request("{\"amount\":1234,\"currency\":\"KWD\","
            "\"description\":\"Order 6735\","
            "\"return_url\":\"https://shop.example/ok\"}");

    root = json_body_of(PAY_PROVIDER_SQUARE, "L123");

    assert_string_equal(get_str(root, "idempotency_key"), PROVIDER_KEY);
    assert_string_equal(get_str(root, "quick_pay.name"), "Order 6735");
    assert_string_equal(get_str(root, "quick_pay.location_id"), "L123");
    assert_string_equal(get_str(root, "checkout_options.redirect_url"),
                        "https://shop.example/ok");

    money = json_object_get(json_object_get(root, "quick_pay"),
                            "price_money");
    assert_int_equal(json_integer_value(json_object_get(money, "amount")),
                     1234);
    assert_string_equal(get_str(money, "currency"), "KWD");

    json_decref(root);

    request("{\"amount\":100,\"currency\":\"usd\",\"description\":\"\"}");
    root = json_body_of(PAY_PROVIDER_SQUARE, "L123");
    assert_string_equal(get_str(root, "quick_pay.name"), "Payment");
    assert_null(json_object_get(root, "checkout_options"));
    json_decref(root);

    /* a payment link needs a location */
    assert_int_equal(pay_provider_request_body(PAY_PROVIDER_SQUARE, &req,
                                               PROVIDER_KEY, NULL, NULL, 0),
                     0);
    assert_int_equal(pay_provider_request_body(PAY_PROVIDER_SQUARE, &req,
                                               PROVIDER_KEY, "", NULL, 0),
                     0);
    assert_int_equal(pay_provider_request_body(PAY_PROVIDER_STANDARD, &req,
                                               PROVIDER_KEY, "", NULL, 0),
                     0);
}


static void
test_stripe_answers(void **state)
{
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200, STRIPE_PI, &ans),
                     PAY_PROVIDER_OK);
    assert_int_equal(ans.http_status, 200);
    assert_int_equal(ans.result.provider, PAY_PROVIDER_STRIPE);
    assert_string_equal(ans.result.id, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
    assert_string_equal(ans.result.status, "requires_payment_method");
    assert_int_equal(ans.result.link, PAY_INTENT_CLIENT_SECRET);
    assert_string_equal(ans.result.link_value,
                        "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_"
                        "YrKJUKribcBjcG8HVhfZluoGH");
    assert_int_equal(ans.result.amount, 2000);
    assert_string_equal(ans.result.currency, "usd");

    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 402, STRIPE_DECLINE,
                               &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "card_declined");
    assert_string_equal(ans.decline_code, "insufficient_funds");
    assert_string_equal(ans.message, "Your card has insufficient funds.");

    /* no code: the type */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 400,
                               "{\"error\":{\"message\":\"Invalid currency:"
                               " xyz\",\"param\":\"currency\",\"type\":"
                               "\"invalid_request_error\"}}", &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "invalid_request_error");
    assert_string_equal(ans.decline_code, "");

    /* an unreadable 4xx is still the answer */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 401, "<html>", &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "");
    assert_string_equal(ans.message, "");

    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 429,
                               "{\"error\":{\"type\":\"rate_limit\"}}", &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 500, "{}", &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 503, NULL, &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 408, NULL, &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 0, NULL, &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 302, NULL, &ans),
                     PAY_PROVIDER_RETRY);

    /* 2xx that does not say which intent: fail over */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200, "garbage", &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200, NULL, &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"status\":\"requires_payment_method\"}",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\\r\\nX: y\",\"status\":\"a\"}",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_string_equal(ans.result.id, "");
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\","
                               "\"client_secret\":5}", &ans),
                     PAY_PROVIDER_RETRY);

    /* no client secret (a restricted key): still an intent */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\","
                               "\"client_secret\":null}", &ans),
                     PAY_PROVIDER_OK);
    assert_int_equal(ans.result.link, PAY_INTENT_LINK_NONE);
}


/*
 * Stripe's 2xx is scanned (pay_json), not loaded by jansson: the same
 * outcomes, but for a duplicate of a name it does not read.
 */
static void
test_stripe_scanned(void **state)
{
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    /* escapes decoded, nested members ignored, key order free */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"next_action\":{\"id\":\"x\","
                               "\"client_secret\":\"nested\"},"
                               "\"status\":\"succ\\u0065eded\","
                               "\"\\u0069d\":\"pi_\\/1\"}", &ans),
                     PAY_PROVIDER_OK);
    assert_string_equal(ans.result.id, "pi_/1");
    assert_string_equal(ans.result.status, "succeeded");
    assert_int_equal(ans.result.link, PAY_INTENT_LINK_NONE);
    assert_int_equal(ans.result.provider, PAY_PROVIDER_STRIPE);
    assert_int_equal(ans.result.amount, 2000);
    assert_string_equal(ans.result.currency, "usd");

    /* a duplicate of what it reads: which intent is not known */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\","
                               "\"id\":\"pi_2\"}", &ans),
                     PAY_PROVIDER_RETRY);
    assert_string_equal(ans.result.id, "");
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\","
                               "\"client_secret\":null,"
                               "\"client_secret\":\"s\"}", &ans),
                     PAY_PROVIDER_RETRY);

    /* a duplicate of anything else: the intent is made, no failover */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\","
                               "\"livemode\":false,\"livemode\":false}",
                               &ans),
                     PAY_PROVIDER_OK);
    assert_string_equal(ans.result.id, "pi_1");

    /* what is not one valid object, or a value not visible ASCII */
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\"} x",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "[{\"id\":\"pi_1\",\"status\":\"a\"}]",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\",\"status\":\"a\",",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi 1\",\"status\":\"a\"}",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_\\u00e91\",\"status\":\"a\"}",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"pi_1\\u0000\",\"status\":\"a\"}",
                               &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":\"\",\"status\":\"a\"}", &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200,
                               "{\"id\":7,\"status\":\"a\"}", &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 201,
                               "{\"id\":\"pi_1\",\"status\":\"a\","
                               "\"client_secret\":\"\"}", &ans),
                     PAY_PROVIDER_RETRY);
    assert_int_equal(ans.result.link, PAY_INTENT_LINK_NONE);
    assert_string_equal(ans.result.link_value, "");
}


static void
test_paypal_answers(void **state)
{
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 201, PAYPAL_CREATED,
                               &ans),
                     PAY_PROVIDER_OK);
    assert_string_equal(ans.result.id, "5O190127TN364715T");
    assert_string_equal(ans.result.status, "CREATED");
    assert_int_equal(ans.result.link, PAY_INTENT_APPROVE_URL);
    assert_string_equal(ans.result.link_value,
                        "https://www.paypal.com/checkoutnow?token="
                        "5O190127TN364715T");

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 200, PAYPAL_PAYER_ACTION,
                               &ans),
                     PAY_PROVIDER_OK);
    assert_string_equal(ans.result.status, "PAYER_ACTION_REQUIRED");
    assert_string_equal(ans.result.link_value,
                        "https://www.sandbox.paypal.com/checkoutnow?token="
                        "8JW04786RN4281544");

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 422, PAYPAL_422, &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "CURRENCY_NOT_SUPPORTED");
    assert_string_equal(ans.message,
                        "Currency code is not currently supported.");

    /* no details: the name and message */
    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 400,
                               "{\"name\":\"INVALID_REQUEST\",\"message\":"
                               "\"Request is not well-formed.\","
                               "\"debug_id\":\"abc\"}", &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "INVALID_REQUEST");
    assert_string_equal(ans.message, "Request is not well-formed.");

    /* OAuth's own shape */
    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 401,
                               "{\"error\":\"invalid_token\","
                               "\"error_description\":\"Token signature "
                               "verification failed\"}", &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "invalid_token");
    assert_string_equal(ans.message, "Token signature verification failed");

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 503,
                               "{\"name\":\"SERVICE_UNAVAILABLE\"}", &ans),
                     PAY_PROVIDER_RETRY);

    /* a link with a bad href is not an intent we can hand out */
    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 201,
                               "{\"id\":\"X\",\"status\":\"CREATED\","
                               "\"links\":[{\"rel\":\"approve\","
                               "\"href\":\"https://a b\"}]}", &ans),
                     PAY_PROVIDER_RETRY);
}


static void
test_square_answers(void **state)
{
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\","
            "\"source_id\":\"cnon:card-nonce-ok\"}");

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 200, SQUARE_PAYMENT,
                               &ans),
                     PAY_PROVIDER_OK);
    assert_string_equal(ans.result.id, "KkAkhdMsgzn59SM8A89WgKwekxLZY");
    assert_string_equal(ans.result.status, "APPROVED");
    assert_int_equal(ans.result.link, PAY_INTENT_LINK_NONE);

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 400, SQUARE_DECLINE,
                               &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "GENERIC_DECLINE");
    assert_string_equal(ans.message,
                        "Authorization error: 'GENERIC_DECLINE'");

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 401,
                               "{\"errors\":[{\"category\":"
                               "\"AUTHENTICATION_ERROR\",\"code\":"
                               "\"UNAUTHORIZED\",\"detail\":\"This request "
                               "could not be authorized.\"}]}", &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "UNAUTHORIZED");

    /* a payment link answer to a payment call is not a payment */
    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 200, SQUARE_LINK, &ans),
                     PAY_PROVIDER_RETRY);

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 200, SQUARE_LINK, &ans),
                     PAY_PROVIDER_OK);
    assert_string_equal(ans.result.id, "MQ2QJXRD4JTEMX3S");
    assert_string_equal(ans.result.status, "CREATED");
    assert_int_equal(ans.result.link, PAY_INTENT_PAYMENT_LINK_URL);
    assert_string_equal(ans.result.link_value,
                        "https://square.link/u/EXAMPLE1");

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 200,
                               "{\"payment_link\":{\"id\":\"MQ2\"}}", &ans),
                     PAY_PROVIDER_RETRY);
}


static void
test_message_sanitized(void **state)
{
    char                   body[2048], *p;
    size_t                 i;
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":1,\"currency\":\"usd\"}");

    /* 400 two-byte characters: cut on a character boundary */

    p = body + sprintf(body, "{\"errors\":[{\"code\":\"X\",\"detail\":\"");

    for (i = 0; i < 400; i++) {
        p += sprintf(p, "\xc3\xa9");
    }

    strcpy(p, "\"}]}");

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 400, body, &ans),
                     PAY_PROVIDER_DECLINED);
    assert_int_equal(strlen(ans.message), 510);
    assert_memory_equal(ans.message + 508, "\xc3\xa9", 2);

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 400,
                               "{\"errors\":[{\"code\":\"BAD CODE\","
                               "\"detail\":\"line1\\nline2\\u0007\"}]}",
                               &ans),
                     PAY_PROVIDER_DECLINED);
    assert_string_equal(ans.code, "");
    assert_string_equal(ans.message, "line1 line2 ");
}


static void
test_result_json(void **state)
{
    char                   out[512];
    size_t                 len;
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 200, STRIPE_PI, &ans),
                     PAY_PROVIDER_OK);

    len = pay_intent_result_json(&ans.result, NULL, 0);
    assert_int_equal(pay_intent_result_json(&ans.result, out, sizeof(out)),
                     len);
    out[len] = '\0';

    assert_string_equal(out,
        "{\"provider\":\"stripe\",\"id\":\"pi_3MtwBwLkdIwHu7ix28a3tqPa\","
        "\"status\":\"requires_payment_method\",\"client_secret\":"
        "\"pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH\","
        "\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 201, PAYPAL_CREATED,
                               &ans),
                     PAY_PROVIDER_OK);
    len = pay_intent_result_json(&ans.result, out, sizeof(out));
    out[len] = '\0';
    assert_string_equal(out,
        "{\"provider\":\"paypal\",\"id\":\"5O190127TN364715T\","
        "\"status\":\"CREATED\",\"approve_url\":"
        "\"https://www.paypal.com/checkoutnow?token=5O190127TN364715T\","
        "\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 200, SQUARE_LINK, &ans),
                     PAY_PROVIDER_OK);
    len = pay_intent_result_json(&ans.result, out, sizeof(out));
    out[len] = '\0';
    assert_string_equal(out,
        "{\"provider\":\"square\",\"id\":\"MQ2QJXRD4JTEMX3S\","
        "\"status\":\"CREATED\",\"payment_link_url\":"
        "\"https://square.link/u/EXAMPLE1\",\"amount\":2000,"
        "\"currency\":\"usd\"}");

    request("{\"amount\":2000,\"currency\":\"usd\","
            "\"source_id\":\"cnon:card-nonce-ok\"}");
    assert_int_equal(normalize(PAY_PROVIDER_SQUARE, 200, SQUARE_PAYMENT,
                               &ans),
                     PAY_PROVIDER_OK);
    len = pay_intent_result_json(&ans.result, out, sizeof(out));
    out[len] = '\0';
    assert_string_equal(out,
        "{\"provider\":\"square\",\"id\":\"KkAkhdMsgzn59SM8A89WgKwekxLZY\","
        "\"status\":\"APPROVED\",\"amount\":2000,\"currency\":\"usd\"}");

    ans.result.provider = PAY_PROVIDER_STANDARD;
    assert_int_equal(pay_intent_result_json(&ans.result, out, sizeof(out)),
                     0);
    assert_int_equal(pay_intent_result_json(NULL, out, sizeof(out)), 0);
}


/*
 * The hand-written result is the bytes jansson's compact dump makes of
 * the same members, " and \ escaped included; a buffer it does not fit
 * in gets its length; a space, control or non-ASCII byte fails; it reads
 * back, the same.
 */
static void
test_result_json_as_jansson(void **state)
{
    char                 out[512], small[16], *dumped;
    size_t               len, i;
    json_t              *json;
    pay_intent_result_t  res, back;
    static const char   *ids[] = {
        "pi_1", "a\"b", "\\", "x\\\"y\"", "{}[]:,/~", "!#$%&'()*+-."
    };

    (void) state;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        memset(&res, 0, sizeof(res));
        res.provider = PAY_PROVIDER_PAYPAL;
        strcpy(res.id, ids[i]);
        strcpy(res.status, "CREATED");
        if (i % 2) {
            res.link = PAY_INTENT_APPROVE_URL;
            strcpy(res.link_value, "https://example.com/?q=\"1\"&r=\\");
        }

        res.amount = 9223372036854775807LL - (long long) i;
        strcpy(res.currency, "eur");

        json = json_pack("{s:s,s:s,s:s}", "provider", "paypal",
                         "id", res.id, "status", res.status);
        assert_non_null(json);

        if (i % 2) {
            json_object_set_new(json, "approve_url",
                                json_string(res.link_value));
        }

        json_object_set_new(json, "amount", json_integer(res.amount));
        json_object_set_new(json, "currency", json_string(res.currency));
        dumped = json_dumps(json, JSON_COMPACT);
        json_decref(json);
        assert_non_null(dumped);

        len = pay_intent_result_json(&res, NULL, 0);
        assert_int_equal(len, strlen(dumped));
        assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)),
                         len);
        assert_memory_equal(out, dumped, len);
        free(dumped);

        /* too small: the length told, no byte past the buffer */
        memset(small, 'Z', sizeof(small));
        assert_int_equal(pay_intent_result_json(&res, small, 15), len);
        assert_int_equal(small[15], 'Z');

        /* read back, the same */
        assert_int_equal(pay_intent_result_parse((unsigned char *) out, len,
                                                 &back),
                         0);
        assert_memory_equal(&back, &res, sizeof(res));
    }

    /* a space would not read back: not written either */
    memset(&res, 0, sizeof(res));
    res.provider = PAY_PROVIDER_STRIPE;
    strcpy(res.id, "sp ace");
    strcpy(res.status, "a");
    strcpy(res.currency, "usd");
    res.amount = 1;
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);

    /* nor what pay_intent_result_parse() refuses for another reason */
    strcpy(res.id, "pi_1");
    assert_int_not_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    res.status[0] = '\0';
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    strcpy(res.status, "a");
    res.link = PAY_INTENT_CLIENT_SECRET;
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    res.link = PAY_INTENT_LINK_NONE;
    res.amount = 0;
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    res.amount = -5;
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    res.amount = 1;
    strcpy(res.currency, "USD");
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    strcpy(res.currency, "zzz");
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
    strcpy(res.currency, "usd");
    assert_int_not_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);

    memset(&res, 0, sizeof(res));
    res.provider = PAY_PROVIDER_STRIPE;
    strcpy(res.id, "pi_1\n");
    strcpy(res.status, "a");
    strcpy(res.currency, "usd");
    res.amount = 1;
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);

    strcpy(res.id, "pi_\xc3\xa9");
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);

    strcpy(res.id, "pi_1");
    res.link = PAY_INTENT_CLIENT_SECRET;
    strcpy(res.link_value, "s\x7f");
    assert_int_equal(pay_intent_result_json(&res, out, sizeof(out)), 0);
}


static void
test_problem_json(void **state)
{
    char                   out[1024];
    size_t                 len;
    json_t                *root;
    json_error_t           error;
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    assert_int_equal(normalize(PAY_PROVIDER_STRIPE, 402, STRIPE_DECLINE,
                               &ans),
                     PAY_PROVIDER_DECLINED);

    len = pay_provider_problem_json(PAY_PROVIDER_STRIPE, &ans, 402, out,
                                    sizeof(out));
    assert_true(len > 0 && len < sizeof(out));
    assert_int_equal(out[len - 1], '\n');

    root = json_loadb(out, len, 0, &error);
    assert_non_null(root);
    assert_string_equal(get_str(root, "type"),
                        "urn:ngx-pay:error:provider_error");
    assert_string_equal(get_str(root, "title"), "Provider error");
    assert_int_equal(json_integer_value(json_object_get(root, "status")),
                     402);
    assert_string_equal(get_str(root, "detail"),
                        "Your card has insufficient funds.");
    assert_string_equal(get_str(root, "code"), "provider_error");
    assert_string_equal(get_str(root, "provider"), "stripe");
    assert_string_equal(get_str(root, "provider_code"), "card_declined");
    assert_string_equal(get_str(root, "decline_code"), "insufficient_funds");
    json_decref(root);

    /* nothing readable from the provider: the title, no codes */

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 404, "", &ans),
                     PAY_PROVIDER_DECLINED);
    len = pay_provider_problem_json(PAY_PROVIDER_PAYPAL, &ans, 404, out,
                                    sizeof(out));
    root = json_loadb(out, len, 0, &error);
    assert_non_null(root);
    assert_string_equal(get_str(root, "detail"), "Provider error");
    assert_int_equal(json_integer_value(json_object_get(root, "status")),
                     404);
    assert_null(json_object_get(root, "provider_code"));
    assert_null(json_object_get(root, "decline_code"));
    json_decref(root);
}


static void
test_result_parse(void **state)
{
    char                   out[512];
    size_t                 len;
    pay_intent_result_t    back;
    pay_provider_answer_t  ans;

    (void) state;

    request("{\"amount\":2000,\"currency\":\"usd\"}");

    /* what the module stores as "created" reads back field for field */

    assert_int_equal(normalize(PAY_PROVIDER_PAYPAL, 201, PAYPAL_CREATED,
                               &ans),
                     PAY_PROVIDER_OK);
    len = pay_intent_result_json(&ans.result, out, sizeof(out));
    assert_int_equal(pay_intent_result_parse((unsigned char *) out, len,
                                             &back), 0);
    assert_int_equal(back.provider, PAY_PROVIDER_PAYPAL);
    assert_string_equal(back.id, ans.result.id);
    assert_string_equal(back.status, ans.result.status);
    assert_int_equal(back.link, PAY_INTENT_APPROVE_URL);
    assert_string_equal(back.link_value, ans.result.link_value);
    assert_int_equal(back.amount, 2000);
    assert_string_equal(back.currency, "usd");

    /* garbage from a store is refused */

    assert_int_equal(pay_intent_result_parse((unsigned char *) "{}", 2,
                                             &back), -1);
    assert_int_equal(pay_intent_result_parse((unsigned char *)
                         "{\"provider\":\"stripe\",\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":-1,"
                         "\"currency\":\"usd\"}", 70, &back), -1);
    assert_int_equal(pay_intent_result_parse((unsigned char *) "[1]", 3,
                                             &back), -1);
}


/* a stored intent altered in the store is refused, not passed on */

static int
result_parse_str(const char *json)
{
    pay_intent_result_t  back;

    return pay_intent_result_parse((const unsigned char *) json,
                                   strlen(json), &back);
}


#define RESULT_HEAD  "{\"provider\":\"stripe\","
#define RESULT_TAIL  ",\"amount\":2000,\"currency\":\"usd\"}"

static void
test_result_parse_tampered(void **state)
{
    pay_intent_result_t  back;

    (void) state;

    /* the shape the module writes: accepted */
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"requires_payment_method\","
                         "\"client_secret\":\"pi_1_secret_2\"" RESULT_TAIL),
                     0);

    /* ids and statuses that would reach a header: CR, LF, controls, SP */
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\\r\\n"
                         "X-Evil: 1\",\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi\\u0001\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi 1\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"a\\nb\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_\xc3\xa9\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);

    /* a link with a LF, two links, a member the module never writes */
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"client_secret\":\"s\\n\""
                         RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"client_secret\":\"s\","
                         "\"approve_url\":\"https://x/\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"extra\":1" RESULT_TAIL), -1);

    /* currencies: unknown, upper case, not three letters */
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":1,"
                         "\"currency\":\"zzz\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":1,"
                         "\"currency\":\"USD\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":1,"
                         "\"currency\":\"us\\u0000\"}"), -1);

    /*
     * The bytes are handed on as they are ($pay_intent_json, the replayed
     * answer): only the writer's own form is taken.  Whitespace (a CR LF
     * between members would reach a header), another order, an escape,
     * another way to write the amount.
     */
    assert_int_equal(result_parse_str("{\"provider\":\"stripe\",\r\n"
                         "\"id\":\"pi_1\",\"status\":\"x\"" RESULT_TAIL),
                     -1);
    assert_int_equal(result_parse_str(" " RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\"" RESULT_TAIL "\n"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"status\":\"x\","
                         "\"id\":\"pi_1\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_\\u0031\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi\\/1\","
                         "\"status\":\"x\"" RESULT_TAIL), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":2e3,"
                         "\"currency\":\"usd\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":2000.0,"
                         "\"currency\":\"usd\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":02000,"
                         "\"currency\":\"usd\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":0,"
                         "\"currency\":\"usd\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":9223372036854775808,"
                         "\"currency\":\"usd\"}"), -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"amount\":9223372036854775807,"
                         "\"currency\":\"usd\"}"), 0);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\",\"id\":\"pi_1\"" RESULT_TAIL),
                     -1);
    assert_int_equal(result_parse_str(RESULT_HEAD "\"id\":\"pi_1\","
                         "\"status\":\"x\"" RESULT_TAIL "{}"), -1);

    /* a refusal leaves nothing behind */
    memset(&back, 'x', sizeof(back));
    assert_int_equal(pay_intent_result_parse((const unsigned char *)
                         RESULT_HEAD "\"id\":\"a\\rb\",\"status\":\"x\""
                         RESULT_TAIL,
                         sizeof(RESULT_HEAD "\"id\":\"a\\rb\","
                                "\"status\":\"x\"" RESULT_TAIL) - 1,
                         &back), -1);
    assert_int_equal(back.id[0], '\0');
    assert_int_equal(back.provider, PAY_PROVIDER_NONE);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_calls, teardown),
        cmocka_unit_test_teardown(test_stripe_form_exact, teardown),
        cmocka_unit_test_teardown(test_paypal_body, teardown),
        cmocka_unit_test_teardown(test_square_payment_body, teardown),
        cmocka_unit_test_teardown(test_square_link_body, teardown),
        cmocka_unit_test_teardown(test_stripe_answers, teardown),
        cmocka_unit_test_teardown(test_stripe_scanned, teardown),
        cmocka_unit_test_teardown(test_paypal_answers, teardown),
        cmocka_unit_test_teardown(test_square_answers, teardown),
        cmocka_unit_test_teardown(test_message_sanitized, teardown),
        cmocka_unit_test_teardown(test_result_json, teardown),
        cmocka_unit_test_teardown(test_result_json_as_jansson, teardown),
        cmocka_unit_test_teardown(test_problem_json, teardown),
        cmocka_unit_test_teardown(test_result_parse, teardown),
        cmocka_unit_test_teardown(test_result_parse_tampered, teardown),
    };

    return cmocka_run_group_tests_name("pay_provider_api", tests, NULL,
                                       NULL);
}
