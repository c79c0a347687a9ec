/*
 * Copyright (C) ngx_pay authors
 *
 * A payment-intent request (docs/intents.md): the client's JSON body,
 * validated field by field under the location's policy (which optional
 * members the client may send), completed by the values the server sets,
 * and the 422 problem+json listing every field that failed.  Pure C
 * (jansson).
 *
 *   {"amount": 2000, "currency": "usd", "provider"?: "stripe",
 *    "description"?, "customer"?, "metadata"?: {string: string},
 *    "return_url"?, "cancel_url"?, "source_id"?}
 */


#ifndef PAY_INTENT_H_INCLUDED_
#define PAY_INTENT_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"
#include "pay_kind.h"


#define PAY_INTENT_BODY_MAX            16384
#define PAY_INTENT_METADATA_MAX        50
#define PAY_INTENT_METADATA_KEY_MAX    40
#define PAY_INTENT_METADATA_VALUE_MAX  500

/* quick_pay.name of a Square payment link is at most 255 */
#define PAY_INTENT_DESCRIPTION_MAX     255
/* customer and source_id: provider object ids */
#define PAY_INTENT_ID_MAX              255
#define PAY_INTENT_URL_MAX             2048

#define PAY_INTENT_ERRORS_MAX          16
#define PAY_INTENT_FIELD_MAX           64


/* the optional members a policy or a server setting names */
typedef enum {
    PAY_INTENT_FIELD_NONE = 0,
    PAY_INTENT_FIELD_DESCRIPTION,
    PAY_INTENT_FIELD_CUSTOMER,
    PAY_INTENT_FIELD_RETURN_URL,
    PAY_INTENT_FIELD_CANCEL_URL,
    PAY_INTENT_FIELD_SOURCE_ID,
    PAY_INTENT_FIELD_METADATA
} pay_intent_field_e;

#define pay_intent_field_bit(field)    (1u << (field))

#define PAY_INTENT_FIELDS_ALL                                                 \
    (pay_intent_field_bit(PAY_INTENT_FIELD_DESCRIPTION)                       \
     | pay_intent_field_bit(PAY_INTENT_FIELD_CUSTOMER)                        \
     | pay_intent_field_bit(PAY_INTENT_FIELD_RETURN_URL)                      \
     | pay_intent_field_bit(PAY_INTENT_FIELD_CANCEL_URL)                      \
     | pay_intent_field_bit(PAY_INTENT_FIELD_SOURCE_ID)                       \
     | pay_intent_field_bit(PAY_INTENT_FIELD_METADATA))


/* data is NULL when the member was absent, else NUL-terminated */
typedef struct {
    const char  *data;
    size_t       len;
} pay_intent_str_t;


typedef struct {
    pay_intent_str_t  key;
    pay_intent_str_t  value;
} pay_intent_pair_t;


typedef struct {
    long long           amount;         /* minor units, > 0 */
    char                currency[4];    /* lowercase, NUL-terminated */
    int                 exponent;       /* ISO 4217 minor unit */
    pay_provider_e      provider;       /* PAY_PROVIDER_NONE: not asked */
    pay_intent_str_t    description;
    pay_intent_str_t    customer;
    pay_intent_str_t    return_url;
    pay_intent_str_t    cancel_url;
    pay_intent_str_t    source_id;
    pay_intent_pair_t  *metadata;       /* in body order */
    size_t              nmetadata;
    void               *storage;        /* owns every string above */
} pay_intent_request_t;


/*
 * What the client may send besides amount, currency and provider (which
 * it always may): the members whose pay_intent_field_bit() is in fields
 * (the METADATA bit: any metadata key), and the metadata keys listed.
 * metadata_max is how many metadata keys it may send at most (fewer than
 * PAY_INTENT_METADATA_MAX when the server sets some).
 */
typedef struct {
    unsigned int             fields;
    const pay_intent_str_t  *metadata_keys;
    size_t                   nmetadata_keys;
    size_t                   metadata_max;
} pay_intent_policy_t;


/*
 * A member set by the server.  key: the metadata key (METADATA only).
 * value: len 0 leaves the member out (whatever the client sent).
 */
typedef struct {
    pay_intent_field_e  field;
    pay_intent_str_t    key;
    pay_intent_str_t    value;
} pay_intent_setting_t;


typedef struct {
    char         field[PAY_INTENT_FIELD_MAX + 1];   /* NUL-terminated */
    const char  *reason;                            /* a static string */
} pay_field_error_t;


typedef struct {
    pay_field_error_t   items[PAY_INTENT_ERRORS_MAX];
    size_t              n;
    int                 truncated;      /* more failed than items holds */
} pay_field_errors_t;


/*
 * Validates an intent request body.  The rules:
 *   at most PAY_INTENT_BODY_MAX bytes (else PAY_ERR_BODY_TOO_LARGE);
 *   one JSON object, strict RFC 8259, no duplicate name at any level, no
 *   "\u0000" (else PAY_ERR_BODY_MALFORMED);
 *   "amount": a JSON integer as written (no fraction, no exponent: 20.00
 *   and 2e3 are rejected, 2000 is not), 1..max_amount (max_amount <= 0:
 *   no limit below LLONG_MAX);
 *   "currency": a string, an ISO 4217 code pay_currency_exponent() knows,
 *   either case, kept lowercase;
 *   "provider": "stripe", "paypal" or "square";
 *   "description": a string of at most PAY_INTENT_DESCRIPTION_MAX bytes;
 *   "customer", "source_id": 1..PAY_INTENT_ID_MAX visible ASCII bytes;
 *   "return_url", "cancel_url": 1..PAY_INTENT_URL_MAX visible ASCII bytes
 *   starting with http:// or https:// (either case);
 *   "metadata": an object of at most PAY_INTENT_METADATA_MAX members,
 *   names 1..PAY_INTENT_METADATA_KEY_MAX bytes without '[' or ']' (they
 *   would break Stripe's metadata[key] form names), values strings of at
 *   most PAY_INTENT_METADATA_VALUE_MAX bytes;
 *   an optional member that is null counts as absent;
 *   any other member is rejected.
 * Every failure is listed in errs, one entry per field and reason (the
 * metadata reasons at most once each), in the order above, then unknown
 * members in body order.
 * Returns PAY_OK with req filled in (free it with
 * pay_intent_request_free()), PAY_ERR_VALIDATION_FAILED with errs filled
 * in, PAY_ERR_BODY_TOO_LARGE, PAY_ERR_BODY_MALFORMED, or PAY_ERR_INTERNAL
 * (no memory).  But for PAY_OK, req holds nothing to free.  body may be
 * NULL when len is 0.
 */
pay_rc_e pay_intent_parse(const unsigned char *body, size_t len,
    long long max_amount, pay_intent_request_t *req,
    pay_field_errors_t *errs);

/*
 * pay_intent_parse() under a policy: an optional member the policy does
 * not allow is refused (reason "is not accepted here", field its name,
 * "metadata.KEY" for a metadata key) and its value not checked; metadata
 * with more than policy->metadata_max keys is refused.  policy NULL
 * allows every member (pay_intent_parse()).
 */
pay_rc_e pay_intent_parse_client(const unsigned char *body, size_t len,
    long long max_amount, const pay_intent_policy_t *policy,
    pay_intent_request_t *req, pay_field_errors_t *errs);

/*
 * Completes a parsed request with the server's values, which win over
 * the client's: a setting replaces its member (or, with an empty value,
 * removes it); metadata keys the server sets replace the client's keys
 * of that name, and come after the client's others, in settings order.
 * Every value must follow the client's rules (pay_intent_value_reason())
 * and set metadata keys pay_intent_metadata_key_reason()'s.
 * Returns PAY_OK with req rebuilt (its storage replaced),
 * PAY_ERR_VALIDATION_FAILED with errs listing every setting that failed
 * (field "customer", "metadata.KEY", ...) or metadata over
 * PAY_INTENT_METADATA_MAX keys, req unchanged, or PAY_ERR_INTERNAL (no
 * memory, a setting of no field), req unchanged.
 */
pay_rc_e pay_intent_apply(pay_intent_request_t *req,
    const pay_intent_setting_t *settings, size_t n,
    pay_field_errors_t *errs);

/*
 * "description", "customer", "return_url", "cancel_url", "source_id",
 * "metadata" (key->data NULL) and "metadata.KEY" (key set to KEY, which
 * may be empty) map to their field; anything else to
 * PAY_INTENT_FIELD_NONE.  key may be NULL.
 */
pay_intent_field_e pay_intent_field(const char *name, size_t len,
    pay_intent_str_t *key);

/* NULL when a metadata key follows the rules, else why not (static) */
const char *pay_intent_metadata_key_reason(const char *key, size_t len);

/*
 * NULL when a value the server sets for field follows the rules a
 * client's value of that member does (the metadata rule is a value's),
 * else why not (a static string).  A value must also be UTF-8 without NUL,
 * as any JSON string of the client's is.  len 0 is acceptable: the member
 * is left out.
 */
const char *pay_intent_value_reason(pay_intent_field_e field,
    const char *value, size_t len);

/* frees what pay_intent_parse() allocated; the request is then zeroed */
void pay_intent_request_free(pay_intent_request_t *req);

/*
 * Adds an entry to errs.  field[0..field_len) is kept when it is 1 to
 * PAY_INTENT_FIELD_MAX visible ASCII bytes, else "?" is shown; reason must
 * be a static string.  When errs is full, sets errs->truncated instead.
 */
void pay_field_errors_add(pay_field_errors_t *errs, const char *field,
    size_t field_len, const char *reason);

/*
 * Renders the 422 body, one line of JSON and a LF, with the members the
 * module's other problem responses have:
 *   {"type":"urn:ngx-pay:error:validation_failed","title":"Validation
 *   failed","status":422,"detail":...,"code":"validation_failed",
 *   "errors":[{"field":"amount","reason":"..."},...]}
 * detail NULL gives a generic sentence; it must be valid UTF-8.  Returns
 * the length of the whole body, written to out only when it is not more
 * than size (call with NULL, 0 to learn the size), or 0 on failure.
 */
size_t pay_intent_problem_json(const pay_field_errors_t *errs,
    const char *detail, char *out, size_t size);

/*
 * The providers an intent can go to: "stripe", "paypal", "square" (exact
 * bytes) map to theirs; anything else to PAY_PROVIDER_NONE.
 */
pay_provider_e pay_intent_provider(const char *name, size_t len);

/* "stripe", "paypal", "square", or NULL for any other value */
const char *pay_intent_provider_name(pay_provider_e provider);


#endif /* PAY_INTENT_H_INCLUDED_ */
