
/*
 * Copyright (C) ngx_pay authors
 *
 * Square's webhook glue: its signature header (or the legacy SHA-1 one)
 * and the registered notification URL into core/pay_square.c, the event's
 * identity out of the signed body, the optional created_at window, and
 * Square-Environment as the event's mode.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_webhook.h"
#include "pay_event.h"
#include "pay_square.h"
#include "pay_timestamp.h"


static const char  *ngx_http_pay_square_details[PAY_ERR_LAST] = {
    [PAY_ERR_SIGNATURE_MISSING] =
        "no x-square-hmacsha256-signature header",
    [PAY_ERR_SIGNATURE_MALFORMED] =
        "the Square signature is not the base64 of an HMAC",
    [PAY_ERR_SIGNATURE_MISMATCH] =
        "no configured signature key signs pay_webhook_url and this body",
    [PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE] =
        "created_at is outside pay_webhook_square_window",
    [PAY_ERR_BODY_MALFORMED] =
        "the signed body is not a Square event object",
    [PAY_ERR_INTERNAL] =
        "the signature could not be computed"
};


static ngx_str_t  ngx_http_pay_square_header =
    ngx_string("X-Square-HmacSha256-Signature");
static ngx_str_t  ngx_http_pay_square_sha1_header =
    ngx_string("X-Square-Signature");
static ngx_str_t  ngx_http_pay_square_environment =
    ngx_string("Square-Environment");


/*
 * Square: HMAC of the registered notification URL and the body, with the
 * current header, or the legacy SHA-1 one when pay_webhook_square_sha1 is
 * on and the current one is absent.  No timestamp is signed: dedupe on
 * the event id is the replay defence, and pay_webhook_square_window can
 * bound the body's created_at, which is signed (every retry keeps it).
 */

ngx_int_t
ngx_http_pay_square_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body,
    pay_event_t **event)
{
    size_t            len;
    pay_rc_e          rc;
    ngx_int_t         n;
    ngx_str_t         url;
    long long         created;
    ngx_array_t      *keys;
    const char       *sig;
    pay_event_t      *ev;
    ngx_table_elt_t  *h;

    n = ngx_http_pay_one_header(r, ctx, &ngx_http_pay_square_header, &h,
                                &sig, &len);
    if (n != NGX_OK) {
        return n;
    }

    keys = plcf->keys;

    if (h == NULL && plcf->sha1_keys != NULL) {
        n = ngx_http_pay_one_header(r, ctx, &ngx_http_pay_square_sha1_header,
                                    &h, &sig, &len);
        if (n != NGX_OK) {
            return n;
        }

        keys = plcf->sha1_keys;
    }

    if (ngx_http_complex_value(r, plcf->webhook_url, &url) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    if (h == NULL) {
        rc = PAY_ERR_SIGNATURE_MISSING;

    } else if (url.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: \"pay_webhook_url\" is empty for this request");
        rc = PAY_ERR_INTERNAL;

    } else {
        rc = pay_square_verify_key(sig, len, url.data, url.len,
                                   body->data, body->len,
                                   keys->elts, keys->nelts, &ctx->secret);
    }

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_square_details[rc]);
    }

    ev = ngx_palloc(r->pool, sizeof(pay_event_t));

    rc = ev ? pay_event_parse_square(body->data, body->len, ev)
            : PAY_ERR_INTERNAL;

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_square_details[rc]);
    }

    if (plcf->square_window) {
        if (pay_square_created_at(body->data, body->len, &created)
            != PAY_OK)
        {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_BODY_MALFORMED,
                                       "created_at is missing or not an "
                                       "RFC 3339 date-time");
        }

        rc = pay_timestamp_check(created, (long long) ngx_time(),
                                 (long long) plcf->square_window);

        if (rc != PAY_OK) {
            return ngx_http_pay_reject(r, ctx, rc,
                                       ngx_http_pay_square_details[rc]);
        }
    }

    /* not signed, but the app may want it: Production or Sandbox */

    if (ngx_http_pay_find_header(r, &ngx_http_pay_square_environment, &h)
        == NGX_OK && h != NULL)
    {
        if (h->value.len == 10
            && ngx_strncasecmp(h->value.data, (u_char *) "Production", 10)
               == 0)
        {
            ev->livemode = 1;

        } else if (h->value.len == 7
                   && ngx_strncasecmp(h->value.data, (u_char *) "Sandbox", 7)
                      == 0)
        {
            ev->livemode = 0;
        }
    }

    *event = ev;

    return NGX_OK;
}
