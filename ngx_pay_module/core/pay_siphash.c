/*
 * Copyright (C) ngx_pay authors
 *
 * SipHash-2-4, written from the paper ("SipHash: a fast short-input PRF",
 * section 2): two rounds per 8-byte word, four to finish.  Words are read
 * little-endian byte by byte, which compilers turn into one load on
 * little-endian machines and which needs no alignment.
 */


#include "pay_siphash.h"


#define pay_siphash_rotl(x, b)  (((x) << (b)) | ((x) >> (64 - (b))))

#define pay_siphash_le64(p)                                                   \
    ((uint64_t) (p)[0] | (uint64_t) (p)[1] << 8                               \
     | (uint64_t) (p)[2] << 16 | (uint64_t) (p)[3] << 24                      \
     | (uint64_t) (p)[4] << 32 | (uint64_t) (p)[5] << 40                      \
     | (uint64_t) (p)[6] << 48 | (uint64_t) (p)[7] << 56)

#define pay_siphash_round(v0, v1, v2, v3)                                     \
    do {                                                                      \
        v0 += v1; v1 = pay_siphash_rotl(v1, 13); v1 ^= v0;                    \
        v0 = pay_siphash_rotl(v0, 32);                                        \
        v2 += v3; v3 = pay_siphash_rotl(v3, 16); v3 ^= v2;                    \
        v0 += v3; v3 = pay_siphash_rotl(v3, 21); v3 ^= v0;                    \
        v2 += v1; v1 = pay_siphash_rotl(v1, 17); v1 ^= v2;                    \
        v2 = pay_siphash_rotl(v2, 32);                                        \
    } while (0)


uint64_t
pay_siphash24(const unsigned char k[PAY_SIPHASH_KEY_LEN],
    const unsigned char *p, size_t len)
{
    size_t    i, tail;
    uint64_t  k0, k1, v0, v1, v2, v3, m, b;

    k0 = pay_siphash_le64(k);
    k1 = pay_siphash_le64(k + 8);

    v0 = k0 ^ 0x736f6d6570736575ULL;          /* "somepseu" */
    v1 = k1 ^ 0x646f72616e646f6dULL;          /* "dorandom" */
    v2 = k0 ^ 0x6c7967656e657261ULL;          /* "lygenera" */
    v3 = k1 ^ 0x7465646279746573ULL;          /* "tedbytes" */

    for (i = 0; i + 8 <= len; i += 8) {
        m = pay_siphash_le64(p + i);

        v3 ^= m;
        pay_siphash_round(v0, v1, v2, v3);
        pay_siphash_round(v0, v1, v2, v3);
        v0 ^= m;
    }

    /* the last 0..7 bytes, and the length's low byte on top */

    b = (uint64_t) (len & 0xff) << 56;

    for (tail = len - i; tail > 0; tail--) {
        b |= (uint64_t) p[i + tail - 1] << (8 * (tail - 1));
    }

    v3 ^= b;
    pay_siphash_round(v0, v1, v2, v3);
    pay_siphash_round(v0, v1, v2, v3);
    v0 ^= b;

    v2 ^= 0xff;
    pay_siphash_round(v0, v1, v2, v3);
    pay_siphash_round(v0, v1, v2, v3);
    pay_siphash_round(v0, v1, v2, v3);
    pay_siphash_round(v0, v1, v2, v3);

    return v0 ^ v1 ^ v2 ^ v3;
}
