
/*
 * Copyright (C) ngx_pay authors
 *
 * Calls to a provider's API (or to PayPal's certificate host) as in-memory
 * subrequests to an internal location that proxy_passes, so the worker
 * never blocks: the operator's location fixes the host, TLS and timeouts.
 */


#ifndef _NGX_HTTP_PAY_API_H_INCLUDED_
#define _NGX_HTTP_PAY_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_PAY_API_HEADERS_MAX  8

/*
 * A fetch shared through a cache holds its mark this long at most;
 * requests waiting for it look again every NGX_HTTP_PAY_API_POLL ms.
 */
#define NGX_HTTP_PAY_API_FETCH_LOCK   30000
#define NGX_HTTP_PAY_API_POLL         20
#define NGX_HTTP_PAY_API_POLLS                                                \
    (NGX_HTTP_PAY_API_FETCH_LOCK / NGX_HTTP_PAY_API_POLL)


struct ngx_http_pay_api_call_s {
    /* in */
    ngx_str_t             uri;          /* internal location + path */
    ngx_uint_t            method;       /* NGX_HTTP_GET or NGX_HTTP_POST */
    ngx_str_t             body;         /* POST only */
    ngx_table_elt_t       headers[NGX_HTTP_PAY_API_HEADERS_MAX];
    ngx_uint_t            nheaders;

    /* out, once done */
    ngx_uint_t            status;       /* the provider's; 0: no answer */
    ngx_int_t             rc;           /* the subrequest's (504: timeout) */
    ngx_str_t             response;     /* its body, in the main pool */

    unsigned              done:1;
};


/*
 * Starts the call as a subrequest of r.  NGX_OK: the phase handler
 * returns NGX_AGAIN, and nginx runs r's phases again once call->done is
 * set.  NGX_ERROR: nothing was started (logged).
 */
ngx_int_t ngx_http_pay_api_start(ngx_http_request_t *r,
    ngx_http_pay_api_call_t *call);

/*
 * Configuration: an internal location's path as a directive gives it
 * (pay_paypal_cert_location, pay_*_api), its one trailing slash dropped,
 * since the call's path is appended.  Empty is left to the caller.
 */
char *ngx_http_pay_api_location(ngx_conf_t *cf, ngx_str_t *location,
    const char *directive);

/* call->uri = location (one trailing slash dropped at config) + path */
ngx_int_t ngx_http_pay_api_uri(ngx_http_request_t *r,
    ngx_http_pay_api_call_t *call, ngx_str_t *location, ngx_str_t *path);

/*
 * Runs r's phases again in NGX_HTTP_PAY_API_POLL ms; ev is the caller's
 * (zeroed before first use; delete its timer when the request goes).
 */
void ngx_http_pay_api_poll(ngx_http_request_t *r, ngx_event_t *ev);

/* adds a request header to the call (name and value must outlive it) */
void ngx_http_pay_api_header(ngx_http_pay_api_call_t *call, char *name,
    ngx_str_t *value);


#endif /* _NGX_HTTP_PAY_API_H_INCLUDED_ */
