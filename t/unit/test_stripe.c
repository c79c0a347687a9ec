/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_stripe.c and pay_timestamp.c: the Stripe vectors S1-S8
 * (t/vectors/README.md; body bytes read from $PAY_VECTORS, default
 * t/vectors, relative to the directory the test runs in) and the header
 * grammar.
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

#include "pay_stripe.h"
#include "pay_timestamp.h"


#define S1_T    "1234567890"
#define S1_SIG  "45969f456b3331a0f76e237ed33423d5"                            \
                "f758908f1f0432d30e7d45ba89bb9edd"
#define S2_T    "12345"
#define S2_SIG  "07b1ede164afb7b5de91267ffa656f56"                            \
                "8c65d6e0783ce0ac55ee094643578eda"
#define S3_T    "1700000000"
#define S3_SIG  "0c8670ed117751cc551a20e358394470"                            \
                "75c42800ea3cf3e8a2fbda99cd1e6edd"
#define S4_NEW  "b14fd00c307c0137e9a6b4cd1657d15b"                            \
                "7c2c1e6c7dde182c112ed15f4ead61da"
#define S4_OLD  "921476aa6febf6d11353fcee45246000"                            \
                "c9edf7b3938ae2d09a2d6ea5cb98d9db"
#define S4_V0   "6ffbb59b2300aae63f272406069a9788"                            \
                "598b792a944a07aba816edb039989a39"
#define ZERO_SIG                                                              \
    "0000000000000000000000000000000000000000000000000000000000000000"

#define S1_HEADER  "t=" S1_T ",v1=" S1_SIG
#define S2_HEADER  "t=" S2_T ",v1=" S2_SIG
#define S3_HEADER  "t=" S3_T ",v1=" S3_SIG
#define S4_HEADER  "t=" S3_T ",v1=" S4_NEW ",v1=" S4_OLD ",v0=" S4_V0

#define S3_TIME    1700000000LL
#define S1_TIME_VALUE  1234567890LL


typedef struct {
    body_t           s1;
    body_t           s2;
    body_t           s3;
    pay_hmac_key_t  *test;          /* whsec_test_secret */
    pay_hmac_key_t  *test_space;    /* "whsec_test_secret " (S8) */
    pay_hmac_key_t  *new_secret;    /* whsec_new_secret (S4) */
    pay_hmac_key_t  *old_secret;    /* whsec_old_secret (S4) */
    pay_hmac_key_t  *other;         /* whsec_other */
} fixture_t;


static fixture_t  fx;


/* helpers */


static pay_hmac_key_t *
key_new(const char *secret)
{
    return pay_hmac_key_new((const unsigned char *) secret, strlen(secret),
                            PAY_DIGEST_SHA256);
}


static int
setup(void **state)
{
    (void) state;

    memset(&fx, 0, sizeof(fx));

    if (read_vector("stripe_s1_body.json", &fx.s1) != 0
        || read_vector("stripe_s2_body.json", &fx.s2) != 0
        || read_vector("stripe_s3_body.json", &fx.s3) != 0)
    {
        return -1;
    }

    fx.test = key_new("whsec_test_secret");
    fx.test_space = key_new("whsec_test_secret ");
    fx.new_secret = key_new("whsec_new_secret");
    fx.old_secret = key_new("whsec_old_secret");
    fx.other = key_new("whsec_other");

    if (fx.test == NULL || fx.test_space == NULL || fx.new_secret == NULL
        || fx.old_secret == NULL || fx.other == NULL)
    {
        return -1;
    }

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    free(fx.s1.data);
    free(fx.s2.data);
    free(fx.s3.data);
    pay_hmac_key_free(fx.test);
    pay_hmac_key_free(fx.test_space);
    pay_hmac_key_free(fx.new_secret);
    pay_hmac_key_free(fx.old_secret);
    pay_hmac_key_free(fx.other);

    return 0;
}


static pay_rc_e
parse_n(const char *value, size_t len, pay_stripe_header_t *h)
{
    pay_stripe_header_t  scratch;

    return pay_stripe_header_parse(value, len, h != NULL ? h : &scratch);
}


static pay_rc_e
parse(const char *value)
{
    return parse_n(value, strlen(value), NULL);
}


static pay_rc_e
verify_n(const char *value, size_t len, const body_t *body,
    pay_hmac_key_t *key, long long now, long long tolerance)
{
    pay_hmac_key_t  *keys[1];

    keys[0] = key;

    return pay_stripe_verify(value, len, body->data, body->len, keys, 1, now,
                             tolerance);
}


/* S3 body, whsec_test_secret, clock at S3's t, tolerance 300 */

static pay_rc_e
verify_s3(const char *value)
{
    return verify_n(value, strlen(value), &fx.s3, fx.test, S3_TIME, 300);
}


static char *
repeat(const char *s, size_t times)
{
    char    *out, *p;
    size_t   len, i;

    len = strlen(s);
    out = malloc(len * times + 1);
    assert_non_null(out);

    for (p = out, i = 0; i < times; i++, p += len) {
        memcpy(p, s, len);
    }

    *p = '\0';

    return out;
}


/* the Stripe vectors (t/vectors/README.md) */


static void
test_s1(void **state)
{
    const char           *hdr = S1_HEADER;
    pay_stripe_header_t   h;

    (void) state;

    assert_int_equal(fx.s1.len, 51);

    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_true(h.t == 1234567890LL);
    assert_int_equal(h.t_len, 10);
    assert_memory_equal(h.t_str, S1_T, 10);
    assert_ptr_equal(h.t_str, hdr + 2);
    assert_int_equal(h.v1_count, 1);
    assert_int_equal(h.v1_valid, 1);

    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s1, fx.test, 0, 0),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s1, fx.test,
                              1234567890LL, 300),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s1, fx.test,
                              S3_TIME, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}


static void
test_s2(void **state)
{
    const char  *hdr = S2_HEADER;

    (void) state;

    assert_int_equal(fx.s2.len, 125);

    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s2, fx.test, S3_TIME, 0),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s2, fx.test,
                              S3_TIME, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s2, fx.test,
                              12345 + 300, 300),
                     PAY_OK);
}


static void
test_s3_tolerance(void **state)
{
    const char  *hdr = S3_HEADER;
    size_t       len = strlen(S3_HEADER);

    (void) state;

    assert_int_equal(fx.s3.len, 31);

    /* tolerance 0 disables the check, whatever the clock */
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, S3_TIME, 0),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 0, 0), PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, LLONG_MAX, 0),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, LLONG_MIN, 0),
                     PAY_OK);

    /* the past side */
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 1700000299LL, 300),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 1700000300LL, 300),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 1700000301LL, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);

    /* the future side */
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 1699999701LL, 300),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 1699999700LL, 300),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, 1699999699LL, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}


static void
test_s4_rotation(void **state)
{
    size_t                key;
    const char           *hdr = S4_HEADER;
    pay_hmac_key_t       *keys[2];
    pay_stripe_header_t   h;

    (void) state;

    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_int_equal(h.v1_count, 2);
    assert_int_equal(h.v1_valid, 2);

    assert_int_equal(verify_s3(hdr), PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s3, fx.new_secret,
                              S3_TIME, 300),
                     PAY_OK);
    assert_int_equal(verify_n(hdr, strlen(hdr), &fx.s3, fx.old_secret,
                              S3_TIME, 300),
                     PAY_OK);

    /* two configured secrets, in either order */
    keys[0] = fx.new_secret;
    keys[1] = fx.old_secret;
    assert_int_equal(pay_stripe_verify(hdr, strlen(hdr), fx.s3.data,
                                       fx.s3.len, keys, 2, S3_TIME, 300),
                     PAY_OK);

    keys[0] = fx.old_secret;
    keys[1] = fx.new_secret;
    assert_int_equal(pay_stripe_verify(hdr, strlen(hdr), fx.s3.data,
                                       fx.s3.len, keys, 2, S3_TIME, 300),
                     PAY_OK);

    /* one v1 sent, two secrets held: the second one matches */
    keys[0] = fx.other;
    keys[1] = fx.test;
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, keys, 2,
                                       S3_TIME, 300),
                     PAY_OK);

    /* which key verified: 1-based */
    key = 99;
    assert_int_equal(pay_stripe_verify_key(S3_HEADER, strlen(S3_HEADER),
                                           fx.s3.data, fx.s3.len, keys, 2,
                                           S3_TIME, 300, &key),
                     PAY_OK);
    assert_int_equal(key, 2);

    /* two v1 and both secrets: the first configured one is named */
    keys[0] = fx.old_secret;
    keys[1] = fx.new_secret;
    assert_int_equal(pay_stripe_verify_key(hdr, strlen(hdr), fx.s3.data,
                                           fx.s3.len, keys, 2, S3_TIME, 300,
                                           &key),
                     PAY_OK);
    assert_int_equal(key, 1);

    /* neither held secret signed it */
    keys[0] = fx.other;
    keys[1] = fx.test_space;
    assert_int_equal(pay_stripe_verify(hdr, strlen(hdr), fx.s3.data,
                                       fx.s3.len, keys, 2, S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(pay_stripe_verify_key(hdr, strlen(hdr), fx.s3.data,
                                           fx.s3.len, keys, 2, S3_TIME, 300,
                                           &key),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(key, 0);
}


static void
test_s5_v0_only(void **state)
{
    (void) state;

    assert_int_equal(parse("t=" S3_T ",v0=" S4_V0), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_s3("t=" S3_T ",v0=" S4_V0),
                     PAY_ERR_SIGNATURE_MISSING);

    /* the v0 is not a v1 even when it holds the right MAC */
    assert_int_equal(verify_s3("t=" S3_T ",v0=" S3_SIG),
                     PAY_ERR_SIGNATURE_MISSING);
}


static void
test_s6_garbage(void **state)
{
    (void) state;

    assert_int_equal(parse("bad_header"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("i'm not even a real signature header"),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_s3("bad_header"), PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_s7_bad_v1_next_to_good(void **state)
{
    body_t  changed;

    (void) state;

    assert_int_equal(verify_s3(S3_HEADER ",v1=bad_signature"), PAY_OK);
    assert_int_equal(verify_s3("t=" S3_T ",v1=bad_signature,v1=" S3_SIG),
                     PAY_OK);

    /* any changed byte of the body */
    changed.len = fx.s3.len;
    changed.data = malloc(changed.len);
    assert_non_null(changed.data);
    memcpy(changed.data, fx.s3.data, changed.len);
    changed.data[changed.len / 2] ^= 0x01;

    assert_int_equal(verify_n(S3_HEADER, strlen(S3_HEADER), &changed,
                              fx.test, S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* one byte less */
    changed.len--;
    memcpy(changed.data, fx.s3.data, changed.len);
    assert_int_equal(verify_n(S3_HEADER, strlen(S3_HEADER), &changed,
                              fx.test, S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    free(changed.data);

    /* the MAC is over the t digits: another t does not verify */
    assert_int_equal(verify_s3("t=1700000001,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_s8_trailing_space_key(void **state)
{
    (void) state;

    assert_int_equal(verify_n(S1_HEADER, strlen(S1_HEADER), &fx.s1,
                              fx.test_space, 1234567890LL, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_wrong_key(void **state)
{
    (void) state;

    assert_int_equal(verify_n(S3_HEADER, strlen(S3_HEADER), &fx.s3,
                              fx.other, S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* the right MAC for another body */
    assert_int_equal(verify_n(S1_HEADER, strlen(S1_HEADER), &fx.s3,
                              fx.test, 1234567890LL, 0),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


/* header grammar */


static void
test_empty(void **state)
{
    (void) state;

    assert_int_equal(parse(""), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(parse_n(NULL, 0, NULL), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(parse_n(S3_HEADER, 0, NULL), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_s3(""), PAY_ERR_SIGNATURE_MISSING);
}


static void
test_whitespace_only(void **state)
{
    (void) state;

    assert_int_equal(parse(" "), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(parse("\t"), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(parse(" \t  \t"), PAY_ERR_SIGNATURE_MISSING);

    /* other blanks are not whitespace here */
    assert_int_equal(parse("\r\n"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse(" , "), PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_no_t(void **state)
{
    (void) state;

    assert_int_equal(parse("v1=" S3_SIG), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("v0=" S4_V0), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("foo=bar"), PAY_ERR_SIGNATURE_MALFORMED);

    /* keys are case-sensitive: "T" is an unknown scheme */
    assert_int_equal(parse("T=" S3_T ",v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ",V1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MISSING);

    /* whitespace is trimmed around an item, not around its '=' */
    assert_int_equal(parse("t =" S3_T ",v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_bad_t(void **state)
{
    (void) state;

    assert_int_equal(parse("t=abc,v1=" S3_SIG), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=17000a0000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=1700000000.5,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=,v1=" S3_SIG), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=+1700000000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=-1700000000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=01700000000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=00,v1=" S3_SIG), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=1 700000000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=0x10,v1=" S3_SIG), PAY_ERR_SIGNATURE_MALFORMED);

    /* the leading '+' is not dropped before signing either */
    assert_int_equal(verify_s3("t=+" S3_T ",v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_t_digits(void **state)
{
    pay_stripe_header_t  h;

    (void) state;

    /* "0" is the one number that may start with a zero */
    assert_int_equal(parse_n("t=0,v1=" S3_SIG, strlen("t=0,v1=" S3_SIG), &h),
                     PAY_OK);
    assert_true(h.t == 0);

    /* 19 digits that fit */
    assert_int_equal(parse_n("t=9223372036854775807,v1=" S3_SIG,
                             strlen("t=9223372036854775807,v1=" S3_SIG), &h),
                     PAY_OK);
    assert_true(h.t == LLONG_MAX);
    assert_int_equal(h.t_len, 19);

    assert_int_equal(parse_n("t=1000000000000000000,v1=" S3_SIG,
                             strlen("t=1000000000000000000,v1=" S3_SIG), &h),
                     PAY_OK);
    assert_true(h.t == 1000000000000000000LL);

    /* 19 digits that do not fit */
    assert_int_equal(parse("t=9223372036854775808,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=9999999999999999999,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* 20 digits */
    assert_int_equal(parse("t=10000000000000000000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=00000000001700000000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* a huge t is simply out of tolerance, no overflow */
    assert_int_equal(verify_s3("t=9223372036854775807,v1=" S3_SIG),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}


static void
test_duplicate_t(void **state)
{
    (void) state;

    assert_int_equal(parse("t=" S3_T ",t=" S3_T ",v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ",v1=" S3_SIG ",t=1700000001"),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_s3("t=" S3_T ",v1=" S3_SIG ",t=" S3_T),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_uppercase_hex(void **state)
{
    size_t               i;
    char                 hdr[128];
    pay_stripe_header_t  h;

    (void) state;

    snprintf(hdr, sizeof(hdr), "%s", S3_HEADER);

    for (i = strlen("t=" S3_T ",v1="); hdr[i] != '\0'; i++) {
        if (hdr[i] >= 'a' && hdr[i] <= 'f') {
            hdr[i] = (char) (hdr[i] - 'a' + 'A');
        }
    }

    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_int_equal(h.v1_valid, 1);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    /* mixed case */
    hdr[strlen("t=" S3_T ",v1=") + 1] = 'c';
    assert_int_equal(verify_s3(hdr), PAY_OK);
}


static void
test_hex_lengths(void **state)
{
    char                 hdr[256];
    pay_stripe_header_t  h;

    (void) state;

    /* 63 hex digits (odd length) as the only v1 */
    snprintf(hdr, sizeof(hdr), "t=%s,v1=%.63s", S3_T, S3_SIG);
    assert_int_equal(parse_n(hdr, strlen(hdr), &h),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(h.v1_count, 1);
    assert_int_equal(h.v1_valid, 0);
    assert_int_equal(verify_s3(hdr), PAY_ERR_SIGNATURE_MALFORMED);

    /* 65 */
    snprintf(hdr, sizeof(hdr), "t=%s,v1=%s0", S3_T, S3_SIG);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);

    /* 62, even but short */
    snprintf(hdr, sizeof(hdr), "t=%s,v1=%.62s", S3_T, S3_SIG);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);

    /* 66 */
    snprintf(hdr, sizeof(hdr), "t=%s,v1=%s00", S3_T, S3_SIG);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);

    /* empty, and 64 characters that are not all hex */
    assert_int_equal(parse("t=" S3_T ",v1="), PAY_ERR_SIGNATURE_MALFORMED);
    snprintf(hdr, sizeof(hdr), "t=%s,v1=g%.63s", S3_T, &S3_SIG[1]);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);
    snprintf(hdr, sizeof(hdr), "t=%s,v1=%.63s ", S3_T, S3_SIG);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);

    /* each skipped, the good one still verifies */
    snprintf(hdr, sizeof(hdr), "t=%s,v1=%.63s,v1=%s0,v1=%s", S3_T, S3_SIG,
             S3_SIG, S3_SIG);
    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_int_equal(h.v1_count, 3);
    assert_int_equal(h.v1_valid, 1);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    /* a '=' inside a value belongs to the value */
    assert_int_equal(parse("t=" S3_T ",v1=" S3_SIG "="),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_s3("t=" S3_T ",v1==" S3_SIG ",v1=" S3_SIG),
                     PAY_OK);
}


static void
test_whitespace_around_items(void **state)
{
    const char           *hdr;
    pay_stripe_header_t   h;

    (void) state;

    hdr = " \tt=" S3_T " ,\t v1=" S3_SIG "\t , v0=" S4_V0 "  ";

    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_int_equal(h.t_len, 10);
    assert_memory_equal(h.t_str, S3_T, 10);
    assert_int_equal(h.v1_valid, 1);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    assert_int_equal(verify_s3("t=" S3_T ", v1=" S3_SIG), PAY_OK);
    assert_int_equal(verify_s3("t=" S3_T "\t,v1=" S3_SIG "\t"), PAY_OK);

    /* after the '=' it is part of the value: 65 bytes, skipped */
    assert_int_equal(parse("t=" S3_T ",v1= 0c8670ed117751cc551a20e3583944"
                           "7075c42800ea3cf3e8a2fbda99cd1e6edd"),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=17000 00000,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_many_v1_good_last(void **state)
{
    char                 *bad, *hdr;
    size_t                len;
    pay_stripe_header_t   h;

    (void) state;

    /* 99 well-formed wrong v1, then the right one */
    bad = repeat(",v1=" ZERO_SIG, 99);
    len = strlen(bad) + 128;
    hdr = malloc(len);
    assert_non_null(hdr);
    snprintf(hdr, len, "t=%s%s,v1=%s", S3_T, bad, S3_SIG);

    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_int_equal(h.v1_count, 100);
    assert_int_equal(h.v1_valid, 100);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    /* without the right one */
    snprintf(hdr, len, "t=%s%s", S3_T, bad);
    assert_int_equal(verify_s3(hdr), PAY_ERR_SIGNATURE_MISMATCH);

    free(hdr);
    free(bad);
}


static void
test_thousand_items(void **state)
{
    char                 *junk, *hdr;
    size_t                len;
    pay_stripe_header_t   h;

    (void) state;

    /* 500 malformed v1 and 498 unknown items around t and the good v1 */
    junk = repeat(",v1=xyz,v9=abc", 499);
    len = strlen(junk) + 128;
    hdr = malloc(len);
    assert_non_null(hdr);
    snprintf(hdr, len, "t=%s%s,v1=%s", S3_T, junk, S3_SIG);

    assert_int_equal(parse_n(hdr, strlen(hdr), &h), PAY_OK);
    assert_int_equal(h.v1_count, 500);
    assert_int_equal(h.v1_valid, 1);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    free(hdr);
    free(junk);
}


static void
test_10k_header(void **state)
{
    char    *big, *hdr;
    size_t   len;

    (void) state;

    big = repeat("abcdef0123", 1024);
    len = strlen(big) + 256;
    hdr = malloc(len);
    assert_non_null(hdr);

    /* a 10 KB unknown item is ignored */
    snprintf(hdr, len, "t=%s,x=%s,v1=%s", S3_T, big, S3_SIG);
    assert_true(strlen(hdr) > 10240);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    /* a 10 KB v1 (all hex) is skipped */
    snprintf(hdr, len, "t=%s,v1=%s", S3_T, big);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);
    snprintf(hdr, len, "t=%s,v1=%s,v1=%s", S3_T, big, S3_SIG);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    /* a 10 KB key */
    snprintf(hdr, len, "t=%s,%s=1,v1=%s", S3_T, big, S3_SIG);
    assert_int_equal(verify_s3(hdr), PAY_OK);

    /* a 10 KB t */
    free(big);
    big = repeat("1234567890", 1024);
    snprintf(hdr, len, "t=%s,v1=%s", big, S3_SIG);
    assert_int_equal(parse(hdr), PAY_ERR_SIGNATURE_MALFORMED);

    /* 10 KB without any ',' or '=' */
    assert_int_equal(parse(big), PAY_ERR_SIGNATURE_MALFORMED);

    free(hdr);
    free(big);
}


static void
test_unknown_schemes(void **state)
{
    (void) state;

    assert_int_equal(parse("t=" S3_T ",v2=" S3_SIG),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(parse("t=" S3_T ",v0=" S4_V0 ",v2=x,foo=bar"),
                     PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(parse("t=" S3_T), PAY_ERR_SIGNATURE_MISSING);
    assert_int_equal(verify_s3("t=" S3_T ",v1x=" S3_SIG),
                     PAY_ERR_SIGNATURE_MISSING);

    /* ignored around a good v1, empty values included */
    assert_int_equal(verify_s3("v0=,t=" S3_T ",scheme=x=y,v1=" S3_SIG
                               ",v2="),
                     PAY_OK);
}


static void
test_item_without_equals(void **state)
{
    (void) state;

    assert_int_equal(parse("t=" S3_T ",v1"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ",v1=" S3_SIG ",junk"),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t"), PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("=" S3_T ",v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ", =x,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(verify_s3("t=" S3_T ",v1=" S3_SIG ",v0"),
                     PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_empty_items(void **state)
{
    (void) state;

    assert_int_equal(parse("t=" S3_T ",,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ", \t ,v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse(",t=" S3_T ",v1=" S3_SIG),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ",v1=" S3_SIG ","),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse("t=" S3_T ",v1=" S3_SIG ", "),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse(","), PAY_ERR_SIGNATURE_MALFORMED);
}


static void
test_embedded_nul(void **state)
{
    char    hdr[256];
    size_t  len;

    (void) state;

    /* NUL inside t */
    len = (size_t) snprintf(hdr, sizeof(hdr), "t=1700000000X,v1=%s", S3_SIG);
    hdr[12] = '\0';
    assert_int_equal(parse_n(hdr, len, NULL), PAY_ERR_SIGNATURE_MALFORMED);

    /* NUL before a key is not whitespace: "\0v1" is an unknown scheme */
    len = (size_t) snprintf(hdr, sizeof(hdr), "t=%s,Xv1=%s", S3_T, S3_SIG);
    hdr[13] = '\0';
    assert_int_equal(parse_n(hdr, len, NULL), PAY_ERR_SIGNATURE_MISSING);

    /* NUL in the only v1: 65 bytes, skipped */
    len = (size_t) snprintf(hdr, sizeof(hdr), "t=%s,v1=%sX", S3_T, S3_SIG);
    hdr[len - 1] = '\0';
    assert_int_equal(parse_n(hdr, len, NULL), PAY_ERR_SIGNATURE_MALFORMED);

    /* NUL replacing a hex digit: 64 bytes, not hex */
    len = (size_t) snprintf(hdr, sizeof(hdr), "t=%s,v1=%s", S3_T, S3_SIG);
    hdr[len - 5] = '\0';
    assert_int_equal(parse_n(hdr, len, NULL), PAY_ERR_SIGNATURE_MALFORMED);

    /* NUL in an ignored item, before the good v1 */
    len = (size_t) snprintf(hdr, sizeof(hdr), "t=%s,x=aXb,v1=%s", S3_T,
                            S3_SIG);
    hdr[16] = '\0';
    assert_int_equal(verify_n(hdr, len, &fx.s3, fx.test, S3_TIME, 300),
                     PAY_OK);

    /* NUL as an item of its own */
    len = (size_t) snprintf(hdr, sizeof(hdr), "t=%s,X,v1=%s", S3_T, S3_SIG);
    hdr[13] = '\0';
    assert_int_equal(parse_n(hdr, len, NULL), PAY_ERR_SIGNATURE_MALFORMED);

    /* the length given is what counts, not a NUL terminator */
    len = strlen(S3_HEADER);
    assert_int_equal(parse_n(S3_HEADER, len - 1, NULL),
                     PAY_ERR_SIGNATURE_MALFORMED);
    assert_int_equal(parse_n(S3_HEADER "garbage", len, NULL), PAY_OK);
}


/* verify: order of checks and arguments */


static void
test_verify_order(void **state)
{
    (void) state;

    /* the header before the clock */
    assert_int_equal(verify_n("t=1,v1=xyz", 10, &fx.s3, fx.test, S3_TIME,
                              300),
                     PAY_ERR_SIGNATURE_MALFORMED);

    /* the clock before the signature: a wrong key reports the time */
    assert_int_equal(verify_n(S3_HEADER, strlen(S3_HEADER), &fx.s3,
                              fx.other, S3_TIME + 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}


static void
test_verify_keys(void **state)
{
    size_t           i;
    pay_hmac_key_t  *keys[20], *sha1;

    (void) state;

    /* no key: nothing can match */
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, NULL, 0,
                                       S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* more keys than one batch of MACs: the right one in the second */
    for (i = 0; i < 20; i++) {
        keys[i] = fx.other;
    }

    keys[13] = fx.test;

    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, keys, 20,
                                       S3_TIME, 300),
                     PAY_OK);
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, keys, 13,
                                       S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);

    keys[13] = fx.other;
    keys[19] = fx.test;
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, keys, 20,
                                       S3_TIME, 300),
                     PAY_OK);

    /* a NULL key or a key of the wrong digest is our bug */
    keys[0] = NULL;
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, keys, 1,
                                       S3_TIME, 300),
                     PAY_ERR_INTERNAL);

    sha1 = pay_hmac_key_new((const unsigned char *) "whsec_test_secret", 17,
                            PAY_DIGEST_SHA1);
    assert_non_null(sha1);
    keys[0] = sha1;
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       fx.s3.data, fx.s3.len, keys, 1,
                                       S3_TIME, 300),
                     PAY_ERR_INTERNAL);
    pay_hmac_key_free(sha1);

    /* a body pointer is needed for a non-empty body */
    keys[0] = fx.test;
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER),
                                       NULL, 5, keys, 1, S3_TIME, 300),
                     PAY_ERR_INTERNAL);
}


static void
test_verify_empty_body(void **state)
{
    char             hdr[128], hex[65];
    size_t           i;
    pay_iovec_t      part;
    unsigned char    mac[32];
    pay_hmac_key_t  *keys[1];

    (void) state;

    part.data = S3_T ".";
    part.len = strlen(part.data);
    assert_int_equal(pay_hmac_compute(fx.test, &part, 1, mac), 0);

    for (i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    }

    snprintf(hdr, sizeof(hdr), "t=%s,v1=%s", S3_T, hex);

    keys[0] = fx.test;
    assert_int_equal(pay_stripe_verify(hdr, strlen(hdr), NULL, 0, keys, 1,
                                       S3_TIME, 300),
                     PAY_OK);
    assert_int_equal(pay_stripe_verify(hdr, strlen(hdr), fx.s3.data, 0,
                                       keys, 1, S3_TIME, 300),
                     PAY_OK);
    assert_int_equal(pay_stripe_verify(S3_HEADER, strlen(S3_HEADER), NULL,
                                       0, keys, 1, S3_TIME, 300),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


/* pay_timestamp_check */


static void
test_timestamp_window(void **state)
{
    (void) state;

    assert_int_equal(pay_timestamp_check(1000, 1000, 1), PAY_OK);
    assert_int_equal(pay_timestamp_check(1000, 1001, 1), PAY_OK);
    assert_int_equal(pay_timestamp_check(1000, 999, 1), PAY_OK);
    assert_int_equal(pay_timestamp_check(1000, 1002, 1),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_timestamp_check(1000, 998, 1),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);

    /* 0 disables, a negative window accepts nothing */
    assert_int_equal(pay_timestamp_check(0, LLONG_MAX, 0), PAY_OK);
    assert_int_equal(pay_timestamp_check(1000, 1000, -1),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}


static void
test_timestamp_extremes(void **state)
{
    (void) state;

    /* distances beyond LLONG_MAX must not overflow */
    assert_int_equal(pay_timestamp_check(LLONG_MAX, LLONG_MIN, LLONG_MAX),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_timestamp_check(LLONG_MIN, LLONG_MAX, LLONG_MAX),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_timestamp_check(LLONG_MAX, -1, LLONG_MAX),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_timestamp_check(LLONG_MAX, 0, LLONG_MAX), PAY_OK);
    assert_int_equal(pay_timestamp_check(0, LLONG_MAX, LLONG_MAX), PAY_OK);
    assert_int_equal(pay_timestamp_check(LLONG_MAX, LLONG_MAX, 1), PAY_OK);
    assert_int_equal(pay_timestamp_check(LLONG_MIN, LLONG_MIN, 1), PAY_OK);
    assert_int_equal(pay_timestamp_check(LLONG_MAX, 1700000000LL, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_timestamp_check(0, 1700000000LL, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
}



/* pay_stripe_sign(): S3's header from S3's inputs, and what verify takes */

static void
test_sign(void **state)
{
    char    out[PAY_STRIPE_SIGN_MAX];
    size_t  n;

    (void) state;

    n = pay_stripe_sign(fx.test, S3_TIME, fx.s3.data, fx.s3.len, out,
                        sizeof(out));
    assert_int_equal(n, strlen(S3_HEADER));
    assert_string_equal(out, S3_HEADER);

    n = pay_stripe_sign(fx.test, S1_TIME_VALUE, fx.s1.data, fx.s1.len, out,
                        sizeof(out));
    assert_string_equal(out, S1_HEADER);

    /* too small, bad arguments */
    assert_int_equal(pay_stripe_sign(fx.test, S3_TIME, fx.s3.data,
                                     fx.s3.len, out, strlen(S3_HEADER)), 0);
    assert_int_equal(pay_stripe_sign(NULL, S3_TIME, fx.s3.data, fx.s3.len,
                                     out, sizeof(out)), 0);
    assert_int_equal(pay_stripe_sign(fx.test, -1, fx.s3.data, fx.s3.len,
                                     out, sizeof(out)), 0);

    /* an empty body signs too */
    n = pay_stripe_sign(fx.test, S3_TIME, NULL, 0, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(pay_stripe_verify(out, n, NULL, 0, &fx.test, 1,
                                       S3_TIME, 300),
                     PAY_OK);
}

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_s1),
        cmocka_unit_test(test_s2),
        cmocka_unit_test(test_s3_tolerance),
        cmocka_unit_test(test_s4_rotation),
        cmocka_unit_test(test_s5_v0_only),
        cmocka_unit_test(test_s6_garbage),
        cmocka_unit_test(test_s7_bad_v1_next_to_good),
        cmocka_unit_test(test_s8_trailing_space_key),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_whitespace_only),
        cmocka_unit_test(test_no_t),
        cmocka_unit_test(test_bad_t),
        cmocka_unit_test(test_t_digits),
        cmocka_unit_test(test_duplicate_t),
        cmocka_unit_test(test_uppercase_hex),
        cmocka_unit_test(test_hex_lengths),
        cmocka_unit_test(test_whitespace_around_items),
        cmocka_unit_test(test_many_v1_good_last),
        cmocka_unit_test(test_thousand_items),
        cmocka_unit_test(test_10k_header),
        cmocka_unit_test(test_unknown_schemes),
        cmocka_unit_test(test_item_without_equals),
        cmocka_unit_test(test_empty_items),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_verify_order),
        cmocka_unit_test(test_verify_keys),
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_verify_empty_body),
        cmocka_unit_test(test_timestamp_window),
        cmocka_unit_test(test_timestamp_extremes),
    };

    return cmocka_run_group_tests_name("pay_stripe", tests, setup, teardown);
}
