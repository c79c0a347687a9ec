/*
 * Copyright (C) ngx_pay authors
 *
 * The value a store record holds in Redis: one tag byte, then the payload.
 *
 *   "P" + token   processing: claimed, the claim's owner token;
 *   "D" + value   done: completed, the value given to complete;
 *   "U"           unknown: a claim given up without knowing what the
 *                 app did (an upstream timeout); the next claim takes
 *                 it over and is told so.
 *
 * One tag byte keeps the claim, the compare-and-set of complete and the
 * compare-and-delete of release single GET/SET round trips on one string
 * key, so they work on any Redis and on cluster-compatible endpoints.
 * Pure C: no nginx headers.
 */


#ifndef PAY_RECORD_H_INCLUDED_
#define PAY_RECORD_H_INCLUDED_


#include <stddef.h>


typedef enum {
    PAY_RECORD_PROCESSING = 0,
    PAY_RECORD_DONE,
    PAY_RECORD_UNKNOWN
} pay_record_state_e;


#define PAY_RECORD_TAG_PROCESSING  'P'
#define PAY_RECORD_TAG_DONE        'D'
#define PAY_RECORD_TAG_UNKNOWN     'U'

/* the longest claim token a processing record may hold */
#define PAY_RECORD_TOKEN_MAX       64


/*
 * The encoded length for a payload of payload_len bytes, 0 when it would
 * not fit in a size_t.
 */
size_t pay_record_size(size_t payload_len);

/*
 * Writes the tag of state then the payload to out, which has room for
 * pay_record_size(payload_len) bytes; returns the bytes written.  payload
 * may be NULL when payload_len is 0.
 */
size_t pay_record_encode(pay_record_state_e state,
    const unsigned char *payload, size_t payload_len, unsigned char *out);

/*
 * Splits a stored value.  0: *state, and *payload / *payload_len point
 * into v (the token, or the done value, which may be empty and which its
 * own reader checks; nothing for unknown).  -1: not a record of ours
 * (empty, unknown tag, a processing record whose token is not
 * 1..PAY_RECORD_TOKEN_MAX lowercase hex digits, as every claim token is,
 * an unknown one with a payload); the outputs are then untouched.
 */
int pay_record_parse(const unsigned char *v, size_t len,
    pay_record_state_e *state, const unsigned char **payload,
    size_t *payload_len);


#endif /* PAY_RECORD_H_INCLUDED_ */
