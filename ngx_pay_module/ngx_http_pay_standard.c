
/*
 * Copyright (C) ngx_pay authors
 *
 * Standard Webhooks' glue (Svix's header names too): the three headers
 * into core/pay_standard.c, then the event's identity out of the signed
 * body.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_webhook.h"
#include "pay_event.h"
#include "pay_standard.h"


static const char  *ngx_http_pay_standard_details[PAY_ERR_LAST] = {
    [PAY_ERR_SIGNATURE_MISSING] =
        "a webhook-id, webhook-timestamp or webhook-signature header is "
        "missing, or it has no v1 signature",
    [PAY_ERR_SIGNATURE_MALFORMED] =
        "a webhook-id, webhook-timestamp or webhook-signature header "
        "cannot be parsed",
    [PAY_ERR_SIGNATURE_MISMATCH] =
        "no v1 signature matches a configured secret",
    [PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE] =
        "webhook-timestamp is outside pay_webhook_tolerance",
    [PAY_ERR_BODY_MALFORMED] =
        "the signed body is not a JSON object",
    [PAY_ERR_INTERNAL] =
        "the signature could not be computed"
};


/* Standard Webhooks' names, then Svix's for the same three values */
static ngx_str_t  ngx_http_pay_standard_headers[2][3] = {
    { ngx_string("Webhook-Id"), ngx_string("Webhook-Timestamp"),
      ngx_string("Webhook-Signature") },
    { ngx_string("Svix-Id"), ngx_string("Svix-Timestamp"),
      ngx_string("Svix-Signature") }
};


/* Standard Webhooks, under its own header names or Svix's */

ngx_int_t
ngx_http_pay_standard_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body,
    pay_event_t **event)
{
    size_t            len[3];
    pay_rc_e          rc;
    ngx_int_t         n;
    ngx_str_t        *names;
    ngx_uint_t        i, k;
    const char       *value[3];
    pay_event_t      *ev;
    ngx_table_elt_t  *h[3];

    for (k = 0; k < 2; k++) {
        names = ngx_http_pay_standard_headers[k];

        for (i = 0; i < 3; i++) {
            n = ngx_http_pay_one_header(r, ctx, &names[i], &h[i], &value[i],
                                        &len[i]);
            if (n != NGX_OK) {
                return n;
            }
        }

        if (h[0] != NULL || h[1] != NULL || h[2] != NULL) {
            break;
        }
    }

    rc = pay_standard_verify_key(value[0], len[0], value[1], len[1],
                                 value[2], len[2], body->data, body->len,
                                 plcf->keys->elts, plcf->keys->nelts,
                                 (long long) ngx_time(),
                                 (long long) plcf->tolerance, &ctx->secret);

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_standard_details[rc]);
    }

    ev = ngx_palloc(r->pool, sizeof(pay_event_t));

    rc = ev ? pay_event_parse_standard(body->data, body->len,
                                       value[0], len[0], ev)
            : PAY_ERR_INTERNAL;

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_standard_details[rc]);
    }

    *event = ev;

    return NGX_OK;
}
