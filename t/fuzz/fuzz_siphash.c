/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target, differential: pay_siphash24() against OpenSSL's own
 * SipHash-2-4 (EVP_MAC "SIPHASH", 8-byte output).  The input's first 16
 * bytes are the key (zero-padded when shorter), the rest the message,
 * copied into a buffer of its exact size so ASan sees a read past it.  A
 * disagreement abort()s.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pay_siphash.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static EVP_MAC  *mac;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i, len, outlen;
    uint64_t        h;
    OSSL_PARAM      params[2];
    unsigned int    hsize;
    EVP_MAC_CTX    *ctx;
    unsigned char  *msg, key[PAY_SIPHASH_KEY_LEN], out[8];

    if (mac == NULL) {
        mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
        if (mac == NULL) {
            abort();
        }
    }

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

    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        abort();
    }

    hsize = 8;
    params[0] = OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &hsize);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key, sizeof(key), params) != 1
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

    if (pay_siphash24(key, len ? msg : NULL, len) != h) {
        abort();
    }

    free(msg);

    return 0;
}
