
/*
 * Copyright (C) ngx_pay authors
 *
 * One store interface, two engines (shared memory, Redis).  Webhook dedupe
 * and, later, Idempotency-Key both speak only this interface.
 *
 * A key's record is one of:
 *
 *   absent;
 *   processing(token)  claimed, lock TTL running: one request owns the key;
 *   done(value)        completed, kept for its TTL;
 *   unknown            a claim given up without knowing what the app did
 *                      (webhook dedupe only), kept for its TTL.
 *
 * Operations:
 *
 *   claim     absent -> processing(op->token) for op->ttl; result NEW,
 *             or PROCESSING (op->found = the claim's token) / DONE
 *             (op->found = the value) as found;
 *             unknown -> processing(op->token) for op->ttl, result RETRY;
 *   complete  processing(op->token) -> done(op->value) for op->ttl;
 *             result OK, or NOT_OWNER when the record is not our claim;
 *   release   processing(op->token) -> absent; OK or NOT_OWNER;
 *   abandon   processing(op->token) -> unknown for op->ttl; OK or
 *             NOT_OWNER;
 *   get       result ABSENT, PROCESSING or DONE (op->found as for
 *             claim) or RETRY (unknown), no change.
 *
 * Any engine failure (unreachable, timeout, unexpected reply, no memory in
 * the zone) is result DOWN.
 *
 * Calling convention, for every operation:
 *
 *   - the engine copies whatever it needs from op->key, op->token and
 *     op->value before it returns: the caller may free them afterwards;
 *   - NGX_OK: op->result is set now, op->handler is not called (the shm
 *     engine always answers this way);
 *   - NGX_AGAIN: op->handler(op) will be called exactly once, later, from
 *     the event loop, unless op->pool is destroyed first: the engine
 *     registers a cleanup on op->pool and then never touches op again.
 *     op->found then points into op->pool;
 *   - op->handler == NULL: fire and forget (complete and release when the
 *     request ends): the engine logs a failure itself, then forgets the
 *     operation; op->pool may be NULL;
 *   - op->log serves only during the call: what an engine logs later goes
 *     to ngx_cycle->log, since the request and its connection may be gone.
 *
 * Keys are prefixed by the engine (the store's prefix= for Redis).
 */


#ifndef _NGX_HTTP_PAY_STORE_H_INCLUDED_
#define _NGX_HTTP_PAY_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a claim's owner token: 32 hex digits, unique per claim */
#define NGX_HTTP_PAY_STORE_TOKEN_LEN  32

/* the longest key and completed value an engine must accept */
#define NGX_HTTP_PAY_STORE_KEY_MAX    512
#define NGX_HTTP_PAY_STORE_VALUE_MAX  65536


typedef enum {
    NGX_HTTP_PAY_STORE_NEW = 0,
    NGX_HTTP_PAY_STORE_PROCESSING,
    NGX_HTTP_PAY_STORE_DONE,
    NGX_HTTP_PAY_STORE_ABSENT,
    NGX_HTTP_PAY_STORE_OK,
    NGX_HTTP_PAY_STORE_NOT_OWNER,
    NGX_HTTP_PAY_STORE_DOWN,
    NGX_HTTP_PAY_STORE_RETRY        /* unknown: claimed over it, or found */
} ngx_http_pay_store_result_e;


typedef struct ngx_http_pay_store_s     ngx_http_pay_store_t;
typedef struct ngx_http_pay_store_op_s  ngx_http_pay_store_op_t;

typedef void (*ngx_http_pay_store_handler_pt)(ngx_http_pay_store_op_t *op);


struct ngx_http_pay_store_op_s {
    /* in */
    ngx_str_t                       key;
    ngx_str_t                       token;      /* claim, complete, release */
    ngx_str_t                       value;      /* complete */
    ngx_msec_t                      ttl;        /* claim: lock; complete,
                                                   abandon: kept */
    ngx_msec_t                      keep;       /* claim: how long an
                                                   unknown record it took
                                                   over is kept should the
                                                   claim be lost; 0: no
                                                   unknown records here */

    ngx_http_pay_store_handler_pt   handler;    /* NULL: fire and forget */
    void                           *data;       /* for the handler */
    ngx_pool_t                     *pool;       /* op's lifetime */
    ngx_log_t                      *log;

    /* out */
    ngx_http_pay_store_result_e     result;
    ngx_str_t                       found;      /* DONE: the value;
                                                   PROCESSING: the token */
};


typedef ngx_int_t (*ngx_http_pay_store_op_pt)(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);

/*
 * An engine's configuration: parse the words after the store's name,
 * args[0..nargs) (for example "shm=16m", or "redis=127.0.0.1:6379" "db=1"
 * "timeout=250ms"), into store->data.  NGX_CONF_OK, or NGX_CONF_ERROR
 * after logging a message that names "pay_store", as a directive handler
 * does.
 */
typedef char *(*ngx_http_pay_store_conf_pt)(ngx_conf_t *cf,
    ngx_http_pay_store_t *store, ngx_str_t *args, ngx_uint_t nargs);


/*
 * One engine.  pay_store picks it by its first word, "NAME=...", then
 * lets conf parse all the words and sets store->engine.
 */

typedef struct {
    ngx_str_t                       name;       /* "shm", "redis" */
    ngx_http_pay_store_conf_pt      conf;       /* all the words */

    ngx_http_pay_store_op_pt        claim;
    ngx_http_pay_store_op_pt        complete;
    ngx_http_pay_store_op_pt        release;
    ngx_http_pay_store_op_pt        get;
    ngx_http_pay_store_op_pt        abandon;

    /* per worker: connect (Redis); both may be NULL */
    ngx_int_t                     (*init_process)(ngx_http_pay_store_t *store,
                                                  ngx_cycle_t *cycle);
    void                          (*exit_process)(ngx_http_pay_store_t *store,
                                                  ngx_cycle_t *cycle);

    /* 1 when this worker reaches the store now; NULL: always */
    ngx_uint_t                    (*up)(ngx_http_pay_store_t *store);

    /*
     * once the http block is read (postconfiguration): checks what needs
     * the whole configuration (Redis: a resolver for a host name); NULL:
     * nothing
     */
    ngx_int_t                     (*postconf)(ngx_conf_t *cf,
                                              ngx_http_pay_store_t *store);

    /* another first word that picks the engine ("sentinel"), or empty */
    ngx_str_t                       alias;
} ngx_http_pay_store_engine_t;


/*
 * A store's outage as this worker sees it, from what the features report
 * (ngx_http_pay_store_outage()): logged when it starts, every
 * NGX_HTTP_PAY_STORE_OUTAGE_EVERY while it lasts, and when it ends.
 */
typedef struct {
    ngx_msec_t                      since;      /* its first failure */
    ngx_msec_t                      reported;   /* its last line */
    ngx_uint_t                      affected;   /* requests answered DOWN */
    unsigned                        down:1;
} ngx_http_pay_store_outage_t;

#define NGX_HTTP_PAY_STORE_OUTAGE_EVERY  5000


struct ngx_http_pay_store_s {
    ngx_str_t                       name;
    ngx_http_pay_store_engine_t    *engine;
    void                           *data;       /* the engine's own */
    void                           *counted;    /* its counters, or NULL */

    /* per worker: written only after fork, by that worker */
    ngx_http_pay_store_outage_t     outage;

    /* where pay_store was set, for messages */
    u_char                         *file;
    ngx_uint_t                      line;

    /*
     * a location uses it (a webhook's dedupe, an intent's idempotency):
     * only those are connected in the workers
     */
    unsigned                        used:1;

    /*
     * a completion's answer says the record is durable (Redis wait=): a
     * webhook's answer is held until it comes (ngx_http_pay_handler.c)
     */
    unsigned                        confirms:1;
};


/* a PayPal webhook id and the store that binds its transmissions */
typedef struct {
    ngx_str_t                       webhook_id;
    ngx_http_pay_store_t           *store;
    u_char                         *file;
    ngx_uint_t                      line;
} ngx_http_pay_paypal_binding_t;


typedef struct {
    ngx_array_t                     stores;     /* of ngx_http_pay_store_t * */
    ngx_str_t                       default_name;  /* pay_store_default */
    ngx_http_pay_store_t           *default_store; /* resolved on need */

    /* of ngx_http_core_loc_conf_t *: locations calling with credentials */
    ngx_array_t                    *credential_locations;

    /* of ngx_http_pay_paypal_binding_t: one store per webhook id */
    ngx_array_t                    *paypal_bindings;

    /* of ngx_http_pay_dedupe_ns_t: default namespaces, one location each */
    ngx_array_t                    *dedupe_namespaces;

    /* the counters (ngx_http_pay_status.c) and pay_status_zone's size */
    void                           *status;
    size_t                          status_size;
} ngx_http_pay_main_conf_t;


/*
 * Each engine exports its table.  Only the list in ngx_http_pay_store.c
 * names them; the rest of the module reaches an engine through
 * store->engine.
 */
extern ngx_http_pay_store_engine_t  ngx_http_pay_store_shm_engine;
extern ngx_http_pay_store_engine_t  ngx_http_pay_store_redis_engine;


/* ngx_http_pay_store.c */

/* "pay_store NAME ENGINE=... ...": adds a store to pmcf->stores */
char *ngx_http_pay_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* pay_dedupe's and pay_idempotency's "NAME|off [ttl=T] [lock=T]" */
char *ngx_http_pay_store_use(ngx_conf_t *cf, ngx_flag_t *on, ngx_str_t *name,
    ngx_msec_t *ttl, ngx_msec_t *lock);

/* by name, NULL when there is none (call after the http block is parsed) */
ngx_http_pay_store_t *ngx_http_pay_store_find(ngx_http_pay_main_conf_t *pmcf,
    ngx_str_t *name);

/*
 * The store of locations that name none: pay_store_default, else the first
 * pay_store, else an implicit "pay_default shm=1m", created on first need.
 */
ngx_http_pay_store_t *ngx_http_pay_store_default(ngx_conf_t *cf,
    ngx_http_pay_main_conf_t *pmcf);

/* every store's engine postconf, at postconfiguration */
ngx_int_t ngx_http_pay_store_postconf(ngx_conf_t *cf);

/* every store's engine init_process / exit_process, in worker processes */
ngx_int_t ngx_http_pay_store_init_process(ngx_cycle_t *cycle);
void ngx_http_pay_store_exit_process(ngx_cycle_t *cycle);

/*
 * What one request's operation answered, for the outage log: DOWN starts
 * or continues an outage, any other result ends it
 */
void ngx_http_pay_store_outage(ngx_http_pay_store_t *store,
    ngx_http_pay_store_result_e result);

/*
 * At postconfiguration, with the counters on: every store's operations
 * are counted and timed (ngx_pay_store_operations_total,
 * ngx_pay_store_seconds) by a table of wrappers put in front of its
 * engine's.
 */
ngx_int_t ngx_http_pay_store_count(ngx_conf_t *cf);

/*
 * 1 when no location uses a store that would be connected (Redis): the
 * workers leave it alone, health says "unused", it has no up gauge
 */
ngx_uint_t ngx_http_pay_store_unused(ngx_http_pay_store_t *store);

/* 1 when this worker reaches the store now (ngx_pay_store_up, health) */
ngx_uint_t ngx_http_pay_store_up(ngx_http_pay_store_t *store);

/* a fresh claim token of NGX_HTTP_PAY_STORE_TOKEN_LEN hex digits */
ngx_int_t ngx_http_pay_store_token(ngx_pool_t *pool, ngx_str_t *token);

/*
 * "new", "processing", "done", ... for debug logs; inline, so the engines
 * and the features name results without calling into the neutral part
 */
static ngx_inline const char *
ngx_http_pay_store_result_name(ngx_http_pay_store_result_e rc)
{
    static const char  *names[] = {
        "new", "processing", "done", "absent", "ok", "not_owner", "down",
        "retry"
    };

    if ((ngx_uint_t) rc < sizeof(names) / sizeof(names[0])) {
        return names[rc];
    }

    return "unknown";
}


#endif /* _NGX_HTTP_PAY_STORE_H_INCLUDED_ */
