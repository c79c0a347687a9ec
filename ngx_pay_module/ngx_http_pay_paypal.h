
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhooks: what the PayPal glue offers the rest of the module
 * (directives, merge, verification, cleanup), private to the module.
 * The certificate and token cache and the OAuth2 token have headers of
 * their own (ngx_http_pay_paypal_cache.h, ngx_http_pay_paypal_token.h).
 */


#ifndef _NGX_HTTP_PAY_PAYPAL_H_INCLUDED_
#define _NGX_HTTP_PAY_PAYPAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


/* pay_paypal_cert_hosts takes at most */
#define NGX_HTTP_PAY_PAYPAL_HOSTS_MAX     16


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
ngx_int_t ngx_http_pay_paypal_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body);
ngx_int_t ngx_http_pay_paypal_bind(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
void ngx_http_pay_paypal_cleanup(ngx_http_pay_ctx_t *ctx);


#endif /* _NGX_HTTP_PAY_PAYPAL_H_INCLUDED_ */
