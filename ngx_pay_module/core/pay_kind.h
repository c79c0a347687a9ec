/*
 * Copyright (C) ngx_pay authors
 *
 * Providers and the provider-neutral kind of an event ($pay_event_kind,
 * docs/event-kinds.md).  Pure C.
 */


#ifndef PAY_KIND_H_INCLUDED_
#define PAY_KIND_H_INCLUDED_


#include <stddef.h>


typedef enum {
    PAY_PROVIDER_NONE = 0,
    PAY_PROVIDER_STRIPE = 1,
    PAY_PROVIDER_SQUARE = 2,
    PAY_PROVIDER_PAYPAL = 3,
    PAY_PROVIDER_STANDARD = 4
} pay_provider_e;


/* the kinds, exactly as $pay_event_kind shows them */
#define PAY_KIND_PAYMENT_SUCCEEDED        "payment.succeeded"
#define PAY_KIND_PAYMENT_FAILED           "payment.failed"
#define PAY_KIND_PAYMENT_REFUNDED         "payment.refunded"
#define PAY_KIND_DISPUTE_OPENED           "dispute.opened"
#define PAY_KIND_DISPUTE_CLOSED           "dispute.closed"
#define PAY_KIND_SUBSCRIPTION_CREATED     "subscription.created"
#define PAY_KIND_SUBSCRIPTION_UPDATED     "subscription.updated"
#define PAY_KIND_SUBSCRIPTION_CANCELED    "subscription.canceled"
#define PAY_KIND_INVOICE_PAID             "invoice.paid"
#define PAY_KIND_INVOICE_PAYMENT_FAILED   "invoice.payment_failed"
#define PAY_KIND_CHECKOUT_COMPLETED       "checkout.completed"
#define PAY_KIND_OTHER                    "other"


/*
 * The neutral kind of a provider's event type: a static string, never
 * NULL, PAY_KIND_OTHER for anything not in the table (docs/ holds it as
 * Markdown).  Types are compared byte for byte (case matters).  status
 * refines some Square types and is ignored elsewhere: for payment.* and
 * refund.* and subscription.* the object's "status", for dispute.* the
 * dispute's "state" (e.g. "COMPLETED", "WON"); NULL (or empty) when not
 * known, and such a type then maps as if no status matched.  Standard
 * Webhooks types are the application's own: a type that is literally one
 * of the kinds maps to itself, anything else to "other".  type may be NULL
 * when type_len is 0, status when status_len is 0.
 */
const char *pay_event_kind(pay_provider_e provider, const char *type,
    size_t type_len, const char *status, size_t status_len);

/*
 * The provider's name as pay_webhook spells it ("stripe", ...), "" for
 * PAY_PROVIDER_NONE or a number out of range; never NULL.
 */
const char *pay_provider_name(pay_provider_e provider);


#endif /* PAY_KIND_H_INCLUDED_ */
