/*
 * Copyright (C) ngx_pay authors
 *
 * Strict base64.  OpenSSL's EVP_DecodeBlock() accepts whitespace and
 * miscounts padding, and nginx's decoder is not available to core/, so the
 * few lines are written out here.
 */


#include "pay_base64.h"


static int pay_base64_value(unsigned char c);


static const char  pay_base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


static int
pay_base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    if (c == '/') {
        return 63;
    }

    return -1;
}


int
pay_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t size, size_t *out_len, int allow_unpadded)
{
    int                   v;
    size_t                i, n, pad, data_len, rem;
    unsigned long         acc;
    const unsigned char  *p;

    p = (const unsigned char *) in;

    pad = 0;

    if (len > 0 && p[len - 1] == '=') {
        pad++;

        if (len > 1 && p[len - 2] == '=') {
            pad++;
        }
    }

    if (pad > 0 || !allow_unpadded) {
        if (len % 4 != 0) {
            return -1;
        }
    }

    data_len = len - pad;
    rem = data_len % 4;

    if (rem == 1) {
        return -1;
    }

    n = data_len / 4 * 3 + (rem == 0 ? 0 : rem - 1);

    if (n > size) {
        return -1;
    }

    acc = 0;
    n = 0;

    for (i = 0; i < data_len; i++) {
        v = pay_base64_value(p[i]);
        if (v < 0) {
            return -1;
        }

        acc = (acc << 6) | (unsigned long) v;

        if (i % 4 == 3) {
            out[n++] = (unsigned char) (acc >> 16);
            out[n++] = (unsigned char) (acc >> 8);
            out[n++] = (unsigned char) acc;
            acc = 0;
        }
    }

    if (rem == 2) {
        if (acc & 0x0f) {
            return -1;
        }

        out[n++] = (unsigned char) (acc >> 4);

    } else if (rem == 3) {
        if (acc & 0x03) {
            return -1;
        }

        out[n++] = (unsigned char) (acc >> 10);
        out[n++] = (unsigned char) (acc >> 2);
    }

    *out_len = n;

    return 0;
}


void
pay_base64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t         i;
    unsigned long  acc;

    for (i = 0; i + 2 < len; i += 3) {
        acc = ((unsigned long) in[i] << 16) | ((unsigned long) in[i + 1] << 8)
              | in[i + 2];
        *out++ = pay_base64_alphabet[(acc >> 18) & 0x3f];
        *out++ = pay_base64_alphabet[(acc >> 12) & 0x3f];
        *out++ = pay_base64_alphabet[(acc >> 6) & 0x3f];
        *out++ = pay_base64_alphabet[acc & 0x3f];
    }

    if (len - i == 1) {
        acc = (unsigned long) in[i] << 16;
        *out++ = pay_base64_alphabet[(acc >> 18) & 0x3f];
        *out++ = pay_base64_alphabet[(acc >> 12) & 0x3f];
        *out++ = '=';
        *out++ = '=';

    } else if (len - i == 2) {
        acc = ((unsigned long) in[i] << 16) | ((unsigned long) in[i + 1] << 8);
        *out++ = pay_base64_alphabet[(acc >> 18) & 0x3f];
        *out++ = pay_base64_alphabet[(acc >> 12) & 0x3f];
        *out++ = pay_base64_alphabet[(acc >> 6) & 0x3f];
        *out++ = '=';
    }
}
