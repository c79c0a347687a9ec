/*
 * Copyright (C) ngx_pay authors
 *
 * Square webhook signatures (docs/providers/square.md).
 *
 * The received value is decoded to raw bytes and compared with each MAC in
 * constant time, rather than encoding the MACs and comparing text: one
 * strict decoder decides what a well-formed signature is, and a
 * non-canonical encoding of the right bytes is malformed, not a match.
 */


#include <openssl/crypto.h>

#include "pay_base64.h"
#include "pay_json.h"
#include "pay_square.h"
#include "pay_timestamp.h"


/* "2022-07-13T20:30:59.037339943+00:00" and some room */
#define PAY_SQUARE_TIME_MAX  64


static void pay_square_message(pay_iovec_t *parts, const unsigned char *url,
    size_t url_len, const unsigned char *body, size_t body_len);


/* what Square signs: the notification URL, then the raw body */

static void
pay_square_message(pay_iovec_t *parts, const unsigned char *url,
    size_t url_len, const unsigned char *body, size_t body_len)
{
    parts[0].data = url;
    parts[0].len = url_len;
    parts[1].data = body;
    parts[1].len = body_len;
}


pay_rc_e
pay_square_verify(const char *sig, size_t sig_len,
    const unsigned char *url, size_t url_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys)
{
    return pay_square_verify_key(sig, sig_len, url, url_len, body, body_len,
                                 keys, nkeys, NULL);
}


pay_rc_e
pay_square_verify_key(const char *sig, size_t sig_len,
    const unsigned char *url, size_t url_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys, size_t *key)
{
    int            matched, m;
    size_t         i, size, decoded_len, which;
    pay_rc_e       rc;
    pay_iovec_t    parts[2];
    unsigned char  decoded[PAY_HMAC_MAX_LEN];
    unsigned char  mac[PAY_HMAC_MAX_LEN];

    if (sig == NULL || sig_len == 0) {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    /* the length bound first: no point decoding a long header */
    if (sig_len > pay_base64_encoded_len(PAY_HMAC_MAX_LEN)
        || pay_base64_decode(sig, sig_len, decoded, sizeof(decoded),
                             &decoded_len, 0)
           != 0)
    {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    if (keys == NULL && nkeys != 0) {
        return PAY_ERR_INTERNAL;
    }

    for (i = 0; i < nkeys; i++) {
        if (keys[i] == NULL
            || pay_hmac_size(keys[i]) != pay_hmac_size(keys[0]))
        {
            return PAY_ERR_INTERNAL;
        }
    }

    size = (nkeys != 0) ? pay_hmac_size(keys[0]) : 0;

    if (nkeys != 0 && decoded_len != size) {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    if (url == NULL || url_len == 0 || (body == NULL && body_len != 0)) {
        return PAY_ERR_INTERNAL;
    }

    pay_square_message(parts, url, url_len, body, body_len);

    matched = 0;
    which = 0;
    rc = PAY_OK;

    for (i = 0; i < nkeys; i++) {

        if (pay_hmac_compute(keys[i], parts, 2, mac) != 0) {
            rc = PAY_ERR_INTERNAL;
            break;
        }

        /* every key is tried: which one matched is not something to time */
        m = pay_mem_equal(decoded, mac, size);
        matched |= m;
        /* the first key that matched, without a branch */
        which |= (size_t) (m & (which == 0)) * (i + 1);
    }

    /* a MAC over attacker-chosen bytes is a forgery: leave none behind */
    OPENSSL_cleanse(mac, sizeof(mac));

    if (rc != PAY_OK) {
        return rc;
    }

    if (key != NULL) {
        *key = matched ? which : 0;
    }

    return matched ? PAY_OK : PAY_ERR_SIGNATURE_MISMATCH;
}


pay_rc_e
pay_square_created_at(const unsigned char *body, size_t len, long long *t)
{
    char               value[PAY_SQUARE_TIME_MAX + 1];
    size_t             value_len;
    pay_json_member_t  m;

    m.name = "created_at";

    if (pay_json_scan_object(body, len, &m, 1) != 0
        || m.type != PAY_JSON_STRING
        || pay_json_string_ascii(m.value, m.len, value, sizeof(value),
                                 &value_len)
           != 0
        || pay_timestamp_rfc3339(value, value_len, t) != 0)
    {
        return PAY_ERR_BODY_MALFORMED;
    }

    return PAY_OK;
}


size_t
pay_square_sign(const pay_hmac_key_t *key, const unsigned char *url,
    size_t url_len, const unsigned char *body, size_t body_len, char *out,
    size_t size)
{
    size_t         len;
    pay_iovec_t    parts[2];
    unsigned char  mac[PAY_HMAC_MAX_LEN];

    if (key == NULL || url == NULL || url_len == 0 || out == NULL
        || (body == NULL && body_len != 0))
    {
        return 0;
    }

    len = pay_base64_encoded_len(pay_hmac_size(key));
    if (size < len + 1) {
        return 0;
    }

    pay_square_message(parts, url, url_len, body, body_len);

    if (pay_hmac_compute(key, parts, 2, mac) != 0) {
        return 0;
    }

    pay_base64_encode(mac, pay_hmac_size(key), out);
    out[len] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return len;
}
