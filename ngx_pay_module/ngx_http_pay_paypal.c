
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhook verification: the glue around core/pay_paypal.c.
 *
 * Offline (the default, PayPal's preferred method): the headers are
 * checked first, the cert URL against the allow-list, so a forged URL
 * fetches nothing; the certificate is then taken from the shared cache or
 * fetched by a subrequest to pay_paypal_cert_location followed by the cert
 * URL's path (the operator's location fixes the host), validated once and
 * cached as its public key; then the SHA256withRSA signature is checked.
 *
 * API (pay_paypal_verify api): an OAuth2 token from the shared cache or
 * fetched by a subrequest to pay_paypal_api, then PayPal's
 * verify-webhook-signature with the raw body embedded; a 401 refreshes the
 * token once.
 *
 * Deliveries that need a certificate or token another request is
 * fetching poll the cache on a short timer instead of fetching again.
 * Every step that cannot be completed because PayPal (or the cert host)
 * did not answer well answers 503, so PayPal retries.
 *
 * This file holds the verification, what runs for a request until the
 * signature holds; the binding of the transmission id to the body that
 * follows is in ngx_http_pay_paypal_bind.c, the directives and the
 * location merge in ngx_http_pay_paypal_conf.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"
#include "ngx_http_pay_paypal.h"
#include "ngx_http_pay_status.h"
#include "ngx_http_pay_paypal_cache.h"
#include "ngx_http_pay_paypal_token.h"
#include "pay_crc32.h"


/* where a delivery is in its PayPal steps */
#define NGX_HTTP_PAY_PAYPAL_CERT          0
#define NGX_HTTP_PAY_PAYPAL_CERT_FETCH    1
#define NGX_HTTP_PAY_PAYPAL_TOKEN         2
#define NGX_HTTP_PAY_PAYPAL_VERIFY_CALL   4
#define NGX_HTTP_PAY_PAYPAL_VERIFY_WAIT   5
#define NGX_HTTP_PAY_PAYPAL_WAIT          6


/* cache lifetimes, seconds */
#define NGX_HTTP_PAY_PAYPAL_NEGATIVE_TTL  60
#define NGX_HTTP_PAY_PAYPAL_FAILED_TTL    10

/* what a PayPal outage asks PayPal to wait before retrying */
#define NGX_HTTP_PAY_PAYPAL_RETRY_AFTER   10


static ngx_int_t ngx_http_pay_paypal_headers(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_paypal_t *pp);
static ngx_int_t ngx_http_pay_paypal_cert(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *der);
static ngx_int_t ngx_http_pay_paypal_cert_fetched(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *der);
static ngx_int_t ngx_http_pay_paypal_rsa(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *der, ngx_str_t *body);
static ngx_int_t ngx_http_pay_paypal_verify_call(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *body);
static ngx_int_t ngx_http_pay_paypal_verified(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp);
static ngx_int_t ngx_http_pay_paypal_wait(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_paypal_t *pp, ngx_uint_t step);
static ngx_int_t ngx_http_pay_paypal_call(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_paypal_t *pp, ngx_str_t *location,
    ngx_str_t *path);
static ngx_int_t ngx_http_pay_paypal_unavailable(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, const char *detail);


static ngx_str_t  ngx_http_pay_paypal_hdr_id =
    ngx_string("PayPal-Transmission-Id");
static ngx_str_t  ngx_http_pay_paypal_hdr_time =
    ngx_string("PayPal-Transmission-Time");
static ngx_str_t  ngx_http_pay_paypal_hdr_sig =
    ngx_string("PayPal-Transmission-Sig");
static ngx_str_t  ngx_http_pay_paypal_hdr_cert_url =
    ngx_string("PayPal-Cert-Url");
static ngx_str_t  ngx_http_pay_paypal_hdr_algo =
    ngx_string("PayPal-Auth-Algo");

static ngx_str_t  ngx_http_pay_paypal_verify_path =
    ngx_string("/v1/notifications/verify-webhook-signature");
static ngx_str_t  ngx_http_pay_paypal_json = ngx_string("application/json");


/* what a rejection says, in the log line and the "detail" member */
const char  *ngx_http_pay_paypal_details[PAY_ERR_LAST] = {
    [PAY_ERR_SIGNATURE_MISSING] =
        "a PayPal-Transmission-* / PayPal-Cert-Url / PayPal-Auth-Algo "
        "header is missing",
    [PAY_ERR_SIGNATURE_MALFORMED] =
        "a PayPal signature header cannot be parsed, or the algorithm "
        "is not SHA256withRSA",
    [PAY_ERR_SIGNATURE_MISMATCH] =
        "the transmission signature does not verify for this webhook id",
    [PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE] =
        "the transmission time is outside pay_webhook_tolerance",
    [PAY_ERR_CERT_URL_REJECTED] =
        "the certificate URL is not an allowed PayPal certificate URL",
    [PAY_ERR_CERT_UNTRUSTED] =
        "the PayPal certificate failed validation",
    [PAY_ERR_TRANSMISSION_REUSED] =
        "the transmission id was signed for another body",
    [PAY_ERR_BODY_MALFORMED] =
        "the signed body is not a PayPal event object",
    [PAY_ERR_INTERNAL] =
        "the signature could not be checked"
};


ngx_int_t
ngx_http_pay_paypal_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body)
{
    ngx_int_t               rc;
    ngx_str_t               der;
    ngx_http_pay_paypal_t  *pp;

    pp = ctx->paypal;

    if (pp != NULL && pp->verified) {
        /* re-entered while the transmission id is being bound */
        return NGX_OK;
    }

    if (pp == NULL) {
        pp = ngx_pcalloc(r->pool, sizeof(ngx_http_pay_paypal_t));
        if (pp == NULL) {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                       "out of memory");
        }

        ctx->paypal = pp;
        pp->zone = plcf->paypal_zone;
        pp->plcf = plcf;

        rc = ngx_http_pay_paypal_headers(r, ctx, pp);
        if (rc != NGX_OK) {
            return rc;
        }

        pp->step = (plcf->paypal_verify == NGX_HTTP_PAY_PAYPAL_API)
                   ? NGX_HTTP_PAY_PAYPAL_TOKEN : NGX_HTTP_PAY_PAYPAL_CERT;
    }

    ngx_str_null(&der);

    for ( ;; ) {

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay paypal step %ui", pp->step);

        switch (pp->step) {

        case NGX_HTTP_PAY_PAYPAL_CERT:
            rc = ngx_http_pay_paypal_cert(r, plcf, ctx, pp, &der);
            break;

        case NGX_HTTP_PAY_PAYPAL_CERT_FETCH:
            if (!pp->call.done) {
                return NGX_AGAIN;
            }

            rc = ngx_http_pay_paypal_cert_fetched(r, plcf, ctx, pp, &der);
            break;

        case NGX_HTTP_PAY_PAYPAL_TOKEN:
            rc = ngx_http_pay_paypal_token(r, plcf, &pp->token);

            if (rc == NGX_ERROR) {
                return ngx_http_pay_paypal_unavailable(r, ctx,
                                                       "no PayPal access "
                                                       "token");
            }

            if (rc == NGX_OK) {
                pp->step = NGX_HTTP_PAY_PAYPAL_VERIFY_CALL;
                rc = NGX_DECLINED;
            }

            break;

        case NGX_HTTP_PAY_PAYPAL_VERIFY_CALL:
            rc = ngx_http_pay_paypal_verify_call(r, plcf, ctx, pp, body);
            break;

        case NGX_HTTP_PAY_PAYPAL_VERIFY_WAIT:
            if (!pp->call.done) {
                return NGX_AGAIN;
            }

            rc = ngx_http_pay_paypal_verified(r, plcf, ctx, pp);
            break;

        default: /* NGX_HTTP_PAY_PAYPAL_WAIT */
            if (pp->poll.timer_set) {
                return NGX_AGAIN;
            }

            pp->step = pp->after_wait;
            continue;
        }

        /*
         * NGX_DECLINED: on to pp->step now, or to the signature once the
         * certificate's key is in der; NGX_AGAIN: a subrequest or a poll
         * resumes the phases; NGX_OK: verified; NGX_DONE: answered.
         */

        if (rc == NGX_DECLINED) {
            if (der.len == 0) {
                continue;
            }

            rc = ngx_http_pay_paypal_rsa(r, plcf, ctx, pp, &der, body);
        }

        if (rc == NGX_OK) {
            pp->verified = 1;
        }

        return rc;
    }
}


/* collects and checks the five headers; NGX_OK or the rejection sent */

static ngx_int_t
ngx_http_pay_paypal_headers(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp)
{
    size_t                    nhosts, i;
    size_t                    lens[NGX_HTTP_PAY_PAYPAL_HOSTS_MAX];
    pay_rc_e                  rc;
    ngx_str_t                *names[5], *hosts;
    ngx_uint_t                n;
    const char               *host[NGX_HTTP_PAY_PAYPAL_HOSTS_MAX];
    const char               *path;
    ngx_table_elt_t          *h[5];
    ngx_http_pay_loc_conf_t  *plcf;

    plcf = ngx_http_get_module_loc_conf(r, ngx_http_pay_module);

    names[0] = &ngx_http_pay_paypal_hdr_id;
    names[1] = &ngx_http_pay_paypal_hdr_time;
    names[2] = &ngx_http_pay_paypal_hdr_sig;
    names[3] = &ngx_http_pay_paypal_hdr_cert_url;
    names[4] = &ngx_http_pay_paypal_hdr_algo;

    for (n = 0; n < 5; n++) {
        if (ngx_http_pay_find_header(r, names[n], &h[n]) != NGX_OK) {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_SIGNATURE_MALFORMED,
                                       "a PayPal signature header is "
                                       "repeated");
        }
    }

#define ngx_http_pay_paypal_set(field, i)                                     \
    if (h[i] != NULL) {                                                       \
        pp->headers.field = (const char *) h[i]->value.data;                  \
        pp->headers.field##_len = h[i]->value.len;                            \
    }

    ngx_http_pay_paypal_set(id, 0);
    ngx_http_pay_paypal_set(time, 1);
    ngx_http_pay_paypal_set(sig, 2);
    ngx_http_pay_paypal_set(cert_url, 3);
    ngx_http_pay_paypal_set(algo, 4);

#undef ngx_http_pay_paypal_set

    hosts = plcf->paypal_cert_hosts->elts;
    nhosts = plcf->paypal_cert_hosts->nelts;

    for (i = 0; i < nhosts; i++) {
        host[i] = (const char *) hosts[i].data;
        lens[i] = hosts[i].len;
    }

    rc = pay_paypal_check_headers(&pp->headers, host, lens, nhosts,
                                  (long long) ngx_time(),
                                  (long long) plcf->tolerance,
                                  pp->sig, &pp->sig_len, &path, &i);

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_paypal_details[rc]);
    }

    pp->cert_path.data = (u_char *) path;
    pp->cert_path.len = i;

    /* the cache key, and what the log lines show */

    pp->cert_url.data = ngx_pnalloc(r->pool, pp->headers.cert_url_len);
    if (pp->cert_url.data == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    pp->cert_url.len = pay_paypal_cert_url_canonical(pp->headers.cert_url,
                                                     pp->headers.cert_url_len,
                                                     host, lens, nhosts,
                                                     (char *)
                                                         pp->cert_url.data,
                                                     pp->headers.cert_url_len);
    if (pp->cert_url.len == 0) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the cert URL cannot be canonicalised");
    }

    return NGX_OK;
}


/* offline: the certificate's key from the cache, or a fetch */

static ngx_int_t
ngx_http_pay_paypal_cert(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *der)
{
    ngx_int_t  rc;
    ngx_str_t  value;

    rc = ngx_http_pay_paypal_cert_get(pp->zone, plcf->paypal_policy,
                                      &pp->cert_url, r->pool, &value,
                                      NGX_HTTP_PAY_API_FETCH_LOCK);

    switch (rc) {

    case NGX_HTTP_PAY_CACHE_HIT:
        ngx_http_pay_status_paypal_cert(NGX_HTTP_PAY_CERT_HIT);
        *der = value;
        return NGX_DECLINED;

    case NGX_HTTP_PAY_CACHE_NEGATIVE:
        ngx_http_pay_status_paypal_cert(NGX_HTTP_PAY_CERT_REJECTED);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: paypal certificate \"%V\" failed validation "
                      "recently: %V", &pp->cert_url, &value);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_CERT_UNTRUSTED,
                                   ngx_http_pay_paypal_details
                                       [PAY_ERR_CERT_UNTRUSTED]);

    case NGX_HTTP_PAY_CACHE_FAILED:
        ngx_http_pay_status_paypal_cert(NGX_HTTP_PAY_CERT_REJECTED);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: paypal certificate \"%V\" could not be fetched "
                      "recently: %V", &pp->cert_url, &value);
        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "the PayPal certificate "
                                               "could not be fetched");

    case NGX_HTTP_PAY_CACHE_BUSY:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: paypal certificate \"%V\" not fetched: %d "
                      "certificate fetches in %d seconds already",
                      &pp->cert_url, NGX_HTTP_PAY_PAYPAL_FETCHES,
                      NGX_HTTP_PAY_PAYPAL_FETCH_INTERVAL);
        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "too many PayPal "
                                               "certificate fetches");

    case NGX_HTTP_PAY_CACHE_FULL:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: paypal certificate \"%V\" not fetched: every "
                      "cache slot holds a validated certificate",
                      &pp->cert_url);
        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "no room for another PayPal "
                                               "certificate");

    case NGX_HTTP_PAY_CACHE_WAIT:
        return ngx_http_pay_paypal_wait(r, ctx, pp, NGX_HTTP_PAY_PAYPAL_CERT);

    case NGX_HTTP_PAY_CACHE_REFRESH:
        /* a day old: fetched again, the key serves if that fails */
        pp->stale = value;
        break;

    case NGX_HTTP_PAY_CACHE_FETCH:
        break;

    default:
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "out of memory");
    }

    ngx_http_pay_status_paypal_cert(NGX_HTTP_PAY_CERT_FETCH);

    pp->fetching = 1;
    pp->step = NGX_HTTP_PAY_PAYPAL_CERT_FETCH;

    ngx_memzero(&pp->call, sizeof(ngx_http_pay_api_call_t));
    pp->call.method = NGX_HTTP_GET;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay paypal certificate fetch \"%V\"", &pp->cert_url);

    return ngx_http_pay_paypal_call(r, ctx, pp, &plcf->paypal_cert_location,
                                    &pp->cert_path);
}


static ngx_int_t
ngx_http_pay_paypal_cert_fetched(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *der)
{
    u_char          status[sizeof("no answer, status ") + NGX_INT_T_LEN];
    size_t          der_len;
    time_t          expires, now;
    pay_rc_e        rc;
    ngx_str_t       value;
    long long       not_after;
    const char     *reason;
    unsigned char  *key;

    pp->fetching = 0;

    if (pp->call.status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: paypal certificate \"%V\" could not be fetched "
                      "through \"%V\": %s %ui", &pp->cert_url,
                      &plcf->paypal_cert_location,
                      pp->call.status ? "status" : "no answer, status",
                      pp->call.status);

        /* the deliveries of the next seconds naming it fetch nothing */

        value.data = status;
        value.len = ngx_sprintf(status, "%s %ui",
                                pp->call.status ? "status"
                                                : "no answer, status",
                                pp->call.status)
                    - status;

        ngx_http_pay_paypal_cert_put(pp->zone, plcf->paypal_policy,
                                     &pp->cert_url, &value,
                                     NGX_HTTP_PAY_CERT_FAILED,
                                     ngx_time()
                                     + NGX_HTTP_PAY_PAYPAL_FAILED_TTL);

        if (pp->stale.len) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "pay: paypal certificate \"%V\" validated before "
                          "is used until its notAfter", &pp->cert_url);
            *der = pp->stale;
            return NGX_DECLINED;
        }

        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "the PayPal certificate "
                                               "could not be fetched");
    }

    now = ngx_time();

    rc = pay_paypal_cert_validate(plcf->paypal_trust, pp->call.response.data,
                                  pp->call.response.len, (long long) now,
                                  &key, &der_len, &not_after, &reason);

    if (rc != PAY_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: paypal certificate \"%V\" is not trusted: %s",
                      &pp->cert_url, reason);

        value.data = (u_char *) reason;
        value.len = ngx_strlen(reason);

        ngx_http_pay_paypal_cert_put(pp->zone, plcf->paypal_policy,
                                     &pp->cert_url, &value,
                                     NGX_HTTP_PAY_CERT_UNTRUSTED,
                                     now + NGX_HTTP_PAY_PAYPAL_NEGATIVE_TTL);

        return ngx_http_pay_reject(r, ctx, PAY_ERR_CERT_UNTRUSTED,
                                   ngx_http_pay_paypal_details
                                       [PAY_ERR_CERT_UNTRUSTED]);
    }

    der->data = ngx_pnalloc(r->pool, der_len);
    if (der->data == NULL) {
        pay_paypal_free(key);
        ngx_http_pay_paypal_cert_abandon(pp->zone, plcf->paypal_policy,
                                         &pp->cert_url);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    ngx_memcpy(der->data, key, der_len);
    der->len = der_len;
    pay_paypal_free(key);

    /* the key serves until notAfter, fetched again after a day */

    expires = (not_after > (long long) NGX_MAX_TIME_T_VALUE)
              ? NGX_MAX_TIME_T_VALUE : (time_t) not_after;

    ngx_http_pay_paypal_cert_put(pp->zone, plcf->paypal_policy,
                                 &pp->cert_url, der, NGX_HTTP_PAY_CERT_KEY,
                                 expires);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "pay: paypal certificate \"%V\" fetched and trusted",
                  &pp->cert_url);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_pay_paypal_rsa(ngx_http_request_t *r, ngx_http_pay_loc_conf_t *plcf,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_paypal_t *pp, ngx_str_t *der,
    ngx_str_t *body)
{
    char      msg[PAY_PAYPAL_MESSAGE_MAX];
    size_t    len;
    uint32_t  crc;
    pay_rc_e  rc;

    crc = pay_crc32_update(0, body->data, body->len);

    len = pay_paypal_message(&pp->headers,
                             (const char *) plcf->paypal_webhook_id.data,
                             plcf->paypal_webhook_id.len, crc,
                             msg, sizeof(msg));
    if (len == 0) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the signed message does not fit");
    }

    rc = pay_paypal_verify_signature(der->data, der->len,
                                     (const unsigned char *) msg, len,
                                     pp->sig, pp->sig_len);

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_paypal_details[rc]);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_paypal_verify_call(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *body)
{
    u_char  *p;
    size_t   size, len;

    size = pay_paypal_verify_request_size(&pp->headers,
                                          plcf->paypal_webhook_id.len,
                                          body->len);

    p = (size == 0) ? NULL : ngx_pnalloc(r->pool, size);

    len = (p == NULL) ? 0
          : pay_paypal_verify_request(&pp->headers,
                                      (const char *)
                                          plcf->paypal_webhook_id.data,
                                      plcf->paypal_webhook_id.len,
                                      body->data, body->len,
                                      (char *) p, size);
    if (len == 0) {
        /* the headers passed their checks: the body is not one object */
        return ngx_http_pay_reject(r, ctx, PAY_ERR_BODY_MALFORMED,
                                   ngx_http_pay_paypal_details
                                       [PAY_ERR_BODY_MALFORMED]);
    }

    pp->step = NGX_HTTP_PAY_PAYPAL_VERIFY_WAIT;

    ngx_memzero(&pp->call, sizeof(ngx_http_pay_api_call_t));
    pp->call.method = NGX_HTTP_POST;
    pp->call.body.data = p;
    pp->call.body.len = len;

    ngx_http_pay_api_header(&pp->call, "Authorization",
                            &pp->token.authorization);
    ngx_http_pay_api_header(&pp->call, "Content-Type",
                            &ngx_http_pay_paypal_json);
    ngx_http_pay_api_header(&pp->call, "Accept", &ngx_http_pay_paypal_json);

    return ngx_http_pay_paypal_call(r, ctx, pp, &plcf->paypal_api,
                                    &ngx_http_pay_paypal_verify_path);
}


static ngx_int_t
ngx_http_pay_paypal_verified(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp)
{
    pay_rc_e  rc;

    if (pp->call.status == NGX_HTTP_UNAUTHORIZED
        && ngx_http_pay_paypal_token_refused(r, plcf, &pp->token) == NGX_OK)
    {
        pp->step = NGX_HTTP_PAY_PAYPAL_TOKEN;
        return NGX_DECLINED;
    }

    if (pp->call.status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: paypal verify-webhook-signature through \"%V\" "
                      "answered status %ui", &plcf->paypal_api,
                      pp->call.status);

        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "PayPal could not verify "
                                               "the signature");
    }

    rc = pay_paypal_verify_response(pp->call.response.data,
                                    pp->call.response.len);

    if (rc == PAY_ERR_INTERNAL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "pay: paypal verify-webhook-signature through \"%V\" "
                      "gave an unexpected answer", &plcf->paypal_api);

        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "PayPal could not verify "
                                               "the signature");
    }

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, rc,
                                   ngx_http_pay_paypal_details[rc]);
    }

    return NGX_OK;
}


/* another request fetches what this one needs: look again shortly */

static ngx_int_t
ngx_http_pay_paypal_wait(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_uint_t step)
{
    if (pp->polls++ >= NGX_HTTP_PAY_API_POLLS) {
        return ngx_http_pay_paypal_unavailable(r, ctx,
                                               "waited too long for a "
                                               "PayPal fetch");
    }

    pp->after_wait = step;
    pp->step = NGX_HTTP_PAY_PAYPAL_WAIT;

    ngx_http_pay_api_poll(r, &pp->poll);

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_pay_paypal_call(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_paypal_t *pp, ngx_str_t *location, ngx_str_t *path)
{
    if (ngx_http_pay_api_uri(r, &pp->call, location, path) != NGX_OK
        || ngx_http_pay_api_start(r, &pp->call) != NGX_OK)
    {
        ngx_http_pay_paypal_cleanup(ctx);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "the PayPal subrequest could not be "
                                   "started");
    }

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_pay_paypal_unavailable(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, const char *detail)
{
    return ngx_http_pay_reject_retry(r, ctx, PAY_ERR_PROVIDER_UNAVAILABLE,
                                     detail,
                                     NGX_HTTP_PAY_PAYPAL_RETRY_AFTER);
}


/*
 * From the request context's cleanup, and whenever a step gives up: no
 * poll may fire for a freed request, and a fetch mark it held is given
 * back at once rather than left to run out.
 */

void
ngx_http_pay_paypal_cleanup(ngx_http_pay_ctx_t *ctx)
{
    ngx_http_pay_paypal_t  *pp;

    pp = ctx->paypal;

    if (pp == NULL) {
        return;
    }

    if (pp->poll.timer_set) {
        ngx_del_timer(&pp->poll);
    }

    if (pp->fetching) {
        pp->fetching = 0;
        ngx_http_pay_paypal_cert_abandon(pp->zone, pp->plcf->paypal_policy,
                                         &pp->cert_url);
    }

    ngx_http_pay_paypal_token_cleanup(pp->plcf, &pp->token);
}
