
/*
 * Copyright (C) ngx_pay authors
 *
 * An intent's providers: pay_intent's list evaluated for the request, the
 * next provider whose circuit breaker is closed, PayPal's token, the
 * create call (an in-memory subrequest, ngx_http_pay_api.c) and what its
 * answer means: an intent (on to the save), a refusal (the client's
 * answer), or a failure (the breaker counts it, the next provider).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"
#include "ngx_http_pay_status.h"
#include "ngx_http_pay_breaker.h"


static ngx_uint_t ngx_http_pay_intent_configured(
    ngx_http_pay_loc_conf_t *plcf, pay_provider_e provider);
static ngx_int_t ngx_http_pay_intent_call(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
static ngx_int_t ngx_http_pay_intent_declined(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in);
static void ngx_http_pay_intent_attempted(ngx_http_pay_intent_t *in,
    const char *outcome, ngx_uint_t status);
static void ngx_http_pay_intent_breaker(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_intent_t *in, ngx_uint_t ok);


static ngx_str_t  ngx_http_pay_intent_accept = ngx_string("application/json");


/*
 * The providers to try: pay_intent's value (variables evaluated now that
 * $pay_request_* are known), names separated by spaces or commas, those
 * not configured here left out; narrowed to the one the request asks for.
 * NGX_OK (in->nproviders may be 0), or NGX_DONE: answered.
 */

ngx_int_t
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

ngx_int_t
ngx_http_pay_intent_attempt(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    ngx_uint_t                      slot;
    ngx_http_pay_breaker_change_e   change;

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

        if (plcf->breaker_fails == 0) {
            break;
        }

        if (ngx_http_pay_breaker_open(plcf->breaker_zone, slot,
                                      plcf->breaker_fails,
                                      plcf->breaker_cooldown, &change))
        {
            ngx_http_pay_intent_attempted(in, "skipped", 0);
            continue;
        }

        if (change == NGX_HTTP_PAY_BREAKER_PROBE) {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "pay: intent: %s breaker half open, this request "
                          "probes it", pay_intent_provider_name(in->provider));
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


/* PayPal's token for the call, from the cache or a fetch */

ngx_int_t
ngx_http_pay_intent_token(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    ngx_int_t  rc;

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

    return rc;
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


ngx_int_t
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


/* an attempt's outcome into the provider's breaker, when there is one */

static void
ngx_http_pay_intent_breaker(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_intent_t *in, ngx_uint_t ok)
{
    const char  *name;

    if (plcf->breaker_fails == 0) {
        return;
    }

    name = pay_intent_provider_name(in->provider);

    switch (ngx_http_pay_breaker_result(plcf->breaker_zone,
                                        plcf->breaker_slot[in->provider - 1],
                                        ok, plcf->breaker_fails,
                                        plcf->breaker_cooldown))
    {
    case NGX_HTTP_PAY_BREAKER_OPENED:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: intent: %s failed %ui times in a row, breaker "
                      "open: skipped for %M ms", name, plcf->breaker_fails,
                      plcf->breaker_cooldown);
        break;

    case NGX_HTTP_PAY_BREAKER_REOPENED:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: intent: %s breaker probe failed, open again: "
                      "skipped for %M ms", name, plcf->breaker_cooldown);
        break;

    case NGX_HTTP_PAY_BREAKER_CLOSED:
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "pay: intent: %s answered, breaker closed", name);
        break;

    default:
        break;
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

    ngx_http_pay_status_intent_attempt(in->provider, status, outcome);
}
