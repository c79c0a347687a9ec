/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_standard.c: the Standard Webhooks vector W1
 * (t/vectors/README.md; body read from $PAY_VECTORS, default t/vectors,
 * relative to the directory the test runs in), secret rotation, the
 * signature list, the timestamp window, malformed headers and secret
 * decoding.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit_vector.h"

#include "pay_base64.h"
#include "pay_standard.h"


#define W1_SECRET  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define W1_ID      "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define W1_TS      "1614265330"
#define W1_TIME    1614265330LL
#define W1_B64     "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define W1_SIG     "v1," W1_B64

/* another secret: base64 of the bytes 0..31 */
#define NEW_SECRET "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* W1's secret with its last bit changed */
#define OTHER_W1_SECRET  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx"

/* 31, 32 (all zero) and 33 bytes */
#define B64_31  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define B64_32  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define B64_33  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

#define SIG_B64_LEN  44


typedef struct {
    body_t           w1;
    pay_hmac_key_t  *w1_key;
    pay_hmac_key_t  *new_key;
    pay_hmac_key_t  *other_key;     /* 32 bytes of 0xee */
    pay_hmac_key_t  *sha1_key;
    char             new_b64[SIG_B64_LEN + 1];  /* W1 inputs, new key */
} fixture_t;


static fixture_t  fx;


/* helpers */


static pay_hmac_key_t *
secret_key_new(const char *secret)
{
    size_t         len;
    unsigned char  key[64];

    if (pay_standard_secret_decode(secret, strlen(secret), key, sizeof(key),
                                   &len)
        != 0)
    {
        return NULL;
    }

    return pay_hmac_key_new(key, len, PAY_DIGEST_SHA256);
}


/* the base64 v1 value of id "." ts "." body under key, NUL-terminated */

static int
sign(pay_hmac_key_t *key, const char *id, const char *ts,
    const unsigned char *body, size_t body_len, char *b64)
{
    pay_iovec_t    parts[5];
    unsigned char  mac[32];

    parts[0].data = id;
    parts[0].len = strlen(id);
    parts[1].data = ".";
    parts[1].len = 1;
    parts[2].data = ts;
    parts[2].len = strlen(ts);
    parts[3].data = ".";
    parts[3].len = 1;
    parts[4].data = body;
    parts[4].len = body_len;

    if (pay_hmac_compute(key, parts, 5, mac) != 0) {
        return -1;
    }

    pay_base64_encode(mac, sizeof(mac), b64);
    b64[SIG_B64_LEN] = '\0';

    return 0;
}


static int
setup(void **state)
{
    unsigned char  other[32];

    (void) state;

    memset(&fx, 0, sizeof(fx));

    if (read_vector("stdwh_w1_body.json", &fx.w1) != 0) {
        return -1;
    }

    memset(other, 0xee, sizeof(other));

    fx.w1_key = secret_key_new(W1_SECRET);
    fx.new_key = secret_key_new(NEW_SECRET);
    fx.other_key = pay_hmac_key_new(other, sizeof(other), PAY_DIGEST_SHA256);
    fx.sha1_key = pay_hmac_key_new(other, sizeof(other), PAY_DIGEST_SHA1);

    if (fx.w1_key == NULL || fx.new_key == NULL || fx.other_key == NULL
        || fx.sha1_key == NULL
        || sign(fx.new_key, W1_ID, W1_TS, fx.w1.data, fx.w1.len, fx.new_b64)
           != 0)
    {
        return -1;
    }

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    free(fx.w1.data);
    pay_hmac_key_free(fx.w1_key);
    pay_hmac_key_free(fx.new_key);
    pay_hmac_key_free(fx.other_key);
    pay_hmac_key_free(fx.sha1_key);

    return 0;
}


static pay_rc_e
verify_keys(const char *id, const char *ts, const char *sig,
    pay_hmac_key_t *const *keys, size_t nkeys, long long now,
    long long tolerance)
{
    return pay_standard_verify(id, id != NULL ? strlen(id) : 0,
                               ts, ts != NULL ? strlen(ts) : 0,
                               sig, sig != NULL ? strlen(sig) : 0,
                               fx.w1.data, fx.w1.len, keys, nkeys, now,
                               tolerance);
}


/* W1's body, the W1 key, clock at W1's timestamp, tolerance 300 */

static pay_rc_e
verify_w1(const char *id, const char *ts, const char *sig)
{
    pay_hmac_key_t  *keys[1];

    keys[0] = fx.w1_key;

    return verify_keys(id, ts, sig, keys, 1, W1_TIME, 300);
}


static pay_rc_e
verify_sig(const char *sig)
{
    return verify_w1(W1_ID, W1_TS, sig);
}


/* the Standard Webhooks vector W1 (t/vectors/README.md) */


static void
test_w1(void **state)
{
    char  b64[SIG_B64_LEN + 1];

    (void) state;

    assert_int_equal(fx.w1.len, 20);
    assert_int_equal(verify_sig(W1_SIG), PAY_OK);

    /* the helper the other tests sign with agrees with the vector */
    assert_int_equal(sign(fx.w1_key, W1_ID, W1_TS, fx.w1.data, fx.w1.len,
                          b64),
                     0);
    assert_string_equal(b64, W1_B64);
}


static void
test_w1_negatives(void **state)
{
    unsigned char    body[64];
    pay_hmac_key_t  *keys[1];

    (void) state;

    /* the id and the timestamp are signed, as received */
    assert_int_equal(verify_w1("msg_p5jXN8AQM9LWM0D4loKWxJeK", W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_w1(W1_ID, "1614265331", W1_SIG),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_w1(W1_ID, "01614265330", W1_SIG),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* the body */
    memcpy(body, fx.w1.data, fx.w1.len);
    body[fx.w1.len - 2] ^= 1;

    keys[0] = fx.w1_key;
    assert_int_equal(pay_standard_verify(W1_ID, strlen(W1_ID), W1_TS,
                                         strlen(W1_TS), W1_SIG,
                                         strlen(W1_SIG), body, fx.w1.len,
                                         keys, 1, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(pay_standard_verify(W1_ID, strlen(W1_ID), W1_TS,
                                         strlen(W1_TS), W1_SIG,
                                         strlen(W1_SIG), fx.w1.data,
                                         fx.w1.len - 1, keys, 1, W1_TIME,
                                         300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* another key */
    keys[0] = fx.other_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* the secret string itself is not the key (that is Stripe's way) */
    keys[0] = pay_hmac_key_new((const unsigned char *) W1_SECRET,
                               strlen(W1_SECRET), PAY_DIGEST_SHA256);
    assert_non_null(keys[0]);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
    pay_hmac_key_free(keys[0]);
}


static void
test_rotation_keys(void **state)
{
    size_t           key;
    pay_hmac_key_t  *keys[3];

    (void) state;

    keys[0] = fx.new_key;
    keys[1] = fx.w1_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 2, W1_TIME, 300),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    keys[0] = fx.w1_key;
    keys[1] = fx.new_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 2, W1_TIME, 300),
                     PAY_OK);

    keys[0] = fx.other_key;
    keys[1] = fx.new_key;
    keys[2] = fx.w1_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 3, W1_TIME, 300),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 2, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* which key verified: 1-based, 0 when none */
    key = 99;
    assert_int_equal(pay_standard_verify_key(W1_ID, strlen(W1_ID), W1_TS,
                                             strlen(W1_TS), W1_SIG,
                                             strlen(W1_SIG), fx.w1.data,
                                             fx.w1.len, keys, 3, W1_TIME,
                                             300, &key),
                     PAY_OK);
    assert_int_equal(key, 3);
    assert_int_equal(pay_standard_verify_key(W1_ID, strlen(W1_ID), W1_TS,
                                             strlen(W1_TS), W1_SIG,
                                             strlen(W1_SIG), fx.w1.data,
                                             fx.w1.len, keys, 2, W1_TIME,
                                             300, &key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(key, 0);

    /* no key: nothing matches */
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 0, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, NULL, 0, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_rotation_entries(void **state)
{
    char             sig[256];
    pay_hmac_key_t  *keys[1];

    (void) state;

    /* the sender signs with both secrets during a rotation */
    snprintf(sig, sizeof(sig), "v1,%s v1,%s", fx.new_b64, W1_B64);

    assert_int_equal(verify_sig(sig), PAY_OK);

    keys[0] = fx.new_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, sig, keys, 1, W1_TIME, 300),
                     PAY_OK);

    keys[0] = fx.other_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, sig, keys, 1, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    snprintf(sig, sizeof(sig), "v1,%s v1,%s", W1_B64, fx.new_b64);
    assert_int_equal(verify_sig(sig), PAY_OK);

    snprintf(sig, sizeof(sig), "v1,%s", fx.new_b64);
    assert_int_equal(verify_sig(sig), PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_other_versions_skipped(void **state)
{
    (void) state;

    /* v1a (ed25519) and future versions are not ours to check */
    assert_int_equal(verify_sig("v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/"
                                "enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3m"
                                "NgoqnbOtkMAw== " W1_SIG),
                     PAY_OK);
    assert_int_equal(verify_sig("v2," W1_B64 " " W1_SIG " v1a,x"), PAY_OK);

    /* what is left when they are skipped: no v1 at all */
    assert_int_equal(verify_sig("v1a," W1_B64), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig("v2," W1_B64), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig("v0," W1_B64 " v1a,x v2,y"),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig("V1," W1_B64), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig(W1_B64), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig("garbage"), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig(",v1"), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig(" "), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_sig("   "), PAY_ERR_SIGNATURE_MISSING);
}


static void
test_bad_v1_skipped(void **state)
{
    (void) state;

    /* a good v1 next to bad ones still verifies */
    assert_int_equal(verify_sig("v1,bad " W1_SIG), PAY_OK);
    assert_int_equal(verify_sig(W1_SIG " v1,bad"), PAY_OK);
    assert_int_equal(verify_sig("v1 v1, " W1_SIG), PAY_OK);

    /* v1 entries, none of them usable */
    assert_int_equal(verify_sig("v1,bad"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1,"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1,bad v1a," W1_B64),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* no padding, base64url, a low bit set, trailing bytes */
    assert_int_equal(verify_sig("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOL"
                                "J1OE"),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOL"
                                "J1OE="),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOL"
                                "J1OF="),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig(W1_SIG ",x"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig(W1_SIG "\t"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1,," W1_B64), PAY_ERR_SIGNATURE_MALFORMED);

    /* 31 and 33 bytes */
    assert_int_equal(verify_sig("v1," B64_31), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1," B64_33), PAY_ERR_SIGNATURE_MALFORMED);

    /* the 32 zero bytes: well formed, just wrong */
    assert_int_equal(verify_sig("v1," B64_32), PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_list_whitespace(void **state)
{
    (void) state;

    /* runs of SP separate entries; nothing else does */
    assert_int_equal(verify_sig("  " W1_SIG "  "), PAY_OK);
    assert_int_equal(verify_sig("v1,bad    " W1_SIG), PAY_OK);
    assert_int_equal(verify_sig("v1,bad\t" W1_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1,bad," W1_SIG), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_sig("v1, " W1_B64), PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_many_entries(void **state)
{
    char    *sig, *p;
    size_t   i, n;

    (void) state;

    /* a thousand bad v1 entries, the good one last */
    n = 1000;
    sig = malloc(n * 8 + sizeof(W1_SIG));
    assert_non_null(sig);

    for (p = sig, i = 0; i < n; i++, p += 7) {
        memcpy(p, "v1,bad ", 7);
    }

    memcpy(p, W1_SIG, sizeof(W1_SIG));

    assert_int_equal(verify_sig(sig), PAY_OK);

    p[0] = '\0';
    assert_int_equal(verify_sig(sig), PAY_ERR_SIGNATURE_MALFORMED);

    free(sig);
}


static void
test_many_keys(void **state)
{
    size_t           i;
    pay_hmac_key_t  *keys[20];

    (void) state;

    /* more keys than one batch of MACs, the good one in the last batch */
    for (i = 0; i < 20; i++) {
        keys[i] = fx.other_key;
    }

    keys[19] = fx.w1_key;

    assert_int_equal(verify_keys(W1_ID, W1_TS, "v1,bad " W1_SIG, keys, 20,
                                 W1_TIME, 300),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 19, W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    keys[8] = fx.w1_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 9, W1_TIME, 300),
                     PAY_OK);
}


static void
test_timestamp_window(void **state)
{
    pay_hmac_key_t  *keys[1];

    (void) state;

    keys[0] = fx.w1_key;

    /* stale */
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1,
                                 W1_TIME + 300, 300),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1,
                                 W1_TIME + 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);

    /* from the future */
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1,
                                 W1_TIME - 300, 300),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1,
                                 W1_TIME - 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);

    /* tolerance 0 disables the check, whatever the clock */
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, 0, 0),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, LLONG_MAX, 0),
                     PAY_OK);
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, LLONG_MIN, 0),
                     PAY_OK);

    /* a negative one fails closed */
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 1, W1_TIME, -1),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);

    /* the window is checked before the signatures are looked at */
    assert_int_equal(verify_keys(W1_ID, W1_TS, "v1a,x", keys, 1,
                                 W1_TIME + 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(verify_keys(W1_ID, W1_TS, "v1,bad", keys, 1,
                                 W1_TIME - 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}


static void
test_missing_headers(void **state)
{
    (void) state;

    assert_int_equal(verify_w1(NULL, W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1("", W1_TS, W1_SIG), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1(W1_ID, NULL, W1_SIG),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1(W1_ID, "", W1_SIG), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1(W1_ID, W1_TS, NULL),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1(W1_ID, W1_TS, ""), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1(NULL, NULL, NULL), PAY_ERR_SIGNATURE_MISSING);

    /* a missing header is reported before a malformed one */
    assert_int_equal(verify_w1("bad id", W1_TS, ""),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_w1("", "x", W1_SIG), PAY_ERR_SIGNATURE_MISSING);
}


static void
test_malformed_id(void **state)
{
    char   id[300];
    char   bad[8];
    int    c;

    (void) state;

    assert_int_equal(verify_w1("msg 1", W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_w1(" msg_1", W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_w1("msg_1\r\nX-Injected: 1", W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_w1("msg_\xc3\xa9", W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* every byte outside 0x21..0x7e */
    for (c = 1; c < 256; c++) {
        if (c >= 0x21 && c <= 0x7e) {
            continue;
        }

        snprintf(bad, sizeof(bad), "a%cb", c);
        assert_int_equal(verify_w1(bad, W1_TS, W1_SIG),
                         PAY_ERR_SIGNATURE_MALFORMED);
    }

    assert_int_equal(pay_standard_verify("a\0b", 3, W1_TS, strlen(W1_TS),
                                         W1_SIG, strlen(W1_SIG), fx.w1.data,
                                         fx.w1.len, &fx.w1_key, 1, W1_TIME,
                                         300),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* 255 bytes is the most: well formed, just not what was signed */
    memset(id, 'm', 255);
    id[255] = '\0';
    assert_int_equal(verify_w1(id, W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MISMATCH);

    id[255] = 'm';
    id[256] = '\0';
    assert_int_equal(verify_w1(id, W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* one visible byte is enough */
    assert_int_equal(verify_w1("!", W1_TS, W1_SIG),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_malformed_ts(void **state)
{
    static const char  *bad[] = {
        "-1614265330", "+1614265330", " 1614265330", "1614265330 ",
        "1614265330.0", "1.6e9", "0x60374ff2", "abc",
        "16142653\xef\xbc\x93" "0",
        "2021-02-25T15:02:10Z", "12345678901234567890",
        "9223372036854775808", "99999999999999999999"
    };

    size_t           i;
    pay_hmac_key_t  *keys[1];

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify_w1(W1_ID, bad[i], W1_SIG),
                         PAY_ERR_SIGNATURE_MALFORMED);
    }

    assert_int_equal(pay_standard_verify(W1_ID, strlen(W1_ID), "16\0", 3,
                                         W1_SIG, strlen(W1_SIG), fx.w1.data,
                                         fx.w1.len, &fx.w1_key, 1, W1_TIME,
                                         0),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* a malformed timestamp is reported before a bad signature list */
    assert_int_equal(verify_w1(W1_ID, "x", "v1a,x"),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* the largest value parses, then the clock decides */
    keys[0] = fx.w1_key;
    assert_int_equal(verify_keys(W1_ID, "9223372036854775807", W1_SIG, keys,
                                 1, W1_TIME, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(verify_keys(W1_ID, "9223372036854775807", W1_SIG, keys,
                                 1, W1_TIME, 0),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_keys(W1_ID, "0", W1_SIG, keys, 1, W1_TIME, 0),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* leading zeros are the same time (but other signed bytes) */
    assert_int_equal(verify_keys(W1_ID, "0001614265330", W1_SIG, keys, 1,
                                 W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_empty_body(void **state)
{
    char             b64[SIG_B64_LEN + 1], sig[64];
    pay_hmac_key_t  *keys[1];

    (void) state;

    keys[0] = fx.w1_key;

    assert_int_equal(sign(fx.w1_key, W1_ID, W1_TS, NULL, 0, b64), 0);
    snprintf(sig, sizeof(sig), "v1,%s", b64);

    assert_int_equal(pay_standard_verify(W1_ID, strlen(W1_ID), W1_TS,
                                         strlen(W1_TS), sig, strlen(sig),
                                         NULL, 0, keys, 1, W1_TIME, 300),
                     PAY_OK);
    assert_int_equal(pay_standard_verify(W1_ID, strlen(W1_ID), W1_TS,
                                         strlen(W1_TS), W1_SIG,
                                         strlen(W1_SIG), NULL, 0, keys, 1,
                                         W1_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_internal(void **state)
{
    pay_hmac_key_t  *keys[2];

    (void) state;

    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, NULL, 1, W1_TIME, 300),
                     PAY_ERR_INTERNAL);

    keys[0] = fx.w1_key;
    keys[1] = NULL;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 2, W1_TIME, 300),
                     PAY_ERR_INTERNAL);

    /* an SHA-1 key cannot make a v1 */
    keys[1] = fx.sha1_key;
    assert_int_equal(verify_keys(W1_ID, W1_TS, W1_SIG, keys, 2, W1_TIME, 300),
                     PAY_ERR_INTERNAL);

    assert_int_equal(pay_standard_verify(W1_ID, strlen(W1_ID), W1_TS,
                                         strlen(W1_TS), W1_SIG,
                                         strlen(W1_SIG), NULL, 5, keys, 1,
                                         W1_TIME, 300),
                     PAY_ERR_INTERNAL);
}


/* the secret */


static void
test_secret_decode(void **state)
{
    size_t         len, i;
    unsigned char  key[64];

    (void) state;

    /* W1: 24 bytes, no padding needed */
    assert_int_equal(pay_standard_secret_decode(W1_SECRET, strlen(W1_SECRET),
                                                key, sizeof(key), &len),
                     0);
    assert_int_equal(len, 24);
    assert_memory_equal(key, "\x31\xf2\x90\xf6\xbf\x06\x29\x8a\xab\x4f\x08"
                        "\xd4\x3c\x3f\x08\x2c\xf6\x48\xa3\x62\xda\x2d\xa4"
                        "\xb0", 24);

    /* the prefix is optional */
    assert_int_equal(pay_standard_secret_decode(W1_SECRET + 6,
                                                strlen(W1_SECRET) - 6,
                                                key, sizeof(key), &len),
                     0);
    assert_int_equal(len, 24);

    /* 32 bytes, padded or not */
    assert_int_equal(pay_standard_secret_decode(NEW_SECRET,
                                                strlen(NEW_SECRET), key,
                                                sizeof(key), &len),
                     0);
    assert_int_equal(len, 32);

    for (i = 0; i < 32; i++) {
        assert_int_equal(key[i], i);
    }

    assert_int_equal(pay_standard_secret_decode(NEW_SECRET,
                                                strlen(NEW_SECRET) - 1, key,
                                                sizeof(key), &len),
                     0);
    assert_int_equal(len, 32);

    /* two padding characters, or none */
    assert_int_equal(pay_standard_secret_decode("whsec_AAECAw==", 14, key,
                                                sizeof(key), &len),
                     0);
    assert_int_equal(len, 4);
    assert_memory_equal(key, "\x00\x01\x02\x03", 4);

    assert_int_equal(pay_standard_secret_decode("whsec_AAECAw", 12, key,
                                                sizeof(key), &len),
                     0);
    assert_int_equal(len, 4);

    /* a key fits exactly */
    assert_int_equal(pay_standard_secret_decode(NEW_SECRET,
                                                strlen(NEW_SECRET), key, 32,
                                                &len),
                     0);
}


static void
test_secret_decode_bad(void **state)
{
    static const char  *bad[] = {
        "", "whsec_", "whsec_!!!!", "whsec_AAECA", "whsec_AAECAw=",
        "whsec_AAECAw===", "whsec_AA=ECAw", "whsec_AAEC Aw==",
        " whsec_AAECAw==", "whsec_AAECAw==\n", "whsec_AAECAx==",
        "whsec_AAEC-w__", "WHSEC_AAECAw==", "whsec_whsec_AAECAw==", "=",
        "whsec_="
    };

    size_t         i, j, len;
    unsigned char  key[64];

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pay_standard_secret_decode(bad[i], strlen(bad[i]),
                                                    key, sizeof(key), &len),
                         -1);
    }

    assert_int_equal(pay_standard_secret_decode(NULL, 0, key, sizeof(key),
                                                &len),
                     -1);

    /* too long for the buffer: refused, and nothing of it left behind */
    memset(key, 0xaa, sizeof(key));
    assert_int_equal(pay_standard_secret_decode(NEW_SECRET,
                                                strlen(NEW_SECRET), key, 31,
                                                &len),
                     -1);

    for (j = 0; j < 31; j++) {
        assert_int_equal(key[j], 0);
    }

    /* a secret that decodes to a key, but not W1's */
    assert_int_equal(pay_standard_secret_decode(OTHER_W1_SECRET,
                                                strlen(OTHER_W1_SECRET), key,
                                                sizeof(key), &len),
                     0);
    assert_int_equal(len, 24);
    assert_int_not_equal(key[23], 0xb0);
}



/* pay_standard_sign(): W1's header from W1's inputs */

static void
test_sign(void **state)
{
    char  out[PAY_STANDARD_SIGN_MAX];

    (void) state;

    assert_int_equal(pay_standard_sign(fx.w1_key, W1_ID, strlen(W1_ID), W1_TS,
                                       strlen(W1_TS), fx.w1.data, fx.w1.len,
                                       out, sizeof(out)),
                     strlen(W1_SIG));
    assert_string_equal(out, W1_SIG);

    /* what verify would refuse is not signed */
    assert_int_equal(pay_standard_sign(fx.w1_key, "", 0, W1_TS,
                                       strlen(W1_TS), fx.w1.data, fx.w1.len,
                                       out, sizeof(out)), 0);
    assert_int_equal(pay_standard_sign(fx.w1_key, W1_ID, strlen(W1_ID), "x",
                                       1, fx.w1.data, fx.w1.len, out,
                                       sizeof(out)), 0);
    assert_int_equal(pay_standard_sign(fx.w1_key, W1_ID, strlen(W1_ID), W1_TS,
                                       strlen(W1_TS), fx.w1.data, fx.w1.len,
                                       out, strlen(W1_SIG)), 0);
}

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_w1),
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_w1_negatives),
        cmocka_unit_test(test_rotation_keys),
        cmocka_unit_test(test_rotation_entries),
        cmocka_unit_test(test_other_versions_skipped),
        cmocka_unit_test(test_bad_v1_skipped),
        cmocka_unit_test(test_list_whitespace),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_missing_headers),
        cmocka_unit_test(test_malformed_id),
        cmocka_unit_test(test_malformed_ts),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_internal),
        cmocka_unit_test(test_secret_decode),
        cmocka_unit_test(test_secret_decode_bad),
    };

    return cmocka_run_group_tests_name("pay_standard", tests, setup,
                                       teardown);
}
