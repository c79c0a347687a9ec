
/*
 * Copyright (C) ngx_pay authors
 *
 * The one entry of a request: the request context (created, found again,
 * settled when the request ends) and the phase handlers of webhooks and
 * intents.  Every request the module works on is walked from here:
 *
 *   BODY       read the whole client body (ngx_http_read_client_request_body
 *              takes a reference on the request, dropped exactly once);
 *   WAIT_BODY  the read went asynchronous: the body handler re-runs the
 *              phases when it completes, which re-enters this handler;
 *   VERIFY     the body is in: a webhook is verified and its identity read
 *              (ngx_http_pay_webhook.c and the provider's glue), then
 *              claimed in the dedupe store (ngx_http_pay_dedupe.c); an
 *              intent takes its steps (ngx_http_pay_intent.c), which keep
 *              their own state in ctx->intent.  PayPal's fetches re-enter
 *              here;
 *   CLAIM      the store answers asynchronously (Redis): its answer
 *              resumes the phases, which re-enters this handler;
 *   CLAIMED    act on the store's answer: forward, or answer here;
 *   DONE       ctx->status holds the answer for any later re-entry
 *              (NGX_DECLINED: go on to proxy_pass with the untouched body).
 *
 * The features never look the context up: it is handed to them.  When
 * the request ends, however it ends, the context's pool cleanup settles
 * what the features left open, in a fixed order (PayPal's fetches, the
 * dedupe claim, the intent's records).  The output filters are here for
 * the same reason: they find the context and hand it to the intent's
 * capture and to the response's 413 replacement.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_dedupe.h"
#include "ngx_http_pay_intent.h"
#include "ngx_http_pay_paypal.h"
#include "ngx_http_pay_status.h"
#include "ngx_http_pay_webhook.h"


static ngx_int_t ngx_http_pay_webhook_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_intent_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_phase(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf);
static ngx_int_t ngx_http_pay_start(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf);
static void ngx_http_pay_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_body_ready(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
static ngx_int_t ngx_http_pay_decided(ngx_http_pay_ctx_t *ctx, ngx_int_t rc);
static void ngx_http_pay_ctx_cleanup(void *data);
static void ngx_http_pay_count(ngx_http_pay_ctx_t *ctx);
static ngx_int_t ngx_http_pay_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_pay_confirmed(ngx_http_pay_store_op_t *op);


/*
 * r->buffered while an answer is held (the bit ngx_http_image_filter_module
 * uses too: the two never hold one response): the request is not
 * finalized before it goes out
 */
#define NGX_HTTP_PAY_BUFFERED  0x08


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_pay_handler_init(ngx_conf_t *cf)
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

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_pay_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_pay_body_filter;

    return NGX_OK;
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
        return ngx_http_pay_start(r, plcf);
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
        return ngx_http_pay_body_ready(r, plcf, ctx);

    case NGX_HTTP_PAY_STATE_CLAIM:
        /* the store's answer resumes the phases */
        return NGX_DONE;

    case NGX_HTTP_PAY_STATE_CLAIMED:
        return ngx_http_pay_decided(ctx,
                                    ngx_http_pay_dedupe_decide(r, plcf, ctx));

    default: /* NGX_HTTP_PAY_STATE_DONE */
        return ctx->status;
    }
}


static ngx_int_t
ngx_http_pay_start(ngx_http_request_t *r, ngx_http_pay_loc_conf_t *plcf)
{
    ngx_int_t            rc;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->provider = plcf->webhook;
    ctx->status_secrets = plcf->status_secrets;

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

    rc = ngx_http_read_client_request_body(r, ngx_http_pay_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /*
         * The read dropped its own reference already.  nginx answers: it
         * closes the connection (the rest of the body must never be read
         * as the next request), an error_page applies, and a 413 becomes
         * the module's body_too_large in the filters below, the same as
         * when the read fails later.
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

    return ngx_http_pay_body_ready(r, plcf, ctx);
}


static void
ngx_http_pay_body_handler(ngx_http_request_t *r)
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


/*
 * The whole body is in: an intent's steps, or a webhook's verification
 * and then its dedupe claim.
 */

static ngx_int_t
ngx_http_pay_body_ready(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->intent != NULL) {
        return ngx_http_pay_intent_process(r, plcf, ctx);
    }

    rc = ngx_http_pay_webhook_verify(r, plcf, ctx);

    if (rc != NGX_OK) {
        /* NGX_DONE: answered; NGX_AGAIN: PayPal fetches or the store
           resume us */
        return rc;
    }

    return ngx_http_pay_decided(ctx, ngx_http_pay_dedupe_claim(r, plcf, ctx));
}


/*
 * NGX_DECLINED from dedupe: the event goes on to proxy_pass, whatever
 * re-enters the handler later.  (NGX_DONE: an answer was sent, which set
 * the state itself, or the claim is waiting for the store.)
 */

static ngx_int_t
ngx_http_pay_decided(ngx_http_pay_ctx_t *ctx, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        ctx->state = NGX_HTTP_PAY_STATE_DONE;
        ctx->status = NGX_DECLINED;
    }

    return rc;
}


/*
 * The context is allocated with a pool cleanup as its marker, so it can be
 * found again after an internal redirect (error_page) has wiped r->ctx,
 * the way ngx_http_realip_module does it.
 */

ngx_http_pay_ctx_t *
ngx_http_pay_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_pay_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_pay_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_pay_ctx_t));

    /*
     * set by ngx_memzero():
     *
     *     ctx->state = NGX_HTTP_PAY_STATE_BODY;
     *     ctx->error = PAY_OK;
     *     ctx->event_id = { 0, NULL };
     *     ctx->event_type = { 0, NULL };
     *     ctx->dedupe = NGX_HTTP_PAY_DEDUPE_NONE;
     *     ctx->store = NULL;
     *     ctx->verified = 0;
     *     ctx->claimed = 0;
     */

    ctx->livemode = -1;
    ctx->request = r;

    cln->handler = ngx_http_pay_ctx_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_pay_module);

    return ctx;
}


ngx_http_pay_ctx_t *
ngx_http_pay_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_pay_module);

    if (ctx == NULL && (r->internal || r->filter_finalize)) {

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_pay_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_pay_module);
                break;
            }
        }
    }

    return ctx;
}


/*
 * The marker for ngx_http_pay_get_ctx(), and the one place that runs once
 * for every request however it ends: what each feature left open is
 * settled here, PayPal's fetches first, then the dedupe claim, then the
 * intent's records.
 */

static void
ngx_http_pay_ctx_cleanup(void *data)
{
    ngx_http_pay_ctx_t *ctx = data;

    ngx_http_pay_paypal_cleanup(ctx);
    ngx_http_pay_dedupe_finish(ctx);
    ngx_http_pay_intent_finish(ctx);
    ngx_http_pay_count(ctx);
    ngx_http_pay_intent_free(ctx);
}


/*
 * The one place a webhook's outcome is counted: when the request ends,
 * what came of it is known, however it ended.
 */

static void
ngx_http_pay_count(ngx_http_pay_ctx_t *ctx)
{
    ngx_uint_t                      outcome;
    ngx_http_pay_status_series_t  **secrets;

    if (ctx->intent != NULL) {
        outcome = (ctx->error != PAY_OK)
                  ? NGX_HTTP_PAY_OUTCOME_ERROR + ctx->error
                  : (ctx->intent->idempotency != NGX_HTTP_PAY_IDEM_NONE)
                    ? ctx->intent->idempotency - 1
                    : NGX_HTTP_PAY_OUTCOME_ABORTED;

        ngx_http_pay_status_intent_done(ctx->intent->provider, outcome);
        return;
    }

    if (ctx->provider == NGX_HTTP_PAY_PROVIDER_OFF) {
        return;
    }

    if (ctx->dedupe == NGX_HTTP_PAY_DEDUPE_DUPLICATE
        || ctx->error == PAY_ERR_DUPLICATE)
    {
        outcome = NGX_HTTP_PAY_OUTCOME_DUPLICATE;

    } else if (ctx->dedupe == NGX_HTTP_PAY_DEDUPE_IN_FLIGHT
               || ctx->error == PAY_ERR_IN_FLIGHT)
    {
        outcome = NGX_HTTP_PAY_OUTCOME_IN_FLIGHT;

    } else if (ctx->error != PAY_OK) {
        outcome = NGX_HTTP_PAY_OUTCOME_ERROR + ctx->error;

    } else if (ctx->state == NGX_HTTP_PAY_STATE_DONE
               && ctx->status == NGX_DECLINED)
    {
        outcome = (ctx->dedupe == NGX_HTTP_PAY_DEDUPE_RETRY)
                  ? NGX_HTTP_PAY_OUTCOME_RETRY
                  : (ctx->dedupe == NGX_HTTP_PAY_DEDUPE_BYPASS)
                    ? NGX_HTTP_PAY_OUTCOME_BYPASS
                    : NGX_HTTP_PAY_OUTCOME_FORWARDED;

    } else {
        /* the client went away before anything was decided */
        outcome = NGX_HTTP_PAY_OUTCOME_ABORTED;
    }

    ngx_http_pay_status_webhook_done(ctx->request, ctx->provider, outcome);

    if (ctx->secret != 0 && ctx->status_secrets != NULL
        && ctx->secret <= ctx->status_secrets->nelts)
    {
        secrets = ctx->status_secrets->elts;
        ngx_http_pay_status_inc(secrets[ctx->secret - 1]);
    }
}


/*
 * The final answer of the main request, on its way out: an intent keeps
 * it (status, type, body) to replay it; nginx's own 413 while the body
 * is read (a chunked body over client_max_body_size) becomes the
 * module's body_too_large; and with a store that confirms completions
 * (Redis wait=) a webhook's answer is held, header and body, until its
 * completion is confirmed.  A Content-Length over the limit is refused by
 * nginx before any handler runs; an error_page for 413 redirected the
 * request (every redirect counts uri_changes down) and its page is the
 * operator's answer: both are left alone.
 */

static ngx_int_t
ngx_http_pay_header_filter(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_pay_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_pay_get_ctx(r);

    if (ctx == NULL) {
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_pay_intent_capture_header(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        && (ctx->state == NGX_HTTP_PAY_STATE_BODY
            || ctx->state == NGX_HTTP_PAY_STATE_WAIT_BODY)
        && ctx->uri_changes == r->uri_changes
        && ngx_http_pay_replace_too_large(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_pay_dedupe_confirm(r, ctx, ngx_http_pay_confirmed);

    if (rc == NGX_AGAIN) {
        /* ngx_http_pay_confirmed() sends the header and what was held */
        ctx->holding = 1;
        r->buffered |= NGX_HTTP_PAY_BUFFERED;
        return NGX_OK;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_pay_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t          out;
    ngx_http_pay_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_pay_get_ctx(r);

    if (ctx != NULL && ctx->holding) {
        /* the links are the caller's; the buffers stay busy until sent */
        return (ngx_chain_add_copy(r->pool, &ctx->held, in) == NGX_OK)
               ? NGX_OK : NGX_ERROR;
    }

    if (ctx == NULL || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    /* what the intent keeps is what nginx sent, before any replacement */
    ngx_http_pay_intent_capture_body(r, ctx, in);

    if (ctx->problem.data == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->problem_sent) {
        /* the rest of nginx's page */
        return ngx_http_next_body_filter(r, NULL);
    }

    ctx->problem_sent = 1;

    if (ngx_http_pay_problem_chain(r, ctx, &out) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_body_filter(r, &out);
}


/*
 * The held answer's completion was answered (confirmed, or not: see
 * ngx_http_pay_dedupe_confirmed()): the header and what the body filter
 * held go out now, and the write event is posted for whoever writes next
 * (the upstream still reading the answer, or ngx_http_writer() if the
 * request was finalized meanwhile).
 */

static void
ngx_http_pay_confirmed(ngx_http_pay_store_op_t *op)
{
    ngx_int_t            rc;
    ngx_chain_t         *held;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_log_ctx_t  *lctx;
    ngx_http_pay_ctx_t  *ctx;

    ctx = op->data;
    r = ctx->request;
    c = r->connection;

    lctx = c->log->data;
    lctx->current_request = r;

    ngx_http_pay_dedupe_confirmed(ctx);

    ctx->holding = 0;
    r->buffered &= ~NGX_HTTP_PAY_BUFFERED;

    held = ctx->held;
    ctx->held = NULL;

    rc = ngx_http_next_header_filter(r);

    if (r->header_only) {
        /* a body nginx does not send (a 204's): consumed, not passed on */
        for ( /* void */ ; held != NULL; held = held->next) {
            held->buf->pos = held->buf->last;
            held->buf->file_pos = held->buf->file_last;
        }
    }

    if (rc != NGX_ERROR && held != NULL) {
        rc = ngx_http_next_body_filter(r, held);
    }

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);

    } else {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    ngx_http_run_posted_requests(c);
}
