
/*
 * Copyright (C) ngx_pay authors
 */


#ifndef _NGX_HTTP_PAY_MODULE_H_INCLUDED_
#define _NGX_HTTP_PAY_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pay_error.h"
#include "pay_hmac.h"


#define NGX_HTTP_PAY_PROVIDER_OFF     0
#define NGX_HTTP_PAY_PROVIDER_STRIPE  1


/* where a webhook request is in the access handler */
#define NGX_HTTP_PAY_STATE_BODY       0    /* reading the client body */
#define NGX_HTTP_PAY_STATE_WAIT_BODY  1    /* body read is asynchronous */
#define NGX_HTTP_PAY_STATE_VERIFY     2    /* body complete, not checked */
#define NGX_HTTP_PAY_STATE_DONE       3    /* decision in ctx->status */


typedef struct {
    ngx_uint_t            webhook;      /* NGX_HTTP_PAY_PROVIDER_* */
    ngx_array_t          *secrets;      /* of ngx_str_t, as configured */
    ngx_array_t          *keys;         /* of pay_hmac_key_t *, from secrets */
    time_t                tolerance;

    /* where pay_webhook was set, for configuration error messages */
    u_char               *webhook_file;
    ngx_uint_t            webhook_line;
} ngx_http_pay_loc_conf_t;


typedef struct {
    ngx_uint_t            state;        /* NGX_HTTP_PAY_STATE_* */
    ngx_int_t             status;       /* handler result once DONE */
    ngx_uint_t            provider;     /* NGX_HTTP_PAY_PROVIDER_* */
    pay_rc_e              error;        /* the rejection, PAY_OK if none */

    ngx_str_t             event_id;
    ngx_str_t             event_type;
    ngx_int_t             livemode;     /* 1, 0, -1: unknown */

    unsigned              verified:1;
} ngx_http_pay_ctx_t;


extern ngx_module_t  ngx_http_pay_module;


/* ngx_http_pay_variables.c */
ngx_int_t ngx_http_pay_add_variables(ngx_conf_t *cf);
ngx_http_pay_ctx_t *ngx_http_pay_create_ctx(ngx_http_request_t *r);
ngx_http_pay_ctx_t *ngx_http_pay_get_ctx(ngx_http_request_t *r);
const char *ngx_http_pay_provider_name(ngx_uint_t provider);

/* ngx_http_pay_secret.c */
ngx_int_t ngx_http_pay_secret_load(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *value, ngx_str_t *secret);

/* ngx_http_pay_body.c */
ngx_int_t ngx_http_pay_body_get(ngx_http_request_t *r, ngx_str_t *body);

/* ngx_http_pay_response.c */
ngx_int_t ngx_http_pay_reject(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, const char *detail);

/* ngx_http_pay_webhook.c */
ngx_int_t ngx_http_pay_webhook_init(ngx_conf_t *cf);
char *ngx_http_pay_webhook_merge(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);


#endif /* _NGX_HTTP_PAY_MODULE_H_INCLUDED_ */
