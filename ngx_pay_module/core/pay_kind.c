/*
 * Copyright (C) ngx_pay authors
 *
 * Provider-neutral event kinds.  One table, scanned in order, first match
 * wins: a row with a status comes before the row of the same type without
 * one.  It is small (a few dozen rows) and the lookup runs once per
 * verified event, so a linear scan is plenty.
 */


#include <string.h>

#include "pay_kind.h"


typedef struct {
    pay_provider_e   provider;
    const char      *type;
    size_t           type_len;
    const char      *status;     /* NULL: any status, known or not */
    size_t           status_len;
    const char      *kind;
} pay_kind_rule_t;


#define pay_kind_rule(provider, type, kind)                                   \
    { provider, type, sizeof(type) - 1, NULL, 0, kind }

#define pay_kind_rule_status(provider, type, status, kind)                    \
    { provider, type, sizeof(type) - 1, status, sizeof(status) - 1, kind }


static int pay_kind_is_neutral(const char *type, size_t type_len,
    const char **kind);


static const pay_kind_rule_t  pay_kind_rules[] = {

    /*
     * Stripe.  A payment can raise both payment_intent.succeeded and
     * charge.succeeded, and an invoice both invoice.paid and
     * invoice.payment_succeeded: the kind says what happened, the app
     * still keys its work on the object, not on the event.
     */

    pay_kind_rule(PAY_PROVIDER_STRIPE, "payment_intent.succeeded",
                  PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "charge.succeeded",
                  PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule(PAY_PROVIDER_STRIPE,
                  "checkout.session.async_payment_succeeded",
                  PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "payment_intent.payment_failed",
                  PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "charge.failed",
                  PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_STRIPE,
                  "checkout.session.async_payment_failed",
                  PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "charge.refunded",
                  PAY_KIND_PAYMENT_REFUNDED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "charge.dispute.created",
                  PAY_KIND_DISPUTE_OPENED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "charge.dispute.closed",
                  PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "customer.subscription.created",
                  PAY_KIND_SUBSCRIPTION_CREATED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "customer.subscription.updated",
                  PAY_KIND_SUBSCRIPTION_UPDATED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "customer.subscription.deleted",
                  PAY_KIND_SUBSCRIPTION_CANCELED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "invoice.paid",
                  PAY_KIND_INVOICE_PAID),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "invoice.payment_succeeded",
                  PAY_KIND_INVOICE_PAID),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "invoice.payment_failed",
                  PAY_KIND_INVOICE_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_STRIPE, "checkout.session.completed",
                  PAY_KIND_CHECKOUT_COMPLETED),

    /*
     * Square names few outcomes in its types: payment.created/updated and
     * refund.created/updated say "something changed", the object's status
     * says what.  Without a status that decides, the kind is "other".
     */

    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "payment.created",
                         "COMPLETED", PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "payment.created",
                         "FAILED", PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "payment.updated",
                         "COMPLETED", PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "payment.updated",
                         "FAILED", PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "refund.created",
                         "COMPLETED", PAY_KIND_PAYMENT_REFUNDED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "refund.updated",
                         "COMPLETED", PAY_KIND_PAYMENT_REFUNDED),
    pay_kind_rule(PAY_PROVIDER_SQUARE, "dispute.created",
                  PAY_KIND_DISPUTE_OPENED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.updated",
                         "WON", PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.updated",
                         "LOST", PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.updated",
                         "ACCEPTED", PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.updated",
                         "INQUIRY_CLOSED", PAY_KIND_DISPUTE_CLOSED),

    /* the deprecated name of dispute.state.updated */
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.changed",
                         "WON", PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.changed",
                         "LOST", PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.changed",
                         "ACCEPTED", PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "dispute.state.changed",
                         "INQUIRY_CLOSED", PAY_KIND_DISPUTE_CLOSED),

    pay_kind_rule(PAY_PROVIDER_SQUARE, "subscription.created",
                  PAY_KIND_SUBSCRIPTION_CREATED),
    pay_kind_rule_status(PAY_PROVIDER_SQUARE, "subscription.updated",
                         "CANCELED", PAY_KIND_SUBSCRIPTION_CANCELED),
    pay_kind_rule(PAY_PROVIDER_SQUARE, "subscription.updated",
                  PAY_KIND_SUBSCRIPTION_UPDATED),
    pay_kind_rule(PAY_PROVIDER_SQUARE, "invoice.payment_made",
                  PAY_KIND_INVOICE_PAID),
    pay_kind_rule(PAY_PROVIDER_SQUARE, "invoice.scheduled_charge_failed",
                  PAY_KIND_INVOICE_PAYMENT_FAILED),

    /*
     * PayPal.  CHECKOUT.ORDER.APPROVED is left "other": the buyer has
     * approved, nothing is captured yet, and an app that fulfils on
     * checkout.completed must not ship unpaid orders.
     */

    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.COMPLETED",
                  PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.SALE.COMPLETED",
                  PAY_KIND_PAYMENT_SUCCEEDED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.DENIED",
                  PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.DECLINED",
                  PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.SALE.DENIED",
                  PAY_KIND_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.CAPTURE.REFUNDED",
                  PAY_KIND_PAYMENT_REFUNDED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "PAYMENT.SALE.REFUNDED",
                  PAY_KIND_PAYMENT_REFUNDED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "CUSTOMER.DISPUTE.CREATED",
                  PAY_KIND_DISPUTE_OPENED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "CUSTOMER.DISPUTE.RESOLVED",
                  PAY_KIND_DISPUTE_CLOSED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.CREATED",
                  PAY_KIND_SUBSCRIPTION_CREATED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.UPDATED",
                  PAY_KIND_SUBSCRIPTION_UPDATED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.ACTIVATED",
                  PAY_KIND_SUBSCRIPTION_UPDATED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.SUSPENDED",
                  PAY_KIND_SUBSCRIPTION_UPDATED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.CANCELLED",
                  PAY_KIND_SUBSCRIPTION_CANCELED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.EXPIRED",
                  PAY_KIND_SUBSCRIPTION_CANCELED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
                  PAY_KIND_INVOICE_PAYMENT_FAILED),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "INVOICING.INVOICE.PAID",
                  PAY_KIND_INVOICE_PAID),
    pay_kind_rule(PAY_PROVIDER_PAYPAL, "CHECKOUT.ORDER.COMPLETED",
                  PAY_KIND_CHECKOUT_COMPLETED)
};


/* what a Standard Webhooks type may literally be ("other" included) */

static const char  *pay_kind_neutral[] = {
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


static int
pay_kind_is_neutral(const char *type, size_t type_len, const char **kind)
{
    size_t  i;

    for (i = 0; i < sizeof(pay_kind_neutral) / sizeof(pay_kind_neutral[0]);
         i++)
    {
        if (strlen(pay_kind_neutral[i]) == type_len
            && memcmp(pay_kind_neutral[i], type, type_len) == 0)
        {
            *kind = pay_kind_neutral[i];
            return 1;
        }
    }

    return 0;
}


const char *
pay_event_kind(pay_provider_e provider, const char *type, size_t type_len,
    const char *status, size_t status_len)
{
    size_t                  i;
    const char             *kind;
    const pay_kind_rule_t  *rule;

    if (type == NULL || type_len == 0) {
        return PAY_KIND_OTHER;
    }

    if (status == NULL) {
        status_len = 0;
    }

    if (provider == PAY_PROVIDER_STANDARD) {
        return pay_kind_is_neutral(type, type_len, &kind) ? kind
                                                          : PAY_KIND_OTHER;
    }

    for (i = 0; i < sizeof(pay_kind_rules) / sizeof(pay_kind_rules[0]); i++) {
        rule = &pay_kind_rules[i];

        if (rule->provider != provider
            || rule->type_len != type_len
            || memcmp(rule->type, type, type_len) != 0)
        {
            continue;
        }

        if (rule->status == NULL
            || (rule->status_len == status_len && status_len != 0
                && memcmp(rule->status, status, status_len) == 0))
        {
            return rule->kind;
        }
    }

    return PAY_KIND_OTHER;
}


const char *
pay_provider_name(pay_provider_e provider)
{
    static const char  *names[] = {
        "",             /* PAY_PROVIDER_NONE */
        "stripe",       /* PAY_PROVIDER_STRIPE */
        "square",       /* PAY_PROVIDER_SQUARE */
        "paypal",       /* PAY_PROVIDER_PAYPAL */
        "standard"      /* PAY_PROVIDER_STANDARD */
    };

    if ((size_t) provider >= sizeof(names) / sizeof(names[0])) {
        return "";
    }

    return names[provider];
}
