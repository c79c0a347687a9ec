
/*
 * Copyright (C) ngx_pay authors
 *
 * hiredis's asynchronous API on nginx's event loop, and the per-worker
 * connection built on it (CRAFT section 4.3).
 *
 * Readiness is level-triggered: every ngx_add_event() and ngx_del_event()
 * on the socket passes NGX_LEVEL_EVENT, and epoll keeps one registration
 * per fd whose flags are those of the latest call, so the registration
 * stays level-triggered whichever direction changed last.  hiredis reads
 * at most 16 KiB per redisAsyncHandleRead() and cannot tell whether it
 * drained the socket: with edge-triggered events the rest of a large reply
 * or of a pipelined batch would wait for an event that never comes.  Level-
 * triggered, the kernel reports the rest on the next loop iteration, as
 * hiredis's own adapters expect, with no FIONREAD loop and no re-entry.
 * The price, one epoll_wait() per 16 KiB, only shows on large replies.
 *
 * hiredis owns the socket and closes it in redisFree().  It calls the
 * cleanup hook exactly once as a context dies, after a failed connect as
 * well: the hook removes the events, gives the ngx_connection_t back and
 * arms the reconnect timer.  Nothing here reconnects from inside hiredis.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_redis.h"


#define NGX_HTTP_PAY_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_PAY_REDIS_BACKOFF_MAX  5000

/* how much of a Redis error message a log line quotes */
#define NGX_HTTP_PAY_REDIS_ERR_LEN      128


static void ngx_http_pay_redis_connect(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_handshake(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_pay_redis_handshake_reply(redisAsyncContext *ac,
    void *reply, void *data);
static void ngx_http_pay_redis_add_read(void *data);
static void ngx_http_pay_redis_del_read(void *data);
static void ngx_http_pay_redis_add_write(void *data);
static void ngx_http_pay_redis_del_write(void *data);
static void ngx_http_pay_redis_cleanup(void *data);
static void ngx_http_pay_redis_read_handler(ngx_event_t *rev);
static void ngx_http_pay_redis_write_handler(ngx_event_t *wev);
static void ngx_http_pay_redis_lost(ngx_http_pay_redis_t *rd,
    redisAsyncContext *ac);
static void ngx_http_pay_redis_schedule(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_pay_redis_abort_handler(ngx_event_t *ev);


ngx_int_t
ngx_http_pay_redis_init(ngx_http_pay_redis_t *rd, ngx_cycle_t *cycle)
{
    /* cache managers and loaders run init_process too: no Redis there */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    rd->log = cycle->log;

    /* idle retries must not hold a worker that is shutting down */
    rd->reconnect.handler = ngx_http_pay_redis_reconnect_handler;
    rd->reconnect.data = rd;
    rd->reconnect.log = cycle->log;
    rd->reconnect.cancelable = 1;

    rd->connect_timer.handler = ngx_http_pay_redis_connect_timeout;
    rd->connect_timer.data = rd;
    rd->connect_timer.log = cycle->log;
    rd->connect_timer.cancelable = 1;

    rd->abort.handler = ngx_http_pay_redis_abort_handler;
    rd->abort.data = rd;
    rd->abort.log = cycle->log;

    rd->backoff = NGX_HTTP_PAY_REDIS_BACKOFF_MIN;
    rd->inited = 1;

    ngx_http_pay_redis_connect(rd);

    return NGX_OK;
}


void
ngx_http_pay_redis_done(ngx_http_pay_redis_t *rd)
{
    if (!rd->inited) {
        return;
    }

    rd->exiting = 1;

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (rd->abort.posted) {
        ngx_delete_posted_event(&rd->abort);
    }

    if (rd->ac != NULL) {
        /* pending callbacks run with NULL, then our cleanup hook */
        redisAsyncFree(rd->ac);
    }
}


ngx_uint_t
ngx_http_pay_redis_ready(ngx_http_pay_redis_t *rd)
{
    if (rd->ac == NULL || rd->failed || rd->abort.posted) {
        return 0;
    }

    /* hiredis refuses commands then, and runs no callback for them */
    if (rd->ac->c.flags & (REDIS_DISCONNECTING|REDIS_FREEING)) {
        return 0;
    }

    return 1;
}


ngx_int_t
ngx_http_pay_redis_command(ngx_http_pay_redis_t *rd, redisCallbackFn *fn,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    if (!ngx_http_pay_redis_ready(rd)) {
        return NGX_DECLINED;
    }

    if (redisAsyncCommandArgv(rd->ac, fn, data, argc, argv, argvlen)
        != REDIS_OK)
    {
        /* out of memory: nothing was queued, as good as down */
        return NGX_DECLINED;
    }

    return NGX_OK;
}


redisReply *
ngx_http_pay_redis_reply(ngx_http_pay_redis_t *rd, void *reply)
{
    if (reply == NULL || rd->failed) {
        return NULL;
    }

    /* Redis answers: the next loss may retry quickly again */
    rd->backoff = NGX_HTTP_PAY_REDIS_BACKOFF_MIN;

    return reply;
}


void
ngx_http_pay_redis_abort(ngx_http_pay_redis_t *rd, const char *reason)
{
    if (rd->ac == NULL) {
        return;
    }

    if (rd->reason == NULL) {
        rd->reason = reason;
    }

    /*
     * Posted rather than freed here: the caller may be a hiredis callback
     * (redisAsyncFree() would only be deferred) or a timer handler whose
     * record the NULL callbacks would free under it.
     */
    ngx_post_event(&rd->abort, &ngx_posted_events);
}


static void
ngx_http_pay_redis_connect(ngx_http_pay_redis_t *rd)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    /* rd->host is numeric or a path: hiredis resolves nothing, never blocks */
    if (rd->port == 0) {
        ac = redisAsyncConnectUnix((const char *) rd->host);

    } else {
        ac = redisAsyncConnect((const char *) rd->host, rd->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pay_store \"%V\": redis %V: cannot allocate "
                      "a connection", &rd->name, &rd->addr);
        ngx_http_pay_redis_schedule(rd);
        return;
    }

    if (ac->err) {
        /* refused at once (a unix socket): nothing of ours attached yet */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pay_store \"%V\": redis %V connect failed: %s",
                      &rd->name, &rd->addr, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_pay_redis_schedule(rd);
        return;
    }

    c = ngx_get_connection((ngx_socket_t) ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_pay_redis_schedule(rd);
        return;
    }

    c->data = rd;
    c->read->handler = ngx_http_pay_redis_read_handler;
    c->write->handler = ngx_http_pay_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    ac->data = rd;
    ac->ev.addRead = ngx_http_pay_redis_add_read;
    ac->ev.delRead = ngx_http_pay_redis_del_read;
    ac->ev.addWrite = ngx_http_pay_redis_add_write;
    ac->ev.delWrite = ngx_http_pay_redis_del_write;
    ac->ev.cleanup = ngx_http_pay_redis_cleanup;
    ac->ev.data = c;

    rd->ac = ac;
    rd->c = c;
    rd->reason = NULL;
    rd->handshake = 0;
    rd->connected = 0;
    rd->failed = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "pay_store \"%V\": redis connecting to %V",
                   &rd->name, &rd->addr);

    /* covers the TCP connect, then AUTH and SELECT */
    ngx_add_timer(&rd->connect_timer, rd->timeout);

    /* the hooks are set: this adds the write event that reports connect */
    (void) redisAsyncSetConnectCallback(ac, ngx_http_pay_redis_connected);

    ngx_http_pay_redis_handshake(rd);
}


/*
 * AUTH and SELECT are queued before any command, so that whatever the
 * engine sends meanwhile follows them on the wire: no waiting for their
 * replies, and a refusal is known before the replies behind them are read.
 */

static void
ngx_http_pay_redis_handshake(ngx_http_pay_redis_t *rd)
{
    u_char      *p, db[NGX_INT_T_LEN];
    size_t       len[2];
    const char  *argv[2];

    if (rd->password.len) {
        argv[0] = "AUTH";
        len[0] = sizeof("AUTH") - 1;
        argv[1] = (const char *) rd->password.data;
        len[1] = rd->password.len;

        if (redisAsyncCommandArgv(rd->ac, ngx_http_pay_redis_handshake_reply,
                                  "AUTH", 2, argv, len)
            != REDIS_OK)
        {
            rd->failed = 1;
            ngx_http_pay_redis_abort(rd, "cannot queue AUTH");
            return;
        }

        rd->handshake++;
    }

    if (rd->db) {
        p = ngx_sprintf(db, "%ui", rd->db);

        argv[0] = "SELECT";
        len[0] = sizeof("SELECT") - 1;
        argv[1] = (const char *) db;
        len[1] = p - db;

        if (redisAsyncCommandArgv(rd->ac, ngx_http_pay_redis_handshake_reply,
                                  "SELECT", 2, argv, len)
            != REDIS_OK)
        {
            rd->failed = 1;
            ngx_http_pay_redis_abort(rd, "cannot queue SELECT");
            return;
        }

        rd->handshake++;
    }
}


static void
ngx_http_pay_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_pay_redis_t  *rd;

    rd = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context next: the cleanup hook reports it */
        return;
    }

    rd->connected = 1;

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                  "pay_store \"%V\": redis %V connected",
                  &rd->name, &rd->addr);

    if (rd->handshake == 0 && rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (rd->ready) {
        rd->ready(rd);
    }
}


static void
ngx_http_pay_redis_handshake_reply(redisAsyncContext *ac, void *reply,
    void *data)
{
    char                  *command;
    size_t                 len;
    redisReply            *r;
    ngx_http_pay_redis_t  *rd;

    rd = ac->data;
    r = reply;
    command = data;

    if (r == NULL || rd->failed) {
        /* the context is going away: the cleanup hook says why */
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        len = ngx_min(r->len, NGX_HTTP_PAY_REDIS_ERR_LEN);

        /* Redis's own message ("WRONGPASS ...") never holds the password */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pay_store \"%V\": redis %V refused %s: \"%*s\"",
                      &rd->name, &rd->addr, command, len, r->str);

        /* replies behind it may come from the wrong user or database */
        rd->failed = 1;
        ngx_http_pay_redis_abort(rd, "handshake refused");
        return;
    }

    if (--rd->handshake == 0 && !rd->failed) {
        if (rd->connect_timer.timer_set) {
            ngx_del_timer(&rd->connect_timer);
        }

        rd->backoff = NGX_HTTP_PAY_REDIS_BACKOFF_MIN;
    }
}


/* hiredis calls the hooks often and expects them to be idempotent */

static void
ngx_http_pay_redis_add_read(void *data)
{
    ngx_connection_t  *c;

    c = data;

    if (c == NULL || c->read->active) {
        return;
    }

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_pay_redis_abort(c->data, "cannot add a read event");
    }
}


static void
ngx_http_pay_redis_del_read(void *data)
{
    ngx_connection_t  *c;

    c = data;

    if (c == NULL || !c->read->active) {
        return;
    }

    if (ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_pay_redis_abort(c->data, "cannot delete a read event");
    }
}


static void
ngx_http_pay_redis_add_write(void *data)
{
    ngx_connection_t  *c;

    c = data;

    if (c == NULL || c->write->active) {
        return;
    }

    if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_pay_redis_abort(c->data, "cannot add a write event");
    }
}


/* honoured at once: a level-triggered write event left on would spin */

static void
ngx_http_pay_redis_del_write(void *data)
{
    ngx_connection_t  *c;

    c = data;

    if (c == NULL || !c->write->active) {
        return;
    }

    if (ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_pay_redis_abort(c->data, "cannot delete a write event");
    }
}


/*
 * The context dies: after this hiredis runs its disconnect callback (none
 * here) and redisFree() closes the socket.  We never close it ourselves.
 */

static void
ngx_http_pay_redis_cleanup(void *data)
{
    ngx_connection_t      *c;
    redisAsyncContext     *ac;
    ngx_http_pay_redis_t  *rd;

    c = data;

    if (c == NULL) {
        return;
    }

    rd = c->data;
    ac = rd->ac;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* a real delete: the socket is still open, hiredis closes it later */

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    /* later hook calls on this context, if any, find nothing */
    ac->ev.data = NULL;

    rd->ac = NULL;
    rd->c = NULL;

    if (rd->entered) {
        /* our event handler still uses c: it frees it when hiredis returns */
        rd->deleted = 1;

    } else {
        ngx_free_connection(c);

        /* epoll's stale event check relies on it */
        c->fd = (ngx_socket_t) -1;
    }

    ngx_http_pay_redis_lost(rd, ac);
}


/*
 * redisAsyncHandleRead() and redisAsyncHandleWrite() may free the context
 * (and call our cleanup) before they return: neither ac nor anything it
 * points to is touched afterwards, only rd and c, which outlive it.
 */

static void
ngx_http_pay_redis_read_handler(ngx_event_t *rev)
{
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    c = rev->data;
    rd = c->data;

    if (rd->ac == NULL) {
        return;
    }

    rd->entered = 1;
    redisAsyncHandleRead(rd->ac);
    rd->entered = 0;

    if (rd->deleted) {
        rd->deleted = 0;
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }
}


static void
ngx_http_pay_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (rd->ac == NULL) {
        return;
    }

    rd->entered = 1;
    redisAsyncHandleWrite(rd->ac);
    rd->entered = 0;

    if (rd->deleted) {
        rd->deleted = 0;
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }
}


/* called from the cleanup hook: ac is still readable, not for long */

static void
ngx_http_pay_redis_lost(ngx_http_pay_redis_t *rd, redisAsyncContext *ac)
{
    const char  *reason;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (rd->abort.posted) {
        ngx_delete_posted_event(&rd->abort);
    }

    if (rd->reason != NULL) {
        reason = rd->reason;

    } else if (ac->c.err) {
        reason = ac->c.errstr;

    } else {
        reason = "closed";
    }

    if (rd->exiting) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "pay_store \"%V\": redis %V closed",
                       &rd->name, &rd->addr);

    } else if (rd->connected) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pay_store \"%V\": redis %V connection lost: %s",
                      &rd->name, &rd->addr, reason);

    } else {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "pay_store \"%V\": redis %V connect failed: %s",
                      &rd->name, &rd->addr, reason);
    }

    rd->connected = 0;
    rd->handshake = 0;
    rd->reason = NULL;

    ngx_http_pay_redis_schedule(rd);
}


static void
ngx_http_pay_redis_schedule(ngx_http_pay_redis_t *rd)
{
    if (rd->exiting || rd->reconnect.timer_set) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "pay_store \"%V\": redis %V reconnect in %M ms",
                   &rd->name, &rd->addr, rd->backoff);

    ngx_add_timer(&rd->reconnect, rd->backoff);

    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_PAY_REDIS_BACKOFF_MAX);
}


static void
ngx_http_pay_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    if (rd->exiting || rd->ac != NULL) {
        return;
    }

    ngx_http_pay_redis_connect(rd);
}


static void
ngx_http_pay_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    ngx_http_pay_redis_abort(rd, rd->connected ? "AUTH or SELECT timed out"
                                               : "connect timed out");
}


static void
ngx_http_pay_redis_abort_handler(ngx_event_t *ev)
{
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    if (rd->ac == NULL) {
        return;
    }

    /*
     * Not redisAsyncDisconnect(): hiredis 0.14 would wait for every
     * pending reply, from the very Redis that stopped answering.  Freeing
     * fails them all (NULL replies) now; we are outside any hiredis call.
     */
    redisAsyncFree(rd->ac);
}
