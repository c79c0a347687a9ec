/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_siphash.c: the 64 vectors of SipHash's reference
 * implementation (github.com/veorq/SipHash, vectors.h, CC0: key 00..0f,
 * messages 00, 00 01, .. of lengths 0 to 63), and, with OpenSSL 3,
 * OpenSSL's own SipHash (EVP_MAC "SIPHASH", 8-byte output) on random keys
 * and messages of every length up to 300 at each of 8 alignments.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/opensslv.h>

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#define OPENSSL_SIPHASH  1
#endif

#include "pay_siphash.h"


#ifdef OPENSSL_SIPHASH
static uint64_t openssl_siphash(const unsigned char *k,
    const unsigned char *p, size_t len);
static void test_against_openssl(void **state);
#endif
static void test_reference_vectors(void **state);
static void test_key_matters(void **state);


/* vectors_sip64 of the reference, its 8 bytes read little-endian */

static const uint64_t  reference[64] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL,
    0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
    0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
    0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
    0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL,
    0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL,
    0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
    0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
    0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
    0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL,
    0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
    0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL,
    0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL,
    0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
    0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL,
    0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL,
    0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
    0x314dffbe0815a3b4ULL, 0x027990f029623981ULL,
    0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
    0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
    0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL,
    0xf935451de4f21df2ULL, 0xa9538f0419755787ULL,
    0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
    0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL,
    0xee64435a9752fe72ULL, 0xa192d576b245165aULL,
    0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
    0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL,
    0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL,
    0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL,
    0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};


#ifdef OPENSSL_SIPHASH

static uint64_t
openssl_siphash(const unsigned char *k, const unsigned char *p, size_t len)
{
    size_t         i, outlen;
    uint64_t       h;
    EVP_MAC       *mac;
    OSSL_PARAM     params[2];
    unsigned int   size;
    EVP_MAC_CTX   *ctx;
    unsigned char  out[8];

    mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    assert_non_null(mac);

    ctx = EVP_MAC_CTX_new(mac);
    assert_non_null(ctx);

    size = 8;
    params[0] = OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size);
    params[1] = OSSL_PARAM_construct_end();

    assert_int_equal(EVP_MAC_init(ctx, k, PAY_SIPHASH_KEY_LEN, params), 1);
    assert_int_equal(EVP_MAC_update(ctx, p, len), 1);
    assert_int_equal(EVP_MAC_final(ctx, out, &outlen, sizeof(out)), 1);
    assert_int_equal(outlen, 8);

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);

    h = 0;

    for (i = 8; i > 0; i--) {
        h = (h << 8) | out[i - 1];
    }

    return h;
}

#endif


static void
test_reference_vectors(void **state)
{
    size_t         i;
    unsigned char  k[PAY_SIPHASH_KEY_LEN], m[64];

    (void) state;

    for (i = 0; i < sizeof(k); i++) {
        k[i] = (unsigned char) i;
    }

    for (i = 0; i < sizeof(m); i++) {
        m[i] = (unsigned char) i;
    }

    for (i = 0; i < 64; i++) {
        assert_true(pay_siphash24(k, m, i) == reference[i]);
    }

    assert_true(pay_siphash24(k, NULL, 0) == reference[0]);

    /* the paper's example, appendix A: 15 bytes, a129ca6149be45e5 */
    assert_true(pay_siphash24(k, m, 15) == 0xa129ca6149be45e5ULL);
}


#ifdef OPENSSL_SIPHASH

static void
test_against_openssl(void **state)
{
    size_t         len, off;
    unsigned char  k[PAY_SIPHASH_KEY_LEN], m[300 + 8];

    (void) state;

    for (len = 0; len <= 300; len++) {
        for (off = 0; off < 8; off++) {
            assert_int_equal(RAND_bytes(k, sizeof(k)), 1);
            assert_int_equal(RAND_bytes(m, sizeof(m)), 1);

            assert_true(pay_siphash24(k, m + off, len)
                        == openssl_siphash(k, m + off, len));
        }
    }
}

#endif


static void
test_key_matters(void **state)
{
    uint64_t       a;
    unsigned char  k[PAY_SIPHASH_KEY_LEN];
    const char    *msg = "stripe:evt_1NG8Du2eZvKYlo2CUI79vXWy";

    (void) state;

    memset(k, 0, sizeof(k));
    a = pay_siphash24(k, (const unsigned char *) msg, strlen(msg));

    k[15] = 1;
    assert_true(pay_siphash24(k, (const unsigned char *) msg, strlen(msg))
                != a);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_reference_vectors),
#ifdef OPENSSL_SIPHASH
        cmocka_unit_test(test_against_openssl),
#endif
        cmocka_unit_test(test_key_matters),
    };

    return cmocka_run_group_tests_name("pay_siphash", tests, NULL, NULL);
}
