
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine (SPEC section 4).  A record is the string key
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
 *   - hiredis, from the command until its callback, which runs exactly
 *     once (with a NULL reply when the connection goes);
 *   - the caller, until op->handler is called (from a posted event, never
 *     from inside hiredis) or op->pool is destroyed (its cleanup detaches
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
 * is always safe, as all three compare the owner token in Redis.
 *
 * This file holds the engine's table and the records' life: commands
 * out, timers, answers, the retry list, each worker's start and exit.
 * The pay_store words are parsed in ngx_http_pay_store_redis_conf.c and
 * the replies read in ngx_http_pay_store_redis_reply.c; the connection
 * itself is ngx_http_pay_redis.c's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_store_redis.h"
#include "pay_record.h"


/* fire-and-forget operations owed to Redis, per worker and store */
#define NGX_HTTP_PAY_REDIS_RETRY_MAX      256
#define NGX_HTTP_PAY_REDIS_RETRY_WINDOW   (5 * 60 * 1000)
#define NGX_HTTP_PAY_REDIS_RETRY_DELAY    1000

/* the longest argv: SET key value NX PX ttl GET */
#define NGX_HTTP_PAY_REDIS_ARGV_MAX       7


typedef struct {
    int                             argc;
    const char                     *argv[NGX_HTTP_PAY_REDIS_ARGV_MAX];
    size_t                          argvlen[NGX_HTTP_PAY_REDIS_ARGV_MAX];
} ngx_http_pay_store_redis_argv_t;


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

static ngx_int_t ngx_http_pay_store_redis_start(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, ngx_uint_t command);
static ngx_int_t ngx_http_pay_store_redis_forget(
    ngx_http_pay_store_redis_t *rs, ngx_http_pay_store_op_t *op,
    ngx_uint_t command);
static void ngx_http_pay_store_redis_push(
    ngx_http_pay_store_redis_argv_t *a, const void *data, size_t len);
static void ngx_http_pay_store_redis_resume(ngx_event_t *ev);
static void ngx_http_pay_store_redis_timeout(ngx_event_t *ev);
static void ngx_http_pay_store_redis_cancel(void *data);
static void ngx_http_pay_store_redis_flush(ngx_http_pay_store_redis_t *rs);
static void ngx_http_pay_store_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_pay_store_redis_connected(ngx_http_pay_redis_t *rd);


ngx_http_pay_store_engine_t  ngx_http_pay_store_redis_engine = {
    ngx_string("redis"),
    ngx_http_pay_store_redis_conf,
    ngx_http_pay_store_redis_claim,
    ngx_http_pay_store_redis_complete,
    ngx_http_pay_store_redis_release,
    ngx_http_pay_store_redis_get,
    ngx_http_pay_store_redis_abandon,
    ngx_http_pay_store_redis_init_process,
    ngx_http_pay_store_redis_exit_process
};


const char  *ngx_http_pay_store_redis_commands[] = {
    "claim",
    "complete",
    "release",
    "get",
    "abandon"
};


/*
 * The scripts compare with the whole stored value, "P" + token: a done
 * record, or another request's claim, never matches.  The claim takes an
 * unknown record ("U", PAY_RECORD_TAG_UNKNOWN) over and answers 1.
 */

static const char  ngx_http_pay_store_redis_claim_script[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and v ~= 'U' then return v end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "if v then return 1 end "
    "return false";

/*
 * complete and abandon: our claim, or no record at all (the claim
 * expired and nobody claimed since: what happened is still worth keeping)
 */
static const char  ngx_http_pay_store_redis_complete_script[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] or not v then "
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) "
    "return 1 end "
    "return 0";

static const char  ngx_http_pay_store_redis_release_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) "
    "return 1 end "
    "return 0";


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


/* one allocation: the record, then its copies of the caller's strings */

ngx_http_pay_store_redis_op_t *
ngx_http_pay_store_redis_create(ngx_http_pay_store_redis_t *rs,
    ngx_uint_t command, ngx_str_t *key, ngx_str_t *token, ngx_str_t *value,
    ngx_msec_t ttl, ngx_log_t *log)
{
    u_char                         *p;
    size_t                          len;
    ngx_http_pay_store_redis_op_t  *rop;

    /* the caller bounds them (NGX_HTTP_PAY_STORE_*_MAX); sizes cannot wrap */
    if (key->len > NGX_MAX_SIZE_T_VALUE / 4
        || token->len > NGX_MAX_SIZE_T_VALUE / 4
        || value->len > NGX_MAX_SIZE_T_VALUE / 4)
    {
        return NULL;
    }

    len = sizeof(ngx_http_pay_store_redis_op_t) + rs->prefix.len + key->len
          + NGX_INT_T_LEN;

    if (command != NGX_HTTP_PAY_REDIS_GET) {
        len += pay_record_size(token->len);
    }

    if (command == NGX_HTTP_PAY_REDIS_COMPLETE) {
        len += pay_record_size(value->len);

    } else if (command == NGX_HTTP_PAY_REDIS_ABANDON) {
        len += pay_record_size(0);
    }

    rop = ngx_alloc(len, log);
    if (rop == NULL) {
        return NULL;
    }

    ngx_memzero(rop, sizeof(ngx_http_pay_store_redis_op_t));

    p = (u_char *) (rop + 1);

    /* an empty string may come with data NULL: memcpy() must not see it */

    rop->key.data = p;

    if (rs->prefix.len) {
        p = ngx_cpymem(p, rs->prefix.data, rs->prefix.len);
    }

    if (key->len) {
        p = ngx_cpymem(p, key->data, key->len);
    }

    rop->key.len = p - rop->key.data;

    if (command != NGX_HTTP_PAY_REDIS_GET) {
        rop->token.data = p;
        rop->token.len = pay_record_encode(PAY_RECORD_PROCESSING, token->data,
                                           token->len, p);
        p += rop->token.len;
    }

    if (command == NGX_HTTP_PAY_REDIS_COMPLETE) {
        rop->value.data = p;
        rop->value.len = pay_record_encode(PAY_RECORD_DONE, value->data,
                                           value->len, p);
        p += rop->value.len;

    } else if (command == NGX_HTTP_PAY_REDIS_ABANDON) {
        rop->value.data = p;
        rop->value.len = pay_record_encode(PAY_RECORD_UNKNOWN, NULL, 0, p);
        p += rop->value.len;
    }

    /* PX 0 is an error in Redis: the shortest lock is a millisecond */
    rop->ttl.data = p;
    rop->ttl.len = ngx_sprintf(p, "%M", ttl ? ttl : 1) - p;

    rop->store = rs;
    rop->command = command;
    rop->start = ngx_current_msec;

    /* non-cancelable: shutdown waits for commands in flight */
    rop->timer.handler = ngx_http_pay_store_redis_timeout;
    rop->timer.data = rop;
    rop->timer.log = rs->redis.log;

    rop->resume.handler = ngx_http_pay_store_redis_resume;
    rop->resume.data = rop;
    rop->resume.log = rs->redis.log;

    ngx_queue_insert_tail(&rs->records, &rop->queue);

    return rop;
}


ngx_int_t
ngx_http_pay_store_redis_send(ngx_http_pay_store_redis_op_t *rop)
{
    const char                       *name;
    ngx_http_pay_store_redis_t       *rs;
    ngx_http_pay_store_redis_argv_t   a;

    rs = rop->store;
    a.argc = 0;

    switch (rop->command) {

    case NGX_HTTP_PAY_REDIS_CLAIM:
        rop->eval = rs->eval_claim || rop->take_over;

        if (rop->eval) {
            name = "EVAL claim";
            ngx_http_pay_store_redis_push(&a, "EVAL", 4);
            ngx_http_pay_store_redis_push(&a,
                ngx_http_pay_store_redis_claim_script,
                sizeof(ngx_http_pay_store_redis_claim_script) - 1);
            ngx_http_pay_store_redis_push(&a, "1", 1);
            ngx_http_pay_store_redis_push(&a, rop->key.data, rop->key.len);
            ngx_http_pay_store_redis_push(&a, rop->token.data,
                                          rop->token.len);
            ngx_http_pay_store_redis_push(&a, rop->ttl.data, rop->ttl.len);

        } else {
            name = "SET NX GET";
            ngx_http_pay_store_redis_push(&a, "SET", 3);
            ngx_http_pay_store_redis_push(&a, rop->key.data, rop->key.len);
            ngx_http_pay_store_redis_push(&a, rop->token.data,
                                          rop->token.len);
            ngx_http_pay_store_redis_push(&a, "NX", 2);
            ngx_http_pay_store_redis_push(&a, "PX", 2);
            ngx_http_pay_store_redis_push(&a, rop->ttl.data, rop->ttl.len);
            ngx_http_pay_store_redis_push(&a, "GET", 3);
        }

        break;

    case NGX_HTTP_PAY_REDIS_COMPLETE:
    case NGX_HTTP_PAY_REDIS_ABANDON:
        name = (rop->command == NGX_HTTP_PAY_REDIS_COMPLETE)
               ? "EVAL complete" : "EVAL abandon";
        ngx_http_pay_store_redis_push(&a, "EVAL", 4);
        ngx_http_pay_store_redis_push(&a,
            ngx_http_pay_store_redis_complete_script,
            sizeof(ngx_http_pay_store_redis_complete_script) - 1);
        ngx_http_pay_store_redis_push(&a, "1", 1);
        ngx_http_pay_store_redis_push(&a, rop->key.data, rop->key.len);
        ngx_http_pay_store_redis_push(&a, rop->token.data, rop->token.len);
        ngx_http_pay_store_redis_push(&a, rop->value.data, rop->value.len);
        ngx_http_pay_store_redis_push(&a, rop->ttl.data, rop->ttl.len);
        break;

    case NGX_HTTP_PAY_REDIS_RELEASE:
        name = "EVAL release";
        ngx_http_pay_store_redis_push(&a, "EVAL", 4);
        ngx_http_pay_store_redis_push(&a,
            ngx_http_pay_store_redis_release_script,
            sizeof(ngx_http_pay_store_redis_release_script) - 1);
        ngx_http_pay_store_redis_push(&a, "1", 1);
        ngx_http_pay_store_redis_push(&a, rop->key.data, rop->key.len);
        ngx_http_pay_store_redis_push(&a, rop->token.data, rop->token.len);
        break;

    default: /* NGX_HTTP_PAY_REDIS_GET */
        name = "GET";
        ngx_http_pay_store_redis_push(&a, "GET", 3);
        ngx_http_pay_store_redis_push(&a, rop->key.data, rop->key.len);
        break;
    }

    if (ngx_http_pay_redis_command(&rs->redis, ngx_http_pay_store_redis_reply,
                                   rop, a.argc, a.argv, a.argvlen)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    rop->sent = 1;

    ngx_add_timer(&rop->timer, rs->redis.timeout);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rs->redis.log, 0,
                   "pay_store \"%V\": redis %s \"%V\"",
                   &rs->redis.name, name, &rop->key);

    return NGX_OK;
}


static void
ngx_http_pay_store_redis_push(ngx_http_pay_store_redis_argv_t *a,
    const void *data, size_t len)
{
    a->argv[a->argc] = data;
    a->argvlen[a->argc] = len;
    a->argc++;
}


void
ngx_http_pay_store_redis_answer(ngx_http_pay_store_redis_op_t *rop,
    ngx_http_pay_store_result_e result)
{
    rop->op->result = result;
    rop->answered = 1;

    /* the handler may run the request's phases: not from inside hiredis */
    ngx_post_event(&rop->resume, &ngx_posted_events);
}


static void
ngx_http_pay_store_redis_resume(ngx_event_t *ev)
{
    ngx_http_pay_store_op_t        *op;
    ngx_http_pay_store_handler_pt   handler;
    ngx_http_pay_store_redis_op_t  *rop;

    rop = ev->data;
    op = rop->op;
    handler = rop->handler;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rop->store->redis.log, 0,
                   "pay_store \"%V\": redis %s answered %s",
                   &rop->store->redis.name,
                   ngx_http_pay_store_redis_commands[rop->command],
                   ngx_http_pay_store_result_name(op->result));

    /* let go first: the handler may destroy op->pool */
    rop->op = NULL;
    rop->cleanup->handler = NULL;

    ngx_http_pay_store_redis_free(rop);

    handler(op);
}


static void
ngx_http_pay_store_redis_timeout(ngx_event_t *ev)
{
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_redis_op_t  *rop;

    rop = ev->data;
    rs = rop->store;

    ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                  "pay_store \"%V\": redis %V %s \"%V\" timed out",
                  &rs->redis.name, &rs->redis.addr,
                  ngx_http_pay_store_redis_commands[rop->command],
                  &rop->key);

    if (rop->op != NULL && !rop->answered) {
        ngx_http_pay_store_redis_answer(rop, NGX_HTTP_PAY_STORE_DOWN);
    }

    /*
     * The reply may still come behind a slow Redis, or never: start over
     * on a new connection.  The callback then runs with NULL and frees the
     * record; the late reply, if any, is ignored.
     */
    ngx_http_pay_redis_abort(&rs->redis, "a command timed out");
}


/* op->pool is being destroyed: the caller takes no answer any more */

static void
ngx_http_pay_store_redis_cancel(void *data)
{
    ngx_http_pay_store_redis_op_t  *rop;

    rop = data;
    rop->op = NULL;

    if (rop->resume.posted) {
        ngx_delete_posted_event(&rop->resume);
    }

    ngx_http_pay_store_redis_free(rop);
}


/* frees the record once neither hiredis, the caller nor a retry holds it */

void
ngx_http_pay_store_redis_free(ngx_http_pay_store_redis_op_t *rop)
{
    if (rop->sent || rop->op != NULL || rop->waiting) {
        return;
    }

    if (rop->timer.timer_set) {
        ngx_del_timer(&rop->timer);
    }

    if (rop->resume.posted) {
        ngx_delete_posted_event(&rop->resume);
    }

    ngx_queue_remove(&rop->queue);
    ngx_free(rop);
}


void
ngx_http_pay_store_redis_retry(ngx_http_pay_store_redis_op_t *rop,
    const char *reason)
{
    ngx_queue_t                    *q;
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_redis_op_t  *old;

    rs = rop->store;

    if (rop->command != NGX_HTTP_PAY_REDIS_COMPLETE
        && rop->command != NGX_HTTP_PAY_REDIS_RELEASE
        && rop->command != NGX_HTTP_PAY_REDIS_ABANDON)
    {
        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\" failed: %s",
                      &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key, reason);
        ngx_http_pay_store_redis_free(rop);
        return;
    }

    if (ngx_current_msec - rop->start >= NGX_HTTP_PAY_REDIS_RETRY_WINDOW) {
        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\" given up: %s",
                      &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key, reason);
        ngx_http_pay_store_redis_free(rop);
        return;
    }

    if (rs->nretry >= NGX_HTTP_PAY_REDIS_RETRY_MAX) {
        q = ngx_queue_head(&rs->retry);
        old = ngx_queue_data(q, ngx_http_pay_store_redis_op_t, retry);

        ngx_queue_remove(q);
        old->waiting = 0;
        rs->nretry--;

        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis retry list full, %s \"%V\" "
                      "dropped", &rs->redis.name,
                      ngx_http_pay_store_redis_commands[old->command],
                      &old->key);

        ngx_http_pay_store_redis_free(old);
    }

    if (!rop->warned) {
        ngx_log_error(NGX_LOG_WARN, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\" not confirmed "
                      "(%s), will be sent again", &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key, reason);
        rop->warned = 1;
    }

    ngx_queue_insert_tail(&rs->retry, &rop->retry);
    rop->waiting = 1;
    rs->nretry++;

    if (!rs->retry_event.timer_set && !rs->redis.exiting) {
        ngx_add_timer(&rs->retry_event, NGX_HTTP_PAY_REDIS_RETRY_DELAY);
    }
}


/*
 * Only on an established connection: one that is still connecting may
 * fail, and would only send the list round again.
 */

static void
ngx_http_pay_store_redis_flush(ngx_http_pay_store_redis_t *rs)
{
    ngx_queue_t                    *q;
    ngx_http_pay_store_redis_op_t  *rop;

    while (!ngx_queue_empty(&rs->retry)) {

        if (!rs->redis.connected || !ngx_http_pay_redis_ready(&rs->redis)) {
            return;
        }

        q = ngx_queue_head(&rs->retry);
        rop = ngx_queue_data(q, ngx_http_pay_store_redis_op_t, retry);

        ngx_queue_remove(q);
        rop->waiting = 0;
        rs->nretry--;

        if (ngx_current_msec - rop->start >= NGX_HTTP_PAY_REDIS_RETRY_WINDOW)
        {
            ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                          "pay_store \"%V\": redis %s \"%V\" given up: "
                          "not confirmed in time", &rs->redis.name,
                          ngx_http_pay_store_redis_commands[rop->command],
                          &rop->key);
            ngx_http_pay_store_redis_free(rop);
            continue;
        }

        if (ngx_http_pay_store_redis_send(rop) != NGX_OK) {
            ngx_queue_insert_head(&rs->retry, &rop->retry);
            rop->waiting = 1;
            rs->nretry++;
            return;
        }
    }
}


static void
ngx_http_pay_store_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_pay_store_redis_flush(ev->data);
}


/* from the connect callback: sending commands is allowed there */

static void
ngx_http_pay_store_redis_connected(ngx_http_pay_redis_t *rd)
{
    ngx_http_pay_store_redis_flush(rd->data);
}
