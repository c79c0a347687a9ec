
/*
 * Copyright (C) ngx_pay authors
 *
 * PayPal webhooks at configuration time: the pay_paypal_* directives that
 * need more than a slot (the cert hosts, the webhook id, the API client),
 * and the location merge: the checks that a "pay_webhook paypal" location
 * can verify anything, its default cert hosts, its trust store (loaded
 * once, shared by inheritance, freed with the configuration) and the id
 * of its certificate policy; then, once the dedupe store is known, what
 * binding transmission ids to bodies needs of it
 * (ngx_http_pay_paypal_merge_binding()).
 *
 * Apart from the request-time steps (ngx_http_pay_paypal.c) so that each
 * file holds one time of the module's life: nothing here runs for a
 * request, and nothing there parses configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"
#include "ngx_http_pay_paypal.h"
#include "ngx_http_pay_paypal_cache.h"
#include "pay_base64.h"


static char *ngx_http_pay_paypal_merge_trust(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *prev, ngx_http_pay_loc_conf_t *conf);
static void ngx_http_pay_paypal_trust_cleanup(void *data);


static ngx_str_t  ngx_http_pay_paypal_default_hosts[] = {
    ngx_string("api.paypal.com"),
    ngx_string("api-m.paypal.com"),
    ngx_string("api.sandbox.paypal.com"),
    ngx_string("api-m.sandbox.paypal.com"),
    ngx_null_string
};


/* pay_paypal_cert_hosts HOST ... */

char *
ngx_http_pay_paypal_cert_hosts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    ngx_str_t   *value, *host;
    ngx_uint_t   i;

    if (plcf->paypal_cert_hosts != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    if (cf->args->nelts - 1 > NGX_HTTP_PAY_PAYPAL_HOSTS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "at most %d hosts", NGX_HTTP_PAY_PAYPAL_HOSTS_MAX);
        return NGX_CONF_ERROR;
    }

    plcf->paypal_cert_hosts = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                               sizeof(ngx_str_t));
    if (plcf->paypal_cert_hosts == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        host = ngx_array_push(plcf->paypal_cert_hosts);
        if (host == NULL) {
            return NGX_CONF_ERROR;
        }

        *host = value[i];
    }

    return NGX_CONF_OK;
}


/*
 * pay_paypal_webhook_id ID: a literal, env:NAME or file:PATH, like the
 * secrets, so one configuration serves sandbox and live.
 */

char *
ngx_http_pay_paypal_webhook_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    ngx_str_t  *value;

    if (plcf->paypal_webhook_id.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_pay_secret_load(cf, &cmd->name, &value[1],
                                 &plcf->paypal_webhook_id)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* pay_paypal_client ID SECRET: "Basic base64(id:secret)", made once */

char *
ngx_http_pay_paypal_client(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    u_char     *p;
    ngx_str_t  *value, id, secret, pair;

    if (plcf->paypal_basic.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_pay_secret_load(cf, &cmd->name, &value[1], &id) != NGX_OK
        || ngx_http_pay_secret_load(cf, &cmd->name, &value[2], &secret)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_strlchr(id.data, id.data + id.len, ':') != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the client id must not contain ':'",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    pair.len = id.len + 1 + secret.len;
    pair.data = ngx_pnalloc(cf->pool, pair.len);
    if (pair.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(pair.data, id.data, id.len);
    *p++ = ':';
    ngx_memcpy(p, secret.data, secret.len);

    plcf->paypal_basic.len = sizeof("Basic ") - 1
                             + pay_base64_encoded_len(pair.len);
    plcf->paypal_basic.data = ngx_pnalloc(cf->pool, plcf->paypal_basic.len);
    if (plcf->paypal_basic.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(plcf->paypal_basic.data, "Basic ", sizeof("Basic ") - 1);
    pay_base64_encode(pair.data, pair.len, (char *) p);

    ngx_explicit_memzero(pair.data, pair.len);

    plcf->paypal_client_id = id;

    return NGX_CONF_OK;
}


char *
ngx_http_pay_paypal_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf)
{
    size_t       lens[NGX_HTTP_PAY_PAYPAL_HOSTS_MAX];
    ngx_int_t    slot;
    ngx_str_t   *host_str, *hosts;
    ngx_uint_t   i, n;
    const char  *host[NGX_HTTP_PAY_PAYPAL_HOSTS_MAX];

    ngx_conf_merge_uint_value(conf->paypal_verify, prev->paypal_verify,
                              NGX_HTTP_PAY_PAYPAL_OFFLINE);
    ngx_conf_merge_str_value(conf->paypal_webhook_id,
                             prev->paypal_webhook_id, "");
    ngx_conf_merge_ptr_value(conf->paypal_cert_hosts,
                             prev->paypal_cert_hosts, NULL);
    ngx_conf_merge_str_value(conf->paypal_cert_location,
                             prev->paypal_cert_location, "");
    ngx_conf_merge_str_value(conf->paypal_trusted_certificate,
                             prev->paypal_trusted_certificate, "");
    ngx_conf_merge_str_value(conf->paypal_api, prev->paypal_api, "");

    if (conf->paypal_basic.data == NULL) {
        conf->paypal_basic = prev->paypal_basic;
        conf->paypal_client_id = prev->paypal_client_id;
    }

    if (conf->webhook != NGX_HTTP_PAY_PROVIDER_PAYPAL) {
        return NGX_CONF_OK;
    }

    if (conf->paypal_webhook_id.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui requires "
                      "\"pay_paypal_webhook_id\"",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    /* it is signed and sent in JSON: visible ASCII only, as PayPal's are */

    for (i = 0; i < conf->paypal_webhook_id.len; i++) {
        if (conf->paypal_webhook_id.data[i] < 0x21
            || conf->paypal_webhook_id.data[i] > 0x7e)
        {
            break;
        }
    }

    if (conf->paypal_webhook_id.len > PAY_PAYPAL_WEBHOOK_ID_MAX
        || i != conf->paypal_webhook_id.len)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_paypal_webhook_id\" must be 1 to %d visible "
                      "ASCII characters", PAY_PAYPAL_WEBHOOK_ID_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->paypal_cert_hosts == NULL) {
        conf->paypal_cert_hosts = ngx_array_create(cf->pool, 4,
                                                   sizeof(ngx_str_t));
        if (conf->paypal_cert_hosts == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; ngx_http_pay_paypal_default_hosts[i].len; i++) {
            host_str = ngx_array_push(conf->paypal_cert_hosts);
            if (host_str == NULL) {
                return NGX_CONF_ERROR;
            }

            *host_str = ngx_http_pay_paypal_default_hosts[i];
        }
    }

    conf->paypal_zone = ngx_http_pay_paypal_cache_zone(cf);
    if (conf->paypal_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (conf->paypal_verify == NGX_HTTP_PAY_PAYPAL_API) {
        if (conf->paypal_api.len == 0 || conf->paypal_basic.data == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_paypal_verify api\" for \"pay_webhook "
                          "paypal\" in %s:%ui requires \"pay_paypal_api\" "
                          "and \"pay_paypal_client\"",
                          conf->webhook_file, conf->webhook_line);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_pay_api_location(cf, &conf->paypal_api, "pay_paypal_api")
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        slot = ngx_http_pay_paypal_cache_client(cf, &conf->paypal_api,
                                                &conf->paypal_client_id);
        if (slot == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        conf->paypal_token_slot = slot;

        return NGX_CONF_OK;
    }

    if (conf->paypal_cert_location.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui requires "
                      "\"pay_paypal_cert_location\" (or \"pay_paypal_verify "
                      "api\")", conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pay_api_location(cf, &conf->paypal_cert_location,
                                  "pay_paypal_cert_location")
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pay_paypal_merge_trust(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* a cached certificate verdict serves only locations of this policy */

    hosts = conf->paypal_cert_hosts->elts;
    n = conf->paypal_cert_hosts->nelts;

    for (i = 0; i < n; i++) {
        host[i] = (const char *) hosts[i].data;
        lens[i] = hosts[i].len;
    }

    if (pay_paypal_policy_id(conf->paypal_trust, host, lens, n,
                             (const char *) conf->paypal_cert_location.data,
                             conf->paypal_cert_location.len,
                             conf->paypal_policy)
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui: cannot identify "
                      "its certificate policy",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* one trust store per location that needs one; shared by inheritance */

static char *
ngx_http_pay_paypal_merge_trust(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf)
{
    char                *cafile;
    ngx_pool_cleanup_t  *cln;

    if (prev->paypal_trust != NULL
        && prev->paypal_trusted_certificate.len
           == conf->paypal_trusted_certificate.len
        && ngx_strncmp(prev->paypal_trusted_certificate.data,
                       conf->paypal_trusted_certificate.data,
                       conf->paypal_trusted_certificate.len) == 0)
    {
        conf->paypal_trust = prev->paypal_trust;
        return NGX_CONF_OK;
    }

    cafile = NULL;

    if (conf->paypal_trusted_certificate.len) {
        if (ngx_conf_full_name(cf->cycle, &conf->paypal_trusted_certificate,
                               1)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        cafile = (char *) conf->paypal_trusted_certificate.data;
    }

    conf->paypal_trust = pay_paypal_trust_new(cafile);

    if (conf->paypal_trust == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_paypal_trusted_certificate\": cannot load "
                      "\"%s\"", cafile ? cafile : "the system CA bundle");
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        pay_paypal_trust_free(conf->paypal_trust);
        conf->paypal_trust = NULL;
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_pay_paypal_trust_cleanup;
    cln->data = conf->paypal_trust;

    return NGX_CONF_OK;
}


static void
ngx_http_pay_paypal_trust_cleanup(void *data)
{
    pay_paypal_trust_free(data);
}


/*
 * A PayPal location binds each transmission id to its body in its dedupe
 * store until the transmission time leaves pay_webhook_tolerance: so it
 * needs a store, a finite window, and, for a binding to hold, the same
 * store as every other location taking the same webhook id.  Called by
 * ngx_http_pay_webhook_merge(), once ngx_http_pay_dedupe_merge() has
 * resolved the location's store.
 */

char *
ngx_http_pay_paypal_merge_binding(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf)
{
    ngx_uint_t                      i;
    ngx_http_pay_main_conf_t       *pmcf;
    ngx_http_pay_paypal_binding_t  *b;

    if (conf->dedupe_store == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui requires "
                      "\"pay_dedupe\": each transmission id is bound "
                      "to its body in the dedupe store",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    if (conf->tolerance == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui does not work with "
                      "\"pay_webhook_tolerance 0\": once its binding "
                      "expires, a transmission's headers would carry any "
                      "body; set a finite window",
                      conf->webhook_file, conf->webhook_line);
        return NGX_CONF_ERROR;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    if (pmcf->paypal_bindings == NULL) {
        pmcf->paypal_bindings = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_pay_paypal_binding_t));
        if (pmcf->paypal_bindings == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    b = pmcf->paypal_bindings->elts;

    for (i = 0; i < pmcf->paypal_bindings->nelts; i++) {
        if (b[i].webhook_id.len != conf->paypal_webhook_id.len
            || ngx_memcmp(b[i].webhook_id.data, conf->paypal_webhook_id.data,
                          conf->paypal_webhook_id.len)
               != 0)
        {
            continue;
        }

        if (b[i].store == conf->dedupe_store) {
            return NGX_CONF_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_webhook paypal\" in %s:%ui binds the "
                      "transmissions of its webhook id in pay_store "
                      "\"%V\", the one in %s:%ui in \"%V\": a transmission "
                      "bound in one store is unknown to the other; use one "
                      "\"pay_dedupe\" store for every location of a webhook "
                      "id", conf->webhook_file, conf->webhook_line,
                      &conf->dedupe_store->name, b[i].file, b[i].line,
                      &b[i].store->name);
        return NGX_CONF_ERROR;
    }

    b = ngx_array_push(pmcf->paypal_bindings);
    if (b == NULL) {
        return NGX_CONF_ERROR;
    }

    b->webhook_id = conf->paypal_webhook_id;
    b->store = conf->dedupe_store;
    b->file = conf->webhook_file;
    b->line = conf->webhook_line;

    return NGX_CONF_OK;
}
