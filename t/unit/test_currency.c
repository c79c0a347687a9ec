/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_currency.c: ISO 4217 exponents and the decimal form
 * of amounts in minor units.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "pay_currency.h"


static int exponent(const char *code);
static void assert_decimal(long long minor, int exp, const char *expected);


static int
exponent(const char *code)
{
    return pay_currency_exponent(code, strlen(code));
}


static void
assert_decimal(long long minor, int exp, const char *expected)
{
    char    out[PAY_AMOUNT_DECIMAL_MAX];
    size_t  len;

    memset(out, 'x', sizeof(out));

    len = pay_amount_decimal(minor, exp, out, sizeof(out));

    assert_int_equal(len, strlen(expected));
    assert_string_equal(out, expected);
}


static void
test_common(void **state)
{
    (void) state;

    assert_int_equal(exponent("USD"), 2);
    assert_int_equal(exponent("EUR"), 2);
    assert_int_equal(exponent("GBP"), 2);
    assert_int_equal(exponent("JPY"), 0);
    assert_int_equal(exponent("KWD"), 3);
    assert_int_equal(exponent("HUF"), 2);
    assert_int_equal(exponent("TWD"), 2);
}


static void
test_case_insensitive(void **state)
{
    (void) state;

    assert_int_equal(exponent("usd"), 2);
    assert_int_equal(exponent("Jpy"), 0);
    assert_int_equal(exponent("kWd"), 3);
}


static void
test_zero_decimal(void **state)
{
    size_t             i;
    static const char  *codes[] = {
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
        "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"
    };

    (void) state;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(exponent(codes[i]), 0);
    }
}


static void
test_three_and_four_decimal(void **state)
{
    size_t             i;
    static const char  *codes[] = {
        "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"
    };

    (void) state;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(exponent(codes[i]), 3);
    }

    assert_int_equal(exponent("CLF"), 4);
    assert_int_equal(exponent("UYW"), 4);
}


static void
test_table_edges(void **state)
{
    (void) state;

    /* the first and last entries, and recent ones */
    assert_int_equal(exponent("AED"), 2);
    assert_int_equal(exponent("ZWG"), 2);
    assert_int_equal(exponent("XCG"), 2);
    assert_int_equal(exponent("SLE"), 2);
    assert_int_equal(exponent("VED"), 2);
}


static void
test_unknown(void **state)
{
    (void) state;

    assert_int_equal(exponent("XXX"), -1);     /* no currency */
    assert_int_equal(exponent("XAU"), -1);     /* gold: no minor unit */
    assert_int_equal(exponent("XDR"), -1);
    assert_int_equal(exponent("HRK"), -1);     /* withdrawn 2023 */
    assert_int_equal(exponent("ABC"), -1);
    assert_int_equal(exponent("AAA"), -1);
    assert_int_equal(exponent("ZZZ"), -1);
    assert_int_equal(exponent("US"), -1);
    assert_int_equal(exponent("USDX"), -1);
    assert_int_equal(exponent("U$D"), -1);
    assert_int_equal(exponent("US1"), -1);
    assert_int_equal(exponent(""), -1);
    assert_int_equal(pay_currency_exponent(NULL, 0), -1);
    assert_int_equal(pay_currency_exponent("USD", 2), -1);
    assert_int_equal(pay_currency_exponent("US\0", 3), -1);
    assert_int_equal(pay_currency_exponent("usd\0", 4), -1);
}


static void
test_decimal(void **state)
{
    (void) state;

    assert_decimal(2000, 2, "20.00");
    assert_decimal(5000, 0, "5000");
    assert_decimal(1234, 3, "1.234");
    assert_decimal(5, 2, "0.05");
    assert_decimal(1, 3, "0.001");
    assert_decimal(0, 2, "0.00");
    assert_decimal(0, 0, "0");
    assert_decimal(100, 2, "1.00");
    assert_decimal(99999999, 2, "999999.99");
    assert_decimal(12345, 4, "1.2345");
    assert_decimal(-150, 2, "-1.50");
    assert_decimal(-5, 3, "-0.005");
    assert_decimal(LLONG_MAX, 2, "92233720368547758.07");
    assert_decimal(LLONG_MIN, 2, "-92233720368547758.08");
    assert_decimal(LLONG_MIN, 18, "-9.223372036854775808");
    assert_decimal(1, 18, "0.000000000000000001");
}


static void
test_decimal_limits(void **state)
{
    char  out[8];

    (void) state;

    assert_int_equal(pay_amount_decimal(1, -1, out, sizeof(out)), 0);
    assert_int_equal(pay_amount_decimal(1, 19, out, sizeof(out)), 0);
    assert_int_equal(pay_amount_decimal(1, 2, NULL, 0), 0);

    /* "20.00" and its NUL: 6 bytes, not 5 */
    assert_int_equal(pay_amount_decimal(2000, 2, out, 5), 0);
    assert_int_equal(pay_amount_decimal(2000, 2, out, 6), 5);
    assert_string_equal(out, "20.00");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_common),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_zero_decimal),
        cmocka_unit_test(test_three_and_four_decimal),
        cmocka_unit_test(test_table_edges),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_decimal_limits),
    };

    return cmocka_run_group_tests_name("pay_currency", tests, NULL, NULL);
}
