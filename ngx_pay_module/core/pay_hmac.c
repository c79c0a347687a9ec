/*
 * Copyright (C) ngx_pay authors
 *
 * Keyed HMAC with OpenSSL.  The key schedule (the inner and outer padded
 * key states) is computed once in pay_hmac_key_new() into a template
 * context, never for a request, nor an algorithm fetch.  With OpenSSL 3,
 * every pay_hmac_compute() starts a second keyed context of the key's
 * over again (EVP_MAC_init() without a key restarts from the inner
 * state), sparing the allocations of a duplicate per request: a key is
 * used by one thread at a time (an nginx worker, the command-line tool).
 * With 1.1.x it duplicates the template.
 *
 * OpenSSL 3.x: EVP_MAC ("HMAC"); 1.1.x: HMAC_CTX.  No raw key copy is kept
 * here: the only copies live inside OpenSSL's contexts, which OpenSSL
 * wipes when they are freed.
 */


#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#include <openssl/params.h>
#else
#include <openssl/hmac.h>
#endif

#include "pay_hmac.h"


struct pay_hmac_key_s {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MAC      *mac;
    EVP_MAC_CTX  *tmpl;     /* initialised with the key, never updated */
    EVP_MAC_CTX  *work;     /* its duplicate, restarted for each message */
#else
    HMAC_CTX     *tmpl;     /* initialised with the key, never updated */
#endif
    size_t        size;     /* digest output size */
};


static const char *pay_hmac_digest_name(pay_digest_e digest);


static const char *
pay_hmac_digest_name(pay_digest_e digest)
{
    switch (digest) {

    case PAY_DIGEST_SHA256:
        return "SHA256";

    case PAY_DIGEST_SHA1:
        return "SHA1";

    default:
        return NULL;
    }
}


#if OPENSSL_VERSION_NUMBER >= 0x30000000L


pay_hmac_key_t *
pay_hmac_key_new(const unsigned char *key, size_t len, pay_digest_e digest)
{
    size_t           size;
    OSSL_PARAM       params[2];
    const char      *name;
    pay_hmac_key_t  *k;

    name = pay_hmac_digest_name(digest);

    if (key == NULL || len == 0 || name == NULL) {
        return NULL;
    }

    k = OPENSSL_zalloc(sizeof(pay_hmac_key_t));
    if (k == NULL) {
        goto failed;
    }

    k->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (k->mac == NULL) {
        goto failed;
    }

    k->tmpl = EVP_MAC_CTX_new(k->mac);
    if (k->tmpl == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) name, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(k->tmpl, key, len, params) != 1) {
        goto failed;
    }

    size = EVP_MAC_CTX_get_mac_size(k->tmpl);
    if (size == 0 || size > PAY_HMAC_MAX_LEN) {
        goto failed;
    }

    k->size = size;

    k->work = EVP_MAC_CTX_dup(k->tmpl);
    if (k->work == NULL) {
        goto failed;
    }

    return k;

failed:

    pay_hmac_key_free(k);
    ERR_clear_error();

    return NULL;
}


void
pay_hmac_key_free(pay_hmac_key_t *key)
{
    if (key == NULL) {
        return;
    }

    EVP_MAC_CTX_free(key->work);
    EVP_MAC_CTX_free(key->tmpl);
    EVP_MAC_free(key->mac);

    OPENSSL_cleanse(key, sizeof(pay_hmac_key_t));
    OPENSSL_free(key);
}


int
pay_hmac_compute(const pay_hmac_key_t *key, const pay_iovec_t *parts,
    size_t n, unsigned char *out)
{
    size_t        i, outl;
    EVP_MAC_CTX  *ctx;

    if (key == NULL || out == NULL || (n != 0 && parts == NULL)) {
        return -1;
    }

    ctx = key->work;

    /* no key: the same key again, from its inner state */
    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1) {
        goto failed;
    }

    for (i = 0; i < n; i++) {

        if (parts[i].len == 0) {
            continue;
        }

        if (EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1) {
            goto failed;
        }
    }

    if (EVP_MAC_final(ctx, out, &outl, key->size) != 1
        || outl != key->size)
    {
        goto failed;
    }

    return 0;

failed:

    ERR_clear_error();

    return -1;
}


#else /* OpenSSL 1.1.x */


pay_hmac_key_t *
pay_hmac_key_new(const unsigned char *key, size_t len, pay_digest_e digest)
{
    int              size;
    const EVP_MD    *md;
    pay_hmac_key_t  *k;

    if (key == NULL || len == 0 || len > 0x7fffffff
        || pay_hmac_digest_name(digest) == NULL)
    {
        return NULL;
    }

    md = (digest == PAY_DIGEST_SHA1) ? EVP_sha1() : EVP_sha256();

    k = OPENSSL_zalloc(sizeof(pay_hmac_key_t));
    if (k == NULL) {
        goto failed;
    }

    k->tmpl = HMAC_CTX_new();
    if (k->tmpl == NULL) {
        goto failed;
    }

    if (HMAC_Init_ex(k->tmpl, key, (int) len, md, NULL) != 1) {
        goto failed;
    }

    size = EVP_MD_size(md);
    if (size <= 0 || size > PAY_HMAC_MAX_LEN) {
        goto failed;
    }

    k->size = (size_t) size;

    return k;

failed:

    pay_hmac_key_free(k);
    ERR_clear_error();

    return NULL;
}


void
pay_hmac_key_free(pay_hmac_key_t *key)
{
    if (key == NULL) {
        return;
    }

    HMAC_CTX_free(key->tmpl);

    OPENSSL_cleanse(key, sizeof(pay_hmac_key_t));
    OPENSSL_free(key);
}


int
pay_hmac_compute(const pay_hmac_key_t *key, const pay_iovec_t *parts,
    size_t n, unsigned char *out)
{
    size_t         i;
    HMAC_CTX      *ctx;
    unsigned int   outl;

    if (key == NULL || out == NULL || (n != 0 && parts == NULL)) {
        return -1;
    }

    ctx = HMAC_CTX_new();
    if (ctx == NULL) {
        goto failed;
    }

    if (HMAC_CTX_copy(ctx, key->tmpl) != 1) {
        goto failed;
    }

    for (i = 0; i < n; i++) {

        if (parts[i].len == 0) {
            continue;
        }

        if (HMAC_Update(ctx, parts[i].data, parts[i].len) != 1) {
            goto failed;
        }
    }

    if (HMAC_Final(ctx, out, &outl) != 1 || outl != key->size) {
        goto failed;
    }

    HMAC_CTX_free(ctx);

    return 0;

failed:

    HMAC_CTX_free(ctx);
    ERR_clear_error();

    return -1;
}


#endif


size_t
pay_hmac_size(const pay_hmac_key_t *key)
{
    return (key != NULL) ? key->size : 0;
}


int
pay_mem_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
