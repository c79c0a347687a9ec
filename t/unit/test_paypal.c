/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_paypal.c: the PayPal vectors P1 and P2
 * (t/vectors/README.md; bodies, certificates, signatures and signed
 * messages read from $PAY_VECTORS, default t/vectors), the certificate
 * policy against the stored DigiCert root and intermediate and against
 * certificates made here, the cert URL and header policies, and the
 * API-mode JSON.
 */


#define _POSIX_C_SOURCE  200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit_vector.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pay_base64.h"
#include "pay_crc32.h"
#include "pay_paypal.h"


#define P1_ID        "071f7d20-1584-11e7-abf0-6b62a8a99ac4"
#define P1_TIME      "2017-03-30T20:04:05Z"
#define P1_WEBHOOK   "96605875FF6516633"
#define P1_CRC       3494065244u
#define P1_NOW       1525000000LL
#define P1_NOT_AFTER 1556280000LL          /* 2019-04-26T12:00:00Z */

#define P2_ID        "8ad71ae0-4e5e-11ef-b16d-8fad525a7f7b"
#define P2_TIME      "2024-07-30T10:29:03Z"
#define P2_TIME_T    1722335343LL
#define P2_WEBHOOK   "WEBHOOK_ID"
#define P2_CRC       524928637u
#define P2_NOW       1720000000LL
#define P2_NOT_AFTER 1741391999LL          /* 2025-03-07T23:59:59Z */
#define P2_CERT_PATH "/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb"
#define P2_CERT_URL  "https://api.paypal.com" P2_CERT_PATH
#define ALGO         "SHA256withRSA"

/* the validity of the certificates made here */
#define SELF_NOW     1700000000LL

#define ESCAPING_BODY  " {\"k\" : [1.0, {}]} "

#define RESPONSE(s)  (const unsigned char *) (s), strlen(s)

#define TOKEN_RESPONSE                                                        \
    "{\"scope\":\"https://uri.paypal.com/services/invoicing openid\","        \
    "\"access_token\":\"A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYX" \
    "VJYE8ovjj68elIDy8nF26AwPhfXTIeWAZHSLIsQkSYz9ifg\","                     \
    "\"token_type\":\"Bearer\",\"app_id\":\"APP-80W284485P519543T\","        \
    "\"expires_in\":32400,\"nonce\":\"2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6" \
    "bAKFoGSEzuy3CQcz3ljhibkOHg\"}"


typedef struct {
    body_t               p1_body;
    body_t               p2_body;
    body_t               p1_cert;
    body_t               p2_cert;
    body_t               p1_sig;       /* base64, as sent */
    body_t               p2_sig;
    body_t               p1_message;
    body_t               p2_message;
    body_t               root;
    body_t               intermediate;
    body_t               p1_chain;     /* leaf + intermediate */
    body_t               p2_chain;
    body_t               self;         /* self-signed, good name */
    EVP_PKEY            *rsa2048;
    pay_paypal_trust_t  *trust_root;
    pay_paypal_trust_t  *trust_full;   /* root + intermediate */
    pay_paypal_trust_t  *trust_inter;  /* intermediate alone */
    pay_paypal_trust_t  *trust_self;   /* the self-signed certificate */
} fixture_t;


static int concat(body_t *out, const body_t *a, const body_t *b);
static pay_paypal_trust_t *trust_from(const body_t *a, const body_t *b);
static int make_cert(EVP_PKEY *key, const char *cn, const char *san,
    long long not_before, long long not_after, body_t *out);
static int setup(void **state);
static int teardown(void **state);
static void headers_p2(pay_paypal_headers_t *h);
static pay_rc_e check(const pay_paypal_headers_t *h, long long now,
    long long tolerance);
static pay_rc_e url(const char *s);
static pay_rc_e validate(pay_paypal_trust_t *trust, const body_t *pem,
    long long now, const char **reason);
static pay_rc_e verify_vector(const body_t *cert, const body_t *sig,
    const char *id, const char *time, const char *webhook_id,
    uint32_t crc, long long now);
static void test_message_p1_p2(void **state);
static void test_verify_p1_p2(void **state);
static void test_offline_flow_p2(void **state);
static void test_cert_dates(void **state);
static void test_cert_chain(void **state);
static void test_cert_made_here(void **state);
static void test_cert_pem(void **state);
static void test_verify_signature_errors(void **state);
static void test_trust_new(void **state);
static void test_cert_url(void **state);
static void test_cert_url_canonical(void **state);
static void test_policy_id(void **state);
static void test_parse_time(void **state);
static void test_binding(void **state);
static void test_headers(void **state);
static void test_verify_request_p2(void **state);
static void test_verify_request_escaping(void **state);
static void test_verify_response(void **state);
static void test_token_parse(void **state);


static fixture_t  fx;

static const char  *hosts[] = {
    "api.paypal.com", "api-m.paypal.com",
    "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"
};

static const size_t  host_lens[] = { 14, 16, 22, 24 };


/* helpers */


/* a, a line feed (the stored PEM files end without one), b */

static int
concat(body_t *out, const body_t *a, const body_t *b)
{
    out->len = a->len + 1 + b->len;
    out->data = malloc(out->len + 1);

    if (out->data == NULL) {
        return -1;
    }

    memcpy(out->data, a->data, a->len);
    out->data[a->len] = '\n';
    memcpy(out->data + a->len + 1, b->data, b->len);

    return 0;
}


/* a CA file holding a (and b, if not NULL), loaded and removed */

static pay_paypal_trust_t *
trust_from(const body_t *a, const body_t *b)
{
    int                  fd, ok;
    FILE                *f;
    char                 path[] = "/tmp/pay_paypal_ca_XXXXXX";
    pay_paypal_trust_t  *trust;

    fd = mkstemp(path);
    if (fd < 0) {
        return NULL;
    }

    f = fdopen(fd, "wb");
    if (f == NULL) {
        close(fd);
        unlink(path);
        return NULL;
    }

    ok = fwrite(a->data, 1, a->len, f) == a->len
         && fputc('\n', f) != EOF
         && (b == NULL || fwrite(b->data, 1, b->len, f) == b->len);

    if (fclose(f) != 0 || !ok) {
        unlink(path);
        return NULL;
    }

    trust = pay_paypal_trust_new(path);
    unlink(path);

    return trust;
}


/* a self-signed certificate, PEM; san NULL: none */

static int
make_cert(EVP_PKEY *key, const char *cn, const char *san,
    long long not_before, long long not_after, body_t *out)
{
    int               rc;
    BIO              *bio;
    X509             *x;
    char             *mem;
    long              len;
    X509V3_CTX        ctx;
    X509_NAME        *name;
    X509_EXTENSION   *ext;

    rc = -1;
    bio = NULL;

    x = X509_new();
    if (x == NULL) {
        return -1;
    }

    name = X509_get_subject_name(x);

    if (!X509_set_version(x, 2)
        || !ASN1_INTEGER_set(X509_get_serialNumber(x), 1)
        || ASN1_TIME_set(X509_getm_notBefore(x), (time_t) not_before)
           == NULL
        || ASN1_TIME_set(X509_getm_notAfter(x), (time_t) not_after) == NULL
        || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       (const unsigned char *) cn, -1, -1,
                                       0)
        || !X509_set_issuer_name(x, name)
        || !X509_set_pubkey(x, key))
    {
        goto done;
    }

    if (san != NULL) {
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);

        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        if (ext == NULL) {
            goto done;
        }

        rc = X509_add_ext(x, ext, -1) ? 0 : -1;
        X509_EXTENSION_free(ext);

        if (rc != 0) {
            goto done;
        }

        rc = -1;
    }

    if (X509_sign(x, key, EVP_sha256()) <= 0) {
        goto done;
    }

    bio = BIO_new(BIO_s_mem());

    if (bio == NULL || !PEM_write_bio_X509(bio, x)) {
        goto done;
    }

    len = BIO_get_mem_data(bio, &mem);
    out->data = malloc((size_t) len + 1);

    if (len <= 0 || out->data == NULL) {
        goto done;
    }

    memcpy(out->data, mem, (size_t) len);
    out->len = (size_t) len;
    rc = 0;

done:

    BIO_free(bio);
    X509_free(x);

    return rc;
}


static int
setup(void **state)
{
    (void) state;

    memset(&fx, 0, sizeof(fx));

    if (read_vector("paypal_p1_body.json", &fx.p1_body) != 0
        || read_vector("paypal_p2_body.json", &fx.p2_body) != 0
        || read_vector("paypal_p1_cert.pem", &fx.p1_cert) != 0
        || read_vector("paypal_p2_cert.pem", &fx.p2_cert) != 0
        || read_vector("paypal_p1_transmission_sig.b64", &fx.p1_sig) != 0
        || read_vector("paypal_p2_transmission_sig.b64", &fx.p2_sig) != 0
        || read_vector("paypal_p1_signed_message.txt", &fx.p1_message) != 0
        || read_vector("paypal_p2_signed_message.txt", &fx.p2_message) != 0
        || read_vector("digicert_high_assurance_ev_root_ca.pem", &fx.root)
           != 0
        || read_vector("digicert_sha2_ev_server_ca.pem", &fx.intermediate)
           != 0
        || concat(&fx.p1_chain, &fx.p1_cert, &fx.intermediate) != 0
        || concat(&fx.p2_chain, &fx.p2_cert, &fx.intermediate) != 0)
    {
        return -1;
    }

    fx.rsa2048 = EVP_RSA_gen(2048);

    if (fx.rsa2048 == NULL
        || make_cert(fx.rsa2048, "messageverificationcerts.paypal.com",
                     "DNS:messageverificationcerts.paypal.com",
                     SELF_NOW - 86400, SELF_NOW + 86400, &fx.self)
           != 0)
    {
        return -1;
    }

    fx.trust_root = trust_from(&fx.root, NULL);
    fx.trust_full = trust_from(&fx.root, &fx.intermediate);
    fx.trust_inter = trust_from(&fx.intermediate, NULL);
    fx.trust_self = trust_from(&fx.self, NULL);

    if (fx.trust_root == NULL || fx.trust_full == NULL
        || fx.trust_inter == NULL || fx.trust_self == NULL)
    {
        return -1;
    }

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    free(fx.p1_body.data);
    free(fx.p2_body.data);
    free(fx.p1_cert.data);
    free(fx.p2_cert.data);
    free(fx.p1_sig.data);
    free(fx.p2_sig.data);
    free(fx.p1_message.data);
    free(fx.p2_message.data);
    free(fx.root.data);
    free(fx.intermediate.data);
    free(fx.p1_chain.data);
    free(fx.p2_chain.data);
    free(fx.self.data);
    EVP_PKEY_free(fx.rsa2048);
    pay_paypal_trust_free(fx.trust_root);
    pay_paypal_trust_free(fx.trust_full);
    pay_paypal_trust_free(fx.trust_inter);
    pay_paypal_trust_free(fx.trust_self);

    return 0;
}


static void
headers_p2(pay_paypal_headers_t *h)
{
    h->id = P2_ID;
    h->id_len = strlen(P2_ID);
    h->time = P2_TIME;
    h->time_len = strlen(P2_TIME);
    h->sig = (const char *) fx.p2_sig.data;
    h->sig_len = fx.p2_sig.len;
    h->cert_url = P2_CERT_URL;
    h->cert_url_len = strlen(P2_CERT_URL);
    h->algo = ALGO;
    h->algo_len = strlen(ALGO);
}


static pay_rc_e
check(const pay_paypal_headers_t *h, long long now, long long tolerance)
{
    size_t          sig_len, path_len;
    const char     *path;
    unsigned char   sig[PAY_PAYPAL_SIG_MAX];

    return pay_paypal_check_headers(h, hosts, host_lens, 4, now, tolerance,
                                    sig, &sig_len, &path, &path_len);
}


static pay_rc_e
url(const char *s)
{
    size_t       path_len;
    const char  *path;

    return pay_paypal_cert_url_check(s, strlen(s), hosts, host_lens, 4,
                                     &path, &path_len);
}


static pay_rc_e
validate(pay_paypal_trust_t *trust, const body_t *pem, long long now,
    const char **reason)
{
    size_t          der_len;
    pay_rc_e        rc;
    long long       not_after;
    unsigned char  *der;

    der = NULL;
    *reason = "unset";

    rc = pay_paypal_cert_validate(trust, pem->data, pem->len, now, &der,
                                  &der_len, &not_after, reason);

    if (rc == PAY_OK) {
        assert_non_null(der);
        assert_null(*reason);
        pay_paypal_free(der);
    }

    return rc;
}


/*
 * The whole offline check of a vector, but the URL: validate the cert
 * against the DigiCert root at now, build the message, verify.
 */

static pay_rc_e
verify_vector(const body_t *cert, const body_t *sig, const char *id,
    const char *time, const char *webhook_id, uint32_t crc, long long now)
{
    char                   message[PAY_PAYPAL_MESSAGE_MAX];
    size_t                 der_len, sig_len, message_len;
    pay_rc_e               rc;
    long long              not_after;
    const char            *reason;
    unsigned char         *der, raw[PAY_PAYPAL_SIG_MAX];
    pay_paypal_headers_t   h;

    memset(&h, 0, sizeof(h));
    h.id = id;
    h.id_len = strlen(id);
    h.time = time;
    h.time_len = strlen(time);

    assert_int_equal(pay_base64_decode((const char *) sig->data, sig->len,
                                       raw, sizeof(raw), &sig_len, 0),
                     0);
    assert_int_equal(sig_len, 256);

    assert_int_equal(pay_paypal_cert_validate(fx.trust_root, cert->data,
                                              cert->len, now, &der, &der_len,
                                              &not_after, &reason),
                     PAY_OK);

    message_len = pay_paypal_message(&h, webhook_id, strlen(webhook_id), crc,
                                     message, sizeof(message));
    assert_true(message_len > 0);

    rc = pay_paypal_verify_signature(der, der_len,
                                     (const unsigned char *) message,
                                     message_len, raw, sig_len);

    pay_paypal_free(der);

    return rc;
}


/* the PayPal vectors (t/vectors/README.md) */


static void
test_message_p1_p2(void **state)
{
    char                  out[PAY_PAYPAL_MESSAGE_MAX];
    size_t                len, size;
    pay_paypal_headers_t  h;

    (void) state;

    assert_int_equal(pay_crc32_update(0, fx.p1_body.data, fx.p1_body.len),
                     P1_CRC);
    assert_int_equal(pay_crc32_update(0, fx.p2_body.data, fx.p2_body.len),
                     P2_CRC);

    memset(&h, 0, sizeof(h));
    h.id = P1_ID;
    h.id_len = strlen(P1_ID);
    h.time = P1_TIME;
    h.time_len = strlen(P1_TIME);

    len = pay_paypal_message(&h, P1_WEBHOOK, strlen(P1_WEBHOOK),
                             pay_crc32_update(0, fx.p1_body.data,
                                              fx.p1_body.len),
                             out, sizeof(out));
    assert_int_equal(len, fx.p1_message.len);
    assert_memory_equal(out, fx.p1_message.data, len);

    headers_p2(&h);

    len = pay_paypal_message(&h, P2_WEBHOOK, strlen(P2_WEBHOOK), P2_CRC,
                             out, sizeof(out));
    assert_int_equal(len, fx.p2_message.len);
    assert_memory_equal(out, fx.p2_message.data, len);

    /* exactly the room needed, and one byte less */
    assert_int_equal(pay_paypal_message(&h, P2_WEBHOOK, strlen(P2_WEBHOOK),
                                        P2_CRC, out, len),
                     len);

    for (size = 0; size < len; size++) {
        assert_int_equal(pay_paypal_message(&h, P2_WEBHOOK,
                                            strlen(P2_WEBHOOK), P2_CRC,
                                            out, size),
                         0);
    }

    /* unsigned decimal, both ends of the range */
    h.id = "a";
    h.id_len = 1;
    h.time = "b";
    h.time_len = 1;

    len = pay_paypal_message(&h, "c", 1, 0, out, sizeof(out));
    assert_int_equal(len, 7);
    assert_memory_equal(out, "a|b|c|0", 7);

    len = pay_paypal_message(&h, "c", 1, 0xffffffffu, out, sizeof(out));
    assert_int_equal(len, 16);
    assert_memory_equal(out, "a|b|c|4294967295", 16);

    /* the longest headers and webhook id fit PAY_PAYPAL_MESSAGE_MAX */
    {
        char  big[PAY_PAYPAL_TIME_MAX];

        memset(big, 'x', sizeof(big));
        h.id = big;
        h.id_len = PAY_PAYPAL_ID_MAX;
        h.time = big;
        h.time_len = PAY_PAYPAL_TIME_MAX;

        assert_int_equal(pay_paypal_message(&h, big,
                                            PAY_PAYPAL_WEBHOOK_ID_MAX,
                                            0xffffffffu, out, sizeof(out)),
                         PAY_PAYPAL_MESSAGE_MAX);
    }

    assert_int_equal(pay_paypal_message(NULL, "c", 1, 0, out, sizeof(out)),
                     0);
}


static void
test_verify_p1_p2(void **state)
{
    (void) state;

    /* the certificates as stored carry the leaf alone */
    assert_int_equal(verify_vector(&fx.p1_chain, &fx.p1_sig, P1_ID, P1_TIME,
                                   P1_WEBHOOK, P1_CRC, P1_NOW),
                     PAY_OK);
    assert_int_equal(verify_vector(&fx.p2_chain, &fx.p2_sig, P2_ID, P2_TIME,
                                   P2_WEBHOOK, P2_CRC, P2_NOW),
                     PAY_OK);

    /* a changed body changes the crc */
    assert_int_equal(verify_vector(&fx.p1_chain, &fx.p1_sig, P1_ID, P1_TIME,
                                   P1_WEBHOOK, P1_CRC ^ 1, P1_NOW),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_vector(&fx.p2_chain, &fx.p2_sig, P2_ID, P2_TIME,
                                   P2_WEBHOOK, P2_CRC + 1, P2_NOW),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* another webhook: the Java SDK's negative case */
    assert_int_equal(verify_vector(&fx.p1_chain, &fx.p1_sig, P1_ID, P1_TIME,
                                   "NotToBeFound", P1_CRC, P1_NOW),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(verify_vector(&fx.p2_chain, &fx.p2_sig, P2_ID, P2_TIME,
                                   "NotToBeFound", P2_CRC, P2_NOW),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* the time verbatim: another spelling of the same instant fails */
    assert_int_equal(verify_vector(&fx.p2_chain, &fx.p2_sig, P2_ID,
                                   "2024-07-30t10:29:03z", P2_WEBHOOK,
                                   P2_CRC, P2_NOW),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* one signature, the other key */
    assert_int_equal(verify_vector(&fx.p1_chain, &fx.p2_sig, P2_ID, P2_TIME,
                                   P2_WEBHOOK, P2_CRC, P1_NOW),
                     PAY_ERR_SIGNATURE_MISMATCH);
}


static void
test_offline_flow_p2(void **state)
{
    char                   message[PAY_PAYPAL_MESSAGE_MAX];
    size_t                 sig_len, path_len, der_len, message_len;
    uint32_t               crc;
    long long              not_after;
    const char            *path, *reason;
    unsigned char          sig[PAY_PAYPAL_SIG_MAX], *der;
    pay_paypal_headers_t   h;

    (void) state;

    headers_p2(&h);

    /* as delivered, checked at the delivery time with a 300 s window */
    assert_int_equal(pay_paypal_check_headers(&h, hosts, host_lens, 4,
                                              P2_TIME_T + 10, 300, sig,
                                              &sig_len, &path, &path_len),
                     PAY_OK);
    assert_int_equal(sig_len, 256);
    assert_int_equal(path_len, strlen(P2_CERT_PATH));
    assert_memory_equal(path, P2_CERT_PATH, path_len);
    assert_ptr_equal(path, h.cert_url + strlen("https://api.paypal.com"));

    /* the response of the cert location: leaf and intermediate */
    assert_int_equal(pay_paypal_cert_validate(fx.trust_root,
                                              fx.p2_chain.data,
                                              fx.p2_chain.len, P2_TIME_T,
                                              &der, &der_len, &not_after,
                                              &reason),
                     PAY_OK);
    assert_true(not_after == P2_NOT_AFTER);
    assert_null(reason);

    /* the body as the glue sees it, in two buffers */
    crc = pay_crc32_update(0, fx.p2_body.data, 700);
    crc = pay_crc32_update(crc, fx.p2_body.data + 700, fx.p2_body.len - 700);

    message_len = pay_paypal_message(&h, P2_WEBHOOK, strlen(P2_WEBHOOK), crc,
                                     message, sizeof(message));

    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 (unsigned char *) message,
                                                 message_len, sig, sig_len),
                     PAY_OK);

    /* one bit of the signature */
    sig[17] ^= 0x20;
    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 (unsigned char *) message,
                                                 message_len, sig, sig_len),
                     PAY_ERR_SIGNATURE_MISMATCH);

    pay_paypal_free(der);
}


static void
test_cert_dates(void **state)
{
    size_t          der_len;
    long long       not_after;
    const char     *reason;
    unsigned char  *der;

    (void) state;

    assert_int_equal(pay_paypal_cert_validate(fx.trust_root,
                                              fx.p1_chain.data,
                                              fx.p1_chain.len, P1_NOW, &der,
                                              &der_len, &not_after, &reason),
                     PAY_OK);
    assert_true(not_after == P1_NOT_AFTER);
    assert_true(der_len > 256 && der_len < 300);
    pay_paypal_free(der);

    /*
     * The leaf's window, both ends: OpenSSL counts the notAfter second
     * itself as expired, the notBefore second as valid.
     */
    assert_int_equal(validate(fx.trust_root, &fx.p1_chain, P1_NOT_AFTER - 1,
                              &reason),
                     PAY_OK);
    assert_int_equal(validate(fx.trust_root, &fx.p1_chain, P1_NOT_AFTER,
                              &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "expired");
    assert_int_equal(validate(fx.trust_root, &fx.p1_chain, 1487376000LL,
                              &reason),
                     PAY_OK);
    assert_int_equal(validate(fx.trust_root, &fx.p1_chain, 1487375999LL,
                              &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "not yet valid");

    assert_int_equal(validate(fx.trust_root, &fx.p2_chain, P2_NOW, &reason),
                     PAY_OK);
    assert_int_equal(validate(fx.trust_root, &fx.p2_chain, 1760000000LL,
                              &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "expired");
    assert_int_equal(validate(fx.trust_root, &fx.p2_chain, 1700000000LL,
                              &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "not yet valid");

    /* the clock passed, not time(): today P1 is long expired */
    assert_int_equal(validate(fx.trust_root, &fx.p1_chain,
                              (long long) time(NULL), &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "expired");
}


static void
test_cert_chain(void **state)
{
    const char  *reason;

    (void) state;

    /* no intermediate in the response: found in the trust file */
    assert_int_equal(validate(fx.trust_full, &fx.p1_cert, P1_NOW, &reason),
                     PAY_OK);
    assert_int_equal(validate(fx.trust_full, &fx.p2_cert, P2_NOW, &reason),
                     PAY_OK);
    assert_int_equal(validate(fx.trust_full, &fx.p2_chain, P2_NOW, &reason),
                     PAY_OK);

    /* nor anywhere */
    assert_int_equal(validate(fx.trust_root, &fx.p2_cert, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "chain");

    /* the intermediate alone is no anchor (no partial chains) */
    assert_int_equal(validate(fx.trust_inter, &fx.p2_cert, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "chain");

    /* a store without the DigiCert root */
    assert_int_equal(validate(fx.trust_self, &fx.p2_chain, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "chain");

    /* the well-named self-signed certificate, against DigiCert */
    assert_int_equal(validate(fx.trust_root, &fx.self, SELF_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "chain");

    /* a leaf is not its own issuer's proof: P1 + P2 certs */
    {
        body_t  two;

        assert_int_equal(concat(&two, &fx.p2_cert, &fx.p1_cert), 0);
        assert_int_equal(validate(fx.trust_root, &two, P2_NOW, &reason),
                         PAY_ERR_CERT_UNTRUSTED);
        assert_string_equal(reason, "chain");
        free(two.data);
    }
}


static void
test_cert_made_here(void **state)
{
    body_t               pem, der_body;
    size_t               der_len;
    EVP_PKEY            *small, *ec;
    long long            not_after;
    const char          *reason;
    unsigned char       *der, *p;
    pay_paypal_trust_t  *trust;

    (void) state;

    /* trusted as its own anchor, it passes: name and key are fine */
    assert_int_equal(pay_paypal_cert_validate(fx.trust_self, fx.self.data,
                                              fx.self.len, SELF_NOW, &der,
                                              &der_len, &not_after, &reason),
                     PAY_OK);
    assert_true(not_after == SELF_NOW + 86400);
    pay_paypal_free(der);

    /* the sandbox name */
    assert_int_equal(make_cert(fx.rsa2048, "x",
                               "DNS:messageverificationcerts.sandbox."
                               "paypal.com",
                               SELF_NOW - 10, SELF_NOW + 10, &pem),
                     0);
    trust = trust_from(&pem, NULL);
    assert_non_null(trust);
    assert_int_equal(validate(trust, &pem, SELF_NOW, &reason), PAY_OK);
    pay_paypal_trust_free(trust);
    free(pem.data);

    /* names that are not PayPal's message verification names */
    {
        static const char  *bad[][2] = {
            { "messageverificationcerts.paypal.com",
              "DNS:www.paypal.com" },
            { "messageverificationcerts.paypal.com",
              "DNS:*.paypal.com" },
            { "x", "DNS:*.sandbox.paypal.com" },
            { "x", "DNS:messageverificationcerts.paypal.com.evil.com" },
            { "x", "DNS:evil-messageverificationcerts.paypal.com" },
            { "*.paypal.com", NULL },
            { "paypal.com", NULL },
        };
        size_t  i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(make_cert(fx.rsa2048, bad[i][0], bad[i][1],
                                       SELF_NOW - 10, SELF_NOW + 10, &pem),
                             0);
            trust = trust_from(&pem, NULL);
            assert_non_null(trust);
            assert_int_equal(validate(trust, &pem, SELF_NOW, &reason),
                             PAY_ERR_CERT_UNTRUSTED);
            assert_string_equal(reason, "name");
            pay_paypal_trust_free(trust);
            free(pem.data);
        }
    }

    /* the subject CN counts only when there is no DNS SAN */
    assert_int_equal(make_cert(fx.rsa2048,
                               "messageverificationcerts.paypal.com", NULL,
                               SELF_NOW - 10, SELF_NOW + 10, &pem),
                     0);
    trust = trust_from(&pem, NULL);
    assert_non_null(trust);
    assert_int_equal(validate(trust, &pem, SELF_NOW, &reason), PAY_OK);
    pay_paypal_trust_free(trust);
    free(pem.data);

    /* keys: RSA-1024 and EC P-256 */
    small = EVP_RSA_gen(1024);
    ec = EVP_EC_gen("P-256");
    assert_non_null(small);
    assert_non_null(ec);

    assert_int_equal(make_cert(small, "messageverificationcerts.paypal.com",
                               "DNS:messageverificationcerts.paypal.com",
                               SELF_NOW - 10, SELF_NOW + 10, &pem),
                     0);
    trust = trust_from(&pem, NULL);
    assert_non_null(trust);
    assert_int_equal(validate(trust, &pem, SELF_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "key");
    pay_paypal_trust_free(trust);
    free(pem.data);

    assert_int_equal(make_cert(ec, "messageverificationcerts.paypal.com",
                               "DNS:messageverificationcerts.paypal.com",
                               SELF_NOW - 10, SELF_NOW + 10, &pem),
                     0);
    trust = trust_from(&pem, NULL);
    assert_non_null(trust);
    assert_int_equal(validate(trust, &pem, SELF_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "key");
    pay_paypal_trust_free(trust);
    free(pem.data);

    /* an EC key given to the RSA verifier */
    der_body.len = (size_t) i2d_PUBKEY(ec, NULL);
    der_body.data = malloc(der_body.len);
    assert_non_null(der_body.data);
    p = der_body.data;
    assert_int_equal(i2d_PUBKEY(ec, &p), (int) der_body.len);
    assert_int_equal(pay_paypal_verify_signature(der_body.data, der_body.len,
                                                 (unsigned char *) "m", 1,
                                                 (unsigned char *) "s", 1),
                     PAY_ERR_INTERNAL);
    free(der_body.data);

    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);

    /* the made-here key signs, the verifier agrees */
    {
        size_t          sig_len;
        EVP_MD_CTX     *md;
        unsigned char   sig[PAY_PAYPAL_SIG_MAX];

        assert_int_equal(pay_paypal_cert_validate(fx.trust_self,
                                                  fx.self.data, fx.self.len,
                                                  SELF_NOW, &der, &der_len,
                                                  &not_after, &reason),
                         PAY_OK);

        md = EVP_MD_CTX_new();
        assert_non_null(md);
        sig_len = sizeof(sig);
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
                                            fx.rsa2048),
                         1);
        assert_int_equal(EVP_DigestSign(md, sig, &sig_len,
                                        (unsigned char *) "a|b|c|1", 7),
                         1);
        EVP_MD_CTX_free(md);

        assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                     (unsigned char *)
                                                     "a|b|c|1", 7,
                                                     sig, sig_len),
                         PAY_OK);
        assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                     (unsigned char *)
                                                     "a|b|c|2", 7,
                                                     sig, sig_len),
                         PAY_ERR_SIGNATURE_MISMATCH);
        pay_paypal_free(der);
    }
}


static void
test_cert_pem(void **state)
{
    size_t          i, der_len;
    body_t          pem, many;
    long long       not_after;
    const char     *reason;
    unsigned char  *der;

    (void) state;

    pem.data = (unsigned char *) "this is not a certificate";
    pem.len = strlen((char *) pem.data);
    assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "pem");

    pem.len = 0;
    assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "pem");

    /* a broken block: the base64 cut short */
    pem.data = (unsigned char *) "-----BEGIN CERTIFICATE-----\nMIIILDCC\n"
                                 "-----END CERTIFICATE-----\n";
    pem.len = strlen((char *) pem.data);
    assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "pem");

    /* the leaf cut in half */
    pem.data = fx.p2_cert.data;
    pem.len = fx.p2_cert.len / 2;
    assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "pem");

    /* a good leaf, then a broken block */
    assert_int_equal(concat(&pem, &fx.p2_cert, &fx.intermediate), 0);
    pem.len -= 40;
    assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                     PAY_ERR_CERT_UNTRUSTED);
    assert_string_equal(reason, "pem");
    free(pem.data);

    /* an "encrypted" block: refused, and no password prompt */
    {
        body_t          head, tail, tmp;
        unsigned char  *nl;

        /* the base64 lines of the P2 leaf (which has CRLF line ends) */
        nl = memchr(fx.p2_cert.data, '\n', fx.p2_cert.len);
        assert_non_null(nl);
        tail.data = nl + 1;
        tail.len = fx.p2_cert.len - (size_t) (tail.data - fx.p2_cert.data);

        head.data = (unsigned char *) "-----BEGIN CERTIFICATE-----\n"
                    "Proc-Type: 4,ENCRYPTED\n"
                    "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n";
        head.len = strlen((char *) head.data);
        assert_int_equal(concat(&tmp, &head, &tail), 0);
        assert_int_equal(validate(fx.trust_root, &tmp, P2_NOW, &reason),
                         PAY_ERR_CERT_UNTRUSTED);
        assert_string_equal(reason, "pem");
        free(tmp.data);
    }

    /* text around the blocks is ignored, as PEM allows */
    {
        body_t  text, tmp;

        text.data = (unsigned char *) "subject=whatever\n";
        text.len = strlen((char *) text.data);
        assert_int_equal(concat(&tmp, &text, &fx.p2_chain), 0);
        assert_int_equal(concat(&pem, &tmp, &text), 0);
        free(tmp.data);
        assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                         PAY_OK);
        free(pem.data);
    }

    /* the leaf and 8 more certificates at most */
    many.data = malloc(fx.p2_cert.len + 9 * (fx.intermediate.len + 1));
    assert_non_null(many.data);
    memcpy(many.data, fx.p2_cert.data, fx.p2_cert.len);
    many.len = fx.p2_cert.len;

    for (i = 0; i < 9; i++) {
        many.data[many.len++] = '\n';
        memcpy(many.data + many.len, fx.intermediate.data,
               fx.intermediate.len);
        many.len += fx.intermediate.len;

        assert_int_equal(validate(fx.trust_root, &many, P2_NOW, &reason),
                         (i < 8) ? PAY_OK : PAY_ERR_CERT_UNTRUSTED);
    }

    assert_string_equal(reason, "pem");
    free(many.data);

    /* DER is not accepted: the response is PEM */
    {
        BIO   *bio;
        X509  *x;

        bio = BIO_new_mem_buf(fx.p2_cert.data, (int) fx.p2_cert.len);
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
        BIO_free(bio);

        pem.len = (size_t) i2d_X509(x, NULL);
        pem.data = malloc(pem.len);
        assert_non_null(pem.data);
        der = pem.data;
        assert_int_equal(i2d_X509(x, &der), (int) pem.len);
        X509_free(x);

        assert_int_equal(validate(fx.trust_root, &pem, P2_NOW, &reason),
                         PAY_ERR_CERT_UNTRUSTED);
        assert_string_equal(reason, "pem");
        free(pem.data);
    }

    /* arguments */
    assert_int_equal(pay_paypal_cert_validate(NULL, fx.p2_chain.data,
                                              fx.p2_chain.len, P2_NOW, &der,
                                              &der_len, &not_after, &reason),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_paypal_cert_validate(fx.trust_root, NULL, 0,
                                              P2_NOW, &der, &der_len,
                                              &not_after, NULL),
                     PAY_ERR_CERT_UNTRUSTED);

    /* the error queue is left empty */
    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_verify_signature_errors(void **state)
{
    size_t          der_len, sig_len;
    long long       not_after;
    const char     *reason;
    unsigned char  *der, sig[PAY_PAYPAL_SIG_MAX];

    (void) state;

    assert_int_equal(pay_base64_decode((const char *) fx.p2_sig.data,
                                       fx.p2_sig.len, sig, sizeof(sig),
                                       &sig_len, 0),
                     0);
    assert_int_equal(pay_paypal_cert_validate(fx.trust_root,
                                              fx.p2_chain.data,
                                              fx.p2_chain.len, P2_NOW, &der,
                                              &der_len, &not_after, &reason),
                     PAY_OK);

    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, sig_len),
                     PAY_OK);

    /* the signature cut, grown, emptied */
    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, sig_len - 1),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, sig_len + 1),
                     PAY_ERR_SIGNATURE_MISMATCH);
    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, 0),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* the message one byte short */
    assert_int_equal(pay_paypal_verify_signature(der, der_len,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len - 1,
                                                 sig, sig_len),
                     PAY_ERR_SIGNATURE_MISMATCH);

    /* bad DER: cut, trailing byte, garbage, none */
    assert_int_equal(pay_paypal_verify_signature(der, der_len - 1,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, sig_len),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_paypal_verify_signature((unsigned char *) "junk",
                                                 4, fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, sig_len),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_paypal_verify_signature(NULL, 0,
                                                 fx.p2_message.data,
                                                 fx.p2_message.len,
                                                 sig, sig_len),
                     PAY_ERR_INTERNAL);

    {
        unsigned char  *longer;

        longer = malloc(der_len + 1);
        assert_non_null(longer);
        memcpy(longer, der, der_len);
        longer[der_len] = 0;
        assert_int_equal(pay_paypal_verify_signature(longer, der_len + 1,
                                                     fx.p2_message.data,
                                                     fx.p2_message.len,
                                                     sig, sig_len),
                         PAY_ERR_INTERNAL);
        free(longer);
    }

    assert_int_equal(ERR_peek_error(), 0);

    pay_paypal_free(der);
    pay_paypal_free(NULL);
}


static void
test_trust_new(void **state)
{
    body_t               text;
    pay_paypal_trust_t  *trust;

    (void) state;

    assert_null(pay_paypal_trust_new("/nonexistent/ca.pem"));

    /* a file without any certificate */
    text.data = (unsigned char *) "nothing here\n";
    text.len = strlen((char *) text.data);
    assert_null(trust_from(&text, NULL));

    /* the system store loads (whatever it holds) */
    trust = pay_paypal_trust_new(NULL);
    assert_non_null(trust);
    pay_paypal_trust_free(trust);

    pay_paypal_trust_free(NULL);

    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_cert_url(void **state)
{
    size_t       path_len;
    const char  *path, *s;

    (void) state;

    s = P2_CERT_URL;
    assert_int_equal(pay_paypal_cert_url_check(s, strlen(s), hosts,
                                               host_lens, 4, &path,
                                               &path_len),
                     PAY_OK);
    assert_ptr_equal(path, s + 22);
    assert_int_equal(path_len, strlen(P2_CERT_PATH));

    assert_int_equal(url("https://api.sandbox.paypal.com/v1/notifications/"
                         "certs/CERT-360caa42-fca2a594-1d93a270"),
                     PAY_OK);
    assert_int_equal(url("https://api-m.paypal.com/v1/notifications/certs/"
                         "CERT-1"), PAY_OK);
    assert_int_equal(url("https://api-m.sandbox.paypal.com/v1/notifications/"
                         "certs/a.b_c-D9"), PAY_OK);

    /* scheme and host in any case */
    assert_int_equal(url("HTTPS://API.PAYPAL.COM" P2_CERT_PATH), PAY_OK);
    assert_int_equal(url("hTTpS://Api.PayPal.Com" P2_CERT_PATH), PAY_OK);

    /* the scheme */
    assert_int_equal(url("http://api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https:/api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("//api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url(" https://api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("ftp://api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);

    /* userinfo, port */
    assert_int_equal(url("https://user@api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com@evil.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://u:p@api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com:443" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com:8443" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com:" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);

    /* hosts */
    assert_int_equal(url("https://evil.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com.evil.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://evilapi.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://x.api.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://www.paypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com." P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.co" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api%2epaypal.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://127.0.0.1" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://[::1]" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com\\@evil.com" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com?" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com#" P2_CERT_PATH),
                     PAY_ERR_CERT_URL_REJECTED);

    /* paths */
    assert_int_equal(url("https://api.paypal.com/"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.sandbox.paypal.com/v1/notifications/"
                         "test"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/oauth2/token"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/V1/notifications/certs/"
                         "CERT-1"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com//v1/notifications/certs/"
                         "CERT-1"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT-1/more"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "../../oauth2/token"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/.."),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/."),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "a..b"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "%2e%2e"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT%2d1"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/%2e%2e/"
                         "certs/CERT-1"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT-1?x=1"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT-1?"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT-1#frag"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT 1"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT-1\r\nHost: evil"),
                     PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(url("https://api.paypal.com/v1/notifications/certs/"
                         "CERT-1/"),
                     PAY_ERR_CERT_URL_REJECTED);

    /* a NUL inside: the length counts, not the C string */
    s = "https://api.paypal.com/v1/notifications/certs/CERT-1\0x";
    assert_int_equal(pay_paypal_cert_url_check(s, strlen(s) + 2, hosts,
                                               host_lens, 4, &path,
                                               &path_len),
                     PAY_ERR_CERT_URL_REJECTED);

    /* a name of 128 bytes, and of 129 */
    {
        char  buf[256];

        strcpy(buf, "https://api.paypal.com/v1/notifications/certs/");
        memset(buf + strlen(buf), 'A', 128);
        buf[46 + 128] = '\0';
        assert_int_equal(url(buf), PAY_OK);

        buf[46 + 128] = 'A';
        buf[46 + 129] = '\0';
        assert_int_equal(url(buf), PAY_ERR_CERT_URL_REJECTED);
    }

    /* the allow-list decides: empty, or one other host */
    {
        const char    *one[] = { "api.paypal.com" };
        const size_t   one_len[] = { 14 };

        s = "https://api.sandbox.paypal.com/v1/notifications/certs/C";
        assert_int_equal(pay_paypal_cert_url_check(s, strlen(s), one,
                                                   one_len, 1, NULL, NULL),
                         PAY_ERR_CERT_URL_REJECTED);
        assert_int_equal(pay_paypal_cert_url_check(s, strlen(s), hosts,
                                                   host_lens, 0, NULL, NULL),
                         PAY_ERR_CERT_URL_REJECTED);
        assert_int_equal(pay_paypal_cert_url_check(s, strlen(s), hosts,
                                                   host_lens, 4, NULL, NULL),
                         PAY_OK);
    }

    assert_int_equal(pay_paypal_cert_url_check(NULL, 0, hosts, host_lens, 4,
                                               NULL, NULL),
                     PAY_ERR_CERT_URL_REJECTED);
}


static void
test_cert_url_canonical(void **state)
{
    char         out[PAY_PAYPAL_CERT_URL_MAX];
    size_t       n;
    const char  *s;

    (void) state;

#define canonical(u)                                                          \
    pay_paypal_cert_url_canonical(u, strlen(u), hosts, host_lens, 4, out,     \
                                  sizeof(out))

    /* scheme and host folded; the path (compared exactly) kept as it is */
    s = "HTTPS://Api.PayPal.COM/v1/notifications/certs/CERT-AbC.1";
    n = canonical(s);
    assert_int_equal(n, strlen(s));
    assert_memory_equal(out, "https://api.paypal.com/v1/notifications/certs/"
                        "CERT-AbC.1", n);

    n = canonical(P2_CERT_URL);
    assert_int_equal(n, strlen(P2_CERT_URL));
    assert_memory_equal(out, P2_CERT_URL, n);

    /* what the policy refuses has no key */
    assert_int_equal(canonical("https://api.paypal.com:443" P2_CERT_PATH), 0);
    assert_int_equal(canonical("https://evil.example" P2_CERT_PATH), 0);
    assert_int_equal(canonical("https://api.paypal.com/v1/notifications/"
                               "certs/../x"), 0);

#undef canonical

    /* too small for it */
    assert_int_equal(pay_paypal_cert_url_canonical(P2_CERT_URL,
                                                   strlen(P2_CERT_URL),
                                                   hosts, host_lens, 4, out,
                                                   strlen(P2_CERT_URL) - 1),
                     0);

    assert_int_equal(pay_paypal_cert_url_canonical(P2_CERT_URL,
                                                   strlen(P2_CERT_URL),
                                                   hosts, host_lens, 4, NULL,
                                                   sizeof(out)),
                     0);
}


static void
test_policy_id(void **state)
{
    unsigned char        a[PAY_PAYPAL_POLICY_ID_LEN];
    unsigned char        b[PAY_PAYPAL_POLICY_ID_LEN];
    const char          *upper[4], *loc;
    pay_paypal_trust_t  *again;

    static const char  *two_hosts[] = { "api.paypal.comapi", "-m.paypal.com" };
    static const size_t  two_lens[] = { 17, 13 };

    (void) state;

    loc = "/_pay/paypal_cert";

    assert_int_equal(pay_paypal_policy_id(fx.trust_full, hosts, host_lens, 4,
                                          loc, strlen(loc), a), 0);

    /* the same trust file loaded again, hosts in another case: the same */
    again = trust_from(&fx.root, &fx.intermediate);
    assert_non_null(again);

    upper[0] = "API.PAYPAL.COM";
    upper[1] = "Api-M.PayPal.com";
    upper[2] = "api.sandbox.paypal.com";
    upper[3] = "API-M.SANDBOX.PAYPAL.COM";

    assert_int_equal(pay_paypal_policy_id(again, upper, host_lens, 4,
                                          loc, strlen(loc), b), 0);
    assert_memory_equal(a, b, sizeof(a));
    pay_paypal_trust_free(again);

    /* another trust store */
    assert_int_equal(pay_paypal_policy_id(fx.trust_root, hosts, host_lens, 4,
                                          loc, strlen(loc), b), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    assert_int_equal(pay_paypal_policy_id(fx.trust_self, hosts, host_lens, 4,
                                          loc, strlen(loc), b), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    /* fewer hosts */
    assert_int_equal(pay_paypal_policy_id(fx.trust_full, hosts, host_lens, 2,
                                          loc, strlen(loc), b), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    /* the same bytes split into other hosts: not the same list */
    assert_int_equal(pay_paypal_policy_id(fx.trust_full, hosts, host_lens, 2,
                                          loc, strlen(loc), a), 0);
    assert_int_equal(pay_paypal_policy_id(fx.trust_full, two_hosts, two_lens,
                                          2, loc, strlen(loc), b), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    /* another fetching location */
    assert_int_equal(pay_paypal_policy_id(fx.trust_full, hosts, host_lens, 4,
                                          loc, strlen(loc), a), 0);
    assert_int_equal(pay_paypal_policy_id(fx.trust_full, hosts, host_lens, 4,
                                          "/_pay/sandbox_cert", 18, b), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    /* no trust store at all is a policy too; NULL output is refused */
    assert_int_equal(pay_paypal_policy_id(NULL, hosts, host_lens, 4,
                                          loc, strlen(loc), b), 0);
    assert_memory_not_equal(a, b, sizeof(a));

    assert_int_equal(pay_paypal_policy_id(fx.trust_full, hosts, host_lens, 4,
                                          loc, strlen(loc), NULL), -1);
    assert_int_equal(pay_paypal_policy_id(fx.trust_full, NULL, NULL, 4,
                                          loc, strlen(loc), b), -1);

    assert_int_equal(ERR_peek_error(), 0);
}


/* the transmission binding's key, token and lifetime */

static void
test_binding(void **state)
{
    char       key[128], a[PAY_PAYPAL_BINDING_TOKEN_LEN + 1];
    char       b[PAY_PAYPAL_BINDING_TOKEN_LEN + 1];
    size_t     len, len2;
    long long  ttl;

    (void) state;

    len = pay_paypal_binding_key("WH_ID_1", 7, "tid-1", 5, key, sizeof(key));
    assert_int_equal(len, sizeof("paypal:transmission:7:WH_ID_1:tid-1") - 1);
    assert_memory_equal(key, "paypal:transmission:7:WH_ID_1:tid-1", len);

    /* "a:b" + "c" and "a" + "b:c" were one key without the length */
    len = pay_paypal_binding_key("a:b", 3, "c", 1, key, sizeof(key));
    assert_memory_equal(key, "paypal:transmission:3:a:b:c", len);
    len2 = pay_paypal_binding_key("a", 1, "b:c", 3, b, sizeof(b));
    assert_memory_equal(b, "paypal:transmission:1:a:b:c", len2);
    assert_true(len != len2 || memcmp(key, b, len) != 0);

    /* does not fit, empty, too long */
    assert_int_equal(pay_paypal_binding_key("WH", 2, "t", 1, key, 25), 0);
    assert_int_equal(pay_paypal_binding_key("WH", 2, "t", 1, key, 26), 26);
    assert_int_equal(pay_paypal_binding_key("", 0, "t", 1, key, 128), 0);
    assert_int_equal(pay_paypal_binding_key("WH", 2, "", 0, key, 128), 0);
    assert_int_equal(pay_paypal_binding_key("WH", 2, "t",
                                            PAY_PAYPAL_ID_MAX + 1, key, 128),
                     0);

    /* SHA-256, lowercase hex */
    assert_int_equal(pay_paypal_binding_token((const unsigned char *) "abc",
                                              3, a), 0);
    assert_string_equal(a, "ba7816bf8f01cfea414140de5dae2223"
                           "b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(pay_paypal_binding_token(NULL, 0, b), 0);
    assert_string_equal(b, "e3b0c44298fc1c149afbf4c8996fb924"
                           "27ae41e4649b934ca495991b7852b855");
    assert_int_equal(pay_paypal_binding_token(NULL, 1, b), -1);

    /* inside the window: until t + tolerance + the margin */
    assert_int_equal(pay_paypal_binding_ttl(1000, 300, 1000, &ttl), PAY_OK);
    assert_int_equal(ttl, 360);
    assert_int_equal(pay_paypal_binding_ttl(1000, 300, 1300, &ttl), PAY_OK);
    assert_int_equal(ttl, PAY_PAYPAL_BINDING_MARGIN);
    assert_int_equal(pay_paypal_binding_ttl(1300, 300, 1000, &ttl), PAY_OK);
    assert_int_equal(ttl, 660);

    /* out of it by now, or no window at all */
    assert_int_equal(pay_paypal_binding_ttl(1000, 300, 1301, &ttl),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_paypal_binding_ttl(1301, 300, 1000, &ttl),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_paypal_binding_ttl(1000, 0, 1000, &ttl),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_paypal_binding_ttl(1000, -1, 1000, &ttl),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_paypal_binding_ttl(LLONG_MAX, LLONG_MAX, LLONG_MAX,
                                            &ttl),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(pay_paypal_binding_ttl(1000, 300, 1000, NULL),
                     PAY_ERR_INTERNAL);
}


static void
test_parse_time(void **state)
{
    size_t     i;
    long long  t;

    static const struct {
        const char  *s;
        long long    t;
    } good[] = {
        { P1_TIME, 1490904245LL },
        { P2_TIME, P2_TIME_T },
        { "2024-07-30t10:29:03z", P2_TIME_T },
        { "2024-07-30T10:29:03.123456789Z", P2_TIME_T },
        { "2024-07-30T10:29:03.0z", P2_TIME_T },
        { "2024-07-30T12:29:03+02:00", P2_TIME_T },
        { "2024-07-30T05:59:03-04:30", P2_TIME_T },
        { "2024-07-30T10:29:03.5+00:00", P2_TIME_T },
        { "2024-07-30T10:29:03-00:00", P2_TIME_T },
        { "2024-07-31T10:28:03+23:59", P2_TIME_T },
        { "1970-01-01T00:00:00Z", 0 },
        { "1969-12-31T23:59:59Z", -1 },
        { "2000-02-29T00:00:00Z", 951782400LL },
        { "2016-12-31T23:59:60Z", 1483228800LL },
        { "9999-12-31T23:59:59Z", 253402300799LL },
        { "0000-01-01T00:00:00Z", -62167219200LL },
    };

    static const char  *bad[] = {
        "",
        "2024-07-30",
        "2024-07-30T10:29:03",
        "2024-07-30 10:29:03Z",
        "2024-07-30T10:29Z",
        "2024-07-30T10:29:03ZZ",
        "2024-07-30T10:29:03Z ",
        " 2024-07-30T10:29:03Z",
        "2024-7-30T10:29:03Z",
        "24-07-30T10:29:03Z",
        "2024/07/30T10:29:03Z",
        "2024-07-30T10:29:03.Z",
        "2024-07-30T10:29:03,5Z",
        "2024-07-30T10:29:03+02",
        "2024-07-30T10:29:03+0200",
        "2024-07-30T10:29:03+02:0",
        "2024-07-30T10:29:03+24:00",
        "2024-07-30T10:29:03+02:60",
        "2024-07-30T10:29:03+02:00Z",
        "2024-00-30T10:29:03Z",
        "2024-13-30T10:29:03Z",
        "2024-07-00T10:29:03Z",
        "2024-07-32T10:29:03Z",
        "2024-04-31T10:29:03Z",
        "2019-02-29T10:29:03Z",
        "1900-02-29T10:29:03Z",
        "2024-07-30T24:00:00Z",
        "2024-07-30T10:60:03Z",
        "2024-07-30T10:29:61Z",
        "+024-07-30T10:29:03Z",
        "2024-07-30T1a:29:03Z",
        "1722335343",
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        t = 12345;
        assert_int_equal(pay_paypal_parse_time(good[i].s, strlen(good[i].s),
                                               &t),
                         0);
        if (t != good[i].t) {
            fail_msg("\"%s\": %lld", good[i].s, t);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (pay_paypal_parse_time(bad[i], strlen(bad[i]), &t) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }

    /* the length counts: a NUL is a byte like another */
    assert_int_equal(pay_paypal_parse_time("2024-07-30T10:29:03Z\0", 21, &t),
                     -1);
    assert_int_equal(pay_paypal_parse_time("2024-07-30T10:29:03Z", 19, &t),
                     -1);
    assert_int_equal(pay_paypal_parse_time(NULL, 0, &t), -1);
}


static void
test_headers(void **state)
{
    char                   big[PAY_PAYPAL_CERT_URL_MAX + 2];
    size_t                 sig_len, path_len;
    const char            *path;
    unsigned char          sig[PAY_PAYPAL_SIG_MAX];
    pay_paypal_headers_t   h, good;

    (void) state;

    headers_p2(&good);
    memset(big, 'A', sizeof(big));

    assert_int_equal(check(&good, P2_TIME_T, 300), PAY_OK);
    assert_int_equal(check(&good, 0, 0), PAY_OK);

    /* each header missing (NULL) or empty */
    h = good;
    h.id = NULL;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.id_len = 0;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.time = NULL;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.time_len = 0;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.sig = NULL;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.sig_len = 0;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.cert_url = NULL;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.cert_url_len = 0;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.algo = NULL;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);
    h = good;
    h.algo_len = 0;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);

    /* missing beats malformed */
    h = good;
    h.id = "bad id";
    h.id_len = 6;
    h.algo_len = 0;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MISSING);

    /* each over its cap */
    h = good;
    h.id = big;
    h.id_len = PAY_PAYPAL_ID_MAX;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_OK);
    h.id_len = PAY_PAYPAL_ID_MAX + 1;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.time = big;
    h.time_len = PAY_PAYPAL_TIME_MAX + 1;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.sig = big;
    h.sig_len = PAY_PAYPAL_SIG_B64_MAX;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_OK);
    h.sig_len = PAY_PAYPAL_SIG_B64_MAX + 4;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.cert_url = big;
    h.cert_url_len = PAY_PAYPAL_CERT_URL_MAX + 1;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.algo = big;
    h.algo_len = PAY_PAYPAL_ALGO_MAX + 1;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);

    /* the id: visible ASCII only */
    h = good;
    h.id = "a b";
    h.id_len = 3;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.id = "a\x01";
    h.id_len = 2;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.id = "a\x7f";
    h.id_len = 2;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.id = "caf\xc3\xa9";
    h.id_len = 5;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.id = "!~";
    h.id_len = 2;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_OK);

    /* the time */
    h = good;
    h.time = "2024-07-30 10:29:03Z";
    h.time_len = 20;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.time = "1722335343";
    h.time_len = 10;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);

    /* the signature: strict base64 */
    h = good;
    h.sig = "not base64!";
    h.sig_len = 11;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.sig_len = good.sig_len - 1;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.sig = "QUJD\n";
    h.sig_len = 5;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.sig = "QUI";
    h.sig_len = 3;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.sig = "QUJ=";
    h.sig_len = 4;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);

    /* the algorithm: exactly SHA256withRSA */
    h = good;
    h.algo = "SHA1withRSA";
    h.algo_len = 11;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.algo = "sha256withrsa";
    h.algo_len = 13;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.algo = "SHA256withRSA ";
    h.algo_len = 14;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.algo = "SHA256withRSA";
    h.algo_len = 12;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);
    h = good;
    h.algo = "SHA512withRSA";
    h.algo_len = 13;
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_SIGNATURE_MALFORMED);

    /* the window, both sides, both edges */
    assert_int_equal(check(&good, P2_TIME_T + 300, 300), PAY_OK);
    assert_int_equal(check(&good, P2_TIME_T + 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(check(&good, P2_TIME_T - 300, 300), PAY_OK);
    assert_int_equal(check(&good, P2_TIME_T - 301, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(check(&good, P2_NOW, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(check(&good, (long long) time(NULL), 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    assert_int_equal(check(&good, (long long) time(NULL), 0), PAY_OK);

    /* an offset is honoured by the window */
    h = good;
    h.time = "2024-07-30T12:29:03+02:00";
    h.time_len = 25;
    assert_int_equal(check(&h, P2_TIME_T, 1), PAY_OK);

    /* a bad URL is reported last */
    h = good;
    h.cert_url = "https://evil.com/v1/notifications/certs/C";
    h.cert_url_len = strlen(h.cert_url);
    assert_int_equal(check(&h, P2_TIME_T, 300), PAY_ERR_CERT_URL_REJECTED);
    assert_int_equal(check(&h, P2_NOW, 300),
                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE);
    h.algo = "SHA1withRSA";
    h.algo_len = 11;
    assert_int_equal(check(&h, P2_NOW, 300), PAY_ERR_SIGNATURE_MALFORMED);

    /* outputs */
    assert_int_equal(pay_paypal_check_headers(&good, hosts, host_lens, 4,
                                              P2_TIME_T, 300, sig, &sig_len,
                                              &path, &path_len),
                     PAY_OK);
    assert_int_equal(sig_len, 256);
    assert_int_equal(sig[0], 0x30);       /* "MOKf..." */
    assert_int_equal(sig[255], 0xe5);     /* "...5Q==" */
    assert_memory_equal(path, P2_CERT_PATH, path_len);

    assert_int_equal(pay_paypal_check_headers(NULL, hosts, host_lens, 4,
                                              P2_TIME_T, 300, sig, &sig_len,
                                              &path, &path_len),
                     PAY_ERR_INTERNAL);
}


static void
test_verify_request_p2(void **state)
{
    char                  *out, *expected;
    size_t                 len, bound, size;
    json_t                *doc, *event;
    json_error_t           err;
    pay_paypal_headers_t   h;

    (void) state;

    headers_p2(&h);

    bound = pay_paypal_verify_request_size(&h, strlen(P2_WEBHOOK),
                                           fx.p2_body.len);
    out = malloc(bound);
    expected = malloc(bound + 1);
    assert_non_null(out);
    assert_non_null(expected);

    len = (size_t) snprintf(expected, bound + 1,
                            "{\"auth_algo\":\"" ALGO "\","
                            "\"cert_url\":\"" P2_CERT_URL "\","
                            "\"transmission_id\":\"" P2_ID "\","
                            "\"transmission_sig\":\"%.*s\","
                            "\"transmission_time\":\"" P2_TIME "\","
                            "\"webhook_id\":\"" P2_WEBHOOK "\","
                            "\"webhook_event\":%.*s}",
                            (int) fx.p2_sig.len, (char *) fx.p2_sig.data,
                            (int) fx.p2_body.len, (char *) fx.p2_body.data);
    assert_true(len <= bound);

    assert_int_equal(pay_paypal_verify_request(&h, P2_WEBHOOK,
                                               strlen(P2_WEBHOOK),
                                               fx.p2_body.data,
                                               fx.p2_body.len, out, bound),
                     len);
    assert_memory_equal(out, expected, len);

    /* the body verbatim, then the closing brace */
    assert_memory_equal(out + len - 1 - fx.p2_body.len, fx.p2_body.data,
                        fx.p2_body.len);

    /* valid JSON, and the event is the body */
    doc = json_loadb(out, len, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(doc);
    event = json_loadb((char *) fx.p2_body.data, fx.p2_body.len, 0, &err);
    assert_non_null(event);
    assert_true(json_equal(json_object_get(doc, "webhook_event"), event));
    assert_string_equal(json_string_value(json_object_get(doc, "webhook_id")),
                        P2_WEBHOOK);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "transmission_id")),
                        P2_ID);
    assert_int_equal(json_object_size(doc), 7);
    json_decref(event);
    json_decref(doc);

    /* exactly the room needed, and any less */
    assert_int_equal(pay_paypal_verify_request(&h, P2_WEBHOOK,
                                               strlen(P2_WEBHOOK),
                                               fx.p2_body.data,
                                               fx.p2_body.len, out, len),
                     len);

    for (size = 0; size < len; size += (size < 400) ? 1 : 61) {
        assert_int_equal(pay_paypal_verify_request(&h, P2_WEBHOOK,
                                                   strlen(P2_WEBHOOK),
                                                   fx.p2_body.data,
                                                   fx.p2_body.len, out,
                                                   size),
                         0);
    }

    assert_int_equal(pay_paypal_verify_request(&h, P2_WEBHOOK,
                                               strlen(P2_WEBHOOK),
                                               fx.p2_body.data,
                                               fx.p2_body.len, out, len - 1),
                     0);

    /* P1 too */
    free(out);
    bound = pay_paypal_verify_request_size(&h, strlen(P1_WEBHOOK),
                                           fx.p1_body.len);
    out = malloc(bound);
    assert_non_null(out);
    len = pay_paypal_verify_request(&h, P1_WEBHOOK, strlen(P1_WEBHOOK),
                                    fx.p1_body.data, fx.p1_body.len, out,
                                    bound);
    assert_true(len > fx.p1_body.len);
    assert_memory_equal(out + len - 1 - fx.p1_body.len, fx.p1_body.data,
                        fx.p1_body.len);

    free(out);
    free(expected);
}


static void
test_verify_request_escaping(void **state)
{
    char                   out[1024];
    size_t                 len;
    json_t                *doc;
    json_error_t           err;
    pay_paypal_headers_t   h;

    static const char  expected[] =
        "{\"auth_algo\":\"A\",\"cert_url\":\"u\\\\\","
        "\"transmission_id\":\"a\\\"b\\\\c/\",\"transmission_sig\":\"s\","
        "\"transmission_time\":\"t\",\"webhook_id\":\"\\\"w\","
        "\"webhook_event\": {\"k\" : [1.0, {}]} }";

    (void) state;

    memset(&h, 0, sizeof(h));
    h.algo = "A";
    h.algo_len = 1;
    h.cert_url = "u\\";
    h.cert_url_len = 2;
    h.id = "a\"b\\c/";
    h.id_len = 6;
    h.sig = "s";
    h.sig_len = 1;
    h.time = "t";
    h.time_len = 1;

    len = pay_paypal_verify_request(&h, "\"w", 2,
                                    (const unsigned char *) ESCAPING_BODY,
                                    strlen(ESCAPING_BODY), out, sizeof(out));
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(out, expected, len);
    assert_true(len <= pay_paypal_verify_request_size(&h, 2,
                                                      strlen(ESCAPING_BODY)));

    doc = json_loadb(out, len, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc,
                                                          "transmission_id")),
                        "a\"b\\c/");
    assert_string_equal(json_string_value(json_object_get(doc, "cert_url")),
                        "u\\");
    assert_string_equal(json_string_value(json_object_get(doc, "webhook_id")),
                        "\"w");
    json_decref(doc);

    /* all escaped: the bound of twice the length is reached */
    h.id = "\"\"\\\\";
    h.id_len = 4;
    len = pay_paypal_verify_request(&h, "", 0, (const unsigned char *) "{}",
                                    2, out, sizeof(out));
    assert_true(len > 0);
    assert_true(len <= pay_paypal_verify_request_size(&h, 0, 2));
    assert_non_null(memchr(out, '\\', len));

    /* control characters and non-ASCII bytes, in any field */
    h.id = "a\nb";
    h.id_len = 3;
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "{}",
                                               2, out, sizeof(out)),
                     0);
    h.id = "a\0b";
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "{}",
                                               2, out, sizeof(out)),
                     0);
    h.id = "ab";
    h.id_len = 2;
    assert_int_equal(pay_paypal_verify_request(&h, "w\t", 2,
                                               (const unsigned char *) "{}",
                                               2, out, sizeof(out)),
                     0);
    h.time = "\x1f";
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "{}",
                                               2, out, sizeof(out)),
                     0);
    h.time = "\xc3\xa9";
    h.time_len = 2;
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "{}",
                                               2, out, sizeof(out)),
                     0);
    h.time = "t";
    h.time_len = 1;

    /* the body: one JSON object, nothing that could close ours early */
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *)
                                               "{},\"webhook_id\":\"x\"",
                                               20, out, sizeof(out)),
                     0);
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "[]",
                                               2, out, sizeof(out)),
                     0);
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "{",
                                               1, out, sizeof(out)),
                     0);
    assert_int_equal(pay_paypal_verify_request(&h, "w", 1,
                                               (const unsigned char *) "",
                                               0, out, sizeof(out)),
                     0);
    assert_true(pay_paypal_verify_request(&h, "w", 1,
                                          (const unsigned char *) "{}",
                                          2, out, sizeof(out))
                > 0);

    assert_int_equal(pay_paypal_verify_request_size(NULL, 1, 1), 0);
    assert_int_equal(pay_paypal_verify_request_size(&h, 1, (size_t) -1), 0);
}


static void
test_verify_response(void **state)
{
    size_t  i;

    static const char  *internal[] = {
        "",
        "SUCCESS",
        "\"SUCCESS\"",
        "{}",
        "{\"verification_status\":\"success\"}",
        "{\"verification_status\":\"SUCCESS \"}",
        "{\"verification_status\":\"PENDING\"}",
        "{\"verification_status\":true}",
        "{\"verification_status\":null}",
        "{\"verification_status\":[\"SUCCESS\"]}",
        "{\"verification_status\":\"SUCCESS\","
        "\"verification_status\":\"FAILURE\"}",
        "{\"verification_status\":\"SUCCESS\"} x",
        "{\"verification_status\":\"SUCCESS\"",
        "{\"other\":{\"verification_status\":\"SUCCESS\"}}",
        "{\"name\":\"VALIDATION_ERROR\",\"message\":\"Invalid request\"}",
    };

    (void) state;

    assert_int_equal(pay_paypal_verify_response(RESPONSE(
                         "{\"verification_status\":\"SUCCESS\"}")),
                     PAY_OK);
    assert_int_equal(pay_paypal_verify_response(RESPONSE(
                         " {\"a\":1, \"verification_status\" : \"SUCCESS\","
                         "\"b\":{\"verification_status\":\"FAILURE\"}}\n")),
                     PAY_OK);
    assert_int_equal(pay_paypal_verify_response(RESPONSE(
                         "{\"verification_status\":\"\\u0053UCCESS\"}")),
                     PAY_OK);
    assert_int_equal(pay_paypal_verify_response(RESPONSE(
                         "{\"verification_status\":\"FAILURE\"}")),
                     PAY_ERR_SIGNATURE_MISMATCH);

    for (i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
        if (pay_paypal_verify_response(RESPONSE(internal[i]))
            != PAY_ERR_INTERNAL)
        {
            fail_msg("not internal: %s", internal[i]);
        }
    }

    assert_int_equal(pay_paypal_verify_response(NULL, 0), PAY_ERR_INTERNAL);
}


static void
test_token_parse(void **state)
{
    char       token[64];
    size_t     i, len;
    long long  expires;

    static const char  *bad[] = {
        "",
        "not json",
        "{}",
        "{\"access_token\":\"A21AA\"}",
        "{\"expires_in\":32400}",
        "{\"access_token\":\"\",\"expires_in\":32400}",
        "{\"access_token\":\"A B\",\"expires_in\":32400}",
        "{\"access_token\":\"A\\nB\",\"expires_in\":32400}",
        "{\"access_token\":\"caf\\u00e9\",\"expires_in\":32400}",
        "{\"access_token\":123,\"expires_in\":32400}",
        "{\"access_token\":\"A\",\"expires_in\":0}",
        "{\"access_token\":\"A\",\"expires_in\":-1}",
        "{\"access_token\":\"A\",\"expires_in\":1.5}",
        "{\"access_token\":\"A\",\"expires_in\":1e3}",
        "{\"access_token\":\"A\",\"expires_in\":\"32400\"}",
        "{\"access_token\":\"A\",\"expires_in\":1234567890123456789}",
        "{\"access_token\":\"A\",\"expires_in\":1,\"token_type\":\"MAC\"}",
        "{\"access_token\":\"A\",\"expires_in\":1,\"token_type\":null}",
        "{\"access_token\":\"A\",\"access_token\":\"B\",\"expires_in\":1}",
        "{\"access_token\":\"0123456789012345678901234567890123456789"
        "0123456789012345678901234\",\"expires_in\":1}",
    };

    (void) state;

    assert_int_equal(pay_paypal_token_parse(RESPONSE(TOKEN_RESPONSE), token,
                                            sizeof(token), &len, &expires),
                     -1);   /* 97 bytes: does not fit 64 */

    {
        char  large[128];

        assert_int_equal(pay_paypal_token_parse(RESPONSE(TOKEN_RESPONSE),
                                                large, sizeof(large), &len,
                                                &expires),
                         0);
        assert_int_equal(len, 97);
        assert_string_equal(large, "A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDV"
                                   "DESseMHBYXVJYE8ovjj68elIDy8nF26AwPhfXTIe"
                                   "WAZHSLIsQkSYz9ifg");
        assert_true(expires == 32400);

        /* 97 bytes and the NUL: 98 is enough, 97 is not */
        assert_int_equal(pay_paypal_token_parse(RESPONSE(TOKEN_RESPONSE),
                                                large, 98, &len, &expires),
                         0);
        assert_int_equal(pay_paypal_token_parse(RESPONSE(TOKEN_RESPONSE),
                                                large, 97, &len, &expires),
                         -1);
    }

    /* token_type optional, in any case; escapes decoded */
    assert_int_equal(pay_paypal_token_parse(RESPONSE(
                         "{\"access_token\":\"a\\/b\",\"expires_in\":1}"),
                         token, sizeof(token), &len, &expires),
                     0);
    assert_string_equal(token, "a/b");
    assert_int_equal(len, 3);
    assert_true(expires == 1);

    assert_int_equal(pay_paypal_token_parse(RESPONSE(
                         "{\"token_type\":\"bearer\",\"expires_in\":"
                         "123456789012345678,\"access_token\":\"~!\"}"),
                         token, sizeof(token), &len, &expires),
                     0);
    assert_string_equal(token, "~!");
    assert_true(expires == 123456789012345678LL);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(token, 'x', sizeof(token));

        if (pay_paypal_token_parse(RESPONSE(bad[i]), token, sizeof(token),
                                   &len, &expires)
            != -1)
        {
            fail_msg("accepted: %s", bad[i]);
        }

        /* nothing of a token is left behind */
        assert_int_equal(token[0], '\0');
    }

    assert_int_equal(pay_paypal_token_parse(RESPONSE(
                         "{\"access_token\":\"A\",\"expires_in\":1}"),
                         token, 1, &len, &expires),
                     -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_message_p1_p2),
        cmocka_unit_test(test_verify_p1_p2),
        cmocka_unit_test(test_offline_flow_p2),
        cmocka_unit_test(test_cert_dates),
        cmocka_unit_test(test_cert_chain),
        cmocka_unit_test(test_cert_made_here),
        cmocka_unit_test(test_cert_pem),
        cmocka_unit_test(test_verify_signature_errors),
        cmocka_unit_test(test_trust_new),
        cmocka_unit_test(test_cert_url),
        cmocka_unit_test(test_cert_url_canonical),
        cmocka_unit_test(test_policy_id),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_binding),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_verify_request_p2),
        cmocka_unit_test(test_verify_request_escaping),
        cmocka_unit_test(test_verify_response),
        cmocka_unit_test(test_token_parse),
    };

    return cmocka_run_group_tests_name("pay_paypal", tests, setup, teardown);
}
