/*
 * Copyright (C) ngx_pay authors
 *
 * ISO 4217 currencies and their minor units (docs/intents.md): how many
 * decimal digits an amount in minor units has.  Pure C.
 */


#ifndef PAY_CURRENCY_H_INCLUDED_
#define PAY_CURRENCY_H_INCLUDED_


#include <stddef.h>


/* "-" 19 digits "." NUL, the longest pay_amount_decimal() output */
#define PAY_AMOUNT_DECIMAL_MAX  24


/*
 * The ISO 4217 minor unit exponent of an active alphabetic code: 0 for
 * JPY, 2 for USD, 3 for KWD, 4 for CLF...  code[0..len) is compared
 * without regard to ASCII case; NUL bytes are just bytes.  Returns -1 for
 * anything else: a code not in the active list, funds without a minor
 * unit (XAU, XDR, XXX...), a length other than 3.  code may be NULL when
 * len is 0.
 */
int pay_currency_exponent(const char *code, size_t len);

/*
 * Writes minor as a decimal string with exponent digits after the point
 * (2000, 2 -> "20.00"; 5000, 0 -> "5000"; 1234, 3 -> "1.234"; 5, 2 ->
 * "0.05"; -150, 2 -> "-1.50"), NUL-terminated, into out.  Returns the
 * length without the NUL, or 0 when exponent is outside 0..18 or out (size
 * bytes, PAY_AMOUNT_DECIMAL_MAX is always enough) is too small.
 */
size_t pay_amount_decimal(long long minor, int exponent, char *out,
    size_t size);


#endif /* PAY_CURRENCY_H_INCLUDED_ */
