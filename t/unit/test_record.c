/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_record.c: the values a store record holds in Redis.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pay_record.h"


#define TOKEN  "0123456789abcdef0123456789abcdef"


static void
test_encode_processing(void **state)
{
    size_t         n;
    unsigned char  out[64];

    (void) state;

    assert_int_equal(pay_record_size(sizeof(TOKEN) - 1), sizeof(TOKEN));

    memset(out, 0xff, sizeof(out));
    n = pay_record_encode(PAY_RECORD_PROCESSING,
                          (const unsigned char *) TOKEN, sizeof(TOKEN) - 1,
                          out);

    assert_int_equal(n, sizeof(TOKEN));
    assert_memory_equal(out, "P" TOKEN, n);

    /* nothing written past the record */
    assert_int_equal(out[n], 0xff);
}


static void
test_encode_done(void **state)
{
    size_t         n;
    unsigned char  out[8];

    (void) state;

    n = pay_record_encode(PAY_RECORD_DONE, (const unsigned char *) "200", 3,
                          out);

    assert_int_equal(n, 4);
    assert_memory_equal(out, "D200", 4);
}


static void
test_encode_empty_done(void **state)
{
    size_t         n;
    unsigned char  out[1];

    (void) state;

    assert_int_equal(pay_record_size(0), 1);

    n = pay_record_encode(PAY_RECORD_DONE, NULL, 0, out);

    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'D');
}


static void
test_unknown(void **state)
{
    size_t                n, len;
    pay_record_state_e    s;
    const unsigned char  *p;
    unsigned char         out[1];

    (void) state;

    n = pay_record_encode(PAY_RECORD_UNKNOWN, NULL, 0, out);

    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'U');

    assert_int_equal(pay_record_parse(out, n, &s, &p, &len), 0);
    assert_int_equal(s, PAY_RECORD_UNKNOWN);
    assert_int_equal(len, 0);

    /* we never write a payload after "U" */
    assert_int_equal(pay_record_parse((const unsigned char *) "Ux", 2,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "u", 1,
                                      &s, &p, &len), -1);
}


static void
test_size_overflow(void **state)
{
    (void) state;

    assert_int_equal(pay_record_size((size_t) -1), 0);
    assert_int_equal(pay_record_size((size_t) -2), (size_t) -1);
}


static void
test_parse_processing(void **state)
{
    int                   rc;
    size_t                len;
    pay_record_state_e    s;
    const unsigned char  *p;
    const unsigned char   v[] = "P" TOKEN;

    (void) state;

    rc = pay_record_parse(v, sizeof(v) - 1, &s, &p, &len);

    assert_int_equal(rc, 0);
    assert_int_equal(s, PAY_RECORD_PROCESSING);
    assert_ptr_equal(p, v + 1);
    assert_int_equal(len, sizeof(TOKEN) - 1);
    assert_memory_equal(p, TOKEN, len);

    /* the longest token there may be, and the shortest */
    assert_int_equal(pay_record_parse((const unsigned char *)
                                      "P" TOKEN TOKEN,
                                      2 * (sizeof(TOKEN) - 1) + 1,
                                      &s, &p, &len), 0);
    assert_int_equal(len, PAY_RECORD_TOKEN_MAX);
    assert_int_equal(pay_record_parse((const unsigned char *) "P0", 2,
                                      &s, &p, &len), 0);
    assert_int_equal(len, 1);
}


static void
test_parse_done(void **state)
{
    int                   rc;
    size_t                len;
    pay_record_state_e    s;
    const unsigned char  *p;
    const unsigned char   v[] = "D{\"status\":200}";

    (void) state;

    rc = pay_record_parse(v, sizeof(v) - 1, &s, &p, &len);

    assert_int_equal(rc, 0);
    assert_int_equal(s, PAY_RECORD_DONE);
    assert_int_equal(len, sizeof(v) - 2);
    assert_memory_equal(p, "{\"status\":200}", len);
}


static void
test_parse_done_empty_value(void **state)
{
    int                   rc;
    size_t                len;
    pay_record_state_e    s;
    const unsigned char  *p;

    (void) state;

    rc = pay_record_parse((const unsigned char *) "D", 1, &s, &p, &len);

    assert_int_equal(rc, 0);
    assert_int_equal(s, PAY_RECORD_DONE);
    assert_int_equal(len, 0);
}


static void
test_parse_binary_payload(void **state)
{
    int                   rc;
    size_t                len;
    pay_record_state_e    s;
    const unsigned char  *p;
    const unsigned char   v[] = { 'D', 0x00, '\r', '\n', 0xff, 0x00 };

    (void) state;

    /* binary-safe: NUL, CR LF and high bytes are payload like any other */
    rc = pay_record_parse(v, sizeof(v), &s, &p, &len);

    assert_int_equal(rc, 0);
    assert_int_equal(s, PAY_RECORD_DONE);
    assert_int_equal(len, sizeof(v) - 1);
    assert_memory_equal(p, v + 1, len);
}


static void
test_parse_rejects(void **state)
{
    size_t                len;
    pay_record_state_e    s;
    const unsigned char  *p;

    (void) state;

    len = 12345;
    p = (const unsigned char *) "untouched";
    s = PAY_RECORD_DONE;

    assert_int_equal(pay_record_parse(NULL, 0, &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "", 0,
                                      &s, &p, &len), -1);

    /* a claim always has a token */
    assert_int_equal(pay_record_parse((const unsigned char *) "P", 1,
                                      &s, &p, &len), -1);

    /*
     * of lowercase hex digits, as every claim token is: a tampered one
     * (CR, LF, controls, upper case, too long) is not a claim of ours
     */
    assert_int_equal(pay_record_parse((const unsigned char *) "Pab\r\ncd", 7,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "Pab\x01", 4,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "PABCDEF", 7,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "Pab cd", 6,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *)
                                      "P" TOKEN TOKEN "0",
                                      2 * (sizeof(TOKEN) - 1) + 2,
                                      &s, &p, &len), -1);

    /* other writers' values, lower-case tags, RESP-looking bytes */
    assert_int_equal(pay_record_parse((const unsigned char *) "1", 1,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "pabc", 4,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "dabc", 4,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "$3\r\nabc", 7,
                                      &s, &p, &len), -1);
    assert_int_equal(pay_record_parse((const unsigned char *) "\0D", 2,
                                      &s, &p, &len), -1);

    /* outputs untouched on failure */
    assert_int_equal(len, 12345);
    assert_int_equal(s, PAY_RECORD_DONE);
    assert_string_equal((const char *) p, "untouched");
}


static void
test_parse_length_bounds(void **state)
{
    size_t                len;
    pay_record_state_e    s;
    const unsigned char  *p;
    const unsigned char   v[] = "DXYZ";

    (void) state;

    /* only len bytes are read: a shorter view is a shorter payload */
    assert_int_equal(pay_record_parse(v, 2, &s, &p, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 'X');
}


static void
test_round_trip(void **state)
{
    size_t                n, len, i;
    pay_record_state_e    s;
    const unsigned char  *p;
    unsigned char         payload[300], out[301];

    (void) state;

    for (i = 0; i < sizeof(payload); i++) {
        payload[i] = (unsigned char) i;
    }

    for (i = 1; i <= PAY_RECORD_TOKEN_MAX; i += 7) {
        n = pay_record_encode(PAY_RECORD_PROCESSING,
                              (const unsigned char *) TOKEN TOKEN, i, out);
        assert_int_equal(n, pay_record_size(i));
        assert_int_equal(pay_record_parse(out, n, &s, &p, &len), 0);
        assert_int_equal(s, PAY_RECORD_PROCESSING);
        assert_int_equal(len, i);
        assert_memory_equal(p, TOKEN TOKEN, i);
    }

    /* a done value is the reader's to check: any bytes */

    for (i = 1; i <= sizeof(payload); i += 37) {
        n = pay_record_encode(PAY_RECORD_DONE, payload, i, out);
        assert_int_equal(pay_record_parse(out, n, &s, &p, &len), 0);
        assert_int_equal(s, PAY_RECORD_DONE);
        assert_int_equal(len, i);
        assert_memory_equal(p, payload, i);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_encode_processing),
        cmocka_unit_test(test_encode_done),
        cmocka_unit_test(test_encode_empty_done),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_size_overflow),
        cmocka_unit_test(test_parse_processing),
        cmocka_unit_test(test_parse_done),
        cmocka_unit_test(test_parse_done_empty_value),
        cmocka_unit_test(test_parse_binary_payload),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_length_bounds),
        cmocka_unit_test(test_round_trip),
    };

    return cmocka_run_group_tests_name("pay_record", tests, NULL, NULL);
}
