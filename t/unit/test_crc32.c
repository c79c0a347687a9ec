/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_crc32.c: the published check values (CRC-32's own and
 * PayPal-NET-SDK's, t/vectors/README.md), the PayPal vector bodies P1 and
 * P2 (read from $PAY_VECTORS, default t/vectors), and chaining over split
 * buffers.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit_vector.h"

#include "pay_crc32.h"


static uint32_t crc_of(const char *s);
static void test_check_values(void **state);
static void test_empty(void **state);
static void test_split_everywhere(void **state);
static void test_paypal_bodies(void **state);
static void test_all_bytes(void **state);


static uint32_t
crc_of(const char *s)
{
    return pay_crc32_update(0, (const unsigned char *) s, strlen(s));
}


static void
test_check_values(void **state)
{
    (void) state;

    assert_int_equal(crc_of("123456789"), 3421780262u);
    assert_int_equal(crc_of("123456789"), 0xcbf43926u);
    assert_int_equal(crc_of("test_string"), 157791623u);
    assert_int_equal(crc_of("a"), 0xe8b7be43u);
    assert_int_equal(crc_of("The quick brown fox jumps over the lazy dog"),
                     0x414fa339u);
}


static void
test_empty(void **state)
{
    (void) state;

    assert_int_equal(crc_of(""), 0);
    assert_int_equal(pay_crc32_update(0, NULL, 0), 0);

    /* an empty buffer in a chain changes nothing */
    assert_int_equal(pay_crc32_update(0xcbf43926u, NULL, 0), 0xcbf43926u);
}


static void
test_split_everywhere(void **state)
{
    size_t                i, j, len;
    uint32_t              crc;
    const unsigned char  *s;

    (void) state;

    s = (const unsigned char *) "test_string";
    len = strlen((const char *) s);

    for (i = 0; i <= len; i++) {
        for (j = i; j <= len; j++) {
            crc = pay_crc32_update(0, s, i);
            crc = pay_crc32_update(crc, s + i, j - i);
            crc = pay_crc32_update(crc, s + j, len - j);
            assert_int_equal(crc, 157791623u);
        }
    }

    /* one byte at a time */
    crc = 0;

    for (i = 0; i < len; i++) {
        crc = pay_crc32_update(crc, s + i, 1);
    }

    assert_int_equal(crc, 157791623u);
}


static void
test_paypal_bodies(void **state)
{
    size_t    i;
    body_t    p1, p2;
    uint32_t  crc;

    (void) state;

    assert_int_equal(read_vector("paypal_p1_body.json", &p1), 0);
    assert_int_equal(read_vector("paypal_p2_body.json", &p2), 0);

    assert_int_equal(p1.len, 1636);
    assert_int_equal(p2.len, 1263);

    assert_int_equal(pay_crc32_update(0, p1.data, p1.len), 3494065244u);
    assert_int_equal(pay_crc32_update(0, p2.data, p2.len), 524928637u);

    /* as the glue sums a body split over buffers of any size */
    for (i = 1; i < p1.len; i += 97) {
        crc = pay_crc32_update(0, p1.data, i);
        crc = pay_crc32_update(crc, p1.data + i, p1.len - i);
        assert_int_equal(crc, 3494065244u);
    }

    /* one byte changed */
    p2.data[100] ^= 0x01;
    assert_true(pay_crc32_update(0, p2.data, p2.len) != 524928637u);

    free(p1.data);
    free(p2.data);
}


static void
test_all_bytes(void **state)
{
    size_t         i;
    unsigned char  bytes[256];

    (void) state;

    for (i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (unsigned char) i;
    }

    /* zlib.crc32(bytes(range(256))) */
    assert_int_equal(pay_crc32_update(0, bytes, sizeof(bytes)), 0x29058c73u);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_paypal_bodies),
        cmocka_unit_test(test_all_bytes),
    };

    return cmocka_run_group_tests_name("pay_crc32", tests, NULL, NULL);
}
