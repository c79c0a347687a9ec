
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

/* 1 when the provider is to be skipped now (0: closed, or this probes) */
ngx_uint_t ngx_http_pay_breaker_open(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_uint_t fails, ngx_msec_t cooldown);

/* an attempt's outcome; returns 1 when this failure opened the breaker */
ngx_uint_t ngx_http_pay_breaker_result(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_uint_t ok, ngx_uint_t fails, ngx_msec_t cooldown);


#endif /* _NGX_HTTP_PAY_BREAKER_H_INCLUDED_ */
