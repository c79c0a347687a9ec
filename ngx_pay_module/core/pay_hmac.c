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
 * OpenSSL before 3.0.3 took a restart without a key as a no-op and went
 * on from the finished state (openssl/openssl#17811): pay_hmac_key_new()
 * checks the restart against a duplicate of the template, and a key whose
 * library fails it duplicates the template per message instead.  With
 * 1.1.x it duplicates the template.
 *
 * The key itself is kept only inside OpenSSL's contexts, which OpenSSL
 * wipes when they are freed.
 *
 * OpenSSL 3.x: EVP_MAC ("HMAC"); 1.1.x: HMAC_CTX.
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
    int           restart;  /* the restart checked: work is used */
#else
    HMAC_CTX     *tmpl;     /* initialised with the key, never updated */
#endif
    size_t        size;     /* digest output size */
};


static const char *pay_hmac_digest_name(pay_digest_e digest);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static int pay_hmac_restart_works(pay_hmac_key_t *k);
static int pay_hmac_run(EVP_MAC_CTX *ctx, const pay_iovec_t *parts,
    size_t n, unsigned char *out, size_t size);
#endif


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

    k->restart = pay_hmac_restart_works(k);

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
    EVP_MAC_CTX  *ctx;

    if (key == NULL || out == NULL || (n != 0 && parts == NULL)) {
        return -1;
    }

    if (key->restart) {
        /* no key: the same key again, from its inner state */
        if (EVP_MAC_init(key->work, NULL, 0, NULL) != 1
            || pay_hmac_run(key->work, parts, n, out, key->size) != 0)
        {
            goto failed;
        }

        return 0;
    }

    ctx = EVP_MAC_CTX_dup(key->tmpl);

    if (ctx == NULL || pay_hmac_run(ctx, parts, n, out, key->size) != 0) {
        EVP_MAC_CTX_free(ctx);
        goto failed;
    }

    EVP_MAC_CTX_free(ctx);

    return 0;

failed:

    ERR_clear_error();

    return -1;
}


/* the message's parts and the MAC, on a context that holds the key */

static int
pay_hmac_run(EVP_MAC_CTX *ctx, const pay_iovec_t *parts, size_t n,
    unsigned char *out, size_t size)
{
    size_t  i, outl;

    for (i = 0; i < n; i++) {

        if (parts[i].len == 0) {
            continue;
        }

        if (EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1) {
            return -1;
        }
    }

    if (EVP_MAC_final(ctx, out, &outl, size) != 1 || outl != size) {
        return -1;
    }

    return 0;
}


/*
 * Whether restarting k->work gives what a fresh duplicate of the template
 * gives: twice, the second time after a finished MAC, which is what an
 * OpenSSL without the restart gets wrong.
 */

static int
pay_hmac_restart_works(pay_hmac_key_t *k)
{
    int             i, same;
    pay_iovec_t     part;
    EVP_MAC_CTX    *ctx;
    unsigned char   expect[PAY_HMAC_MAX_LEN], got[PAY_HMAC_MAX_LEN];

    part.data = "ngx_pay: is a restarted HMAC the same?";
    part.len = sizeof("ngx_pay: is a restarted HMAC the same?") - 1;

    ctx = EVP_MAC_CTX_dup(k->tmpl);
    same = (ctx != NULL && pay_hmac_run(ctx, &part, 1, expect, k->size) == 0);
    EVP_MAC_CTX_free(ctx);

    for (i = 0; same && i < 2; i++) {
        same = EVP_MAC_init(k->work, NULL, 0, NULL) == 1
               && pay_hmac_run(k->work, &part, 1, got, k->size) == 0
               && CRYPTO_memcmp(got, expect, k->size) == 0;
    }

    /* a MAC of a known message under the key: not left on the stack */
    OPENSSL_cleanse(expect, sizeof(expect));
    OPENSSL_cleanse(got, sizeof(got));

    ERR_clear_error();

    return same;
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


int
pay_hmac_key_restarts(const pay_hmac_key_t *key)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    return key != NULL && key->restart;
#else
    (void) key;
    return 0;
#endif
}


void
pay_hmac_key_no_restart(pay_hmac_key_t *key)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    if (key != NULL) {
        key->restart = 0;
    }
#else
    (void) key;
#endif
}


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
