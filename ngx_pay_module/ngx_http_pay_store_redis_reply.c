
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine's replies (see ngx_http_pay_store_redis.c for
 * the records and commands): hiredis's callback for every command, the
 * decoding of a reply into a store result, with the check that what a
 * key holds is one of the module's records, and what follows a reply:
 * a claim sent again as a script (Redis before 7, or an unknown record
 * to take over), the answer to the caller, a lost claim released or
 * given back, a fire-and-forget operation logged or owed again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_store_redis.h"
#include "pay_record.h"


/* how much of a Redis error message a log line quotes */
#define NGX_HTTP_PAY_REDIS_ERR_LEN        128


static ngx_http_pay_store_result_e ngx_http_pay_store_redis_decode(
    ngx_http_pay_store_redis_op_t *rop, redisReply *r, ngx_str_t *found);
static ngx_uint_t ngx_http_pay_store_redis_syntax_error(redisReply *r);
static ngx_uint_t ngx_http_pay_store_redis_transient(redisReply *r);
static void ngx_http_pay_store_redis_forgotten(
    ngx_http_pay_store_redis_op_t *rop, ngx_http_pay_store_result_e result,
    const char *retry);
static void ngx_http_pay_store_redis_unclaim(
    ngx_http_pay_store_redis_op_t *rop, ngx_uint_t abandon);


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
 * hiredis calls this exactly once per command: with the reply, or with
 * NULL when the connection is lost or freed.  The reply is freed when this
 * returns, so whatever the caller gets is copied into op->pool here.
 */

void
ngx_http_pay_store_redis_reply(redisAsyncContext *ac, void *reply,
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
