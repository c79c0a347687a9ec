/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_hmac.c: RFC 4231 (HMAC-SHA256) and RFC 2202
 * (HMAC-SHA1) vectors, scatter lists, constant-time equality.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "pay_hmac.h"


typedef struct {
    const char  *name;
    size_t       key_len;
    int          key_byte;      /* the key is key_len times this byte */
    const char  *key;           /* or this string when not NULL */
    const char  *data;
    const char  *hex;
} hmac_vector_t;


static const hmac_vector_t  sha256_vectors[] = {

    /* RFC 4231 test case 1 */
    { "rfc4231-1", 20, 0x0b, NULL, "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },

    /* RFC 4231 test case 2 */
    { "rfc4231-2", 4, 0, "Jefe", "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },

    /* RFC 4231 test case 6: a key longer than the block is hashed first */
    { "rfc4231-6", 131, 0xaa, NULL,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },

    /* G1, GitHub's docs (t/vectors/README.md) */
    { "github-g1", 26, 0, "It's a Secret to Everybody", "Hello, World!",
      "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" },
};


static const hmac_vector_t  sha1_vectors[] = {

    /* RFC 2202 test case 1 */
    { "rfc2202-1", 20, 0x0b, NULL, "Hi There",
      "b617318655057264e28bc0b6fb378c8ef146be00" },

    /* RFC 2202 test case 2 */
    { "rfc2202-2", 4, 0, "Jefe", "what do ya want for nothing?",
      "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },

    /* RFC 2202 test case 6: 80-byte key, longer than the block */
    { "rfc2202-6", 80, 0xaa, NULL,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
};


static void
to_hex(const unsigned char *in, size_t len, char *out)
{
    size_t             i;
    static const char  digits[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }

    out[2 * len] = '\0';
}


static pay_hmac_key_t *
vector_key(const hmac_vector_t *v, pay_digest_e digest)
{
    unsigned char  key[256];

    assert_true(v->key_len <= sizeof(key));

    if (v->key != NULL) {
        memcpy(key, v->key, v->key_len);

    } else {
        memset(key, v->key_byte, v->key_len);
    }

    return pay_hmac_key_new(key, v->key_len, digest);
}


static void
check_vectors(const hmac_vector_t *vectors, size_t n, pay_digest_e digest,
    size_t size)
{
    size_t           i;
    char             hex[2 * PAY_HMAC_MAX_LEN + 1];
    pay_iovec_t      part;
    unsigned char    mac[PAY_HMAC_MAX_LEN];
    pay_hmac_key_t  *key;

    for (i = 0; i < n; i++) {
        key = vector_key(&vectors[i], digest);
        assert_non_null(key);
        assert_int_equal(pay_hmac_size(key), size);

        part.data = vectors[i].data;
        part.len = strlen(vectors[i].data);

        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);

        to_hex(mac, size, hex);
        assert_string_equal(hex, vectors[i].hex);

        /* the same twice more, restarted, then with a duplicate each time */
        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);
        to_hex(mac, size, hex);
        assert_string_equal(hex, vectors[i].hex);

        pay_hmac_key_no_restart(key);
        assert_int_equal(pay_hmac_key_restarts(key), 0);

        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);
        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);
        to_hex(mac, size, hex);
        assert_string_equal(hex, vectors[i].hex);

        pay_hmac_key_free(key);
    }
}


static void
test_sha256_vectors(void **state)
{
    (void) state;

    check_vectors(sha256_vectors,
                  sizeof(sha256_vectors) / sizeof(sha256_vectors[0]),
                  PAY_DIGEST_SHA256, 32);
}


static void
test_sha1_vectors(void **state)
{
    (void) state;

    check_vectors(sha1_vectors,
                  sizeof(sha1_vectors) / sizeof(sha1_vectors[0]),
                  PAY_DIGEST_SHA1, 20);
}


static void
test_key_is_copied(void **state)
{
    char             hex[65];
    pay_iovec_t      part;
    unsigned char    key_bytes[4], mac[32];
    pay_hmac_key_t  *key;

    (void) state;

    memcpy(key_bytes, "Jefe", 4);
    key = pay_hmac_key_new(key_bytes, 4, PAY_DIGEST_SHA256);
    assert_non_null(key);

    memset(key_bytes, 0, sizeof(key_bytes));

    part.data = "what do ya want for nothing?";
    part.len = strlen(part.data);

    assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);
    to_hex(mac, 32, hex);
    assert_string_equal(hex, sha256_vectors[1].hex);

    pay_hmac_key_free(key);
}


static void
test_key_reused(void **state)
{
    int              i;
    pay_iovec_t      part, other;
    unsigned char    first[32], mac[32];
    pay_hmac_key_t  *key;

    (void) state;

    key = pay_hmac_key_new((const unsigned char *) "Jefe", 4,
                           PAY_DIGEST_SHA256);
    assert_non_null(key);

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    /* an OpenSSL of 3.0.3 or later passes the check of the restart */
    if (OpenSSL_version_num() >= 0x30000030L) {
        assert_int_equal(pay_hmac_key_restarts(key), 1);
    }
#endif

    part.data = "what do ya want for nothing?";
    part.len = strlen(part.data);

    assert_int_equal(pay_hmac_compute(key, &part, 1, first), 0);

    /* the template must not be consumed by a compute */
    for (i = 0; i < 100; i++) {
        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);
        assert_memory_equal(mac, first, 32);
    }

    /* nor carry anything over: other messages in between, RFC 4231's 2 */
    for (i = 0; i < 100; i++) {
        other.data = "what do ya want for nothing";
        other.len = (size_t) (i % 28);
        assert_int_equal(pay_hmac_compute(key, &other, 1, mac), 0);
        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);
        assert_memory_equal(mac, first, 32);
    }

    assert_memory_equal(first,
                        "\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26"
                        "\x08\x95\x75\xc7\x5a\x00\x3f\x08\x9d\x27\x39\x83"
                        "\x9d\xec\x58\xb9\x64\xec\x38\x43", 32);

    pay_hmac_key_free(key);
}


static void
test_bad_keys(void **state)
{
    (void) state;

    ERR_clear_error();

    assert_null(pay_hmac_key_new((const unsigned char *) "", 0,
                                 PAY_DIGEST_SHA256));
    assert_null(pay_hmac_key_new(NULL, 0, PAY_DIGEST_SHA256));
    assert_null(pay_hmac_key_new(NULL, 5, PAY_DIGEST_SHA1));
    assert_null(pay_hmac_key_new((const unsigned char *) "k", 1,
                                 (pay_digest_e) 42));

    pay_hmac_key_free(NULL);

    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_scatter_equals_one_shot(void **state)
{
    size_t           i, j, len;
    const char      *msg;
    pay_iovec_t      one, parts[5];
    unsigned char    expect[32], mac[32];
    pay_hmac_key_t  *key;

    (void) state;

    msg = "1700000000.{\"id\":\"evt_1\",\"object\":\"event\"}";
    len = strlen(msg);

    key = pay_hmac_key_new((const unsigned char *) "whsec_test_secret", 17,
                           PAY_DIGEST_SHA256);
    assert_non_null(key);

    one.data = msg;
    one.len = len;
    assert_int_equal(pay_hmac_compute(key, &one, 1, expect), 0);

    /* this is the Stripe vector S3 (t/vectors/README.md) */
    {
        char  hex[65];

        to_hex(expect, 32, hex);
        assert_string_equal(hex, "0c8670ed117751cc551a20e35839447075c428"
                                 "00ea3cf3e8a2fbda99cd1e6edd");
    }

    /* every split in three, with empty (and NULL) parts around */
    for (i = 0; i <= len; i++) {
        for (j = i; j <= len; j++) {
            parts[0].data = NULL;
            parts[0].len = 0;
            parts[1].data = msg;
            parts[1].len = i;
            parts[2].data = msg + i;
            parts[2].len = j - i;
            parts[3].data = "";
            parts[3].len = 0;
            parts[4].data = msg + j;
            parts[4].len = len - j;

            memset(mac, 0, sizeof(mac));
            assert_int_equal(pay_hmac_compute(key, parts, 5, mac), 0);
            assert_memory_equal(mac, expect, 32);
        }
    }

    pay_hmac_key_free(key);
}


static void
test_empty_message(void **state)
{
    pay_iovec_t      empty;
    unsigned char    a[32], b[32];
    pay_hmac_key_t  *key;

    (void) state;

    key = pay_hmac_key_new((const unsigned char *) "key", 3,
                           PAY_DIGEST_SHA256);
    assert_non_null(key);

    empty.data = NULL;
    empty.len = 0;

    assert_int_equal(pay_hmac_compute(key, NULL, 0, a), 0);
    assert_int_equal(pay_hmac_compute(key, &empty, 1, b), 0);
    assert_memory_equal(a, b, 32);

    /*
     * HMAC-SHA256("key", "") from the Wikipedia HMAC article, also
     * openssl dgst -sha256 -hmac key </dev/null
     */
    {
        char  hex[65];

        to_hex(a, 32, hex);
        assert_string_equal(hex, "5d5d139563c95b5967b9bd9a8c9b233a9dedb450"
                                 "72794cd232dc1b74832607d0");
    }

    pay_hmac_key_free(key);
}


static void
test_bad_compute_arguments(void **state)
{
    unsigned char    mac[32];
    pay_hmac_key_t  *key;

    (void) state;

    key = pay_hmac_key_new((const unsigned char *) "key", 3,
                           PAY_DIGEST_SHA256);
    assert_non_null(key);

    assert_int_equal(pay_hmac_compute(NULL, NULL, 0, mac), -1);
    assert_int_equal(pay_hmac_compute(key, NULL, 1, mac), -1);
    assert_int_equal(pay_hmac_compute(key, NULL, 0, NULL), -1);
    assert_int_equal(pay_hmac_size(NULL), 0);

    pay_hmac_key_free(key);
}


#if OPENSSL_VERSION_NUMBER >= 0x30000000L

/* every key length around both block sizes against OpenSSL's one-shot */

static void
test_against_evp_q_mac(void **state)
{
    size_t           klen, outl;
    pay_iovec_t      part;
    unsigned char    key_bytes[200], expect[32], mac[32];
    pay_hmac_key_t  *key;

    (void) state;

    for (klen = 0; klen < sizeof(key_bytes); klen++) {
        key_bytes[klen] = (unsigned char) (klen * 7 + 3);
    }

    part.data = "The quick brown fox jumps over the lazy dog";
    part.len = strlen(part.data);

    for (klen = 1; klen <= sizeof(key_bytes); klen++) {
        key = pay_hmac_key_new(key_bytes, klen, PAY_DIGEST_SHA256);
        assert_non_null(key);

        assert_int_equal(pay_hmac_compute(key, &part, 1, mac), 0);

        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
                                  key_bytes, klen, part.data, part.len,
                                  expect, sizeof(expect), &outl));
        assert_int_equal(outl, 32);
        assert_memory_equal(mac, expect, 32);

        pay_hmac_key_free(key);
    }
}

#endif


static void
test_mem_equal(void **state)
{
    unsigned char  a[32], b[32];

    (void) state;

    memset(a, 0x5a, sizeof(a));
    memcpy(b, a, sizeof(b));

    assert_int_equal(pay_mem_equal(a, b, 32), 1);
    assert_int_equal(pay_mem_equal(a, b, 0), 1);

    b[0] ^= 1;
    assert_int_equal(pay_mem_equal(a, b, 32), 0);
    assert_int_equal(pay_mem_equal(a + 1, b + 1, 31), 1);

    b[0] ^= 1;
    b[31] ^= 0x80;
    assert_int_equal(pay_mem_equal(a, b, 32), 0);
    assert_int_equal(pay_mem_equal(a, b, 31), 1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_sha1_vectors),
        cmocka_unit_test(test_key_is_copied),
        cmocka_unit_test(test_key_reused),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_scatter_equals_one_shot),
        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_bad_compute_arguments),
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
        cmocka_unit_test(test_against_evp_q_mac),
#endif
        cmocka_unit_test(test_mem_equal),
    };

    return cmocka_run_group_tests_name("pay_hmac", tests, NULL, NULL);
}
