
/*
 * Copyright (C) ngx_pay authors
 *
 * The engine-neutral part of the stores: the pay_store directive, finding
 * a location's store, the engines' per-worker hooks and claim tokens.
 *
 * It knows the engines only through their tables, listed below: it picks
 * one by a store's first word and then calls it only through the table's
 * pointers.  The engines call back into it only for the neutral helpers
 * of ngx_http_pay_store.h (tokens, result names).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "ngx_http_pay_module.h"


static char *ngx_http_pay_store_engine_conf(ngx_conf_t *cf,
    ngx_http_pay_store_t *store, ngx_str_t *args, ngx_uint_t nargs);


static ngx_uint_t  ngx_http_pay_store_counter;


/* a pay_store's first word "NAME=..." picks the engine of that name */

static ngx_http_pay_store_engine_t  *ngx_http_pay_store_engines[] = {
    &ngx_http_pay_store_shm_engine,
    &ngx_http_pay_store_redis_engine,
    NULL
};


/* the words of the implicit store, when the configuration has none */
static ngx_str_t  ngx_http_pay_store_implicit = ngx_string("shm=1m");


/* pay_store NAME ENGINE=... [...]: the words after NAME are the engine's */

char *
ngx_http_pay_store_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_main_conf_t *pmcf = conf;

    char                  *rv;
    ngx_str_t             *value;
    ngx_http_pay_store_t  *store, **sp;

    value = cf->args->elts;

    /* "off" would read as "pay_dedupe off"; a '=' is a forgotten name */

    if (ngx_strcmp(value[1].data, "off") == 0
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '=')
           != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid pay_store name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_pay_store_find(pmcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate pay_store \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_store_t));
    if (store == NULL) {
        return NGX_CONF_ERROR;
    }

    store->name = value[1];
    store->file = cf->conf_file->file.name.data;
    store->line = cf->conf_file->line;

    rv = ngx_http_pay_store_engine_conf(cf, store, &value[2],
                                        cf->args->nelts - 2);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    sp = ngx_array_push(&pmcf->stores);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = store;

    return NGX_CONF_OK;
}


/*
 * The engine named by args[0] ("NAME=...") parses all the words: words
 * from the configuration parser are NUL-terminated.
 */

static char *
ngx_http_pay_store_engine_conf(ngx_conf_t *cf, ngx_http_pay_store_t *store,
    ngx_str_t *args, ngx_uint_t nargs)
{
    char                          *rv;
    ngx_str_t                     *name;
    ngx_http_pay_store_engine_t  **engine;

    for (engine = ngx_http_pay_store_engines; *engine != NULL; engine++) {
        name = &(*engine)->name;

        if (ngx_strncmp(args[0].data, name->data, name->len) == 0
            && args[0].data[name->len] == '=')
        {
            break;
        }
    }

    if (*engine == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &args[0]);
        return NGX_CONF_ERROR;
    }

    rv = (*engine)->conf(cf, store, args, nargs);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    store->engine = *engine;

    return NGX_CONF_OK;
}


ngx_http_pay_store_t *
ngx_http_pay_store_find(ngx_http_pay_main_conf_t *pmcf, ngx_str_t *name)
{
    ngx_uint_t             i;
    ngx_http_pay_store_t  **stores;

    stores = pmcf->stores.elts;

    for (i = 0; i < pmcf->stores.nelts; i++) {
        if (stores[i]->name.len == name->len
            && ngx_strncmp(stores[i]->name.data, name->data, name->len) == 0)
        {
            return stores[i];
        }
    }

    return NULL;
}


ngx_http_pay_store_t *
ngx_http_pay_store_default(ngx_conf_t *cf, ngx_http_pay_main_conf_t *pmcf)
{
    ngx_http_pay_store_t  *store, **sp;

    if (pmcf->default_store != NULL) {
        return pmcf->default_store;
    }

    if (pmcf->default_name.len) {
        store = ngx_http_pay_store_find(pmcf, &pmcf->default_name);

        if (store == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_store_default\" names no \"pay_store\": "
                          "\"%V\"", &pmcf->default_name);
            return NULL;
        }

        pmcf->default_store = store;
        return store;
    }

    if (pmcf->stores.nelts) {
        sp = pmcf->stores.elts;
        pmcf->default_store = sp[0];
        return sp[0];
    }

    /* no pay_store at all: a small zone, so dedupe works out of the box */

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_store_t));
    if (store == NULL) {
        return NULL;
    }

    ngx_str_set(&store->name, "pay_default");

    if (ngx_http_pay_store_engine_conf(cf, store,
                                       &ngx_http_pay_store_implicit, 1)
        != NGX_CONF_OK)
    {
        return NULL;
    }

    sp = ngx_array_push(&pmcf->stores);
    if (sp == NULL) {
        return NULL;
    }

    *sp = store;
    pmcf->default_store = store;

    return store;
}


ngx_int_t
ngx_http_pay_store_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_pay_store_t     **stores;
    ngx_http_pay_main_conf_t  *pmcf;

    /* the cache manager and loader run init_process too */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_pay_module);
    if (pmcf == NULL) {
        return NGX_OK;
    }

    stores = pmcf->stores.elts;

    for (i = 0; i < pmcf->stores.nelts; i++) {
        if (stores[i]->engine->init_process == NULL) {
            continue;
        }

        if (stores[i]->engine->init_process(stores[i], cycle) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ngx_http_pay_store_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_pay_store_t     **stores;
    ngx_http_pay_main_conf_t  *pmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return;
    }

    pmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_pay_module);
    if (pmcf == NULL) {
        return;
    }

    stores = pmcf->stores.elts;

    for (i = 0; i < pmcf->stores.nelts; i++) {
        if (stores[i]->engine->exit_process != NULL) {
            stores[i]->engine->exit_process(stores[i], cycle);
        }
    }
}


/*
 * One line when a store stops answering, one every few seconds while it
 * stays down (with the requests affected so far), one when it answers
 * again: the requests themselves log their 503 at info.  Per worker, to
 * the cycle's log (the outage is no one client's).
 */

void
ngx_http_pay_store_outage(ngx_http_pay_store_t *store,
    ngx_http_pay_store_result_e result)
{
    ngx_http_pay_store_outage_t  *o;

    o = &store->outage;

    if (result != NGX_HTTP_PAY_STORE_DOWN) {

        if (o->down) {
            o->down = 0;

            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "pay_store \"%V\" is available again after "
                          "%M ms, %ui requests affected",
                          &store->name, ngx_current_msec - o->since,
                          o->affected);
        }

        return;
    }

    if (!o->down) {
        o->down = 1;
        o->since = ngx_current_msec;
        o->reported = ngx_current_msec;
        o->affected = 1;

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "pay_store \"%V\" is unavailable: the requests that "
                      "need it get 503 store_unavailable (or are forwarded "
                      "without dedupe under pay_store_fail open) until it "
                      "answers again", &store->name);
        return;
    }

    o->affected++;

    if (ngx_current_msec - o->reported >= NGX_HTTP_PAY_STORE_OUTAGE_EVERY) {
        o->reported = ngx_current_msec;

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "pay_store \"%V\" still unavailable after %M ms, "
                      "%ui requests affected", &store->name,
                      ngx_current_msec - o->since, o->affected);
    }
}


/*
 * 128 random bits; should the generator fail, the pid, a per-process
 * counter and the time in msec are still unique on a host.
 */

ngx_int_t
ngx_http_pay_store_token(ngx_pool_t *pool, ngx_str_t *token)
{
    u_char      *p;
    u_char       rnd[NGX_HTTP_PAY_STORE_TOKEN_LEN / 2];
    ngx_time_t  *tp;

    p = ngx_pnalloc(pool, NGX_HTTP_PAY_STORE_TOKEN_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_pay_store_counter++;

    if (RAND_bytes(rnd, sizeof(rnd)) == 1) {
        ngx_hex_dump(p, rnd, sizeof(rnd));

    } else {
        /* nginx's own SSL calls must not find our error in the queue */
        ERR_clear_error();

        tp = ngx_timeofday();

        ngx_sprintf(p, "%08xD%08xD%016xL", (uint32_t) ngx_pid,
                    (uint32_t) ngx_http_pay_store_counter,
                    (int64_t) tp->sec * 1000 + tp->msec);
    }

    token->data = p;
    token->len = NGX_HTTP_PAY_STORE_TOKEN_LEN;

    return NGX_OK;
}


/*
 * The words of pay_dedupe and pay_idempotency: "NAME|off [ttl=T]
 * [lock=T]".  Sets *on (0: off, 1: the store NAME) and *ttl / *lock when
 * given; "is duplicate" when the directive was seen already.
 */

char *
ngx_http_pay_store_use(ngx_conf_t *cf, ngx_flag_t *on, ngx_str_t *name,
    ngx_msec_t *ttl, ngx_msec_t *lock)
{
    ngx_str_t   *value, *directive, s;
    ngx_msec_t  *msec;
    ngx_uint_t   i;

    if (*on != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    directive = &value[0];

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V off\" takes no parameters", directive);
            return NGX_CONF_ERROR;
        }

        *on = 0;
        return NGX_CONF_OK;
    }

    *on = 1;
    *name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            msec = ttl;
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

        } else if (ngx_strncmp(value[i].data, "lock=", 5) == 0) {
            msec = lock;
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        *msec = ngx_parse_time(&s, 0);

        if (*msec == (ngx_msec_t) NGX_ERROR || *msec == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid time in \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}
