
/*
 * Copyright (C) ngx_pay authors
 *
 * A circuit breaker per provider API location, in shared memory: after
 * "fails" failures in a row a provider is skipped for "cooldown", then one
 * request probes it (half open: its failure opens it again, its success
 * closes it) while the others keep skipping it for another "cooldown".
 * The idea of max_fails / fail_timeout, for routing intents.
 */


#ifndef _NGX_HTTP_PAY_BREAKER_H_INCLUDED_
#define _NGX_HTTP_PAY_BREAKER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_PAY_BREAKERS  64


/* the zone (added on first need) and a slot for one API location */
ngx_shm_zone_t *ngx_http_pay_breaker_zone(ngx_conf_t *cf);
ngx_int_t ngx_http_pay_breaker_slot(ngx_conf_t *cf, const char *provider,
    ngx_str_t *api);

/*
 * What a call changed, for the one log line of each change: the zone's
 * mutex makes each call, of all the workers, the only one to see it.
 */
typedef enum {
    NGX_HTTP_PAY_BREAKER_SAME = 0,
    NGX_HTTP_PAY_BREAKER_OPENED,        /* closed -> open */
    NGX_HTTP_PAY_BREAKER_PROBE,         /* open -> half open: this probes */
    NGX_HTTP_PAY_BREAKER_REOPENED,      /* the probe failed */
    NGX_HTTP_PAY_BREAKER_CLOSED         /* open or half open -> closed */
} ngx_http_pay_breaker_change_e;


/*
 * 1 when the provider is to be skipped now; 0 when it is closed, or when
 * this request probes it (*change is NGX_HTTP_PAY_BREAKER_PROBE)
 */
ngx_uint_t ngx_http_pay_breaker_open(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_uint_t fails, ngx_msec_t cooldown,
    ngx_http_pay_breaker_change_e *change);

/* an attempt's outcome; what it changed */
ngx_http_pay_breaker_change_e ngx_http_pay_breaker_result(
    ngx_shm_zone_t *zone, ngx_uint_t slot, ngx_uint_t ok, ngx_uint_t fails,
    ngx_msec_t cooldown);


#endif /* _NGX_HTTP_PAY_BREAKER_H_INCLUDED_ */
