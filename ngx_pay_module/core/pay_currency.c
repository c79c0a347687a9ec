/*
 * Copyright (C) ngx_pay authors
 *
 * The active ISO 4217 list (the ISO 4217 Maintenance Agency's "list one",
 * amendments through 2024-2025), codes with a minor unit only, sorted for
 * a binary search.
 *
 * The table holds ISO's exponents, and a request's amount is always in
 * minor units of those.  Provider quirks are applied where each
 * provider's body is made (pay_provider_api.c):
 *   - Stripe treats ISK and UGX as two-decimal in its API (amounts must be
 *     multiples of 100): the amount is multiplied by 100 for Stripe;
 *   - PayPal's API takes HUF, JPY and TWD without decimals ("value" must
 *     be an integer for them): whole HUF and TWD are sent without
 *     decimals, other amounts are PayPal's to refuse (a 4xx);
 *   - Square supports few currencies, each with its ISO exponent.
 */


#include <string.h>

#include "pay_currency.h"


typedef struct {
    char         code[4];
    signed char  exponent;
} pay_currency_t;


static int pay_currency_compare(const char *upper, const char *code);


static const pay_currency_t  pay_currencies[] = {
    { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 },
    { "AOA", 2 }, { "ARS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 },
    { "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 }, { "BGN", 2 }, { "BHD", 3 },
    { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 }, { "BOB", 2 }, { "BOV", 2 },
    { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 },
    { "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 },
    { "CHW", 2 }, { "CLF", 4 }, { "CLP", 0 }, { "CNY", 2 }, { "COP", 2 },
    { "COU", 2 }, { "CRC", 2 }, { "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 },
    { "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 }, { "EGP", 2 },
    { "ERN", 2 }, { "ETB", 2 }, { "EUR", 2 }, { "FJD", 2 }, { "FKP", 2 },
    { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 },
    { "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 }, { "HNL", 2 },
    { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 }, { "INR", 2 },
    { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "JMD", 2 }, { "JOD", 3 },
    { "JPY", 0 }, { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 },
    { "KPW", 2 }, { "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 },
    { "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 }, { "LSL", 2 },
    { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 }, { "MKD", 2 },
    { "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 }, { "MUR", 2 },
    { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 }, { "MYR", 2 },
    { "MZN", 2 }, { "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 }, { "NOK", 2 },
    { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PAB", 2 }, { "PEN", 2 },
    { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 }, { "PYG", 0 },
    { "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 },
    { "SAR", 2 }, { "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 },
    { "SGD", 2 }, { "SHP", 2 }, { "SLE", 2 }, { "SOS", 2 }, { "SRD", 2 },
    { "SSP", 2 }, { "STN", 2 }, { "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 },
    { "THB", 2 }, { "TJS", 2 }, { "TMT", 2 }, { "TND", 3 }, { "TOP", 2 },
    { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 }, { "UAH", 2 },
    { "UGX", 0 }, { "USD", 2 }, { "USN", 2 }, { "UYI", 0 }, { "UYU", 2 },
    { "UYW", 4 }, { "UZS", 2 }, { "VED", 2 }, { "VES", 2 }, { "VND", 0 },
    { "VUV", 0 }, { "WST", 2 }, { "XAF", 0 }, { "XCD", 2 }, { "XCG", 2 },
    { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 }, { "ZAR", 2 }, { "ZMW", 2 },
    { "ZWG", 2 }
};


#define PAY_CURRENCY_COUNT                                                    \
    (sizeof(pay_currencies) / sizeof(pay_currencies[0]))

#define PAY_CURRENCY_EXPONENT_MAX  18


static int
pay_currency_compare(const char *upper, const char *code)
{
    return memcmp(upper, code, 3);
}


int
pay_currency_exponent(const char *code, size_t len)
{
    int     cmp;
    char    upper[3];
    size_t  i, lo, hi, mid;

    if (code == NULL || len != 3) {
        return -1;
    }

    for (i = 0; i < 3; i++) {

        if (code[i] >= 'a' && code[i] <= 'z') {
            upper[i] = (char) (code[i] - 'a' + 'A');

        } else if (code[i] >= 'A' && code[i] <= 'Z') {
            upper[i] = code[i];

        } else {
            return -1;
        }
    }

    lo = 0;
    hi = PAY_CURRENCY_COUNT;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        cmp = pay_currency_compare(upper, pay_currencies[mid].code);

        if (cmp == 0) {
            return pay_currencies[mid].exponent;
        }

        if (cmp < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return -1;
}


size_t
pay_amount_decimal(long long minor, int exponent, char *out, size_t size)
{
    char                digits[PAY_AMOUNT_DECIMAL_MAX];
    size_t              ndigits, len, i;
    unsigned long long  magnitude;

    if (exponent < 0 || exponent > PAY_CURRENCY_EXPONENT_MAX || out == NULL) {
        return 0;
    }

    /* LLONG_MIN has no positive counterpart: negate in unsigned */
    magnitude = (minor < 0) ? 0ULL - (unsigned long long) minor
                            : (unsigned long long) minor;

    ndigits = 0;

    do {
        digits[ndigits++] = (char) ('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);

    /* at least one digit before the point: 5 cents is "0.05" */
    while (ndigits < (size_t) exponent + 1) {
        digits[ndigits++] = '0';
    }

    len = (minor < 0) + ndigits + (exponent > 0);

    if (len + 1 > size) {
        return 0;
    }

    i = 0;

    if (minor < 0) {
        out[i++] = '-';
    }

    while (ndigits > 0) {

        if (exponent > 0 && ndigits == (size_t) exponent) {
            out[i++] = '.';
        }

        out[i++] = digits[--ndigits];
    }

    out[i] = '\0';

    return len;
}
