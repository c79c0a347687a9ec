/*
 * Copyright (C) ngx_pay authors
 *
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash of a
 * short message.  Whoever does not know the key cannot choose keys that
 * fall into one hash bucket, which an unkeyed hash (a CRC) lets anyone do
 * with a little linear algebra.  Pure C.
 */


#ifndef PAY_SIPHASH_H_INCLUDED_
#define PAY_SIPHASH_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define PAY_SIPHASH_KEY_LEN  16


/*
 * SipHash-2-4 of p[0..len) under the 16-byte key k, as the reference
 * implementation returns it (its 8 output bytes read little-endian).
 * p may be NULL when len is 0.
 */
uint64_t pay_siphash24(const unsigned char k[PAY_SIPHASH_KEY_LEN],
    const unsigned char *p, size_t len);


#endif /* PAY_SIPHASH_H_INCLUDED_ */
