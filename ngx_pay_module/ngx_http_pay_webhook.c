
/*
 * Copyright (C) ngx_pay authors
 *
 * What every webhook provider shares: the location's configuration check
 * and its prepared HMAC keys, then, for each delivery, the verification
 * dispatched to the provider's glue (ngx_http_pay_stripe.c, _square.c,
 * _standard.c, _paypal.c), the verified event's identity kept in the
 * request context, and the client's "Pay-*" headers dropped.
 *
 * ngx_http_pay_handler.c calls ngx_http_pay_webhook_verify() once the
 * body is in, and again after each of PayPal's fetches; the dedupe claim
 * that follows is the handler's next step, not this file's.
 *
 * Rejections are sent from here or from the provider's glue
 * (problem+json), never returned as a status code, so no other access
 * module (satisfy any) can override them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_webhook.h"
#include "ngx_http_pay_paypal.h"
#include "pay_event.h"
#include "pay_standard.h"


/* a decoded Standard Webhooks secret is at most this long (spec: 64) */
#define NGX_HTTP_PAY_STANDARD_KEY_MAX  256


static void ngx_http_pay_webhook_event(ngx_http_pay_ctx_t *ctx,
    pay_event_t *ev);
static char *ngx_http_pay_webhook_keys(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf, ngx_array_t **keys, pay_digest_e digest);
static void ngx_http_pay_keys_cleanup(void *data);


static const char  *ngx_http_pay_paypal_event_details[PAY_ERR_LAST] = {
    [PAY_ERR_BODY_MALFORMED] =
        "the signed body is not a PayPal event object",
    [PAY_ERR_INTERNAL] =
        "the event could not be read"
};


/*
 * The whole body is in.  NGX_OK: the delivery is genuine, its identity is
 * in ctx and ctx->verified is set.  NGX_DONE: a rejection was sent.
 * NGX_AGAIN: PayPal's fetches or its store binding will run the phases
 * again, which calls here again.
 */

ngx_int_t
ngx_http_pay_webhook_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    pay_rc_e      prc;
    ngx_int_t     rc;
    pay_event_t  *ev;

    /* PayPal re-enters here after each fetch: the body is read once */

    if (ctx->body.data == NULL
        && ngx_http_pay_body_get(r, &ctx->body, 0) != NGX_OK)
    {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the request body could not be read");
    }

    ev = NULL;

    switch (ctx->provider) {

    case NGX_HTTP_PAY_PROVIDER_STRIPE:
        rc = ngx_http_pay_stripe_verify(r, plcf, ctx, &ctx->body, &ev);
        break;

    case NGX_HTTP_PAY_PROVIDER_SQUARE:
        rc = ngx_http_pay_square_verify(r, plcf, ctx, &ctx->body, &ev);
        break;

    case NGX_HTTP_PAY_PROVIDER_STANDARD:
        rc = ngx_http_pay_standard_verify(r, plcf, ctx, &ctx->body, &ev);
        break;

    default: /* NGX_HTTP_PAY_PROVIDER_PAYPAL */
        rc = ngx_http_pay_paypal_verify(r, plcf, ctx, &ctx->body);

        if (rc == NGX_OK && ctx->event_id.data == NULL) {
            ev = ngx_palloc(r->pool, sizeof(pay_event_t));

            prc = ev ? pay_event_parse_paypal(ctx->body.data, ctx->body.len,
                                              ev)
                     : PAY_ERR_INTERNAL;

            if (prc != PAY_OK) {
                return ngx_http_pay_reject(r, ctx, prc,
                                       ngx_http_pay_paypal_event_details[prc]);
            }

            ngx_http_pay_webhook_event(ctx, ev);
            ev = NULL;
        }

        if (rc == NGX_OK) {
            /* one transmission id, one event: a CRC-32 is forgeable */
            rc = ngx_http_pay_paypal_bind(r, plcf, ctx);
        }

        break;
    }

    if (rc != NGX_OK) {
        /* NGX_DONE: answered; NGX_AGAIN: PayPal fetches or the store
           resume us */
        return rc;
    }

    if (ev != NULL) {
        ngx_http_pay_webhook_event(ctx, ev);
    }

    if (ngx_http_pay_strip_client_headers(r) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "out of memory");
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay webhook verified: id \"%V\", type \"%V\", "
                   "kind \"%s\"",
                   &ctx->event_id, &ctx->event_type, ctx->event_kind);

    ctx->verified = 1;

    return NGX_OK;
}


/*
 * The verified event's identity into ctx.  ev lives in the request pool:
 * ctx points at its NUL-terminated fields.
 */

static void
ngx_http_pay_webhook_event(ngx_http_pay_ctx_t *ctx, pay_event_t *ev)
{
    ctx->event_id.data = (u_char *) ev->id;
    ctx->event_id.len = ev->id_len;
    ctx->event_type.data = (u_char *) ev->type;
    ctx->event_type.len = ev->type_len;
    ctx->livemode = ev->livemode;
    ctx->event_kind = ev->kind;
}


/*
 * Called at the end of the location merge: checks that a webhook location
 * can verify anything, and prepares one HMAC key per secret, so requests
 * never pay for key setup.
 */

char *
ngx_http_pay_webhook_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *conf)
{
    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_OFF) {
        return NGX_CONF_OK;
    }

    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_PAYPAL) {
        /* PayPal signs with its certificate: ngx_http_pay_paypal_merge() */
        return ngx_http_pay_paypal_merge_binding(cf, conf);
    }

    if (conf->secrets == NULL || conf->secrets->nelts == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook\" in %s:%ui requires at least one "
                      "\"pay_webhook_secret\"",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_SQUARE) {
        if (conf->webhook_url == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_webhook square\" in %s:%ui requires "
                          "\"pay_webhook_url\", the notification URL as "
                          "registered with Square",
                          conf->webhook_file, conf->webhook_line);
            return NGX_CONF_ERROR;
        }

        if (conf->square_sha1
            && ngx_http_pay_webhook_keys(cf, conf, &conf->sha1_keys,
                                         PAY_DIGEST_SHA1)
               != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_pay_webhook_keys(cf, conf, &conf->keys,
                                     PAY_DIGEST_SHA256);
}


/*
 * One prepared HMAC key per secret, so requests never pay for key setup.
 * Stripe and Square sign with the secret string as it is ("whsec_"
 * included for Stripe); Standard Webhooks with the base64-decoding of
 * what follows "whsec_".
 */

static char *
ngx_http_pay_webhook_keys(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *conf,
    ngx_array_t **keys, pay_digest_e digest)
{
    size_t               len;
    u_char               decoded[NGX_HTTP_PAY_STANDARD_KEY_MAX];
    ngx_str_t           *secret;
    ngx_uint_t           i;
    pay_hmac_key_t     **key;
    ngx_pool_cleanup_t  *cln;

    *keys = ngx_array_create(cf->pool, conf->secrets->nelts,
                             sizeof(pay_hmac_key_t *));
    if (*keys == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_pay_keys_cleanup;
    cln->data = *keys;

    secret = conf->secrets->elts;

    for (i = 0; i < conf->secrets->nelts; i++) {
        key = ngx_array_push(*keys);
        if (key == NULL) {
            return NGX_CONF_ERROR;
        }

        if (conf->webhook == NGX_HTTP_PAY_PROVIDER_STANDARD) {
            if (pay_standard_secret_decode((const char *) secret[i].data,
                                           secret[i].len, decoded,
                                           sizeof(decoded), &len)
                != 0)
            {
                (*keys)->nelts--;
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"pay_webhook standard\" in %s:%ui: secret "
                              "#%ui is not \"whsec_\" followed by base64",
                              conf->webhook_file, conf->webhook_line, i + 1);
                return NGX_CONF_ERROR;
            }

            *key = pay_hmac_key_new(decoded, len, digest);
            ngx_explicit_memzero(decoded, sizeof(decoded));

        } else {
            *key = pay_hmac_key_new(secret[i].data, secret[i].len, digest);
        }

        if (*key == NULL) {
            (*keys)->nelts--;
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_webhook\" in %s:%ui: cannot prepare the "
                          "HMAC key of secret #%ui",
                          conf->webhook_file, conf->webhook_line, i + 1);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void
ngx_http_pay_keys_cleanup(void *data)
{
    ngx_array_t *keys = data;

    ngx_uint_t        i;
    pay_hmac_key_t  **key;

    key = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        pay_hmac_key_free(key[i]);
    }
}
