/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhook verification (docs/providers/paypal.md), everything that is
 * pure computation: header and cert URL policy, the signed message, the
 * certificate checks and the SHA256withRSA verification of offline mode,
 * and the JSON of API mode.  Pure C (OpenSSL and jansson allowed), no
 * nginx headers: the glue fetches and caches, this file decides.
 *
 *   message = transmission_id "|" transmission_time "|" webhook_id "|"
 *             decimal(crc32(raw body))
 *   valid   = RSA PKCS#1 v1.5 SHA-256 verify(cert key, message, sig)
 */


#ifndef PAY_PAYPAL_H_INCLUDED_
#define PAY_PAYPAL_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "pay_error.h"


/*
 * header caps: the verify-webhook-signature API schema
 * (docs/providers/paypal.md)
 */
#define PAY_PAYPAL_ID_MAX          50
#define PAY_PAYPAL_TIME_MAX        100
#define PAY_PAYPAL_SIG_B64_MAX     500
#define PAY_PAYPAL_CERT_URL_MAX    500
#define PAY_PAYPAL_ALGO_MAX        100
#define PAY_PAYPAL_WEBHOOK_ID_MAX  50

/* decoded transmission signature bytes: room for RSA-4096 */
#define PAY_PAYPAL_SIG_MAX         512

/* the certificate key sizes accepted, in bits */
#define PAY_PAYPAL_KEY_BITS_MIN    2048
#define PAY_PAYPAL_KEY_BITS_MAX    (PAY_PAYPAL_SIG_MAX * 8)

/* the longest certificate name after "/v1/notifications/certs/" */
#define PAY_PAYPAL_CERT_NAME_MAX   128

/* a message of checked headers and a webhook id of at most 50 bytes fits */
#define PAY_PAYPAL_MESSAGE_MAX                                                \
    (PAY_PAYPAL_ID_MAX + PAY_PAYPAL_TIME_MAX + PAY_PAYPAL_WEBHOOK_ID_MAX     \
     + 3 + 10)


/* the five headers: pointers into the request, not NUL-terminated */
typedef struct {
    const char  *id;            /* paypal-transmission-id */
    size_t       id_len;
    const char  *time;          /* paypal-transmission-time */
    size_t       time_len;
    const char  *sig;           /* paypal-transmission-sig, base64 */
    size_t       sig_len;
    const char  *cert_url;      /* paypal-cert-url */
    size_t       cert_url_len;
    const char  *algo;          /* paypal-auth-algo */
    size_t       algo_len;
} pay_paypal_headers_t;


typedef struct pay_paypal_trust_s  pay_paypal_trust_t;


/*
 * Checks the headers before anything is fetched, in this order:
 *   a header absent (NULL) or empty          PAY_ERR_SIGNATURE_MISSING;
 *   a length over the PAY_PAYPAL_*_MAX caps, an id byte outside visible
 *   ASCII 0x21..0x7e, a time that pay_paypal_parse_time() refuses, a sig
 *   that is not strict padded base64         PAY_ERR_SIGNATURE_MALFORMED;
 *   algo other than "SHA256withRSA" exactly  PAY_ERR_SIGNATURE_MALFORMED;
 *   the time outside now +- tolerance (0 disables: pay_timestamp_check())
 *                                     PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE;
 *   the cert URL refused by pay_paypal_cert_url_check()
 *                                            PAY_ERR_CERT_URL_REJECTED.
 * On PAY_OK, sig_out (PAY_PAYPAL_SIG_MAX bytes) holds the decoded
 * signature, *sig_len_out its length, and *path, *path_len the path of
 * the cert URL (see below).  PAY_ERR_INTERNAL when h, sig_out or
 * sig_len_out is NULL.
 */
pay_rc_e pay_paypal_check_headers(const pay_paypal_headers_t *h,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    long long now, long long tolerance,
    unsigned char *sig_out, size_t *sig_len_out,
    const char **path, size_t *path_len);

/*
 * The cert URL policy (docs/providers.md): "https://" (scheme in any case),
 * then a host equal, ignoring ASCII case, to one of hosts[0..nhosts)
 * (exactly: no suffix match, no trailing dot, no userinfo, no port, not
 * even ":443"), then the path "/v1/notifications/certs/" (exact case)
 * followed by a name of 1..128 bytes of [A-Za-z0-9._-] that neither
 * starts with '.' nor holds "..", and nothing after it (no '/', no
 * %-escape, no query, no fragment).  On PAY_OK *path and *path_len point
 * into url at the path, "/v1/notifications/certs/<name>", for the glue to
 * append to its internal location.  Otherwise PAY_ERR_CERT_URL_REJECTED.
 */
pay_rc_e pay_paypal_cert_url_check(const char *url, size_t len,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    const char **path, size_t *path_len);

/*
 * The form of a cert URL that caches are keyed by: when
 * pay_paypal_cert_url_check() accepts url, "https://", its host in lower
 * case, then its path as it is (the scheme and the host are the only
 * parts compared without case), written to out[0..size), no NUL.  Returns
 * its length (that of url), or 0 when url is refused or does not fit.
 * Host-case variants of one certificate's URL give one key.
 */
size_t pay_paypal_cert_url_canonical(const char *url, size_t len,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    char *out, size_t size);

/*
 * What a cached certificate verdict depends on besides its URL: a SHA-256
 * over the trust anchors (each certificate's DER, in the store's order;
 * trust may be NULL: none), the allowed hosts (lower case, in the given
 * order) and the internal location that fetches (as given), each part
 * tagged and length-prefixed.  Locations share cached verdicts only when
 * their ids are equal.  0 with id[0..PAY_PAYPAL_POLICY_ID_LEN) set, or -1
 * (a NULL argument, an OpenSSL failure).
 */
#define PAY_PAYPAL_POLICY_ID_LEN   32

int pay_paypal_policy_id(pay_paypal_trust_t *trust,
    const char *const *hosts, const size_t *host_lens, size_t nhosts,
    const char *location, size_t location_len, unsigned char *id);

/*
 * RFC 3339 date-time to Unix seconds: "YYYY-MM-DDTHH:MM:SS", an optional
 * fraction ".d+" (dropped), then "Z" or "+hh:mm" / "-hh:mm"; 'T' and 'Z'
 * in either case; fields range-checked (the day against its month, leap
 * years included; second 60 allowed, as RFC 3339 does).  Returns 0 with
 * *t set, or -1.
 */
int pay_paypal_parse_time(const char *s, size_t len, long long *t);

/*
 * The binding of a transmission id to the body it was signed for (the
 * signature covers only a CRC-32 of the body, which anyone can match).
 *
 * pay_paypal_binding_key() writes
 *   "paypal:transmission:" decimal(webhook_id_len) ":" webhook_id ":" id
 * to out[0..size), no NUL, and returns its length, 0 when it does not fit
 * or a length is 0: the webhook id's length makes the key unambiguous
 * whatever either id holds.
 *
 * pay_paypal_binding_token() writes the SHA-256 of the raw body as 64
 * lowercase hex digits and a NUL to out; 0, or -1 (OpenSSL failed).
 *
 * pay_paypal_binding_ttl() checks the transmission time t again, just
 * before binding (time may have passed since the headers were checked):
 * PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE when |now - t| > tolerance, or when
 * tolerance is not positive (a PayPal binding needs a window); else
 * PAY_OK with *ttl the seconds the binding must last: until t + tolerance
 * plus PAY_PAYPAL_BINDING_MARGIN seconds, at least that margin.
 */
#define PAY_PAYPAL_BINDING_TOKEN_LEN  64
#define PAY_PAYPAL_BINDING_MARGIN     60

size_t pay_paypal_binding_key(const char *webhook_id, size_t webhook_id_len,
    const char *id, size_t id_len, char *out, size_t size);
int pay_paypal_binding_token(const unsigned char *body, size_t len,
    char out[PAY_PAYPAL_BINDING_TOKEN_LEN + 1]);
pay_rc_e pay_paypal_binding_ttl(long long t, long long tolerance,
    long long now, long long *ttl);

/*
 * Writes id "|" time "|" webhook_id "|" decimal(crc) into out[0..size),
 * no NUL, and returns its length; 0 when it does not fit.  The glue sums
 * the raw body with pay_crc32_update() over its buffers.
 */
size_t pay_paypal_message(const pay_paypal_headers_t *h,
    const char *webhook_id, size_t webhook_id_len, uint32_t crc,
    char *out, size_t size);

/*
 * Trust anchors for pay_paypal_cert_validate(): the certificates of a
 * PEM file (several allowed, at least one required), or OpenSSL's default
 * bundle file (X509_get_default_cert_file(), on Debian the system's
 * ca-certificates.crt) when cafile is NULL, loaded now, never lazily from
 * a hashed directory.  A chain must end at a self-signed
 * certificate of the store (no partial chains), so the file holds a root
 * (DigiCert High Assurance EV Root CA); add the intermediate next to it
 * when the fetched PEM may lack it.  NULL on failure.  Loaded once, at
 * configuration time; used read-only afterwards.
 */
pay_paypal_trust_t *pay_paypal_trust_new(const char *cafile);
void pay_paypal_trust_free(pay_paypal_trust_t *trust);   /* NULL is fine */

/*
 * Validates a fetched certificate response: PEM, the first certificate
 * the leaf, up to 8 more for the untrusted chain (other text around them
 * is ignored; an encrypted or broken block fails).  In this order:
 *   "pem"            not PEM, no certificate, or too many;
 *   "expired", "not yet valid"
 *                    a certificate of the chain outside its validity at
 *                    now (the time is passed, never read from the clock);
 *   "chain"          any other chain error (unknown issuer, self-signed,
 *                    bad signature, ...);
 *   "name"           the leaf is not for messageverificationcerts.paypal.com
 *                    nor messageverificationcerts.sandbox.paypal.com
 *                    (X509_check_host, wildcards never match, the subject
 *                    CN is used only when there is no DNS SAN);
 *   "key"            not an RSA key of 2048..4096 bits.
 * Then PAY_ERR_CERT_UNTRUSTED, *reason (if not NULL) set to the static
 * string above.  On PAY_OK: *der and *der_len the leaf's public key as DER
 * SubjectPublicKeyInfo, malloc'd (free with pay_paypal_free()), and
 * *not_after the leaf's notAfter in Unix seconds (the cache expiry).
 * PAY_ERR_INTERNAL (reason "internal") on a NULL argument or an
 * allocation failure.
 */
pay_rc_e pay_paypal_cert_validate(pay_paypal_trust_t *trust,
    const unsigned char *pem, size_t pem_len, long long now,
    unsigned char **der, size_t *der_len, long long *not_after,
    const char **reason);
void pay_paypal_free(void *p);

/*
 * SHA256withRSA (PKCS#1 v1.5) of msg with the DER public key from
 * pay_paypal_cert_validate().  PAY_OK, PAY_ERR_SIGNATURE_MISMATCH, or
 * PAY_ERR_INTERNAL (DER not an RSA SubjectPublicKeyInfo, OpenSSL failure).
 */
pay_rc_e pay_paypal_verify_signature(const unsigned char *der,
    size_t der_len, const unsigned char *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len);


/* API mode (pay_paypal_verify api) */

/*
 * An upper bound of the pay_paypal_verify_request() length for these
 * headers, webhook id and body lengths; 0 if it overflows a size_t.
 */
size_t pay_paypal_verify_request_size(const pay_paypal_headers_t *h,
    size_t webhook_id_len, size_t body_len);

/*
 * The verify-webhook-signature request body, into out[0..size), no NUL:
 *   {"auth_algo":"..","cert_url":"..","transmission_id":"..",
 *    "transmission_sig":"..","transmission_time":"..","webhook_id":"..",
 *    "webhook_event":<body verbatim>}
 * without any whitespace.  The six strings have '"' and '\' escaped;
 * bytes below 0x20 and above 0x7e make it fail (every field is ASCII in
 * the schema, and this keeps the document valid UTF-8).  The body must be
 * exactly one JSON object (pay_json_scan_object()): a body such as
 * `{},"webhook_id":"other"` would otherwise inject members.  Returns the
 * length, or 0 when it does not fit or an input is refused.
 */
size_t pay_paypal_verify_request(const pay_paypal_headers_t *h,
    const char *webhook_id, size_t webhook_id_len,
    const unsigned char *body, size_t body_len, char *out, size_t size);

/*
 * The verify-webhook-signature response: one JSON object whose top-level
 * "verification_status" is the string "SUCCESS" (PAY_OK) or "FAILURE"
 * (PAY_ERR_SIGNATURE_MISMATCH); anything else (not JSON, absent, another
 * value or type, duplicated) is PAY_ERR_INTERNAL.  Only an HTTP 200 body
 * should be given here.
 */
pay_rc_e pay_paypal_verify_response(const unsigned char *json, size_t len);

/*
 * An OAuth2 client-credentials response: one JSON object with a string
 * "access_token" of 1..size-1 visible ASCII bytes (0x21..0x7e) once
 * decoded, copied NUL-terminated into token[size] with *token_len set; an
 * integer "expires_in" > 0 (digits only, at most 18) into *expires_in;
 * "token_type", when present, the string "Bearer" in any case.  Returns
 * 0, or -1 (token then wiped).
 */
int pay_paypal_token_parse(const unsigned char *json, size_t len,
    char *token, size_t size, size_t *token_len, long long *expires_in);


#endif /* PAY_PAYPAL_H_INCLUDED_ */
