
/*
 * Copyright (C) ngx_pay authors
 *
 * The counters behind pay_status (ngx_http_pay_status.h): the series
 * registered while the configuration is read, the zone whose table maps
 * each series' text to a cell (the same cell after a reload), the adds of
 * the request path (atomic, no lock), and the page in Prometheus text or
 * JSON.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_version.h"
#include "ngx_http_pay_status.h"


#define NGX_HTTP_PAY_STATUS_KEY       200
#define NGX_HTTP_PAY_STATUS_BUCKETS   13
#define NGX_HTTP_PAY_STATUS_OUTCOMES                                         \
    (NGX_HTTP_PAY_OUTCOME_ERROR + PAY_ERR_LAST)
#define NGX_HTTP_PAY_STATUS_PROVIDERS 5


typedef struct {
    uint32_t                        hash;
    ngx_uint_t                      len;
    u_char                          key[NGX_HTTP_PAY_STATUS_KEY];
    ngx_atomic_t                    value;
} ngx_http_pay_status_cell_t;


typedef struct {
    ngx_uint_t                      ncells;
    ngx_uint_t                      used;
    ngx_http_pay_status_cell_t      cells[1];
} ngx_http_pay_status_sh_t;


typedef struct {
    ngx_array_t                     series;     /* of ..._series_t * */
    ngx_shm_zone_t                 *zone;       /* NULL: off */
    ngx_http_pay_status_sh_t       *sh;
    ngx_http_pay_status_series_t   *webhooks[NGX_HTTP_PAY_STATUS_PROVIDERS]
                                            [NGX_HTTP_PAY_STATUS_OUTCOMES];
    ngx_http_pay_status_series_t   *intents[NGX_HTTP_PAY_STATUS_PROVIDERS]
                                           [NGX_HTTP_PAY_STATUS_OUTCOMES];
    ngx_http_pay_status_series_t   *attempts[NGX_HTTP_PAY_STATUS_PROVIDERS]
                                            [NGX_HTTP_PAY_ATTEMPT_RESULTS];
    ngx_http_pay_status_series_t   *certs[NGX_HTTP_PAY_CERT_RESULTS];
} ngx_http_pay_status_t;


typedef struct {
    const char                     *name;
    const char                     *type;
    const char                     *help;
} ngx_http_pay_metric_t;


static ngx_http_pay_status_t *ngx_http_pay_status_get(ngx_conf_t *cf);
static ngx_int_t ngx_http_pay_status_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_atomic_t *ngx_http_pay_status_cell(ngx_http_pay_status_sh_t *sh,
    u_char *key, size_t len);
static ngx_http_pay_status_series_t *ngx_http_pay_status_make(ngx_conf_t *cf,
    ngx_uint_t metric, ngx_str_t *labels, ngx_uint_t nlabels);
static ngx_int_t ngx_http_pay_status_info(void *data);
static ngx_http_pay_status_t *ngx_http_pay_status_running(void);
static u_char *ngx_http_pay_status_json_labels(u_char *p, ngx_str_t *labels);
static u_char *ngx_http_pay_status_prom(u_char *p,
    ngx_http_pay_status_series_t *s, const char *name);
static u_char *ngx_http_pay_status_json(u_char *p,
    ngx_http_pay_status_series_t *s);


static ngx_http_pay_metric_t  ngx_http_pay_metrics[] = {
    { "ngx_pay_info", "gauge",
      "The ngx_pay version running, as a label; always 1." },
    { "ngx_pay_webhooks_total", "counter",
      "Webhook deliveries by provider and outcome (forwarded, duplicate, "
      "in_flight, retry, bypass, aborted, or the error code)." },
    { "ngx_pay_webhook_secret_matches_total", "counter",
      "Verified deliveries by location and the 1-based position of the "
      "pay_webhook_secret that verified them." },
    { "ngx_pay_intents_total", "counter",
      "Payment intent requests by provider and outcome." },
    { "ngx_pay_intent_attempts_total", "counter",
      "Calls to a provider's create API by provider and result." },
    { "ngx_pay_store_operations_total", "counter",
      "Store operations by store, operation and result." },
    { "ngx_pay_store_seconds", "histogram",
      "Time from a store operation's call to its answer." },
    { "ngx_pay_store_up", "gauge",
      "1 when the answering worker reaches the store, else 0." },
    { "ngx_pay_breaker_open", "gauge",
      "1 while a provider API's circuit breaker is open, else 0." },
    { "ngx_pay_paypal_cert_cache", "counter",
      "PayPal certificate cache lookups by result (hit, fetch, rejected)." }
};


/* the upper bounds in microseconds, and as Prometheus writes them */
static ngx_msec_t  ngx_http_pay_status_bounds[NGX_HTTP_PAY_STATUS_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000
};

static const char  *ngx_http_pay_status_les[NGX_HTTP_PAY_STATUS_BUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "0.5", "1"
};


static const char  *ngx_http_pay_status_outcomes[] = {
    "forwarded", "duplicate", "in_flight", "retry", "bypass", "aborted"
};


/* an intent's outcome: $pay_idempotency's words, then aborted */
static const char  *ngx_http_pay_status_intent_outcomes[] = {
    "new", "replayed", "conflict", "mismatch", "resumed", "aborted"
};


static const char  *ngx_http_pay_status_attempt_results[] = {
    "2xx", "4xx", "5xx", "timeout", "error", "skipped"
};


static const char  *ngx_http_pay_status_cert_results[] = {
    "hit", "fetch", "rejected"
};


static ngx_str_t  ngx_http_pay_status_zone_name =
    ngx_string("ngx_http_pay_status");


/* pay_status_zone SIZE|off, in the http block */

char *
ngx_http_pay_status_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_main_conf_t *pmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (pmcf->status_size != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        pmcf->status_size = 0;
        return NGX_CONF_OK;
    }

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"pay_status_zone\" takes \"off\" or a size of "
                           "at least %uzk, not \"%V\"",
                           8 * ngx_pagesize / 1024, &value[1]);
        return NGX_CONF_ERROR;
    }

    pmcf->status_size = size;

    return NGX_CONF_OK;
}


static ngx_http_pay_status_t *
ngx_http_pay_status_get(ngx_conf_t *cf)
{
    ngx_http_pay_status_t     *st;
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    if (pmcf->status != NULL) {
        return pmcf->status;
    }

    st = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_status_t));
    if (st == NULL) {
        return NULL;
    }

    if (ngx_array_init(&st->series, cf->pool, 64,
                       sizeof(ngx_http_pay_status_series_t *))
        != NGX_OK)
    {
        return NULL;
    }

    pmcf->status = st;

    return st;
}


/*
 * At postconfiguration: every series is registered by now (the
 * locations are merged), and the zone's init runs after this.
 */

ngx_int_t
ngx_http_pay_status_init_conf(ngx_conf_t *cf)
{
    size_t                          size;
    ngx_str_t                       labels[2];
    ngx_uint_t                      i;
    ngx_http_pay_status_t          *st;
    ngx_http_pay_main_conf_t       *pmcf;
    ngx_http_pay_status_series_t  **series;

    st = ngx_http_pay_status_get(cf);
    if (st == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&labels[0], "version");
    ngx_str_set(&labels[1], NGX_PAY_VERSION);

    if (ngx_http_pay_status_gauge(cf, NGX_HTTP_PAY_METRIC_INFO, labels, 1,
                                  ngx_http_pay_status_info, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    size = pmcf->status_size;

    if (size == NGX_CONF_UNSET_SIZE) {
        size = 1024 * 1024;
    }

    if (size == 0) {
        /* off: no cell for any series, and nothing counts */
        series = st->series.elts;

        for (i = 0; i < st->series.nelts; i++) {
            series[i]->cells = NULL;
        }

        return NGX_OK;
    }

    st->zone = ngx_shared_memory_add(cf, &ngx_http_pay_status_zone_name,
                                     size, &ngx_http_pay_module);
    if (st->zone == NULL) {
        return NGX_ERROR;
    }

    st->zone->init = ngx_http_pay_status_init_zone;
    st->zone->data = st;

    return NGX_OK;
}


/*
 * The table is made once, in the zone's first life; a reload (which
 * keeps a zone of the same name and size) finds it in shpool->data, and
 * the same text finds the same cell.  Only the master adds cells, here;
 * the workers of the old and the new configuration only add to values.
 */

static ngx_int_t
ngx_http_pay_status_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_pay_status_t *st = zone->data;

    u_char                         *key;
    size_t                          size, len;
    ngx_uint_t                      i, j, n;
    ngx_slab_pool_t                *shpool;
    ngx_http_pay_status_series_t  **series;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (shpool->data != NULL) {
        st->sh = shpool->data;

    } else {
        /* room for the slab pool's own pages, even in the smallest zone */
        size = zone->shm.size - zone->shm.size / 4 - 2 * ngx_pagesize;
        n = (size - sizeof(ngx_http_pay_status_sh_t))
            / sizeof(ngx_http_pay_status_cell_t) + 1;

        st->sh = ngx_slab_alloc(shpool, sizeof(ngx_http_pay_status_sh_t)
                                + (n - 1) * sizeof(ngx_http_pay_status_cell_t));
        if (st->sh == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(st->sh, sizeof(ngx_http_pay_status_sh_t)
                            + (n - 1) * sizeof(ngx_http_pay_status_cell_t));
        st->sh->ncells = n;

        shpool->data = st->sh;
        shpool->log_nomem = 0;
    }

    key = ngx_alloc(NGX_HTTP_PAY_STATUS_KEY * 2, zone->shm.log);
    if (key == NULL) {
        return NGX_ERROR;
    }

    series = st->series.elts;

    for (i = 0; i < st->series.nelts; i++) {

        if (series[i]->gauge != NULL) {
            continue;
        }

        for (j = 0; j < series[i]->ncells; j++) {
            len = ngx_snprintf(key, NGX_HTTP_PAY_STATUS_KEY * 2,
                               "%s{%V}#%ui",
                               ngx_http_pay_metrics[series[i]->metric].name,
                               &series[i]->labels, j)
                  - key;

            series[i]->cells[j] = ngx_http_pay_status_cell(st->sh, key, len);

            if (series[i]->cells[j] == NULL) {
                ngx_log_error(NGX_LOG_WARN, zone->shm.log, 0,
                              "pay: the \"%V\" zone is full, %s{%V} is not "
                              "counted: raise \"pay_status_zone\"",
                              &zone->shm.name,
                              ngx_http_pay_metrics[series[i]->metric].name,
                              &series[i]->labels);
                series[i]->cells = NULL;
                break;
            }
        }
    }

    ngx_free(key);

    return NGX_OK;
}


/* open addressing on the key's CRC-32; a key too long is cut (and hashed
   whole) */

static ngx_atomic_t *
ngx_http_pay_status_cell(ngx_http_pay_status_sh_t *sh, u_char *key,
    size_t len)
{
    size_t                       cut;
    uint32_t                     hash;
    ngx_uint_t                   i, n;
    ngx_http_pay_status_cell_t  *cell;

    hash = ngx_crc32_long(key, len);
    cut = ngx_min(len, NGX_HTTP_PAY_STATUS_KEY);

    for (n = 0, i = hash % sh->ncells; n < sh->ncells; n++) {

        cell = &sh->cells[i];

        if (cell->len == 0) {
            if (sh->used + 1 >= sh->ncells) {
                return NULL;
            }

            cell->hash = hash;
            cell->len = len;
            ngx_memcpy(cell->key, key, cut);
            sh->used++;
            return &cell->value;
        }

        if (cell->hash == hash && cell->len == len
            && ngx_memcmp(cell->key, key, cut) == 0)
        {
            return &cell->value;
        }

        i = (i + 1) % sh->ncells;
    }

    return NULL;
}


static ngx_int_t
ngx_http_pay_status_info(void *data)
{
    return 1;
}


/* "name", "value" pairs into a="x",b="y", values escaped */

static ngx_http_pay_status_series_t *
ngx_http_pay_status_make(ngx_conf_t *cf, ngx_uint_t metric,
    ngx_str_t *labels, ngx_uint_t nlabels)
{
    u_char                         *p;
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_pay_status_t          *st;
    ngx_http_pay_status_series_t   *s, **sp;

    st = ngx_http_pay_status_get(cf);
    if (st == NULL) {
        return NULL;
    }

    len = 0;

    for (i = 0; i < nlabels; i++) {
        len += labels[2 * i].len + 4 + 2 * labels[2 * i + 1].len;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NULL;
    }

    s = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_status_series_t));
    if (s == NULL) {
        return NULL;
    }

    s->metric = metric;
    s->labels.data = p;

    for (i = 0; i < nlabels; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, labels[2 * i].data, labels[2 * i].len);
        *p++ = '=';
        *p++ = '"';
        p += ngx_http_pay_status_escape(p, &labels[2 * i + 1]);
        *p++ = '"';
    }

    s->labels.len = p - s->labels.data;

    /* the same text: the same series */

    sp = st->series.elts;

    for (i = 0; i < st->series.nelts; i++) {
        if (sp[i]->metric == metric
            && sp[i]->labels.len == s->labels.len
            && ngx_memcmp(sp[i]->labels.data, s->labels.data, s->labels.len)
               == 0)
        {
            return sp[i];
        }
    }

    sp = ngx_array_push(&st->series);
    if (sp == NULL) {
        return NULL;
    }

    *sp = s;

    return s;
}


ngx_http_pay_status_series_t *
ngx_http_pay_status_series(ngx_conf_t *cf, ngx_uint_t metric,
    ngx_str_t *labels, ngx_uint_t nlabels)
{
    ngx_http_pay_status_series_t  *s;

    s = ngx_http_pay_status_make(cf, metric, labels, nlabels);
    if (s == NULL) {
        return NULL;
    }

    if (s->ncells == 0) {
        s->ncells = (metric == NGX_HTTP_PAY_METRIC_STORE_SECONDS)
                    ? NGX_HTTP_PAY_STATUS_BUCKETS + 2 : 1;

        s->cells = ngx_pcalloc(cf->pool, s->ncells * sizeof(ngx_atomic_t *));
        if (s->cells == NULL) {
            return NULL;
        }
    }

    return s;
}


ngx_int_t
ngx_http_pay_status_gauge(ngx_conf_t *cf, ngx_uint_t metric,
    ngx_str_t *labels, ngx_uint_t nlabels, ngx_http_pay_status_gauge_pt fn,
    void *data)
{
    ngx_http_pay_status_series_t  *s;

    s = ngx_http_pay_status_make(cf, metric, labels, nlabels);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->gauge = fn;
    s->data = data;

    return NGX_OK;
}


/*
 * A webhook location: every outcome of its provider (once per provider),
 * and one series per secret of the location.
 */

ngx_int_t
ngx_http_pay_status_webhook(ngx_conf_t *cf, ngx_uint_t provider,
    ngx_str_t *location, ngx_uint_t nsecrets, ngx_array_t **secrets)
{
    u_char                         *p;
    ngx_uint_t                      i, known;
    ngx_str_t                       labels[4];
    ngx_http_pay_status_t          *st;
    const pay_error_info_t         *info;
    ngx_http_pay_status_series_t  **sp;

    st = ngx_http_pay_status_get(cf);
    if (st == NULL || provider >= NGX_HTTP_PAY_STATUS_PROVIDERS) {
        return NGX_ERROR;
    }

    ngx_str_set(&labels[0], "provider");
    labels[1].data = (u_char *) pay_provider_name(provider);
    labels[1].len = ngx_strlen(labels[1].data);
    ngx_str_set(&labels[2], "outcome");

    known = (st->webhooks[provider][0] != NULL);

    for (i = 0; !known && i < NGX_HTTP_PAY_STATUS_OUTCOMES; i++) {
        if (i < NGX_HTTP_PAY_OUTCOME_ERROR) {
            labels[3].data = (u_char *) ngx_http_pay_status_outcomes[i];

        } else {
            /* a duplicate, in flight, is an outcome above; intents' own */
            switch (i - NGX_HTTP_PAY_OUTCOME_ERROR) {
            case PAY_OK:
            case PAY_ERR_DUPLICATE:
            case PAY_ERR_IN_FLIGHT:
            case PAY_ERR_IDEMPOTENCY_CONFLICT:
            case PAY_ERR_IDEMPOTENCY_KEY_MISSING:
            case PAY_ERR_IDEMPOTENCY_KEY_REUSED:
            case PAY_ERR_VALIDATION_FAILED:
            case PAY_ERR_PROVIDER_ERROR:
                continue;
            default:
                break;
            }

            info = pay_error_info(i - NGX_HTTP_PAY_OUTCOME_ERROR);
            labels[3].data = (u_char *) info->code;
        }

        labels[3].len = ngx_strlen(labels[3].data);

        st->webhooks[provider][i] = ngx_http_pay_status_series(cf,
                                       NGX_HTTP_PAY_METRIC_WEBHOOKS, labels, 2);
        if (st->webhooks[provider][i] == NULL) {
            return NGX_ERROR;
        }
    }

    *secrets = ngx_array_create(cf->pool, nsecrets ? nsecrets : 1,
                                sizeof(ngx_http_pay_status_series_t *));
    if (*secrets == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&labels[0], "location");
    labels[1] = *location;
    ngx_str_set(&labels[2], "secret");

    for (i = 0; i < nsecrets; i++) {
        p = ngx_pnalloc(cf->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        labels[3].data = p;
        labels[3].len = ngx_sprintf(p, "%ui", i + 1) - p;

        sp = ngx_array_push(*secrets);
        if (sp == NULL) {
            return NGX_ERROR;
        }

        *sp = ngx_http_pay_status_series(cf,
                                         NGX_HTTP_PAY_METRIC_SECRET_MATCHES,
                                         labels, 2);
        if (*sp == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_pay_status_webhook_done(ngx_http_request_t *r, ngx_uint_t provider,
    ngx_uint_t outcome)
{
    ngx_http_pay_status_t     *st;
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_pay_module);
    st = pmcf->status;

    if (st == NULL || provider >= NGX_HTTP_PAY_STATUS_PROVIDERS
        || outcome >= NGX_HTTP_PAY_STATUS_OUTCOMES)
    {
        return;
    }

    ngx_http_pay_status_inc(st->webhooks[provider][outcome]);
}


/* the counters of the running configuration, from any request's code */

static ngx_http_pay_status_t *
ngx_http_pay_status_running(void)
{
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_http_pay_module);

    return (pmcf != NULL) ? pmcf->status : NULL;
}


/*
 * Intent locations: every provider (and "none": nothing was tried) with
 * every outcome, and each provider's attempts by result.
 */

ngx_int_t
ngx_http_pay_status_intents(ngx_conf_t *cf)
{
    ngx_uint_t              p, i;
    ngx_str_t               labels[4];
    ngx_http_pay_status_t  *st;
    const pay_error_info_t *info;

    st = ngx_http_pay_status_get(cf);
    if (st == NULL) {
        return NGX_ERROR;
    }

    if (st->intents[0][0] != NULL) {
        return NGX_OK;
    }

    ngx_str_set(&labels[0], "provider");
    ngx_str_set(&labels[2], "outcome");

    for (p = 0; p < NGX_HTTP_PAY_STATUS_PROVIDERS; p++) {

        if (p == NGX_HTTP_PAY_PROVIDER_STANDARD) {
            continue;
        }

        labels[1].data = (u_char *) (p ? pay_provider_name(p) : "none");
        labels[1].len = ngx_strlen(labels[1].data);

        ngx_str_set(&labels[2], "outcome");

        for (i = 0; i < NGX_HTTP_PAY_STATUS_OUTCOMES; i++) {

            if (i < NGX_HTTP_PAY_OUTCOME_ERROR) {
                labels[3].data =
                          (u_char *) ngx_http_pay_status_intent_outcomes[i];

            } else {
                switch (i - NGX_HTTP_PAY_OUTCOME_ERROR) {
                case PAY_OK:
                case PAY_ERR_SIGNATURE_MISSING:
                case PAY_ERR_SIGNATURE_MALFORMED:
                case PAY_ERR_SIGNATURE_MISMATCH:
                case PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE:
                case PAY_ERR_CERT_URL_REJECTED:
                case PAY_ERR_CERT_UNTRUSTED:
                case PAY_ERR_TRANSMISSION_REUSED:
                case PAY_ERR_DUPLICATE:
                case PAY_ERR_IN_FLIGHT:
                    continue;
                default:
                    break;
                }

                info = pay_error_info(i - NGX_HTTP_PAY_OUTCOME_ERROR);
                labels[3].data = (u_char *) info->code;
            }

            labels[3].len = ngx_strlen(labels[3].data);

            st->intents[p][i] = ngx_http_pay_status_series(cf,
                                    NGX_HTTP_PAY_METRIC_INTENTS, labels, 2);
            if (st->intents[p][i] == NULL) {
                return NGX_ERROR;
            }
        }

        if (p == 0) {
            continue;
        }

        ngx_str_set(&labels[2], "result");

        for (i = 0; i < NGX_HTTP_PAY_ATTEMPT_RESULTS; i++) {
            labels[3].data = (u_char *) ngx_http_pay_status_attempt_results[i];
            labels[3].len = ngx_strlen(labels[3].data);

            st->attempts[p][i] = ngx_http_pay_status_series(cf,
                                     NGX_HTTP_PAY_METRIC_INTENT_ATTEMPTS,
                                     labels, 2);
            if (st->attempts[p][i] == NULL) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


void
ngx_http_pay_status_intent_done(ngx_uint_t provider, ngx_uint_t outcome)
{
    ngx_http_pay_status_t  *st;

    st = ngx_http_pay_status_running();

    if (st != NULL && provider < NGX_HTTP_PAY_STATUS_PROVIDERS
        && outcome < NGX_HTTP_PAY_STATUS_OUTCOMES)
    {
        ngx_http_pay_status_inc(st->intents[provider][outcome]);
    }
}


/* an attempt: its HTTP status, or 0 and "timeout", "error", "skipped" */

void
ngx_http_pay_status_intent_attempt(ngx_uint_t provider, ngx_uint_t status,
    const char *outcome)
{
    ngx_uint_t              result;
    ngx_http_pay_status_t  *st;

    st = ngx_http_pay_status_running();

    if (st == NULL || provider >= NGX_HTTP_PAY_STATUS_PROVIDERS) {
        return;
    }

    if (outcome != NULL) {
        result = (ngx_strcmp(outcome, "timeout") == 0) ? 3
                 : (ngx_strcmp(outcome, "skipped") == 0) ? 5 : 4;

    } else {
        result = (status >= 200 && status < 300) ? 0
                 : (status >= 400 && status < 500) ? 1
                 : (status >= 500 && status < 600) ? 2 : 4;
    }

    ngx_http_pay_status_inc(st->attempts[provider][result]);
}


/* a PayPal webhook location: the certificate cache's results */

ngx_int_t
ngx_http_pay_status_paypal(ngx_conf_t *cf)
{
    ngx_uint_t              i;
    ngx_str_t               labels[2];
    ngx_http_pay_status_t  *st;

    st = ngx_http_pay_status_get(cf);
    if (st == NULL) {
        return NGX_ERROR;
    }

    if (st->certs[0] != NULL) {
        return NGX_OK;
    }

    ngx_str_set(&labels[0], "result");

    for (i = 0; i < NGX_HTTP_PAY_CERT_RESULTS; i++) {
        labels[1].data = (u_char *) ngx_http_pay_status_cert_results[i];
        labels[1].len = ngx_strlen(labels[1].data);

        st->certs[i] = ngx_http_pay_status_series(cf,
                           NGX_HTTP_PAY_METRIC_PAYPAL_CERT_CACHE, labels, 1);
        if (st->certs[i] == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_pay_status_paypal_cert(ngx_uint_t result)
{
    ngx_http_pay_status_t  *st;

    st = ngx_http_pay_status_running();

    if (st != NULL && result < NGX_HTTP_PAY_CERT_RESULTS) {
        ngx_http_pay_status_inc(st->certs[result]);
    }
}


void
ngx_http_pay_status_observe(ngx_http_pay_status_series_t *s,
    ngx_msec_t usec)
{
    ngx_uint_t  i;

    if (s == NULL || s->cells == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_PAY_STATUS_BUCKETS; i++) {
        if (usec <= ngx_http_pay_status_bounds[i]) {
            (void) ngx_atomic_fetch_add(s->cells[i], 1);
            break;
        }
    }

    /* above 1 s: only in +Inf, which is the count */

    (void) ngx_atomic_fetch_add(s->cells[NGX_HTTP_PAY_STATUS_BUCKETS], 1);
    (void) ngx_atomic_fetch_add(s->cells[NGX_HTTP_PAY_STATUS_BUCKETS + 1],
                                usec);
}


/* the page */

ngx_int_t
ngx_http_pay_status_render(ngx_http_request_t *r, ngx_uint_t json,
    ngx_chain_t *out)
{
    u_char                         *p;
    size_t                          len;
    ngx_buf_t                      *b;
    ngx_uint_t                      i, m, first, firsts;
    ngx_http_pay_status_t          *st;
    ngx_http_pay_metric_t          *metric;
    ngx_http_pay_main_conf_t       *pmcf;
    ngx_http_pay_status_series_t  **series;

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_pay_module);
    st = pmcf->status;

    series = st->series.elts;

    /* an upper bound: each line's text and room for its number */

    len = 64;

    for (m = 0; m < NGX_HTTP_PAY_METRICS; m++) {
        len += 2 * ngx_strlen(ngx_http_pay_metrics[m].name)
               + ngx_strlen(ngx_http_pay_metrics[m].help) + 64;
    }

    for (i = 0; i < st->series.nelts; i++) {
        len += (ngx_strlen(ngx_http_pay_metrics[series[i]->metric].name)
                + 2 * series[i]->labels.len + 64)
               * (series[i]->ncells + 1);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    if (json) {
        p = ngx_sprintf(p, "{\"version\":\"%s\",\"counting\":%s,"
                        "\"metrics\":[",
                        NGX_PAY_VERSION, st->zone ? "true" : "false");
    }

    firsts = 1;

    for (m = 0; m < NGX_HTTP_PAY_METRICS; m++) {

        metric = &ngx_http_pay_metrics[m];
        first = 1;

        for (i = 0; i < st->series.nelts; i++) {

            if (series[i]->metric != m
                || (series[i]->gauge == NULL && series[i]->cells == NULL))
            {
                continue;
            }

            if (first) {
                first = 0;

                if (json) {
                    p = ngx_sprintf(p, "%s{\"name\":\"%s\",\"type\":\"%s\","
                                    "\"help\":\"%s\",\"series\":[",
                                    firsts ? "" : "]},", metric->name,
                                    metric->type, metric->help);
                    firsts = 0;

                } else {
                    p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n",
                                    metric->name, metric->help,
                                    metric->name, metric->type);
                }

            } else if (json) {
                *p++ = ',';
            }

            p = json ? ngx_http_pay_status_json(p, series[i])
                     : ngx_http_pay_status_prom(p, series[i], metric->name);
        }
    }

    if (json) {
        p = ngx_sprintf(p, "%s]}\n", firsts ? "" : "]}");
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return NGX_OK;
}


static u_char *
ngx_http_pay_status_prom(u_char *p, ngx_http_pay_status_series_t *s,
    const char *name)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  n;

    if (s->gauge != NULL) {
        return ngx_sprintf(p, "%s{%V} %i\n", name, &s->labels,
                           s->gauge(s->data));
    }

    if (s->ncells == 1) {
        return ngx_sprintf(p, "%s{%V} %uA\n", name, &s->labels,
                           *s->cells[0]);
    }

    n = 0;

    for (i = 0; i < NGX_HTTP_PAY_STATUS_BUCKETS; i++) {
        n += *s->cells[i];
        p = ngx_sprintf(p, "%s_bucket{%V,le=\"%s\"} %uA\n", name, &s->labels,
                        ngx_http_pay_status_les[i], n);
    }

    n = *s->cells[NGX_HTTP_PAY_STATUS_BUCKETS];

    p = ngx_sprintf(p, "%s_bucket{%V,le=\"+Inf\"} %uA\n", name, &s->labels,
                    n);
    p = ngx_sprintf(p, "%s_sum{%V} %uA.%06uA\n", name, &s->labels,
                    *s->cells[NGX_HTTP_PAY_STATUS_BUCKETS + 1] / 1000000,
                    *s->cells[NGX_HTTP_PAY_STATUS_BUCKETS + 1] % 1000000);

    return ngx_sprintf(p, "%s_count{%V} %uA\n", name, &s->labels, n);
}


static u_char *
ngx_http_pay_status_json(u_char *p, ngx_http_pay_status_series_t *s)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  n, sum;

    p = ngx_cpymem(p, "{\"labels\":{", sizeof("{\"labels\":{") - 1);
    p = ngx_http_pay_status_json_labels(p, &s->labels);
    p = ngx_cpymem(p, "},", 2);

    if (s->gauge != NULL) {
        return ngx_sprintf(p, "\"value\":%i}", s->gauge(s->data));
    }

    if (s->ncells == 1) {
        return ngx_sprintf(p, "\"value\":%uA}", *s->cells[0]);
    }

    p = ngx_cpymem(p, "\"buckets\":{", sizeof("\"buckets\":{") - 1);

    n = 0;

    for (i = 0; i < NGX_HTTP_PAY_STATUS_BUCKETS; i++) {
        n += *s->cells[i];
        p = ngx_sprintf(p, "\"%s\":%uA,", ngx_http_pay_status_les[i], n);
    }

    n = *s->cells[NGX_HTTP_PAY_STATUS_BUCKETS];
    sum = *s->cells[NGX_HTTP_PAY_STATUS_BUCKETS + 1];

    return ngx_sprintf(p, "\"+Inf\":%uA},\"sum\":%uA.%06uA,\"count\":%uA}",
                       n, sum / 1000000, sum % 1000000, n);
}


/* a="x",b="y" (escaped as JSON escapes) into "a":"x","b":"y" */

static u_char *
ngx_http_pay_status_json_labels(u_char *p, ngx_str_t *labels)
{
    u_char  *s, *end;

    s = labels->data;
    end = s + labels->len;

    while (s < end) {
        *p++ = '"';

        while (s < end && *s != '=') {
            *p++ = *s++;
        }

        *p++ = '"';
        *p++ = ':';
        s++;            /* = */
        *p++ = *s++;    /* " */

        while (s < end && *s != '"') {
            if (*s == '\\') {
                *p++ = *s++;
            }

            *p++ = *s++;
        }

        *p++ = *s++;    /* " */

        if (s < end) {
            *p++ = *s++;    /* , */
        }
    }

    return p;
}


/* Prometheus' escapes of a label value, which JSON reads the same */

size_t
ngx_http_pay_status_escape(u_char *dst, ngx_str_t *src)
{
    u_char  *p;
    size_t   i;

    p = dst;

    for (i = 0; i < src->len; i++) {
        switch (src->data[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = src->data[i];
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = src->data[i];
        }
    }

    return p - dst;
}
