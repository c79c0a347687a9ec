/*
 * Copyright (C) ngx_pay authors
 *
 * Stripe webhook signatures (docs/providers/stripe.md).  Pure C.
 *
 *   Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=<hex>]
 *   v1 = lowercase hex HMAC-SHA256(key = secret string as-is,
 *                                  msg = <t> "." <raw body>)
 */


#ifndef PAY_STRIPE_H_INCLUDED_
#define PAY_STRIPE_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"
#include "pay_hmac.h"


#define PAY_STRIPE_SIG_LEN  32      /* a v1 value decodes to 32 bytes */


typedef struct {
    long long    t;          /* the timestamp, seconds */
    const char  *t_str;      /* its digits as received: what was signed */
    size_t       t_len;
    size_t       v1_count;   /* v1 items present, any form */
    size_t       v1_valid;   /* v1 items that are 64 hex digits */
} pay_stripe_header_t;


/*
 * Parses a Stripe-Signature value.  Grammar (docs/providers.md):
 *   items separated by ','; optional SP/HTAB around an item is ignored
 *   (not around its '=', and no other byte counts as whitespace);
 *   each item is key '=' value with a non-empty key, else malformed (so
 *   an empty item, as in ",," or a trailing ',', is malformed); the key
 *   ends at the first '=', the value may hold more; keys are
 *   case-sensitive; any byte, NUL included, is just a byte;
 *   "t" exactly once, 1..19 decimal digits, no sign, no leading zero
 *   (except "0"), at most LLONG_MAX, else malformed;
 *   "v1" may repeat; a value that is not exactly 64 hex digits (either
 *   case) is skipped, as stripe-go does, so a good v1 next to a bad one
 *   still verifies;
 *   every other key (v0, unknown schemes) is ignored.
 * Returns:
 *   PAY_ERR_SIGNATURE_MISSING    value empty (or only whitespace), or no v1
 *                                item at all (e.g. v0 only);
 *   PAY_ERR_SIGNATURE_MALFORMED  grammar broken, t missing/bad/duplicated,
 *                                or v1 items present but none is 64 hex;
 *   PAY_OK                       h filled in (pointers into value).
 * A broken grammar or a missing t is reported before a missing v1 (as the
 * SDKs do): "foo=bar" is malformed, "t=1,v0=..." is missing.
 */
pay_rc_e pay_stripe_header_parse(const char *value, size_t len,
    pay_stripe_header_t *h);

/*
 * The whole check, in this order: parse the header, check the timestamp
 * against now +- tolerance (0 disables), compute one HMAC-SHA256 per key
 * over t "." body, and accept when any key matches any v1 (constant-time
 * comparison of decoded bytes).  keys are made with pay_hmac_key_new(...,
 * PAY_DIGEST_SHA256).  body may be NULL when body_len is 0.
 * Returns PAY_OK, the parse errors above,
 * PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE, PAY_ERR_SIGNATURE_MISMATCH, or
 * PAY_ERR_INTERNAL (OpenSSL failure).
 */
pay_rc_e pay_stripe_verify(const char *value, size_t value_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance);

/*
 * The same, and *key (when not NULL) is the 1-based position in keys of
 * the first key that matched, 0 when none did ($pay_secret, the
 * rotation metric).  Every key is still tried.
 */
pay_rc_e pay_stripe_verify_key(const char *value, size_t value_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance, size_t *key);

/*
 * Signs as Stripe does (the ngx-pay CLI, tests): writes the header value
 * "t=<t>,v1=<64 lowercase hex>" and a NUL to out[0..size), the MAC over
 * the same message pay_stripe_verify() checks.  key as for verify; t >= 0.
 * Returns the length without the NUL, 0 on a bad argument, a short out
 * (PAY_STRIPE_SIGN_MAX is always enough) or an OpenSSL failure.
 */
#define PAY_STRIPE_SIGN_MAX  (2 + 19 + 4 + 2 * PAY_STRIPE_SIG_LEN + 1)

size_t pay_stripe_sign(const pay_hmac_key_t *key, long long t,
    const unsigned char *body, size_t body_len, char *out, size_t size);


#endif /* PAY_STRIPE_H_INCLUDED_ */
