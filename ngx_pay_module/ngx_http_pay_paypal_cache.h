
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal's verified certificate keys and OAuth2 tokens, shared by all
 * workers in one small zone, with the "one fetch at a time" marks that
 * let concurrent deliveries wait for a fetch under way instead of making
 * their own.
 */


#ifndef _NGX_HTTP_PAY_PAYPAL_CACHE_H_INCLUDED_
#define _NGX_HTTP_PAY_PAYPAL_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pay_paypal.h"


/* what a lookup found */
#define NGX_HTTP_PAY_CACHE_HIT        0     /* the value is set */
#define NGX_HTTP_PAY_CACHE_NEGATIVE   1     /* known bad: the reason is set */
#define NGX_HTTP_PAY_CACHE_FETCH      2     /* absent: the caller fetches */
#define NGX_HTTP_PAY_CACHE_WAIT       3     /* absent: another one fetches */
#define NGX_HTTP_PAY_CACHE_FAILED     4     /* a fetch failed lately: the
                                               reason is set */
#define NGX_HTTP_PAY_CACHE_BUSY       5     /* absent, and the fetches of
                                               the interval are spent */
#define NGX_HTTP_PAY_CACHE_REFRESH    6     /* a validated key, due for a
                                               fetch: the value is set, and
                                               the caller fetches */
#define NGX_HTTP_PAY_CACHE_FULL       7     /* absent, and every slot holds
                                               a live validated key */


/* what a certificate entry holds */
#define NGX_HTTP_PAY_CERT_KEY         0     /* the key DER */
#define NGX_HTTP_PAY_CERT_UNTRUSTED   1     /* the validation's reason */
#define NGX_HTTP_PAY_CERT_FAILED      2     /* the fetch's status */


/* certificates kept at once (each verifies one URL) */
#define NGX_HTTP_PAY_PAYPAL_CERTS     32

/* PayPal clients (pay_paypal_client + pay_paypal_api pairs) at most */
#define NGX_HTTP_PAY_PAYPAL_CLIENTS   64

/*
 * Certificate fetches started at most in an interval, all locations and
 * workers together: cert URLs come from requests, and only the first
 * delivery naming a certificate needs one.
 */
#define NGX_HTTP_PAY_PAYPAL_FETCHES          10
#define NGX_HTTP_PAY_PAYPAL_FETCH_INTERVAL   60     /* seconds */

/* a validated key is fetched again after, and kept until notAfter */
#define NGX_HTTP_PAY_PAYPAL_CERT_FRESH       86400  /* seconds */

#define NGX_HTTP_PAY_PAYPAL_DER_MAX   1024  /* an RSA-4096 key is ~550 */
#define NGX_HTTP_PAY_PAYPAL_TOKEN_MAX 2048


/* the zone, added on first need; NULL on failure (logged) */
ngx_shm_zone_t *ngx_http_pay_paypal_cache_zone(ngx_conf_t *cf);

/* the token slot of a client (its API location and id), or NGX_ERROR */
ngx_int_t ngx_http_pay_paypal_cache_client(ngx_conf_t *cf, ngx_str_t *api,
    ngx_str_t *client_id);

/*
 * Looks a certificate up by the policy id of the location
 * (PAY_PAYPAL_POLICY_ID_LEN bytes) and the canonical cert URL.  HIT:
 * *value holds the key DER (copied into pool) of a certificate validated
 * before notAfter.  REFRESH: the same, and the caller now holds the fetch
 * mark for lock milliseconds (not counted in the budget) and must call
 * put or abandon; the key serves if that fetch fails.  NEGATIVE
 * (untrusted) and FAILED (not fetched): *value holds the reason.  FETCH:
 * the caller holds the fetch mark, as for REFRESH, and one fetch of the
 * budget is spent.  WAIT: someone holds it.  BUSY: no fetch is allowed
 * now.  FULL: no slot may be taken.  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_pay_paypal_cert_get(ngx_shm_zone_t *zone, u_char *policy,
    ngx_str_t *url, ngx_pool_t *pool, ngx_str_t *value, ngx_msec_t lock);

/*
 * Clears the mark and stores: a key (NGX_HTTP_PAY_CERT_KEY, expires the
 * certificate's notAfter; fetched again a day later at most), a failed
 * validation (_UNTRUSTED, which drops the key) or a failed fetch
 * (_FAILED, which keeps it), each with its reason, until expires.
 */
void ngx_http_pay_paypal_cert_put(ngx_shm_zone_t *zone, u_char *policy,
    ngx_str_t *url, ngx_str_t *value, ngx_uint_t kind, time_t expires);

/* the fetch went away: clears the mark so the next delivery tries again */
void ngx_http_pay_paypal_cert_abandon(ngx_shm_zone_t *zone, u_char *policy,
    ngx_str_t *url);

/* the same three for the token of a client slot */
ngx_int_t ngx_http_pay_paypal_token_get(ngx_shm_zone_t *zone,
    ngx_uint_t slot, ngx_pool_t *pool, ngx_str_t *value, ngx_msec_t lock);
void ngx_http_pay_paypal_token_put(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_str_t *token, time_t expires);
void ngx_http_pay_paypal_token_abandon(ngx_shm_zone_t *zone, ngx_uint_t slot);

/* PayPal refused token: forgets it, unless another was stored since */
void ngx_http_pay_paypal_token_drop(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_str_t *token);


#endif /* _NGX_HTTP_PAY_PAYPAL_CACHE_H_INCLUDED_ */
