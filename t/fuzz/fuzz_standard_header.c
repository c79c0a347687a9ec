/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target: pay_standard_verify(), pay_event_parse_standard(),
 * pay_standard_secret_decode(), pay_square_verify(), and the Square and
 * PayPal event parsers on the body.  The input is
 * "<webhook-id>\n<webhook-timestamp>\n<webhook-signature>\n<body>" (a
 * missing line is an empty value, a missing body an empty one).  Each part
 * is copied into a buffer of its exact size, so ASan sees any read past
 * it.  Invariants that do not hold abort().
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pay_event.h"
#include "pay_square.h"
#include "pay_standard.h"


#define FUZZ_NOW    1614265330LL
#define FUZZ_PARTS  4


typedef struct {
    char    *data;      /* NULL when empty */
    size_t   len;
} fuzz_part_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void split(const uint8_t *data, size_t size, fuzz_part_t *parts);
static pay_rc_e verify(const fuzz_part_t *p, pay_hmac_key_t *const *keys,
    size_t nkeys, long long tolerance);
static void check_event(const fuzz_part_t *p);
static void check_provider_event(pay_rc_e rc, const pay_event_t *ev);
static void check_secret(const fuzz_part_t *p);
static void check_square(const fuzz_part_t *p);


static pay_hmac_key_t  *fuzz_keys[2];
static pay_hmac_key_t  *fuzz_square_keys[2];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t         len;
    unsigned char  key[64];

    (void) argc;
    (void) argv;

    /* W1's secret (t/vectors/README.md) and another one */

    if (pay_standard_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                   38, key, sizeof(key), &len)
        != 0)
    {
        abort();
    }

    fuzz_keys[0] = pay_hmac_key_new(key, len, PAY_DIGEST_SHA256);

    memset(key, 0xee, 32);
    fuzz_keys[1] = pay_hmac_key_new(key, 32, PAY_DIGEST_SHA256);

    fuzz_square_keys[0] = pay_hmac_key_new((const unsigned char *)
                                           "Ibxx_5AKakO-3qeNVR61Dw", 22,
                                           PAY_DIGEST_SHA256);
    fuzz_square_keys[1] = pay_hmac_key_new((const unsigned char *)
                                           "Ibxx_5AKakO-3qeNVR61Dw", 22,
                                           PAY_DIGEST_SHA1);

    if (fuzz_keys[0] == NULL || fuzz_keys[1] == NULL
        || fuzz_square_keys[0] == NULL || fuzz_square_keys[1] == NULL)
    {
        abort();
    }

    return 0;
}


static void
split(const uint8_t *data, size_t size, fuzz_part_t *parts)
{
    size_t          i, len;
    const uint8_t  *nl;

    for (i = 0; i < FUZZ_PARTS; i++) {

        /* the body is the rest, newlines included */
        nl = (i < FUZZ_PARTS - 1) ? memchr(data, '\n', size) : NULL;
        len = (nl != NULL) ? (size_t) (nl - data) : size;

        parts[i].len = len;
        parts[i].data = NULL;

        if (len != 0) {
            parts[i].data = malloc(len);
            if (parts[i].data == NULL) {
                abort();
            }

            memcpy(parts[i].data, data, len);
        }

        if (nl != NULL) {
            data = nl + 1;
            size -= len + 1;

        } else {
            data += len;
            size = 0;
        }
    }
}


static pay_rc_e
verify(const fuzz_part_t *p, pay_hmac_key_t *const *keys, size_t nkeys,
    long long tolerance)
{
    return pay_standard_verify(p[0].data, p[0].len, p[1].data, p[1].len,
                               p[2].data, p[2].len,
                               (const unsigned char *) p[3].data, p[3].len,
                               keys, nkeys, FUZZ_NOW, tolerance);
}


static void
check_event(const fuzz_part_t *p)
{
    size_t       i;
    pay_rc_e     rc;
    pay_event_t  ev;

    memset(&ev, 0x5a, sizeof(ev));

    rc = pay_event_parse_standard((const unsigned char *) p[3].data,
                                  p[3].len, p[0].data, p[0].len, &ev);

    if (rc != PAY_OK) {
        if ((rc != PAY_ERR_SIGNATURE_MISSING
             && rc != PAY_ERR_SIGNATURE_MALFORMED
             && rc != PAY_ERR_BODY_MALFORMED)
            || ev.id_len != 0 || ev.type_len != 0 || ev.livemode != -1
            || ev.kind != NULL)
        {
            abort();
        }

        /* the header's verdict is the verifier's */
        if ((rc == PAY_ERR_SIGNATURE_MISSING) != (p[0].len == 0)
            || (rc == PAY_ERR_SIGNATURE_MALFORMED
                && pay_event_field_check(p[0].data, p[0].len) == 0))
        {
            abort();
        }

        return;
    }

    if (ev.id_len != p[0].len || memcmp(ev.id, p[0].data, p[0].len) != 0
        || ev.id[ev.id_len] != '\0'
        || pay_event_field_check(ev.id, ev.id_len) != 0
        || ev.type_len > PAY_EVENT_FIELD_MAX || ev.type[ev.type_len] != '\0'
        || (ev.type_len != 0
            && pay_event_field_check(ev.type, ev.type_len) != 0)
        || ev.livemode != -1 || ev.kind == NULL)
    {
        abort();
    }

    for (i = 0; i < ev.type_len; i++) {
        if (ev.type[i] == '\0') {
            abort();
        }
    }
}


/* Square and PayPal: both fields required, livemode never known */

static void
check_provider_event(pay_rc_e rc, const pay_event_t *ev)
{
    if (rc != PAY_OK) {
        if (rc != PAY_ERR_BODY_MALFORMED || ev->id_len != 0
            || ev->type_len != 0 || ev->livemode != -1 || ev->kind != NULL)
        {
            abort();
        }

        return;
    }

    if (pay_event_field_check(ev->id, ev->id_len) != 0
        || ev->id[ev->id_len] != '\0'
        || pay_event_field_check(ev->type, ev->type_len) != 0
        || ev->type[ev->type_len] != '\0'
        || ev->livemode != -1 || ev->kind == NULL)
    {
        abort();
    }
}


static void
check_secret(const fuzz_part_t *p)
{
    size_t         len, i;
    unsigned char  key[64];

    memset(key, 0x5a, sizeof(key));

    if (pay_standard_secret_decode(p[2].data, p[2].len, key, sizeof(key),
                                   &len)
        == 0)
    {
        if (len == 0 || len > sizeof(key) || p[2].len == 0) {
            abort();
        }

        return;
    }

    /* a refused secret leaves nothing of itself behind */
    for (i = 0; i < sizeof(key); i++) {
        if (key[i] != 0) {
            abort();
        }
    }
}


static void
check_square(const fuzz_part_t *p)
{
    pay_rc_e  rc, one, other;

    /* the id line as the notification URL */
    rc = pay_square_verify(p[2].data, p[2].len,
                           (const unsigned char *) p[0].data, p[0].len,
                           (const unsigned char *) p[3].data, p[3].len,
                           fuzz_square_keys, 1);

    if (rc != PAY_OK && rc != PAY_ERR_SIGNATURE_MISSING
        && rc != PAY_ERR_SIGNATURE_MALFORMED
        && rc != PAY_ERR_SIGNATURE_MISMATCH && rc != PAY_ERR_INTERNAL)
    {
        abort();
    }

    if ((rc == PAY_ERR_SIGNATURE_MISSING) != (p[2].len == 0)
        || (rc == PAY_ERR_INTERNAL && p[0].len != 0))
    {
        abort();
    }

    /* one SHA-256 and one SHA-1 key: always a configuration fault */
    one = pay_square_verify(p[2].data, p[2].len,
                            (const unsigned char *) p[0].data, p[0].len,
                            (const unsigned char *) p[3].data, p[3].len,
                            fuzz_square_keys, 2);

    if (rc == PAY_ERR_SIGNATURE_MISSING || rc == PAY_ERR_SIGNATURE_MALFORMED) {
        /* not base64 is found first; a wrong length needs the keys */
        if (one != rc && one != PAY_ERR_INTERNAL) {
            abort();
        }

    } else if (one != PAY_ERR_INTERNAL) {
        abort();
    }

    /* a signature cannot be both an SHA-256 and an SHA-1 one */
    other = pay_square_verify(p[2].data, p[2].len,
                              (const unsigned char *) p[0].data, p[0].len,
                              (const unsigned char *) p[3].data, p[3].len,
                              &fuzz_square_keys[1], 1);

    if (rc == PAY_OK && other == PAY_OK) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       i;
    pay_rc_e     rc, windowed, first, second;
    pay_event_t  ev;
    fuzz_part_t  p[FUZZ_PARTS];

    split(data, size, p);

    /* without a window: only the headers and the MAC decide */
    rc = verify(p, fuzz_keys, 2, 0);

    if (rc != PAY_OK && rc != PAY_ERR_SIGNATURE_MISSING
        && rc != PAY_ERR_SIGNATURE_MALFORMED
        && rc != PAY_ERR_SIGNATURE_MISMATCH)
    {
        abort();
    }

    if ((p[0].len == 0 || p[1].len == 0 || p[2].len == 0)
        && rc != PAY_ERR_SIGNATURE_MISSING)
    {
        abort();
    }

    /* two keys agree with one key at a time */
    first = verify(p, &fuzz_keys[0], 1, 0);
    second = verify(p, &fuzz_keys[1], 1, 0);

    if (rc == PAY_OK) {
        if (first != PAY_OK && second != PAY_OK) {
            abort();
        }

    } else if (first != rc || second != rc) {
        abort();
    }

    /* no key: never a match */
    if (verify(p, fuzz_keys, 0, 0)
        != (rc == PAY_OK ? PAY_ERR_SIGNATURE_MISMATCH : rc))
    {
        abort();
    }

    /* with a window: the clock comes between the headers and the list */
    windowed = verify(p, fuzz_keys, 2, 300);

    if (windowed != rc && windowed != PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE) {
        abort();
    }

    /* so the clock is only read once the three headers are well formed */
    if (windowed == PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE
        && (p[1].len == 0 || p[2].len == 0
            || pay_event_field_check(p[0].data, p[0].len) != 0))
    {
        abort();
    }

    check_event(p);

    memset(&ev, 0x5a, sizeof(ev));
    rc = pay_event_parse_square((const unsigned char *) p[3].data, p[3].len,
                                &ev);
    check_provider_event(rc, &ev);

    memset(&ev, 0x5a, sizeof(ev));
    rc = pay_event_parse_paypal((const unsigned char *) p[3].data, p[3].len,
                                &ev);
    check_provider_event(rc, &ev);

    check_secret(p);
    check_square(p);

    for (i = 0; i < FUZZ_PARTS; i++) {
        free(p[i].data);
    }

    return 0;
}
