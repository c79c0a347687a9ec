
/*
 * Copyright (C) ngx_pay authors
 *
 * Webhook deduplication (docs/operations.md): providers deliver at least once,
 * the app behind nginx should see each event once.
 *
 * After the signature holds, the access handler claims
 * "webhook:<namespace>:<provider>:<event id>" in the location's store for
 * the lock time.  The namespace keeps endpoints apart: Stripe sends the
 * same event id to every endpoint subscribed to it, and a second endpoint
 * must not find the first one's record.  By default it is the server's
 * name and the location's (the same on every node given the same
 * configuration, and across reloads); pay_dedupe ... namespace= shares
 * one on purpose.
 *
 * A fresh claim goes on to proxy_pass; when the request ends, the
 * context's pool cleanup completes the claim (kept for the ttl) if the app
 * answered 2xx, and releases it when the app answered something else or
 * never got the request, so the provider's retry gets through.  When the
 * request went to the app and no answer came back (an upstream timeout or
 * reset, a client that went away), nobody knows whether the app acted on
 * it: the claim is abandoned to an "unknown" record for the ttl, and the
 * next delivery's claim takes it over and is forwarded with $pay_dedupe
 * "retry", so the app can check its own records in exactly that case
 * (core/pay_dedupe.c decides).  Completion, abandon and release act only
 * on our own claim (its token), so a claim whose lock expired never
 * overwrites a newer one.
 *
 * A claim that finds the event done is answered 200 here and not
 * forwarded; one that finds it being processed gets 409; a store that
 * cannot answer gets 503 (pay_store_fail closed) or the event is forwarded
 * unguarded (open).  Every answer other than a forward carries Retry-After
 * where a retry makes sense.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_dedupe.h"
#include "pay_dedupe.h"


/* upstream attempts looked at one by one when a request ends */
#define NGX_HTTP_PAY_DEDUPE_ATTEMPTS    16

/* what a store outage asks the provider to wait before retrying */
#define NGX_HTTP_PAY_STORE_RETRY_AFTER  5


/* a default namespace in use, for nginx -t to find two alike */
typedef struct {
    ngx_str_t                  ns;
    ngx_uint_t                 provider;
    ngx_http_pay_store_t      *store;
    ngx_str_t                  location;
} ngx_http_pay_dedupe_ns_t;


static char *ngx_http_pay_dedupe_unique_ns(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *conf);
static char *ngx_http_pay_dedupe_namespace_conf(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *plcf);
static char *ngx_http_pay_dedupe_default_ns(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *prev, ngx_http_pay_loc_conf_t *conf);
static ngx_str_t *ngx_http_pay_dedupe_server_text(ngx_conf_t *cf);
static ngx_int_t ngx_http_pay_dedupe_namespace(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_str_t *ns);
static void ngx_http_pay_dedupe_claimed(ngx_http_pay_store_op_t *op);
static pay_dedupe_outcome_e ngx_http_pay_dedupe_outcome(
    ngx_http_request_t *r);


static ngx_str_t  ngx_http_pay_duplicate_json =
    ngx_string("{\"received\":true,\"duplicate\":true}\n");


/* pay_dedupe NAME|off [ttl=72h] [lock=60s] [namespace=STRING] */

char *
ngx_http_pay_dedupe_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_pay_loc_conf_t *plcf = conf;

    char  *rv;

    if (plcf->dedupe != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    rv = ngx_http_pay_dedupe_namespace_conf(cf, plcf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_pay_store_use(cf, &plcf->dedupe, &plcf->dedupe_name,
                                  &plcf->dedupe_ttl, &plcf->dedupe_lock);
}


/*
 * Takes "namespace=" out of the directive's words, so that the parser the
 * stores share sees only its own; "pay_dedupe off namespace=" is left to
 * it to refuse.
 */

static char *
ngx_http_pay_dedupe_namespace_conf(ngx_conf_t *cf,
    ngx_http_pay_loc_conf_t *plcf)
{
    ngx_str_t                         *value, s;
    ngx_uint_t                         i, j;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "namespace=", 10) != 0) {
            continue;
        }

        if (plcf->dedupe_namespace != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        /*
         * inherited, one namespace would join every endpoint below: the
         * same event id sent to two of them would reach only one app
         */
        if (!(cf->cmd_type & NGX_HTTP_LOC_CONF)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is only allowed in a location: "
                               "every webhook location below would share "
                               "it", &value[i]);
            return NGX_CONF_ERROR;
        }

        s.data = value[i].data + 10;
        s.len = value[i].len - 10;

        if (s.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty namespace in \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        plcf->dedupe_namespace = ngx_palloc(cf->pool,
                                            sizeof(ngx_http_complex_value_t));
        if (plcf->dedupe_namespace == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = plcf->dedupe_namespace;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        for (j = i + 1; j < cf->args->nelts; j++) {
            value[j - 1] = value[j];
        }

        cf->args->nelts--;
        i--;
    }

    return NGX_CONF_OK;
}


/*
 * Inherits pay_dedupe as a whole (a store and its times go together) and,
 * in a webhook location, finds the store: the named one, or the default.
 */

char *
ngx_http_pay_dedupe_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf)
{
    ngx_http_pay_main_conf_t  *pmcf;

    if (conf->dedupe == NGX_CONF_UNSET) {
        conf->dedupe = prev->dedupe;
        conf->dedupe_name = prev->dedupe_name;
        conf->dedupe_ttl = prev->dedupe_ttl;
        conf->dedupe_lock = prev->dedupe_lock;
        conf->dedupe_namespace = prev->dedupe_namespace;
    }

    if (conf->dedupe == NGX_CONF_UNSET) {
        conf->dedupe = 1;
    }

    if (conf->dedupe_ttl == NGX_CONF_UNSET_MSEC) {
        conf->dedupe_ttl = 72 * 60 * 60 * 1000;
    }

    if (conf->dedupe_lock == NGX_CONF_UNSET_MSEC) {
        conf->dedupe_lock = 60 * 1000;
    }
    ngx_conf_merge_uint_value(conf->store_fail_open, prev->store_fail_open,
                              0);

    if (!conf->dedupe) {
        return NGX_CONF_OK;
    }

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    /* a misspelt store fails nginx -t wherever it is written */

    if (conf->dedupe_name.len) {
        conf->dedupe_store = ngx_http_pay_store_find(pmcf,
                                                     &conf->dedupe_name);

        if (conf->dedupe_store == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_dedupe\" names no \"pay_store\": \"%V\"",
                          &conf->dedupe_name);
            return NGX_CONF_ERROR;
        }

    } else if (conf->webhook != NGX_HTTP_PAY_PROVIDER_OFF) {

        /* only a webhook location needs the default (it may be made now) */

        conf->dedupe_store = ngx_http_pay_store_default(cf, pmcf);

        if (conf->dedupe_store == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->webhook == NGX_HTTP_PAY_PROVIDER_OFF) {
        return NGX_CONF_OK;
    }

    /* a webhook location: its store is connected in the workers */
    conf->dedupe_store->used = 1;

    if (conf->dedupe_namespace != NULL) {
        return NGX_CONF_OK;
    }

    return ngx_http_pay_dedupe_default_ns(cf, prev, conf);
}


/*
 * The default namespace, made once per location: the server's first
 * server_name (its smallest listen address when that is ""), the
 * location's modifier ("=", "^~", "~" for both regex kinds, nothing for
 * a prefix) and its name, through pay_dedupe_namespace(); an "if" in the
 * location keeps the location's.  Nothing in it
 * depends on the order of locations or on the time: a reload, a restart
 * or another node with the same configuration makes the same.
 */

static char *
ngx_http_pay_dedupe_default_ns(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                 *server;
    const char                *modifier;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* "if" and limit_except blocks carry their location's name only */
    if (clcf->noname && prev->dedupe_default_ns.len) {
        conf->dedupe_default_ns = prev->dedupe_default_ns;
        return NGX_CONF_OK;
    }

    server = ngx_http_pay_dedupe_server_text(cf);

    if (clcf->exact_match) {
        modifier = "=";

    } else if (clcf->noregex) {
        modifier = "^~";

#if (NGX_PCRE)
    } else if (clcf->regex) {
        modifier = "~";
#endif

    } else {
        modifier = "";
    }

    len = server->len + ngx_strlen(modifier) + clcf->name.len;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_sprintf(p, "%V%s%V", server, modifier, &clcf->name);

    conf->dedupe_default_ns.data = ngx_pnalloc(cf->pool,
                                               PAY_DEDUPE_NAMESPACE_MAX + 1);
    if (conf->dedupe_default_ns.data == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->dedupe_default_ns.len = pay_dedupe_namespace(p, len,
                                      (char *) conf->dedupe_default_ns.data);

    if (conf->dedupe_default_ns.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_dedupe: could not hash the namespace");
        return NGX_CONF_ERROR;
    }

    return ngx_http_pay_dedupe_unique_ns(cf, conf);
}


/*
 * Two webhook locations of one provider and store whose defaults are
 * alike (servers with the same first name on two ports, a regex nested
 * under two prefixes) would share records by accident: nginx -t fails and
 * says how to share on purpose, or not at all.
 */

static char *
ngx_http_pay_dedupe_unique_ns(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *conf)
{
    ngx_uint_t                  i;
    ngx_http_pay_dedupe_ns_t   *ns;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_pay_main_conf_t   *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (pmcf->dedupe_namespaces == NULL) {
        pmcf->dedupe_namespaces = ngx_array_create(cf->pool, 8,
                                      sizeof(ngx_http_pay_dedupe_ns_t));
        if (pmcf->dedupe_namespaces == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ns = pmcf->dedupe_namespaces->elts;

    for (i = 0; i < pmcf->dedupe_namespaces->nelts; i++) {
        if (ns[i].provider == conf->webhook
            && ns[i].store == conf->dedupe_store
            && ns[i].ns.len == conf->dedupe_default_ns.len
            && ngx_memcmp(ns[i].ns.data, conf->dedupe_default_ns.data,
                          ns[i].ns.len)
               == 0)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"pay_dedupe\": the locations \"%V\" and \"%V\" "
                          "have the same default namespace \"%V\" and "
                          "would share records: set \"namespace=\" in "
                          "each (the same value to share on purpose)",
                          &ns[i].location, &clcf->name, &ns[i].ns);
            return NGX_CONF_ERROR;
        }
    }

    ns = ngx_array_push(pmcf->dedupe_namespaces);
    if (ns == NULL) {
        return NGX_CONF_ERROR;
    }

    ns->ns = conf->dedupe_default_ns;
    ns->provider = conf->webhook;
    ns->store = conf->dedupe_store;
    ns->location = clcf->name;

    return NGX_CONF_OK;
}


static ngx_str_t *
ngx_http_pay_dedupe_server_text(ngx_conf_t *cf)
{
    ngx_str_t                  *best;
    ngx_uint_t                  i, j, k;
    ngx_http_conf_port_t       *port;
    ngx_http_conf_addr_t       *addr;
    ngx_http_server_name_t     *sn;
    ngx_http_core_srv_conf_t   *cscf, **servers;
    ngx_http_core_main_conf_t  *cmcf;

    static ngx_str_t  none = ngx_null_string;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    if (cscf->server_names.nelts) {
        sn = cscf->server_names.elts;

        if (sn[0].name.len) {
            return &sn[0].name;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    best = &none;

    if (cmcf->ports == NULL) {
        return best;
    }

    port = cmcf->ports->elts;

    for (i = 0; i < cmcf->ports->nelts; i++) {

        addr = port[i].addrs.elts;

        for (j = 0; j < port[i].addrs.nelts; j++) {

            servers = addr[j].servers.elts;

            for (k = 0; k < addr[j].servers.nelts; k++) {

                if (servers[k] != cscf) {
                    continue;
                }

                if (best->len == 0
                    || ngx_memn2cmp(addr[j].opt.addr_text.data, best->data,
                                    addr[j].opt.addr_text.len, best->len)
                       < 0)
                {
                    best = &addr[j].opt.addr_text;
                }
            }
        }
    }

    return best;
}


/*
 * Claims the verified event.  NGX_DECLINED: forward it; NGX_DONE: the
 * answer has been sent, or the store answers later and resumes the phases.
 */

ngx_int_t
ngx_http_pay_dedupe_claim(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    u_char                   *p;
    size_t                    len;
    ngx_int_t                 rc;
    ngx_str_t                 ns;
    const char               *provider;
    ngx_http_pay_store_t     *store;
    ngx_http_pay_store_op_t  *op;

    store = plcf->dedupe_store;

    if (store == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_pay_dedupe_namespace(r, plcf, &ns) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL,
                                   "no dedupe namespace");
    }

    op = &ctx->claim;
    provider = pay_provider_name(ctx->provider);

    len = sizeof("webhook:::") - 1 + ns.len + ngx_strlen(provider)
          + ctx->event_id.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    op->key.data = p;
    op->key.len = ngx_sprintf(p, "webhook:%V:%s:%V", &ns, provider,
                              &ctx->event_id)
                  - p;

    if (ngx_http_pay_store_token(r->pool, &op->token) != NGX_OK) {
        return ngx_http_pay_reject(r, ctx, PAY_ERR_INTERNAL, "out of memory");
    }

    op->ttl = plcf->dedupe_lock;
    op->keep = plcf->dedupe_ttl;
    op->handler = ngx_http_pay_dedupe_claimed;
    op->data = ctx;
    op->pool = r->pool;
    op->log = r->connection->log;

    ctx->store = store;
    ctx->dedupe_ttl = plcf->dedupe_ttl;
    ctx->state = NGX_HTTP_PAY_STATE_CLAIM;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay dedupe claim \"%V\" in \"%V\"", &op->key,
                   &store->name);

    rc = store->engine->claim(store, op);

    if (rc == NGX_AGAIN) {
        /* ngx_http_pay_dedupe_claimed() runs the phases again */
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        op->result = NGX_HTTP_PAY_STORE_DOWN;
    }

    ctx->state = NGX_HTTP_PAY_STATE_CLAIMED;

    return ngx_http_pay_dedupe_decide(r, plcf, ctx);
}


/* namespace= evaluated for this request, or the location's default */

static ngx_int_t
ngx_http_pay_dedupe_namespace(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_str_t *ns)
{
    ngx_str_t  v;

    if (plcf->dedupe_namespace == NULL) {
        *ns = plcf->dedupe_default_ns;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, plcf->dedupe_namespace, &v) != NGX_OK) {
        return NGX_ERROR;
    }

    ns->data = ngx_pnalloc(r->pool, PAY_DEDUPE_NAMESPACE_MAX + 1);
    if (ns->data == NULL) {
        return NGX_ERROR;
    }

    ns->len = pay_dedupe_namespace(v.data, v.len, (char *) ns->data);

    return ns->len ? NGX_OK : NGX_ERROR;
}


/* the store's later answer: posted by the engine, not from its callback */

static void
ngx_http_pay_dedupe_claimed(ngx_http_pay_store_op_t *op)
{
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_log_ctx_t    *lctx;
    ngx_http_pay_ctx_t    *ctx;

    ctx = op->data;
    r = ctx->request;
    c = r->connection;

    lctx = c->log->data;
    lctx->current_request = r;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "pay dedupe claim answered: %s",
                   ngx_http_pay_store_result_name(op->result));

    ctx->state = NGX_HTTP_PAY_STATE_CLAIMED;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* acts on the claim's answer: the same rules whenever it arrived */

ngx_int_t
ngx_http_pay_dedupe_decide(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx)
{
    const char  *provider;

    provider = pay_provider_name(ctx->provider);

    ngx_http_pay_store_outage(ctx->store, ctx->claim.result);

    switch (ctx->claim.result) {

    case NGX_HTTP_PAY_STORE_NEW:
        ctx->claimed = 1;
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_NEW;
        return NGX_DECLINED;

    case NGX_HTTP_PAY_STORE_RETRY:
        ctx->claimed = 1;
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_RETRY;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: %s event \"%V\" forwarded as a retry: what the "
                      "app did with an earlier delivery is unknown",
                      provider, &ctx->event_id);

        return NGX_DECLINED;

    case NGX_HTTP_PAY_STORE_DONE:
        /* not an error: $pay_error stays empty, $pay_dedupe says it */
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_DUPLICATE;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: %s duplicate: event \"%V\" was delivered "
                      "already", provider, &ctx->event_id);

        return ngx_http_pay_answer(r, ctx, NGX_HTTP_OK,
                                   &ngx_http_pay_duplicate_json);

    case NGX_HTTP_PAY_STORE_PROCESSING:
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_IN_FLIGHT;

        return ngx_http_pay_reject_retry(r, ctx, PAY_ERR_IN_FLIGHT,
                                         "the event is being processed "
                                         "by another delivery",
                                         (time_t) (plcf->dedupe_lock + 999)
                                         / 1000);

    default: /* NGX_HTTP_PAY_STORE_DOWN */
        break;
    }

    if (plcf->store_fail_open) {
        ctx->dedupe = NGX_HTTP_PAY_DEDUPE_BYPASS;

        /* the outage itself is logged once, by ngx_http_pay_store_outage() */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: %s event \"%V\" forwarded without dedupe: "
                      "pay_store \"%V\" is unavailable (pay_store_fail open)",
                      provider, &ctx->event_id, &ctx->store->name);

        return NGX_DECLINED;
    }

    return ngx_http_pay_reject_retry(r, ctx, PAY_ERR_STORE_UNAVAILABLE,
                                     "the dedupe store is unavailable",
                                     NGX_HTTP_PAY_STORE_RETRY_AFTER);
}


/*
 * wait=: the completion as the app's answer arrives, so that a record
 * saying "done" is on the replicas before the provider hears the answer
 * (docs/operations.md#durability).  Only an answer that completes the
 * claim waits: a release or an abandon loses nothing the provider's
 * retry does not bring back.  A store that answers at once (not
 * connected) does not hold the answer: the claim is settled when the
 * request ends, and the engine owes the completion to Redis.
 */

ngx_int_t
ngx_http_pay_dedupe_confirm(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_store_handler_pt handler)
{
    u_char                   *status;
    ngx_http_pay_store_op_t  *op;

    if (!ctx->claimed || !ctx->store->confirms) {
        return NGX_DECLINED;
    }

    if (pay_dedupe_settle(ngx_http_pay_dedupe_outcome(r),
                          ctx->dedupe == NGX_HTTP_PAY_DEDUPE_RETRY)
        != PAY_DEDUPE_COMPLETE)
    {
        return NGX_DECLINED;
    }

    status = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (status == NULL) {
        return NGX_DECLINED;
    }

    op = &ctx->confirm;
    ngx_memzero(op, sizeof(ngx_http_pay_store_op_t));

    op->key = ctx->claim.key;
    op->token = ctx->claim.token;
    op->value.data = status;
    op->value.len = ngx_sprintf(status, "%ui", r->headers_out.status)
                    - status;
    op->ttl = ctx->dedupe_ttl;
    op->handler = handler;
    op->data = ctx;
    op->pool = r->pool;
    op->log = r->connection->log;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay dedupe complete \"%V\", the answer waits",
                   &op->key);

    if (ctx->store->engine->complete(ctx->store, op) != NGX_AGAIN) {
        return NGX_DECLINED;
    }

    /* the completion is the engine's now, whatever comes of the request */
    ctx->claimed = 0;

    return NGX_AGAIN;
}


/*
 * The store's answer to that completion.  DOWN (no reply in time, the
 * connection lost) was logged by the engine, which owes the completion
 * to Redis; a claim that is not ours any more is logged here.  Either
 * way the app's answer goes out: the app has the event.
 */

void
ngx_http_pay_dedupe_confirmed(ngx_http_pay_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    r = ctx->request;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay dedupe completion answered: %s",
                   ngx_http_pay_store_result_name(ctx->confirm.result));

    if (ctx->confirm.result == NGX_HTTP_PAY_STORE_NOT_OWNER) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "pay: %s event \"%V\": its claim in \"%V\" is no "
                      "longer ours (lock expired?), not completed",
                      pay_provider_name(ctx->provider), &ctx->event_id,
                      &ctx->store->name);
    }
}


/*
 * Called once as the request is freed (the context's pool cleanup): what
 * came of the request decides between complete, release and abandon.
 * Fire and forget: the engine copies what it needs and logs its own
 * failures.
 */

void
ngx_http_pay_dedupe_finish(ngx_http_pay_ctx_t *ctx)
{
    u_char                    status[NGX_INT_T_LEN];
    const char               *provider;
    ngx_http_request_t       *r;
    pay_dedupe_settle_e       settle;
    pay_dedupe_outcome_e      outcome;
    ngx_http_pay_store_op_t   op;

    if (!ctx->claimed) {
        return;
    }

    ctx->claimed = 0;
    r = ctx->request;

    ngx_memzero(&op, sizeof(ngx_http_pay_store_op_t));

    op.key = ctx->claim.key;
    op.token = ctx->claim.token;
    op.log = r->connection->log;

    outcome = ngx_http_pay_dedupe_outcome(r);
    settle = pay_dedupe_settle(outcome,
                               ctx->dedupe == NGX_HTTP_PAY_DEDUPE_RETRY);

    switch (settle) {

    case PAY_DEDUPE_COMPLETE:
        op.value.data = status;
        op.value.len = ngx_sprintf(status, "%ui", r->headers_out.status)
                       - status;
        op.ttl = ctx->dedupe_ttl;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay dedupe complete \"%V\"", &op.key);

        (void) ctx->store->engine->complete(ctx->store, &op);
        break;

    case PAY_DEDUPE_ABANDON:
        op.ttl = ctx->dedupe_ttl;
        provider = pay_provider_name(ctx->provider);

        if (outcome == PAY_DEDUPE_UNKNOWN) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "pay: %s event \"%V\" went to the app and no "
                          "answer came back, status %ui: the next delivery "
                          "is forwarded as a retry", provider,
                          &ctx->event_id, r->headers_out.status);

        } else {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "pay dedupe retry failed \"%V\", status %ui",
                           &op.key, r->headers_out.status);
        }

        (void) ctx->store->engine->abandon(ctx->store, &op);
        break;

    default: /* PAY_DEDUPE_RELEASE */
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "pay dedupe release \"%V\", status %ui", &op.key,
                       r->headers_out.status);

        (void) ctx->store->engine->release(ctx->store, &op);
        break;
    }
}


/*
 * The upstream attempts as core/pay_dedupe.c sees them.  An attempt was
 * answered when its response header was read (header_time is set then).
 * The last attempt was sent when its request_sent flag says so; for an
 * earlier one (proxy_next_upstream non_idempotent) only the connection
 * time is left, so a connection that was up counts as sent: a needless
 * "retry" flag costs the app one lookup, a missing one a double delivery.
 *
 * The request pool is being destroyed (r->pool is NULL): the attempts go
 * on the stack, and beyond NGX_HTTP_PAY_DEDUPE_ATTEMPTS the middle ones
 * are folded into the first slot, which only has to say whether any of
 * them went unanswered.
 */

static pay_dedupe_outcome_e
ngx_http_pay_dedupe_outcome(ngx_http_request_t *r)
{
    ngx_uint_t                  i, k, n;
    pay_dedupe_attempt_t        a[NGX_HTTP_PAY_DEDUPE_ATTEMPTS], one;
    ngx_http_upstream_state_t  *state;

    n = (r->upstream_states != NULL) ? r->upstream_states->nelts : 0;
    state = (n != 0) ? r->upstream_states->elts : NULL;

    k = 0;

    for (i = 0; i < n; i++) {
        one.answered = (state[i].header_time != (ngx_msec_t) -1);
        one.status = (int) state[i].status;
        one.sent = (state[i].connect_time != (ngx_msec_t) -1);

        if (i == n - 1 && r->upstream != NULL) {
            one.sent = r->upstream->request_sent;
        }

        if (k < NGX_HTTP_PAY_DEDUPE_ATTEMPTS - 1 || i == n - 1) {
            a[k++] = one;
            continue;
        }

        if (one.sent && !one.answered) {
            a[0] = one;
        }
    }

    return pay_dedupe_outcome((int) r->headers_out.status, a, k);
}
