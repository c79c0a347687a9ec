
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal's OAuth2 token: cache, fetch, poll, refresh on 401.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"
#include "ngx_http_pay_paypal_cache.h"
#include "ngx_http_pay_paypal_token.h"
#include "pay_paypal.h"


#define NGX_HTTP_PAY_TOKEN_LOOKUP    0
#define NGX_HTTP_PAY_TOKEN_FETCH     1
#define NGX_HTTP_PAY_TOKEN_POLL      2
#define NGX_HTTP_PAY_TOKEN_HAVE      3


/* PayPal asks for a new token this long before it expires, seconds */
#define NGX_HTTP_PAY_TOKEN_MARGIN    60


static ngx_int_t ngx_http_pay_paypal_token_lookup(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t);
static ngx_int_t ngx_http_pay_paypal_token_fetched(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t);
static ngx_int_t ngx_http_pay_paypal_token_set(ngx_http_request_t *r,
    ngx_http_pay_paypal_token_t *t, u_char *token, size_t len);


static ngx_str_t  ngx_http_pay_token_path = ngx_string("/v1/oauth2/token");
static ngx_str_t  ngx_http_pay_token_body =
    ngx_string("grant_type=client_credentials");
static ngx_str_t  ngx_http_pay_token_form =
    ngx_string("application/x-www-form-urlencoded");
static ngx_str_t  ngx_http_pay_token_json = ngx_string("application/json");


ngx_int_t
ngx_http_pay_paypal_token(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t)
{
    for ( ;; ) {

        switch (t->state) {

        case NGX_HTTP_PAY_TOKEN_LOOKUP:
            return ngx_http_pay_paypal_token_lookup(r, plcf, t);

        case NGX_HTTP_PAY_TOKEN_FETCH:
            if (!t->call.done) {
                return NGX_AGAIN;
            }

            return ngx_http_pay_paypal_token_fetched(r, plcf, t);

        case NGX_HTTP_PAY_TOKEN_POLL:
            if (t->poll.timer_set) {
                return NGX_AGAIN;
            }

            t->state = NGX_HTTP_PAY_TOKEN_LOOKUP;
            continue;

        default: /* NGX_HTTP_PAY_TOKEN_HAVE */
            return NGX_OK;
        }
    }
}


static ngx_int_t
ngx_http_pay_paypal_token_lookup(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t)
{
    ngx_int_t  rc;
    ngx_str_t  token;

    rc = ngx_http_pay_paypal_token_get(plcf->paypal_zone,
                                       (ngx_uint_t) plcf->paypal_token_slot,
                                       r->pool, &token,
                                       NGX_HTTP_PAY_API_FETCH_LOCK);

    switch (rc) {

    case NGX_HTTP_PAY_CACHE_HIT:
        return ngx_http_pay_paypal_token_set(r, t, token.data, token.len);

    case NGX_HTTP_PAY_CACHE_WAIT:
        if (t->polls++ >= NGX_HTTP_PAY_API_POLLS) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pay: waited too long for a PayPal token fetch");
            return NGX_ERROR;
        }

        t->state = NGX_HTTP_PAY_TOKEN_POLL;
        ngx_http_pay_api_poll(r, &t->poll);

        return NGX_AGAIN;

    case NGX_HTTP_PAY_CACHE_FETCH:
        break;

    default:
        return NGX_ERROR;
    }

    t->fetching = 1;
    t->state = NGX_HTTP_PAY_TOKEN_FETCH;

    ngx_memzero(&t->call, sizeof(ngx_http_pay_api_call_t));

    t->call.method = NGX_HTTP_POST;
    t->call.body = ngx_http_pay_token_body;

    ngx_http_pay_api_header(&t->call, "Authorization", &plcf->paypal_basic);
    ngx_http_pay_api_header(&t->call, "Content-Type",
                            &ngx_http_pay_token_form);
    ngx_http_pay_api_header(&t->call, "Accept", &ngx_http_pay_token_json);

    if (ngx_http_pay_api_uri(r, &t->call, &plcf->paypal_api,
                             &ngx_http_pay_token_path)
        != NGX_OK
        || ngx_http_pay_api_start(r, &t->call) != NGX_OK)
    {
        ngx_http_pay_paypal_token_cleanup(plcf, t);
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_pay_paypal_token_fetched(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t)
{
    char        token[NGX_HTTP_PAY_PAYPAL_TOKEN_MAX];
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   value;
    long long   expires_in;
    ngx_uint_t  slot;

    t->fetching = 0;
    slot = (ngx_uint_t) plcf->paypal_token_slot;

    if (t->call.status != NGX_HTTP_OK
        || pay_paypal_token_parse(t->call.response.data,
                                  t->call.response.len, token,
                                  sizeof(token), &len, &expires_in)
           != 0)
    {
        ngx_http_pay_paypal_token_abandon(plcf->paypal_zone, slot);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: paypal token request through \"%V\" failed: "
                      "status %ui%s", &plcf->paypal_api, t->call.status,
                      t->call.status == NGX_HTTP_UNAUTHORIZED
                      ? " (check pay_paypal_client)" : "");

        return NGX_ERROR;
    }

    value.data = (u_char *) token;
    value.len = len;

    if (expires_in > NGX_HTTP_PAY_TOKEN_MARGIN * 2) {
        expires_in -= NGX_HTTP_PAY_TOKEN_MARGIN;
    }

    ngx_http_pay_paypal_token_put(plcf->paypal_zone, slot, &value,
                                  ngx_time() + (time_t) expires_in);

    rc = ngx_http_pay_paypal_token_set(r, t, (u_char *) token, len);

    ngx_explicit_memzero(token, len);

    return rc;
}


static ngx_int_t
ngx_http_pay_paypal_token_set(ngx_http_request_t *r,
    ngx_http_pay_paypal_token_t *t, u_char *token, size_t len)
{
    t->authorization.len = sizeof("Bearer ") - 1 + len;
    t->authorization.data = ngx_pnalloc(r->pool, t->authorization.len);

    if (t->authorization.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(t->authorization.data, "Bearer ",
                          sizeof("Bearer ") - 1),
               token, len);

    t->state = NGX_HTTP_PAY_TOKEN_HAVE;

    return NGX_OK;
}


ngx_int_t
ngx_http_pay_paypal_token_refused(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t)
{
    ngx_str_t  token;

    if (t->refreshed) {
        return NGX_DECLINED;
    }

    /* expired or revoked early: one new token, one more try */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "pay: paypal refused the cached access token, "
                  "fetching a new one");

    token.data = t->authorization.data + sizeof("Bearer ") - 1;
    token.len = t->authorization.len - (sizeof("Bearer ") - 1);

    ngx_http_pay_paypal_token_drop(plcf->paypal_zone,
                                   (ngx_uint_t) plcf->paypal_token_slot,
                                   &token);
    t->refreshed = 1;
    t->polls = 0;
    t->state = NGX_HTTP_PAY_TOKEN_LOOKUP;

    return NGX_OK;
}


void
ngx_http_pay_paypal_token_cleanup(ngx_http_pay_loc_conf_t *plcf,
    ngx_http_pay_paypal_token_t *t)
{
    if (t->poll.timer_set) {
        ngx_del_timer(&t->poll);
    }

    if (t->fetching) {
        t->fetching = 0;
        ngx_http_pay_paypal_token_abandon(plcf->paypal_zone,
                                          (ngx_uint_t)
                                              plcf->paypal_token_slot);
    }
}
