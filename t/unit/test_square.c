/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_square.c: the Square vectors Q1-Q3
 * (t/vectors/README.md; bodies read from $PAY_VECTORS, default t/vectors,
 * relative to the directory the test runs in), their negatives, the
 * legacy SHA-1 values, several keys, and malformed signatures.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit_vector.h"

#include "pay_base64.h"
#include "pay_square.h"


#define Q1_URL      "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
#define Q1_URL_OFF  "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9"
#define Q1_KEY      "Ibxx_5AKakO-3qeNVR61Dw"
#define Q1_SIG      "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
#define Q1_SHA1     "+9Qzy6LPYs08yM75TiRwUupYoS0="

/* the SDK tests' wrong key and wrong signature */
#define OTHER_KEY   "MCmhFRxGX82xMwg5FsaoQA"
#define OTHER_SIG   "1z2n3DEJJiUPKcPzQo1ftvbxGdw="

/* Q1 signed with the key base64url-decoded: what a wrong reading gives */
#define Q1_WRONGKEY_SIG  "jANKDhZcquH+HM76yMUqUMCeEiOqQtVkisEej8W6/lQ="

#define Q23_URL     "https://webhook.site/webhooks"
#define Q23_KEY     "signature-key"
#define Q2_SIG      "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="
#define Q2_SHA1     "3v9MaqpavkBPe1fSbW2T9mkolt8="
#define Q3_SIG      "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA="
#define Q3_SHA1     "zXelvWdExBAlgZrzqpmtIq5em9w="

/* Q1's body reformatted (json.dumps(indent=2)): same JSON, other bytes */
#define Q1_PRETTY                                                             \
    "{\n  \"merchant_id\": \"MLEFBHHSJGVHD\",\n"                              \
    "  \"type\": \"webhooks.test_notification\",\n"                           \
    "  \"event_id\": \"ac3ac95b-f97d-458c-a6e6-18981597e05f\",\n"             \
    "  \"created_at\": \"2022-07-13T20:30:59.037339943Z\",\n"                 \
    "  \"data\": {\n    \"type\": \"webhooks\",\n"                            \
    "    \"id\": \"bc368e64-01aa-407e-b46e-3231809b1129\"\n  }\n}"


typedef struct {
    body_t           q1;
    body_t           q2;
    body_t           q3;
    pay_hmac_key_t  *q1_key;
    pay_hmac_key_t  *q23_key;
    pay_hmac_key_t  *other_key;
    pay_hmac_key_t  *q1_sha1;
    pay_hmac_key_t  *q23_sha1;
    pay_hmac_key_t  *other_sha1;
    pay_hmac_key_t  *q1_decoded;   /* Q1's key base64url-decoded */
} fixture_t;


static fixture_t  fx;


/* helpers */


static pay_hmac_key_t *
key_new(const char *key, pay_digest_e digest)
{
    return pay_hmac_key_new((const unsigned char *) key, strlen(key),
                            digest);
}


static int
setup(void **state)
{
    static const unsigned char  decoded[] = {
        0x21, 0xbc, 0x71, 0xff, 0x90, 0x0a, 0x6a, 0x43,
        0xbe, 0xde, 0xa7, 0x8d, 0x55, 0x1e, 0xb5, 0x0f
    };

    (void) state;

    memset(&fx, 0, sizeof(fx));

    if (read_vector("square_q1_body.json", &fx.q1) != 0
        || read_vector("square_q2_body.json", &fx.q2) != 0
        || read_vector("square_q3_body.json", &fx.q3) != 0)
    {
        return -1;
    }

    fx.q1_key = key_new(Q1_KEY, PAY_DIGEST_SHA256);
    fx.q23_key = key_new(Q23_KEY, PAY_DIGEST_SHA256);
    fx.other_key = key_new(OTHER_KEY, PAY_DIGEST_SHA256);
    fx.q1_sha1 = key_new(Q1_KEY, PAY_DIGEST_SHA1);
    fx.q23_sha1 = key_new(Q23_KEY, PAY_DIGEST_SHA1);
    fx.other_sha1 = key_new(OTHER_KEY, PAY_DIGEST_SHA1);
    fx.q1_decoded = pay_hmac_key_new(decoded, sizeof(decoded),
                                     PAY_DIGEST_SHA256);

    if (fx.q1_key == NULL || fx.q23_key == NULL || fx.other_key == NULL
        || fx.q1_sha1 == NULL || fx.q23_sha1 == NULL || fx.other_sha1 == NULL
        || fx.q1_decoded == NULL)
    {
        return -1;
    }

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    free(fx.q1.data);
    free(fx.q2.data);
    free(fx.q3.data);
    pay_hmac_key_free(fx.q1_key);
    pay_hmac_key_free(fx.q23_key);
    pay_hmac_key_free(fx.other_key);
    pay_hmac_key_free(fx.q1_sha1);
    pay_hmac_key_free(fx.q23_sha1);
    pay_hmac_key_free(fx.other_sha1);
    pay_hmac_key_free(fx.q1_decoded);

    return 0;
}


static pay_rc_e
verify_n(const char *sig, size_t sig_len, const char *url,
    const unsigned char *body, size_t body_len, pay_hmac_key_t *key)
{
    pay_hmac_key_t  *keys[1];

    keys[0] = key;

    return pay_square_verify(sig, sig_len, (const unsigned char *) url,
                             strlen(url), body, body_len, keys, 1);
}


static pay_rc_e
verify(const char *sig, const char *url, const body_t *body,
    pay_hmac_key_t *key)
{
    return verify_n(sig, strlen(sig), url, body->data, body->len, key);
}


/* Q1's URL and body, the given key */

static pay_rc_e
verify_q1(const char *sig, pay_hmac_key_t *key)
{
    return verify(sig, Q1_URL, &fx.q1, key);
}


/* the Square vectors (t/vectors/README.md) */


static void
test_q1(void **state)
{
    (void) state;

    assert_int_equal(fx.q1.len, 234);
    assert_int_equal(verify_q1(Q1_SIG, fx.q1_key), PAY_OK);
}


static void
test_q2_q3(void **state)
{
    (void) state;

    assert_int_equal(fx.q2.len, 40);
    assert_int_equal(fx.q3.len, 43);

    assert_int_equal(verify(Q2_SIG, Q23_URL, &fx.q2, fx.q23_key), PAY_OK);
    assert_int_equal(verify(Q3_SIG, Q23_URL, &fx.q3, fx.q23_key), PAY_OK);

    /* each signature is its own body's */
    assert_int_equal(verify(Q3_SIG, Q23_URL, &fx.q2, fx.q23_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify(Q2_SIG, Q23_URL, &fx.q3, fx.q23_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_q1_url_mismatch(void **state)
{
    (void) state;

    assert_int_equal(verify(Q1_SIG, Q1_URL_OFF, &fx.q1, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* a trailing slash, another scheme: the URL is signed as a string */
    assert_int_equal(verify(Q1_SIG, Q1_URL "/", &fx.q1, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify(Q1_SIG,
                            "http://webhook.site/"
                            "679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
                            &fx.q1, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_q1_other_key(void **state)
{
    (void) state;

    assert_int_equal(verify_q1(Q1_SIG, fx.other_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_q1(Q1_SIG, fx.q23_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_q1_other_signature(void **state)
{
    (void) state;

    /*
     * The SDK tests' other signature is 28 characters, an SHA-1 size: with
     * SHA-256 keys it cannot be one, so it is malformed, not a mismatch.
     */
    assert_int_equal(verify_q1(OTHER_SIG, fx.q1_key),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_q1(OTHER_SIG, fx.q1_sha1),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* a well-formed signature of something else */
    assert_int_equal(verify_q1(Q2_SIG, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_q1("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                               fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_q1_body_changed(void **state)
{
    unsigned char  *body, *p;
    size_t          i;
    unsigned char   longer[512];

    (void) state;

    body = malloc(fx.q1.len);
    assert_non_null(body);
    memcpy(body, fx.q1.data, fx.q1.len);

    /* the SDK test's body: created_at a month earlier */
    p = (unsigned char *) strstr((char *) fx.q1.data, "2022-07-13");
    assert_non_null(p);
    body[p - fx.q1.data + 6] = '6';

    assert_int_equal(verify_n(Q1_SIG, strlen(Q1_SIG), Q1_URL, body,
                              fx.q1.len, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* reformatted: the same JSON, other bytes */
    assert_int_equal(verify_n(Q1_SIG, strlen(Q1_SIG), Q1_URL,
                              (const unsigned char *) Q1_PRETTY,
                              strlen(Q1_PRETTY), fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* one byte short, one byte more */
    assert_int_equal(verify_n(Q1_SIG, strlen(Q1_SIG), Q1_URL, fx.q1.data,
                              fx.q1.len - 1, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);

    memcpy(longer, fx.q1.data, fx.q1.len);
    longer[fx.q1.len] = '\n';
    assert_int_equal(verify_n(Q1_SIG, strlen(Q1_SIG), Q1_URL, longer,
                              fx.q1.len + 1, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* any single bit of the body */
    memcpy(body, fx.q1.data, fx.q1.len);

    for (i = 0; i < fx.q1.len; i++) {
        body[i] ^= 0x01;
        assert_int_equal(verify_n(Q1_SIG, strlen(Q1_SIG), Q1_URL, body,
                                  fx.q1.len, fx.q1_key),
                         PAY_ERR_SIGNATURE_MISMATCH);
        body[i] ^= 0x01;
    }

    assert_int_equal(verify_n(Q1_SIG, strlen(Q1_SIG), Q1_URL, body,
                              fx.q1.len, fx.q1_key),
                     PAY_OK);

    free(body);
}


static void
test_q1_wrongkey(void **state)
{
    (void) state;

    /* the key is used as-is: decoding it gives another MAC */
    assert_int_equal(verify_q1(Q1_WRONGKEY_SIG, fx.q1_key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_q1(Q1_WRONGKEY_SIG, fx.q1_decoded), PAY_OK);
    assert_int_equal(verify_q1(Q1_SIG, fx.q1_decoded),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_sha1(void **state)
{
    (void) state;

    assert_int_equal(verify_q1(Q1_SHA1, fx.q1_sha1), PAY_OK);
    assert_int_equal(verify(Q2_SHA1, Q23_URL, &fx.q2, fx.q23_sha1), PAY_OK);
    assert_int_equal(verify(Q3_SHA1, Q23_URL, &fx.q3, fx.q23_sha1), PAY_OK);

    assert_int_equal(verify_q1(Q1_SHA1, fx.other_sha1),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify(Q1_SHA1, Q1_URL_OFF, &fx.q1, fx.q1_sha1),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify(Q2_SHA1, Q23_URL, &fx.q3, fx.q23_sha1),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* one digest's signature never passes as the other's */
    assert_int_equal(verify_q1(Q1_SIG, fx.q1_sha1),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_q1(Q1_SHA1, fx.q1_key),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify(Q2_SIG, Q23_URL, &fx.q2, fx.q23_sha1),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_several_keys(void **state)
{
    size_t           key;
    pay_hmac_key_t  *keys[3];

    (void) state;

    /* one key per subscription sharing the URL: the second one matches */
    keys[0] = fx.other_key;
    keys[1] = fx.q1_key;
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 2),
                     PAY_OK);

    keys[0] = fx.q1_key;
    keys[1] = fx.other_key;
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 2),
                     PAY_OK);

    keys[0] = fx.other_key;
    keys[1] = fx.q23_key;
    keys[2] = fx.q1_key;
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 3),
                     PAY_OK);

    /* which key verified: 1-based, 0 when none */
    key = 99;
    assert_int_equal(pay_square_verify_key(Q1_SIG, strlen(Q1_SIG),
                                           (const unsigned char *) Q1_URL,
                                           strlen(Q1_URL), fx.q1.data,
                                           fx.q1.len, keys, 3, &key),
                     PAY_OK);
    assert_int_equal(key, 3);
    assert_int_equal(pay_square_verify_key(Q1_SIG, strlen(Q1_SIG),
                                           (const unsigned char *) Q1_URL,
                                           strlen(Q1_URL), fx.q1.data,
                                           fx.q1.len, keys, 2, &key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(key, 0);
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 2),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* SHA-1 keys, the second matching */
    keys[0] = fx.other_sha1;
    keys[1] = fx.q1_sha1;
    assert_int_equal(pay_square_verify(Q1_SHA1, strlen(Q1_SHA1),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 2),
                     PAY_OK);

    /* no key: nothing matches */
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 0),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, NULL, 0),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_bad_keys(void **state)
{
    pay_hmac_key_t  *keys[2];

    (void) state;

    /* mixed digests, a NULL key, a NULL array: configuration faults */
    keys[0] = fx.q1_key;
    keys[1] = fx.q1_sha1;
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 2),
                     PAY_ERR_INTERNAL);

    keys[0] = fx.q1_key;
    keys[1] = NULL;
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 2),
                     PAY_ERR_INTERNAL);

    keys[0] = NULL;
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, keys, 1),
                     PAY_ERR_INTERNAL);

    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, NULL, 1),
                     PAY_ERR_INTERNAL);

    /* but a signature that is not base64 is the sender's fault first */
    assert_int_equal(pay_square_verify("%%%%", 4,
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), fx.q1.data,
                                       fx.q1.len, NULL, 1),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_bad_url_or_body(void **state)
{
    pay_hmac_key_t  *keys[1];

    (void) state;

    keys[0] = fx.q1_key;

    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG), NULL, 0,
                                       fx.q1.data, fx.q1.len, keys, 1),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) "", 0,
                                       fx.q1.data, fx.q1.len, keys, 1),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), NULL, 10, keys, 1),
                     PAY_ERR_INTERNAL);
}


static void
test_empty_body(void **state)
{
    pay_hmac_key_t  *keys[1];

    (void) state;

    keys[0] = fx.q1_key;

    /* HMAC-SHA256(Q1 key, Q1 URL) alone (python hmac) */
    assert_int_equal(pay_square_verify("YOKnzmDhEP4AgigHk7bs2tBWA0jCYSbL"
                                       "odyBcpvlhnA=", 44,
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), NULL, 0, keys, 1),
                     PAY_OK);
    assert_int_equal(pay_square_verify(Q1_SIG, strlen(Q1_SIG),
                                       (const unsigned char *) Q1_URL,
                                       strlen(Q1_URL), NULL, 0, keys, 1),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_missing(void **state)
{
    (void) state;

    assert_int_equal(verify_n(NULL, 0, Q1_URL, fx.q1.data, fx.q1.len,
                              fx.q1_key),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_n("", 0, Q1_URL, fx.q1.data, fx.q1.len,
                              fx.q1_key),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_n(Q1_SIG, 0, Q1_URL, fx.q1.data, fx.q1.len,
                              fx.q1_key),
                     PAY_ERR_SIGNATURE_MISSING);
}


static void
test_malformed_base64(void **state)
{
    static const char  *bad[] = {
        " " Q1_SIG,                                      /* whitespace */
        Q1_SIG " ",
        Q1_SIG "\t",
        "GF4YkrJgGBDZ9NIYbNXBnMzq b2HoL4RW/S6vkZ9/2N4=",
        "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4",   /* no padding */
        Q1_SIG "=",                                      /* extra '=' */
        Q1_SIG "==",
        "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW_S6vkZ9_2N4=",  /* base64url */
        "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N5=",  /* low bits set */
        "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=\n",
        "GF4YkrJg=GBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4",
        "185e1892b2601810d9f4d2186cd5c19ccc"             /* hex */
        "ea6f61e82f8456fd2eaf919f7fd8de",
        "!!!!",
        "=",
        "====",
        "A",
        "sha256=" Q1_SIG
    };

    size_t  i;

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify_q1(bad[i], fx.q1_key),
                         PAY_ERR_SIGNATURE_MALFORMED);
    }
}


static void
test_wrong_length(void **state)
{
    char           b64[256];
    size_t         len;
    unsigned char  raw[100];

    (void) state;

    memset(raw, 0x5a, sizeof(raw));

    /* 31, 33, 20, 64, 0 bytes: valid base64, not an SHA-256 */
    for (len = 0; len <= sizeof(raw); len++) {
        if (len == 32) {
            continue;
        }

        pay_base64_encode(raw, len, b64);
        b64[pay_base64_encoded_len(len)] = '\0';

        assert_int_equal(verify_n(b64, strlen(b64), Q1_URL, fx.q1.data,
                                  fx.q1.len, fx.q1_key),
                         len == 0 ? PAY_ERR_SIGNATURE_MISSING
                                  : PAY_ERR_SIGNATURE_MALFORMED);
    }

    /* a long header: malformed without being decoded */
    memset(b64, 'A', sizeof(b64));
    assert_int_equal(verify_n(b64, sizeof(b64), Q1_URL, fx.q1.data,
                              fx.q1.len, fx.q1_key),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_signature_bits(void **state)
{
    char    sig[sizeof(Q1_SIG)];
    size_t  i;
    int     bit;

    (void) state;

    /* every single-bit change of the value: malformed or a mismatch */
    for (i = 0; i < sizeof(Q1_SIG) - 1; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(sig, Q1_SIG, sizeof(Q1_SIG));
            sig[i] = (char) (sig[i] ^ (1 << bit));

            assert_true(verify_n(sig, sizeof(Q1_SIG) - 1, Q1_URL,
                                 fx.q1.data, fx.q1.len, fx.q1_key)
                        != PAY_OK);
        }
    }
}


static void
test_embedded_nul(void **state)
{
    (void) state;

    /* the length counts, not a NUL */
    assert_int_equal(verify_n(Q1_SIG "\0", sizeof(Q1_SIG), Q1_URL,
                              fx.q1.data, fx.q1.len, fx.q1_key),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_n("\0" Q1_SIG, sizeof(Q1_SIG), Q1_URL,
                              fx.q1.data, fx.q1.len, fx.q1_key),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


/* created_at, the only time Square signs */

static pay_rc_e
created_at(const char *body, long long *t)
{
    return pay_square_created_at((const unsigned char *) body,
                                 strlen(body), t);
}


static void
test_created_at(void **state)
{
    long long  t;

    (void) state;

    /* Q1, the SDKs' vector */
    t = 0;
    assert_int_equal(pay_square_created_at(fx.q1.data, fx.q1.len, &t),
                     PAY_OK);
    assert_int_equal(t, 1657744259);

    t = 0;
    assert_int_equal(created_at(Q1_PRETTY, &t), PAY_OK);
    assert_int_equal(t, 1657744259);

    /* an escaped name is the same name, an offset counts */
    assert_int_equal(created_at("{\"created\\u005fat\":"
                                "\"2022-07-13T22:30:59+02:00\"}", &t),
                     PAY_OK);
    assert_int_equal(t, 1657744259);

    /* nested ones are not it */
    t = 7;
    assert_int_equal(created_at("{\"data\":{\"created_at\":"
                                "\"2022-07-13T20:30:59Z\"}}", &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(t, 7);

    /* absent, repeated, not a string, not RFC 3339, not JSON */
    assert_int_equal(created_at("{}", &t), PAY_ERR_BODY_MALFORMED);
    assert_int_equal(created_at("{\"created_at\":\"2022-07-13T20:30:59Z\","
                                "\"created_at\":\"2022-07-13T20:30:59Z\"}",
                                &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(created_at("{\"created_at\":1657744259}", &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(created_at("{\"created_at\":\"1657744259\"}", &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(created_at("{\"created_at\":\"2022-07-13\"}", &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(created_at("{\"created_at\":\"2022-07-13T20:30:59Z"
                                "\\n\"}", &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(created_at("{\"created_at\":\"2022-07-13T20:30:59Z\"",
                                &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(pay_square_created_at(NULL, 0, &t),
                     PAY_ERR_BODY_MALFORMED);
    assert_int_equal(t, 7);
}



/* pay_square_sign(): the vectors' signatures from their inputs */

static void
test_sign(void **state)
{
    char  out[PAY_SQUARE_SIGN_MAX];

    (void) state;

    assert_int_equal(pay_square_sign(fx.q1_key, (const unsigned char *) Q1_URL,
                                     strlen(Q1_URL), fx.q1.data, fx.q1.len,
                                     out, sizeof(out)),
                     strlen(Q1_SIG));
    assert_string_equal(out, Q1_SIG);

    assert_int_equal(pay_square_sign(fx.q23_key,
                                     (const unsigned char *) Q23_URL,
                                     strlen(Q23_URL), fx.q2.data, fx.q2.len,
                                     out, sizeof(out)),
                     strlen(Q2_SIG));
    assert_string_equal(out, Q2_SIG);

    /* no URL, no room */
    assert_int_equal(pay_square_sign(fx.q1_key, NULL, 0, fx.q1.data,
                                     fx.q1.len, out, sizeof(out)), 0);
    assert_int_equal(pay_square_sign(fx.q1_key,
                                     (const unsigned char *) Q1_URL,
                                     strlen(Q1_URL), fx.q1.data, fx.q1.len,
                                     out, strlen(Q1_SIG)), 0);
}

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_q1),
        cmocka_unit_test(test_q2_q3),
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_q1_url_mismatch),
        cmocka_unit_test(test_q1_other_key),
        cmocka_unit_test(test_q1_other_signature),
        cmocka_unit_test(test_q1_body_changed),
        cmocka_unit_test(test_q1_wrongkey),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_several_keys),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_bad_url_or_body),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_malformed_base64),
        cmocka_unit_test(test_wrong_length),
        cmocka_unit_test(test_signature_bits),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_created_at),
    };

    return cmocka_run_group_tests_name("pay_square", tests, setup, teardown);
}
