/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target: the PayPal parsers and builders of pay_paypal.c on
 * attacker-controlled input.  The input is split at its first five '\n'
 * into the five headers (id, time, sig, cert URL, algo) and the body;
 * each part is copied into a buffer of its exact size, so ASan sees any
 * read past one.  Then:
 *   pay_paypal_check_headers()   its result agrees with the parts it is
 *                                made of, and the path lies in the URL;
 *   pay_paypal_parse_time()      "Z" times of years 1970..9999 without a
 *                                fraction round-trip through gmtime_r();
 *   pay_paypal_message()         the exact concatenation;
 *   pay_paypal_verify_request()  within its bound, one JSON object whose
 *                                "webhook_event" is the body;
 *   pay_paypal_verify_response(), pay_paypal_token_parse()  on the body;
 *   pay_paypal_cert_validate()   on the body as a PEM response, at a
 *                                time nothing is valid: never accepted.
 * Invariants that do not hold abort().
 */


#define _POSIX_C_SOURCE  200809L

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pay_json.h"
#include "pay_paypal.h"


#define FUZZ_NOW    1722335343LL
#define FUZZ_PARTS  6


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static char *copy_part(const uint8_t *p, size_t len);
static void check_time(const char *s, size_t len);
static void check_url(const char *s, size_t len);
static void check_request(const pay_paypal_headers_t *h,
    const unsigned char *body, size_t len);
static void check_body(const unsigned char *body, size_t len);


static const char  *hosts[] = {
    "api.paypal.com", "api-m.paypal.com",
    "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"
};

static const size_t  host_lens[] = { 14, 16, 22, 24 };

static pay_paypal_trust_t  *trust;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    trust = pay_paypal_trust_new(NULL);
    if (trust == NULL) {
        abort();
    }

    return 0;
}


static char *
copy_part(const uint8_t *p, size_t len)
{
    char  *copy;

    copy = malloc(len + (len == 0));
    if (copy == NULL) {
        abort();
    }

    if (len != 0) {
        memcpy(copy, p, len);
    }

    return copy;
}


static void
check_time(const char *s, size_t len)
{
    size_t     i;
    char       buf[32];
    time_t     tt;
    struct tm  tm;
    long long  t;

    if (pay_paypal_parse_time(s, len, &t) != 0) {
        return;
    }

    if (len < 20 || len > PAY_PAYPAL_TIME_MAX + 200) {
        abort();
    }

    if (len != 20 || (s[19] != 'Z' && s[19] != 'z') || s[0] < '1'
        || (s[0] == '1' && s[1] < '9') || (s[0] == '1' && s[1] == '9'
                                           && s[2] < '7'))
    {
        return;
    }

    /* a leap second is the next second: not in gmtime_r()'s output */
    if (s[17] == '6') {
        return;
    }

    tt = (time_t) t;

    if (gmtime_r(&tt, &tm) == NULL) {
        abort();
    }

    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);

    for (i = 0; i < 20; i++) {
        if (buf[i] != s[i] && !(i == 10 && s[i] == 't')
            && !(i == 19 && s[i] == 'z'))
        {
            abort();
        }
    }
}


static void
check_url(const char *s, size_t len)
{
    char         canon[4096], again[4096];
    size_t       i, path_len, n;
    const char  *path;

    n = pay_paypal_cert_url_canonical(s, len, hosts, host_lens, 4, canon,
                                      sizeof(canon));

    if (pay_paypal_cert_url_check(s, len, hosts, host_lens, 4, &path,
                                  &path_len)
        != PAY_OK)
    {
        if (n != 0) {
            abort();
        }

        return;
    }

    /* an accepted URL's key: accepted, its own key, the same path */

    if (len <= sizeof(canon)) {
        if (n != len
            || pay_paypal_cert_url_canonical(canon, n, hosts, host_lens, 4,
                                             again, sizeof(again))
               != n
            || memcmp(canon, again, n) != 0
            || memcmp(canon + (path - s), path, path_len) != 0)
        {
            abort();
        }

        for (i = 0; s + i < path; i++) {
            if (canon[i] >= 'A' && canon[i] <= 'Z') {
                abort();
            }
        }
    }

    if (path < s || path + path_len != s + len || path_len < 25
        || path_len > 24 + PAY_PAYPAL_CERT_NAME_MAX
        || memcmp(path, "/v1/notifications/certs/", 24) != 0)
    {
        abort();
    }

    for (i = 24; i < path_len; i++) {
        if (path[i] == '/' || path[i] == '%' || path[i] == '?'
            || path[i] == '#' || (path[i] == '.' && path[i - 1] == '.'))
        {
            abort();
        }
    }

    for (i = 8; s + i < path; i++) {
        if (s[i] == '@' || s[i] == ':') {
            abort();
        }
    }
}


static void
check_request(const pay_paypal_headers_t *h, const unsigned char *body,
    size_t len)
{
    char               *out;
    size_t              bound, n, i;
    pay_json_member_t   m[7];

    bound = pay_paypal_verify_request_size(h, 10, len);
    if (bound == 0) {
        abort();
    }

    out = malloc(bound);
    if (out == NULL) {
        abort();
    }

    n = pay_paypal_verify_request(h, "WEBHOOK_ID", 10, body, len, out,
                                  bound);

    if (n == 0) {
        free(out);
        return;
    }

    if (n > bound) {
        abort();
    }

    m[0].name = "auth_algo";
    m[1].name = "cert_url";
    m[2].name = "transmission_id";
    m[3].name = "transmission_sig";
    m[4].name = "transmission_time";
    m[5].name = "webhook_id";
    m[6].name = "webhook_event";

    if (pay_json_scan_object((unsigned char *) out, n, m, 7) != 0) {
        abort();
    }

    for (i = 0; i < 6; i++) {
        if (m[i].type != PAY_JSON_STRING) {
            abort();
        }
    }

    /* the event is the body, verbatim, and ends the document */
    if (m[6].type != PAY_JSON_OBJECT
        || memcmp(out + n - 1 - len, body, len) != 0
        || (const char *) m[6].value < out + n - 1 - len
        || (const char *) m[6].value + m[6].len > out + n - 1)
    {
        abort();
    }

    free(out);
}


static void
check_body(const unsigned char *body, size_t len)
{
    char            token[64];
    size_t          token_len, i, der_len;
    pay_rc_e        rc;
    long long       expires, not_after;
    const char     *reason;
    unsigned char  *der;

    rc = pay_paypal_verify_response(body, len);

    if (rc != PAY_OK && rc != PAY_ERR_SIGNATURE_MISMATCH
        && rc != PAY_ERR_INTERNAL)
    {
        abort();
    }

    if (pay_paypal_token_parse(body, len, token, sizeof(token), &token_len,
                               &expires)
        == 0)
    {
        if (token_len == 0 || token_len >= sizeof(token)
            || token[token_len] != '\0' || expires <= 0)
        {
            abort();
        }

        for (i = 0; i < token_len; i++) {
            if (token[i] < 0x21 || token[i] > 0x7e) {
                abort();
            }
        }
    }

    /*
     * The system roots, at 1970-01-01: even a real PayPal chain in the
     * input is not valid yet, so nothing may pass.
     */
    rc = pay_paypal_cert_validate(trust, body, len, 0, &der, &der_len,
                                  &not_after, &reason);

    if (rc != PAY_ERR_CERT_UNTRUSTED || reason == NULL) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  *parts[FUZZ_PARTS], *msg;
    size_t                 lens[FUZZ_PARTS], i, sig_len, path_len, n, need;
    pay_rc_e               rc;
    const char            *path;
    const uint8_t         *p, *end, *nl;
    unsigned char          sig[PAY_PAYPAL_SIG_MAX];
    pay_paypal_headers_t   h;

    p = data;
    end = data + size;

    for (i = 0; i < FUZZ_PARTS; i++) {
        nl = (i < FUZZ_PARTS - 1) ? memchr(p, '\n', (size_t) (end - p))
                                  : NULL;
        lens[i] = (nl != NULL) ? (size_t) (nl - p) : (size_t) (end - p);
        parts[i] = copy_part(p, lens[i]);
        p = (nl != NULL) ? nl + 1 : end;
    }

    h.id = parts[0];
    h.id_len = lens[0];
    h.time = parts[1];
    h.time_len = lens[1];
    h.sig = parts[2];
    h.sig_len = lens[2];
    h.cert_url = parts[3];
    h.cert_url_len = lens[3];
    h.algo = parts[4];
    h.algo_len = lens[4];

    rc = pay_paypal_check_headers(&h, hosts, host_lens, 4, FUZZ_NOW, 300,
                                  sig, &sig_len, &path, &path_len);

    if (rc == PAY_OK) {
        if (sig_len == 0 || sig_len > 375
            || pay_paypal_cert_url_check(h.cert_url, h.cert_url_len, hosts,
                                         host_lens, 4, NULL, NULL)
               != PAY_OK
            || h.algo_len != 13 || memcmp(h.algo, "SHA256withRSA", 13) != 0
            || path < h.cert_url
            || path + path_len != h.cert_url + h.cert_url_len)
        {
            abort();
        }

    } else if (rc == PAY_ERR_SIGNATURE_MISSING) {
        for (i = 0; i < 5; i++) {
            if (lens[i] == 0) {
                break;
            }
        }

        if (i == 5) {
            abort();
        }

    } else if (rc != PAY_ERR_SIGNATURE_MALFORMED
               && rc != PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE
               && rc != PAY_ERR_CERT_URL_REJECTED)
    {
        abort();
    }

    check_time(h.time, h.time_len);
    check_url(h.cert_url, h.cert_url_len);

    /* the message: the exact concatenation, or 0 when it does not fit */
    need = h.id_len + h.time_len + 10 + 3 + 10;
    msg = malloc(need);
    if (msg == NULL) {
        abort();
    }

    n = pay_paypal_message(&h, "WEBHOOK_ID", 10, (uint32_t) size, msg, need);

    if (n == 0 || n > need || memcmp(msg, h.id, h.id_len) != 0
        || msg[h.id_len] != '|'
        || memcmp(msg + h.id_len + 1, h.time, h.time_len) != 0)
    {
        abort();
    }

    if (n > 1 && pay_paypal_message(&h, "WEBHOOK_ID", 10, (uint32_t) size,
                                    msg, n - 1)
                 != 0)
    {
        abort();
    }

    free(msg);

    check_request(&h, (unsigned char *) parts[5], lens[5]);
    check_body((unsigned char *) parts[5], lens[5]);

    for (i = 0; i < FUZZ_PARTS; i++) {
        free(parts[i]);
    }

    return 0;
}
