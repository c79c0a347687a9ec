
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal's OAuth2 client-credentials token, for API-mode verification and
 * for orders: from the shared cache, or fetched by a subrequest to
 * pay_paypal_api once for all workers while the others poll the cache.
 */


#ifndef _NGX_HTTP_PAY_PAYPAL_TOKEN_H_INCLUDED_
#define _NGX_HTTP_PAY_PAYPAL_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"


typedef struct {
    ngx_uint_t                state;
    ngx_uint_t                polls;
    ngx_str_t                 authorization;    /* "Bearer <token>" */
    ngx_http_pay_api_call_t   call;
    ngx_event_t               poll;

    unsigned                  fetching:1;       /* holds the fetch mark */
    unsigned                  refreshed:1;
} ngx_http_pay_paypal_token_t;


/*
 * Call it each time the phase handler runs until it is not NGX_AGAIN:
 * NGX_OK, t->authorization is set; NGX_AGAIN, a subrequest or a poll
 * runs the phases again later; NGX_ERROR, no token (logged: the caller
 * answers 503).
 */
ngx_int_t ngx_http_pay_paypal_token(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t);

/*
 * PayPal answered 401 to a call made with t's token: NGX_OK, the token
 * is forgotten and the next ngx_http_pay_paypal_token() fetches another;
 * NGX_DECLINED, it was refreshed once already.
 */
ngx_int_t ngx_http_pay_paypal_token_refused(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_paypal_token_t *t);

/* when the request goes away: no poll fires, a fetch mark is given back */
void ngx_http_pay_paypal_token_cleanup(ngx_http_pay_loc_conf_t *plcf,
    ngx_http_pay_paypal_token_t *t);


#endif /* _NGX_HTTP_PAY_PAYPAL_TOKEN_H_INCLUDED_ */
