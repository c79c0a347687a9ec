/*
 * Copyright (C) ngx_pay authors
 *
 * The provider calls that create a payment intent (docs/intents.md): the
 * request each provider takes, and its answer normalized.  Pure C
 * (jansson).
 *
 *   stripe  POST /v1/payment_intents                form-encoded
 *   paypal  POST /v2/checkout/orders                JSON
 *   square  POST /v2/payments                       JSON, with source_id
 *           POST /v2/online-checkout/payment-links  JSON, without
 *
 * What each provider is sent (what has no counterpart is not sent):
 *   stripe  amount, currency, automatic_payment_methods[enabled]=true,
 *           description, customer, metadata[k]=v;
 *   paypal  intent CAPTURE, purchase_units[0].amount {currency_code
 *           (uppercase), value (decimal string)}, .description, and
 *           payment_source.paypal.experience_context {return_url,
 *           cancel_url} when either is given;
 *   square  payments: source_id, idempotency_key, amount_money {amount,
 *           currency (uppercase)}, autocomplete false, location_id,
 *           customer_id, note (the description);
 *           payment links: idempotency_key, quick_pay {name (the
 *           description, else "Payment"), price_money, location_id},
 *           checkout_options.redirect_url (return_url).
 */


#ifndef PAY_PROVIDER_API_H_INCLUDED_
#define PAY_PROVIDER_API_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"
#include "pay_intent.h"
#include "pay_kind.h"


#define PAY_INTENT_RESULT_ID_MAX      255
#define PAY_INTENT_RESULT_STATUS_MAX  63
#define PAY_INTENT_RESULT_LINK_MAX    2048
#define PAY_PROVIDER_CODE_MAX         127
#define PAY_PROVIDER_MESSAGE_MAX      511


typedef struct {
    const char  *method;              /* "POST" */
    const char  *path;                /* "/v1/payment_intents", ... */
    const char  *content_type;
    const char  *idempotency_header;  /* NULL: the key is in the body */
} pay_provider_call_t;


typedef enum {
    PAY_PROVIDER_OK = 0,        /* the intent exists: result */
    PAY_PROVIDER_DECLINED,      /* a 4xx: the answer, not failed over */
    PAY_PROVIDER_RETRY          /* 429, 5xx, 408, odd: try the next one */
} pay_provider_outcome_e;


typedef enum {
    PAY_INTENT_LINK_NONE = 0,       /* a Square payment */
    PAY_INTENT_CLIENT_SECRET,       /* Stripe */
    PAY_INTENT_APPROVE_URL,         /* PayPal */
    PAY_INTENT_PAYMENT_LINK_URL     /* Square payment link */
} pay_intent_link_e;


/* the normalized intent; every string NUL-terminated */
typedef struct {
    pay_provider_e      provider;
    char                id[PAY_INTENT_RESULT_ID_MAX + 1];
    char                status[PAY_INTENT_RESULT_STATUS_MAX + 1];
    pay_intent_link_e   link;
    char                link_value[PAY_INTENT_RESULT_LINK_MAX + 1];
    long long           amount;
    char                currency[4];      /* lowercase */
} pay_intent_result_t;


typedef struct {
    pay_provider_outcome_e  outcome;
    int                     http_status;  /* as given */
    pay_intent_result_t     result;       /* PAY_PROVIDER_OK */
    /* PAY_PROVIDER_DECLINED; each may be empty */
    char                    code[PAY_PROVIDER_CODE_MAX + 1];
    char                    decline_code[PAY_PROVIDER_CODE_MAX + 1];
    char                    message[PAY_PROVIDER_MESSAGE_MAX + 1];
} pay_provider_answer_t;


/*
 * Method, path, content type and idempotency header of the call that
 * creates req at provider (Square: payments when req has a source_id,
 * else payment links).  NULL for a provider that makes no intents.
 */
const pay_provider_call_t *pay_provider_call(pay_provider_e provider,
    const pay_intent_request_t *req);

/*
 * Writes the body of that call: idempotency_key is the value of
 * pay_idempotency_provider_key() (Square carries it in the body, the
 * others in the header named above, so they ignore it here);
 * location_id is Square's (required for payment links, optional for
 * payments, ignored by the others).  Stripe's form encoding keeps
 * A-Z a-z 0-9 - . _ ~ and the brackets of metadata[...] as they are and
 * writes every other byte as %XX (uppercase hex), space included; pairs
 * come in the order listed at the top of this file, metadata in body
 * order.  JSON is compact, members in that order.  Returns the length of
 * the body, written to out only when it is not more than size (NULL, 0
 * gives the size), or 0 on failure (unknown provider, Square payment link
 * without location_id, no memory).  No NUL is written.
 */
size_t pay_provider_request_body(pay_provider_e provider,
    const pay_intent_request_t *req, const char *idempotency_key,
    const char *location_id, char *out, size_t size);

/*
 * Classifies the provider's answer to the call for req and fills ans:
 *   2xx with the intent's id and status (and, where the provider has one,
 *   client_secret / a PayPal link rel "approve" or "payer-action" / the
 *   payment link's url) as visible ASCII within the result's sizes:
 *   PAY_PROVIDER_OK, ans->result set; amount and currency are req's (the
 *   call was made with them; Square links do not echo them);
 *   408, 429, 5xx, any other status, a 2xx without those: RETRY;
 *   any other 4xx: DECLINED, with the provider's code and message when
 *   its body has them: Stripe error.code (else error.type),
 *   error.decline_code, error.message; PayPal details[0].issue (else
 *   name, else the OAuth "error"), details[0].description (else message,
 *   else error_description); Square errors[0].code, errors[0].detail.
 *   Codes are kept only when visible ASCII; messages are cut to
 *   PAY_PROVIDER_MESSAGE_MAX bytes on a UTF-8 boundary, control
 *   characters made spaces.
 * body may be NULL when len is 0.  Returns ans->outcome.
 */
pay_provider_outcome_e pay_provider_normalize(pay_provider_e provider,
    const pay_intent_request_t *req, int http_status,
    const unsigned char *body, size_t len, pay_provider_answer_t *ans);

/*
 * The problem+json body (with a LF) of a declined call, sent with status
 * (402, or the provider's 4xx: the caller decides):
 *   {"type":"urn:ngx-pay:error:provider_error","title":"Provider error",
 *    "status":402,"detail":<message or title>,"code":"provider_error",
 *    "provider":"stripe","provider_code":"card_declined",
 *    "decline_code":"insufficient_funds"}
 * provider_code and decline_code only when not empty.  Returns as
 * pay_intent_result_json() does.
 */
size_t pay_provider_problem_json(pay_provider_e provider,
    const pay_provider_answer_t *ans, int status, char *out, size_t size);


#endif /* PAY_PROVIDER_API_H_INCLUDED_ */
