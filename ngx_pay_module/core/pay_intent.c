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
#define PAY_REASON_REFUSED        "is not accepted here"
#define PAY_REASON_META_COUNT_SET                                             \
    "must have at most 50 keys, with those the server sets"
#define PAY_REASON_UTF8           "must be UTF-8 without NUL"

#define PAY_INTENT_DETAIL         "Some fields are invalid: see errors."


typedef enum {
    PAY_INTENT_TEXT = 0,        /* any string up to a length */
    PAY_INTENT_ID,              /* visible ASCII */
    PAY_INTENT_URL              /* visible ASCII, http(s):// */
} pay_intent_kind_e;


typedef struct {
    const char         *name;
    pay_intent_field_e  field;
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
static int pay_intent_string_ok(const pay_intent_field_t *f, const char *s,
    size_t len);
static const char *pay_intent_reason(const pay_intent_field_t *f);
static size_t pay_intent_check_metadata(json_t *value,
    const pay_intent_policy_t *policy, pay_field_errors_t *errs,
    size_t *bytes);
static int pay_intent_allowed(const pay_intent_policy_t *policy,
    pay_intent_field_e field);
static int pay_intent_key_listed(const pay_intent_policy_t *policy,
    const char *key, size_t len);
static void pay_intent_metadata_error(pay_field_errors_t *errs,
    const char *key, size_t len, const char *reason);
static const pay_intent_field_t *pay_intent_string_field(
    pay_intent_field_e field);
static int pay_intent_set_later(const pay_intent_setting_t *settings,
    size_t n, size_t i);
static int pay_intent_server_key(const pay_intent_setting_t *settings,
    size_t n, const pay_intent_str_t *key);
static int pay_intent_utf8(const char *s, size_t len);
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
    { "description", PAY_INTENT_FIELD_DESCRIPTION, PAY_INTENT_TEXT,
      PAY_INTENT_DESCRIPTION_MAX,
      offsetof(pay_intent_request_t, description) },
    { "customer", PAY_INTENT_FIELD_CUSTOMER, PAY_INTENT_ID,
      PAY_INTENT_ID_MAX, offsetof(pay_intent_request_t, customer) },
    { "return_url", PAY_INTENT_FIELD_RETURN_URL, PAY_INTENT_URL,
      PAY_INTENT_URL_MAX, offsetof(pay_intent_request_t, return_url) },
    { "cancel_url", PAY_INTENT_FIELD_CANCEL_URL, PAY_INTENT_URL,
      PAY_INTENT_URL_MAX, offsetof(pay_intent_request_t, cancel_url) },
    { "source_id", PAY_INTENT_FIELD_SOURCE_ID, PAY_INTENT_ID,
      PAY_INTENT_ID_MAX, offsetof(pay_intent_request_t, source_id) }
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
    return pay_intent_parse_client(body, len, max_amount, NULL, req, errs);
}


pay_rc_e
pay_intent_parse_client(const unsigned char *body, size_t len,
    long long max_amount, const pay_intent_policy_t *policy,
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

        if (strings[i] == NULL) {
            continue;
        }

        /* a member the client may not send: its value does not matter */

        if (!pay_intent_allowed(policy, pay_intent_strings[i].field)) {
            pay_field_errors_add(errs, pay_intent_strings[i].name,
                                 strlen(pay_intent_strings[i].name),
                                 PAY_REASON_REFUSED);
            strings[i] = NULL;
            continue;
        }

        if (pay_intent_check_string(strings[i], &pay_intent_strings[i],
                                    errs)
            == 0)
        {
            bytes += json_string_length(strings[i]) + 1;
        }
    }

    metadata = pay_intent_optional(root, "metadata");
    nmeta = pay_intent_check_metadata(metadata, policy, errs, &bytes);

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

    /* no storage without anything to keep: no arithmetic on NULL */

    req->metadata = (nmeta > 0) ? req->storage : NULL;
    p = (need > 0) ? (char *) req->storage + nmeta * sizeof(pay_intent_pair_t)
                   : NULL;

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


pay_rc_e
pay_intent_apply(pay_intent_request_t *req,
    const pay_intent_setting_t *settings, size_t n,
    pay_field_errors_t *errs)
{
    char                        *p, *storage;
    size_t                       i, j, nmeta, bytes;
    const char                  *reason;
    pay_intent_str_t             strings[PAY_INTENT_STRINGS];
    pay_intent_pair_t           *pairs;
    const pay_intent_field_t    *f;
    const pay_intent_setting_t  *set;

    memset(errs, 0, sizeof(pay_field_errors_t));

    for (i = 0; i < n; i++) {
        set = &settings[i];

        if (set->field == PAY_INTENT_FIELD_METADATA) {
            reason = pay_intent_metadata_key_reason(set->key.data,
                                                    set->key.len);
            if (reason == NULL) {
                reason = pay_intent_value_reason(set->field, set->value.data,
                                                 set->value.len);
            }

            if (reason != NULL) {
                pay_intent_metadata_error(errs, set->key.data, set->key.len,
                                          reason);
            }

            continue;
        }

        f = pay_intent_string_field(set->field);
        if (f == NULL) {
            return PAY_ERR_INTERNAL;
        }

        reason = pay_intent_value_reason(set->field, set->value.data,
                                         set->value.len);
        if (reason != NULL) {
            pay_field_errors_add(errs, f->name, strlen(f->name), reason);
        }
    }

    if (errs->n > 0) {
        return PAY_ERR_VALIDATION_FAILED;
    }

    /* the final members: the client's, then the server's over them */

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        strings[i] = *(pay_intent_str_t *) ((char *) req
                                            + pay_intent_strings[i].offset);
    }

    for (i = 0; i < n; i++) {
        for (j = 0; j < PAY_INTENT_STRINGS; j++) {
            if (pay_intent_strings[j].field == settings[i].field) {
                strings[j] = settings[i].value;
            }
        }
    }

    nmeta = 0;
    bytes = 0;

    for (i = 0; i < req->nmetadata; i++) {
        if (!pay_intent_server_key(settings, n, &req->metadata[i].key)) {
            nmeta++;
            bytes += req->metadata[i].key.len + 1
                     + req->metadata[i].value.len + 1;
        }
    }

    for (i = 0; i < n; i++) {
        if (settings[i].field == PAY_INTENT_FIELD_METADATA
            && settings[i].value.len > 0
            && !pay_intent_set_later(settings, n, i))
        {
            nmeta++;
            bytes += settings[i].key.len + 1 + settings[i].value.len + 1;
        }
    }

    if (nmeta > PAY_INTENT_METADATA_MAX) {
        pay_field_errors_add(errs, "metadata", 8, PAY_REASON_META_COUNT);
        return PAY_ERR_VALIDATION_FAILED;
    }

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        if (strings[i].len > 0) {
            bytes += strings[i].len + 1;
        }
    }

    bytes += nmeta * sizeof(pay_intent_pair_t);

    storage = (bytes > 0) ? malloc(bytes) : NULL;
    if (bytes > 0 && storage == NULL) {
        return PAY_ERR_INTERNAL;
    }

    /* copied before the old storage, which the client's point into, goes */

    pairs = (nmeta > 0) ? (pay_intent_pair_t *) storage : NULL;
    p = (storage != NULL) ? storage + nmeta * sizeof(pay_intent_pair_t)
                          : NULL;
    j = 0;

    for (i = 0; i < req->nmetadata; i++) {
        if (!pay_intent_server_key(settings, n, &req->metadata[i].key)) {
            p = pay_intent_copy(p, &pairs[j].key, req->metadata[i].key.data,
                                req->metadata[i].key.len);
            p = pay_intent_copy(p, &pairs[j].value,
                                req->metadata[i].value.data,
                                req->metadata[i].value.len);
            j++;
        }
    }

    for (i = 0; i < n; i++) {
        if (settings[i].field == PAY_INTENT_FIELD_METADATA
            && settings[i].value.len > 0
            && !pay_intent_set_later(settings, n, i))
        {
            p = pay_intent_copy(p, &pairs[j].key, settings[i].key.data,
                                settings[i].key.len);
            p = pay_intent_copy(p, &pairs[j].value, settings[i].value.data,
                                settings[i].value.len);
            j++;
        }
    }

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        if (strings[i].len > 0) {
            p = pay_intent_copy(p, &strings[i], strings[i].data,
                                strings[i].len);

        } else {
            strings[i].data = NULL;
        }
    }

    free(req->storage);

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        *(pay_intent_str_t *) ((char *) req + pay_intent_strings[i].offset) =
            strings[i];
    }

    req->metadata = pairs;
    req->nmetadata = nmeta;
    req->storage = storage;

    return PAY_OK;
}


pay_intent_field_e
pay_intent_field(const char *name, size_t len, pay_intent_str_t *key)
{
    size_t  i;

    if (key != NULL) {
        key->data = NULL;
        key->len = 0;
    }

    if (name == NULL) {
        return PAY_INTENT_FIELD_NONE;
    }

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        if (len == strlen(pay_intent_strings[i].name)
            && memcmp(name, pay_intent_strings[i].name, len) == 0)
        {
            return pay_intent_strings[i].field;
        }
    }

    if (len == 8 && memcmp(name, "metadata", 8) == 0) {
        return PAY_INTENT_FIELD_METADATA;
    }

    if (len >= 9 && memcmp(name, "metadata.", 9) == 0) {
        if (key != NULL) {
            key->data = name + 9;
            key->len = len - 9;
        }

        return PAY_INTENT_FIELD_METADATA;
    }

    return PAY_INTENT_FIELD_NONE;
}


const char *
pay_intent_metadata_key_reason(const char *key, size_t len)
{
    if (key == NULL || len == 0 || len > PAY_INTENT_METADATA_KEY_MAX) {
        return PAY_REASON_META_KEY;
    }

    if (memchr(key, '[', len) != NULL || memchr(key, ']', len) != NULL) {
        return PAY_REASON_META_BRACKET;
    }

    if (!pay_intent_utf8(key, len)) {
        return PAY_REASON_UTF8;
    }

    return NULL;
}


const char *
pay_intent_value_reason(pay_intent_field_e field, const char *value,
    size_t len)
{
    const pay_intent_field_t  *f;

    if (len == 0) {
        return NULL;
    }

    if (value == NULL) {
        return PAY_REASON_STRING;
    }

    if (field == PAY_INTENT_FIELD_METADATA) {
        if (len > PAY_INTENT_METADATA_VALUE_MAX) {
            return PAY_REASON_META_VALUE;
        }

        return pay_intent_utf8(value, len) ? NULL : PAY_REASON_UTF8;
    }

    f = pay_intent_string_field(field);
    if (f == NULL) {
        return PAY_REASON_UNKNOWN;
    }

    if (!pay_intent_string_ok(f, value, len)) {
        return pay_intent_reason(f);
    }

    return pay_intent_utf8(value, len) ? NULL : PAY_REASON_UTF8;
}


static const pay_intent_field_t *
pay_intent_string_field(pay_intent_field_e field)
{
    size_t  i;

    for (i = 0; i < PAY_INTENT_STRINGS; i++) {
        if (pay_intent_strings[i].field == field) {
            return &pay_intent_strings[i];
        }
    }

    return NULL;
}


/* a metadata setting that a later one of the same key replaces */

static int
pay_intent_set_later(const pay_intent_setting_t *settings, size_t n,
    size_t i)
{
    size_t  j;

    for (j = i + 1; j < n; j++) {
        if (settings[j].field == PAY_INTENT_FIELD_METADATA
            && settings[j].key.len == settings[i].key.len
            && memcmp(settings[j].key.data, settings[i].key.data,
                      settings[i].key.len)
               == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* a metadata key the server sets, whatever its value */

static int
pay_intent_server_key(const pay_intent_setting_t *settings, size_t n,
    const pay_intent_str_t *key)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (settings[i].field == PAY_INTENT_FIELD_METADATA
            && settings[i].key.len == key->len
            && memcmp(settings[i].key.data, key->data, key->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* what jansson takes as a string: valid UTF-8, and no NUL for us */

static int
pay_intent_utf8(const char *s, size_t len)
{
    json_t  *value;

    if (memchr(s, '\0', len) != NULL) {
        return 0;
    }

    value = json_stringn(s, len);
    if (value == NULL) {
        return 0;
    }

    json_decref(value);

    return 1;
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
    if (!json_is_string(value)
        || !pay_intent_string_ok(f, json_string_value(value),
                                 json_string_length(value)))
    {
        pay_field_errors_add(errs, f->name, strlen(f->name),
                             pay_intent_reason(f));
        return -1;
    }

    return 0;
}


/* the member's own rule; UTF-8 is the JSON parser's (or the caller's) */

static int
pay_intent_string_ok(const pay_intent_field_t *f, const char *s, size_t len)
{
    int  ok;

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

    return ok && len <= f->max;
}


static const char *
pay_intent_reason(const pay_intent_field_t *f)
{
    return (f->kind == PAY_INTENT_TEXT) ? PAY_REASON_TEXT
           : (f->kind == PAY_INTENT_ID) ? PAY_REASON_ID : PAY_REASON_URL;
}


/*
 * Returns how many pairs an acceptable metadata object holds (0 when it
 * is absent or failed) and adds their string bytes, NULs included, to
 * *bytes.
 */

static size_t
pay_intent_check_metadata(json_t *value, const pay_intent_policy_t *policy,
    pay_field_errors_t *errs, size_t *bytes)
{
    int          any;
    size_t       n, max, key_len, before, need;
    json_t      *item;
    const char  *key;

    if (value == NULL) {
        return 0;
    }

    any = pay_intent_allowed(policy, PAY_INTENT_FIELD_METADATA);

    if (!any && policy->nmetadata_keys == 0) {
        pay_field_errors_add(errs, "metadata", 8, PAY_REASON_REFUSED);
        return 0;
    }

    if (!json_is_object(value)) {
        pay_field_errors_add(errs, "metadata", 8, PAY_REASON_OBJECT);
        return 0;
    }

    before = errs->n + (size_t) errs->truncated;
    n = json_object_size(value);

    max = PAY_INTENT_METADATA_MAX;

    if (policy != NULL && policy->metadata_max < max) {
        max = policy->metadata_max;
    }

    if (n > max) {
        pay_field_errors_once(errs, "metadata",
                              (max == PAY_INTENT_METADATA_MAX)
                              ? PAY_REASON_META_COUNT
                              : PAY_REASON_META_COUNT_SET);
    }

    need = 0;

    json_object_foreach(value, key, item) {
        key_len = strlen(key);

        if (!any && !pay_intent_key_listed(policy, key, key_len)) {
            pay_intent_metadata_error(errs, key, key_len, PAY_REASON_REFUSED);
            continue;
        }

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


/* policy NULL allows everything */

static int
pay_intent_allowed(const pay_intent_policy_t *policy,
    pay_intent_field_e field)
{
    return policy == NULL
           || (policy->fields & pay_intent_field_bit(field)) != 0;
}


static int
pay_intent_key_listed(const pay_intent_policy_t *policy, const char *key,
    size_t len)
{
    size_t  i;

    for (i = 0; i < policy->nmetadata_keys; i++) {
        if (policy->metadata_keys[i].len == len
            && memcmp(policy->metadata_keys[i].data, key, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* an error of one metadata key, named "metadata.KEY" (or "?") */

static void
pay_intent_metadata_error(pay_field_errors_t *errs, const char *key,
    size_t len, const char *reason)
{
    char  name[PAY_INTENT_FIELD_MAX + 1];

    if (len == 0 || len > PAY_INTENT_FIELD_MAX - 9) {
        pay_field_errors_add(errs, NULL, 0, reason);
        return;
    }

    memcpy(name, "metadata.", 9);
    memcpy(name + 9, key, len);

    pay_field_errors_add(errs, name, 9 + len, reason);
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
