
/*
 * Copyright (C) ngx_pay authors
 *
 * Stripe's webhook glue: the Stripe-Signature header into
 * core/pay_stripe.c, then the event's identity out of the signed body
 * (core/pay_event.c).  ngx_http_pay_webhook.c calls it and keeps the rest.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_webhook.h"
#include "pay_event.h"
#include "pay_stripe.h"


/* what a rejection says, in the log line and the "detail" member */
static const char  *ngx_http_pay_stripe_details[PAY_ERR_LAST] = {
    [PAY_ERR_SIGNATURE_MISSING] =
        "no Stripe-Signature header, or no v1 signature in it",
    [PAY_ERR_SIGNATURE_MALFORMED] =
        "the Stripe-Signature header cannot be parsed",
    [PAY_ERR_SIGNATURE_MISMATCH] =
        "no v1 signature matches a configured secret",
    [PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE] =
        "the signature timestamp is outside pay_webhook_tolerance",
    [PAY_ERR_BODY_MALFORMED] =
        "the signed body is not a Stripe event object",
    [PAY_ERR_INTERNAL] =
        "the signature could not be computed"
};


static ngx_str_t  ngx_http_pay_stripe_header = ngx_string("Stripe-Signature");


/*
 * Stripe-Signature: "t=<unix time>,v1=<hex HMAC-SHA256 of t.body>", one
 * v1 per secret that signs during a rotation.  NGX_OK when the delivery
 * is genuine, with its event in *event; otherwise the rejection has been
 * sent and NGX_DONE is returned.
 */

ngx_int_t
ngx_http_pay_stripe_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body,
    pay_event_t **event)
{
    pay_rc_e          rc;
    pay_event_t      *ev;
    ngx_table_elt_t  *h;

    if (ngx_http_pay_find_header(r, &ngx_http_pay_stripe_header, &h)
        != NGX_OK)
    {
        rc = PAY_ERR_SIGNATURE_MALFORMED;
        return ngx_http_pay_reject(r, ctx, rc,
                                   "more than one Stripe-Signature header");
    }

    if (h == NULL) {
        rc = PAY_ERR_SIGNATURE_MISSING;

    } else {
        rc = pay_stripe_verify_key((const char *) h->value.data,
                                   h->value.len, body->data, body->len,
                                   plcf->keys->elts, plcf->keys->nelts,
                                   (long long) ngx_time(),
                                   (long long) plcf->tolerance,
                                   &ctx->secret);
    }

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_stripe_details[rc]);
    }

    ev = ngx_palloc(r->pool, sizeof(pay_event_t));

    rc = ev ? pay_event_parse_stripe(body->data, body->len, ev)
            : PAY_ERR_INTERNAL;

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_stripe_details[rc]);
    }

    *event = ev;

    return NGX_OK;
}
