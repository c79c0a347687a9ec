
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhooks: the binding of a transmission id to its body in the
 * location's dedupe store, after the signature holds
 * (ngx_http_pay_paypal.c) and the event's id is read
 * (ngx_http_pay_webhook.c), before the dedupe claim.  The transmission
 * signature covers only a CRC-32 of the body, so this binding, not the
 * signature, is what keeps one delivery's headers from carrying another
 * body; why and how is told at ngx_http_pay_paypal_bind() below.
 *
 * Its own file because it is its own step: another entry point, called
 * at another time, with a store operation rather than a subrequest.  What
 * the store needs of the location is checked at configuration time by
 * ngx_http_pay_paypal_merge_binding() (ngx_http_pay_paypal_conf.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_paypal.h"


/* what a store outage asks PayPal to wait (as dedupe does) */
#define NGX_HTTP_PAY_PAYPAL_STORE_RETRY_AFTER  5


/* where the binding of a transmission id to its body is */
#define NGX_HTTP_PAY_PAYPAL_BIND_START     0
#define NGX_HTTP_PAY_PAYPAL_BIND_CLAIM     1    /* claim answered */
#define NGX_HTTP_PAY_PAYPAL_BIND_DONE      2    /* bound to this body */


static ngx_int_t ngx_http_pay_paypal_bind_key(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp);
static ngx_int_t ngx_http_pay_paypal_bind_op(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_paypal_t *pp,
    ngx_http_pay_store_op_pt operation, ngx_uint_t next);
static void ngx_http_pay_paypal_bind_answered(ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_paypal_bind_found(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_paypal_t *pp, ngx_str_t *found);
static ngx_int_t ngx_http_pay_paypal_bind_down(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp);


/*
 * One transmission, one body.  PayPal signs the transmission id, its
 * time, the webhook id and the CRC-32 of the body; a CRC is no MAC, so a
 * body made to the same CRC verifies under the headers of any delivery
 * seen once.  After the signature holds, the transmission id is bound to
 * the SHA-256 of the raw body, as a claim in the location's dedupe store
 * (a claim is never evicted from a shm zone), until the transmission time
 * has left pay_webhook_tolerance plus a margin (then the headers are
 * refused anyway): the same id with another body is a forgery, with the
 * same body an ordinary delivery that dedupe then decides on.  Nothing
 * here is released when a delivery fails, and nothing needs to be: a
 * resend of the same body always passes.
 *
 * The claim's token is the body's hash, so one claim tells: NEW (bound
 * now), or the record found, whose token (or, for a record completed by
 * an older version, value) is compared with this body's.
 *
 * NGX_OK: bound, go on; NGX_AGAIN: the store answers later and runs the
 * phases again; NGX_DONE: answered.
 */

ngx_int_t
ngx_http_pay_paypal_bind(ngx_http_request_t *r, ngx_http_pay_loc_conf_t *plcf,
    ngx_http_pay_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_http_pay_paypal_t    *pp;
    ngx_http_pay_store_op_t  *op;

    pp = ctx->paypal;
    op = &pp->bind_op;

    if (pp->bind_waiting) {
        return NGX_AGAIN;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay paypal bind step %ui: %s", pp->bind,
                   ngx_http_pay_store_result_name(op->result));

    switch (pp->bind) {

    case NGX_HTTP_PAY_PAYPAL_BIND_START:
        rc = ngx_http_pay_paypal_bind_key(r, plcf, ctx, pp);
        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_http_pay_paypal_bind_op(r, ctx, pp,
                                         plcf->dedupe_store->engine->claim,
                                         NGX_HTTP_PAY_PAYPAL_BIND_CLAIM);
        if (rc != NGX_OK) {
            /* NGX_AGAIN: the store's answer runs the phases again */
            return rc;
        }

        /* fall through */

    case NGX_HTTP_PAY_PAYPAL_BIND_CLAIM:
        ngx_http_pay_store_outage(plcf->dedupe_store, op->result);

        switch (op->result) {

        case NGX_HTTP_PAY_STORE_NEW:
            pp->bind = NGX_HTTP_PAY_PAYPAL_BIND_DONE;
            return NGX_OK;

        case NGX_HTTP_PAY_STORE_PROCESSING:
        case NGX_HTTP_PAY_STORE_DONE:
            return ngx_http_pay_paypal_bind_found(r, ctx, pp, &op->found);

        default:
            return ngx_http_pay_paypal_bind_down(r, plcf, ctx, pp);
        }

    default: /* NGX_HTTP_PAY_PAYPAL_BIND_DONE */
        return NGX_OK;
    }
}


/*
 * The key (see pay_paypal_binding_key()), the token (the body's hash)
 * and the lifetime, with the transmission time checked again now: the
 * certificate fetch, PayPal's API or the store may have taken a while
 * since the headers were checked, and a binding must outlive the window
 * in which its headers are accepted.
 */

static ngx_int_t
ngx_http_pay_paypal_bind_key(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp)
{
    u_char                   *p;
    size_t                    len;
    long long                 t, ttl;
    ngx_http_pay_store_op_t  *op;

    op = &pp->bind_op;

    if (pay_paypal_parse_time(pp->headers.time, pp->headers.time_len, &t)
        != 0
        || pay_paypal_binding_ttl(t, (long long) plcf->tolerance,
                                  (long long) ngx_time(), &ttl)
           != PAY_OK)
    {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE,
                                   ngx_http_pay_paypal_details
                                       [PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE]);
    }

    op->ttl = (ngx_msec_t) ttl * 1000;

    len = sizeof("paypal:transmission:") - 1 + NGX_SIZE_T_LEN + 2
          + plcf->paypal_webhook_id.len + pp->headers.id_len;

    p = ngx_pnalloc(r->pool, len + PAY_PAYPAL_BINDING_TOKEN_LEN + 1);
    if (p == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    op->key.data = p;
    op->key.len = pay_paypal_binding_key((const char *)
                                             plcf->paypal_webhook_id.data,
                                         plcf->paypal_webhook_id.len,
                                         pp->headers.id, pp->headers.id_len,
                                         (char *) p, len);

    op->token.data = p + len;
    op->token.len = PAY_PAYPAL_BINDING_TOKEN_LEN;

    if (op->key.len == 0
        || pay_paypal_binding_token(ctx->body.data, ctx->body.len,
                                    (char *) op->token.data)
           != 0)
    {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the transmission binding cannot be "
                                   "made");
    }

    return NGX_OK;
}


/* starts a store operation; NGX_OK when it answered at once */

static ngx_int_t
ngx_http_pay_paypal_bind_op(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_http_pay_store_op_pt operation,
    ngx_uint_t next)
{
    ngx_int_t                 rc;
    ngx_http_pay_loc_conf_t  *plcf;
    ngx_http_pay_store_op_t  *op;

    op = &pp->bind_op;
    plcf = pp->plcf;

    op->handler = ngx_http_pay_paypal_bind_answered;
    op->data = ctx;
    op->pool = r->pool;
    op->log = r->connection->log;

    pp->bind = next;

    rc = operation(plcf->dedupe_store, op);

    if (rc == NGX_AGAIN) {
        pp->bind_waiting = 1;
        return NGX_AGAIN;
    }

    if (rc != NGX_OK) {
        op->result = NGX_HTTP_PAY_STORE_DOWN;
    }

    return NGX_OK;
}


/* the store's later answer: posted by the engine, not from its callback */

static void
ngx_http_pay_paypal_bind_answered(ngx_http_pay_store_op_t *op)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_log_ctx_t  *lctx;
    ngx_http_pay_ctx_t  *ctx;

    ctx = op->data;
    r = ctx->request;
    c = r->connection;

    lctx = c->log->data;
    lctx->current_request = r;

    ctx->paypal->bind_waiting = 0;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/*
 * The transmission id is bound already: to this body (found holds its
 * hash), or to another.  What was found is compared, never logged: the
 * line names only what this request carried, checked when it was parsed
 * (the transmission id and the event id, visible ASCII).
 */

static ngx_int_t
ngx_http_pay_paypal_bind_found(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *found)
{
    ngx_str_t  tid;

    if (found->len == pp->bind_op.token.len
        && ngx_memcmp(found->data, pp->bind_op.token.data, found->len) == 0)
    {
        pp->bind = NGX_HTTP_PAY_PAYPAL_BIND_DONE;
        return NGX_OK;
    }

    tid.data = (u_char *) pp->headers.id;
    tid.len = pp->headers.id_len;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "pay: paypal transmission \"%V\" was signed for another "
                  "body than this one of event \"%V\"", &tid,
                  &ctx->event_id);

    return ngx_http_pay_reject(r, ctx, PAY_ERR_TRANSMISSION_REUSED,
                               ngx_http_pay_paypal_details
                                   [PAY_ERR_TRANSMISSION_REUSED]);
}


/* the store cannot tell: 503 whatever pay_store_fail says, it is no dedupe */

static ngx_int_t
ngx_http_pay_paypal_bind_down(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp)
{
    ngx_str_t  tid;

    tid.data = (u_char *) pp->headers.id;
    tid.len = pp->headers.id_len;

    /* the outage itself is logged once, by ngx_http_pay_store_outage() */
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "pay: paypal transmission \"%V\" could not be bound to "
                  "its event: pay_store \"%V\" is unavailable",
                  &tid, &plcf->dedupe_store->name);

    return ngx_http_pay_reject_retry(r, ctx, PAY_ERR_STORE_UNAVAILABLE,
                                     "the transmission store is unavailable",
                                     NGX_HTTP_PAY_PAYPAL_STORE_RETRY_AFTER);
}
