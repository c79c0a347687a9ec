
/*
 * Copyright (C) ngx_pay authors
 *
 * Webhook verification: what all providers share (ngx_http_pay_webhook.c)
 * and each provider's glue, which mirrors core/: ngx_http_pay_stripe.c,
 * _square.c and _standard.c here, PayPal's in ngx_http_pay_paypal.h.
 */


#ifndef _NGX_HTTP_PAY_WEBHOOK_H_INCLUDED_
#define _NGX_HTTP_PAY_WEBHOOK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "pay_event.h"


/* ngx_http_pay_webhook.c */
char *ngx_http_pay_webhook_merge(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);
ngx_int_t ngx_http_pay_webhook_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);

/*
 * The providers' glue: NGX_OK when the delivery is genuine, with its
 * event (in the request pool) in *event; otherwise the rejection has been
 * sent and NGX_DONE is returned.
 */
ngx_int_t ngx_http_pay_stripe_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body,
    pay_event_t **event);
ngx_int_t ngx_http_pay_square_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body,
    pay_event_t **event);
ngx_int_t ngx_http_pay_standard_verify(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx, ngx_str_t *body,
    pay_event_t **event);


#endif /* _NGX_HTTP_PAY_WEBHOOK_H_INCLUDED_ */
