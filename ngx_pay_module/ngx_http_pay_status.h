
/*
 * Copyright (C) ngx_pay authors
 *
 * The module's counters (docs/monitoring.md): one shared zone,
 * "ngx_http_pay_status", made whatever the configuration (pay_status_zone
 * sizes it or turns it off).  Every series (a metric and its labels) is
 * registered while the configuration is read; the zone's init maps each
 * series, by its text, to a cell of a table in the zone, so a reload keeps
 * a series' cell and its value.  Requests only add to cells with
 * ngx_atomic_fetch_add(): no lock.  Gauges are computed when the page is
 * asked for, by a function their owner registered.
 */


#ifndef _NGX_HTTP_PAY_STATUS_H_INCLUDED_
#define _NGX_HTTP_PAY_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef enum {
    NGX_HTTP_PAY_METRIC_INFO = 0,
    NGX_HTTP_PAY_METRIC_WEBHOOKS,
    NGX_HTTP_PAY_METRIC_SECRET_MATCHES,
    NGX_HTTP_PAY_METRIC_INTENTS,
    NGX_HTTP_PAY_METRIC_INTENT_ATTEMPTS,
    NGX_HTTP_PAY_METRIC_STORE_OPS,
    NGX_HTTP_PAY_METRIC_STORE_SECONDS,
    NGX_HTTP_PAY_METRIC_STORE_UP,
    NGX_HTTP_PAY_METRIC_BREAKER_OPEN,
    NGX_HTTP_PAY_METRIC_PAYPAL_CERT_CACHE,
    NGX_HTTP_PAY_METRICS
} ngx_http_pay_metric_e;


/* a gauge's value, asked for when the page is made */
typedef ngx_int_t (*ngx_http_pay_status_gauge_pt)(void *data);


typedef struct {
    ngx_uint_t                      metric;     /* ngx_http_pay_metric_e */
    ngx_str_t                       labels;     /* a="x",b="y" */
    ngx_atomic_t                  **cells;      /* NULL until mapped */
    ngx_uint_t                      ncells;     /* 1; buckets + 2 */
    ngx_http_pay_status_gauge_pt    gauge;
    void                           *data;
} ngx_http_pay_status_series_t;


/* pay_status_zone SIZE|off (the main configuration) */
char *ngx_http_pay_status_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* the zone, made at the http block's postconfiguration */
ngx_int_t ngx_http_pay_status_init_conf(ngx_conf_t *cf);

/*
 * A counter or histogram series, made once per text: the same metric and
 * labels give the same series.  labels: "name", "value", ... pairs,
 * nlabels names.  NULL on no memory.
 */
ngx_http_pay_status_series_t *ngx_http_pay_status_series(ngx_conf_t *cf,
    ngx_uint_t metric, ngx_str_t *labels, ngx_uint_t nlabels);
ngx_int_t ngx_http_pay_status_gauge(ngx_conf_t *cf, ngx_uint_t metric,
    ngx_str_t *labels, ngx_uint_t nlabels, ngx_http_pay_status_gauge_pt fn,
    void *data);

/* a webhook location: its provider's outcomes, its secrets' series */
ngx_int_t ngx_http_pay_status_webhook(ngx_conf_t *cf, ngx_uint_t provider,
    ngx_str_t *location, ngx_uint_t nsecrets, ngx_array_t **secrets);

/* the request end: outcome 0..4 or NGX_HTTP_PAY_OUTCOME_ERROR + pay_rc_e */
#define NGX_HTTP_PAY_OUTCOME_FORWARDED  0
#define NGX_HTTP_PAY_OUTCOME_DUPLICATE  1
#define NGX_HTTP_PAY_OUTCOME_IN_FLIGHT  2
#define NGX_HTTP_PAY_OUTCOME_RETRY      3
#define NGX_HTTP_PAY_OUTCOME_BYPASS     4
#define NGX_HTTP_PAY_OUTCOME_ABORTED    5
#define NGX_HTTP_PAY_OUTCOME_ERROR      6

void ngx_http_pay_status_webhook_done(ngx_http_request_t *r,
    ngx_uint_t provider, ngx_uint_t outcome);

/* intents (a pay_intent location): outcome as for webhooks, with
   $pay_idempotency's value - 1 below NGX_HTTP_PAY_OUTCOME_ERROR, 5 aborted;
   provider 0: none tried */
#define NGX_HTTP_PAY_ATTEMPT_RESULTS    6

ngx_int_t ngx_http_pay_status_intents(ngx_conf_t *cf);
void ngx_http_pay_status_intent_done(ngx_uint_t provider,
    ngx_uint_t outcome);
void ngx_http_pay_status_intent_attempt(ngx_uint_t provider,
    ngx_uint_t status, const char *outcome);

/* PayPal's certificate cache: hit, fetch, rejected */
#define NGX_HTTP_PAY_CERT_HIT           0
#define NGX_HTTP_PAY_CERT_FETCH         1
#define NGX_HTTP_PAY_CERT_REJECTED      2
#define NGX_HTTP_PAY_CERT_RESULTS       3

ngx_int_t ngx_http_pay_status_paypal(ngx_conf_t *cf);
void ngx_http_pay_status_paypal_cert(ngx_uint_t result);

/* histograms: the time in microseconds */
void ngx_http_pay_status_observe(ngx_http_pay_status_series_t *s,
    ngx_msec_t usec);

/* the page: Prometheus text 0.0.4, or JSON */
ngx_int_t ngx_http_pay_status_render(ngx_http_request_t *r,
    ngx_uint_t json, ngx_chain_t *out);

/*
 * src with '\\', '"' and newline escaped, as a label value and a JSON
 * string both take it: at most 2 * src->len bytes at dst; returns the
 * length written
 */
size_t ngx_http_pay_status_escape(u_char *dst, ngx_str_t *src);


static ngx_inline void
ngx_http_pay_status_inc(ngx_http_pay_status_series_t *s)
{
    if (s != NULL && s->cells != NULL) {
        (void) ngx_atomic_fetch_add(s->cells[0], 1);
    }
}


#endif /* _NGX_HTTP_PAY_STATUS_H_INCLUDED_ */
