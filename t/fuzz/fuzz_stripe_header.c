/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target: pay_stripe_header_parse() and pay_stripe_verify().
 * The input is "<Stripe-Signature value>\n<body>" (no '\n': all header,
 * empty body).  Header and body are copied into buffers of their exact
 * size, so ASan sees any read past either.  Invariants that do not hold
 * abort().
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pay_stripe.h"
#include "pay_timestamp.h"


#define FUZZ_NOW  1700000000LL


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_header(const char *hdr, size_t len, pay_rc_e rc,
    const pay_stripe_header_t *h);


static pay_hmac_key_t  *fuzz_keys[2];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    fuzz_keys[0] = pay_hmac_key_new((const unsigned char *) "whsec_old_secret",
                                    16, PAY_DIGEST_SHA256);
    fuzz_keys[1] = pay_hmac_key_new((const unsigned char *)
                                    "whsec_test_secret", 17,
                                    PAY_DIGEST_SHA256);

    if (fuzz_keys[0] == NULL || fuzz_keys[1] == NULL) {
        abort();
    }

    return 0;
}


static void
check_header(const char *hdr, size_t len, pay_rc_e rc,
    const pay_stripe_header_t *h)
{
    size_t  i;

    if (rc != PAY_OK) {
        if (rc != PAY_ERR_SIGNATURE_MISSING
            && rc != PAY_ERR_SIGNATURE_MALFORMED)
        {
            abort();
        }

        return;
    }

    if (h->t_str == NULL || h->t_len == 0 || h->t_len > 19
        || h->t_str < hdr || h->t_str + h->t_len > hdr + len
        || h->t < 0
        || h->v1_valid == 0 || h->v1_valid > h->v1_count
        || h->v1_count > len / 4)
    {
        abort();
    }

    for (i = 0; i < h->t_len; i++) {
        if (h->t_str[i] < '0' || h->t_str[i] > '9') {
            abort();
        }
    }

    if (h->t_len > 1 && h->t_str[0] == '0') {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 *hdr;
    size_t                hdr_len, body_len;
    pay_rc_e              rc, vrc;
    const uint8_t        *nl;
    unsigned char        *body;
    pay_stripe_header_t   h;

    nl = memchr(data, '\n', size);
    hdr_len = (nl != NULL) ? (size_t) (nl - data) : size;
    body_len = (nl != NULL) ? size - hdr_len - 1 : 0;

    hdr = malloc(hdr_len + (hdr_len == 0));
    body = (body_len != 0) ? malloc(body_len) : NULL;

    if (hdr == NULL || (body_len != 0 && body == NULL)) {
        abort();
    }

    memcpy(hdr, data, hdr_len);

    if (body_len != 0) {
        memcpy(body, nl + 1, body_len);
    }

    rc = pay_stripe_header_parse(hdr, hdr_len, &h);
    check_header(hdr, hdr_len, rc, &h);

    /* with a window: the parse error, the clock, or the MAC decides */
    vrc = pay_stripe_verify(hdr, hdr_len, body, body_len, fuzz_keys, 2,
                            FUZZ_NOW, 300);

    if (rc != PAY_OK) {
        if (vrc != rc) {
            abort();
        }

    } else if (pay_timestamp_check(h.t, FUZZ_NOW, 300) != PAY_OK) {
        if (vrc != PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE) {
            abort();
        }

    } else if (vrc != PAY_OK && vrc != PAY_ERR_SIGNATURE_MISMATCH) {
        abort();
    }

    /* without one: only the MAC decides, and one key alone agrees */
    vrc = pay_stripe_verify(hdr, hdr_len, body, body_len, fuzz_keys, 2,
                            FUZZ_NOW, 0);

    if (rc == PAY_OK) {
        if (vrc != PAY_OK && vrc != PAY_ERR_SIGNATURE_MISMATCH) {
            abort();
        }

        if (vrc == PAY_ERR_SIGNATURE_MISMATCH
            && (pay_stripe_verify(hdr, hdr_len, body, body_len,
                                  &fuzz_keys[0], 1, FUZZ_NOW, 0) != vrc
                || pay_stripe_verify(hdr, hdr_len, body, body_len,
                                     &fuzz_keys[1], 1, FUZZ_NOW, 0) != vrc))
        {
            abort();
        }
    }

    free(hdr);
    free(body);

    return 0;
}
