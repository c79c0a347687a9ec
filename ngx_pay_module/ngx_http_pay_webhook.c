
/*
 * Copyright (C) ngx_pay authors
 *
 * Webhook verification in the access phase.
 *
 * The handler is a small state machine kept in the request context:
 *
 *   BODY       read the whole client body (ngx_http_read_client_request_body
 *              takes a reference on the request, dropped exactly once);
 *   WAIT_BODY  the read went asynchronous: the body handler re-runs the
 *              phases when it completes, which re-enters this handler;
 *   VERIFY     check the signature over the raw bytes, then read the
 *              event's identity from the now trusted JSON, then claim it
 *              in the dedupe store (ngx_http_pay_dedupe.c);
 *   CLAIM      the store answers asynchronously (Redis): its answer
 *              resumes the phases, which re-enters this handler;
 *   CLAIMED    act on the store's answer: forward, or answer here;
 *   DONE       ctx->status holds the answer for any later re-entry
 *              (NGX_DECLINED: go on to proxy_pass with the untouched body).
 *
 * Rejections are sent from here (problem+json), never returned as a status
 * code, so no other access module (satisfy any) can override them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"
#include "pay_event.h"
#include "pay_square.h"
#include "pay_standard.h"
#include "pay_stripe.h"
#include "pay_timestamp.h"


/* a decoded Standard Webhooks secret is at most this long (spec: 64) */
#define NGX_HTTP_PAY_STANDARD_KEY_MAX  256


static ngx_int_t ngx_http_pay_webhook_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_intent_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_phase(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf);
static ngx_int_t ngx_http_pay_webhook_start(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf);
static void ngx_http_pay_webhook_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_webhook_body_ready(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
static ngx_int_t ngx_http_pay_webhook_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
static ngx_int_t ngx_http_pay_webhook_decided(ngx_http_pay_ctx_t *ctx,
    ngx_int_t rc);
static ngx_int_t ngx_http_pay_stripe_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_pay_square_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_pay_standard_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_pay_webhook_event(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, pay_rc_e rc, pay_event_t *ev,
    const char **details);
static ngx_int_t ngx_http_pay_one_header(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_str_t *name, ngx_table_elt_t **found,
    const char **value, size_t *len);
static char *ngx_http_pay_webhook_paypal_merge(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);
static char *ngx_http_pay_webhook_keys(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf, ngx_array_t **keys, pay_digest_e digest);
static ngx_uint_t ngx_http_pay_is_pay_header(ngx_table_elt_t *h);
static void ngx_http_pay_keys_cleanup(void *data);


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


static const char  *ngx_http_pay_paypal_event_details[PAY_ERR_LAST] = {
    [PAY_ERR_BODY_MALFORMED] =
        "the signed body is not a PayPal event object",
    [PAY_ERR_INTERNAL] =
        "the event could not be read"
};


static ngx_str_t  ngx_http_pay_stripe_header = ngx_string("Stripe-Signature");

static ngx_str_t  ngx_http_pay_square_header =
    ngx_string("X-Square-HmacSha256-Signature");
static ngx_str_t  ngx_http_pay_square_sha1_header =
    ngx_string("X-Square-Signature");
static ngx_str_t  ngx_http_pay_square_environment =
    ngx_string("Square-Environment");

/* Standard Webhooks' names, then Svix's for the same three values */
static ngx_str_t  ngx_http_pay_standard_headers[2][3] = {
    { ngx_string("Webhook-Id"), ngx_string("Webhook-Timestamp"),
      ngx_string("Webhook-Signature") },
    { ngx_string("Svix-Id"), ngx_string("Svix-Timestamp"),
      ngx_string("Svix-Signature") }
};


ngx_int_t
ngx_http_pay_webhook_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_pay_webhook_handler;

    /*
     * Intents are made after the access phase: auth_request, auth_basic
     * and allow/deny of the location decide first who may create one.
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_pay_intent_handler;

    return NGX_OK;
}


/*
 * A PayPal location binds each transmission id to its body in its dedupe
 * store until the transmission time leaves pay_webhook_tolerance: so it
 * needs a store, a finite window, and, for a binding to hold, the same
 * store as every other location taking the same webhook id.
 */

static char *
ngx_http_pay_webhook_paypal_merge(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf)
{
    ngx_uint_t                      i;
    ngx_http_pay_main_conf_t       *pmcf;
    ngx_http_pay_paypal_binding_t  *b;

    if (conf->dedupe_store == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui requires "
                      "\"pay_dedupe\": each transmission id is bound "
                      "to its body in the dedupe store",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    if (conf->tolerance == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui does not work with "
                      "\"pay_webhook_tolerance 0\": once its binding "
                      "expires, a transmission's headers would carry any "
                      "body; set a finite window",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    if (pmcf->paypal_bindings == NULL) {
        pmcf->paypal_bindings = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_pay_paypal_binding_t));
        if (pmcf->paypal_bindings == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    b = pmcf->paypal_bindings->elts;

    for (i = 0; i < pmcf->paypal_bindings->nelts; i++) {
        if (b[i].webhook_id.len != conf->paypal_webhook_id.len
            || ngx_memcmp(b[i].webhook_id.data, conf->paypal_webhook_id.data,
                          conf->paypal_webhook_id.len)
               != 0)
        {
            continue;
        }

        if (b[i].store == conf->dedupe_store) {
            return NGX_CONF_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui binds the "
                      "transmissions of its webhook id in pay_store "
                      "\"%V\", the one in %s:%ui in \"%V\": a transmission "
                      "bound in one store is unknown to the other; use one "
                      "\"pay_dedupe\" store for every location of a webhook "
                      "id", conf->webhook_file, conf->webhook_line,
                      &conf->dedupe_store->name, b[i].file, b[i].line,
                      &b[i].store->name);
        return NGX_CONF_ERROR;
    }

    b = ngx_array_push(pmcf->paypal_bindings);
    if (b == NULL) {
        return NGX_CONF_ERROR;
    }

    b->webhook_id = conf->paypal_webhook_id;
    b->store = conf->dedupe_store;
    b->file = conf->webhook_file;
    b->line = conf->webhook_line;

    return NGX_CONF_OK;
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
        return ngx_http_pay_webhook_paypal_merge(cf, conf);
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


/* the access phase: webhooks (its checker skips subrequests) */

static ngx_int_t
ngx_http_pay_webhook_handler(ngx_http_request_t *r)
{
    ngx_http_pay_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_pay_module);

    if (plcf->webhook == NGX_HTTP_PAY_PROVIDER_OFF) {
        return NGX_DECLINED;
    }

    return ngx_http_pay_phase(r, plcf);
}


/* the precontent phase: intents (its generic checker runs subrequests) */

static ngx_int_t
ngx_http_pay_intent_handler(ngx_http_request_t *r)
{
    ngx_http_pay_loc_conf_t  *plcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_pay_module);

    if (plcf->intent == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_pay_phase(r, plcf);
}


/* one state machine for both: read the body, then verify or create */

static ngx_int_t
ngx_http_pay_phase(ngx_http_request_t *r, ngx_http_pay_loc_conf_t *plcf)
{
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r);

    if (ctx == NULL) {
        return ngx_http_pay_webhook_start(r, plcf);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay webhook handler, state: %ui", ctx->state);

    switch (ctx->state) {

    case NGX_HTTP_PAY_STATE_BODY:
    case NGX_HTTP_PAY_STATE_WAIT_BODY:

        if (ctx->uri_changes != r->uri_changes) {
            /*
             * an error_page of the body read redirected the request here:
             * no body handler will ever resume it
             */
            return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                       "an error_page redirected the request "
                                       "to a pay location while its body "
                                       "was read");
        }

        /* the body handler resumes the phases */
        return NGX_DONE;

    case NGX_HTTP_PAY_STATE_VERIFY:
        return ngx_http_pay_webhook_body_ready(r, plcf, ctx);

    case NGX_HTTP_PAY_STATE_CLAIM:
        /* the store's answer resumes the phases */
        return NGX_DONE;

    case NGX_HTTP_PAY_STATE_CLAIMED:
        return ngx_http_pay_webhook_decided(ctx,
                   ngx_http_pay_dedupe_decide(r, plcf, ctx));

    default: /* NGX_HTTP_PAY_STATE_DONE */
        return ctx->status;
    }
}


static ngx_int_t
ngx_http_pay_webhook_start(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf)
{
    ngx_int_t            rc;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->provider = plcf->webhook;

    if (plcf->intent != NULL) {
        /* the method and the Idempotency-Key, before the body */
        rc = ngx_http_pay_intent_start(r, plcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

    } else if (r->method != NGX_HTTP_POST) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_METHOD_NOT_ALLOWED,
                                   "webhooks are delivered with POST");
    }

    ctx->state = NGX_HTTP_PAY_STATE_BODY;
    ctx->uri_changes = r->uri_changes;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_pay_webhook_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /*
         * The read dropped its own reference already.  nginx answers: it
         * closes the connection (the rest of the body must never be read
         * as the next request), an error_page applies, and a 413 becomes
         * the module's body_too_large in ngx_http_pay_response.c, the same
         * as when the read fails later.
         */
        return rc;
    }

    if (ctx->state == NGX_HTTP_PAY_STATE_BODY) {
        /* still reading: the body handler will run the phases again */
        ctx->state = NGX_HTTP_PAY_STATE_WAIT_BODY;
        ngx_http_finalize_request(r, NGX_DONE);
        return NGX_DONE;
    }

    /* read synchronously; the body handler dropped the reference */

    return ngx_http_pay_webhook_body_ready(r, plcf, ctx);
}


/* the whole body is in: a webhook's verification, or an intent's steps */

static ngx_int_t
ngx_http_pay_webhook_body_ready(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    if (ctx->intent != NULL) {
        return ngx_http_pay_intent_process(r, plcf, ctx);
    }

    return ngx_http_pay_webhook_verify(r, plcf, ctx);
}


static void
ngx_http_pay_webhook_body_handler(ngx_http_request_t *r)
{
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay webhook body read");

    if (ctx->state == NGX_HTTP_PAY_STATE_WAIT_BODY) {
        ctx->state = NGX_HTTP_PAY_STATE_VERIFY;

        /* the body read left ngx_http_request_empty_handler here */
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        return;
    }

    ctx->state = NGX_HTTP_PAY_STATE_VERIFY;
    r->main->count--;
}


static ngx_int_t
ngx_http_pay_webhook_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    ngx_int_t     rc;
    pay_event_t  *ev;

    /* PayPal re-enters here after each fetch: the body is read once */

    if (ctx->body.data == NULL
        && ngx_http_pay_body_get(r, &ctx->body, 0) != NGX_OK)
    {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the request body could not be read");
    }

    switch (ctx->provider) {

    case NGX_HTTP_PAY_PROVIDER_STRIPE:
        rc = ngx_http_pay_stripe_verify(r, plcf, ctx, &ctx->body);
        break;

    case NGX_HTTP_PAY_PROVIDER_SQUARE:
        rc = ngx_http_pay_square_verify(r, plcf, ctx, &ctx->body);
        break;

    case NGX_HTTP_PAY_PROVIDER_STANDARD:
        rc = ngx_http_pay_standard_verify(r, plcf, ctx, &ctx->body);
        break;

    default: /* NGX_HTTP_PAY_PROVIDER_PAYPAL */
        rc = ngx_http_pay_paypal_verify(r, plcf, ctx, &ctx->body);

        if (rc == NGX_OK && ctx->event_id.data == NULL) {
            ev = ngx_palloc(r->pool, sizeof(pay_event_t));
            rc = ngx_http_pay_webhook_event(r, ctx,
                     ev ? pay_event_parse_paypal(ctx->body.data,
                                                 ctx->body.len, ev)
                        : PAY_ERR_INTERNAL,
                     ev, ngx_http_pay_paypal_event_details);
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

    if (ngx_http_pay_strip_client_headers(r) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "out of memory");
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay webhook verified: id \"%V\", type \"%V\", "
                   "kind \"%s\"",
                   &ctx->event_id, &ctx->event_type, ctx->event_kind);

    ctx->verified = 1;

    rc = ngx_http_pay_dedupe_claim(r, plcf, ctx);

    return ngx_http_pay_webhook_decided(ctx, rc);
}


/*
 * NGX_DECLINED from dedupe: the event goes on to proxy_pass, whatever
 * re-enters the handler later.  (NGX_DONE: an answer was sent, which set
 * the state itself, or the claim is waiting for the store.)
 */

static ngx_int_t
ngx_http_pay_webhook_decided(ngx_http_pay_ctx_t *ctx, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_PAY_STATE_DONE;
        ctx->status = NGX_DECLINED;
    }

    return rc;
}


/*
 * NGX_OK when the delivery is genuine and ctx holds its identity;
 * otherwise the rejection has been sent and NGX_DONE is returned.
 */

static ngx_int_t
ngx_http_pay_stripe_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body)
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
        rc = pay_stripe_verify((const char *) h->value.data, h->value.len,
                               body->data, body->len,
                               plcf->keys->elts, plcf->keys->nelts,
                               (long long) ngx_time(),
                               (long long) plcf->tolerance);
    }

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_stripe_details[rc]);
    }

    ev = ngx_palloc(r->pool, sizeof(pay_event_t));

    return ngx_http_pay_webhook_event(r, ctx,
               ev ? pay_event_parse_stripe(body->data, body->len, ev)
                  : PAY_ERR_INTERNAL,
               ev, ngx_http_pay_stripe_details);
}


/*
 * Square: HMAC of the registered notification URL and the body, with the
 * current header, or the legacy SHA-1 one when pay_webhook_square_sha1 is
 * on and the current one is absent.  No timestamp is signed: dedupe on
 * the event id is the replay defence, and pay_webhook_square_window can
 * bound the body's created_at, which is signed (every retry keeps it).
 */

static ngx_int_t
ngx_http_pay_square_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body)
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
        rc = pay_square_verify(sig, len, url.data, url.len,
                               body->data, body->len,
                               keys->elts, keys->nelts);
    }

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_square_details[rc]);
    }

    ev = ngx_palloc(r->pool, sizeof(pay_event_t));

    n = ngx_http_pay_webhook_event(r, ctx,
            ev ? pay_event_parse_square(body->data, body->len, ev)
               : PAY_ERR_INTERNAL,
            ev, ngx_http_pay_square_details);

    if (n != NGX_OK) {
        return n;
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
            ctx->livemode = 1;

        } else if (h->value.len == 7
                   && ngx_strncasecmp(h->value.data, (u_char *) "Sandbox", 7)
                      == 0)
        {
            ctx->livemode = 0;
        }
    }

    return NGX_OK;
}


/* Standard Webhooks, under its own header names or Svix's */

static ngx_int_t
ngx_http_pay_standard_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body)
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

    rc = pay_standard_verify(value[0], len[0], value[1], len[1],
                             value[2], len[2], body->data, body->len,
                             plcf->keys->elts, plcf->keys->nelts,
                             (long long) ngx_time(),
                             (long long) plcf->tolerance);

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_standard_details[rc]);
    }

    ev = ngx_palloc(r->pool, sizeof(pay_event_t));

    return ngx_http_pay_webhook_event(r, ctx,
               ev ? pay_event_parse_standard(body->data, body->len,
                                             value[0], len[0], ev)
                  : PAY_ERR_INTERNAL,
               ev, ngx_http_pay_standard_details);
}


/*
 * The verified event's identity into ctx, or the rejection for rc.  ev
 * lives in the request pool: ctx points at its NUL-terminated fields.
 */

static ngx_int_t
ngx_http_pay_webhook_event(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, pay_event_t *ev, const char **details)
{
    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc, details[rc]);
    }

    ctx->event_id.data = (u_char *) ev->id;
    ctx->event_id.len = ev->id_len;
    ctx->event_type.data = (u_char *) ev->type;
    ctx->event_type.len = ev->type_len;
    ctx->livemode = ev->livemode;
    ctx->event_kind = ev->kind;

    return NGX_OK;
}


/*
 * A header that must not be repeated: NGX_OK with *found (NULL when
 * absent) and its value, or the rejection sent (NGX_DONE).
 */

static ngx_int_t
ngx_http_pay_one_header(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_str_t *name, ngx_table_elt_t **found, const char **value,
    size_t *len)
{
    if (ngx_http_pay_find_header(r, name, found) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: more than one \"%V\" header", name);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_SIGNATURE_MALFORMED,
                                   "a signature header is repeated");
    }

    if (*found == NULL) {
        *value = NULL;
        *len = 0;

    } else {
        *value = (const char *) (*found)->value.data;
        *len = (*found)->value.len;
    }

    return NGX_OK;
}


/*
 * Finds a request header by name.  Two headers of the same name make the
 * delivery ambiguous: NGX_DECLINED.
 */

ngx_int_t
ngx_http_pay_find_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_table_elt_t **found)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    *found = NULL;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != name->len
            || ngx_strncasecmp(h[i].key.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (*found != NULL) {
            return NGX_DECLINED;
        }

        *found = &h[i];
    }

    return NGX_OK;
}


/*
 * The app learns things only from what the operator forwards with
 * proxy_set_header: a client-sent "Pay-*" header must never pass for one
 * of ours, nor a "Pay_*" one, which nginx keeps under
 * underscores_in_headers on (or ignore_invalid_headers off) and which app
 * servers that fold '_' into '-' read as "Pay-*".  The header list is
 * rebuilt without them (an ngx_list_t has no removal); the dropped
 * elements stay in the pool, so pointers that r->headers_in keeps to
 * other headers remain valid.
 */

ngx_int_t
ngx_http_pay_strip_client_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, n, found;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *copy;

    found = 0;
    n = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        n++;

        if (ngx_http_pay_is_pay_header(&h[i])) {
            found++;
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay: dropping %ui client Pay-* header(s)", found);

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool,
                      n - found > 0 ? n - found : 1, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &old.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_pay_is_pay_header(&h[i])) {
            continue;
        }

        copy = ngx_list_push(&r->headers_in.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_pay_is_pay_header(ngx_table_elt_t *h)
{
    return h->key.len >= sizeof("Pay-") - 1
           && ngx_strncasecmp(h->key.data, (u_char *) "Pay",
                              sizeof("Pay") - 1) == 0
           && (h->key.data[3] == '-' || h->key.data[3] == '_');
}
