/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_kind.c: each provider's common event types, Square's
 * status refinement, Standard Webhooks' literal kinds, and what maps to
 * "other".
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pay_kind.h"


typedef struct {
    pay_provider_e   provider;
    const char      *type;
    const char      *status;    /* NULL: none known */
    const char      *kind;
} kind_case_t;


static const char  *neutral_kinds[] = {
    PAY_KIND_PAYMENT_SUCCEEDED,
    PAY_KIND_PAYMENT_FAILED,
    PAY_KIND_PAYMENT_REFUNDED,
    PAY_KIND_DISPUTE_OPENED,
    PAY_KIND_DISPUTE_CLOSED,
    PAY_KIND_SUBSCRIPTION_CREATED,
    PAY_KIND_SUBSCRIPTION_UPDATED,
    PAY_KIND_SUBSCRIPTION_CANCELED,
    PAY_KIND_INVOICE_PAID,
    PAY_KIND_INVOICE_PAYMENT_FAILED,
    PAY_KIND_CHECKOUT_COMPLETED,
    PAY_KIND_OTHER
};


/* helpers */


static const char *
kind(pay_provider_e provider, const char *type, const char *status)
{
    return pay_event_kind(provider, type, type != NULL ? strlen(type) : 0,
                          status, status != NULL ? strlen(status) : 0);
}


static int
is_neutral(const char *k)
{
    size_t  i;

    for (i = 0; i < sizeof(neutral_kinds) / sizeof(neutral_kinds[0]); i++) {
        if (strcmp(k, neutral_kinds[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
check_cases(const kind_case_t *cases, size_t n)
{
    size_t       i;
    const char  *k;

    for (i = 0; i < n; i++) {
        k = kind(cases[i].provider, cases[i].type, cases[i].status);

        if (k == NULL || strcmp(k, cases[i].kind) != 0) {
            fail_msg("%s (status %s): got %s, want %s", cases[i].type,
                     cases[i].status != NULL ? cases[i].status : "none",
                     k != NULL ? k : "NULL", cases[i].kind);
        }
    }
}


/* tests */


static void
test_stripe(void **state)
{
    static const kind_case_t  cases[] = {
        { PAY_PROVIDER_STRIPE, "payment_intent.succeeded", NULL,
          "payment.succeeded" },
        { PAY_PROVIDER_STRIPE, "charge.succeeded", NULL,
          "payment.succeeded" },
        { PAY_PROVIDER_STRIPE, "checkout.session.async_payment_succeeded",
          NULL, "payment.succeeded" },
        { PAY_PROVIDER_STRIPE, "payment_intent.payment_failed", NULL,
          "payment.failed" },
        { PAY_PROVIDER_STRIPE, "charge.failed", NULL, "payment.failed" },
        { PAY_PROVIDER_STRIPE, "checkout.session.async_payment_failed",
          NULL, "payment.failed" },
        { PAY_PROVIDER_STRIPE, "charge.refunded", NULL, "payment.refunded" },
        { PAY_PROVIDER_STRIPE, "charge.dispute.created", NULL,
          "dispute.opened" },
        { PAY_PROVIDER_STRIPE, "charge.dispute.closed", NULL,
          "dispute.closed" },
        { PAY_PROVIDER_STRIPE, "customer.subscription.created", NULL,
          "subscription.created" },
        { PAY_PROVIDER_STRIPE, "customer.subscription.updated", NULL,
          "subscription.updated" },
        { PAY_PROVIDER_STRIPE, "customer.subscription.deleted", NULL,
          "subscription.canceled" },
        { PAY_PROVIDER_STRIPE, "invoice.paid", NULL, "invoice.paid" },
        { PAY_PROVIDER_STRIPE, "invoice.payment_succeeded", NULL,
          "invoice.paid" },
        { PAY_PROVIDER_STRIPE, "invoice.payment_failed", NULL,
          "invoice.payment_failed" },
        { PAY_PROVIDER_STRIPE, "checkout.session.completed", NULL,
          "checkout.completed" },

        /* left "other" on purpose, or simply not payments */
        { PAY_PROVIDER_STRIPE, "refund.created", NULL, "other" },
        { PAY_PROVIDER_STRIPE, "payment_intent.created", NULL, "other" },
        { PAY_PROVIDER_STRIPE, "payment_intent.canceled", NULL, "other" },
        { PAY_PROVIDER_STRIPE, "charge.dispute.updated", NULL, "other" },
        { PAY_PROVIDER_STRIPE, "customer.created", NULL, "other" },
        { PAY_PROVIDER_STRIPE, "invoice.upcoming", NULL, "other" },
        { PAY_PROVIDER_STRIPE, "checkout.session.expired", NULL, "other" },

        /* status means nothing to Stripe */
        { PAY_PROVIDER_STRIPE, "charge.refunded", "FAILED",
          "payment.refunded" },
        { PAY_PROVIDER_STRIPE, "payment.updated", "COMPLETED", "other" }
    };

    (void) state;

    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


static void
test_square(void **state)
{
    static const kind_case_t  cases[] = {
        { PAY_PROVIDER_SQUARE, "payment.created", "COMPLETED",
          "payment.succeeded" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "COMPLETED",
          "payment.succeeded" },
        { PAY_PROVIDER_SQUARE, "payment.created", "FAILED",
          "payment.failed" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "FAILED",
          "payment.failed" },
        { PAY_PROVIDER_SQUARE, "refund.created", "COMPLETED",
          "payment.refunded" },
        { PAY_PROVIDER_SQUARE, "refund.updated", "COMPLETED",
          "payment.refunded" },
        { PAY_PROVIDER_SQUARE, "dispute.created", NULL, "dispute.opened" },
        { PAY_PROVIDER_SQUARE, "dispute.created", "EVIDENCE_REQUIRED",
          "dispute.opened" },
        { PAY_PROVIDER_SQUARE, "dispute.state.updated", "WON",
          "dispute.closed" },
        { PAY_PROVIDER_SQUARE, "dispute.state.updated", "LOST",
          "dispute.closed" },
        { PAY_PROVIDER_SQUARE, "dispute.state.updated", "ACCEPTED",
          "dispute.closed" },
        { PAY_PROVIDER_SQUARE, "dispute.state.updated", "INQUIRY_CLOSED",
          "dispute.closed" },
        { PAY_PROVIDER_SQUARE, "dispute.state.changed", "WON",
          "dispute.closed" },
        { PAY_PROVIDER_SQUARE, "subscription.created", NULL,
          "subscription.created" },
        { PAY_PROVIDER_SQUARE, "subscription.updated", "ACTIVE",
          "subscription.updated" },
        { PAY_PROVIDER_SQUARE, "subscription.updated", NULL,
          "subscription.updated" },
        { PAY_PROVIDER_SQUARE, "subscription.updated", "CANCELED",
          "subscription.canceled" },
        { PAY_PROVIDER_SQUARE, "invoice.payment_made", NULL,
          "invoice.paid" },
        { PAY_PROVIDER_SQUARE, "invoice.scheduled_charge_failed", NULL,
          "invoice.payment_failed" },

        /* no status that decides: nothing to say */
        { PAY_PROVIDER_SQUARE, "payment.created", NULL, "other" },
        { PAY_PROVIDER_SQUARE, "payment.created", "APPROVED", "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "PENDING", "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "CANCELED", "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", NULL, "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "", "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "completed", "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "COMPLETED ", "other" },
        { PAY_PROVIDER_SQUARE, "payment.updated", "COMPLETE", "other" },
        { PAY_PROVIDER_SQUARE, "refund.created", "PENDING", "other" },
        { PAY_PROVIDER_SQUARE, "refund.updated", "FAILED", "other" },
        { PAY_PROVIDER_SQUARE, "refund.updated", "REJECTED", "other" },
        { PAY_PROVIDER_SQUARE, "refund.updated", NULL, "other" },
        { PAY_PROVIDER_SQUARE, "dispute.state.updated", "PROCESSING",
          "other" },
        { PAY_PROVIDER_SQUARE, "dispute.state.updated", NULL, "other" },

        /* not payments, or another provider's names */
        { PAY_PROVIDER_SQUARE, "webhooks.test_notification", NULL, "other" },
        { PAY_PROVIDER_SQUARE, "order.updated", "COMPLETED", "other" },
        { PAY_PROVIDER_SQUARE, "invoice.paid", NULL, "other" },
        { PAY_PROVIDER_SQUARE, "charge.refunded", NULL, "other" },
        { PAY_PROVIDER_SQUARE, "payment", "COMPLETED", "other" }
    };

    (void) state;

    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


static void
test_paypal(void **state)
{
    static const kind_case_t  cases[] = {
        { PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.COMPLETED", NULL,
          "payment.succeeded" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.SALE.COMPLETED", NULL,
          "payment.succeeded" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.DENIED", NULL,
          "payment.failed" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.DECLINED", NULL,
          "payment.failed" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.SALE.DENIED", NULL,
          "payment.failed" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.REFUNDED", NULL,
          "payment.refunded" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.SALE.REFUNDED", NULL,
          "payment.refunded" },
        { PAY_PROVIDER_PAYPAL, "CUSTOMER.DISPUTE.CREATED", NULL,
          "dispute.opened" },
        { PAY_PROVIDER_PAYPAL, "CUSTOMER.DISPUTE.RESOLVED", NULL,
          "dispute.closed" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.CREATED", NULL,
          "subscription.created" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.UPDATED", NULL,
          "subscription.updated" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.ACTIVATED", NULL,
          "subscription.updated" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.SUSPENDED", NULL,
          "subscription.updated" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.CANCELLED", NULL,
          "subscription.canceled" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.EXPIRED", NULL,
          "subscription.canceled" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.PAYMENT.FAILED", NULL,
          "invoice.payment_failed" },
        { PAY_PROVIDER_PAYPAL, "INVOICING.INVOICE.PAID", NULL,
          "invoice.paid" },
        { PAY_PROVIDER_PAYPAL, "CHECKOUT.ORDER.COMPLETED", NULL,
          "checkout.completed" },

        /* approval is not payment; and the vectors' P1 type */
        { PAY_PROVIDER_PAYPAL, "CHECKOUT.ORDER.APPROVED", NULL, "other" },
        { PAY_PROVIDER_PAYPAL, "BILLING.PLAN.CREATED", NULL, "other" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.PENDING", NULL, "other" },
        { PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.REVERSED", NULL, "other" },
        { PAY_PROVIDER_PAYPAL, "CUSTOMER.DISPUTE.UPDATED", NULL, "other" },

        /* case matters; the US spelling is not PayPal's */
        { PAY_PROVIDER_PAYPAL, "payment.capture.completed", NULL, "other" },
        { PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.CANCELED", NULL,
          "other" },
        { PAY_PROVIDER_PAYPAL, "payment_intent.succeeded", NULL, "other" }
    };

    (void) state;

    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


static void
test_standard(void **state)
{
    size_t       i;
    const char  *k;

    (void) state;

    /* a type that is a kind is that kind */
    for (i = 0; i < sizeof(neutral_kinds) / sizeof(neutral_kinds[0]); i++) {
        k = kind(PAY_PROVIDER_STANDARD, neutral_kinds[i], NULL);
        assert_non_null(k);
        assert_string_equal(k, neutral_kinds[i]);
    }

    /* anything else is not, however close */
    assert_string_equal(kind(PAY_PROVIDER_STANDARD, "user.created", NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_STANDARD, "Payment.Succeeded",
                             NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_STANDARD, "payment.succeeded ",
                             NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_STANDARD, "payment.succeede",
                             NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_STANDARD,
                             "payment_intent.succeeded", NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_STANDARD, "PAYMENT.SALE.COMPLETED",
                             NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_STANDARD, "payment.updated",
                             "COMPLETED"),
                        "other");

    /* the neutral names mean nothing to the other providers */
    assert_string_equal(kind(PAY_PROVIDER_STRIPE, "payment.succeeded", NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_PAYPAL, "dispute.opened", NULL),
                        "other");
}


static void
test_provider_names(void **state)
{
    (void) state;

    /* as pay_webhook spells them, and $pay_provider shows them */
    assert_string_equal(pay_provider_name(PAY_PROVIDER_NONE), "");
    assert_string_equal(pay_provider_name(PAY_PROVIDER_STRIPE), "stripe");
    assert_string_equal(pay_provider_name(PAY_PROVIDER_SQUARE), "square");
    assert_string_equal(pay_provider_name(PAY_PROVIDER_PAYPAL), "paypal");
    assert_string_equal(pay_provider_name(PAY_PROVIDER_STANDARD),
                        "standard");
    assert_string_equal(pay_provider_name((pay_provider_e) 5), "");
    assert_string_equal(pay_provider_name((pay_provider_e) -1), "");
}


static void
test_lengths_count(void **state)
{
    (void) state;

    /* the length decides, not a NUL */
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STRIPE,
                                       "charge.refunded", 14, NULL, 0),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STRIPE,
                                       "charge.refundedX", 15, NULL, 0),
                        "payment.refunded");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STANDARD,
                                       "invoice.paid!", 12, NULL, 0),
                        "invoice.paid");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_SQUARE,
                                       "payment.updated", 15, "COMPLETEDX",
                                       9),
                        "payment.succeeded");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_SQUARE,
                                       "payment.updated", 15, "COMPLETED", 8),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_SQUARE,
                                       "payment.updated", 15, "COMPLETED", 0),
                        "other");

    /* a NULL status with a length is no status */
    assert_string_equal(pay_event_kind(PAY_PROVIDER_SQUARE,
                                       "payment.updated", 15, NULL, 9),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_SQUARE,
                                       "subscription.updated", 20, NULL, 8),
                        "subscription.updated");

    /* an embedded NUL is a byte like another */
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STRIPE,
                                       "invoice.paid\0", 13, NULL, 0),
                        "other");
}


static void
test_no_type(void **state)
{
    (void) state;

    assert_string_equal(pay_event_kind(PAY_PROVIDER_STRIPE, NULL, 0, NULL, 0),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STRIPE, "", 0, NULL, 0),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STANDARD, NULL, 0, NULL,
                                       0),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_STANDARD, "invoice.paid",
                                       0, NULL, 0),
                        "other");
    assert_string_equal(pay_event_kind(PAY_PROVIDER_SQUARE, NULL, 0,
                                       "COMPLETED", 9),
                        "other");
}


static void
test_unknown_provider(void **state)
{
    (void) state;

    assert_string_equal(kind(PAY_PROVIDER_NONE, "charge.refunded", NULL),
                        "other");
    assert_string_equal(kind(PAY_PROVIDER_NONE, "invoice.paid", NULL),
                        "other");
    assert_string_equal(kind((pay_provider_e) 99, "charge.refunded", NULL),
                        "other");
}


static void
test_every_kind_is_neutral(void **state)
{
    static const char  *types[] = {
        "payment_intent.succeeded", "charge.refunded", "invoice.paid",
        "payment.updated", "refund.updated", "dispute.state.updated",
        "subscription.updated", "PAYMENT.SALE.COMPLETED",
        "CHECKOUT.ORDER.COMPLETED", "x", "other"
    };

    static const char  *statuses[] = {
        NULL, "COMPLETED", "FAILED", "WON", "CANCELED", "x"
    };

    static const pay_provider_e  providers[] = {
        PAY_PROVIDER_NONE, PAY_PROVIDER_STRIPE, PAY_PROVIDER_SQUARE,
        PAY_PROVIDER_PAYPAL, PAY_PROVIDER_STANDARD
    };

    size_t       p, t, s;
    const char  *k;

    (void) state;

    /* never NULL, always one of the documented strings */
    for (p = 0; p < sizeof(providers) / sizeof(providers[0]); p++) {
        for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
            for (s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
                k = kind(providers[p], types[t], statuses[s]);
                assert_non_null(k);
                assert_true(is_neutral(k));
            }
        }
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_stripe),
        cmocka_unit_test(test_square),
        cmocka_unit_test(test_paypal),
        cmocka_unit_test(test_standard),
        cmocka_unit_test(test_provider_names),
        cmocka_unit_test(test_lengths_count),
        cmocka_unit_test(test_no_type),
        cmocka_unit_test(test_unknown_provider),
        cmocka_unit_test(test_every_kind_is_neutral),
    };

    return cmocka_run_group_tests_name("pay_kind", tests, NULL, NULL);
}
