/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target, differential: pay_siphash24() against OpenSSL's own
 * SipHash-2-4 (EVP_MAC "SIPHASH", 8-byte output; OpenSSL 3: with an older
 * one it only runs pay_siphash24(), for the sanitizers).  The input's first 16
 * bytes are the key (zero-padded when shorter), the rest the message,
 * copied into a buffer of its exact size so ASan sees a read past it.  A
 * disagreement abort()s.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/opensslv.h>

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#define OPENSSL_SIPHASH  1
#endif

#include "pay_siphash.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#ifdef OPENSSL_SIPHASH
static uint64_t openssl_siphash(const unsigned char *key,
    const unsigned char *msg, size_t len);

static EVP_MAC  *mac;
#endif


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          len;
    unsigned char  *msg, key[PAY_SIPHASH_KEY_LEN];
    uint64_t        h;

    memset(key, 0, sizeof(key));
    memcpy(key, data, size < sizeof(key) ? size : sizeof(key));

    len = size > sizeof(key) ? size - sizeof(key) : 0;

    msg = malloc(len ? len : 1);
    if (msg == NULL) {
        return 0;
    }

    if (len) {
        memcpy(msg, data + sizeof(key), len);
    }

    h = pay_siphash24(key, len ? msg : NULL, len);

#ifdef OPENSSL_SIPHASH
    if (h != openssl_siphash(key, msg, len)) {
        abort();
    }
#else
    (void) h;
#endif

    free(msg);

    return 0;
}


#ifdef OPENSSL_SIPHASH

static uint64_t
openssl_siphash(const unsigned char *key, const unsigned char *msg,
    size_t len)
{
    size_t         i, outlen;
    uint64_t       h;
    OSSL_PARAM     params[2];
    unsigned int   hsize;
    EVP_MAC_CTX   *ctx;
    unsigned char  out[8];

    if (mac == NULL) {
        mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
        if (mac == NULL) {
            abort();
        }
    }

    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        abort();
    }

    hsize = 8;
    params[0] = OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &hsize);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key, PAY_SIPHASH_KEY_LEN, params) != 1
        || EVP_MAC_update(ctx, msg, len) != 1
        || EVP_MAC_final(ctx, out, &outlen, sizeof(out)) != 1
        || outlen != 8)
    {
        abort();
    }

    EVP_MAC_CTX_free(ctx);

    h = 0;

    for (i = 8; i > 0; i--) {
        h = (h << 8) | out[i - 1];
    }

    return h;
}

#endif
