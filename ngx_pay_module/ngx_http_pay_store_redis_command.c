
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine's commands (see ngx_http_pay_store_redis.c for
 * the records' protocol): a record allocated per command, its command
 * sent, its timer, the callback for its reply, the decoding of that
 * reply into a store result (with the check that what a key holds is one
 * of the module's records), and what follows a reply: a claim sent again
 * as a script (Redis before 7, or an unknown record to take over), the
 * answer to the caller from a posted event, a lost claim released or
 * given back, a fire-and-forget operation logged or owed again in the
 * retry list, which is flushed when Redis is back.
 *
 * Sending and reading replies live together: a reply may send again.
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

/* how much of a Redis error message a log line quotes */
#define NGX_HTTP_PAY_REDIS_ERR_LEN        128


static ngx_http_pay_store_result_e ngx_http_pay_store_redis_decode(
    ngx_http_pay_store_redis_op_t *rop, redisReply *r, ngx_str_t *found);
static ngx_uint_t ngx_http_pay_store_redis_syntax_error(redisReply *r);
static ngx_uint_t ngx_http_pay_store_redis_transient(redisReply *r);
static void ngx_http_pay_store_redis_forgotten(
    ngx_http_pay_store_redis_op_t *rop, ngx_http_pay_store_result_e result,
    const char *retry);
static void ngx_http_pay_store_redis_owe(ngx_http_pay_store_redis_op_t *rop,
    ngx_http_pay_store_result_e result);
static void ngx_http_pay_store_redis_unclaim(
    ngx_http_pay_store_redis_op_t *rop, ngx_uint_t abandon);
static void ngx_http_pay_store_redis_push(
    ngx_http_pay_store_redis_argv_t *a, const void *data, size_t len);
static void ngx_http_pay_store_redis_answer(
    ngx_http_pay_store_redis_op_t *rop, ngx_http_pay_store_result_e result);
static void ngx_http_pay_store_redis_resume(ngx_event_t *ev);
static void ngx_http_pay_store_redis_timeout(ngx_event_t *ev);
static void ngx_http_pay_store_redis_flush(ngx_http_pay_store_redis_t *rs);
static void ngx_http_pay_store_redis_reply(ngx_http_pay_redis_t *rd,
    redisReply *reply, void *data);
static void ngx_http_pay_store_redis_evaluated(ngx_http_pay_redis_t *rd,
    redisReply *reply, void *data);
static void ngx_http_pay_store_redis_waited(ngx_http_pay_redis_t *rd,
    redisReply *reply, void *data);
static ngx_int_t ngx_http_pay_store_redis_wait(
    ngx_http_pay_store_redis_op_t *rop);


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
 * expired and nobody claimed since: what happened is still worth keeping);
 * the very record it writes is there already when the same operation is
 * sent again after a lost reply: done, not another request's
 */
static const char  ngx_http_pay_store_redis_complete_script[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] or not v then "
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) "
    "return 1 end "
    "if v == ARGV[2] then return 1 end "
    "return 0";

static const char  ngx_http_pay_store_redis_release_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('DEL', KEYS[1]) "
    "return 1 end "
    "return 0";


/* errors worth sending a completion again for, once Redis is over them */
static ngx_str_t  ngx_http_pay_store_redis_transients[] = {
    ngx_string("LOADING"),
    ngx_string("BUSY "),
    ngx_string("READONLY"),
    ngx_string("MASTERDOWN"),
    ngx_string("TRYAGAIN"),
    ngx_string("CLUSTERDOWN"),
    ngx_null_string
};


/*
 * The connection calls this exactly once per command: with the reply, or
 * with NULL when the connection is lost or closed.  The reply is freed
 * when this returns, so whatever the caller gets is copied into op->pool
 * here.
 */

static void
ngx_http_pay_store_redis_reply(ngx_http_pay_redis_t *rd, redisReply *reply,
    void *data)
{
    u_char                         *p;
    ngx_str_t                       found;
    const char                     *retry;
    redisReply                     *r;
    ngx_http_pay_store_op_t        *op;
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_result_e     result;
    ngx_http_pay_store_redis_op_t  *rop;

    rop = data;
    rs = rop->store;

    rop->sent = 0;

    if (rop->timer.timer_set) {
        ngx_del_timer(&rop->timer);
    }

    r = ngx_http_pay_redis_reply(&rs->redis, reply);

    if (rop->command == NGX_HTTP_PAY_REDIS_CLAIM
        && !rop->eval
        && ngx_http_pay_store_redis_syntax_error(r))
    {
        if (!rs->eval_claim) {
            ngx_log_error(NGX_LOG_NOTICE, rs->redis.log, 0,
                          "pay_store \"%V\": redis %V rejects SET with NX "
                          "and GET (older than Redis 7), claims use EVAL",
                          &rs->redis.name, &rs->redis.addr);
            rs->eval_claim = 1;
        }

        /* nothing was written: the same claim again, as a script */
        if (rop->op != NULL
            && !rop->answered
            && ngx_http_pay_store_redis_send(rop) == NGX_OK)
        {
            return;
        }

        result = NGX_HTTP_PAY_STORE_DOWN;
        ngx_str_null(&found);

        goto deliver;
    }

    result = ngx_http_pay_store_redis_decode(rop, r, &found);

    /* SET NX GET found "U" and wrote nothing: the script takes it over */

    if (rop->command == NGX_HTTP_PAY_REDIS_CLAIM
        && !rop->eval
        && result == NGX_HTTP_PAY_STORE_RETRY)
    {
        rop->take_over = 1;

        if (rop->op != NULL
            && !rop->answered
            && ngx_http_pay_store_redis_send(rop) == NGX_OK)
        {
            return;
        }

        result = NGX_HTTP_PAY_STORE_DOWN;
        ngx_str_null(&found);

        goto deliver;
    }

    ngx_http_pay_store_redis_owe(rop, result);

    if (rop->forget) {
        if (r == NULL) {
            retry = "no reply";

        } else if (ngx_http_pay_store_redis_transient(r)) {
            retry = r->str;

        } else {
            retry = NULL;
        }

        ngx_http_pay_store_redis_forgotten(rop, result, retry);
        return;
    }

    /*
     * A claim nobody will complete or release (its request is gone, or
     * was answered DOWN) may still have been written: a late NEW or
     * RETRY, or a reply lost on a connection that was up (one that never
     * connected sent nothing).  Releasing it by its token spares the
     * provider's retries the lock time; it never touches another
     * request's claim.  A claim that took over "U", or a script claim
     * whose reply was lost (it may have), is given back as "U" instead,
     * so the next delivery is still flagged.
     */

    if (rop->command == NGX_HTTP_PAY_REDIS_CLAIM
        && (r == NULL ? rs->redis.connected
                      : (result == NGX_HTTP_PAY_STORE_NEW
                         || result == NGX_HTTP_PAY_STORE_RETRY))
        && (rop->op == NULL || rop->answered || r == NULL))
    {
        ngx_http_pay_store_redis_unclaim(rop,
                               rop->keep
                               && (result == NGX_HTTP_PAY_STORE_RETRY
                                   || (r == NULL && rop->eval)));
    }

deliver:

    op = rop->op;

    if (op == NULL || rop->answered) {
        ngx_http_pay_store_redis_free(rop);
        return;
    }

    if (result == NGX_HTTP_PAY_STORE_DONE
        || result == NGX_HTTP_PAY_STORE_PROCESSING)
    {
        p = ngx_pnalloc(op->pool, found.len ? found.len : 1);

        if (p == NULL) {
            result = NGX_HTTP_PAY_STORE_DOWN;

        } else {
            op->found.data = p;
            op->found.len = found.len;
            ngx_memcpy(p, found.data, found.len);
        }
    }

    ngx_http_pay_store_redis_answer(rop, result);
}


/* found points into r */

static ngx_http_pay_store_result_e
ngx_http_pay_store_redis_decode(ngx_http_pay_store_redis_op_t *rop,
    redisReply *r, ngx_str_t *found)
{
    size_t                       len;
    const u_char                *payload;
    pay_record_state_e           state;
    ngx_http_pay_store_redis_t  *rs;

    rs = rop->store;
    ngx_str_null(found);

    if (r == NULL) {
        return NGX_HTTP_PAY_STORE_DOWN;
    }

    switch (rop->command) {

    case NGX_HTTP_PAY_REDIS_CLAIM:
    case NGX_HTTP_PAY_REDIS_GET:

        if (r->type == REDIS_REPLY_NIL) {
            return (rop->command == NGX_HTTP_PAY_REDIS_CLAIM)
                   ? NGX_HTTP_PAY_STORE_NEW : NGX_HTTP_PAY_STORE_ABSENT;
        }

        /* the claim script took an unknown record over */
        if (r->type == REDIS_REPLY_INTEGER
            && rop->command == NGX_HTTP_PAY_REDIS_CLAIM
            && rop->eval
            && r->integer == 1)
        {
            return NGX_HTTP_PAY_STORE_RETRY;
        }

        if (r->type != REDIS_REPLY_STRING) {
            break;
        }

        /* a value larger than any the module writes is not copied */

        if (pay_record_parse((u_char *) r->str, r->len, &state, &payload,
                             &len)
            != 0
            || len > NGX_HTTP_PAY_STORE_VALUE_MAX)
        {
            /* someone else's value under our prefix: never logged */
            ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                          "pay_store \"%V\": redis key \"%V\" holds a value "
                          "that is not a record", &rs->redis.name,
                          &rop->key);
            return NGX_HTTP_PAY_STORE_DOWN;
        }

        /* processing: the claim's token, checked hex by the parse */

        /* a claim by SET NX GET wrote nothing then: see the reply */
        if (state == PAY_RECORD_UNKNOWN) {
            return NGX_HTTP_PAY_STORE_RETRY;
        }

        found->data = (u_char *) payload;
        found->len = len;

        return (state == PAY_RECORD_PROCESSING)
               ? NGX_HTTP_PAY_STORE_PROCESSING : NGX_HTTP_PAY_STORE_DONE;

    default: /* COMPLETE, RELEASE, ABANDON */

        if (r->type == REDIS_REPLY_INTEGER) {
            return (r->integer == 1) ? NGX_HTTP_PAY_STORE_OK
                                     : NGX_HTTP_PAY_STORE_NOT_OWNER;
        }

        break;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\" failed: \"%*s\"",
                      &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key, ngx_min(r->len, NGX_HTTP_PAY_REDIS_ERR_LEN),
                      r->str);

    } else {
        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\": unexpected reply "
                      "type %d", &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key, r->type);
    }

    return NGX_HTTP_PAY_STORE_DOWN;
}


/* "ERR syntax error": Redis before 7 on SET with both NX and GET */

static ngx_uint_t
ngx_http_pay_store_redis_syntax_error(redisReply *r)
{
    static const char  syntax[] = "ERR syntax error";

    if (r == NULL || r->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    return r->len >= sizeof(syntax) - 1
           && ngx_strncmp(r->str, syntax, sizeof(syntax) - 1) == 0;
}


static ngx_uint_t
ngx_http_pay_store_redis_transient(redisReply *r)
{
    ngx_str_t  *t;

    if (r->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    for (t = ngx_http_pay_store_redis_transients; t->len; t++) {
        if (r->len >= t->len && ngx_strncmp(r->str, t->data, t->len) == 0) {
            return 1;
        }
    }

    return 0;
}


/* retry: why it is owed again, NULL when Redis gave its final answer */

static void
ngx_http_pay_store_redis_forgotten(ngx_http_pay_store_redis_op_t *rop,
    ngx_http_pay_store_result_e result, const char *retry)
{
    ngx_uint_t                   level;
    ngx_http_pay_store_redis_t  *rs;

    rs = rop->store;

    if (retry != NULL) {
        ngx_http_pay_store_redis_retry(rop, retry);
        return;
    }

    switch (result) {

    case NGX_HTTP_PAY_STORE_OK:
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rs->redis.log, 0,
                       "pay_store \"%V\": redis %s done",
                       &rs->redis.name,
                       ngx_http_pay_store_redis_commands[rop->command]);
        break;

    case NGX_HTTP_PAY_STORE_NOT_OWNER:

        if (rop->unclaim) {
            /* the usual end: the lost claim had never been written */
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rs->redis.log, 0,
                           "pay_store \"%V\": redis no claim to release",
                           &rs->redis.name);
            break;
        }

        /* one that finds no claim of ours leaves no done or unknown record */
        level = (rop->command == NGX_HTTP_PAY_REDIS_COMPLETE
                 || rop->command == NGX_HTTP_PAY_REDIS_ABANDON)
                ? NGX_LOG_WARN : NGX_LOG_INFO;

        ngx_log_error(level, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\": the claim is no "
                      "longer ours (lock expired?)", &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key);
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis %s \"%V\" failed",
                      &rs->redis.name,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key);
        break;
    }

    ngx_http_pay_store_redis_free(rop);
}


/*
 * A fire-and-forget release of the claim rop may have written, or an
 * abandon, back to "U" for rop->keep.
 */

static void
ngx_http_pay_store_redis_unclaim(ngx_http_pay_store_redis_op_t *rop,
    ngx_uint_t abandon)
{
    ngx_str_t                       key, token, value;
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_redis_op_t  *rel;

    rs = rop->store;

    key.data = rop->key.data + rs->prefix.len;
    key.len = rop->key.len - rs->prefix.len;
    token.data = rop->token.data + 1;
    token.len = rop->token.len - 1;
    ngx_str_null(&value);

    ngx_log_error(NGX_LOG_INFO, rs->redis.log, 0,
                  "pay_store \"%V\": redis %s the unanswered claim "
                  "\"%V\"", &rs->redis.name,
                  abandon ? "giving up" : "releasing", &rop->key);

    rel = ngx_http_pay_store_redis_create(rs,
                                          abandon ? NGX_HTTP_PAY_REDIS_ABANDON
                                                  : NGX_HTTP_PAY_REDIS_RELEASE,
                                          &key, &token, &value,
                                          abandon ? rop->keep : 0,
                                          rs->redis.log);
    if (rel == NULL) {
        return;
    }

    rel->forget = 1;
    rel->unclaim = 1;

    if (ngx_http_pay_store_redis_send(rel) != NGX_OK) {
        ngx_http_pay_store_redis_retry(rel, "not connected");
    }
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
    ngx_uint_t                        wait, probe;
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

    /* wait=: a done or unknown record is followed by WAIT, see below */
    wait = rs->wait
           && (rop->command == NGX_HTTP_PAY_REDIS_COMPLETE
               || rop->command == NGX_HTTP_PAY_REDIS_ABANDON);

    probe = 0;

    if (wait && rs->wait_pause) {

        if (rs->wait_probe
            || ngx_current_msec - rs->wait_paused
               < NGX_HTTP_PAY_STORE_REDIS_WAIT_PAUSE)
        {
            /* not confirmed on the replicas: the next warning counts it */
            wait = 0;
            rs->wait_short++;

        } else {
            probe = 1;
        }
    }

    if (ngx_http_pay_redis_command(&rs->redis,
                                   wait ? ngx_http_pay_store_redis_evaluated
                                        : ngx_http_pay_store_redis_reply,
                                   rop, a.argc, a.argv, a.argvlen)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* no WAIT queued (no memory): the EVAL's handler finishes alone */
    rop->no_wait = (wait && ngx_http_pay_store_redis_wait(rop) != NGX_OK);

    if (probe && !rop->no_wait) {
        /* one WAIT asks; the completions behind it send none until then */
        rop->probe = 1;
        rs->wait_probe = 1;
    }

    rop->sent = 1;

    ngx_add_timer(&rop->timer, rs->redis.timeout);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rs->redis.log, 0,
                   "pay_store \"%V\": redis %s \"%V\"",
                   &rs->redis.name, name, &rop->key);

    return NGX_OK;
}


/*
 * wait=N: "WAIT N timeout/2" right behind a completion's (or abandon's)
 * EVAL on the same connection, so the record's answer, and an intent's
 * saved answer, wait until N replicas have it.  The EVAL's reply is kept
 * (evaluated) and acted on with WAIT's (waited).  WAIT blocks the
 * connection in Redis: the commands behind it wait too, which is why its
 * timeout is half of timeout=.  Fewer replicas than N: the record is on
 * the master only; a warning says so (at most every 5 s per worker, with
 * the count), the result stands (docs/operations.md#durability), and the
 * worker sends no WAIT for the next 5 s: with no replica to answer, every
 * WAIT would hold the connection for its whole timeout and the commands
 * queued behind it would time out in turn (a store outage made of a
 * replica outage).  After the pause one completion's WAIT asks again (the
 * probe), the others send none until it answers: enough replicas end the
 * pause, too few start another.
 */

static ngx_int_t
ngx_http_pay_store_redis_wait(ngx_http_pay_store_redis_op_t *rop)
{
    u_char                      *p, n[NGX_INT_T_LEN], t[NGX_INT_T_LEN];
    size_t                       len[3];
    const char                  *argv[3];
    ngx_http_pay_store_redis_t  *rs;

    rs = rop->store;

    argv[0] = "WAIT";
    len[0] = sizeof("WAIT") - 1;

    p = ngx_sprintf(n, "%ui", rs->wait);
    argv[1] = (const char *) n;
    len[1] = p - n;

    p = ngx_sprintf(t, "%M", ngx_max(rs->redis.timeout / 2, 1));
    argv[2] = (const char *) t;
    len[2] = p - t;

    return ngx_http_pay_redis_command(&rs->redis,
                                      ngx_http_pay_store_redis_waited, rop,
                                      3, argv, len);
}


static void
ngx_http_pay_store_redis_evaluated(ngx_http_pay_redis_t *rd,
    redisReply *reply, void *data)
{
    ngx_str_t                       found;
    redisReply                     *r;
    ngx_http_pay_store_redis_op_t  *rop;

    rop = data;

    r = ngx_http_pay_redis_reply(rd, reply);

    rop->evaluated = ngx_http_pay_store_redis_decode(rop, r, &found);
    rop->transient = (r != NULL && ngx_http_pay_store_redis_transient(r));
    rop->lost = (r == NULL);

    /*
     * WAIT's handler runs next (with NULL too if the connection goes) and
     * finishes the record; only without a WAIT is it finished here
     */
    if (rop->no_wait) {
        ngx_http_pay_store_redis_waited(rd, NULL, rop);
    }
}


static void
ngx_http_pay_store_redis_waited(ngx_http_pay_redis_t *rd,
    redisReply *reply, void *data)
{
    redisReply                     *r;
    const char                     *retry;
    ngx_http_pay_store_redis_t     *rs;
    ngx_http_pay_store_result_e     result;
    ngx_http_pay_store_redis_op_t  *rop;

    rop = data;
    rs = rop->store;

    rop->sent = 0;

    if (rop->timer.timer_set) {
        ngx_del_timer(&rop->timer);
    }

    if (rop->probe) {
        /* enough replicas: WAIT again with every completion */
        rs->wait_probe = 0;
        rs->wait_pause = 0;
    }

    r = ngx_http_pay_redis_reply(rd, reply);
    result = rop->evaluated;

    if (result == NGX_HTTP_PAY_STORE_OK
        && !rop->lost
        && !rop->no_wait
        && (r == NULL || r->type != REDIS_REPLY_INTEGER
            || r->integer < (long long) rs->wait))
    {
        rs->wait_short++;
        rs->wait_pause = 1;
        rs->wait_paused = ngx_current_msec;

        if (ngx_current_msec - rs->wait_logged >= 5000
            || rs->wait_short == 1)
        {
            ngx_log_error(NGX_LOG_WARN, rs->redis.log, 0,
                          "pay_store \"%V\": redis %s \"%V\" is on the "
                          "master, not on %ui replicas (WAIT answered %L "
                          "within %M ms); %ui such since the last line",
                          &rs->redis.name,
                          ngx_http_pay_store_redis_commands[rop->command],
                          &rop->key, rs->wait,
                          (r != NULL && r->type == REDIS_REPLY_INTEGER)
                          ? (int64_t) r->integer : (int64_t) -1,
                          ngx_max(rs->redis.timeout / 2, 1),
                          rs->wait_short);
            rs->wait_logged = ngx_current_msec;
            rs->wait_short = 0;
        }
    }

    ngx_http_pay_store_redis_owe(rop, result);

    if (rop->forget) {
        retry = rop->lost ? "no reply"
                : rop->transient ? "a transient error" : NULL;

        ngx_http_pay_store_redis_forgotten(rop, result, retry);
        return;
    }

    if (rop->op == NULL || rop->answered) {
        ngx_http_pay_store_redis_free(rop);
        return;
    }

    ngx_http_pay_store_redis_answer(rop, result);
}


/*
 * A complete, release or abandon is never dropped because its caller
 * stopped waiting: one whose caller let go (its pool destroyed, or
 * already answered DOWN by the timer) or that failed goes on as a
 * fire-and-forget operation, owed to Redis in the retry list if it got
 * no reply or a transient error.  The caller of a failed one is answered
 * DOWN first.
 */

static void
ngx_http_pay_store_redis_owe(ngx_http_pay_store_redis_op_t *rop,
    ngx_http_pay_store_result_e result)
{
    if (rop->forget
        || (rop->command != NGX_HTTP_PAY_REDIS_COMPLETE
            && rop->command != NGX_HTTP_PAY_REDIS_RELEASE
            && rop->command != NGX_HTTP_PAY_REDIS_ABANDON))
    {
        return;
    }

    if (rop->op != NULL && !rop->answered) {

        if (result != NGX_HTTP_PAY_STORE_DOWN) {
            return;
        }

        ngx_http_pay_store_redis_answer(rop, NGX_HTTP_PAY_STORE_DOWN);
    }

    rop->forget = 1;
}


static void
ngx_http_pay_store_redis_push(ngx_http_pay_store_redis_argv_t *a,
    const void *data, size_t len)
{
    a->argv[a->argc] = data;
    a->argvlen[a->argc] = len;
    a->argc++;
}


static void
ngx_http_pay_store_redis_answer(ngx_http_pay_store_redis_op_t *rop,
    ngx_http_pay_store_result_e result)
{
    rop->op->result = result;
    rop->answered = 1;

    /* the handler may run the request's phases: not from inside a reply */
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

    /* a held command's timer goes on (below): its line is logged once */
    if (rs->redis.connected || !rop->timed_out) {
        ngx_log_error(NGX_LOG_ERR, rs->redis.log, 0,
                      "pay_store \"%V\": redis %V %s \"%V\" timed out",
                      &rs->redis.name, &rs->redis.addr,
                      ngx_http_pay_store_redis_commands[rop->command],
                      &rop->key);
    }

    if (rop->op != NULL && !rop->answered) {
        ngx_http_pay_store_redis_answer(rop, NGX_HTTP_PAY_STORE_DOWN);
    }

    /*
     * Held while the connection is being made: the connection's own
     * timer watches that, and the command goes out (its late reply
     * handled like any other) or is dropped with the attempt.  The timer
     * goes on, so that once sent it is watched like any other command (a
     * connection silent right after its handshake is then aborted).
     */
    if (!rs->redis.connected) {
        rop->timed_out = 1;
        ngx_add_timer(&rop->timer, rs->redis.timeout);
        return;
    }

    /*
     * The reply may still come behind a slow Redis, or never: start over
     * on a new connection.  The callback then runs with NULL and frees the
     * record; the late reply, if any, is ignored.
     */
    ngx_http_pay_redis_abort(&rs->redis, "a command timed out");
}


/* op->pool is being destroyed: the caller takes no answer any more */

void
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


/* frees the record once no connection, caller or retry holds it */

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


void
ngx_http_pay_store_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_pay_store_redis_flush(ev->data);
}


/* from the connect callback: sending commands is allowed there */

void
ngx_http_pay_store_redis_connected(ngx_http_pay_redis_t *rd)
{
    ngx_http_pay_store_redis_flush(rd->data);
}
