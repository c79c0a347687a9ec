/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_error.c: the table of error codes, their statuses and
 * whose fault they are (docs/errors.md).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pay_error.h"


typedef struct {
    pay_rc_e     rc;
    const char  *code;
    int          status;
    int          client_fault;
} expected_error_t;


static const expected_error_t  expected[] = {

    { PAY_ERR_SIGNATURE_MISSING,
      "signature_missing", 400, 1 },
    { PAY_ERR_SIGNATURE_MALFORMED,
      "signature_malformed", 400, 1 },
    { PAY_ERR_SIGNATURE_MISMATCH,
      "signature_mismatch", 400, 1 },
    { PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE,
      "timestamp_out_of_tolerance", 400, 1 },
    { PAY_ERR_CERT_URL_REJECTED,
      "cert_url_rejected", 400, 1 },
    { PAY_ERR_CERT_UNTRUSTED,
      "cert_untrusted", 400, 1 },
    { PAY_ERR_TRANSMISSION_REUSED,
      "transmission_reused", 400, 1 },
    { PAY_ERR_BODY_MALFORMED,
      "body_malformed", 400, 1 },
    { PAY_ERR_BODY_TOO_LARGE,
      "body_too_large", 413, 1 },
    { PAY_ERR_METHOD_NOT_ALLOWED,
      "method_not_allowed", 405, 1 },
    { PAY_ERR_DUPLICATE,
      "duplicate", 200, 1 },
    { PAY_ERR_IN_FLIGHT,
      "in_flight", 409, 1 },
    { PAY_ERR_IDEMPOTENCY_CONFLICT,
      "idempotency_conflict", 409, 1 },
    { PAY_ERR_IDEMPOTENCY_KEY_MISSING,
      "idempotency_key_missing", 400, 1 },
    { PAY_ERR_IDEMPOTENCY_KEY_REUSED,
      "idempotency_key_reused", 422, 1 },
    { PAY_ERR_VALIDATION_FAILED,
      "validation_failed", 422, 1 },
    { PAY_ERR_PROVIDER_ERROR,
      "provider_error", 402, 1 },
    { PAY_ERR_PROVIDER_UNAVAILABLE,
      "provider_unavailable", 503, 0 },
    { PAY_ERR_STORE_UNAVAILABLE,
      "store_unavailable", 503, 0 },
    { PAY_ERR_INTERNAL,
      "internal_error", 500, 0 }
};


static void
test_every_code_present_and_distinct(void **state)
{
    int                      i, j;
    const char              *p;
    const pay_error_info_t  *a, *b;

    (void) state;

    for (i = 0; i < PAY_ERR_LAST; i++) {
        a = pay_error_info((pay_rc_e) i);

        assert_non_null(a);
        assert_non_null(a->code);
        assert_non_null(a->title);
        assert_true(strlen(a->code) > 0);
        assert_true(strlen(a->title) > 0);

        for (p = a->code; *p != '\0'; p++) {
            assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        }

        for (j = 0; j < i; j++) {
            b = pay_error_info((pay_rc_e) j);
            assert_true(a != b);
            assert_string_not_equal(a->code, b->code);
            assert_string_not_equal(a->title, b->title);
        }
    }
}


static void
test_table_matches_docs(void **state)
{
    size_t                   i;
    const pay_error_info_t  *info;

    (void) state;

    /* every error enum value is listed above exactly once */
    assert_int_equal(sizeof(expected) / sizeof(expected[0]),
                     PAY_ERR_LAST - 1);

    for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        info = pay_error_info(expected[i].rc);

        assert_string_equal(info->code, expected[i].code);
        assert_int_equal(info->status, expected[i].status);
        assert_int_equal(info->client_fault, expected[i].client_fault);
    }
}


static void
test_titles(void **state)
{
    (void) state;

    assert_string_equal(pay_error_info(PAY_ERR_SIGNATURE_MISMATCH)->title,
                        "Signature mismatch");
    assert_string_equal(pay_error_info(PAY_ERR_INTERNAL)->title,
                        "Internal error");
}


static void
test_ok_entry(void **state)
{
    const pay_error_info_t  *info;

    (void) state;

    assert_int_equal(PAY_OK, 0);

    info = pay_error_info(PAY_OK);
    assert_string_equal(info->code, "ok");
    assert_int_equal(info->status, 200);
}


static void
test_out_of_range_is_internal(void **state)
{
    const pay_error_info_t  *internal;

    (void) state;

    internal = pay_error_info(PAY_ERR_INTERNAL);

    assert_ptr_equal(pay_error_info(PAY_ERR_LAST), internal);
    assert_ptr_equal(pay_error_info((pay_rc_e) (PAY_ERR_LAST + 1)), internal);
    assert_ptr_equal(pay_error_info((pay_rc_e) 9999), internal);
    assert_ptr_equal(pay_error_info((pay_rc_e) -1), internal);
    assert_string_equal(internal->code, "internal_error");
    assert_int_equal(internal->status, 500);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_every_code_present_and_distinct),
        cmocka_unit_test(test_table_matches_docs),
        cmocka_unit_test(test_titles),
        cmocka_unit_test(test_ok_entry),
        cmocka_unit_test(test_out_of_range_is_internal),
    };

    return cmocka_run_group_tests_name("pay_error", tests, NULL, NULL);
}
