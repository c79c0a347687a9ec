/*
 * Copyright (C) ngx_pay authors
 *
 * Provider requests that create an intent, and their answers normalized.
 *
 * Shapes (the providers' API references):
 *   Stripe PaymentIntent: {"id":"pi_..","object":"payment_intent",
 *     "status":"requires_payment_method","client_secret":"pi_.._secret_..",
 *     ...}; errors {"error":{"type","code","decline_code","message",..}}.
 *   PayPal Orders v2: {"id":"5O19..","status":"CREATED" or
 *     "PAYER_ACTION_REQUIRED","links":[{"href","rel":"approve" or
 *     "payer-action","method":"GET"},..]}; errors {"name","message",
 *     "debug_id","details":[{"issue","description",..}]}, and OAuth's
 *     {"error","error_description"}.
 *   Square: {"payment":{"id","status":"APPROVED",..}} and
 *     {"payment_link":{"id","url","order_id","version",..}}; errors
 *     {"errors":[{"category","code","detail","field"}]}.
 */


#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pay_currency.h"
#include "pay_intent_result.h"
#include "pay_json.h"
#include "pay_provider_api.h"


#define PAY_FORM_TYPE           "application/x-www-form-urlencoded"
#define PAY_JSON_TYPE           "application/json"

/* a Square payment link has no status of its own */
#define PAY_SQUARE_LINK_STATUS  "CREATED"
#define PAY_SQUARE_LINK_NAME    "Payment"


typedef struct {
    char    *out;
    size_t   size;
    size_t   len;       /* the whole length, written or not */
} pay_form_t;


static void pay_form_raw(pay_form_t *f, const char *s, size_t len);
static void pay_form_escaped(pay_form_t *f, const char *s, size_t len);
static void pay_form_pair(pay_form_t *f, const char *name,
    const pay_intent_str_t *value);
static size_t pay_stripe_body(const pay_intent_request_t *req, char *out,
    size_t size);
static json_t *pay_paypal_body(const pay_intent_request_t *req);
static json_t *pay_square_body(const pay_intent_request_t *req,
    const char *idempotency_key, const char *location_id);
static json_t *pay_money(const pay_intent_request_t *req,
    const char *currency_name);
static int pay_set_str(json_t *obj, const char *name,
    const pay_intent_str_t *value);
static size_t pay_dump(json_t *json, char *out, size_t size, int lf);
static int pay_normalize_stripe(const pay_intent_request_t *req,
    const unsigned char *body, size_t len, pay_intent_result_t *res);
static int pay_copy_ascii(json_t *value, char *dst, size_t max);
static int pay_normalize_ok(pay_provider_e provider,
    const pay_intent_request_t *req, json_t *root, pay_intent_result_t *res);
static void pay_normalize_error(pay_provider_e provider, json_t *root,
    pay_provider_answer_t *ans);
static void pay_copy_message(json_t *value, char *dst, size_t max);


static const pay_provider_call_t  pay_stripe_call = {
    "POST", "/v1/payment_intents", PAY_FORM_TYPE, "Idempotency-Key"
};

static const pay_provider_call_t  pay_paypal_call = {
    "POST", "/v2/checkout/orders", PAY_JSON_TYPE, "PayPal-Request-Id"
};

static const pay_provider_call_t  pay_square_payment_call = {
    "POST", "/v2/payments", PAY_JSON_TYPE, NULL
};

static const pay_provider_call_t  pay_square_link_call = {
    "POST", "/v2/online-checkout/payment-links", PAY_JSON_TYPE, NULL
};


const pay_provider_call_t *
pay_provider_call(pay_provider_e provider, const pay_intent_request_t *req)
{
    switch (provider) {

    case PAY_PROVIDER_STRIPE:
        return &pay_stripe_call;

    case PAY_PROVIDER_PAYPAL:
        return &pay_paypal_call;

    case PAY_PROVIDER_SQUARE:
        return (req != NULL && req->source_id.data != NULL)
               ? &pay_square_payment_call : &pay_square_link_call;

    default:
        return NULL;
    }
}


size_t
pay_provider_request_body(pay_provider_e provider,
    const pay_intent_request_t *req, const char *idempotency_key,
    const char *location_id, char *out, size_t size)
{
    size_t   len;
    json_t  *body;

    if (req == NULL) {
        return 0;
    }

    if (out == NULL) {
        size = 0;
    }

    switch (provider) {

    case PAY_PROVIDER_STRIPE:
        return pay_stripe_body(req, out, size);

    case PAY_PROVIDER_PAYPAL:
        body = pay_paypal_body(req);
        break;

    case PAY_PROVIDER_SQUARE:
        body = pay_square_body(req, idempotency_key, location_id);
        break;

    default:
        return 0;
    }

    if (body == NULL) {
        return 0;
    }

    len = pay_dump(body, out, size, 0);

    json_decref(body);

    return len;
}


/* Stripe */


static void
pay_form_raw(pay_form_t *f, const char *s, size_t len)
{
    if (f->out != NULL && f->len + len <= f->size) {
        memcpy(f->out + f->len, s, len);
    }

    f->len += len;
}


static void
pay_form_escaped(pay_form_t *f, const char *s, size_t len)
{
    char                 esc[3];
    size_t               i;
    unsigned char        c;
    static const char    hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~')
        {
            pay_form_raw(f, &s[i], 1);
            continue;
        }

        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 0x0f];

        pay_form_raw(f, esc, 3);
    }
}


/* "&name=value" when value is there; name is ours, written as it is */

static void
pay_form_pair(pay_form_t *f, const char *name, const pay_intent_str_t *value)
{
    if (value->data == NULL) {
        return;
    }

    pay_form_raw(f, "&", 1);
    pay_form_raw(f, name, strlen(name));
    pay_form_raw(f, "=", 1);
    pay_form_escaped(f, value->data, value->len);
}


/*
 * Stripe counts ISK and UGX, zero-decimal in ISO 4217, in hundredths
 * (its API keeps them two-decimal for compatibility; amounts must be
 * multiples of 100): 500 ISK is "amount=50000" there.
 */

static size_t
pay_stripe_body(const pay_intent_request_t *req, char *out, size_t size)
{
    char        amount[24];
    size_t      i;
    long long   minor;
    pay_form_t  f;

    f.out = out;
    f.size = size;
    f.len = 0;

    minor = req->amount;

    if (strcmp(req->currency, "isk") == 0
        || strcmp(req->currency, "ugx") == 0)
    {
        if (minor > LLONG_MAX / 100) {
            return 0;
        }

        minor *= 100;
    }

    snprintf(amount, sizeof(amount), "%lld", minor);

    pay_form_raw(&f, "amount=", 7);
    pay_form_raw(&f, amount, strlen(amount));
    pay_form_raw(&f, "&currency=", 10);
    pay_form_escaped(&f, req->currency, strlen(req->currency));
    pay_form_raw(&f, "&automatic_payment_methods[enabled]=true",
                 sizeof("&automatic_payment_methods[enabled]=true") - 1);

    pay_form_pair(&f, "description", &req->description);
    pay_form_pair(&f, "customer", &req->customer);

    for (i = 0; i < req->nmetadata; i++) {
        pay_form_raw(&f, "&metadata[", 10);
        pay_form_escaped(&f, req->metadata[i].key.data,
                         req->metadata[i].key.len);
        pay_form_raw(&f, "]=", 2);
        pay_form_escaped(&f, req->metadata[i].value.data,
                         req->metadata[i].value.len);
    }

    return f.len;
}


/* PayPal and Square */


static json_t *
pay_paypal_body(const pay_intent_request_t *req)
{
    int        exponent;
    char       value[PAY_AMOUNT_DECIMAL_MAX];
    char       currency[4];
    size_t     i;
    json_t    *body, *unit, *context;
    long long  amount;

    amount = req->amount;
    exponent = req->exponent;

    /*
     * PayPal takes HUF and TWD (two-decimal in ISO 4217) without decimals:
     * whole units are sent as such; anything else is PayPal's to refuse.
     */

    if ((strcmp(req->currency, "huf") == 0
         || strcmp(req->currency, "twd") == 0)
        && amount % 100 == 0)
    {
        amount /= 100;
        exponent = 0;
    }

    if (pay_amount_decimal(amount, exponent, value, sizeof(value)) == 0) {
        return NULL;
    }

    for (i = 0; i < 4; i++) {
        currency[i] = (req->currency[i] >= 'a' && req->currency[i] <= 'z')
                      ? (char) (req->currency[i] - 'a' + 'A')
                      : req->currency[i];
    }

    body = json_pack("{s:s,s:[{s:{s:s,s:s}}]}",
                     "intent", "CAPTURE",
                     "purchase_units",
                         "amount",
                             "currency_code", currency,
                             "value", value);
    if (body == NULL) {
        return NULL;
    }

    unit = json_array_get(json_object_get(body, "purchase_units"), 0);

    if (pay_set_str(unit, "description", &req->description) != 0) {
        goto failed;
    }

    if (req->return_url.data != NULL || req->cancel_url.data != NULL) {
        context = json_object();

        if (json_object_set_new(body, "payment_source",
                                json_pack("{s:{s:o}}", "paypal",
                                          "experience_context", context))
            != 0
            || pay_set_str(context, "return_url", &req->return_url) != 0
            || pay_set_str(context, "cancel_url", &req->cancel_url) != 0)
        {
            goto failed;
        }
    }

    return body;

failed:

    json_decref(body);

    return NULL;
}


static json_t *
pay_square_body(const pay_intent_request_t *req, const char *idempotency_key,
    const char *location_id)
{
    json_t            *body, *quick_pay, *options;
    pay_intent_str_t   location, name;

    if (idempotency_key == NULL) {
        return NULL;
    }

    location.data = location_id;
    location.len = (location_id != NULL) ? strlen(location_id) : 0;

    if (req->source_id.data != NULL) {

        body = json_pack("{s:s%,s:s,s:o,s:b}",
                         "source_id", req->source_id.data, req->source_id.len,
                         "idempotency_key", idempotency_key,
                         "amount_money", pay_money(req, "currency"),
                         "autocomplete", 0);

        if (body == NULL
            || pay_set_str(body, "location_id", &location) != 0
            || pay_set_str(body, "customer_id", &req->customer) != 0
            || pay_set_str(body, "note", &req->description) != 0)
        {
            goto failed;
        }

        return body;
    }

    if (location_id == NULL || location_id[0] == '\0') {
        return NULL;
    }

    if (req->description.data != NULL && req->description.len > 0) {
        name = req->description;

    } else {
        name.data = PAY_SQUARE_LINK_NAME;
        name.len = sizeof(PAY_SQUARE_LINK_NAME) - 1;
    }

    quick_pay = json_pack("{s:s%,s:o,s:s}",
                          "name", name.data, name.len,
                          "price_money", pay_money(req, "currency"),
                          "location_id", location_id);

    body = json_pack("{s:s,s:o}", "idempotency_key", idempotency_key,
                     "quick_pay", quick_pay);

    if (body == NULL) {
        goto failed;
    }

    if (req->return_url.data != NULL) {
        options = json_object();

        if (json_object_set_new(body, "checkout_options", options) != 0
            || pay_set_str(options, "redirect_url", &req->return_url) != 0)
        {
            goto failed;
        }
    }

    return body;

failed:

    json_decref(body);

    return NULL;
}


/* {"amount":2000,<currency_name>:"USD"}: Square's Money */

static json_t *
pay_money(const pay_intent_request_t *req, const char *currency_name)
{
    char    currency[4];
    size_t  i;

    for (i = 0; i < 4; i++) {
        currency[i] = (req->currency[i] >= 'a' && req->currency[i] <= 'z')
                      ? (char) (req->currency[i] - 'a' + 'A')
                      : req->currency[i];
    }

    return json_pack("{s:I,s:s}", "amount", (json_int_t) req->amount,
                     currency_name, currency);
}


/* sets obj.name when value is there; 0, or -1 on failure */

static int
pay_set_str(json_t *obj, const char *name, const pay_intent_str_t *value)
{
    if (value->data == NULL) {
        return 0;
    }

    return json_object_set_new(obj, name,
                               json_stringn(value->data, value->len));
}


static size_t
pay_dump(json_t *json, char *out, size_t size, int lf)
{
    size_t  len;

    len = json_dumpb(json, out, size, JSON_COMPACT);

    if (len == 0 || !lf) {
        return len;
    }

    if (len < size) {
        out[len] = '\n';
    }

    return len + 1;
}


/* answers */


pay_provider_outcome_e
pay_provider_normalize(pay_provider_e provider,
    const pay_intent_request_t *req, int http_status,
    const unsigned char *body, size_t len, pay_provider_answer_t *ans)
{
    json_t        *root;
    json_error_t   error;

    memset(ans, 0, sizeof(pay_provider_answer_t));
    ans->http_status = http_status;
    ans->outcome = PAY_PROVIDER_RETRY;

    if (req == NULL || pay_intent_provider_name(provider) == NULL
        || (body == NULL && len != 0))
    {
        return ans->outcome;
    }

    if (http_status == 408 || http_status == 429
        || http_status < 200 || http_status > 499
        || (http_status >= 300 && http_status < 400))
    {
        return ans->outcome;
    }

    if (http_status < 300 && provider == PAY_PROVIDER_STRIPE) {

        if (pay_normalize_stripe(req, body, len, &ans->result) == 0) {
            ans->outcome = PAY_PROVIDER_OK;

        } else {
            memset(&ans->result, 0, sizeof(pay_intent_result_t));
        }

        return ans->outcome;
    }

    root = (len > 0) ? json_loadb((const char *) body, len,
                                  JSON_REJECT_DUPLICATES, &error)
                     : NULL;

    if (http_status < 300) {

        if (root != NULL
            && pay_normalize_ok(provider, req, root, &ans->result) == 0)
        {
            ans->outcome = PAY_PROVIDER_OK;

        } else {
            /* an intent may exist, but nothing tells which: 503 */
            memset(&ans->result, 0, sizeof(pay_intent_result_t));
        }

        json_decref(root);

        return ans->outcome;
    }

    /* 4xx: the provider's answer, whatever its body says */

    ans->outcome = PAY_PROVIDER_DECLINED;

    if (root != NULL) {
        pay_normalize_error(provider, root, ans);
    }

    json_decref(root);

    return ans->outcome;
}


static int
pay_normalize_ok(pay_provider_e provider, const pay_intent_request_t *req,
    json_t *root, pay_intent_result_t *res)
{
    size_t   i;
    json_t  *object, *links, *link, *rel;

    res->provider = provider;
    res->amount = req->amount;
    memcpy(res->currency, req->currency, sizeof(res->currency));

    switch (provider) {

    case PAY_PROVIDER_PAYPAL:
        object = root;
        links = json_object_get(root, "links");

        json_array_foreach(links, i, link) {
            rel = json_object_get(link, "rel");

            if (!json_is_string(rel)
                || (strcmp(json_string_value(rel), "approve") != 0
                    && strcmp(json_string_value(rel), "payer-action") != 0))
            {
                continue;
            }

            res->link = PAY_INTENT_APPROVE_URL;

            if (pay_copy_ascii(json_object_get(link, "href"),
                               res->link_value, PAY_INTENT_RESULT_LINK_MAX)
                != 0)
            {
                return -1;
            }

            break;
        }

        break;

    case PAY_PROVIDER_SQUARE:

        if (req->source_id.data != NULL) {
            object = json_object_get(root, "payment");
            break;
        }

        object = json_object_get(root, "payment_link");
        res->link = PAY_INTENT_PAYMENT_LINK_URL;

        if (pay_copy_ascii(json_object_get(object, "url"), res->link_value,
                           PAY_INTENT_RESULT_LINK_MAX)
            != 0
            || pay_copy_ascii(json_object_get(object, "id"), res->id,
                              PAY_INTENT_RESULT_ID_MAX)
               != 0)
        {
            return -1;
        }

        memcpy(res->status, PAY_SQUARE_LINK_STATUS,
               sizeof(PAY_SQUARE_LINK_STATUS));

        return 0;

    default:
        return -1;
    }

    if (pay_copy_ascii(json_object_get(object, "id"), res->id,
                       PAY_INTENT_RESULT_ID_MAX)
        != 0
        || pay_copy_ascii(json_object_get(object, "status"), res->status,
                          PAY_INTENT_RESULT_STATUS_MAX)
           != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * A PaymentIntent (forty-odd members) is scanned in place, not built into
 * a tree: its id, status and client_secret are top-level members.  The
 * scan refuses what jansson does, but for the differences pay_json.h
 * lists (a real that overflows and "\u0000" in a name or in a string not
 * read are taken, a raw NUL after a number or a literal is not) and one
 * more: a duplicate of a name other than these three is taken (jansson's
 * JSON_REJECT_DUPLICATES refused any, and the answer could not be read):
 * a name not read cannot change which intent was made.
 */

static int
pay_normalize_stripe(const pay_intent_request_t *req,
    const unsigned char *body, size_t len, pay_intent_result_t *res)
{
    pay_json_member_t  m[3];

    m[0].name = "id";
    m[1].name = "status";
    m[2].name = "client_secret";

    res->provider = PAY_PROVIDER_STRIPE;
    res->amount = req->amount;
    memcpy(res->currency, req->currency, sizeof(res->currency));

    if (len == 0 || pay_json_scan_object(body, len, m, 3) != 0
        || pay_intent_scanned_copy(&m[0], res->id, PAY_INTENT_RESULT_ID_MAX)
           != 0
        || pay_intent_scanned_copy(&m[1], res->status,
                                   PAY_INTENT_RESULT_STATUS_MAX)
           != 0)
    {
        return -1;
    }

    if (m[2].type == PAY_JSON_ABSENT || m[2].type == PAY_JSON_NULL) {
        return 0;
    }

    res->link = PAY_INTENT_CLIENT_SECRET;

    return pay_intent_scanned_copy(&m[2], res->link_value,
                                   PAY_INTENT_RESULT_LINK_MAX);
}


/* a string of 1..max visible ASCII bytes, pay_intent_visible_copy() */

static int
pay_copy_ascii(json_t *value, char *dst, size_t max)
{
    dst[0] = '\0';

    if (!json_is_string(value)) {
        return -1;
    }

    return pay_intent_visible_copy(json_string_value(value),
                                   json_string_length(value), dst, max);
}


static void
pay_normalize_error(pay_provider_e provider, json_t *root,
    pay_provider_answer_t *ans)
{
    json_t  *error, *detail;

    switch (provider) {

    case PAY_PROVIDER_STRIPE:
        error = json_object_get(root, "error");

        if (pay_copy_ascii(json_object_get(error, "code"), ans->code,
                           PAY_PROVIDER_CODE_MAX)
            != 0)
        {
            (void) pay_copy_ascii(json_object_get(error, "type"), ans->code,
                                  PAY_PROVIDER_CODE_MAX);
        }

        (void) pay_copy_ascii(json_object_get(error, "decline_code"),
                              ans->decline_code, PAY_PROVIDER_CODE_MAX);
        pay_copy_message(json_object_get(error, "message"), ans->message,
                         PAY_PROVIDER_MESSAGE_MAX);
        break;

    case PAY_PROVIDER_PAYPAL:
        detail = json_array_get(json_object_get(root, "details"), 0);

        if (pay_copy_ascii(json_object_get(detail, "issue"), ans->code,
                           PAY_PROVIDER_CODE_MAX)
            != 0
            && pay_copy_ascii(json_object_get(root, "name"), ans->code,
                              PAY_PROVIDER_CODE_MAX)
               != 0)
        {
            (void) pay_copy_ascii(json_object_get(root, "error"), ans->code,
                                  PAY_PROVIDER_CODE_MAX);
        }

        pay_copy_message(json_object_get(detail, "description"),
                         ans->message, PAY_PROVIDER_MESSAGE_MAX);

        if (ans->message[0] == '\0') {
            pay_copy_message(json_object_get(root, "message"), ans->message,
                             PAY_PROVIDER_MESSAGE_MAX);
        }

        if (ans->message[0] == '\0') {
            pay_copy_message(json_object_get(root, "error_description"),
                             ans->message, PAY_PROVIDER_MESSAGE_MAX);
        }

        break;

    default: /* PAY_PROVIDER_SQUARE */
        error = json_array_get(json_object_get(root, "errors"), 0);

        (void) pay_copy_ascii(json_object_get(error, "code"), ans->code,
                              PAY_PROVIDER_CODE_MAX);
        pay_copy_message(json_object_get(error, "detail"), ans->message,
                         PAY_PROVIDER_MESSAGE_MAX);
        break;
    }
}


/*
 * A message, at most max bytes, cut before a UTF-8 continuation byte so
 * no character is split (jansson validated the rest), control characters
 * made spaces.  dst is left empty for anything but a string.
 */

static void
pay_copy_message(json_t *value, char *dst, size_t max)
{
    size_t       len, i;
    const char  *s;

    dst[0] = '\0';

    if (!json_is_string(value)) {
        return;
    }

    s = json_string_value(value);
    len = json_string_length(value);

    if (len > max) {
        len = max;

        while (len > 0 && ((unsigned char) s[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    for (i = 0; i < len; i++) {
        dst[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    }

    dst[len] = '\0';
}


/* renderers */


size_t
pay_provider_problem_json(pay_provider_e provider,
    const pay_provider_answer_t *ans, int status, char *out, size_t size)
{
    size_t                   len;
    json_t                  *json;
    const char              *name, *detail;
    const pay_error_info_t  *info;

    name = pay_intent_provider_name(provider);

    if (ans == NULL || name == NULL) {
        return 0;
    }

    info = pay_error_info(PAY_ERR_PROVIDER_ERROR);
    detail = (ans->message[0] != '\0') ? ans->message : info->title;

    json = json_pack("{s:s+,s:s,s:i,s:s,s:s,s:s}",
                     "type", "urn:ngx-pay:error:", info->code,
                     "title", info->title,
                     "status", status,
                     "detail", detail,
                     "code", info->code,
                     "provider", name);
    if (json == NULL) {
        return 0;
    }

    len = 0;

    if ((ans->code[0] == '\0'
         || json_object_set_new(json, "provider_code",
                                json_string(ans->code))
            == 0)
        && (ans->decline_code[0] == '\0'
            || json_object_set_new(json, "decline_code",
                                   json_string(ans->decline_code))
               == 0))
    {
        len = pay_dump(json, out, size, 1);
    }

    json_decref(json);

    return len;
}
