/*
 * Copyright (C) ngx_pay authors
 *
 * Stripe webhook signatures (docs/providers/stripe.md).
 *
 * The header is walked item by item with a cursor: no allocation, no copy,
 * no NUL termination assumed, every byte value allowed (a NUL is just a
 * byte that is neither a digit nor a hex digit).  Each byte is looked at a
 * bounded number of times, so the cost is linear in the header length
 * whatever its content (long values, many items).
 */


#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pay_stripe.h"
#include "pay_timestamp.h"


#define PAY_STRIPE_T_MAX_DIGITS  19
#define PAY_STRIPE_HEX_LEN       (2 * PAY_STRIPE_SIG_LEN)

/*
 * MACs computed before each rescan of the header in pay_stripe_verify():
 * with up to this many keys (every real configuration) the header is
 * parsed once and rescanned once.
 */
#define PAY_STRIPE_MAC_BATCH     8


typedef struct {
    const unsigned char  *pos;      /* start of the next item */
    const unsigned char  *end;
    int                   done;     /* the last item has been returned */
} pay_stripe_cursor_t;


typedef struct {
    const unsigned char  *key;
    size_t                key_len;
    const unsigned char  *value;
    size_t                value_len;
} pay_stripe_item_t;


static void pay_stripe_cursor_init(pay_stripe_cursor_t *c, const char *value,
    size_t len);
static int pay_stripe_next_item(pay_stripe_cursor_t *c,
    pay_stripe_item_t *item);
static int pay_stripe_item_is(const pay_stripe_item_t *item,
    const char *key, size_t len);
static int pay_stripe_parse_t(const unsigned char *p, size_t len,
    long long *t);
static int pay_stripe_decode_sig(const unsigned char *p, size_t len,
    unsigned char *sig);
static void pay_stripe_message(pay_iovec_t *parts, const char *t,
    size_t t_len, const unsigned char *body, size_t body_len);


/* what Stripe signs: <t> "." <raw body>, for verify and sign alike */

static void
pay_stripe_message(pay_iovec_t *parts, const char *t, size_t t_len,
    const unsigned char *body, size_t body_len)
{
    parts[0].data = t;
    parts[0].len = t_len;
    parts[1].data = ".";
    parts[1].len = 1;
    parts[2].data = body;
    parts[2].len = body_len;
}


static void
pay_stripe_cursor_init(pay_stripe_cursor_t *c, const char *value, size_t len)
{
    c->pos = (const unsigned char *) value;
    c->end = c->pos + len;
    c->done = 0;
}


/*
 * Returns 1 and fills item (value trimmed of SP/HTAB on both sides), 0 when
 * there is no item left, -1 when the item has no '=' or an empty key (this
 * includes an empty item: ",," or a trailing ',').  The caller has already
 * rejected a value that is empty or only whitespace, so the first call
 * always finds an item to look at.
 */

static int
pay_stripe_next_item(pay_stripe_cursor_t *c, pay_stripe_item_t *item)
{
    const unsigned char  *p, *end, *value, *last, *comma;

    if (c->done) {
        return 0;
    }

    p = c->pos;
    end = c->end;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    item->key = p;

    while (p < end && *p != '=' && *p != ',') {
        p++;
    }

    if (p == end || *p != '=' || p == item->key) {
        return -1;
    }

    item->key_len = (size_t) (p - item->key);

    value = p + 1;

    comma = memchr(value, ',', (size_t) (end - value));

    if (comma != NULL) {
        last = comma;
        c->pos = comma + 1;

    } else {
        last = end;
        c->pos = end;
        c->done = 1;
    }

    while (last > value && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    item->value = value;
    item->value_len = (size_t) (last - value);

    return 1;
}


static int
pay_stripe_item_is(const pay_stripe_item_t *item, const char *key,
    size_t len)
{
    return item->key_len == len && memcmp(item->key, key, len) == 0;
}


/* 1..19 digits, no sign, no leading zero except "0", fits a long long */

static int
pay_stripe_parse_t(const unsigned char *p, size_t len, long long *t)
{
    size_t     i;
    long long  value, digit;

    if (len == 0 || len > PAY_STRIPE_T_MAX_DIGITS) {
        return -1;
    }

    if (p[0] == '0' && len > 1) {
        return -1;
    }

    value = 0;

    for (i = 0; i < len; i++) {

        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        digit = p[i] - '0';

        if (value > (LLONG_MAX - digit) / 10) {
            return -1;
        }

        value = value * 10 + digit;
    }

    *t = value;

    return 0;
}


/*
 * A hex digit's value plus one, 0 for any other byte: a table, as the
 * digits of a signature are random and branches on them mispredict.
 */

static const unsigned char  pay_stripe_hex[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};


/*
 * Exactly 64 hex digits, either case, decoded into sig (or only checked
 * when sig is NULL).  Returns 0 or -1.
 */

static int
pay_stripe_decode_sig(const unsigned char *p, size_t len, unsigned char *sig)
{
    int     hi, lo, bad;
    size_t  i;

    if (len != PAY_STRIPE_HEX_LEN) {
        return -1;
    }

    bad = 0;

    for (i = 0; i < PAY_STRIPE_SIG_LEN; i++) {

        hi = pay_stripe_hex[p[2 * i]] - 1;
        lo = pay_stripe_hex[p[2 * i + 1]] - 1;

        bad |= hi | lo;     /* negative once a byte is not a digit */

        if (sig != NULL) {
            sig[i] = (unsigned char) ((unsigned) hi << 4 | (unsigned) lo);
        }
    }

    return (bad < 0) ? -1 : 0;
}


pay_rc_e
pay_stripe_header_parse(const char *value, size_t len,
    pay_stripe_header_t *h)
{
    int                   rc, have_t;
    size_t                i;
    pay_stripe_item_t     item;
    pay_stripe_cursor_t   cursor;

    memset(h, 0, sizeof(pay_stripe_header_t));

    if (value == NULL) {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    for (i = 0; i < len; i++) {
        if (value[i] != ' ' && value[i] != '\t') {
            break;
        }
    }

    if (i == len) {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    have_t = 0;

    pay_stripe_cursor_init(&cursor, value, len);

    for ( ;; ) {

        rc = pay_stripe_next_item(&cursor, &item);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return PAY_ERR_SIGNATURE_MALFORMED;
        }

        if (pay_stripe_item_is(&item, "t", 1)) {

            if (have_t
                || pay_stripe_parse_t(item.value, item.value_len, &h->t) != 0)
            {
                return PAY_ERR_SIGNATURE_MALFORMED;
            }

            have_t = 1;
            h->t_str = (const char *) item.value;
            h->t_len = item.value_len;

        } else if (pay_stripe_item_is(&item, "v1", 2)) {

            h->v1_count++;

            if (pay_stripe_decode_sig(item.value, item.value_len, NULL) == 0) {
                h->v1_valid++;
            }
        }

        /* v0 and unknown schemes are ignored */
    }

    /* the SDKs' order: no timestamp first, then no v1 */

    if (!have_t) {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    if (h->v1_count == 0) {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    if (h->v1_valid == 0) {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    return PAY_OK;
}


pay_rc_e
pay_stripe_verify(const char *value, size_t value_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance)
{
    return pay_stripe_verify_key(value, value_len, body, body_len, keys,
                                 nkeys, now, tolerance, NULL);
}


pay_rc_e
pay_stripe_verify_key(const char *value, size_t value_len,
    const unsigned char *body, size_t body_len,
    pay_hmac_key_t *const *keys, size_t nkeys,
    long long now, long long tolerance, size_t *key)
{
    int                   matched, km[PAY_STRIPE_MAC_BATCH];
    size_t                first, batch, i, which;
    pay_rc_e              rc;
    pay_iovec_t           parts[3];
    unsigned char         sig[PAY_STRIPE_SIG_LEN];
    unsigned char         macs[PAY_STRIPE_MAC_BATCH][PAY_STRIPE_SIG_LEN];
    pay_stripe_item_t     item;
    pay_stripe_cursor_t   cursor;
    pay_stripe_header_t   h;

    rc = pay_stripe_header_parse(value, value_len, &h);
    if (rc != PAY_OK) {
        return rc;
    }

    rc = pay_timestamp_check(h.t, now, tolerance);
    if (rc != PAY_OK) {
        return rc;
    }

    if ((body == NULL && body_len != 0) || (keys == NULL && nkeys != 0)) {
        return PAY_ERR_INTERNAL;
    }

    pay_stripe_message(parts, h.t_str, h.t_len, body, body_len);

    matched = 0;
    which = 0;
    rc = PAY_OK;

    for (first = 0; first < nkeys; first += batch) {

        batch = nkeys - first;
        if (batch > PAY_STRIPE_MAC_BATCH) {
            batch = PAY_STRIPE_MAC_BATCH;
        }

        for (i = 0; i < batch; i++) {

            if (keys[first + i] == NULL
                || pay_hmac_size(keys[first + i]) != PAY_STRIPE_SIG_LEN
                || pay_hmac_compute(keys[first + i], parts, 3, macs[i]) != 0)
            {
                rc = PAY_ERR_INTERNAL;
                goto done;
            }
        }

        /*
         * The header was validated above, so this walk sees the same items.
         * Every decoded v1 is compared with every MAC, without an early
         * exit: which one matched is not something to time.
         */

        for (i = 0; i < batch; i++) {
            km[i] = 0;
        }

        pay_stripe_cursor_init(&cursor, value, value_len);

        while (pay_stripe_next_item(&cursor, &item) == 1) {

            if (!pay_stripe_item_is(&item, "v1", 2)
                || pay_stripe_decode_sig(item.value, item.value_len, sig) != 0)
            {
                continue;
            }

            for (i = 0; i < batch; i++) {
                km[i] |= pay_mem_equal(sig, macs[i], PAY_STRIPE_SIG_LEN);
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
pay_stripe_sign(const pay_hmac_key_t *key, long long t,
    const unsigned char *body, size_t body_len, char *out, size_t size)
{
    int            n;
    char           ts[24];
    size_t         i, len;
    pay_iovec_t    parts[3];
    unsigned char  mac[PAY_STRIPE_SIG_LEN];

    static const char  hex[] = "0123456789abcdef";

    if (key == NULL || pay_hmac_size(key) != PAY_STRIPE_SIG_LEN || t < 0
        || out == NULL || (body == NULL && body_len != 0))
    {
        return 0;
    }

    n = snprintf(ts, sizeof(ts), "%lld", t);
    if (n <= 0 || (size_t) n >= sizeof(ts)) {
        return 0;
    }

    len = 2 + (size_t) n + 4 + PAY_STRIPE_HEX_LEN;
    if (size < len + 1) {
        return 0;
    }

    pay_stripe_message(parts, ts, (size_t) n, body, body_len);

    if (pay_hmac_compute(key, parts, 3, mac) != 0) {
        return 0;
    }

    memcpy(out, "t=", 2);
    memcpy(out + 2, ts, (size_t) n);
    memcpy(out + 2 + n, ",v1=", 4);

    for (i = 0; i < PAY_STRIPE_SIG_LEN; i++) {
        out[2 + n + 4 + 2 * i] = hex[mac[i] >> 4];
        out[2 + n + 4 + 2 * i + 1] = hex[mac[i] & 0xf];
    }

    out[len] = '\0';

    OPENSSL_cleanse(mac, sizeof(mac));

    return len;
}
