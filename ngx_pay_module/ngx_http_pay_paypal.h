
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhooks, private to the module: what the PayPal glue offers
 * the rest of it (directives, merges, verification, binding, cleanup),
 * and what its three files share (a delivery's state, the rejection
 * details).  The certificate and token cache and the OAuth2 token have
 * headers of their own (ngx_http_pay_paypal_cache.h,
 * ngx_http_pay_paypal_token.h).
 */


#ifndef _NGX_HTTP_PAY_PAYPAL_H_INCLUDED_
#define _NGX_HTTP_PAY_PAYPAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"
#include "ngx_http_pay_paypal_token.h"


/* pay_paypal_cert_hosts takes at most */
#define NGX_HTTP_PAY_PAYPAL_HOSTS_MAX     16


/*
 * A delivery's PayPal state (ctx->paypal): the verification's steps
 * (ngx_http_pay_paypal.c), then the binding's (ngx_http_pay_paypal_bind.c).
 */
struct ngx_http_pay_paypal_s {
    ngx_uint_t                step;
    ngx_uint_t                after_wait;   /* the step a poll returns to */
    ngx_uint_t                polls;

    pay_paypal_headers_t      headers;
    unsigned char             sig[PAY_PAYPAL_SIG_MAX];
    size_t                    sig_len;
    ngx_str_t                 cert_url;     /* canonical: the cache key */
    ngx_str_t                 cert_path;
    ngx_str_t                 stale;        /* a validated key refetched */

    ngx_shm_zone_t               *zone;
    ngx_http_pay_loc_conf_t      *plcf;     /* the delivery's location */
    ngx_http_pay_api_call_t       call;
    ngx_event_t                   poll;
    ngx_http_pay_paypal_token_t   token;    /* API mode */

    /* the transmission id's record in the dedupe store */
    ngx_uint_t                    bind;     /* NGX_HTTP_PAY_PAYPAL_BIND_* */
    ngx_http_pay_store_op_t       bind_op;

    unsigned                      fetching:1;   /* holds a cert fetch mark */
    unsigned                      verified:1;
    unsigned                      bind_waiting:1;   /* the store answers */
};


/* ngx_http_pay_paypal_conf.c */
char *ngx_http_pay_paypal_cert_hosts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_paypal_client(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_paypal_webhook_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_paypal_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf);
char *ngx_http_pay_paypal_merge_binding(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);

/* ngx_http_pay_paypal.c */
extern const char  *ngx_http_pay_paypal_details[PAY_ERR_LAST];

ngx_int_t ngx_http_pay_paypal_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body);
void ngx_http_pay_paypal_cleanup(ngx_http_pay_ctx_t *ctx);

/* ngx_http_pay_paypal_bind.c */
ngx_int_t ngx_http_pay_paypal_bind(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);


#endif /* _NGX_HTTP_PAY_PAYPAL_H_INCLUDED_ */
