/*
 * Copyright (C) ngx_pay authors
 *
 * Validation of a payment-intent request body.
 *
 * Two passes over the body: pay_json finds "amount" as written, since
 * whether 2000 was sent as 2000, 2000.0 or 2e3 is exactly what matters and
 * jansson keeps no trace of it; jansson (JSON_DECODE_INT_AS_REAL, so no
 * integer is too big for it) then gives every other member.  The strings
 * kept are copied into one allocation before the JSON is freed.
 */


#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pay_currency.h"
#include "pay_intent.h"
#include "pay_json.h"


#define PAY_REASON_REQUIRED       "is required"
#define PAY_REASON_AMOUNT         "must be a positive integer in minor units"
#define PAY_REASON_AMOUNT_FORM                                                \
    "must be an integer in minor units, without fraction or exponent"
#define PAY_REASON_AMOUNT_MAX     "exceeds the maximum amount"
#define PAY_REASON_STRING         "must be a string"
#define PAY_REASON_CURRENCY       "unknown currency"
#define PAY_REASON_PROVIDER       "unknown provider"
#define PAY_REASON_TEXT           "must be a string of at most 255 bytes"
#define PAY_REASON_ID                                                         \
    "must be a string of 1 to 255 visible ASCII characters"
#define PAY_REASON_URL                                                        \
    "must be an http:// or https:// URL of at most 2048 bytes"
#define PAY_REASON_OBJECT         "must be an object of strings"
#define PAY_REASON_META_COUNT     "must have at most 50 keys"
#define PAY_REASON_META_KEY       "keys must be 1 to 40 bytes"
#define PAY_REASON_META_BRACKET   "keys must not contain [ or ]"
#define PAY_REASON_META_TYPE      "values must be strings"
#define PAY_REASON_META_VALUE     "values must be at most 500 bytes"
#define PAY_REASON_UNKNOWN        "unknown member"

#define PAY_INTENT_DETAIL         "Some fields are invalid: see errors."


typedef enum {
    PAY_INTENT_TEXT = 0,        /* any string up to a length */
    PAY_INTENT_ID,              /* visible ASCII */
    PAY_INTENT_URL              /* visible ASCII, http(s):// */
} pay_intent_kind_e;


typedef struct {
    const char         *name;
    pay_intent_kind_e   kind;
    size_t              max;
    size_t              offset;     /* of its pay_intent_str_t in a request */
} pay_intent_field_t;


static void pay_intent_check_amount(const pay_json_member_t *m,
    long long max_amount, pay_intent_request_t *req,
    pay_field_errors_t *errs);
static void pay_intent_check_currency(json_t *value,
    pay_intent_request_t *req, pay_field_errors_t *errs);
static void pay_intent_check_provider(json_t *value,
    pay_intent_request_t *req, pay_field_errors_t *errs);
static int pay_intent_check_string(json_t *value,
    const pay_intent_field_t *f, pay_field_errors_t *errs);
static size_t pay_intent_check_metadata(json_t *value,
    pay_field_errors_t *errs, size_t *bytes);
static void pay_intent_check_members(json_t *root, pay_field_errors_t *errs);
static int pay_intent_known(const char *name);
static json_t *pay_intent_optional(json_t *root, const char *name);
static int pay_intent_visible(const char *s, size_t len);
static int pay_intent_is_url(const char *s, size_t len);
static void pay_field_errors_once(pay_field_errors_t *errs,
    const char *field, const char *reason);
static char *pay_intent_copy(char *p, pay_intent_str_t *dst,
    const char *src, size_t len);


static const pay_intent_field_t  pay_intent_strings[] = {
    { "description", PAY_INTENT_TEXT, PAY_INTENT_DESCRIPTION_MAX,
      offsetof(pay_intent_request_t, description) },
    { "customer", PAY_INTENT_ID, PAY_INTENT_ID_MAX,
      offsetof(pay_intent_request_t, customer) },
    { "return_url", PAY_INTENT_URL, PAY_INTENT_URL_MAX,
      offsetof(pay_intent_request_t, return_url) },
    { "cancel_url", PAY_INTENT_URL, PAY_INTENT_URL_MAX,
      offsetof(pay_intent_request_t, cancel_url) },
    { "source_id", PAY_INTENT_ID, PAY_INTENT_ID_MAX,
      offsetof(pay_intent_request_t, source_id) }
};

#define PAY_INTENT_STRINGS                                                    \
    (sizeof(pay_intent_strings) / sizeof(pay_intent_strings[0]))


static const char  *pay_intent_members[] = {
    "amount", "currency", "provider", "description", "customer",
    "metadata", "return_url", "cancel_url", "source_id"
};

#define PAY_INTENT_MEMBERS                                                    \
    (sizeof(pay_intent_members) / sizeof(pay_intent_members[0]))


pay_rc_e
pay_intent_parse(const unsigned char *body, size_t len, long long max_amount,
    pay_intent_request_t *req, pay_field_errors_t *errs)
{
    char                *p;
    size_t               i, bytes, nmeta, need;
    json_t              *root, *value, *metadata;
    json_t              *strings[PAY_INTENT_STRINGS];
    const char          *key;
    json_error_t         error;
    pay_intent_str_t    *dst;
    pay_json_member_t    amount;

    memset(req, 0, sizeof(pay_intent_request_t));
    memset(errs, 0, sizeof(pay_field_errors_t));

    if (len > PAY_INTENT_BODY_MAX) {
        return PAY_ERR_BODY_TOO_LARGE;
    }

    if (body == NULL && len != 0) {
        return PAY_ERR_INTERNAL;
    }

    amount.name = "amount";

    if (pay_json_scan_object(body, len, &amount, 1) != 0) {
        return PAY_ERR_BODY_MALFORMED;
    }

    /*
     * what pay_json lets through and jansson does not: 1e400, nested
     * duplicates, "\u0000"
     */

    root = json_loadb((const char *) body, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
                      &error);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return PAY_ERR_BODY_MALFORMED;
    }

    pay_intent_check_amount(&amount, max_amount, req, errs);
    pay_intent_check_currency(json_object_get(root, "currency"), req, errs);
    pay_intent_check_provider(pay_intent_optional(root, "provider"), req,
                              errs);

    bytes = 0;

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        strings[i] = pay_intent_optional(root, pay_intent_strings[i].name);

        if (strings[i] != NULL
            && pay_intent_check_string(strings[i], &pay_intent_strings[i],
                                       errs)
               == 0)
        {
            bytes += json_string_length(strings[i]) + 1;
        }
    }

    metadata = pay_intent_optional(root, "metadata");
    nmeta = pay_intent_check_metadata(metadata, errs, &bytes);

    pay_intent_check_members(root, errs);

    if (errs->n > 0) {
        json_decref(root);
        memset(req, 0, sizeof(pay_intent_request_t));
        return PAY_ERR_VALIDATION_FAILED;
    }

    need = nmeta * sizeof(pay_intent_pair_t) + bytes;

    if (need > 0) {
        req->storage = malloc(need);
        if (req->storage == NULL) {
            json_decref(root);
            memset(req, 0, sizeof(pay_intent_request_t));
            return PAY_ERR_INTERNAL;
        }
    }

    req->metadata = (nmeta > 0) ? req->storage : NULL;
    p = (char *) req->storage + nmeta * sizeof(pay_intent_pair_t);

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {

        if (strings[i] == NULL) {
            continue;
        }

        dst = (pay_intent_str_t *) ((char *) req
                                    + pay_intent_strings[i].offset);
        p = pay_intent_copy(p, dst, json_string_value(strings[i]),
                            json_string_length(strings[i]));
    }

    /* jansson 2.8 and later iterate in insertion order: the body's */

    i = 0;

    json_object_foreach(nmeta > 0 ? metadata : NULL, key, value) {
        p = pay_intent_copy(p, &req->metadata[i].key, key, strlen(key));
        p = pay_intent_copy(p, &req->metadata[i].value,
                            json_string_value(value),
                            json_string_length(value));
        i++;
    }

    req->nmetadata = nmeta;

    json_decref(root);

    return PAY_OK;
}


void
pay_intent_request_free(pay_intent_request_t *req)
{
    if (req == NULL) {
        return;
    }

    free(req->storage);
    memset(req, 0, sizeof(pay_intent_request_t));
}


/* the amount as written: digits only, no sign, no fraction, no exponent */

static void
pay_intent_check_amount(const pay_json_member_t *m, long long max_amount,
    pay_intent_request_t *req, pay_field_errors_t *errs)
{
    size_t     i;
    long long  amount, digit, max;

    if (m->type == PAY_JSON_ABSENT) {
        pay_field_errors_add(errs, "amount", 6, PAY_REASON_REQUIRED);
        return;
    }

    if (m->type != PAY_JSON_NUMBER || m->value[0] == '-') {
        pay_field_errors_add(errs, "amount", 6, PAY_REASON_AMOUNT);
        return;
    }

    if (memchr(m->value, '.', m->len) != NULL
        || memchr(m->value, 'e', m->len) != NULL
        || memchr(m->value, 'E', m->len) != NULL)
    {
        pay_field_errors_add(errs, "amount", 6, PAY_REASON_AMOUNT_FORM);
        return;
    }

    max = (max_amount > 0) ? max_amount : LLONG_MAX;
    amount = 0;

    /* pay_json vouched for the grammar: only digits are left */

    for (i = 0; i < m->len; i++) {
        digit = m->value[i] - '0';

        if (amount > (max - digit) / 10) {
            pay_field_errors_add(errs, "amount", 6, PAY_REASON_AMOUNT_MAX);
            return;
        }

        amount = amount * 10 + digit;
    }

    if (amount == 0) {
        pay_field_errors_add(errs, "amount", 6, PAY_REASON_AMOUNT);
        return;
    }

    req->amount = amount;
}


static void
pay_intent_check_currency(json_t *value, pay_intent_request_t *req,
    pay_field_errors_t *errs)
{
    int          exponent;
    size_t       i;
    const char  *code;

    if (value == NULL || json_is_null(value)) {
        pay_field_errors_add(errs, "currency", 8, PAY_REASON_REQUIRED);
        return;
    }

    if (!json_is_string(value)) {
        pay_field_errors_add(errs, "currency", 8, PAY_REASON_STRING);
        return;
    }

    code = json_string_value(value);
    exponent = pay_currency_exponent(code, json_string_length(value));

    if (exponent < 0) {
        pay_field_errors_add(errs, "currency", 8, PAY_REASON_CURRENCY);
        return;
    }

    /* pay_currency_exponent() accepted three ASCII letters */

    for (i = 0; i < 3; i++) {
        req->currency[i] = (char) (code[i] | 0x20);
    }

    req->currency[3] = '\0';
    req->exponent = exponent;
}


static void
pay_intent_check_provider(json_t *value, pay_intent_request_t *req,
    pay_field_errors_t *errs)
{
    if (value == NULL) {
        return;
    }

    if (!json_is_string(value)) {
        pay_field_errors_add(errs, "provider", 8, PAY_REASON_STRING);
        return;
    }

    req->provider = pay_intent_provider(json_string_value(value),
                                        json_string_length(value));

    if (req->provider == PAY_PROVIDER_NONE) {
        pay_field_errors_add(errs, "provider", 8, PAY_REASON_PROVIDER);
    }
}


/* returns 0 when the string is acceptable, -1 after adding an error */

static int
pay_intent_check_string(json_t *value, const pay_intent_field_t *f,
    pay_field_errors_t *errs)
{
    int          ok;
    size_t       len;
    const char  *s, *reason;

    reason = (f->kind == PAY_INTENT_TEXT) ? PAY_REASON_TEXT
             : (f->kind == PAY_INTENT_ID) ? PAY_REASON_ID : PAY_REASON_URL;

    if (!json_is_string(value)) {
        pay_field_errors_add(errs, f->name, strlen(f->name), reason);
        return -1;
    }

    s = json_string_value(value);
    len = json_string_length(value);

    switch (f->kind) {

    case PAY_INTENT_ID:
        ok = (len > 0 && pay_intent_visible(s, len));
        break;

    case PAY_INTENT_URL:
        ok = pay_intent_is_url(s, len);
        break;

    default: /* PAY_INTENT_TEXT */
        ok = 1;
        break;
    }

    if (!ok || len > f->max) {
        pay_field_errors_add(errs, f->name, strlen(f->name), reason);
        return -1;
    }

    return 0;
}


/*
 * Returns how many pairs an acceptable metadata object holds (0 when it
 * is absent or failed) and adds their string bytes, NULs included, to
 * *bytes.
 */

static size_t
pay_intent_check_metadata(json_t *value, pay_field_errors_t *errs,
    size_t *bytes)
{
    size_t       n, key_len, before, need;
    json_t      *item;
    const char  *key;

    if (value == NULL) {
        return 0;
    }

    if (!json_is_object(value)) {
        pay_field_errors_add(errs, "metadata", 8, PAY_REASON_OBJECT);
        return 0;
    }

    before = errs->n + (size_t) errs->truncated;
    n = json_object_size(value);

    if (n > PAY_INTENT_METADATA_MAX) {
        pay_field_errors_once(errs, "metadata", PAY_REASON_META_COUNT);
    }

    need = 0;

    json_object_foreach(value, key, item) {
        key_len = strlen(key);

        if (key_len == 0 || key_len > PAY_INTENT_METADATA_KEY_MAX) {
            pay_field_errors_once(errs, "metadata", PAY_REASON_META_KEY);
        }

        if (strpbrk(key, "[]") != NULL) {
            pay_field_errors_once(errs, "metadata", PAY_REASON_META_BRACKET);
        }

        if (!json_is_string(item)) {
            pay_field_errors_once(errs, "metadata", PAY_REASON_META_TYPE);
            continue;
        }

        if (json_string_length(item) > PAY_INTENT_METADATA_VALUE_MAX) {
            pay_field_errors_once(errs, "metadata", PAY_REASON_META_VALUE);
        }

        need += key_len + 1 + json_string_length(item) + 1;
    }

    if (errs->n + (size_t) errs->truncated != before) {
        return 0;
    }

    *bytes += need;

    return n;
}


static void
pay_intent_check_members(json_t *root, pay_field_errors_t *errs)
{
    json_t      *value;
    const char  *key;

    json_object_foreach(root, key, value) {
        if (!pay_intent_known(key)) {
            pay_field_errors_add(errs, key, strlen(key), PAY_REASON_UNKNOWN);
        }
    }
}


static int
pay_intent_known(const char *name)
{
    size_t  i;

    for (i = 0; i < PAY_INTENT_MEMBERS; i++) {
        if (strcmp(name, pay_intent_members[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


/* a member that is absent or null: NULL */

static json_t *
pay_intent_optional(json_t *root, const char *name)
{
    json_t  *value;

    value = json_object_get(root, name);

    return (value == NULL || json_is_null(value)) ? NULL : value;
}


static int
pay_intent_visible(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


static int
pay_intent_is_url(const char *s, size_t len)
{
    char    lower[8];
    size_t  i, prefix;

    if (!pay_intent_visible(s, len)) {
        return 0;
    }

    for (i = 0; i < len && i < sizeof(lower); i++) {
        lower[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] | 0x20) : s[i];
    }

    if (i >= 7 && memcmp(lower, "http://", 7) == 0) {
        prefix = 7;

    } else if (i >= 8 && memcmp(lower, "https://", 8) == 0) {
        prefix = 8;

    } else {
        return 0;
    }

    /* a host must follow */
    return len > prefix;
}


void
pay_field_errors_add(pay_field_errors_t *errs, const char *field,
    size_t field_len, const char *reason)
{
    pay_field_error_t  *e;

    if (errs->n == PAY_INTENT_ERRORS_MAX) {
        errs->truncated = 1;
        return;
    }

    e = &errs->items[errs->n++];
    e->reason = reason;

    /* a name is shown only when it cannot make the reply ambiguous */

    if (field == NULL || field_len == 0 || field_len > PAY_INTENT_FIELD_MAX
        || !pay_intent_visible(field, field_len))
    {
        memcpy(e->field, "?", 2);
        return;
    }

    memcpy(e->field, field, field_len);
    e->field[field_len] = '\0';
}


/* the metadata reasons are listed once, whatever the number of keys */

static void
pay_field_errors_once(pay_field_errors_t *errs, const char *field,
    const char *reason)
{
    size_t  i;

    for (i = 0; i < errs->n; i++) {
        if (errs->items[i].reason == reason
            && strcmp(errs->items[i].field, field) == 0)
        {
            return;
        }
    }

    pay_field_errors_add(errs, field, strlen(field), reason);
}


static char *
pay_intent_copy(char *p, pay_intent_str_t *dst, const char *src, size_t len)
{
    memcpy(p, src, len);
    p[len] = '\0';

    dst->data = p;
    dst->len = len;

    return p + len + 1;
}


size_t
pay_intent_problem_json(const pay_field_errors_t *errs, const char *detail,
    char *out, size_t size)
{
    size_t                   i, len;
    json_t                  *problem, *list, *item;
    const pay_error_info_t  *info;

    info = pay_error_info(PAY_ERR_VALIDATION_FAILED);

    problem = json_object();
    list = json_array();

    if (problem == NULL || list == NULL
        || json_object_set_new(problem, "type",
                               json_sprintf("urn:ngx-pay:error:%s",
                                            info->code))
           != 0
        || json_object_set_new(problem, "title", json_string(info->title))
           != 0
        || json_object_set_new(problem, "status", json_integer(info->status))
           != 0
        || json_object_set_new(problem, "detail",
                               json_string(detail != NULL
                                           ? detail : PAY_INTENT_DETAIL))
           != 0
        || json_object_set_new(problem, "code", json_string(info->code))
           != 0)
    {
        goto failed;
    }

    for (i = 0; errs != NULL && i < errs->n; i++) {
        item = json_pack("{s:s,s:s}", "field", errs->items[i].field,
                         "reason", errs->items[i].reason);

        if (json_array_append_new(list, item) != 0) {
            goto failed;
        }
    }

    if (json_object_set(problem, "errors", list) != 0) {
        goto failed;
    }

    len = json_dumpb(problem, out, size, JSON_COMPACT);
    if (len == 0) {
        goto failed;
    }

    if (len < size) {
        out[len] = '\n';
    }

    json_decref(list);
    json_decref(problem);

    return len + 1;

failed:

    json_decref(list);
    json_decref(problem);

    return 0;
}


pay_provider_e
pay_intent_provider(const char *name, size_t len)
{
    if (name == NULL) {
        return PAY_PROVIDER_NONE;
    }

    if (len == 6 && memcmp(name, "stripe", 6) == 0) {
        return PAY_PROVIDER_STRIPE;
    }

    if (len == 6 && memcmp(name, "paypal", 6) == 0) {
        return PAY_PROVIDER_PAYPAL;
    }

    if (len == 6 && memcmp(name, "square", 6) == 0) {
        return PAY_PROVIDER_SQUARE;
    }

    return PAY_PROVIDER_NONE;
}


const char *
pay_intent_provider_name(pay_provider_e provider)
{
    switch (provider) {

    case PAY_PROVIDER_STRIPE:
        return "stripe";

    case PAY_PROVIDER_PAYPAL:
        return "paypal";

    case PAY_PROVIDER_SQUARE:
        return "square";

    default:
        return NULL;
    }
}
