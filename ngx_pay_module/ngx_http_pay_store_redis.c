
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine (docs/operations.md).  A record is the string key
 * prefix + key holding "P" + token (processing), "D" + value (done) or
 * "U" (unknown), see core/pay_record.h:
 *
 *   claim     SET k P<token> NX PX <lock> GET, one round trip on Redis 7;
 *             older Redis rejects NX with GET as a syntax error, and the
 *             store then claims with an EVAL of GET-else-SET for good;
 *             a "U" found is taken over by that EVAL (a second round
 *             trip, only then), which SETs over "U" as over nothing;
 *   complete  EVAL: if k holds P<token>, SET k D<value> PX <ttl>;
 *   abandon   the same script: if k holds P<token>, SET k U PX <ttl>;
 *   release   EVAL: if k holds P<token>, DEL k;
 *   get       GET k.
 *
 * Every operation is a record allocated outside the caller's pool, held by
 * two sides and freed when both let go:
 *
 *   - the connection, from the command until its callback, which runs exactly
 *     once (with a NULL reply when the connection goes);
 *   - the caller, until op->handler is called (from a posted event, never
 *     from inside a reply) or op->pool is destroyed (its cleanup detaches
 *     the record).
 *
 * A timer per command answers DOWN early when Redis is slow, then drops
 * the connection: after a lost reply its state is unknown, and the NULL
 * callbacks that follow free what the timer left.
 *
 * Fire-and-forget complete, abandon and release (op->handler NULL) that
 * get no answer wait in a small per-worker list and are sent again once
 * Redis is back: a lost complete would let the provider's next retry
 * through, a lost abandon would let it through unflagged.  Sending again
 * is always safe, as all three compare the owner token in Redis.  One
 * with a handler (a held webhook answer's completion, an intent's record)
 * goes on that way once its caller lets go or is answered DOWN.
 *
 * This file holds the engine's table, its five operations and each
 * worker's start and exit.  The pay_store words are parsed in
 * ngx_http_pay_store_redis_conf.c; the commands, their replies and the
 * retry list are ngx_http_pay_store_redis_command.c's; the connection
 * itself is ngx_http_pay_redis.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_store_redis.h"




static ngx_int_t ngx_http_pay_store_redis_claim(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_redis_complete(
    ngx_http_pay_store_t *store, ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_redis_release(
    ngx_http_pay_store_t *store, ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_redis_get(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_redis_abandon(
    ngx_http_pay_store_t *store, ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_redis_init_process(
    ngx_http_pay_store_t *store, ngx_cycle_t *cycle);
static void ngx_http_pay_store_redis_exit_process(
    ngx_http_pay_store_t *store, ngx_cycle_t *cycle);
static ngx_uint_t ngx_http_pay_store_redis_up(ngx_http_pay_store_t *store);

static ngx_int_t ngx_http_pay_store_redis_start(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, ngx_uint_t command);
static ngx_int_t ngx_http_pay_store_redis_forget(
    ngx_http_pay_store_redis_t *rs, ngx_http_pay_store_op_t *op,
    ngx_uint_t command);


ngx_http_pay_store_engine_t  ngx_http_pay_store_redis_engine = {
    ngx_string("redis"),
    ngx_http_pay_store_redis_conf,
    ngx_http_pay_store_redis_claim,
    ngx_http_pay_store_redis_complete,
    ngx_http_pay_store_redis_release,
    ngx_http_pay_store_redis_get,
    ngx_http_pay_store_redis_abandon,
    ngx_http_pay_store_redis_init_process,
    ngx_http_pay_store_redis_exit_process,
    ngx_http_pay_store_redis_up,
    ngx_http_pay_store_redis_postconf,
    ngx_string("sentinel")                  /* sentinel=... master=... */
};


static ngx_int_t
ngx_http_pay_store_redis_claim(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_redis_start(store, op,
                                          NGX_HTTP_PAY_REDIS_CLAIM);
}


static ngx_int_t
ngx_http_pay_store_redis_complete(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_redis_start(store, op,
                                          NGX_HTTP_PAY_REDIS_COMPLETE);
}


static ngx_int_t
ngx_http_pay_store_redis_release(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_redis_start(store, op,
                                          NGX_HTTP_PAY_REDIS_RELEASE);
}


static ngx_int_t
ngx_http_pay_store_redis_get(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_redis_start(store, op, NGX_HTTP_PAY_REDIS_GET);
}


static ngx_int_t
ngx_http_pay_store_redis_abandon(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    return ngx_http_pay_store_redis_start(store, op,
                                          NGX_HTTP_PAY_REDIS_ABANDON);
}


static ngx_int_t
ngx_http_pay_store_redis_init_process(ngx_http_pay_store_t *store,
    ngx_cycle_t *cycle)
{
    ngx_http_pay_store_redis_t  *rs;

    rs = store->data;

    ngx_queue_init(&rs->records);
    ngx_queue_init(&rs->retry);
    rs->nretry = 0;

    /* owed operations do not hold a worker that is shutting down */
    rs->retry_event.handler = ngx_http_pay_store_redis_retry_handler;
    rs->retry_event.data = rs;
    rs->retry_event.log = cycle->log;
    rs->retry_event.cancelable = 1;

    rs->redis.ready = ngx_http_pay_store_redis_connected;
    rs->redis.data = rs;

    return ngx_http_pay_redis_init(&rs->redis, cycle);
}


static void
ngx_http_pay_store_redis_exit_process(ngx_http_pay_store_t *store,
    ngx_cycle_t *cycle)
{
    ngx_queue_t                    *q;
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_redis_op_t  *rop;

    rs = store->data;

    if (!rs->redis.inited) {
        return;
    }

    /* every pending callback runs now, with a NULL reply */
    ngx_http_pay_redis_done(&rs->redis);

    if (rs->retry_event.timer_set) {
        ngx_del_timer(&rs->retry_event);
    }

    /* named one by one: each may let a provider's retry through later */

    for (q = ngx_queue_head(&rs->retry);
         q != ngx_queue_sentinel(&rs->retry);
         q = ngx_queue_next(q))
    {
        rop = ngx_queue_data(q, ngx_http_pay_store_redis_op_t, retry);

        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "pay_store \"%V\": redis %s \"%V\" was never "
                      "confirmed, the worker exits", &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key);
    }

    while (!ngx_queue_empty(&rs->records)) {
        q = ngx_queue_head(&rs->records);
        rop = ngx_queue_data(q, ngx_http_pay_store_redis_op_t, queue);

        if (rop->op != NULL) {
            /* a live request may still free its pool after this */
            rop->cleanup->handler = NULL;
            rop->op = NULL;
        }

        if (rop->waiting) {
            ngx_queue_remove(&rop->retry);
            rop->waiting = 0;
        }

        rop->sent = 0;

        ngx_http_pay_store_redis_free(rop);
    }

    rs->nretry = 0;
}


static ngx_int_t
ngx_http_pay_store_redis_start(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, ngx_uint_t command)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_redis_op_t  *rop;

    rs = store->data;

    op->result = NGX_HTTP_PAY_STORE_DOWN;
    ngx_str_null(&op->found);

    if (!rs->redis.inited) {
        /* no init_process for this cycle (a single-process reload) */
        if (!rs->alerted) {
            ngx_log_error(NGX_LOG_ALERT, op->log, 0,
                          "pay_store \"%V\": redis is not connected in "
                          "this process", &store->name);
            rs->alerted = 1;
        }

        return NGX_OK;
    }

    if (op->handler == NULL) {
        return ngx_http_pay_store_redis_forget(rs, op, command);
    }

    /* disconnected: answer now, nothing is queued behind a dead link */
    if (!ngx_http_pay_redis_ready(&rs->redis)) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, op->log, 0,
                       "pay_store \"%V\": redis down, %s not sent",
                       &store->name,
                       ngx_http_pay_store_redis_commands[command]);
        return NGX_OK;
    }

    if (op->pool == NULL) {
        ngx_log_error(NGX_LOG_ALERT, op->log, 0,
                      "pay_store \"%V\": redis %s without a pool",
                      &store->name,
                      ngx_http_pay_store_redis_commands[command]);
        return NGX_OK;
    }

    /* added first, armed once the command is out: no failure after that */
    cln = ngx_pool_cleanup_add(op->pool, 0);
    if (cln == NULL) {
        return NGX_OK;
    }

    rop = ngx_http_pay_store_redis_create(rs, command, &op->key, &op->token,
                                          &op->value, op->ttl, op->log);
    if (rop == NULL) {
        return NGX_OK;
    }

    rop->keep = op->keep;

    if (ngx_http_pay_store_redis_send(rop) != NGX_OK) {
        ngx_http_pay_store_redis_free(rop);
        return NGX_OK;
    }

    rop->op = op;
    rop->handler = op->handler;
    rop->cleanup = cln;

    cln->handler = ngx_http_pay_store_redis_cancel;
    cln->data = rop;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_pay_store_redis_forget(ngx_http_pay_store_redis_t *rs,
    ngx_http_pay_store_op_t *op, ngx_uint_t command)
{
    ngx_http_pay_store_redis_op_t  *rop;

    rop = ngx_http_pay_store_redis_create(rs, command, &op->key, &op->token,
                                          &op->value, op->ttl, op->log);
    if (rop == NULL) {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "pay_store \"%V\": redis %s \"%V%V\" lost: "
                      "no memory", &rs->redis.name,
                      ngx_http_pay_store_redis_commands[command],
                      &rs->prefix, &op->key);
        return NGX_OK;
    }

    rop->forget = 1;

    if (ngx_http_pay_store_redis_send(rop) != NGX_OK) {
        ngx_http_pay_store_redis_retry(rop, "not connected");
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_pay_store_redis_up(ngx_http_pay_store_t *store)
{
    ngx_http_pay_store_redis_t  *rs;

    rs = store->data;

    /* up once established, not while a connection is being tried */
    return rs->redis.inited && rs->redis.connected
           && ngx_http_pay_redis_ready(&rs->redis);
}
