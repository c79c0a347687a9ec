/*
 * Copyright (C) ngx_pay authors
 *
 * Dedupe namespaces and the fate of a claim.
 */


#include <string.h>

#include <openssl/evp.h>

#include "pay_dedupe.h"


/* bump only with a migration: stored keys depend on it */
#define PAY_DEDUPE_NAMESPACE_TAG  "ngx_pay dedupe namespace v1"

#define PAY_DEDUPE_SHA256_LEN     32


static int pay_dedupe_literal(const unsigned char *in, size_t len);
static int pay_dedupe_2xx(int status);


size_t
pay_dedupe_namespace(const unsigned char *in, size_t len,
    char out[PAY_DEDUPE_NAMESPACE_MAX + 1])
{
    int            ok;
    size_t         i;
    EVP_MD_CTX    *ctx;
    unsigned int   digest_len;
    unsigned char  digest[PAY_DEDUPE_SHA256_LEN];

    static const char  hex[] = "0123456789abcdef";

    if (pay_dedupe_literal(in, len)) {
        memcpy(out, in, len);
        out[len] = '\0';
        return len;
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return 0;
    }

    /* the tag's NUL keeps it apart from the bytes that follow */
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
         && EVP_DigestUpdate(ctx, PAY_DEDUPE_NAMESPACE_TAG,
                             sizeof(PAY_DEDUPE_NAMESPACE_TAG))
         && (len == 0 || EVP_DigestUpdate(ctx, in, len))
         && EVP_DigestFinal_ex(ctx, digest, &digest_len)
         && digest_len == PAY_DEDUPE_SHA256_LEN;

    EVP_MD_CTX_free(ctx);

    if (!ok) {
        return 0;
    }

    out[0] = '#';

    for (i = 0; i < (PAY_DEDUPE_NAMESPACE_HASH_LEN - 1) / 2; i++) {
        out[1 + 2 * i] = hex[digest[i] >> 4];
        out[2 + 2 * i] = hex[digest[i] & 0x0f];
    }

    out[PAY_DEDUPE_NAMESPACE_HASH_LEN] = '\0';

    return PAY_DEDUPE_NAMESPACE_HASH_LEN;
}


/* no ':' (the key's separator), no '#' (the hashed form's mark) */

static int
pay_dedupe_literal(const unsigned char *in, size_t len)
{
    size_t  i;

    if (len == 0 || len > PAY_DEDUPE_NAMESPACE_LITERAL_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {

        if ((in[i] >= 'a' && in[i] <= 'z')
            || (in[i] >= 'A' && in[i] <= 'Z')
            || (in[i] >= '0' && in[i] <= '9')
            || (in[i] != '\0' && strchr("-._~/=@^*", in[i]) != NULL))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


pay_dedupe_outcome_e
pay_dedupe_outcome(int status, const pay_dedupe_attempt_t *attempts,
    size_t n)
{
    size_t  i;

    if (pay_dedupe_2xx(status)
        && (n == 0
            || (attempts[n - 1].answered
                && pay_dedupe_2xx(attempts[n - 1].status))))
    {
        return PAY_DEDUPE_ACCEPTED;
    }

    for (i = 0; i < n; i++) {
        if (attempts[i].sent && !attempts[i].answered) {
            return PAY_DEDUPE_UNKNOWN;
        }
    }

    return PAY_DEDUPE_FAILED;
}


pay_dedupe_settle_e
pay_dedupe_settle(pay_dedupe_outcome_e outcome, int retry)
{
    switch (outcome) {

    case PAY_DEDUPE_ACCEPTED:
        return PAY_DEDUPE_COMPLETE;

    case PAY_DEDUPE_UNKNOWN:
        return PAY_DEDUPE_ABANDON;

    default: /* PAY_DEDUPE_FAILED */
        return retry ? PAY_DEDUPE_ABANDON : PAY_DEDUPE_RELEASE;
    }
}


static int
pay_dedupe_2xx(int status)
{
    return status >= 200 && status < 300;
}
