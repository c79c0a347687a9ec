/*
 * Copyright (C) ngx_pay authors
 *
 * Strict base64 (RFC 4648 section 4, the standard alphabet) for signature
 * headers.  Pure C.
 */


#ifndef PAY_BASE64_H_INCLUDED_
#define PAY_BASE64_H_INCLUDED_


#include <stddef.h>


/* the decoded size of len base64 characters is at most this */
#define pay_base64_decoded_max(len)  (((len) + 3) / 4 * 3)

/* the encoded size of len bytes, padded */
#define pay_base64_encoded_len(len)  (((len) + 2) / 3 * 4)


/*
 * Decodes in[0..len) into out (size bytes).  Accepted: the standard
 * alphabet, padded to a multiple of 4 with at most two '=' at the end;
 * unpadded input when allow_unpadded is set (Standard Webhooks secrets);
 * nothing else, no whitespace, and no non-zero bits in the unused low
 * bits of the last character (so each value has exactly one encoding).
 * Returns 0 with *out_len set, or -1 (malformed, or out too small).
 */
int pay_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t size, size_t *out_len, int allow_unpadded);

/* writes pay_base64_encoded_len(len) characters to out; no NUL */
void pay_base64_encode(const unsigned char *in, size_t len, char *out);


#endif /* PAY_BASE64_H_INCLUDED_ */
