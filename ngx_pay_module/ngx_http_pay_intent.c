
/*
 * Copyright (C) ngx_pay authors
 *
 * Payment-intent creation at the edge (SPEC section 5): a checkout page
 * POSTs one JSON request with an Idempotency-Key; nginx validates it,
 * makes sure no key ever creates two intents, creates the intent at the
 * first provider that answers (in-memory subrequests to internal
 * locations that proxy_pass), then tells the app, or answers itself.
 *
 * Two store records per key (SHA-256 of server, scope, location and key):
 *
 *   "intent:lock:<hex>"     claimed for pay_idempotency lock= while a
 *                           request works on the key; completed with the
 *                           final answer (status, type, body) for ttl=,
 *                           which is what a retry replays;
 *   "intent:created:<hex>"  the normalized intent, saved before the app
 *                           is called: a retry after an app failure
 *                           resumes with it instead of creating another.
 *
 * The provider's own idempotency value is derived from the store key, so
 * even a retry after a crash between the provider's answer and the save
 * gets the same intent back from the provider.
 *
 * The request's steps run in the access phase, re-entered after every
 * asynchronous store operation (Redis) and subrequest, like the webhook
 * handler: ctx->intent->step says where it is.  The final answer, the
 * app's or ours, passes the capture filters below on its way out, and
 * the context's cleanup saves it (or releases the lock when it was a 5xx,
 * so the retry goes through).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"
#include "ngx_http_pay_breaker.h"


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


/* the content type a saved answer may have */
#define NGX_HTTP_PAY_INTENT_TYPE_MAX      256


static ngx_int_t ngx_http_pay_intent_parse(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_route(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_attempt(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_call(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_called(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_declined(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_forward(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in);
static void ngx_http_pay_intent_attempted(ngx_http_pay_intent_t *in,
    const char *outcome, ngx_uint_t status);
static void ngx_http_pay_intent_breaker(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_intent_t *in, ngx_uint_t ok);
static ngx_uint_t ngx_http_pay_intent_configured(
    ngx_http_pay_loc_conf_t *plcf, pay_provider_e provider);
static void ngx_http_pay_intent_request_cleanup(void *data);
static ngx_uint_t ngx_http_pay_intent_app_failed(ngx_http_request_t *r);


/* TEMPORARY: moves to ngx_http_pay_handler.c */
static ngx_int_t ngx_http_pay_intent_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_intent_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


/* TEMPORARY: moves to ngx_http_pay_handler.c */
static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_str_t  ngx_http_pay_intent_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_pay_intent_key_header =
    ngx_string("Idempotency-Key");
static ngx_str_t  ngx_http_pay_intent_accept = ngx_string("application/json");

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

    in = ngx_pcalloc(r->pool, sizeof(ngx_http_pay_intent_t));
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
            rc = ngx_http_pay_paypal_token(r, plcf, &in->token);

            if (rc == NGX_OK) {
                rc = ngx_http_pay_intent_call(r, plcf, ctx, in);

            } else if (rc == NGX_ERROR) {
                /* no token: PayPal is not usable now, the next one is */
                ngx_http_pay_intent_attempted(in, "error", 0);
                ngx_http_pay_intent_breaker(r, plcf, in, 0);
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "pay: intent: no PayPal token, trying the "
                              "next provider");
                in->step = NGX_HTTP_PAY_INTENT_ATTEMPT;
                rc = NGX_DECLINED;
            }

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
 * The providers to try: pay_intent's value (variables evaluated now that
 * $pay_request_* are known), names separated by spaces or commas, those
 * not configured here left out; narrowed to the one the request asks for.
 * NGX_OK (in->nproviders may be 0), or NGX_DONE: answered.
 */

static ngx_int_t
ngx_http_pay_intent_route(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char          *p, *last, *start;
    ngx_str_t        value;
    ngx_uint_t       i;
    pay_provider_e   provider;

    if (ngx_http_complex_value(r, plcf->intent, &value) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    p = value.data;
    last = value.data + value.len;

    while (p < last && in->nproviders < NGX_HTTP_PAY_INTENT_PROVIDERS) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        start = p;

        while (p < last && *p != ' ' && *p != ',' && *p != '\t') {
            p++;
        }

        if (p == start) {
            break;
        }

        provider = pay_intent_provider((const char *) start, p - start);

        if (provider == PAY_PROVIDER_NONE
            || !ngx_http_pay_intent_configured(plcf, provider))
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pay: pay_intent names \"%*s\", which is not a "
                          "provider configured here", p - start, start);
            continue;
        }

        for (i = 0; i < in->nproviders; i++) {
            if (in->providers[i] == provider) {
                break;
            }
        }

        if (i == in->nproviders
            && (in->req.provider == PAY_PROVIDER_NONE
                || in->req.provider == provider))
        {
            in->providers[in->nproviders++] = provider;
        }
    }

    if (in->nproviders == 0 && in->req.provider == PAY_PROVIDER_NONE) {
        /* a configuration fault, not the client's */
        return ngx_http_pay_reject_retry(r, ctx,
                                         PAY_ERR_PROVIDER_UNAVAILABLE,
                                         "pay_intent routes to no "
                                         "configured provider",
                                         NGX_HTTP_PAY_INTENT_RETRY_AFTER);
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_pay_intent_configured(ngx_http_pay_loc_conf_t *plcf,
    pay_provider_e provider)
{
    switch (provider) {

    case PAY_PROVIDER_STRIPE:
        return plcf->stripe_api.len && plcf->stripe_auth.len;

    case PAY_PROVIDER_PAYPAL:
        return plcf->paypal_api.len && plcf->paypal_basic.len
               && plcf->paypal_zone != NULL;

    case PAY_PROVIDER_SQUARE:
        return plcf->square_api.len && plcf->square_auth.len;

    default:
        return 0;
    }
}


/* the next provider whose breaker is closed, or 503 when none is left */

static ngx_int_t
ngx_http_pay_intent_attempt(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    ngx_uint_t  slot;

    for ( ;; ) {

        if (in->next == in->nproviders) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pay: intent: no provider could create it, "
                          "attempts: %*s", in->attempts_len, in->attempts);

            return ngx_http_pay_intent_unavailable(r, ctx, in,
                                                   PAY_ERR_PROVIDER_UNAVAILABLE,
                                                   "no provider could "
                                                   "create the intent");
        }

        in->provider = in->providers[in->next++];
        slot = plcf->breaker_slot[in->provider - 1];

        if (plcf->breaker_fails
            && ngx_http_pay_breaker_open(plcf->breaker_zone, slot,
                                         plcf->breaker_fails,
                                         plcf->breaker_cooldown))
        {
            ngx_http_pay_intent_attempted(in, "skipped", 0);
            continue;
        }

        break;
    }

    if (pay_idempotency_provider_key(in->store_key, in->provider,
                                     in->provider_key)
        != 0)
    {
        ngx_http_pay_intent_release(in, r->connection->log);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the provider key could not be made");
    }

    in->provider_key_str.data = (u_char *) in->provider_key;
    in->provider_key_str.len = PAY_IDEMPOTENCY_PROVIDER_KEY_LEN;

    if (in->provider == PAY_PROVIDER_PAYPAL) {
        in->step = NGX_HTTP_PAY_INTENT_TOKEN;
        return NGX_DECLINED;
    }

    return ngx_http_pay_intent_call(r, plcf, ctx, in);
}


/* the create call to in->provider (PayPal: with its token in hand) */

static ngx_int_t
ngx_http_pay_intent_call(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                  *location, path;
    const char                 *square_location;
    const pay_provider_call_t  *call;

    call = pay_provider_call(in->provider, &in->req);
    square_location = (const char *) plcf->square_location.data;

    len = pay_provider_request_body(in->provider, &in->req, in->provider_key,
                                    square_location, NULL, 0);
    p = (len == 0) ? NULL : ngx_pnalloc(r->pool, len);

    if (call == NULL || p == NULL
        || pay_provider_request_body(in->provider, &in->req,
                                     in->provider_key, square_location,
                                     (char *) p, len)
           != len)
    {
        ngx_http_pay_intent_release(in, r->connection->log);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the provider request could not be "
                                   "made");
    }

    ngx_memzero(&in->call, sizeof(ngx_http_pay_api_call_t));

    in->call.method = NGX_HTTP_POST;
    in->call.body.data = p;
    in->call.body.len = len;

    switch (in->provider) {

    case PAY_PROVIDER_STRIPE:
        location = &plcf->stripe_api;
        ngx_http_pay_api_header(&in->call, "Authorization", &plcf->stripe_auth);

        if (plcf->stripe_version.len) {
            ngx_http_pay_api_header(&in->call, "Stripe-Version",
                                    &plcf->stripe_version);
        }

        break;

    case PAY_PROVIDER_PAYPAL:
        location = &plcf->paypal_api;
        ngx_http_pay_api_header(&in->call, "Authorization",
                                &in->token.authorization);
        break;

    default: /* PAY_PROVIDER_SQUARE */
        location = &plcf->square_api;
        ngx_http_pay_api_header(&in->call, "Authorization", &plcf->square_auth);
        ngx_http_pay_api_header(&in->call, "Square-Version",
                                &plcf->square_version);
        break;
    }

    in->content_type.data = (u_char *) call->content_type;
    in->content_type.len = ngx_strlen(call->content_type);

    ngx_http_pay_api_header(&in->call, "Content-Type", &in->content_type);

    ngx_http_pay_api_header(&in->call, "Accept", &ngx_http_pay_intent_accept);

    if (call->idempotency_header != NULL) {
        ngx_http_pay_api_header(&in->call, (char *) call->idempotency_header,
                                &in->provider_key_str);
    }

    path.data = (u_char *) call->path;
    path.len = ngx_strlen(call->path);

    in->step = NGX_HTTP_PAY_INTENT_CALLED;

    if (ngx_http_pay_api_uri(r, &in->call, location, &path) != NGX_OK
        || ngx_http_pay_api_start(r, &in->call) != NGX_OK)
    {
        ngx_http_pay_intent_release(in, r->connection->log);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the provider subrequest could not be "
                                   "started");
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_pay_intent_called(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    size_t                  len;
    ngx_uint_t              status, ok;
    pay_provider_outcome_e  outcome;

    status = in->call.status;

    if (status == NGX_HTTP_UNAUTHORIZED
        && in->provider == PAY_PROVIDER_PAYPAL
        && ngx_http_pay_paypal_token_refused(r, plcf, &in->token) == NGX_OK)
    {
        in->step = NGX_HTTP_PAY_INTENT_TOKEN;
        return NGX_DECLINED;
    }

    outcome = pay_provider_normalize(in->provider, &in->req, (int) status,
                                     in->call.response.data,
                                     in->call.response.len, &in->answer);

    /* our key or token refused: this provider is unusable, not the card */
    if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: intent: %s refused our credentials (status "
                      "%ui): check its pay_*_key / token / client",
                      pay_intent_provider_name(in->provider), status);
        outcome = PAY_PROVIDER_RETRY;
    }

    ngx_http_pay_intent_attempted(in,
                                  status ? NULL
                                         : (in->call.rc
                                            == NGX_HTTP_GATEWAY_TIME_OUT
                                            ? "timeout" : "error"),
                                  status);

    if (outcome == PAY_PROVIDER_RETRY
        && status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        /*
         * A 2xx we cannot read may be an intent made: another provider
         * could make a second one.  The retry asks this provider again,
         * with the same idempotency value, and gets the same intent.
         */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: intent: %s answered %ui with a body that "
                      "cannot be read (%uz bytes; is "
                      "subrequest_output_buffer_size large enough?)",
                      pay_intent_provider_name(in->provider), status,
                      in->call.response.len);

        return ngx_http_pay_intent_unavailable(r, ctx, in,
                                               PAY_ERR_PROVIDER_UNAVAILABLE,
                                               "the provider's answer "
                                               "could not be read");
    }

    ok = (outcome != PAY_PROVIDER_RETRY);

    ngx_http_pay_intent_breaker(r, plcf, in, ok);

    switch (outcome) {

    case PAY_PROVIDER_OK:
        break;

    case PAY_PROVIDER_DECLINED:
        return ngx_http_pay_intent_declined(r, ctx, in);

    default: /* PAY_PROVIDER_RETRY */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: intent: %s failed (status %ui), trying the "
                      "next provider", pay_intent_provider_name(in->provider),
                      status);
        in->step = NGX_HTTP_PAY_INTENT_ATTEMPT;
        return NGX_DECLINED;
    }

    in->result = in->answer.result;

    len = pay_intent_result_json(&in->result, NULL, 0);
    in->result_json.data = (len == 0) ? NULL : ngx_pnalloc(r->pool, len);

    if (in->result_json.data == NULL
        || pay_intent_result_json(&in->result, (char *) in->result_json.data,
                                  len)
           != len)
    {
        ngx_http_pay_intent_release(in, r->connection->log);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    in->result_json.len = len;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "pay: intent created at %s: \"%s\", status \"%s\"",
                  pay_intent_provider_name(in->provider), in->result.id,
                  in->result.status);

    in->step = NGX_HTTP_PAY_INTENT_SAVE_CLAIMED;

    if (ngx_http_pay_store_token(r->pool, &in->created_token) != NGX_OK) {
        ngx_http_pay_intent_release(in, r->connection->log);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    return ngx_http_pay_intent_store(r, in, in->store->engine->claim,
                                     &in->created_key, &in->created_token,
                                     NULL, plcf->idem_lock);
}


/*
 * The provider refused (a 4xx): that is the answer, not a reason to try
 * another provider.  402 when the provider said so (a declined card),
 * else 422.  It goes out through the capture filter and is saved for
 * replay like any final answer.
 */

static ngx_int_t
ngx_http_pay_intent_declined(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   status;

    status = (in->call.status == NGX_HTTP_PAY_PAYMENT_REQUIRED)
             ? NGX_HTTP_PAY_PAYMENT_REQUIRED : NGX_HTTP_PAY_UNPROCESSABLE;

    len = pay_provider_problem_json(in->provider, &in->answer, (int) status,
                                    NULL, 0);
    p = (len == 0) ? NULL : ngx_pnalloc(r->pool, len);

    if (p == NULL
        || pay_provider_problem_json(in->provider, &in->answer, (int) status,
                                     (char *) p, len)
           != len)
    {
        ngx_http_pay_intent_release(in, r->connection->log);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    in->capture = 1;

    return ngx_http_pay_reject_body(r, ctx, PAY_ERR_PROVIDER_ERROR,
                                    in->answer.code[0] ? in->answer.code
                                                       : "refused",
                                    status, p, len);
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


/* an attempt's outcome into the provider's breaker, when there is one */

static void
ngx_http_pay_intent_breaker(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_intent_t *in, ngx_uint_t ok)
{
    if (plcf->breaker_fails == 0) {
        return;
    }

    if (ngx_http_pay_breaker_result(plcf->breaker_zone,
                                    plcf->breaker_slot[in->provider - 1], ok,
                                    plcf->breaker_fails,
                                    plcf->breaker_cooldown))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: intent: %s failed %ui times in a row, skipped "
                      "for %M ms", pay_intent_provider_name(in->provider),
                      plcf->breaker_fails, plcf->breaker_cooldown);
    }
}


/* "stripe:503 paypal:201" for $pay_intent_attempts and the log */

static void
ngx_http_pay_intent_attempted(ngx_http_pay_intent_t *in, const char *outcome,
    ngx_uint_t status)
{
    u_char      *p, *last;
    const char  *name;

    p = in->attempts + in->attempts_len;
    last = in->attempts + sizeof(in->attempts);
    name = pay_intent_provider_name(in->provider);

    if (in->attempts_len && p < last) {
        *p++ = ' ';
    }

    if (outcome != NULL) {
        p = ngx_slprintf(p, last, "%s:%s", name, outcome);

    } else {
        p = ngx_slprintf(p, last, "%s:%ui", name, status);
    }

    in->attempts_len = p - in->attempts;
}


static void
ngx_http_pay_intent_request_cleanup(void *data)
{
    pay_intent_request_free(data);
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
 * The status and content type, from the main request's header filter.
 * NGX_OK: nothing here fails (a content type that cannot be copied is
 * left out of the record).
 */

ngx_int_t
ngx_http_pay_intent_capture_header(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx)
{
    ngx_http_pay_intent_t  *in;

    if (ctx->intent == NULL || !ctx->intent->capture) {
        return NGX_OK;
    }

    in = ctx->intent;

    in->out_status = r->headers_out.status;
    in->out_type.len = 0;

    if (r->headers_out.content_type.len
        && r->headers_out.content_type.len <= NGX_HTTP_PAY_INTENT_TYPE_MAX)
    {
        in->out_type.data = ngx_pstrdup(r->pool,
                                        &r->headers_out.content_type);
        if (in->out_type.data != NULL) {
            in->out_type.len = r->headers_out.content_type.len;
        }
    }

    return NGX_OK;
}


/* the body, from the main request's body filter: in is not changed */

void
ngx_http_pay_intent_capture_body(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_chain_t *in)
{
    u_char                 *p;
    size_t                  len, size;
    ngx_chain_t            *cl;
    ngx_http_pay_intent_t  *pi;

    if (ctx->intent == NULL || !ctx->intent->capture
        || ctx->intent->overflow)
    {
        return;
    }

    pi = ctx->intent;

    for (cl = in; cl; cl = cl->next) {

        if (cl->buf->last_buf) {
            pi->complete = 1;
        }

        if (!ngx_buf_in_memory(cl->buf)) {
            if (ngx_buf_size(cl->buf) > 0) {
                /* a response spooled to a file: too big to keep */
                pi->overflow = 1;
                break;
            }

            continue;
        }

        len = cl->buf->last - cl->buf->pos;

        if (len == 0) {
            continue;
        }

        if (pi->out_len + len > pi->out_size) {
            size = ngx_max(2 * pi->out_size, pi->out_len + len);
            size = ngx_max(size, 1024);

            if (size > NGX_HTTP_PAY_STORE_VALUE_MAX) {
                pi->overflow = 1;
                break;
            }

            p = ngx_pnalloc(r->pool, size);
            if (p == NULL) {
                pi->overflow = 1;
                break;
            }

            if (pi->out_len) {
                ngx_memcpy(p, pi->out, pi->out_len);
            }

            pi->out = p;
            pi->out_size = size;
        }

        ngx_memcpy(pi->out + pi->out_len, cl->buf->pos, len);
        pi->out_len += len;
    }
}


/*
 * TEMPORARY: moves to ngx_http_pay_handler.c
 *
 * The filters that find the main request's context and hand its answer
 * to the capture above: put at the top of the chain, after
 * ngx_http_pay_response_init() put its own there, so they see the answer
 * before any other filter changes it.
 */

ngx_int_t
ngx_http_pay_intent_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_pay_intent_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_pay_intent_body_filter;

    return NGX_OK;
}


/* TEMPORARY: moves to ngx_http_pay_handler.c */

static ngx_int_t
ngx_http_pay_intent_header_filter(ngx_http_request_t *r)
{
    ngx_http_pay_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_pay_get_ctx(r);

    if (ctx != NULL && ngx_http_pay_intent_capture_header(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


/* TEMPORARY: moves to ngx_http_pay_handler.c */

static ngx_int_t
ngx_http_pay_intent_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_pay_ctx_t  *ctx;

    if (r != r->main || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_pay_get_ctx(r);

    if (ctx != NULL) {
        ngx_http_pay_intent_capture_body(r, ctx, in);
    }

    return ngx_http_next_body_filter(r, in);
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
