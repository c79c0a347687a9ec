/*
 * Copyright (C) ngx_pay authors
 *
 * Standard Webhooks (Svix) signatures (docs/providers/standard.md).  Pure C.
 *
 *   webhook-id: <msg id>   webhook-timestamp: <unix seconds>
 *   webhook-signature: v1,<base64> [v1,<base64> ...] [v1a,<...>]
 *   v1 = base64(HMAC-SHA256(key = base64-decoded secret after "whsec_",
 *                           msg = <id> "." <timestamp> "." <raw body>))
 */


#ifndef PAY_STANDARD_H_INCLUDED_
#define PAY_STANDARD_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"
#include "pay_hmac.h"


#define PAY_STANDARD_SIG_LEN  32    /* a v1 value decodes to 32 bytes */


/*
 * Decodes a "whsec_<base64>" secret into key[0..size): the prefix is
 * optional and unpadded base64 is accepted, as the reference libraries
 * do; otherwise strict (pay_base64.h: standard alphabet, no whitespace).
 * Returns 0 with *key_len set (at least 1), or -1: empty, bad base64, or
 * more than size bytes (key is then wiped).
 */
int pay_standard_secret_decode(const char *secret, size_t len,
    unsigned char *key, size_t size, size_t *key_len);

/*
 * id, ts, sig: the webhook-id, webhook-timestamp and webhook-signature
 * values; keys made with pay_hmac_key_new(decoded secret, ...,
 * PAY_DIGEST_SHA256).  Checked in this order:
 *   PAY_ERR_SIGNATURE_MISSING    id, ts or sig NULL or empty;
 *   PAY_ERR_SIGNATURE_MALFORMED  id not 1..255 visible ASCII 0x21..0x7e
 *                                (pay_event_field_check(): it becomes the
 *                                event id), or ts not 1..19 decimal
 *                                digits up to LLONG_MAX (leading zeros are
 *                                fine: the digits are signed as received,
 *                                and the reference libraries parse them
 *                                as integers);
 *   PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE  |now - ts| > tolerance (0
 *                                disables), both directions;
 *   the signature list: entries separated by SP (runs of SP, leading and
 *   trailing SP are fine), each "<version>,<value>" split at its first ','
 *   (an entry with no ',' is a version alone); versions other than "v1"
 *   (v1a, v2, ...) are skipped, and so is a v1 whose value is not strict
 *   padded base64 of 32 bytes (so a good v1 next to a bad one still
 *   verifies).  As pay_stripe_header_parse() does:
 *   PAY_ERR_SIGNATURE_MISSING    no v1 entry at all (e.g. v1a only);
 *   PAY_ERR_SIGNATURE_MALFORMED  v1 entries, none of them 32 bytes;
 *   then one HMAC-SHA256 per key over id "." ts "." body, every key
 *   against every v1 in constant time, without an early exit:
 *   PAY_ERR_SIGNATURE_MISMATCH   no match (also when nkeys is 0);
 *   PAY_ERR_INTERNAL             NULL keys, a key that is not SHA-256, an
 *                                OpenSSL failure;
 *   PAY_OK                       a match.
 * body may be NULL when body_len is 0.
 */
pay_rc_e pay_standard_verify(const char *id, size_t id_len,
    const char *ts, size_t ts_len, const char *sig, size_t sig_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance);

/*
 * The same, and *key (when not NULL) is the 1-based position in keys of
 * the first key that matched, 0 when none did.  Every key is still tried.
 */
pay_rc_e pay_standard_verify_key(const char *id, size_t id_len,
    const char *ts, size_t ts_len, const char *sig, size_t sig_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance, size_t *key);

/*
 * Signs as Standard Webhooks senders do (the ngx-pay CLI, tests): writes
 * "v1,<base64>", the MAC over the message pay_standard_verify() checks,
 * and a NUL to out[0..size) (PAY_STANDARD_SIGN_MAX is enough).  id and ts
 * must be what verify accepts (an event id, 1..19 digits).  Returns the
 * length without the NUL, or 0 (a bad argument, a short out, OpenSSL).
 */
#define PAY_STANDARD_SIGN_MAX  (3 + 44 + 1)

size_t pay_standard_sign(const pay_hmac_key_t *key, const char *id,
    size_t id_len, const char *ts, size_t ts_len, const unsigned char *body,
    size_t body_len, char *out, size_t size);


#endif /* PAY_STANDARD_H_INCLUDED_ */
