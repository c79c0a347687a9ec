/*
 * Copyright (C) ngx_pay authors
 *
 * Standard Webhooks (Svix) signatures (docs/providers/standard.md).
 *
 * The signature list is walked with a cursor, as pay_stripe does: no
 * allocation, no copy, no NUL termination assumed, every byte looked at a
 * bounded number of times whatever the list holds.
 */


#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pay_base64.h"
#include "pay_event.h"
#include "pay_standard.h"
#include "pay_timestamp.h"


#define PAY_STANDARD_PREFIX      "whsec_"
#define PAY_STANDARD_PREFIX_LEN  (sizeof(PAY_STANDARD_PREFIX) - 1)
#define PAY_STANDARD_TS_MAX      19
#define PAY_STANDARD_B64_LEN     pay_base64_encoded_len(PAY_STANDARD_SIG_LEN)

/* MACs computed before each walk of the list (see pay_stripe.c) */
#define PAY_STANDARD_MAC_BATCH   8


typedef struct {
    const unsigned char  *pos;
    const unsigned char  *end;
} pay_standard_cursor_t;


typedef struct {
    const unsigned char  *version;
    size_t                version_len;
    const unsigned char  *value;
    size_t                value_len;
} pay_standard_entry_t;


static void pay_standard_cursor_init(pay_standard_cursor_t *c,
    const char *sig, size_t len);
static int pay_standard_next_entry(pay_standard_cursor_t *c,
    pay_standard_entry_t *entry);
static int pay_standard_decode_v1(const pay_standard_entry_t *entry,
    unsigned char *sig);
static int pay_standard_parse_ts(const char *ts, size_t len, long long *t);
static void pay_standard_message(pay_iovec_t *parts, const char *id,
    size_t id_len, const char *ts, size_t ts_len, const unsigned char *body,
    size_t body_len);


/* what is signed: <id> "." <timestamp> "." <raw body> */

static void
pay_standard_message(pay_iovec_t *parts, const char *id, size_t id_len,
    const char *ts, size_t ts_len, const unsigned char *body,
    size_t body_len)
{
    parts[0].data = id;
    parts[0].len = id_len;
    parts[1].data = ".";
    parts[1].len = 1;
    parts[2].data = ts;
    parts[2].len = ts_len;
    parts[3].data = ".";
    parts[3].len = 1;
    parts[4].data = body;
    parts[4].len = body_len;
}


static void
pay_standard_cursor_init(pay_standard_cursor_t *c, const char *sig,
    size_t len)
{
    c->pos = (const unsigned char *) sig;
    c->end = c->pos + len;
}


/* Returns 1 with entry filled in, 0 when no entry is left. */

static int
pay_standard_next_entry(pay_standard_cursor_t *c, pay_standard_entry_t *entry)
{
    const unsigned char  *p, *start, *comma;

    p = c->pos;

    while (p < c->end && *p == ' ') {
        p++;
    }

    if (p == c->end) {
        c->pos = p;
        return 0;
    }

    start = p;

    while (p < c->end && *p != ' ') {
        p++;
    }

    c->pos = p;

    /* no ',': a version alone, with an empty value */
    comma = memchr(start, ',', (size_t) (p - start));

    entry->version = start;

    if (comma == NULL) {
        entry->version_len = (size_t) (p - start);
        entry->value = p;
        entry->value_len = 0;

    } else {
        entry->version_len = (size_t) (comma - start);
        entry->value = comma + 1;
        entry->value_len = (size_t) (p - comma - 1);
    }

    return 1;
}


/*
 * A "v1" entry whose value is strict padded base64 of exactly 32 bytes,
 * decoded into sig.  Returns 0, or -1 for any other entry.
 */

static int
pay_standard_decode_v1(const pay_standard_entry_t *entry, unsigned char *sig)
{
    size_t  len;

    if (entry->version_len != 2 || memcmp(entry->version, "v1", 2) != 0
        || entry->value_len != PAY_STANDARD_B64_LEN
        || pay_base64_decode((const char *) entry->value, entry->value_len,
                             sig, PAY_STANDARD_SIG_LEN, &len, 0)
           != 0
        || len != PAY_STANDARD_SIG_LEN)
    {
        return -1;
    }

    return 0;
}


/* 1..19 decimal digits, at most LLONG_MAX */

static int
pay_standard_parse_ts(const char *ts, size_t len, long long *t)
{
    size_t     i;
    long long  value, digit;

    if (len == 0 || len > PAY_STANDARD_TS_MAX) {
        return -1;
    }

    value = 0;

    for (i = 0; i < len; i++) {

        if (ts[i] < '0' || ts[i] > '9') {
            return -1;
        }

        digit = ts[i] - '0';

        if (value > (LLONG_MAX - digit) / 10) {
            return -1;
        }

        value = value * 10 + digit;
    }

    *t = value;

    return 0;
}


int
pay_standard_secret_decode(const char *secret, size_t len,
    unsigned char *key, size_t size, size_t *key_len)
{
    if (key == NULL) {
        return -1;
    }

    if (secret != NULL && len >= PAY_STANDARD_PREFIX_LEN
        && memcmp(secret, PAY_STANDARD_PREFIX, PAY_STANDARD_PREFIX_LEN) == 0)
    {
        secret += PAY_STANDARD_PREFIX_LEN;
        len -= PAY_STANDARD_PREFIX_LEN;
    }

    if (secret == NULL || len == 0
        || pay_base64_decode(secret, len, key, size, key_len, 1) != 0
        || *key_len == 0)
    {
        /* a failed decode may have written part of the secret */
        OPENSSL_cleanse(key, size);
        return -1;
    }

    return 0;
}


pay_rc_e
pay_standard_verify(const char *id, size_t id_len,
    const char *ts, size_t ts_len, const char *sig, size_t sig_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance)
{
    return pay_standard_verify_key(id, id_len, ts, ts_len, sig, sig_len,
                                   body, body_len, keys, nkeys, now,
                                   tolerance, NULL);
}


pay_rc_e
pay_standard_verify_key(const char *id, size_t id_len,
    const char *ts, size_t ts_len, const char *sig, size_t sig_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance, size_t *key)
{
    int                     matched, km[PAY_STANDARD_MAC_BATCH];
    size_t                  first, batch, i, v1_count, v1_valid, which;
    long long               t;
    pay_rc_e                rc;
    pay_iovec_t             parts[5];
    unsigned char           decoded[PAY_STANDARD_SIG_LEN];
    unsigned char           macs[PAY_STANDARD_MAC_BATCH]
                                [PAY_STANDARD_SIG_LEN];
    pay_standard_entry_t    entry;
    pay_standard_cursor_t   cursor;

    if (id == NULL || id_len == 0 || ts == NULL || ts_len == 0
        || sig == NULL || sig_len == 0)
    {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    if (pay_event_field_check(id, id_len) != 0
        || pay_standard_parse_ts(ts, ts_len, &t) != 0)
    {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    rc = pay_timestamp_check(t, now, tolerance);
    if (rc != PAY_OK) {
        return rc;
    }

    v1_count = 0;
    v1_valid = 0;

    pay_standard_cursor_init(&cursor, sig, sig_len);

    while (pay_standard_next_entry(&cursor, &entry)) {

        if (entry.version_len == 2 && memcmp(entry.version, "v1", 2) == 0) {
            v1_count++;

            if (pay_standard_decode_v1(&entry, decoded) == 0) {
                v1_valid++;
            }
        }
    }

    if (v1_count == 0) {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    if (v1_valid == 0) {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    if ((body == NULL && body_len != 0) || (keys == NULL && nkeys != 0)) {
        return PAY_ERR_INTERNAL;
    }

    pay_standard_message(parts, id, id_len, ts, ts_len, body, body_len);

    matched = 0;
    which = 0;
    rc = PAY_OK;

    for (first = 0; first < nkeys; first += batch) {

        batch = nkeys - first;
        if (batch > PAY_STANDARD_MAC_BATCH) {
            batch = PAY_STANDARD_MAC_BATCH;
        }

        for (i = 0; i < batch; i++) {

            if (keys[first + i] == NULL
                || pay_hmac_size(keys[first + i]) != PAY_STANDARD_SIG_LEN
                || pay_hmac_compute(keys[first + i], parts, 5, macs[i]) != 0)
            {
                rc = PAY_ERR_INTERNAL;
                goto done;
            }
        }

        /* every v1 against every MAC: which one matched is not timed */

        for (i = 0; i < batch; i++) {
            km[i] = 0;
        }

        pay_standard_cursor_init(&cursor, sig, sig_len);

        while (pay_standard_next_entry(&cursor, &entry)) {

            if (pay_standard_decode_v1(&entry, decoded) != 0) {
                continue;
            }

            for (i = 0; i < batch; i++) {
                km[i] |= pay_mem_equal(decoded, macs[i],
                                       PAY_STANDARD_SIG_LEN);
            }
        }

        /* the first configured key that matched, without a branch */
        for (i = 0; i < batch; i++) {
            matched |= km[i];
            which |= (size_t) (km[i] & (which == 0)) * (first + i + 1);
        }
    }

done:

    /* a MAC over attacker-chosen bytes is a forgery: leave none behind */
    OPENSSL_cleanse(macs, sizeof(macs));

    if (rc != PAY_OK) {
        return rc;
    }

    if (key != NULL) {
        *key = matched ? which : 0;
    }

    return matched ? PAY_OK : PAY_ERR_SIGNATURE_MISMATCH;
}


size_t
pay_standard_sign(const pay_hmac_key_t *key, const char *id, size_t id_len,
    const char *ts, size_t ts_len, const unsigned char *body,
    size_t body_len, char *out, size_t size)
{
    long long      t;
    size_t         len;
    pay_iovec_t    parts[5];
    unsigned char  mac[PAY_STANDARD_SIG_LEN];

    if (key == NULL || pay_hmac_size(key) != PAY_STANDARD_SIG_LEN
        || id == NULL || pay_event_field_check(id, id_len) != 0
        || ts == NULL || pay_standard_parse_ts(ts, ts_len, &t) != 0
        || out == NULL || (body == NULL && body_len != 0))
    {
        return 0;
    }

    len = 3 + pay_base64_encoded_len(PAY_STANDARD_SIG_LEN);
    if (size < len + 1) {
        return 0;
    }

    pay_standard_message(parts, id, id_len, ts, ts_len, body, body_len);

    if (pay_hmac_compute(key, parts, 5, mac) != 0) {
        return 0;
    }

    memcpy(out, "v1,", 3);
    pay_base64_encode(mac, PAY_STANDARD_SIG_LEN, out + 3);
    out[len] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return len;
}
