
/*
 * Copyright (C) ngx_pay authors
 *
 * Webhook dedupe: the pay_dedupe directive, and a verified event's claim,
 * the decision on the store's answer, and the claim settled when the
 * request ends.
 */


#ifndef _NGX_HTTP_PAY_DEDUPE_H_INCLUDED_
#define _NGX_HTTP_PAY_DEDUPE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


char *ngx_http_pay_dedupe_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_dedupe_merge(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *prev, ngx_http_pay_loc_conf_t *conf);

/*
 * NGX_DECLINED: forward the event; NGX_DONE: the answer has been sent, or
 * the store answers later and resumes the phases (state CLAIMED, then
 * ngx_http_pay_dedupe_decide())
 */
ngx_int_t ngx_http_pay_dedupe_claim(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
ngx_int_t ngx_http_pay_dedupe_decide(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);

/*
 * The app's answer is on its way out: with a store that confirms its
 * completions (Redis wait=), a completion goes out now.  NGX_AGAIN:
 * handler(&ctx->confirm) is called once the store answered, and the
 * answer waits until then; NGX_DECLINED: nothing to wait for (the claim
 * is settled when the request ends, as with any store).
 */
ngx_int_t ngx_http_pay_dedupe_confirm(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_store_handler_pt handler);
void ngx_http_pay_dedupe_confirmed(ngx_http_pay_ctx_t *ctx);

/* the request ended: complete, release or abandon the claim */
void ngx_http_pay_dedupe_finish(ngx_http_pay_ctx_t *ctx);


#endif /* _NGX_HTTP_PAY_DEDUPE_H_INCLUDED_ */
