
/*
 * Copyright (C) ngx_pay authors
 *
 * Webhook deduplication (SPEC section 4): providers deliver at least once,
 * the app behind nginx should see each event once.
 *
 * After the signature holds, the access handler claims
 * "webhook:<provider>:<event id>" in the location's store for the lock
 * time.  A fresh claim goes on to proxy_pass; when the request ends, the
 * context's pool cleanup completes the claim (kept for the ttl) if the app
 * answered 2xx, and releases it otherwise, so the provider's retry gets
 * through.  Completion and release act only on our own claim (its token),
 * so a claim whose lock expired never overwrites a newer one.
 *
 * A claim that finds the event done is answered 200 here and not
 * forwarded; one that finds it being processed gets 409; a store that
 * cannot answer gets 503 (pay_store_fail closed) or the event is forwarded
 * unguarded (open).  Every answer other than a forward carries Retry-After
 * where a retry makes sense.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


/* what a store outage asks the provider to wait before retrying */
#define NGX_HTTP_PAY_STORE_RETRY_AFTER  5


static void ngx_http_pay_dedupe_claimed(ngx_http_pay_store_op_t *op);
static ngx_uint_t ngx_http_pay_dedupe_accepted(ngx_http_request_t *r);


static ngx_str_t  ngx_http_pay_duplicate_json =
    ngx_string("{\"received\":true,\"duplicate\":true}\n");


/* pay_dedupe NAME|off [ttl=72h] [lock=60s] */

char *
ngx_http_pay_dedupe_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    return ngx_http_pay_store_use(cf, &plcf->dedupe, &plcf->dedupe_name,
                                  &plcf->dedupe_ttl, &plcf->dedupe_lock);
}


/*
 * Inherits pay_dedupe as a whole (a store and its times go together) and,
 * in a webhook location, finds the store: the named one, or the default.
 */

char *
ngx_http_pay_dedupe_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf)
{
    ngx_http_pay_main_conf_t  *pmcf;

    if (conf->dedupe == NGX_CONF_UNSET) {
        conf->dedupe = prev->dedupe;
        conf->dedupe_name = prev->dedupe_name;
        conf->dedupe_ttl = prev->dedupe_ttl;
        conf->dedupe_lock = prev->dedupe_lock;
    }

    if (conf->dedupe == NGX_CONF_UNSET) {
        conf->dedupe = 1;
    }

    if (conf->dedupe_ttl == NGX_CONF_UNSET_MSEC) {
        conf->dedupe_ttl = 72 * 60 * 60 * 1000;
    }

    if (conf->dedupe_lock == NGX_CONF_UNSET_MSEC) {
        conf->dedupe_lock = 60 * 1000;
    }
    ngx_conf_merge_uint_value(conf->store_fail_open, prev->store_fail_open,
                              0);

    if (!conf->dedupe) {
        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    /* a misspelt store fails nginx -t wherever it is written */

    if (conf->dedupe_name.len) {
        conf->dedupe_store = ngx_http_pay_store_find(pmcf,
                                                     &conf->dedupe_name);

        if (conf->dedupe_store == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_dedupe\" names no \"pay_store\": \"%V\"",
                          &conf->dedupe_name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_OFF) {
        return NGX_CONF_OK;
    }

    /* only a webhook location needs the default (it may be created now) */

    conf->dedupe_store = ngx_http_pay_store_default(cf, pmcf);

    return conf->dedupe_store ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/*
 * Claims the verified event.  NGX_DECLINED: forward it; NGX_DONE: the
 * answer has been sent, or the store answers later and resumes the phases.
 */

ngx_int_t
ngx_http_pay_dedupe_claim(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    u_char                   *p;
    size_t                    len;
    ngx_int_t                 rc;
    const char               *provider;
    ngx_http_pay_store_t     *store;
    ngx_http_pay_store_op_t  *op;

    store = plcf->dedupe_store;

    if (store == NULL) {
        return NGX_DECLINED;
    }

    op = &ctx->claim;
    provider = ngx_http_pay_provider_name(ctx->provider);

    len = sizeof("webhook::") - 1 + ngx_strlen(provider) + ctx->event_id.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    op->key.data = p;
    op->key.len = ngx_sprintf(p, "webhook:%s:%V", provider, &ctx->event_id)
                  - p;

    if (ngx_http_pay_store_token(r->pool, &op->token) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    op->ttl = plcf->dedupe_lock;
    op->handler = ngx_http_pay_dedupe_claimed;
    op->data = ctx;
    op->pool = r->pool;
    op->log = r->connection->log;

    ctx->store = store;
    ctx->dedupe_ttl = plcf->dedupe_ttl;
    ctx->state = NGX_HTTP_PAY_STATE_CLAIM;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay dedupe claim \"%V\" in \"%V\"", &op->key,
                   &store->name);

    rc = store->engine->claim(store, op);

    if (rc == NGX_AGAIN) {
        /* ngx_http_pay_dedupe_claimed() runs the phases again */
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        op->result = NGX_HTTP_PAY_STORE_DOWN;
    }

    ctx->state = NGX_HTTP_PAY_STATE_CLAIMED;

    return ngx_http_pay_dedupe_decide(r, plcf, ctx);
}


/* the store's later answer: posted by the engine, not from its callback */

static void
ngx_http_pay_dedupe_claimed(ngx_http_pay_store_op_t *op)
{
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_log_ctx_t    *lctx;
    ngx_http_pay_ctx_t    *ctx;

    ctx = op->data;
    r = ctx->request;
    c = r->connection;

    lctx = c->log->data;
    lctx->current_request = r;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "pay dedupe claim answered: %s",
                   ngx_http_pay_store_result_name(op->result));

    ctx->state = NGX_HTTP_PAY_STATE_CLAIMED;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* acts on the claim's answer: the same rules whenever it arrived */

ngx_int_t
ngx_http_pay_dedupe_decide(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    const char  *provider;

    provider = ngx_http_pay_provider_name(ctx->provider);

    switch (ctx->claim.result) {

    case NGX_HTTP_PAY_STORE_NEW:
        ctx->claimed = 1;
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_NEW;
        return NGX_DECLINED;

    case NGX_HTTP_PAY_STORE_DONE:
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_DUPLICATE;
        ctx->error = PAY_ERR_DUPLICATE;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: %s duplicate: event \"%V\" was delivered "
                      "already", provider, &ctx->event_id);

        return ngx_http_pay_answer(r, ctx, NGX_HTTP_OK,
                                   &ngx_http_pay_duplicate_json);

    case NGX_HTTP_PAY_STORE_PROCESSING:
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_IN_FLIGHT;

        return ngx_http_pay_reject_retry(r, ctx, PAY_ERR_IN_FLIGHT,
                                         "the event is being processed "
                                         "by another delivery",
                                         (time_t) (plcf->dedupe_lock + 999)
                                         / 1000);

    default: /* NGX_HTTP_PAY_STORE_DOWN */
        break;
    }

    if (plcf->store_fail_open) {
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_BYPASS;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: %s event \"%V\" forwarded without dedupe: "
                      "pay_store \"%V\" is unavailable (pay_store_fail open)",
                      provider, &ctx->event_id, &ctx->store->name);

        return NGX_DECLINED;
    }

    return ngx_http_pay_reject_retry(r, ctx, PAY_ERR_STORE_UNAVAILABLE,
                                     "the dedupe store is unavailable",
                                     NGX_HTTP_PAY_STORE_RETRY_AFTER);
}


/*
 * Called once as the request is freed (the context's pool cleanup): the
 * app's answer decides between complete and release.  Fire and forget:
 * the engine copies what it needs and logs its own failures.
 */

void
ngx_http_pay_dedupe_finish(ngx_http_pay_ctx_t *ctx)
{
    u_char                    status[NGX_INT_T_LEN];
    ngx_http_request_t       *r;
    ngx_http_pay_store_op_t   op;

    if (!ctx->claimed) {
        return;
    }

    ctx->claimed = 0;
    r = ctx->request;

    ngx_memzero(&op, sizeof(ngx_http_pay_store_op_t));

    op.key = ctx->claim.key;
    op.token = ctx->claim.token;
    op.log = r->connection->log;

    if (ngx_http_pay_dedupe_accepted(r)) {
        op.value.data = status;
        op.value.len = ngx_sprintf(status, "%ui", r->headers_out.status)
                       - status;
        op.ttl = ctx->dedupe_ttl;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay dedupe complete \"%V\"", &op.key);

        (void) ctx->store->engine->complete(ctx->store, &op);

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay dedupe release \"%V\", status %ui", &op.key,
                       r->headers_out.status);

        (void) ctx->store->engine->release(ctx->store, &op);
    }
}


/*
 * The app took the event: the response is 2xx, and so is the last
 * upstream's answer when there was one (an error_page that turns a 502
 * into a 200 must not mark the event done).
 */

static ngx_uint_t
ngx_http_pay_dedupe_accepted(ngx_http_request_t *r)
{
    ngx_uint_t                  status;
    ngx_http_upstream_state_t  *state;

    status = r->headers_out.status;

    if (status < NGX_HTTP_OK || status >= NGX_HTTP_SPECIAL_RESPONSE) {
        return 0;
    }

    if (r->upstream_states == NULL || r->upstream_states->nelts == 0) {
        return 1;
    }

    state = r->upstream_states->elts;
    status = state[r->upstream_states->nelts - 1].status;

    return status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE;
}
