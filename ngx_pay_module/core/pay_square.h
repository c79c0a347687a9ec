/*
 * Copyright (C) ngx_pay authors
 *
 * Square webhook signatures (docs/providers/square.md).  Pure C.
 *
 *   x-square-hmacsha256-signature: base64(HMAC-SHA256(key, url || body))
 *   x-square-signature (legacy):   base64(HMAC-SHA1(key, url || body))
 *   key = the subscription's signature key string as-is (not decoded),
 *   url = the notification URL exactly as registered with Square.
 */


#ifndef PAY_SQUARE_H_INCLUDED_
#define PAY_SQUARE_H_INCLUDED_


#include <stddef.h>

#include "pay_base64.h"
#include "pay_error.h"
#include "pay_hmac.h"


/*
 * sig: the x-square-hmacsha256-signature value (or the legacy
 * x-square-signature one), standard padded base64 of HMAC(key, url ||
 * body), decoded strictly (pay_base64.h): no whitespace is tolerated
 * around or inside it (nginx has already stripped the SP/HTAB around a
 * header value, and Square sends none).  keys all use the same digest,
 * PAY_DIGEST_SHA256 for the current header, PAY_DIGEST_SHA1 for the legacy
 * one, and the signature must decode to exactly pay_hmac_size() bytes.
 * Any key may match (one key per Square subscription sharing the URL);
 * every key is tried, without an early exit.  body may be NULL when
 * body_len is 0.  Returns:
 *   PAY_ERR_SIGNATURE_MISSING    sig NULL or empty;
 *   PAY_ERR_SIGNATURE_MALFORMED  not strict padded base64 (reported before
 *                                anything else is looked at), or, with
 *                                keys, not pay_hmac_size() bytes decoded;
 *   PAY_ERR_INTERNAL             url NULL or empty (Square's SDKs refuse
 *                                it too), NULL keys, keys of different
 *                                sizes, an OpenSSL failure;
 *   PAY_ERR_SIGNATURE_MISMATCH   no key matches (also when nkeys is 0);
 *   PAY_OK                       a key matches.
 */
pay_rc_e pay_square_verify(const char *sig, size_t sig_len,
    const unsigned char *url, size_t url_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys);

/*
 * The same, and *key (when not NULL) is the 1-based position in keys of
 * the first key that matched, 0 when none did.  Every key is still tried.
 */
pay_rc_e pay_square_verify_key(const char *sig, size_t sig_len,
    const unsigned char *url, size_t url_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys, size_t *key);

/*
 * The time Square signs, for want of a signed timestamp: the top-level
 * "created_at" of the (verified) body, an RFC 3339 date-time
 * (pay_timestamp_rfc3339()), in *t as seconds since the epoch.  Returns
 * PAY_OK, or PAY_ERR_BODY_MALFORMED when the body is not a JSON object
 * (pay_json's rules), or created_at is absent, repeated, not a string or
 * not such a date-time (*t then untouched).  body may be NULL when len is
 * 0.
 */
pay_rc_e pay_square_created_at(const unsigned char *body, size_t len,
    long long *t);

/*
 * Signs as Square does (the ngx-pay CLI, tests): writes the base64 of
 * HMAC(key, url || body), the message pay_square_verify() checks, and a
 * NUL to out[0..size) (PAY_SQUARE_SIGN_MAX is always enough); a SHA-256
 * key gives the x-square-hmacsha256-signature value, a SHA-1 key the
 * legacy one.  Returns the length without the NUL, 0 on a bad argument,
 * a short out or an OpenSSL failure.
 */
#define PAY_SQUARE_SIGN_MAX  (pay_base64_encoded_len(PAY_HMAC_MAX_LEN) + 1)

size_t pay_square_sign(const pay_hmac_key_t *key, const unsigned char *url,
    size_t url_len, const unsigned char *body, size_t body_len, char *out,
    size_t size);


#endif /* PAY_SQUARE_H_INCLUDED_ */
