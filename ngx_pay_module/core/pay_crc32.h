/*
 * Copyright (C) ngx_pay authors
 *
 * CRC-32 as zlib and IEEE 802.3 compute it (reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF): the checksum PayPal
 * signs (docs/providers/paypal.md).  Pure C.
 */


#ifndef PAY_CRC32_H_INCLUDED_
#define PAY_CRC32_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * Returns the CRC-32 of the bytes already summed into crc followed by
 * p[0..len).  Start with 0; the result of one call is the crc of the next,
 * so a body split over buffers is summed one buffer at a time:
 *     crc = pay_crc32_update(0, a, a_len);
 *     crc = pay_crc32_update(crc, b, b_len);
 * crc32("") is 0.  p may be NULL when len is 0.
 */
uint32_t pay_crc32_update(uint32_t crc, const unsigned char *p, size_t len);


#endif /* PAY_CRC32_H_INCLUDED_ */
