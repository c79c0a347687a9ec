
/*
 * Copyright (C) ngx_pay authors
 *
 * The intent directives (pay_intent, pay_idempotency,
 * pay_intent_client_fields, pay_intent_set, pay_intent_breaker, and the
 * providers' bearer credentials) and their merge, which checks that an
 * intent location can create what it promises; then, at request time,
 * what they make of each request: the policy of what the client may
 * send, and pay_intent_set's values over the client's.  pay_intent_set's
 * own type stays in this file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"
#include "ngx_http_pay_breaker.h"
#include "ngx_http_pay_paypal_cache.h"


/* pay_intent_set FIELD VALUE */
typedef struct {
    pay_intent_field_e            field;
    ngx_str_t                     name;     /* as written: "metadata.KEY" */
    pay_intent_str_t              key;      /* metadata: KEY */
    ngx_http_complex_value_t      value;
} ngx_http_pay_intent_set_t;


static ngx_uint_t ngx_http_pay_intent_always(ngx_str_t *name);


/* pay_intent PROVIDERS: the value may hold variables */

char *
ngx_http_pay_intent_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    char                      *rv;
    ngx_http_core_loc_conf_t  *clcf;

    rv = ngx_http_set_complex_value_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* the location's name goes into every store key made here */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    plcf->intent_location = clcf->name;

    return NGX_CONF_OK;
}


/* pay_idempotency NAME [ttl=24h] [lock=60s] */

char *
ngx_http_pay_idempotency_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    return ngx_http_pay_store_use(cf, &plcf->idem, &plcf->idem_name,
                                  &plcf->idem_ttl, &plcf->idem_lock);
}


/*
 * pay_intent_client_fields FIELD ...: what the client may send besides
 * amount, currency and provider; "metadata.KEY" allows that key only.
 */

char *
ngx_http_pay_client_fields_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    ngx_str_t           *value;
    ngx_uint_t           i;
    const char          *reason;
    pay_intent_str_t     key, *k;
    pay_intent_field_e   field;

    if (plcf->intent_fields != NULL) {
        return "is duplicate";
    }

    plcf->intent_fields = ngx_array_create(cf->pool, 4,
                                           sizeof(pay_intent_str_t));
    if (plcf->intent_fields == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        field = pay_intent_field((const char *) value[i].data, value[i].len,
                                 &key);

        if (field == PAY_INTENT_FIELD_NONE) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid field \"%V\"%s",
                               &value[i],
                               ngx_http_pay_intent_always(&value[i])
                               ? " (amount, currency and provider are always "
                                 "accepted)"
                               : "");
            return NGX_CONF_ERROR;
        }

        if (key.data == NULL) {
            plcf->intent_field_bits |= pay_intent_field_bit(field);
            continue;
        }

        reason = pay_intent_metadata_key_reason(key.data, key.len);
        if (reason != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid field \"%V\": metadata %s",
                               &value[i], reason);
            return NGX_CONF_ERROR;
        }

        k = ngx_array_push(plcf->intent_fields);
        if (k == NULL) {
            return NGX_CONF_ERROR;
        }

        *k = key;
    }

    return NGX_CONF_OK;
}


/* the members every client may send, never listed */

static ngx_uint_t
ngx_http_pay_intent_always(ngx_str_t *name)
{
    return (name->len == 6 && ngx_strncmp(name->data, "amount", 6) == 0)
           || (name->len == 8
               && (ngx_strncmp(name->data, "currency", 8) == 0
                   || ngx_strncmp(name->data, "provider", 8) == 0));
}


/*
 * pay_intent_set FIELD VALUE: the server's value of a member, which wins
 * over the client's; "metadata.KEY" sets that key.  A value without
 * variables is checked now.
 */

char *
ngx_http_pay_intent_set_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i, nmeta;
    const char                        *reason;
    ngx_http_pay_intent_set_t         *set, *sets;
    ngx_http_compile_complex_value_t   ccv;

    if (plcf->intent_sets == NULL) {
        plcf->intent_sets = ngx_array_create(cf->pool, 4,
                                             sizeof(ngx_http_pay_intent_set_t));
        if (plcf->intent_sets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    set = ngx_array_push(plcf->intent_sets);
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(set, sizeof(ngx_http_pay_intent_set_t));

    set->name = value[1];
    set->field = pay_intent_field((const char *) value[1].data, value[1].len,
                                  &set->key);

    if (set->field == PAY_INTENT_FIELD_NONE
        || (set->field == PAY_INTENT_FIELD_METADATA && set->key.data == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid field \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (set->field == PAY_INTENT_FIELD_METADATA) {
        reason = pay_intent_metadata_key_reason(set->key.data, set->key.len);
        if (reason != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid field \"%V\": metadata %s",
                               &value[1], reason);
            return NGX_CONF_ERROR;
        }
    }

    sets = plcf->intent_sets->elts;
    nmeta = 0;

    for (i = 0; i < plcf->intent_sets->nelts - 1; i++) {
        if (sets[i].name.len == set->name.len
            && ngx_strncmp(sets[i].name.data, set->name.data, set->name.len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is set twice", &value[1]);
            return NGX_CONF_ERROR;
        }

        nmeta += (sets[i].field == PAY_INTENT_FIELD_METADATA);
    }

    if (set->field == PAY_INTENT_FIELD_METADATA
        && nmeta + 1 > PAY_INTENT_METADATA_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d metadata keys",
                           PAY_INTENT_METADATA_MAX);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &set->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (set->value.lengths == NULL) {
        reason = pay_intent_value_reason(set->field,
                                         (const char *) value[2].data,
                                         value[2].len);
        if (reason != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value for \"%V\": %s", &value[1],
                               reason);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* pay_intent_breaker fails=5 cooldown=30s | off */

char *
ngx_http_pay_breaker_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (plcf->breaker_fails != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        plcf->breaker_fails = 0;
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "fails=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            plcf->breaker_fails = n;

        } else if (ngx_strncmp(value[i].data, "cooldown=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            plcf->breaker_cooldown = ngx_parse_time(&s, 0);

            if (plcf->breaker_cooldown == (ngx_msec_t) NGX_ERROR
                || plcf->breaker_cooldown == 0)
            {
                goto invalid;
            }

        } else {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


/* pay_stripe_key / pay_square_token SECRET: "Bearer <secret>", made once */

char *
ngx_http_pay_bearer_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char     *p;
    ngx_str_t  *value, secret, *field;

    field = (ngx_str_t *) ((u_char *) conf + cmd->offset);

    if (field->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_pay_secret_load(cf, &cmd->name, &value[1], &secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    field->len = sizeof("Bearer ") - 1 + secret.len;
    field->data = ngx_pnalloc(cf->pool, field->len);
    if (field->data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(field->data, "Bearer ", sizeof("Bearer ") - 1);
    ngx_memcpy(p, secret.data, secret.len);

    return NGX_CONF_OK;
}


char *
ngx_http_pay_intent_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf)
{
    ngx_int_t                  slot;
    ngx_http_pay_main_conf_t  *pmcf;

    ngx_conf_merge_off_value(conf->intent_max_amount,
                             prev->intent_max_amount, 99999999);
    ngx_conf_merge_msec_value(conf->idem_ttl, prev->idem_ttl,
                              24 * 60 * 60 * 1000);
    ngx_conf_merge_msec_value(conf->idem_lock, prev->idem_lock, 60000);
    ngx_conf_merge_uint_value(conf->breaker_fails, prev->breaker_fails, 5);
    ngx_conf_merge_msec_value(conf->breaker_cooldown, prev->breaker_cooldown,
                              30000);

    if (conf->idem == NGX_CONF_UNSET) {
        conf->idem = prev->idem;
        conf->idem_name = prev->idem_name;
    }

    if (conf->idem_scope == NULL) {
        conf->idem_scope = prev->idem_scope;
    }

    /* both inherited as a whole, like proxy_set_header */

    if (conf->intent_fields == NULL) {
        conf->intent_fields = prev->intent_fields;
        conf->intent_field_bits = prev->intent_field_bits;
    }

    if (conf->intent_sets == NULL) {
        conf->intent_sets = prev->intent_sets;
    }

    ngx_conf_merge_str_value(conf->stripe_api, prev->stripe_api, "");
    ngx_conf_merge_str_value(conf->stripe_auth, prev->stripe_auth, "");
    ngx_conf_merge_str_value(conf->stripe_version, prev->stripe_version, "");
    ngx_conf_merge_str_value(conf->square_api, prev->square_api, "");
    ngx_conf_merge_str_value(conf->square_auth, prev->square_auth, "");
    ngx_conf_merge_str_value(conf->square_location, prev->square_location,
                             "");
    ngx_conf_merge_str_value(conf->square_version, prev->square_version,
                             "2025-01-23");

    if (conf->intent == NULL) {
        return NGX_CONF_OK;
    }

    if (conf->webhook != NGX_HTTP_PAY_PROVIDER_OFF) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_intent\" and \"pay_webhook\" cannot share a "
                      "location");
        return NGX_CONF_ERROR;
    }

    if (conf->idem == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_idempotency off\" in a \"pay_intent\" "
                      "location: an intent is never created without its "
                      "key's claim");
        return NGX_CONF_ERROR;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    if (conf->idem_name.len) {
        conf->idem_store = ngx_http_pay_store_find(pmcf, &conf->idem_name);

        if (conf->idem_store == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_idempotency\" names no \"pay_store\": "
                          "\"%V\"", &conf->idem_name);
            return NGX_CONF_ERROR;
        }

    } else {
        conf->idem_store = ngx_http_pay_store_default(cf, pmcf);
        if (conf->idem_store == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* an intent location: its store is connected in the workers */
    conf->idem_store->used = 1;

    if (ngx_http_pay_api_location(cf, &conf->stripe_api, "pay_stripe_api")
        != NGX_CONF_OK
        || ngx_http_pay_api_location(cf, &conf->square_api, "pay_square_api")
           != NGX_CONF_OK
        || ngx_http_pay_api_location(cf, &conf->paypal_api, "pay_paypal_api")
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->stripe_api.len == 0 && conf->paypal_api.len == 0
        && conf->square_api.len == 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_intent\" needs at least one of "
                      "\"pay_stripe_api\", \"pay_paypal_api\" and "
                      "\"pay_square_api\"");
        return NGX_CONF_ERROR;
    }

    if ((conf->stripe_api.len && conf->stripe_auth.len == 0)
        || (conf->square_api.len && conf->square_auth.len == 0)
        || (conf->paypal_api.len && conf->paypal_basic.len == 0))
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_intent\": a provider API location needs its "
                      "credentials (\"pay_stripe_key\", \"pay_square_token\""
                      ", \"pay_paypal_client\")");
        return NGX_CONF_ERROR;
    }

    if (conf->square_api.len && conf->square_location.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"pay_square_api\" needs \"pay_square_location\"");
        return NGX_CONF_ERROR;
    }

    if (conf->paypal_api.len) {
        /* the token cache of PayPal's verification serves orders too */
        conf->paypal_zone = ngx_http_pay_paypal_cache_zone(cf);
        if (conf->paypal_zone == NULL) {
            return NGX_CONF_ERROR;
        }

        slot = ngx_http_pay_paypal_cache_client(cf, &conf->paypal_api,
                                                &conf->paypal_client_id);
        if (slot == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        conf->paypal_token_slot = slot;
    }

    conf->breaker_zone = ngx_http_pay_breaker_zone(cf);
    if (conf->breaker_zone == NULL) {
        return NGX_CONF_ERROR;
    }

#define ngx_http_pay_intent_breaker(provider, name, api)                      \
    if (api.len) {                                                            \
        slot = ngx_http_pay_breaker_slot(cf, name, &api);                     \
        if (slot == NGX_ERROR) {                                              \
            return NGX_CONF_ERROR;                                            \
        }                                                                     \
        conf->breaker_slot[provider - 1] = slot;                              \
    }

    ngx_http_pay_intent_breaker(PAY_PROVIDER_STRIPE, "stripe",
                                conf->stripe_api);
    ngx_http_pay_intent_breaker(PAY_PROVIDER_PAYPAL, "paypal",
                                conf->paypal_api);
    ngx_http_pay_intent_breaker(PAY_PROVIDER_SQUARE, "square",
                                conf->square_api);

#undef ngx_http_pay_intent_breaker

    return NGX_CONF_OK;
}


/* at request time: what the directives make of each request */


/*
 * What the client may send: amount, currency and provider, and what
 * pay_intent_client_fields adds; fewer metadata keys than the maximum
 * when pay_intent_set sets some.
 */

void
ngx_http_pay_intent_policy(ngx_http_pay_loc_conf_t *plcf,
    pay_intent_policy_t *policy)
{
    ngx_uint_t                  i;
    ngx_http_pay_intent_set_t  *set;

    ngx_memzero(policy, sizeof(pay_intent_policy_t));

    policy->fields = plcf->intent_field_bits;
    policy->metadata_max = PAY_INTENT_METADATA_MAX;

    if (plcf->intent_fields != NULL) {
        policy->metadata_keys = plcf->intent_fields->elts;
        policy->nmetadata_keys = plcf->intent_fields->nelts;
    }

    if (plcf->intent_sets == NULL) {
        return;
    }

    set = plcf->intent_sets->elts;

    for (i = 0; i < plcf->intent_sets->nelts; i++) {
        if (set[i].field == PAY_INTENT_FIELD_METADATA) {
            policy->metadata_max--;
        }
    }
}


/*
 * pay_intent_set: the server's values, evaluated now (after the access
 * phase: $remote_user and auth_request_set's variables are there), checked
 * like a client's, and put over the client's.  A value that breaks a rule
 * is the configuration's fault, not the client's: 500.  NGX_OK, or
 * NGX_DONE: answered.
 */

ngx_int_t
ngx_http_pay_intent_settings(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    pay_rc_e                    rc;
    ngx_str_t                   value;
    ngx_uint_t                  i, n;
    pay_field_errors_t          errs;
    pay_intent_setting_t       *settings;
    pay_idempotency_part_t     *parts;
    ngx_http_pay_intent_set_t  *set;

    if (plcf->intent_sets == NULL || plcf->intent_sets->nelts == 0) {
        return NGX_OK;
    }

    set = plcf->intent_sets->elts;
    n = plcf->intent_sets->nelts;

    settings = ngx_palloc(r->pool, n * sizeof(pay_intent_setting_t));
    parts = ngx_palloc(r->pool, 2 * n * sizeof(pay_idempotency_part_t));

    if (settings == NULL || parts == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_complex_value(r, &set[i].value, &value) != NGX_OK) {
            return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                       "out of memory");
        }

        settings[i].field = set[i].field;
        settings[i].key = set[i].key;
        settings[i].value.data = (const char *) value.data;
        settings[i].value.len = value.len;

        parts[2 * i].data = set[i].name.data;
        parts[2 * i].len = set[i].name.len;
        parts[2 * i + 1].data = value.data;
        parts[2 * i + 1].len = value.len;
    }

    rc = pay_intent_apply(&in->req, settings, n, &errs);

    if (rc == PAY_ERR_VALIDATION_FAILED) {
        for (i = 0; i < errs.n; i++) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pay: pay_intent_set \"%s\" is not valid: %s",
                          errs.items[i].field, errs.items[i].reason);
        }

        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "a value of pay_intent_set is not valid");
    }

    if (rc != PAY_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    in->set_parts = parts;
    in->nset_parts = 2 * n;

    return NGX_OK;
}
