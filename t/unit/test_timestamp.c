/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_timestamp_rfc3339(): RFC 3339 date-times as Square
 * writes created_at, and what is refused.  (pay_timestamp_check() is
 * tested with Stripe's header, in test_stripe.c.)
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pay_timestamp.h"


static int
parse(const char *s, long long *t)
{
    return pay_timestamp_rfc3339(s, strlen(s), t);
}


static void
test_valid(void **state)
{
    long long  t;

    (void) state;

    /* Square's form: nanoseconds, Z (the SDKs' vector Q1) */
    assert_int_equal(parse("2022-07-13T20:30:59.037339943Z", &t), 0);
    assert_int_equal(t, 1657744259);

    /* without a fraction, one digit, lower case t and z */
    assert_int_equal(parse("2022-07-13T20:30:59Z", &t), 0);
    assert_int_equal(t, 1657744259);
    assert_int_equal(parse("2022-07-13t20:30:59.9z", &t), 0);
    assert_int_equal(t, 1657744259);

    /* offsets: the same instant */
    assert_int_equal(parse("2022-07-13T22:30:59+02:00", &t), 0);
    assert_int_equal(t, 1657744259);
    assert_int_equal(parse("2022-07-13T15:00:59.5-05:30", &t), 0);
    assert_int_equal(t, 1657744259);
    assert_int_equal(parse("2022-07-13T20:30:59-00:00", &t), 0);
    assert_int_equal(t, 1657744259);

    assert_int_equal(parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(parse("1969-12-31T23:59:59Z", &t), 0);
    assert_int_equal(t, -1);
    assert_int_equal(parse("2000-02-29T12:00:00Z", &t), 0);
    assert_int_equal(t, 951825600);
    assert_int_equal(parse("9999-12-31T23:59:59Z", &t), 0);
    assert_int_equal(t, 253402300799LL);

    /* a leap second is the next second */
    assert_int_equal(parse("2016-12-31T23:59:60Z", &t), 0);
    assert_int_equal(t, 1483228800);
}


static void
test_invalid(void **state)
{
    size_t       i;
    long long    t;
    const char  *bad[] = {
        "",
        "2022-07-13T20:30:59",              /* no zone */
        "2022-07-13 20:30:59Z",             /* space for T */
        "2022-07-13T20:30:59 Z",
        " 2022-07-13T20:30:59Z",
        "2022-07-13T20:30:59Z ",
        "2022-07-13T20:30:59.Z",            /* no digit after the point */
        "2022-07-13T20:30:59.0123456789Z",  /* ten digits */
        "2022-07-13T20:30:59,5Z",
        "2022-7-13T20:30:59Z",
        "22-07-13T20:30:59Z",
        "2022-13-13T20:30:59Z",
        "2022-00-13T20:30:59Z",
        "2022-07-00T20:30:59Z",
        "2022-07-32T20:30:59Z",
        "2022-04-31T20:30:59Z",
        "2022-02-29T20:30:59Z",             /* not a leap year */
        "1900-02-29T20:30:59Z",             /* nor is 1900 */
        "2022-07-13T24:00:00Z",
        "2022-07-13T20:60:59Z",
        "2022-07-13T20:30:61Z",
        "2022-07-13T20:30:59+2:00",
        "2022-07-13T20:30:59+02:60",
        "2022-07-13T20:30:59+24:00",
        "2022-07-13T20:30:59+0200",
        "2022-07-13T20:30:59+02:00Z",
        "2022-07-13T20:30:59ZZ",
        "2022-07-13T20:30:59\r\nZ",
        "+022-07-13T20:30:59Z",
        "2022-07-13T2a:30:59Z",
        "1657744259"
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        assert_int_equal(parse(bad[i], &t), -1);
        assert_int_equal(t, 42);
    }

    assert_int_equal(pay_timestamp_rfc3339(NULL, 0, &t), -1);

    /* only len bytes are read */
    assert_int_equal(pay_timestamp_rfc3339("2022-07-13T20:30:59Z", 19, &t),
                     -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };

    return cmocka_run_group_tests_name("pay_timestamp", tests, NULL, NULL);
}
