/*
 * Copyright (C) ngx_pay authors
 *
 * RESP request formatting (pay_resp.h).  The lengths are written in
 * decimal by hand: they are the only variable part, and hiredis's
 * sprintf() of them was most of the formatting's time.
 */


#include <string.h>

#include "pay_resp.h"


/* the decimal digits of a size_t, at most */
#define PAY_RESP_DIGITS  20


static size_t pay_resp_digits(size_t n);
static char *pay_resp_head(char *p, char type, size_t n);


size_t
pay_resp_command_len(int argc, const size_t *argvlen)
{
    int     i;
    size_t  len, part;

    if (argc <= 0) {
        return 0;
    }

    /* "*" argc CR LF */
    len = 1 + pay_resp_digits((size_t) argc) + 2;

    for (i = 0; i < argc; i++) {

        /* "$" len CR LF bytes CR LF */
        part = 1 + pay_resp_digits(argvlen[i]) + 2 + 2;

        if (argvlen[i] > (size_t) -1 - part
            || len > (size_t) -1 - part - argvlen[i])
        {
            return 0;
        }

        len += part + argvlen[i];
    }

    return len;
}


char *
pay_resp_command(char *dst, int argc, const char **argv,
    const size_t *argvlen)
{
    int    i;
    char  *p;

    p = pay_resp_head(dst, '*', (size_t) argc);

    for (i = 0; i < argc; i++) {
        p = pay_resp_head(p, '$', argvlen[i]);

        if (argvlen[i] != 0) {
            memcpy(p, argv[i], argvlen[i]);
            p += argvlen[i];
        }

        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}


static size_t
pay_resp_digits(size_t n)
{
    size_t  d;

    for (d = 1; n >= 10; d++) {
        n /= 10;
    }

    return d;
}


/* type, n in decimal, CR LF */

static char *
pay_resp_head(char *p, char type, size_t n)
{
    char    digits[PAY_RESP_DIGITS], *d;
    size_t  len;

    d = digits + sizeof(digits);

    do {
        *--d = (char) ('0' + n % 10);
        n /= 10;
    } while (n != 0);

    len = (size_t) (digits + sizeof(digits) - d);

    *p++ = type;
    memcpy(p, d, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';

    return p;
}
