
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
#include "ngx_http_pay_status.h"


/* the operations as counted, in the order of the engine's table */
#define NGX_HTTP_PAY_STORE_OP_CLAIM     0
#define NGX_HTTP_PAY_STORE_OP_COMPLETE  1
#define NGX_HTTP_PAY_STORE_OP_RELEASE   2
#define NGX_HTTP_PAY_STORE_OP_GET       3
#define NGX_HTTP_PAY_STORE_OP_ABANDON   4
#define NGX_HTTP_PAY_STORE_OPS          5
#define NGX_HTTP_PAY_STORE_RESULTS  9       /* the results, then "sent" */
#define NGX_HTTP_PAY_STORE_SENT     8


typedef struct {
    ngx_http_pay_store_engine_t    engine;     /* the wrappers */
    ngx_http_pay_store_engine_t   *real;
    ngx_http_pay_status_series_t  *ops[NGX_HTTP_PAY_STORE_OPS]
                                      [NGX_HTTP_PAY_STORE_RESULTS];
    ngx_http_pay_status_series_t  *seconds[NGX_HTTP_PAY_STORE_OPS];
} ngx_http_pay_store_counted_t;


/* an operation under way: what to give back to the caller's op */
typedef struct {
    ngx_http_pay_store_handler_pt  handler;
    void                          *data;
    ngx_http_pay_store_counted_t  *counted;
    ngx_uint_t                     op;
    ngx_msec_t                     start;      /* microseconds */
} ngx_http_pay_store_timing_t;


static char *ngx_http_pay_store_engine_conf(ngx_conf_t *cf,
    ngx_http_pay_store_t *store, ngx_str_t *args, ngx_uint_t nargs);
static ngx_int_t ngx_http_pay_store_count_one(ngx_conf_t *cf,
    ngx_http_pay_store_t *store);
static ngx_int_t ngx_http_pay_store_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, ngx_uint_t which);
static void ngx_http_pay_store_answered(ngx_http_pay_store_op_t *op);
static void ngx_http_pay_store_counted(ngx_http_pay_store_counted_t *cnt,
    ngx_uint_t which, ngx_uint_t result, ngx_msec_t start);
static ngx_msec_t ngx_http_pay_store_usec(void);
static ngx_int_t ngx_http_pay_store_claim_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_complete_timed(
    ngx_http_pay_store_t *store, ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_release_timed(
    ngx_http_pay_store_t *store, ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_get_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_abandon_timed(
    ngx_http_pay_store_t *store, ngx_http_pay_store_op_t *op);


static const char  *ngx_http_pay_store_op_names[NGX_HTTP_PAY_STORE_OPS] = {
    [NGX_HTTP_PAY_STORE_OP_CLAIM] = "claim",
    [NGX_HTTP_PAY_STORE_OP_COMPLETE] = "complete",
    [NGX_HTTP_PAY_STORE_OP_RELEASE] = "release",
    [NGX_HTTP_PAY_STORE_OP_GET] = "get",
    [NGX_HTTP_PAY_STORE_OP_ABANDON] = "abandon"
};


/* the results each operation can have, by bit (result names' order) */
static ngx_uint_t  ngx_http_pay_store_op_results[NGX_HTTP_PAY_STORE_OPS] = {
    [NGX_HTTP_PAY_STORE_OP_CLAIM] = 0x0c7,    /* new processing done down
                                                 retry */
    [NGX_HTTP_PAY_STORE_OP_COMPLETE] = 0x170, /* ok not_owner down sent */
    [NGX_HTTP_PAY_STORE_OP_RELEASE] = 0x170,
    [NGX_HTTP_PAY_STORE_OP_GET] = 0x0ce,      /* processing done absent down
                                                 retry */
    [NGX_HTTP_PAY_STORE_OP_ABANDON] = 0x170
};


static ngx_uint_t  ngx_http_pay_store_counter;

/* the claim tokens' random half and counter start, drawn once per process */
static ngx_pid_t   ngx_http_pay_store_token_pid;
static uint64_t    ngx_http_pay_store_token_base[2];


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

        name = &(*engine)->alias;

        if (name->len
            && ngx_strncmp(args[0].data, name->data, name->len) == 0
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
ngx_http_pay_store_postconf(ngx_conf_t *cf)
{
    ngx_uint_t                 i;
    ngx_http_pay_store_t     **stores;
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);
    stores = pmcf->stores.elts;

    for (i = 0; i < pmcf->stores.nelts; i++) {
        if (stores[i]->engine->postconf != NULL
            && stores[i]->engine->postconf(cf, stores[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
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
        /* a store no location uses is not connected */
        if (stores[i]->engine->init_process == NULL
            || ngx_http_pay_store_unused(stores[i]))
        {
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
 * 64 random bits drawn once per process, then 64 more drawn with them
 * plus a per-process counter: unique within the process by the counter,
 * across processes and hosts by the 128 random bits they start from.  A
 * token only tells the store which claim owns a record; nobody outside
 * sends one, so it needs to be unique, not unpredictable, and one
 * RAND_bytes() per claim (locks, getpid(), a DRBG) was 2 to 3% of a
 * worker's time under load.  Should the generator fail, the pid, the
 * counter and the time in msec are still unique on a host.
 */

ngx_int_t
ngx_http_pay_store_token(ngx_pool_t *pool, ngx_str_t *token)
{
    u_char      *p;
    uint64_t     rnd[2];
    ngx_time_t  *tp;

    p = ngx_pnalloc(pool, NGX_HTTP_PAY_STORE_TOKEN_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_pay_store_counter++;

    if (ngx_http_pay_store_token_pid != ngx_pid
        && RAND_bytes((u_char *) ngx_http_pay_store_token_base,
                      sizeof(ngx_http_pay_store_token_base)) == 1)
    {
        ngx_http_pay_store_token_pid = ngx_pid;
    }

    if (ngx_http_pay_store_token_pid == ngx_pid) {
        rnd[0] = ngx_http_pay_store_token_base[0];
        rnd[1] = ngx_http_pay_store_token_base[1]
                 + ngx_http_pay_store_counter;

        ngx_hex_dump(p, (u_char *) rnd, sizeof(rnd));

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


/*
 * Counting the stores' operations: each store gets a table of wrappers in
 * front of its engine's, so the features and the engines stay as they
 * are.  An operation answered at once is counted at once; one answered
 * later (Redis) has its handler wrapped, and is counted when the answer
 * comes, timed from the call.  Fire and forget (no handler: completions
 * at the request's end) is counted as "sent", untimed.
 */

ngx_int_t
ngx_http_pay_store_count(ngx_conf_t *cf)
{
    ngx_uint_t                 i;
    ngx_http_pay_store_t     **stores;
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);
    stores = pmcf->stores.elts;

    for (i = 0; i < pmcf->stores.nelts; i++) {
        if (stores[i]->counted == NULL
            && ngx_http_pay_store_count_one(cf, stores[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_store_count_one(ngx_conf_t *cf, ngx_http_pay_store_t *store)
{
    ngx_str_t                      labels[6];
    ngx_uint_t                     op, res;
    ngx_http_pay_store_counted_t  *cnt;

    cnt = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_store_counted_t));
    if (cnt == NULL) {
        return NGX_ERROR;
    }

    cnt->real = store->engine;
    cnt->engine = *store->engine;
    cnt->engine.claim = ngx_http_pay_store_claim_timed;
    cnt->engine.complete = ngx_http_pay_store_complete_timed;
    cnt->engine.release = ngx_http_pay_store_release_timed;
    cnt->engine.get = ngx_http_pay_store_get_timed;
    cnt->engine.abandon = ngx_http_pay_store_abandon_timed;

    ngx_str_set(&labels[0], "store");
    labels[1] = store->name;
    ngx_str_set(&labels[2], "op");
    ngx_str_set(&labels[4], "result");

    for (op = 0; op < NGX_HTTP_PAY_STORE_OPS; op++) {

        labels[3].data = (u_char *) ngx_http_pay_store_op_names[op];
        labels[3].len = ngx_strlen(labels[3].data);

        for (res = 0; res < NGX_HTTP_PAY_STORE_RESULTS; res++) {

            if (!(ngx_http_pay_store_op_results[op] & (1 << res))) {
                continue;
            }

            labels[5].data = (u_char *) ((res == NGX_HTTP_PAY_STORE_SENT)
                                 ? "sent"
                                 : ngx_http_pay_store_result_name(res));
            labels[5].len = ngx_strlen(labels[5].data);

            cnt->ops[op][res] = ngx_http_pay_status_series(cf,
                                    NGX_HTTP_PAY_METRIC_STORE_OPS, labels, 3);
            if (cnt->ops[op][res] == NULL) {
                return NGX_ERROR;
            }
        }

        cnt->seconds[op] = ngx_http_pay_status_series(cf,
                               NGX_HTTP_PAY_METRIC_STORE_SECONDS, labels, 2);
        if (cnt->seconds[op] == NULL) {
            return NGX_ERROR;
        }
    }

    store->counted = cnt;
    store->engine = &cnt->engine;

    return NGX_OK;
}


ngx_uint_t
ngx_http_pay_store_unused(ngx_http_pay_store_t *store)
{
    return !store->used && store->engine->init_process != NULL;
}


ngx_uint_t
ngx_http_pay_store_up(ngx_http_pay_store_t *store)
{
    ngx_http_pay_store_engine_t  *engine;

    engine = store->engine;

    return (engine->up == NULL) ? 1 : engine->up(store);
}


static ngx_int_t
ngx_http_pay_store_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, ngx_uint_t which)
{
    ngx_int_t                      rc;
    ngx_msec_t                     start;
    ngx_http_pay_store_op_pt       fn;
    ngx_http_pay_store_timing_t   *t;
    ngx_http_pay_store_counted_t  *cnt;

    cnt = store->counted;

    switch (which) {
    case NGX_HTTP_PAY_STORE_OP_CLAIM:
        fn = cnt->real->claim;
        break;
    case NGX_HTTP_PAY_STORE_OP_COMPLETE:
        fn = cnt->real->complete;
        break;
    case NGX_HTTP_PAY_STORE_OP_RELEASE:
        fn = cnt->real->release;
        break;
    case NGX_HTTP_PAY_STORE_OP_GET:
        fn = cnt->real->get;
        break;
    default:
        fn = cnt->real->abandon;
        break;
    }

    start = ngx_http_pay_store_usec();
    t = NULL;

    if (op->handler != NULL && op->pool != NULL) {
        t = ngx_palloc(op->pool, sizeof(ngx_http_pay_store_timing_t));

        if (t != NULL) {
            t->handler = op->handler;
            t->data = op->data;
            t->counted = cnt;
            t->op = which;
            t->start = start;

            op->handler = ngx_http_pay_store_answered;
            op->data = t;
        }

    } else if (op->handler == NULL) {
        ngx_http_pay_status_inc(cnt->ops[which][NGX_HTTP_PAY_STORE_SENT]);
        return fn(store, op);
    }

    rc = fn(store, op);

    if (rc == NGX_AGAIN && t != NULL) {
        /* counted in ngx_http_pay_store_answered() */
        return rc;
    }

    if (t != NULL) {
        op->handler = t->handler;
        op->data = t->data;
    }

    if (rc == NGX_OK) {
        ngx_http_pay_store_counted(cnt, which, op->result, start);
    }

    return rc;
}


static void
ngx_http_pay_store_answered(ngx_http_pay_store_op_t *op)
{
    ngx_http_pay_store_timing_t  *t;

    t = op->data;

    op->handler = t->handler;
    op->data = t->data;

    ngx_http_pay_store_counted(t->counted, t->op, op->result, t->start);

    op->handler(op);
}


static void
ngx_http_pay_store_counted(ngx_http_pay_store_counted_t *cnt,
    ngx_uint_t which, ngx_uint_t result, ngx_msec_t start)
{
    if (result < NGX_HTTP_PAY_STORE_SENT) {
        ngx_http_pay_status_inc(cnt->ops[which][result]);
    }

    ngx_http_pay_status_observe(cnt->seconds[which],
                                ngx_http_pay_store_usec() - start);
}


static ngx_msec_t
ngx_http_pay_store_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static ngx_int_t
ngx_http_pay_store_claim_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_timed(store, op,
                                    NGX_HTTP_PAY_STORE_OP_CLAIM);
}


static ngx_int_t
ngx_http_pay_store_complete_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_timed(store, op,
                                    NGX_HTTP_PAY_STORE_OP_COMPLETE);
}


static ngx_int_t
ngx_http_pay_store_release_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_timed(store, op,
                                    NGX_HTTP_PAY_STORE_OP_RELEASE);
}


static ngx_int_t
ngx_http_pay_store_get_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_timed(store, op,
                                    NGX_HTTP_PAY_STORE_OP_GET);
}


static ngx_int_t
ngx_http_pay_store_abandon_timed(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_timed(store, op,
                                    NGX_HTTP_PAY_STORE_OP_ABANDON);
}
