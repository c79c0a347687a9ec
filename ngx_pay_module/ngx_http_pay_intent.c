
/*
 * Copyright (C) ngx_pay authors
 *
 * Payment-intent creation at the edge (docs/intents.md): a checkout page
 * POSTs one JSON request with an Idempotency-Key; nginx validates it,
 * makes sure no key ever creates two intents, creates the intent at the
 * first provider that answers (in-memory subrequests to internal
 * locations that proxy_pass), then tells the app, or answers itself.
 *
 * The request's steps run in the precontent phase, re-entered after every
 * asynchronous store operation (Redis) and subrequest, like the webhook
 * handler: ctx->intent->step says where it is.  The final answer, the
 * app's or ours, is captured on its way out, and the context's cleanup
 * saves it (or releases the lock when it was a 5xx, so the retry goes
 * through).
 *
 * This file is the state machine: the checks before the body, the step
 * switch, the first step (the request validated), the last (forward to
 * the app, or answer), the end of the request, and the $pay_request_*,
 * $pay_intent_* and $pay_idempotency variables that show where it went.
 * The rest lives in files of one concern each, all sharing
 * ngx_http_pay_intent.h:
 *
 *   ngx_http_pay_intent_record.c   the key's two store records: the
 *                                  lock's claim, a replay, the created
 *                                  intent saved, the lock given back;
 *   ngx_http_pay_intent_route.c    which providers, in which order; the
 *                                  create call, its answer, failover and
 *                                  the circuit breakers;
 *   ngx_http_pay_intent_capture.c  the final answer kept as it goes out;
 *   ngx_http_pay_intent_conf.c     the directives, the merge, and what
 *                                  they make of each request (the policy
 *                                  of what a client may send,
 *                                  pay_intent_set's values).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"


/* the $pay_request_* / $pay_intent_* / $pay_idempotency variables */
#define NGX_HTTP_PAY_VAR_AMOUNT           0
#define NGX_HTTP_PAY_VAR_CURRENCY         1
#define NGX_HTTP_PAY_VAR_PROVIDER         2
#define NGX_HTTP_PAY_VAR_ID               3
#define NGX_HTTP_PAY_VAR_STATUS           4
#define NGX_HTTP_PAY_VAR_CLIENT_SECRET    5
#define NGX_HTTP_PAY_VAR_APPROVE_URL      6
#define NGX_HTTP_PAY_VAR_JSON             7
#define NGX_HTTP_PAY_VAR_IDEMPOTENCY      8
#define NGX_HTTP_PAY_VAR_ATTEMPTS         9


static ngx_int_t ngx_http_pay_intent_parse(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_forward(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in);
static void ngx_http_pay_intent_request_cleanup(void *data);
static ngx_http_pay_intent_t *ngx_http_pay_intent_alloc(ngx_log_t *log);
static ngx_uint_t ngx_http_pay_intent_app_failed(ngx_http_request_t *r);


/*
 * An intent's state is 7.9 KB, more than a pool page, so the request's
 * pool took it from malloc() and gave it back at the request's end; glibc
 * shrank its heap and grew it again around those blocks, and intent-new
 * faulted in 0.8 to 1.5 fresh pages per request, about 11 us each on the
 * development machine (bench/README.md, run H).  A worker keeps up to this
 * many, wiped, for its next intents; past that many in flight at once they
 * are malloc()ed again.  Not with NGX_DEBUG_PALLOC (make test-asan), as
 * nginx's pools: a block reused at once would hide a use after free.
 */
#define NGX_HTTP_PAY_INTENT_SPARE  64

static ngx_http_pay_intent_t  *ngx_http_pay_spare[NGX_HTTP_PAY_INTENT_SPARE];
static ngx_uint_t              ngx_http_pay_nspare;


static ngx_str_t  ngx_http_pay_intent_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_pay_intent_key_header =
    ngx_string("Idempotency-Key");

static ngx_str_t  ngx_http_pay_idempotency_names[] = {
    ngx_null_string,
    ngx_string("new"),
    ngx_string("replayed"),
    ngx_string("conflict"),
    ngx_string("mismatch"),
    ngx_string("resumed")
};


/*
 * Before the body is read: the method, then the key, which must be there
 * (and readable) before anything else, as the IETF draft puts it.
 * NGX_OK: go on reading the body; otherwise the answer was sent.
 */

ngx_int_t
ngx_http_pay_intent_start(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    u_char                 *p;
    size_t                  len;
    pay_rc_e                rc;
    ngx_table_elt_t        *h;
    pay_field_errors_t      errs;
    ngx_http_pay_intent_t  *in;

    in = ngx_http_pay_intent_alloc(r->connection->log);
    if (in == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    ctx->intent = in;
    in->plcf = plcf;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_METHOD_NOT_ALLOWED,
                                   "intents are created with POST");
    }

    if (ngx_http_pay_find_header(r, &ngx_http_pay_intent_key_header, &h)
        != NGX_OK)
    {
        rc = PAY_ERR_VALIDATION_FAILED;

    } else if (h == NULL) {
        rc = PAY_ERR_IDEMPOTENCY_KEY_MISSING;

    } else {
        rc = pay_idempotency_key_parse((const char *) h->value.data,
                                       h->value.len, in->key,
                                       sizeof(in->key), &in->key_len);
    }

    if (rc == PAY_ERR_IDEMPOTENCY_KEY_MISSING) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   "an Idempotency-Key header is required");
    }

    if (rc != PAY_OK) {
        ngx_memzero(&errs, sizeof(pay_field_errors_t));
        pay_field_errors_add(&errs, "Idempotency-Key",
                             sizeof("Idempotency-Key") - 1,
                             PAY_IDEMPOTENCY_KEY_REASON);

        len = pay_intent_problem_json(&errs, "the Idempotency-Key is not "
                                      "valid", NULL, 0);
        p = ngx_pnalloc(r->pool, len);

        if (len == 0 || p == NULL) {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                       "out of memory");
        }

        (void) pay_intent_problem_json(&errs, "the Idempotency-Key is not "
                                       "valid", (char *) p, len);

        return ngx_http_pay_reject_body(r, ctx, PAY_ERR_VALIDATION_FAILED,
                                        "Idempotency-Key",
                                        NGX_HTTP_PAY_UNPROCESSABLE, p,
                                        len);
    }

    if (r->headers_in.content_length_n > PAY_INTENT_BODY_MAX) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_BODY_TOO_LARGE,
                                   "an intent request is at most 16384 "
                                   "bytes");
    }

    return NGX_OK;
}


/* the body is in: the steps, from wherever the request left them */

ngx_int_t
ngx_http_pay_intent_process(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    ngx_int_t               rc;
    ngx_http_pay_intent_t  *in;

    in = ctx->intent;

    for ( ;; ) {

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay intent step %ui", in->step);

        if (in->op.handler != NULL) {
            /* a store operation is under way: its answer resumes us */
            return NGX_AGAIN;
        }

        switch (in->step) {

        case NGX_HTTP_PAY_INTENT_PARSE:
            rc = ngx_http_pay_intent_parse(r, plcf, ctx, in);
            break;

        case NGX_HTTP_PAY_INTENT_CLAIMED:
            rc = ngx_http_pay_intent_claimed(r, plcf, ctx, in);
            break;

        case NGX_HTTP_PAY_INTENT_LOOKED_UP:
            rc = ngx_http_pay_intent_looked_up(r, plcf, ctx, in);
            break;

        case NGX_HTTP_PAY_INTENT_ATTEMPT:
            rc = ngx_http_pay_intent_attempt(r, plcf, ctx, in);
            break;

        case NGX_HTTP_PAY_INTENT_TOKEN:
            rc = ngx_http_pay_intent_token(r, plcf, ctx, in);
            break;

        case NGX_HTTP_PAY_INTENT_CALLED:
            if (!in->call.done) {
                return NGX_AGAIN;
            }

            rc = ngx_http_pay_intent_called(r, plcf, ctx, in);
            break;

        case NGX_HTTP_PAY_INTENT_SAVE_CLAIMED:
        case NGX_HTTP_PAY_INTENT_SAVED:
            rc = ngx_http_pay_intent_save(r, plcf, ctx, in);
            break;

        default: /* NGX_HTTP_PAY_INTENT_FORWARD */
            return ngx_http_pay_intent_forward(r, ctx, in);
        }

        /* NGX_DECLINED: on to in->step now; else AGAIN or an answer */

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }
}


/* validation, the keys, and the lock's claim */

static ngx_int_t
ngx_http_pay_intent_parse(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char               *p;
    size_t                len;
    pay_rc_e              rc;
    ngx_int_t             n;
    pay_field_errors_t    errs;
    ngx_pool_cleanup_t   *cln;
    pay_intent_policy_t   policy;

    /* a chunked body over the bound is refused before it is copied */

    switch (ngx_http_pay_body_get(r, &ctx->body, PAY_INTENT_BODY_MAX)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        return ngx_http_pay_reject(r, ctx, PAY_ERR_BODY_TOO_LARGE,
                                   "an intent request is at most 16384 "
                                   "bytes");

    default:
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the request body could not be read");
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    ngx_memzero(&errs, sizeof(pay_field_errors_t));

    ngx_http_pay_intent_policy(plcf, &policy);

    rc = pay_intent_parse_client(ctx->body.data, ctx->body.len,
                                 (long long) plcf->intent_max_amount, &policy,
                                 &in->req, &errs);

    if (rc == PAY_OK) {
        in->parsed = 1;
        cln->handler = ngx_http_pay_intent_request_cleanup;
        cln->data = &in->req;

        n = ngx_http_pay_intent_route(r, plcf, ctx, in);

        if (n == NGX_DONE) {
            return NGX_DONE;
        }

        rc = (in->nproviders == 0) ? PAY_ERR_VALIDATION_FAILED : PAY_OK;

        if (rc != PAY_OK) {
            pay_field_errors_add(&errs, "provider", sizeof("provider") - 1,
                                 "is not offered here");
        }
    }

    switch (rc) {

    case PAY_OK:
        break;

    case PAY_ERR_VALIDATION_FAILED:
        len = pay_intent_problem_json(&errs, "the intent request is not "
                                      "valid", NULL, 0);
        p = ngx_pnalloc(r->pool, len ? len : 1);

        if (len == 0 || p == NULL) {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                       "out of memory");
        }

        (void) pay_intent_problem_json(&errs, "the intent request is not "
                                       "valid", (char *) p, len);

        return ngx_http_pay_reject_body(r, ctx, rc,
                                        errs.n ? errs.items[0].field
                                               : "fields",
                                        NGX_HTTP_PAY_UNPROCESSABLE, p,
                                        len);

    case PAY_ERR_BODY_TOO_LARGE:
        return ngx_http_pay_reject(r, ctx, rc,
                                   "an intent request is at most 16384 "
                                   "bytes");

    case PAY_ERR_BODY_MALFORMED:
        return ngx_http_pay_reject(r, ctx, rc,
                                   "the body is not a JSON object");

    default:
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the request could not be read");
    }

    if (ngx_http_pay_intent_settings(r, plcf, ctx, in) != NGX_OK) {
        return NGX_DONE;
    }

    if (ngx_http_pay_intent_keys(r, ctx, in) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the idempotency keys could not be made");
    }

    in->store = plcf->idem_store;
    in->ttl = plcf->idem_ttl;
    in->step = NGX_HTTP_PAY_INTENT_CLAIMED;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay intent claim \"%V\" in \"%V\"", &in->lock_key,
                   &in->store->name);

    return ngx_http_pay_intent_store(r, in, in->store->engine->claim,
                                     &in->lock_key, &in->lock_token, NULL,
                                     plcf->idem_lock);
}


/*
 * The intent is saved: the app gets the original request with the
 * $pay_intent_* variables (its answer is the client's, and is saved), or,
 * without a content handler here, the module answers 201 itself.
 */

static ngx_int_t
ngx_http_pay_intent_forward(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char                    *p;
    ngx_str_t                  json;
    ngx_http_core_loc_conf_t  *clcf;

    in->capture = 1;

    ctx->state = NGX_HTTP_PAY_STATE_DONE;
    ctx->status = NGX_DECLINED;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->handler != NULL) {
        /* the app trusts Pay-* headers: only the operator's may reach it */
        if (ngx_http_pay_strip_client_headers(r) != NGX_OK) {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                       "out of memory");
        }

        /* proxy_pass and friends, with the body read and kept */
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, in->result_json.len + 1);
    if (p == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    ngx_memcpy(p, in->result_json.data, in->result_json.len);
    p[in->result_json.len] = LF;

    json.data = p;
    json.len = in->result_json.len + 1;

    return ngx_http_pay_answer_as(r, ctx, NGX_HTTP_CREATED,
                                  &ngx_http_pay_intent_json_type, &json, 0);
}


static void
ngx_http_pay_intent_request_cleanup(void *data)
{
    pay_intent_request_free(data);
}


/* zeroed: a spare one (wiped when it was given back), or a new one */

static ngx_http_pay_intent_t *
ngx_http_pay_intent_alloc(ngx_log_t *log)
{
    ngx_http_pay_intent_t  *in;

    if (ngx_http_pay_nspare) {
        return ngx_http_pay_spare[--ngx_http_pay_nspare];
    }

    in = ngx_alloc(sizeof(ngx_http_pay_intent_t), log);
    if (in == NULL) {
        return NULL;
    }

    ngx_memzero(in, sizeof(ngx_http_pay_intent_t));

    return in;
}


/*
 * The last of the context's cleanup, which is registered before the
 * intent begins: every cleanup registered after it has run, and those
 * before it never knew the intent.  The state is wiped (the client's key,
 * the provider's client secret) before it waits for the next intent.
 */

void
ngx_http_pay_intent_free(ngx_http_pay_ctx_t *ctx)
{
    ngx_http_pay_intent_t  *in;

    in = ctx->intent;

    if (in == NULL) {
        return;
    }

    ctx->intent = NULL;

#if !(NGX_DEBUG_PALLOC)

    if (ngx_http_pay_nspare < NGX_HTTP_PAY_INTENT_SPARE) {
        ngx_explicit_memzero(in, sizeof(ngx_http_pay_intent_t));
        ngx_http_pay_spare[ngx_http_pay_nspare++] = in;
        return;
    }

#endif

    ngx_free(in);
}


void
ngx_http_pay_intent_exit_process(void)
{
    while (ngx_http_pay_nspare) {
        ngx_free(ngx_http_pay_spare[--ngx_http_pay_nspare]);
    }
}


/*
 * The request is done (the context's cleanup): the lock is completed
 * with the answer that went out, so the same key replays it, unless that
 * answer was a server error (the app's 5xx, or the app unreachable) or
 * could not be kept: then the lock is released and the retry resumes
 * with the saved intent.
 */

void
ngx_http_pay_intent_finish(ngx_http_pay_ctx_t *ctx)
{
    size_t                     len;
    u_char                    *p;
    ngx_http_request_t        *r;
    ngx_http_pay_intent_t     *in;
    ngx_http_pay_store_op_t    op;
    pay_idempotency_record_t   rec;

    in = ctx->intent;

    if (in == NULL) {
        return;
    }

    r = ctx->request;

    ngx_http_pay_paypal_token_cleanup(in->plcf, &in->token);

    if (!in->locked) {
        return;
    }

    if (!in->capture || in->overflow || !in->complete || in->out_status == 0
        || in->out_status >= NGX_HTTP_INTERNAL_SERVER_ERROR
        || ngx_http_pay_intent_app_failed(r))
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay intent release \"%V\", status %ui",
                       &in->lock_key, in->out_status);

        ngx_http_pay_intent_release(in, r->connection->log);
        return;
    }

    ngx_memzero(&rec, sizeof(pay_idempotency_record_t));

    rec.state = PAY_IDEMPOTENCY_COMPLETED;
    ngx_memcpy(rec.fingerprint, in->fingerprint, sizeof(rec.fingerprint));
    rec.intent = in->result_json.data;
    rec.intent_len = in->result_json.len;
    rec.status = (int) in->out_status;
    rec.content_type = (const char *) in->out_type.data;
    rec.content_type_len = in->out_type.len;
    rec.body = in->out;
    rec.body_len = in->out_len;

    /*
     * r->pool is being destroyed (ngx_http_free_request() has cleared
     * it): the record is encoded into memory of its own, which the
     * engine copies before complete() returns.
     */

    len = pay_idempotency_record_size(&rec);
    p = (len == 0 || len > NGX_HTTP_PAY_STORE_VALUE_MAX)
        ? NULL : ngx_alloc(len, r->connection->log);

    if (p == NULL || pay_idempotency_record_encode(&rec, p, len) != len) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: intent answer for \"%V\" not saved for replay "
                      "(too large)", &in->lock_key);

        if (p != NULL) {
            ngx_free(p);
        }

        ngx_http_pay_intent_release(in, r->connection->log);
        return;
    }

    in->locked = 0;

    ngx_memzero(&op, sizeof(ngx_http_pay_store_op_t));

    op.key = in->lock_key;
    op.token = in->lock_token;
    op.value.data = p;
    op.value.len = len;
    op.ttl = in->ttl;
    op.log = r->connection->log;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay intent complete \"%V\", status %ui", &in->lock_key,
                   in->out_status);

    (void) in->store->engine->complete(in->store, &op);

    ngx_free(p);
}


/* the app's answer came from an upstream that failed (502, 504) */

static ngx_uint_t
ngx_http_pay_intent_app_failed(ngx_http_request_t *r)
{
    ngx_uint_t                  status;
    ngx_http_upstream_state_t  *state;

    if (r->upstream_states == NULL || r->upstream_states->nelts == 0) {
        return 0;
    }

    state = r->upstream_states->elts;
    status = state[r->upstream_states->nelts - 1].status;

    return status == 0 || status >= NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * The variables; data is NGX_HTTP_PAY_VAR_*.  ctx is the main request's
 * (NULL: none); a subrequest allocates from the same pool.
 */

ngx_int_t
ngx_http_pay_intent_variable(ngx_http_pay_ctx_t *ctx,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    size_t                  len;
    ngx_str_t              *s;
    const char             *str;
    ngx_http_pay_intent_t  *in;

    if (ctx == NULL || ctx->intent == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    in = ctx->intent;
    str = NULL;
    len = 0;
    p = NULL;

    switch (data) {

    case NGX_HTTP_PAY_VAR_AMOUNT:
        if (!in->parsed) {
            break;
        }

        p = ngx_pnalloc(ctx->request->pool, NGX_OFF_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        len = ngx_sprintf(p, "%O", (off_t) in->req.amount) - p;
        break;

    case NGX_HTTP_PAY_VAR_CURRENCY:
        str = in->parsed ? in->req.currency : NULL;
        break;

    case NGX_HTTP_PAY_VAR_PROVIDER:
        str = in->result.id[0] ? pay_intent_provider_name(in->result.provider)
                               : NULL;
        break;

    case NGX_HTTP_PAY_VAR_ID:
        str = in->result.id[0] ? in->result.id : NULL;
        break;

    case NGX_HTTP_PAY_VAR_STATUS:
        str = in->result.id[0] ? in->result.status : NULL;
        break;

    case NGX_HTTP_PAY_VAR_CLIENT_SECRET:
        str = (in->result.link == PAY_INTENT_CLIENT_SECRET)
              ? in->result.link_value : NULL;
        break;

    case NGX_HTTP_PAY_VAR_APPROVE_URL:
        str = (in->result.link == PAY_INTENT_APPROVE_URL
               || in->result.link == PAY_INTENT_PAYMENT_LINK_URL)
              ? in->result.link_value : NULL;
        break;

    case NGX_HTTP_PAY_VAR_JSON:
        p = in->result_json.data;
        len = in->result_json.len;
        break;

    case NGX_HTTP_PAY_VAR_IDEMPOTENCY:
        s = &ngx_http_pay_idempotency_names[in->idempotency];
        p = s->data;
        len = s->len;
        break;

    default: /* NGX_HTTP_PAY_VAR_ATTEMPTS */
        p = in->attempts;
        len = in->attempts_len;
        break;
    }

    if (str != NULL) {
        p = (u_char *) str;
        len = ngx_strlen(str);
    }

    if (p == NULL && len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
