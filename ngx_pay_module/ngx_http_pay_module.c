
/*
 * Copyright (C) ngx_pay authors
 *
 * Directives, configuration and registration of ngx_http_pay_module:
 * the directive table, the main and location configurations (each
 * feature merges its own part), and each worker's start and exit.  A
 * request's work starts in ngx_http_pay_handler.c; docs/architecture.md
 * walks through the files.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_version.h"
#include "ngx_http_pay_dedupe.h"
#include "ngx_http_pay_intent.h"
#include "ngx_http_pay_paypal.h"
#include "ngx_http_pay_status.h"
#include "ngx_http_pay_webhook.h"


static ngx_int_t ngx_http_pay_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_pay_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_pay_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_pay_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_pay_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_pay_credential_warnings(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_pay_init_process(ngx_cycle_t *cycle);
static void ngx_http_pay_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_pay_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_pay_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_pay_note_credentials(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);
static char *ngx_http_pay_count_webhook(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);
static char *ngx_http_pay_webhook(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_pay_webhook_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_http_pay_providers[] = {
    { ngx_string("off"), NGX_HTTP_PAY_PROVIDER_OFF },
    { ngx_string("stripe"), NGX_HTTP_PAY_PROVIDER_STRIPE },
    { ngx_string("square"), NGX_HTTP_PAY_PROVIDER_SQUARE },
    { ngx_string("paypal"), NGX_HTTP_PAY_PROVIDER_PAYPAL },
    { ngx_string("standard"), NGX_HTTP_PAY_PROVIDER_STANDARD },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_pay_paypal_verify_modes[] = {
    { ngx_string("offline"), NGX_HTTP_PAY_PAYPAL_OFFLINE },
    { ngx_string("api"), NGX_HTTP_PAY_PAYPAL_API },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_pay_store_fail[] = {
    { ngx_string("closed"), 0 },
    { ngx_string("open"), 1 },
    { ngx_null_string, 0 }
};


/* the levels a rejection's first line may take (pay_log_level) */
static ngx_conf_enum_t  ngx_http_pay_log_levels[] = {
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_pay_commands[] = {

    { ngx_string("pay_webhook"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_webhook,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, webhook),
      &ngx_http_pay_providers },

    { ngx_string("pay_webhook_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_webhook_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_webhook_tolerance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, tolerance),
      NULL },

    { ngx_string("pay_webhook_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, webhook_url),
      NULL },

    { ngx_string("pay_webhook_square_sha1"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, square_sha1),
      NULL },

    { ngx_string("pay_webhook_square_window"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, square_window),
      NULL },

    { ngx_string("pay_paypal_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, paypal_verify),
      &ngx_http_pay_paypal_verify_modes },

    { ngx_string("pay_paypal_webhook_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_paypal_webhook_id,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, paypal_webhook_id),
      NULL },

    { ngx_string("pay_paypal_cert_hosts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pay_paypal_cert_hosts,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_paypal_cert_location"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, paypal_cert_location),
      NULL },

    { ngx_string("pay_paypal_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, paypal_trusted_certificate),
      NULL },

    { ngx_string("pay_paypal_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, paypal_api),
      NULL },

    { ngx_string("pay_paypal_client"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_pay_paypal_client,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_intent"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_intent_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, intent),
      NULL },

    { ngx_string("pay_intent_max_amount"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, intent_max_amount),
      NULL },

    { ngx_string("pay_intent_client_fields"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pay_client_fields_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_intent_set"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_pay_intent_set_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_intent_breaker"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pay_breaker_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_idempotency"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pay_idempotency_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_idempotency_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, idem_scope),
      NULL },

    { ngx_string("pay_stripe_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, stripe_api),
      NULL },

    { ngx_string("pay_stripe_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_bearer_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, stripe_auth),
      NULL },

    { ngx_string("pay_stripe_version"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, stripe_version),
      NULL },

    { ngx_string("pay_square_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, square_api),
      NULL },

    { ngx_string("pay_square_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_bearer_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, square_auth),
      NULL },

    { ngx_string("pay_square_location"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, square_location),
      NULL },

    { ngx_string("pay_square_version"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, square_version),
      NULL },

    { ngx_string("pay_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_pay_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_store_default"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_pay_main_conf_t, default_name),
      NULL },

    { ngx_string("pay_store_fail"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, store_fail_open),
      &ngx_http_pay_store_fail },

    { ngx_string("pay_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_pay_loc_conf_t, log_level),
      &ngx_http_pay_log_levels },

    { ngx_string("pay_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_pay_status_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_status_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_pay_status_zone_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("pay_dedupe"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_pay_dedupe_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_pay_module_ctx = {
    ngx_http_pay_preconfiguration,         /* preconfiguration */
    ngx_http_pay_postconfiguration,        /* postconfiguration */

    ngx_http_pay_create_main_conf,         /* create main configuration */
    ngx_http_pay_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_pay_create_loc_conf,          /* create location configuration */
    ngx_http_pay_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_pay_module = {
    NGX_MODULE_V1,
    &ngx_http_pay_module_ctx,              /* module context */
    ngx_http_pay_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_pay_init_module,              /* init module */
    ngx_http_pay_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_pay_exit_process,             /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_pay_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_pay_add_variables(cf);
}


static ngx_int_t
ngx_http_pay_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_pay_store_postconf(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_pay_handler_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_pay_status_page_init(cf);
}


static void *
ngx_http_pay_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_main_conf_t));
    if (pmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     pmcf->default_name = { 0, NULL };
     *     pmcf->default_store = NULL;
     *     pmcf->credential_locations = NULL;
     *     pmcf->paypal_bindings = NULL;
     *     pmcf->dedupe_namespaces = NULL;
     *     pmcf->status = NULL;
     */

    pmcf->status_size = NGX_CONF_UNSET_SIZE;

    if (ngx_array_init(&pmcf->stores, cf->pool, 4,
                       sizeof(ngx_http_pay_store_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return pmcf;
}


/* a pay_store_default without its store fails even where nothing uses it */

static char *
ngx_http_pay_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_pay_main_conf_t *pmcf = conf;

    if (pmcf->default_name.len
        && ngx_http_pay_store_find(pmcf, &pmcf->default_name) == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_store_default\" names no \"pay_store\": \"%V\"",
                      &pmcf->default_name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * nginx's proxy module logs the whole request it sends upstream at debug
 * level, the module's subrequests included: a provider call's
 * "Authorization" would be in the error log.  A subrequest logs through
 * its main request's connection, so what counts is the error_log of the
 * location holding the credentials.  Checked here, once the levels of
 * every error_log, the main one included, are known and the new cycle's
 * log is the configured one.  debug_connection turns debug logging on for
 * the clients it names in every location, whatever their error_log says.
 */

/*
 * Each configuration loaded (start, reload, binary upgrade) says which
 * ngx_pay it runs, in the new configuration's error log; then, in a
 * debug-enabled nginx, whether that log would show provider credentials.
 */

static ngx_int_t
ngx_http_pay_init_module(ngx_cycle_t *cycle)
{
    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0, NGX_PAY_VER);

    return ngx_http_pay_credential_warnings(cycle);
}


static ngx_int_t
ngx_http_pay_credential_warnings(ngx_cycle_t *cycle)
{
#if (NGX_DEBUG)
    ngx_log_t                  *log;
    ngx_uint_t                  i;
    ngx_event_conf_t           *ecf;
    ngx_http_core_loc_conf_t  **clcfp;
    ngx_http_pay_main_conf_t   *pmcf;

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_pay_module);

    if (pmcf == NULL || pmcf->credential_locations == NULL
        || pmcf->credential_locations->nelts == 0)
    {
        return NGX_OK;
    }

    clcfp = pmcf->credential_locations->elts;

    ecf = ngx_event_get_conf(cycle->conf_ctx, ngx_event_core_module);

    if (ecf != NULL && ecf->debug_connection.nelts) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "pay: \"debug_connection\" logs at debug level in "
                      "every location, \"%V\" too, which holds provider "
                      "credentials: nginx logs the provider calls' request "
                      "headers for those clients, \"Authorization\" "
                      "included", &clcfp[0]->name);
    }

    for (i = 0; i < pmcf->credential_locations->nelts; i++) {

        for (log = clcfp[i]->error_log; log; log = log->next) {
            if (log->log_level & NGX_LOG_DEBUG_HTTP) {
                break;
            }
        }

        if (log == NULL) {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "pay: location \"%V\" holds provider credentials "
                      "and its error_log is at debug level: nginx logs the "
                      "provider calls' request headers there, "
                      "\"Authorization\" included",
                      &clcfp[i]->name);
    }
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_init_process(ngx_cycle_t *cycle)
{
    return ngx_http_pay_store_init_process(cycle);
}


static void
ngx_http_pay_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_pay_store_exit_process(cycle);
    ngx_http_pay_intent_exit_process();
}


static void *
ngx_http_pay_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_pay_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->keys = NULL;
     *     conf->dedupe_store = NULL;
     *     conf->dedupe_name = { 0, NULL };
     *     conf->dedupe_namespace = NULL;
     *     conf->dedupe_default_ns = { 0, NULL };
     *     conf->webhook_file = NULL;
     *     conf->webhook_line = 0;
     *     conf->sha1_keys = NULL;
     *     conf->webhook_url = NULL;
     *     conf->paypal_webhook_id = { 0, NULL };
     *     conf->paypal_cert_location = { 0, NULL };
     *     conf->paypal_trusted_certificate = { 0, NULL };
     *     conf->paypal_trust = NULL;
     *     conf->paypal_api = { 0, NULL };
     *     conf->paypal_client_id = { 0, NULL };
     *     conf->paypal_basic = { 0, NULL };
     *     conf->paypal_token_slot = 0;
     *     conf->paypal_zone = NULL;
     *     conf->intent = NULL;
     *     conf->intent_location = { 0, NULL };
     *     conf->idem_store = NULL;
     *     conf->idem_name = { 0, NULL };
     *     conf->idem_scope = NULL;
     *     conf->intent_field_bits = 0;
     *     conf->intent_fields = NULL;
     *     conf->intent_sets = NULL;
     *     conf->breaker_zone = NULL;
     *     conf->breaker_slot = { 0, 0, 0 };
     *     conf->stripe_api, stripe_auth, stripe_version = { 0, NULL };
     *     conf->square_api, square_auth, square_location,
     *         square_version = { 0, NULL };
     */

    conf->webhook = NGX_CONF_UNSET_UINT;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->tolerance = NGX_CONF_UNSET;
    conf->dedupe = NGX_CONF_UNSET;
    conf->dedupe_ttl = NGX_CONF_UNSET_MSEC;
    conf->dedupe_lock = NGX_CONF_UNSET_MSEC;
    conf->store_fail_open = NGX_CONF_UNSET_UINT;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->square_sha1 = NGX_CONF_UNSET;
    conf->square_window = NGX_CONF_UNSET;
    conf->paypal_verify = NGX_CONF_UNSET_UINT;
    conf->paypal_cert_hosts = NGX_CONF_UNSET_PTR;
    conf->intent_max_amount = NGX_CONF_UNSET;
    conf->idem = NGX_CONF_UNSET;
    conf->idem_ttl = NGX_CONF_UNSET_MSEC;
    conf->idem_lock = NGX_CONF_UNSET_MSEC;
    conf->breaker_fails = NGX_CONF_UNSET_UINT;
    conf->breaker_cooldown = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_pay_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_pay_loc_conf_t  *prev = parent;
    ngx_http_pay_loc_conf_t  *conf = child;

    if (conf->webhook == NGX_CONF_UNSET_UINT) {
        conf->webhook_file = prev->webhook_file;
        conf->webhook_line = prev->webhook_line;
    }

    ngx_conf_merge_uint_value(conf->webhook, prev->webhook,
                              NGX_HTTP_PAY_PROVIDER_OFF);
    ngx_conf_merge_ptr_value(conf->secrets, prev->secrets, NULL);
    ngx_conf_merge_sec_value(conf->tolerance, prev->tolerance, 300);
    ngx_conf_merge_value(conf->square_sha1, prev->square_sha1, 0);
    ngx_conf_merge_sec_value(conf->square_window, prev->square_window, 0);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    if (conf->webhook_url == NULL) {
        conf->webhook_url = prev->webhook_url;
    }

    if (ngx_http_pay_paypal_merge(cf, prev, conf) != NGX_CONF_OK
        || ngx_http_pay_intent_merge(cf, prev, conf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pay_dedupe_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pay_note_credentials(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pay_count_webhook(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_pay_webhook_merge(cf, conf);
}


/*
 * A location's series: an intent location's, a webhook location's (its
 * provider's outcomes, its secrets; PayPal's certificate cache).
 */

static char *
ngx_http_pay_count_webhook(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (conf->intent != NULL && ngx_http_pay_status_intents(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_OFF) {
        return NGX_CONF_OK;
    }

    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_PAYPAL
        && ngx_http_pay_status_paypal(cf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_http_pay_status_webhook(cf, conf->webhook, &clcf->name,
                                    conf->secrets ? conf->secrets->nelts : 0,
                                    &conf->status_secrets)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A location that makes provider calls with credentials (an intent
 * location, a PayPal webhook location) is remembered for
 * ngx_http_pay_init_module().
 */

static char *
ngx_http_pay_note_credentials(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *conf)
{
#if (NGX_DEBUG)
    ngx_http_core_loc_conf_t   *clcf, **clcfp;
    ngx_http_pay_main_conf_t   *pmcf;

    if ((conf->intent == NULL
         && conf->webhook != NGX_HTTP_PAY_PROVIDER_PAYPAL)
        || (conf->stripe_auth.len == 0 && conf->square_auth.len == 0
            && conf->paypal_basic.len == 0))
    {
        return NGX_CONF_OK;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    if (pmcf->credential_locations == NULL) {
        pmcf->credential_locations = ngx_array_create(cf->pool, 4,
                                          sizeof(ngx_http_core_loc_conf_t *));
        if (pmcf->credential_locations == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    clcfp = ngx_array_push(pmcf->credential_locations);
    if (clcfp == NULL) {
        return NGX_CONF_ERROR;
    }

    *clcfp = clcf;
#endif

    return NGX_CONF_OK;
}


static char *
ngx_http_pay_webhook(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    char  *rv;

    rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    plcf->webhook_file = cf->conf_file->file.name.data;
    plcf->webhook_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_pay_webhook_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    ngx_str_t  *value, *secret;

    if (plcf->secrets == NGX_CONF_UNSET_PTR) {
        plcf->secrets = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (plcf->secrets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    secret = ngx_array_push(plcf->secrets);
    if (secret == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_pay_secret_load(cf, &cmd->name, &value[1], secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
