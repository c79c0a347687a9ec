/*
 * Copyright (C) ngx_pay authors
 *
 * Keyed HMAC with OpenSSL, prepared once (at configuration time) and used
 * many times (per request).  Pure C: no nginx headers.
 */


#ifndef PAY_HMAC_H_INCLUDED_
#define PAY_HMAC_H_INCLUDED_


#include <stddef.h>


#define PAY_HMAC_MAX_LEN  64    /* SHA-512 size: enough for every digest */


typedef enum {
    PAY_DIGEST_SHA256 = 0,
    PAY_DIGEST_SHA1
} pay_digest_e;


typedef struct pay_hmac_key_s  pay_hmac_key_t;


/*
 * The key bytes are copied; the caller may wipe its copy.  Returns NULL on
 * allocation failure or an empty key.
 */
pay_hmac_key_t *pay_hmac_key_new(const unsigned char *key, size_t len,
    pay_digest_e digest);
void pay_hmac_key_free(pay_hmac_key_t *key);   /* NULL is fine; wipes */

/* digest output size in bytes (32 for SHA-256, 20 for SHA-1) */
size_t pay_hmac_size(const pay_hmac_key_t *key);

/*
 * One MAC over the concatenation of n parts (scatter list), written to out
 * (at least pay_hmac_size() bytes).  Returns 0 on success, -1 on an OpenSSL
 * failure (the OpenSSL error queue is cleared before returning).  Not
 * reentrant for one key: the key's working context is reused, so a key is
 * used by one thread at a time (an nginx worker, the command-line tool).
 */
typedef struct {
    const void  *data;
    size_t       len;
} pay_iovec_t;

int pay_hmac_compute(const pay_hmac_key_t *key, const pay_iovec_t *parts,
    size_t n, unsigned char *out);

/*
 * Whether the key's working context is restarted per message (1) or the
 * template duplicated (0, an OpenSSL that fails the restart, and 1.1.x);
 * setting it to 0 is for the tests of that path.
 */
int pay_hmac_key_restarts(const pay_hmac_key_t *key);
void pay_hmac_key_no_restart(pay_hmac_key_t *key);

/* constant-time equality of two equal-length byte strings: 1 equal, 0 not */
int pay_mem_equal(const void *a, const void *b, size_t len);


#endif /* PAY_HMAC_H_INCLUDED_ */
