
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine's own types and functions, shared by its three
 * files and by nothing else: the rest of the module knows the engine only
 * as ngx_http_pay_store_redis_engine (ngx_http_pay_store.h).
 *
 *   ngx_http_pay_store_redis_conf.c   pay_store's redis= words, while the
 *                                     configuration is read;
 *   ngx_http_pay_store_redis.c        the engine's table, its operations,
 *                                     per-worker start and exit;
 *   ngx_http_pay_store_redis_command.c  a record per command, sent, timed,
 *                                     its reply decoded into a store
 *                                     result and what follows; the retry
 *                                     list.
 */


#ifndef _NGX_HTTP_PAY_STORE_REDIS_H_INCLUDED_
#define _NGX_HTTP_PAY_STORE_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_store.h"
#include "ngx_http_pay_redis.h"


#define NGX_HTTP_PAY_REDIS_CLAIM          0
#define NGX_HTTP_PAY_REDIS_COMPLETE       1
#define NGX_HTTP_PAY_REDIS_RELEASE        2
#define NGX_HTTP_PAY_REDIS_GET            3
#define NGX_HTTP_PAY_REDIS_ABANDON        4

/* wait=: no WAIT for this long after one found too few replicas */
#define NGX_HTTP_PAY_STORE_REDIS_WAIT_PAUSE  5000


typedef struct ngx_http_pay_store_redis_s  ngx_http_pay_store_redis_t;


typedef struct {
    ngx_queue_t                     queue;      /* in store->records */
    ngx_queue_t                     retry;      /* in store->retry */
    ngx_http_pay_store_redis_t     *store;

    ngx_http_pay_store_op_t        *op;         /* NULL: caller let go */
    ngx_http_pay_store_handler_pt   handler;
    ngx_pool_cleanup_t             *cleanup;    /* on op->pool */

    ngx_event_t                     timer;
    ngx_event_t                     resume;

    ngx_uint_t                      command;
    ngx_msec_t                      start;
    ngx_msec_t                      keep;       /* claim: op->keep */

    ngx_str_t                       key;        /* prefix + key */
    ngx_str_t                       token;      /* "P" + token */
    ngx_str_t                       value;      /* "D" + value, or "U" */
    ngx_str_t                       ttl;        /* milliseconds, decimal */

    unsigned                        sent:1;     /* the connection holds it */
    unsigned                        answered:1; /* op->result is final */
    unsigned                        forget:1;   /* no handler */
    unsigned                        waiting:1;  /* in store->retry */
    unsigned                        warned:1;   /* its retry was logged */
    unsigned                        eval:1;     /* a claim sent as EVAL */
    unsigned                        unclaim:1;  /* releases a lost claim */
    unsigned                        take_over:1; /* a claim found "U" */
    unsigned                        lost:1;     /* wait=: EVAL unanswered */
    unsigned                        no_wait:1;  /* wait=: WAIT not sent */
    unsigned                        probe:1;    /* wait=: the WAIT after a
                                                   pause */
    unsigned                        timed_out:1; /* its line was logged */
    unsigned                        transient:1; /* wait=: EVAL's error */

    ngx_http_pay_store_result_e     evaluated;  /* wait=: EVAL's result */
} ngx_http_pay_store_redis_op_t;


struct ngx_http_pay_store_redis_s {
    ngx_http_pay_redis_t            redis;
    ngx_str_t                       prefix;
    ngx_str_t                       host;       /* of redis=, for TLS */
    ngx_http_pay_redis_tls_t       *tls;        /* tls_*= seen */

    ngx_uint_t                      wait;       /* wait=: replicas */
    ngx_msec_t                      wait_logged; /* its last warning */
    ngx_uint_t                      wait_short; /* not replicated since */
    ngx_msec_t                      wait_paused; /* short WAIT's time */
    unsigned                        wait_pause:1; /* no WAIT until +5 s */
    unsigned                        wait_probe:1; /* its probe is out */

    ngx_queue_t                     records;    /* every live record */
    ngx_queue_t                     retry;      /* owed fire-and-forget */
    ngx_uint_t                      nretry;
    ngx_event_t                     retry_event;

    unsigned                        eval_claim:1;   /* Redis before 7 */
    unsigned                        alerted:1;
    unsigned                        tls_words:1;
    unsigned                        resolve:1;  /* redis= is a name */
};


/* ngx_http_pay_store_redis_conf.c */

char *ngx_http_pay_store_redis_conf(ngx_conf_t *cf,
    ngx_http_pay_store_t *store, ngx_str_t *args, ngx_uint_t nargs);
ngx_int_t ngx_http_pay_store_redis_postconf(ngx_conf_t *cf,
    ngx_http_pay_store_t *store);


/* ngx_http_pay_store_redis_command.c */

ngx_http_pay_store_redis_op_t *ngx_http_pay_store_redis_create(
    ngx_http_pay_store_redis_t *rs, ngx_uint_t command, ngx_str_t *key,
    ngx_str_t *token, ngx_str_t *value, ngx_msec_t ttl, ngx_log_t *log);
ngx_int_t ngx_http_pay_store_redis_send(ngx_http_pay_store_redis_op_t *rop);
void ngx_http_pay_store_redis_free(ngx_http_pay_store_redis_op_t *rop);
void ngx_http_pay_store_redis_retry(ngx_http_pay_store_redis_op_t *rop,
    const char *reason);
/* op->pool's cleanup: the caller lets go of its record */
void ngx_http_pay_store_redis_cancel(void *data);
/* the retry list: its timer, and the connection's "connected" callback */
void ngx_http_pay_store_redis_retry_handler(ngx_event_t *ev);
void ngx_http_pay_store_redis_connected(ngx_http_pay_redis_t *rd);

/* "claim", "complete", ... by command, for logs */
extern const char  *ngx_http_pay_store_redis_commands[];


#endif /* _NGX_HTTP_PAY_STORE_REDIS_H_INCLUDED_ */
