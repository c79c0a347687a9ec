/*
 * Copyright (C) ngx_pay authors
 *
 * A payment-intent request (SPEC section 5): the client's JSON body,
 * validated field by field, and the 422 problem+json listing every field
 * that failed.  Pure C (jansson).
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
