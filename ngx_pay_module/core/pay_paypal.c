/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhook verification (docs/providers/paypal.md).
 *
 * The cert URL comes from a request header, so it is held to an exact
 * allow-list before the glue fetches anything (SSRF).  The certificate is
 * checked as the SDKs do, and more strictly: full chain to a configured
 * root, dates at a given time, exact names, RSA key size.  OpenSSL errors
 * are expected on hostile input: the error queue is cleared before
 * returning, so that nginx's own TLS error reporting never sees ours.
 */


#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pay_base64.h"
#include "pay_json.h"
#include "pay_paypal.h"
#include "pay_timestamp.h"


#define PAY_PAYPAL_ALGO          "SHA256withRSA"
#define PAY_PAYPAL_CERT_PREFIX   "/v1/notifications/certs/"
#define PAY_PAYPAL_SCHEME        "https://"

/* certificates after the leaf in a fetched response */
#define PAY_PAYPAL_CHAIN_MAX     8

/* the longest verification_status worth decoding ("SUCCESS", "FAILURE") */
#define PAY_PAYPAL_STATUS_MAX    16

#define PAY_PAYPAL_EXPIRES_DIGITS_MAX  18

#define pay_paypal_literal(s)    (s), (sizeof(s) - 1)


struct pay_paypal_trust_s {
    X509_STORE  *store;
};


typedef struct {
    char    *pos;
    char    *end;
    int      failed;    /* something did not fit or was refused */
} pay_paypal_writer_t;


static int pay_paypal_is_digit(char c);
static int pay_paypal_lower(int c);
static int pay_paypal_caseeq(const char *a, const char *b, size_t len);
static long long pay_paypal_days_from_civil(long long year, int month,
    int day);
static int pay_paypal_days_in_month(long long year, int month);
static int pay_paypal_cert_name_ok(const char *p, size_t len);
static size_t pay_paypal_add(size_t a, size_t b);
static int pay_paypal_no_password(char *buf, int size, int rwflag,
    void *data);
static const char *pay_paypal_chain_reason(int error);
static int pay_paypal_read_pem(const unsigned char *pem, size_t pem_len,
    X509 **leaf, STACK_OF(X509) **chain);
static int pay_paypal_name_ok(X509 *leaf);
static int pay_paypal_key_ok(EVP_PKEY *pkey);
static int pay_paypal_asn1_time(const ASN1_TIME *at, long long *t);
static int pay_paypal_digest_part(EVP_MD_CTX *md, char tag,
    const unsigned char *data, size_t len);
static void pay_paypal_put(pay_paypal_writer_t *w, const char *s,
    size_t len);
static void pay_paypal_put_string(pay_paypal_writer_t *w, const char *s,
    size_t len);
static void pay_paypal_put_member(pay_paypal_writer_t *w, const char *name,
    size_t name_len, const char *value, size_t value_len);


/* the names a PayPal message verification certificate may carry */

static const char  *pay_paypal_cert_names[] = {
    "messageverificationcerts.paypal.com",
    "messageverificationcerts.sandbox.paypal.com"
};


/* helpers */


static int
pay_paypal_is_digit(char c)
{
    return c >= '0' && c <= '9';
}


/* ASCII only: the C library's tolower() follows the locale */

static int
pay_paypal_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}


static int
pay_paypal_caseeq(const char *a, const char *b, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (pay_paypal_lower((unsigned char) a[i])
            != pay_paypal_lower((unsigned char) b[i]))
        {
            return 0;
        }
    }

    return 1;
}


static int
pay_paypal_days_in_month(long long year, int month)
{
    static const int  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (month == 2
        && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
    {
        return 29;
    }

    return days[month - 1];
}


/*
 * Days from 1970-01-01 to year-month-day (proleptic Gregorian), for
 * years 0..9999.  The year is shifted by 400 (146097 days exactly) so that
 * the divisions only ever see positive numbers.
 */

static long long
pay_paypal_days_from_civil(long long year, int month, int day)
{
    int        m;
    long long  y, days;

    y = year + 400 - 1;
    days = 365 * y + y / 4 - y / 100 + y / 400;

    for (m = 1; m < month; m++) {
        days += pay_paypal_days_in_month(year, m);
    }

    days += day - 1;

    /* the same count for 1970-01-01 */
    y = 1970 + 400 - 1;

    return days - (365 * y + y / 4 - y / 100 + y / 400);
}


/* 1..PAY_PAYPAL_CERT_NAME_MAX of [A-Za-z0-9._-], no leading '.', no ".." */

static int
pay_paypal_cert_name_ok(const char *p, size_t len)
{
    char    c;
    size_t  i;

    if (len == 0 || len > PAY_PAYPAL_CERT_NAME_MAX || p[0] == '.') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = p[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || pay_paypal_is_digit(c) || c == '-' || c == '_')
        {
            continue;
        }

        if (c == '.' && p[i - 1] != '.') {
            continue;
        }

        return 0;
    }

    return 1;
}


/* a + b, or SIZE_MAX when it overflows (which no caller can then fit) */

static size_t
pay_paypal_add(size_t a, size_t b)
{
    return (a > (size_t) -1 - b) ? (size_t) -1 : a + b;
}


/* PEM headers may ask for a password: never prompt a worker's terminal */

static int
pay_paypal_no_password(char *buf, int size, int rwflag, void *data)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) data;

    return -1;
}


static const char *
pay_paypal_chain_reason(int error)
{
    switch (error) {

    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "expired";

    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "not yet valid";

    default:
        return "chain";
    }
}


/*
 * The leaf and up to PAY_PAYPAL_CHAIN_MAX more certificates.  Returns 0
 * with *leaf and *chain (possibly empty) set, or -1 with nothing to free.
 */

static int
pay_paypal_read_pem(const unsigned char *pem, size_t pem_len, X509 **leaf,
    STACK_OF(X509) **chain)
{
    BIO             *bio;
    X509            *cert, *next;
    unsigned long    err;
    STACK_OF(X509)  *certs;

    *leaf = NULL;
    *chain = NULL;

    if (pem_len == 0 || pem_len > INT_MAX) {
        return -1;
    }

    bio = BIO_new_mem_buf(pem, (int) pem_len);
    if (bio == NULL) {
        return -1;
    }

    cert = NULL;

    certs = sk_X509_new_null();
    if (certs == NULL) {
        goto failed;
    }

    /* PEM_read_bio_X509, not the _AUX one: a response sets no trust */
    cert = PEM_read_bio_X509(bio, NULL, pay_paypal_no_password, NULL);
    if (cert == NULL) {
        goto failed;
    }

    for ( ;; ) {
        ERR_clear_error();

        next = PEM_read_bio_X509(bio, NULL, pay_paypal_no_password, NULL);

        if (next == NULL) {
            err = ERR_peek_last_error();

            /* the end of the input, not a broken block */
            if (ERR_GET_LIB(err) == ERR_LIB_PEM
                && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)
            {
                break;
            }

            goto failed;
        }

        if (sk_X509_num(certs) == PAY_PAYPAL_CHAIN_MAX
            || !sk_X509_push(certs, next))
        {
            X509_free(next);
            goto failed;
        }
    }

    BIO_free(bio);
    ERR_clear_error();

    *leaf = cert;
    *chain = certs;

    return 0;

failed:

    X509_free(cert);
    sk_X509_pop_free(certs, X509_free);
    BIO_free(bio);
    ERR_clear_error();

    return -1;
}


static int
pay_paypal_name_ok(X509 *leaf)
{
    size_t       i;
    const char  *name;

    for (i = 0; i < sizeof(pay_paypal_cert_names) / sizeof(char *); i++) {
        name = pay_paypal_cert_names[i];

        if (X509_check_host(leaf, name, strlen(name),
                            X509_CHECK_FLAG_NO_WILDCARDS, NULL)
            == 1)
        {
            return 1;
        }
    }

    return 0;
}


static int
pay_paypal_key_ok(EVP_PKEY *pkey)
{
    int  bits;

    if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        return 0;
    }

    bits = EVP_PKEY_get_bits(pkey);

    return bits >= PAY_PAYPAL_KEY_BITS_MIN && bits <= PAY_PAYPAL_KEY_BITS_MAX;
}


static int
pay_paypal_asn1_time(const ASN1_TIME *at, long long *t)
{
    struct tm  tm;

    memset(&tm, 0, sizeof(struct tm));

    if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1
        || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
    {
        return -1;
    }

    *t = pay_paypal_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
                                    tm.tm_mday) * 86400
         + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;

    return 0;
}


static void
pay_paypal_put(pay_paypal_writer_t *w, const char *s, size_t len)
{
    if (w->failed || (size_t) (w->end - w->pos) < len) {
        w->failed = 1;
        return;
    }

    memcpy(w->pos, s, len);
    w->pos += len;
}


/* a JSON string of visible ASCII: '"' and '\' escaped, the rest refused */

static void
pay_paypal_put_string(pay_paypal_writer_t *w, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    pay_paypal_put(w, "\"", 1);

    for (i = 0; i < len && !w->failed; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c > 0x7e) {
            w->failed = 1;
            return;
        }

        if (c == '"' || c == '\\') {
            pay_paypal_put(w, "\\", 1);
        }

        pay_paypal_put(w, &s[i], 1);
    }

    pay_paypal_put(w, "\"", 1);
}


static void
pay_paypal_put_member(pay_paypal_writer_t *w, const char *name,
    size_t name_len, const char *value, size_t value_len)
{
    pay_paypal_put(w, name, name_len);
    pay_paypal_put_string(w, value, value_len);
}


/* offline mode */


/* PayPal-Transmission-Time is RFC 3339, like Square's created_at */

int
pay_paypal_parse_time(const char *s, size_t len, long long *t)
{
    return pay_timestamp_rfc3339(s, len, t);
}


pay_rc_e
pay_paypal_cert_url_check(const char *url, size_t len,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    const char **path, size_t *path_len)
{
    size_t       i, scheme_len, prefix_len, host_len;
    const char  *host, *p, *end;

    scheme_len = sizeof(PAY_PAYPAL_SCHEME) - 1;
    prefix_len = sizeof(PAY_PAYPAL_CERT_PREFIX) - 1;

    if (url == NULL || len < scheme_len
        || !pay_paypal_caseeq(url, PAY_PAYPAL_SCHEME, scheme_len))
    {
        return PAY_ERR_CERT_URL_REJECTED;
    }

    host = url + scheme_len;
    end = url + len;

    /*
     * The authority ends at the first '/'.  Whatever else it holds ('@',
     * ':', '?', '#', '%', a trailing dot) makes it differ from every
     * allowed host, so the exact comparison below refuses it.
     */

    for (p = host; p < end && *p != '/'; p++) {
        /* void */
    }

    host_len = (size_t) (p - host);

    if (host_len == 0 || hosts == NULL || host_lens == NULL) {
        return PAY_ERR_CERT_URL_REJECTED;
    }

    for (i = 0; i < nhosts; i++) {
        if (hosts[i] != NULL && host_lens[i] == host_len
            && pay_paypal_caseeq(host, hosts[i], host_len))
        {
            break;
        }
    }

    if (i == nhosts) {
        return PAY_ERR_CERT_URL_REJECTED;
    }

    /* the path: the fixed prefix and one plain name, nothing after */

    if ((size_t) (end - p) < prefix_len
        || memcmp(p, PAY_PAYPAL_CERT_PREFIX, prefix_len) != 0
        || !pay_paypal_cert_name_ok(p + prefix_len,
                                    (size_t) (end - p) - prefix_len))
    {
        return PAY_ERR_CERT_URL_REJECTED;
    }

    if (path != NULL) {
        *path = p;
    }

    if (path_len != NULL) {
        *path_len = (size_t) (end - p);
    }

    return PAY_OK;
}


size_t
pay_paypal_cert_url_canonical(const char *url, size_t len,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    char *out, size_t size)
{
    size_t       i, path_len, scheme_len;
    const char  *path;

    if (out == NULL
        || pay_paypal_cert_url_check(url, len, hosts, host_lens, nhosts,
                                     &path, &path_len)
           != PAY_OK
        || len > size)
    {
        return 0;
    }

    /* accepted: the scheme, one allowed host, then the path */

    scheme_len = sizeof(PAY_PAYPAL_SCHEME) - 1;

    memcpy(out, PAY_PAYPAL_SCHEME, scheme_len);

    for (i = scheme_len; url + i < path; i++) {
        out[i] = (char) pay_paypal_lower((unsigned char) url[i]);
    }

    memcpy(out + i, path, path_len);

    return len;
}


int
pay_paypal_policy_id(pay_paypal_trust_t *trust,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    const char *location, size_t location_len, unsigned char *id)
{
    int                    n, i, len, ok;
    char                   lower[64];
    size_t                 k, j, m, chunk;
    X509                  *x;
    unsigned char         *der, *p;
    EVP_MD_CTX            *md;
    STACK_OF(X509_OBJECT) *objs;

    if (id == NULL || (nhosts > 0 && (hosts == NULL || host_lens == NULL))
        || (location == NULL && location_len > 0))
    {
        return -1;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);

    objs = (trust != NULL) ? X509_STORE_get0_objects(trust->store) : NULL;
    n = (objs != NULL) ? sk_X509_OBJECT_num(objs) : 0;

    for (i = 0; ok && i < n; i++) {
        x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

        if (x == NULL) {
            /* a CRL: not a trust anchor */
            continue;
        }

        len = i2d_X509(x, NULL);
        der = (len > 0) ? OPENSSL_malloc((size_t) len) : NULL;

        if (der == NULL) {
            ok = 0;
            break;
        }

        p = der;
        ok = i2d_X509(x, &p) == len
             && pay_paypal_digest_part(md, 'T', der, (size_t) len);

        OPENSSL_free(der);
    }

    for (k = 0; ok && k < nhosts; k++) {
        ok = pay_paypal_digest_part(md, 'H', NULL, host_lens[k]);

        /* the hosts compare without case: so do policies */

        for (j = 0; ok && j < host_lens[k]; j += chunk) {
            chunk = host_lens[k] - j;

            if (chunk > sizeof(lower)) {
                chunk = sizeof(lower);
            }

            for (m = 0; m < chunk; m++) {
                lower[m] = (char) pay_paypal_lower(
                                      (unsigned char) hosts[k][j + m]);
            }

            ok = EVP_DigestUpdate(md, lower, chunk);
        }
    }

    ok = ok
         && pay_paypal_digest_part(md, 'L', (const unsigned char *) location,
                                   location_len)
         && EVP_DigestFinal_ex(md, id, NULL);

    EVP_MD_CTX_free(md);

    if (!ok) {
        ERR_clear_error();
        return -1;
    }

    return 0;
}


/*
 * One part of a policy id: its tag, its length (8 bytes, big-endian),
 * then data unless it is NULL (the caller then feeds the bytes itself).
 */

static int
pay_paypal_digest_part(EVP_MD_CTX *md, char tag, const unsigned char *data,
    size_t len)
{
    int            i;
    size_t         n;
    unsigned char  head[9];

    head[0] = (unsigned char) tag;
    n = len;

    for (i = 8; i > 0; i--) {
        head[i] = (unsigned char) (n & 0xff);
        n >>= 8;
    }

    if (!EVP_DigestUpdate(md, head, sizeof(head))) {
        return 0;
    }

    if (data == NULL || len == 0) {
        return 1;
    }

    return EVP_DigestUpdate(md, data, len) ? 1 : 0;
}


pay_rc_e
pay_paypal_check_headers(const pay_paypal_headers_t *h,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    long long now, long long tolerance,
    unsigned char *sig_out, size_t *sig_len_out,
    const char **path, size_t *path_len)
{
    size_t     i;
    pay_rc_e   rc;
    long long  t;

    if (h == NULL || sig_out == NULL || sig_len_out == NULL) {
        return PAY_ERR_INTERNAL;
    }

    if (h->id == NULL || h->id_len == 0
        || h->time == NULL || h->time_len == 0
        || h->sig == NULL || h->sig_len == 0
        || h->cert_url == NULL || h->cert_url_len == 0
        || h->algo == NULL || h->algo_len == 0)
    {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    if (h->id_len > PAY_PAYPAL_ID_MAX
        || h->time_len > PAY_PAYPAL_TIME_MAX
        || h->sig_len > PAY_PAYPAL_SIG_B64_MAX
        || h->cert_url_len > PAY_PAYPAL_CERT_URL_MAX
        || h->algo_len > PAY_PAYPAL_ALGO_MAX)
    {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    for (i = 0; i < h->id_len; i++) {
        if ((unsigned char) h->id[i] < 0x21
            || (unsigned char) h->id[i] > 0x7e)
        {
            return PAY_ERR_SIGNATURE_MALFORMED;
        }
    }

    if (pay_paypal_parse_time(h->time, h->time_len, &t) != 0) {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    /* 500 base64 characters decode to at most 375 bytes: always fits */
    if (pay_base64_decode(h->sig, h->sig_len, sig_out, PAY_PAYPAL_SIG_MAX,
                          sig_len_out, 0)
        != 0)
    {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    /* SHA1withRSA and any other algorithm: refused, not downgraded to */
    if (h->algo_len != sizeof(PAY_PAYPAL_ALGO) - 1
        || memcmp(h->algo, PAY_PAYPAL_ALGO, h->algo_len) != 0)
    {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    rc = pay_timestamp_check(t, now, tolerance);
    if (rc != PAY_OK) {
        return rc;
    }

    return pay_paypal_cert_url_check(h->cert_url, h->cert_url_len, hosts,
                                     host_lens, nhosts, path, path_len);
}


size_t
pay_paypal_binding_key(const char *webhook_id, size_t webhook_id_len,
    const char *id, size_t id_len, char *out, size_t size)
{
    int     n;
    char    num[24];
    size_t  len;

    if (webhook_id == NULL || id == NULL || out == NULL
        || webhook_id_len == 0 || id_len == 0
        || webhook_id_len > PAY_PAYPAL_WEBHOOK_ID_MAX
        || id_len > PAY_PAYPAL_ID_MAX)
    {
        return 0;
    }

    n = snprintf(num, sizeof(num), "%zu", webhook_id_len);
    if (n <= 0 || (size_t) n >= sizeof(num)) {
        return 0;
    }

    len = sizeof("paypal:transmission:") - 1 + (size_t) n + 1
          + webhook_id_len + 1 + id_len;

    if (len > size) {
        return 0;
    }

    memcpy(out, "paypal:transmission:", sizeof("paypal:transmission:") - 1);
    len = sizeof("paypal:transmission:") - 1;
    memcpy(out + len, num, (size_t) n);
    len += (size_t) n;
    out[len++] = ':';
    memcpy(out + len, webhook_id, webhook_id_len);
    len += webhook_id_len;
    out[len++] = ':';
    memcpy(out + len, id, id_len);

    return len + id_len;
}


int
pay_paypal_binding_token(const unsigned char *body, size_t len,
    char out[PAY_PAYPAL_BINDING_TOKEN_LEN + 1])
{
    size_t          i;
    unsigned char   digest[EVP_MAX_MD_SIZE];
    unsigned int    n;

    static const char  hex[] = "0123456789abcdef";

    if (out == NULL || (body == NULL && len != 0)) {
        return -1;
    }

    if (!EVP_Digest(len ? body : (const unsigned char *) "", len, digest,
                    &n, EVP_sha256(), NULL)
        || n * 2 != PAY_PAYPAL_BINDING_TOKEN_LEN)
    {
        return -1;
    }

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0x0f];
    }

    out[PAY_PAYPAL_BINDING_TOKEN_LEN] = '\0';

    return 0;
}


pay_rc_e
pay_paypal_binding_ttl(long long t, long long tolerance, long long now,
    long long *ttl)
{
    if (ttl == NULL) {
        return PAY_ERR_INTERNAL;
    }

    /* the window caps t near now, so t + tolerance cannot overflow */

    if (tolerance <= 0
        || pay_timestamp_check(t, now, tolerance) != PAY_OK
        || tolerance > LLONG_MAX / 4
        || now > LLONG_MAX / 4 || now < LLONG_MIN / 4)
    {
        return PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE;
    }

    *ttl = t + tolerance + PAY_PAYPAL_BINDING_MARGIN - now;

    if (*ttl < PAY_PAYPAL_BINDING_MARGIN) {
        *ttl = PAY_PAYPAL_BINDING_MARGIN;
    }

    return PAY_OK;
}


size_t
pay_paypal_message(const pay_paypal_headers_t *h,
    const char *webhook_id, size_t webhook_id_len, uint32_t crc,
    char *out, size_t size)
{
    char                 digits[10], *p;
    size_t               n;
    pay_paypal_writer_t  w;

    if (h == NULL || out == NULL || h->id == NULL || h->time == NULL
        || (webhook_id == NULL && webhook_id_len != 0))
    {
        return 0;
    }

    /* the unsigned decimal of crc, written backwards */
    p = digits + sizeof(digits);

    do {
        *--p = (char) ('0' + crc % 10);
        crc /= 10;
    } while (crc != 0);

    n = (size_t) (digits + sizeof(digits) - p);

    w.pos = out;
    w.end = out + size;
    w.failed = 0;

    pay_paypal_put(&w, h->id, h->id_len);
    pay_paypal_put(&w, "|", 1);
    pay_paypal_put(&w, h->time, h->time_len);
    pay_paypal_put(&w, "|", 1);
    pay_paypal_put(&w, webhook_id, webhook_id_len);
    pay_paypal_put(&w, "|", 1);
    pay_paypal_put(&w, p, n);

    return w.failed ? 0 : (size_t) (w.pos - out);
}


pay_paypal_trust_t *
pay_paypal_trust_new(const char *cafile)
{
    int                  ok;
    pay_paypal_trust_t  *trust;

    trust = malloc(sizeof(pay_paypal_trust_t));
    if (trust == NULL) {
        return NULL;
    }

    trust->store = X509_STORE_new();
    if (trust->store == NULL) {
        free(trust);
        return NULL;
    }

    /*
     * The system bundle is loaded as a file, now: the default paths would
     * also add the hashed directory, which OpenSSL reads lazily, from disk,
     * in the middle of a verification in a worker.
     */

    if (cafile == NULL) {
        cafile = X509_get_default_cert_file();
    }

    /* a file that loads but holds no certificate trusts nothing */
    ok = X509_STORE_load_file(trust->store, cafile)
         && sk_X509_OBJECT_num(X509_STORE_get0_objects(trust->store)) > 0;

    if (!ok) {
        ERR_clear_error();
        pay_paypal_trust_free(trust);
        return NULL;
    }

    return trust;
}


void
pay_paypal_trust_free(pay_paypal_trust_t *trust)
{
    if (trust == NULL) {
        return;
    }

    X509_STORE_free(trust->store);
    free(trust);
}


pay_rc_e
pay_paypal_cert_validate(pay_paypal_trust_t *trust,
    const unsigned char *pem, size_t pem_len, long long now,
    unsigned char **der, size_t *der_len, long long *not_after,
    const char **reason)
{
    int              len;
    X509            *leaf;
    pay_rc_e         rc;
    EVP_PKEY        *pkey;
    long long        expiry;
    const char      *why;
    unsigned char   *buf, *p;
    X509_STORE_CTX  *ctx;
    STACK_OF(X509)  *chain;

    leaf = NULL;
    chain = NULL;
    ctx = NULL;
    buf = NULL;

    rc = PAY_ERR_CERT_UNTRUSTED;

    if (trust == NULL || der == NULL || der_len == NULL || not_after == NULL
        || (pem == NULL && pem_len != 0))
    {
        rc = PAY_ERR_INTERNAL;
        why = "internal";
        goto done;
    }

    if (pay_paypal_read_pem(pem, pem_len, &leaf, &chain) != 0) {
        why = "pem";
        goto done;
    }

    ctx = X509_STORE_CTX_new();
    if (ctx == NULL
        || !X509_STORE_CTX_init(ctx, trust->store, leaf, chain))
    {
        rc = PAY_ERR_INTERNAL;
        why = "internal";
        goto done;
    }

    /* the caller's clock, not time(): tests verify years-old vectors */
    X509_STORE_CTX_set_time(ctx, 0, (time_t) now);

    if (X509_verify_cert(ctx) != 1) {
        why = pay_paypal_chain_reason(X509_STORE_CTX_get_error(ctx));
        goto done;
    }

    if (!pay_paypal_name_ok(leaf)) {
        why = "name";
        goto done;
    }

    pkey = X509_get0_pubkey(leaf);

    if (!pay_paypal_key_ok(pkey)) {
        why = "key";
        goto done;
    }

    if (pay_paypal_asn1_time(X509_get0_notAfter(leaf), &expiry) != 0) {
        why = "chain";
        goto done;
    }

    len = i2d_PUBKEY(pkey, NULL);
    if (len <= 0) {
        rc = PAY_ERR_INTERNAL;
        why = "internal";
        goto done;
    }

    buf = malloc((size_t) len);
    p = buf;

    if (buf == NULL || i2d_PUBKEY(pkey, &p) != len) {
        free(buf);
        buf = NULL;
        rc = PAY_ERR_INTERNAL;
        why = "internal";
        goto done;
    }

    *der = buf;
    *der_len = (size_t) len;
    *not_after = expiry;

    rc = PAY_OK;
    why = NULL;

done:

    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    ERR_clear_error();

    if (reason != NULL) {
        *reason = why;
    }

    return rc;
}


void
pay_paypal_free(void *p)
{
    free(p);
}


pay_rc_e
pay_paypal_verify_signature(const unsigned char *der, size_t der_len,
    const unsigned char *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len)
{
    pay_rc_e              rc;
    EVP_PKEY             *pkey;
    EVP_MD_CTX           *md;
    EVP_PKEY_CTX         *pctx;
    const unsigned char  *p;

    if (der == NULL || der_len == 0 || der_len > LONG_MAX
        || (msg == NULL && msg_len != 0))
    {
        return PAY_ERR_INTERNAL;
    }

    if (sig == NULL || sig_len == 0 || sig_len > PAY_PAYPAL_SIG_MAX) {
        return PAY_ERR_SIGNATURE_MISMATCH;
    }

    md = NULL;

    p = der;
    pkey = d2i_PUBKEY(NULL, &p, (long) der_len);

    if (pkey == NULL || p != der + der_len
        || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
    {
        rc = PAY_ERR_INTERNAL;
        goto done;
    }

    md = EVP_MD_CTX_new();

    if (md == NULL
        || EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
    {
        rc = PAY_ERR_INTERNAL;
        goto done;
    }

    /* 0 is a bad signature, < 0 one that is not even well formed */
    rc = (EVP_DigestVerify(md, sig, sig_len, msg, msg_len) == 1)
         ? PAY_OK : PAY_ERR_SIGNATURE_MISMATCH;

done:

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    ERR_clear_error();

    return rc;
}


/* API mode */


size_t
pay_paypal_verify_request_size(const pay_paypal_headers_t *h,
    size_t webhook_id_len, size_t body_len)
{
    size_t  n, strings[6], i;

    if (h == NULL) {
        return 0;
    }

    /* the fixed text of pay_paypal_verify_request(), quotes included */
    n = sizeof("{\"auth_algo\":\"\",\"cert_url\":\"\","
               "\"transmission_id\":\"\",\"transmission_sig\":\"\","
               "\"transmission_time\":\"\",\"webhook_id\":\"\","
               "\"webhook_event\":}") - 1;

    strings[0] = h->algo_len;
    strings[1] = h->cert_url_len;
    strings[2] = h->id_len;
    strings[3] = h->sig_len;
    strings[4] = h->time_len;
    strings[5] = webhook_id_len;

    /* each escaped byte takes two */
    for (i = 0; i < 6; i++) {
        n = pay_paypal_add(n, strings[i]);
        n = pay_paypal_add(n, strings[i]);
    }

    n = pay_paypal_add(n, body_len);

    return (n == (size_t) -1) ? 0 : n;
}


size_t
pay_paypal_verify_request(const pay_paypal_headers_t *h,
    const char *webhook_id, size_t webhook_id_len,
    const unsigned char *body, size_t body_len, char *out, size_t size)
{
    pay_paypal_writer_t  w;

    if (h == NULL || out == NULL || body == NULL
        || h->algo == NULL || h->cert_url == NULL || h->id == NULL
        || h->sig == NULL || h->time == NULL
        || (webhook_id == NULL && webhook_id_len != 0))
    {
        return 0;
    }

    /* one whole object: nothing in the body can close ours early */
    if (pay_json_scan_object(body, body_len, NULL, 0) != 0) {
        return 0;
    }

    w.pos = out;
    w.end = out + size;
    w.failed = 0;

    pay_paypal_put_member(&w, pay_paypal_literal("{\"auth_algo\":"),
                          h->algo, h->algo_len);
    pay_paypal_put_member(&w, pay_paypal_literal(",\"cert_url\":"),
                          h->cert_url, h->cert_url_len);
    pay_paypal_put_member(&w, pay_paypal_literal(",\"transmission_id\":"),
                          h->id, h->id_len);
    pay_paypal_put_member(&w, pay_paypal_literal(",\"transmission_sig\":"),
                          h->sig, h->sig_len);
    pay_paypal_put_member(&w, pay_paypal_literal(",\"transmission_time\":"),
                          h->time, h->time_len);
    pay_paypal_put_member(&w, pay_paypal_literal(",\"webhook_id\":"),
                          webhook_id, webhook_id_len);
    pay_paypal_put(&w, pay_paypal_literal(",\"webhook_event\":"));
    pay_paypal_put(&w, (const char *) body, body_len);
    pay_paypal_put(&w, "}", 1);

    return w.failed ? 0 : (size_t) (w.pos - out);
}


pay_rc_e
pay_paypal_verify_response(const unsigned char *json, size_t len)
{
    char               status[PAY_PAYPAL_STATUS_MAX];
    size_t             n;
    pay_json_member_t  m;

    m.name = "verification_status";

    if (pay_json_scan_object(json, len, &m, 1) != 0
        || m.type != PAY_JSON_STRING
        || pay_json_string_ascii(m.value, m.len, status, sizeof(status), &n)
           != 0)
    {
        return PAY_ERR_INTERNAL;
    }

    if (n == 7 && memcmp(status, "SUCCESS", 7) == 0) {
        return PAY_OK;
    }

    if (n == 7 && memcmp(status, "FAILURE", 7) == 0) {
        return PAY_ERR_SIGNATURE_MISMATCH;
    }

    return PAY_ERR_INTERNAL;
}


int
pay_paypal_token_parse(const unsigned char *json, size_t len,
    char *token, size_t size, size_t *token_len, long long *expires_in)
{
    char               type[sizeof("Bearer")];
    size_t             n, i;
    long long          value;
    pay_json_member_t  m[3];

    if (token == NULL || size < 2 || token_len == NULL
        || expires_in == NULL)
    {
        return -1;
    }

    m[0].name = "access_token";
    m[1].name = "token_type";
    m[2].name = "expires_in";

    if (pay_json_scan_object(json, len, m, 3) != 0
        || m[0].type != PAY_JSON_STRING
        || m[2].type != PAY_JSON_NUMBER)
    {
        goto failed;
    }

    if (m[1].type != PAY_JSON_ABSENT
        && (m[1].type != PAY_JSON_STRING
            || pay_json_string_ascii(m[1].value, m[1].len, type,
                                     sizeof(type), &n)
               != 0
            || n != 6 || !pay_paypal_caseeq(type, "Bearer", 6)))
    {
        goto failed;
    }

    /* an integer: digits only, so no sign, fraction or exponent */
    if (m[2].len == 0 || m[2].len > PAY_PAYPAL_EXPIRES_DIGITS_MAX) {
        goto failed;
    }

    value = 0;

    for (i = 0; i < m[2].len; i++) {
        if (!pay_paypal_is_digit((char) m[2].value[i])) {
            goto failed;
        }

        value = value * 10 + (m[2].value[i] - '0');
    }

    if (value <= 0) {
        goto failed;
    }

    if (pay_json_string_ascii(m[0].value, m[0].len, token, size, &n) != 0
        || n == 0)
    {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char) token[i] < 0x21
            || (unsigned char) token[i] > 0x7e)
        {
            goto failed;
        }
    }

    *token_len = n;
    *expires_in = value;

    return 0;

failed:

    /* a bearer token is a credential: leave no partial copy behind */
    OPENSSL_cleanse(token, size);

    return -1;
}
