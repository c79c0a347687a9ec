/*
 * Copyright (C) ngx_pay authors
 *
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header,
 * docs/intents.md): the key's syntax, the store key and body fingerprint
 * derived from it, the idempotency value each provider is sent, and the
 * record kept in the store.  Pure C (OpenSSL for SHA-256).
 */


#ifndef PAY_IDEMPOTENCY_H_INCLUDED_
#define PAY_IDEMPOTENCY_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"
#include "pay_kind.h"


#define PAY_IDEMPOTENCY_KEY_MAX       255

/* SHA-256 as lowercase hex, without the NUL */
#define PAY_IDEMPOTENCY_HASH_LEN      64

/* "ngxpay-" and 32 hex digits: within Square CreatePayment's 45 */
#define PAY_IDEMPOTENCY_PROVIDER_PREFIX   "ngxpay-"
#define PAY_IDEMPOTENCY_PROVIDER_KEY_LEN  39

/* the store's NGX_HTTP_PAY_STORE_VALUE_MAX */
#define PAY_IDEMPOTENCY_RECORD_MAX    65536

#define PAY_IDEMPOTENCY_KEY_REASON                                            \
    "must be 1 to 255 printable ASCII characters, or an RFC 8941 string"


typedef enum {
    /* an intent was made; the app has not answered for good yet */
    PAY_IDEMPOTENCY_CREATED = 1,
    /* the final answer is saved for replay */
    PAY_IDEMPOTENCY_COMPLETED = 2
} pay_idempotency_state_e;


/*
 * A stored record.  Pointers refer to the caller's bytes for encoding and
 * into the decoded value after pay_idempotency_record_decode().
 */
typedef struct {
    pay_idempotency_state_e   state;
    char                      fingerprint[PAY_IDEMPOTENCY_HASH_LEN + 1];
    const unsigned char      *intent;        /* normalized result JSON */
    size_t                    intent_len;
    int                       status;        /* COMPLETED: 200..499 */
    const char               *content_type;  /* COMPLETED, may be empty */
    size_t                    content_type_len;
    const unsigned char      *body;          /* COMPLETED, may be empty */
    size_t                    body_len;
} pay_idempotency_record_t;


/*
 * Reads an Idempotency-Key header value.  SP and HTAB around it are
 * ignored.  A value starting with '"' is an RFC 8941 sf-string: it must
 * end with the closing '"', hold only 0x20..0x7e, and escape '"' and '\'
 * as \" and \\ (no other escape); it is unquoted.  Any other value is
 * taken as it is (most clients send bare keys, as Stripe's do).  The key
 * must then be 1..PAY_IDEMPOTENCY_KEY_MAX bytes of 0x20..0x7e, neither
 * starting nor ending with a space: printable ASCII, spaces inside only,
 * so that it is the same key however a proxy trims the header.
 * Returns:
 *   PAY_OK                           out holds the key, NUL-terminated,
 *                                    *out_len its length;
 *   PAY_ERR_IDEMPOTENCY_KEY_MISSING  v is NULL, empty or only SP/HTAB;
 *   PAY_ERR_VALIDATION_FAILED        anything else (422, field
 *                                    "Idempotency-Key", reason
 *                                    PAY_IDEMPOTENCY_KEY_REASON);
 *   PAY_ERR_INTERNAL                 out (size bytes) too small: with
 *                                    PAY_IDEMPOTENCY_KEY_MAX + 1 it never
 *                                    is.
 */
pay_rc_e pay_idempotency_key_parse(const char *v, size_t len, char *out,
    size_t size, size_t *out_len);

/* one string of a hash's input; data may be NULL when len is 0 */
typedef struct {
    const void  *data;
    size_t       len;
} pay_idempotency_part_t;


/*
 * The store key: lowercase hex SHA-256 of a version tag, then server,
 * scope, location and key, each preceded by its length as 8 bytes
 * big-endian (so no two different tuples hash the same bytes).  server
 * names the server{} block (its first server_name), so two servers with
 * one location path and one key are two keys; scope is the client's
 * identity (pay_idempotency_scope), location names the configured
 * location.  Writes PAY_IDEMPOTENCY_HASH_LEN digits and a NUL to out.
 * Any pointer may be NULL when its length is 0.  Returns 0, or -1 when
 * OpenSSL fails.
 */
int pay_idempotency_store_key(const char *server, size_t server_len,
    const char *scope, size_t scope_len, const char *location,
    size_t location_len, const char *key, size_t key_len,
    char out[PAY_IDEMPOTENCY_HASH_LEN + 1]);

/* lowercase hex SHA-256 of the raw body, NUL-terminated; 0 or -1 */
int pay_idempotency_fingerprint(const unsigned char *body, size_t len,
    char out[PAY_IDEMPOTENCY_HASH_LEN + 1]);

/*
 * The fingerprint of a request that the server completed with values of
 * its own (pay_intent_set): with n 0, pay_idempotency_fingerprint()'s;
 * else lowercase hex SHA-256 of a version tag, the body and the n parts
 * (each server-set field's name, then its value, empty ones included),
 * each preceded by its length as 8 bytes big-endian.  The same body with
 * other server-set values is another fingerprint.  0 or -1.
 */
int pay_idempotency_fingerprint_parts(const unsigned char *body, size_t len,
    const pay_idempotency_part_t *parts, size_t n,
    char out[PAY_IDEMPOTENCY_HASH_LEN + 1]);

/*
 * The idempotency value sent to a provider for a store key:
 * "ngxpay-" and the first 32 hex digits of SHA-256 of a version tag,
 * the provider number and the store key.  Stable across restarts,
 * nodes and releases as long as the store key's form is (changing it
 * lets a retry create a second payment: the store key's v2, which added
 * the server, did so once), distinct per provider, 39 characters of
 * [a-z0-9-]: within Stripe's Idempotency-Key (255), PayPal's
 * PayPal-Request-Id (108), Square's CreatePayment idempotency_key (45)
 * and CreatePaymentLink's (192).  Writes
 * PAY_IDEMPOTENCY_PROVIDER_KEY_LEN characters and a NUL.  Returns 0, or
 * -1 when OpenSSL fails or store_key is NULL.
 */
int pay_idempotency_provider_key(const char *store_key,
    pay_provider_e provider, char out[PAY_IDEMPOTENCY_PROVIDER_KEY_LEN + 1]);

/*
 * The encoded size of rec, or 0 when it is not a valid record or would
 * exceed PAY_IDEMPOTENCY_RECORD_MAX.  The encoding (all integers
 * big-endian):
 *   "PI" version(1) state(1: 'C' created, 'D' completed)
 *   fingerprint(64 lowercase hex)
 *   status(2) content_type_len(2) intent_len(4) body_len(4)
 *   intent content_type body
 * A created record has status 0 and no content type or body.
 */
size_t pay_idempotency_record_size(const pay_idempotency_record_t *rec);

/*
 * Encodes rec into out (size bytes).  Returns the bytes written, or 0
 * when rec is invalid or out is too small.
 */
size_t pay_idempotency_record_encode(const pay_idempotency_record_t *rec,
    unsigned char *out, size_t size);

/*
 * Decodes a stored value (it comes from Redis: anything may be there).
 * Returns 0 with rec filled in, pointers into v; -1 when v is not exactly
 * one valid encoding (wrong magic, version or state, bad hex, lengths not
 * adding up to len, a status outside 200..499 for a completed record (the
 * module never saves a 1xx or a 5xx) or not 0 for a created one, a content
 * type with bytes outside 0x20..0x7e).  The intent is checked by its own
 * reader, pay_intent_result_parse().
 */
int pay_idempotency_record_decode(const unsigned char *v, size_t len,
    pay_idempotency_record_t *rec);


#endif /* PAY_IDEMPOTENCY_H_INCLUDED_ */
