
/*
 * Copyright (C) ngx_pay authors
 *
 * The per-worker Redis connection, owned by nginx (CRAFT section 4.3,
 * docs/architecture.md "The Redis connection").
 *
 * nginx connects (ngx_event_connect_peer, TCP keepalive on), runs TLS when
 * the store asks for it (ngx_http_pay_redis_tls.c) and reads and writes
 * through c->recv and c->send, plain or TLS alike.  A command is written
 * in RESP straight into the output buffer (core/pay_resp.c); hiredis is
 * used for what it is good at and nothing else: a redisReader turns the
 * bytes read into replies.
 * Replies come back in the order the commands went out, so the pending
 * handlers form a queue: each reply goes to the head.
 *
 * A connection's life:
 *
 *   connect     ngx_event_connect_peer(); AUTH and SELECT are queued
 *               first; whatever the engine queues meanwhile is held
 *               behind them (rd->hold) and sent only once they answered
 *               OK, so nothing runs as the wrong user or in the wrong
 *               database;
 *   TLS         once TCP is up, when the store has tls;
 *   up          the transport is up: the handshake goes out; once AUTH
 *               and SELECT answered OK the store is "connected" (logged),
 *               the held commands go out and its ready callback runs;
 *   idle        after ping= without a command, a PING: a connection that
 *               died silently is noticed before a request needs it;
 *   closed      on EOF, an error, a timeout or abort(): every pending
 *               handler runs with NULL, the reconnect timer is armed with
 *               a backoff that doubles up to 5 s.
 *
 * Nothing here closes the connection from inside a reply handler: abort()
 * is posted.  Handlers run from our read handler, never from inside
 * ngx_http_pay_redis_command().
 *
 * A failure logs one error line; the same failure again on the next
 * attempts (a wrong password, a certificate refused, Redis still down)
 * is logged at info until a connection succeeds.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_redis.h"
#include "pay_resp.h"


/* read at once, and the first output buffer */
#define NGX_HTTP_PAY_REDIS_READ_SIZE    16384
#define NGX_HTTP_PAY_REDIS_OUT_SIZE     4096

/*
 * The most a reply may take while it is read: no record the module writes
 * is over 64 KiB, and hiredis 0.14's reader has no limit of its own, so a
 * huge value (under a prefixed key, or from a server that is not Redis)
 * would be buffered whole
 */
#define NGX_HTTP_PAY_REDIS_REPLY_MAX    (4 * 1024 * 1024)


typedef struct {
    ngx_queue_t                   queue;
    ngx_http_pay_redis_reply_pt   handler;
    void                         *data;
} ngx_http_pay_redis_cmd_t;


static ngx_int_t ngx_http_pay_redis_replies(ngx_http_pay_redis_t *rd);
static const char *ngx_http_pay_redis_send_error(ngx_http_pay_redis_t *rd,
    ngx_err_t err);
static ngx_uint_t ngx_http_pay_redis_redirected(redisReply *r);
static ngx_uint_t ngx_http_pay_redis_readonly(redisReply *r);
static void ngx_http_pay_redis_cluster(ngx_http_pay_redis_t *rd,
    redisReply *r);
static void ngx_http_pay_redis_ping_reply(ngx_http_pay_redis_t *rd,
    redisReply *r, void *data);


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

    /* pending handlers run with NULL */
    ngx_http_pay_redis_close(rd, "closed");

    if (rd->out != NULL) {
        ngx_free(rd->out);
        rd->out = NULL;
        rd->out_size = 0;
    }

    ngx_http_pay_redis_tls_done(rd);
}


ngx_uint_t
ngx_http_pay_redis_ready(ngx_http_pay_redis_t *rd)
{
    return rd->attempt && !rd->failed && !rd->closing && !rd->abort.posted;
}


ngx_int_t
ngx_http_pay_redis_command(ngx_http_pay_redis_t *rd,
    ngx_http_pay_redis_reply_pt fn, void *data, int argc, const char **argv,
    const size_t *argvlen)
{
    if (!ngx_http_pay_redis_ready(rd)) {
        return NGX_DECLINED;
    }

    return ngx_http_pay_redis_queue(rd, fn, data, argc, argv, argvlen);
}


redisReply *
ngx_http_pay_redis_reply(ngx_http_pay_redis_t *rd, redisReply *reply)
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
    if (!rd->attempt || rd->closing) {
        return;
    }

    if (rd->reason == NULL) {
        rd->reason = reason;
    }

    /*
     * Posted rather than closed here: the caller may be a reply handler
     * (the read loop still holds the reader) or a timer handler whose
     * record the NULL replies would free under it.
     */
    if (!rd->abort.posted) {
        ngx_post_event(&rd->abort, &ngx_posted_events);
    }
}


/* formats the command into the output buffer and queues its handler */

ngx_int_t
ngx_http_pay_redis_queue(ngx_http_pay_redis_t *rd,
    ngx_http_pay_redis_reply_pt fn, void *data, int argc, const char **argv,
    const size_t *argvlen)
{
    u_char                    *out;
    size_t                     len, size;
    ngx_http_pay_redis_cmd_t  *pc;

    len = pay_resp_command_len(argc, argvlen);
    if (len == 0) {
        return NGX_DECLINED;
    }

    pc = ngx_alloc(sizeof(ngx_http_pay_redis_cmd_t), rd->log);
    if (pc == NULL) {
        return NGX_DECLINED;
    }

    if (rd->out_len + len > rd->out_size) {
        size = ngx_max(rd->out_size * 2, NGX_HTTP_PAY_REDIS_OUT_SIZE);

        while (size < rd->out_len - rd->out_pos + len) {
            size *= 2;
        }

        out = ngx_alloc(size, rd->log);
        if (out == NULL) {
            ngx_free(pc);
            return NGX_DECLINED;
        }

        if (rd->out_len > rd->out_pos) {
            ngx_memcpy(out, rd->out + rd->out_pos,
                       rd->out_len - rd->out_pos);
        }

        if (rd->out != NULL) {
            /* it may hold AUTH's password */
            ngx_explicit_memzero(rd->out, rd->out_len);
            ngx_free(rd->out);
        }

        /* nothing past hold is sent before it: hold >= out_pos */
        rd->hold = (rd->hold > rd->out_pos) ? rd->hold - rd->out_pos : 0;
        rd->secret = (rd->secret > rd->out_pos)
                     ? rd->secret - rd->out_pos : 0;
        rd->out_len -= rd->out_pos;
        rd->out_pos = 0;
        rd->out = out;
        rd->out_size = size;
    }

    /* written in place: no copy of AUTH's password is left anywhere */
    pay_resp_command((char *) rd->out + rd->out_len, argc, argv, argvlen);
    rd->out_len += len;

    pc->handler = fn;
    pc->data = data;
    ngx_queue_insert_tail(&rd->pending, &pc->queue);

    rd->active = ngx_current_msec;

    /* written at the end of this loop iteration: commands go out together */
    if (rd->transport && !rd->c->write->posted) {
        ngx_post_event(rd->c->write, &ngx_posted_events);
    }

    return NGX_OK;
}


void
ngx_http_pay_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                n;
    ngx_err_t              err;
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    static u_char          buf[NGX_HTTP_PAY_REDIS_READ_SIZE];

    c = rev->data;
    rd = c->data;

    if (!rd->transport) {
        /* TLS handshake still running: its handler has the events */
        return;
    }

    for ( ;; ) {
        n = (c->ssl != NULL)
            ? ngx_http_pay_redis_tls_recv(rd, buf, sizeof(buf))
            : c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_http_pay_redis_close(rd, "Server closed the connection");
            return;
        }

        if (n == NGX_ERROR) {
            err = ngx_socket_errno;
            ngx_http_pay_redis_close(rd, (c->ssl != NULL)
                                         ? (const char *) rd->errstr
                                         : err
                                         ? ngx_http_pay_redis_strerror(rd,
                                                                       err)
                                         : "read failed");
            return;
        }

        if (redisReaderFeed(rd->reader, (const char *) buf, n) != REDIS_OK) {
            ngx_http_pay_redis_close(rd, "cannot buffer a reply");
            return;
        }

        rd->fed += n;

        if (ngx_http_pay_redis_replies(rd) != NGX_OK) {
            return;
        }

        /*
         * What is left is one reply, still incomplete: counted from its
         * first byte, the parts the reader has already made objects of
         * included (an endless array of small elements), not only what
         * it still buffers
         */
        if (rd->fed - rd->reply_start > NGX_HTTP_PAY_REDIS_REPLY_MAX) {
            ngx_http_pay_redis_close(rd, "a reply over 4 MiB: not one of "
                                         "the module's records");
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_pay_redis_close(rd, "cannot add a read event");
    }
}


void
ngx_http_pay_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (!rd->transport) {
        return;
    }

    if (rd->read_on_write) {
        /* an SSL_read() waited for the socket to take its bytes */
        rd->read_on_write = 0;

        if (!c->read->posted) {
            ngx_post_event(c->read, &ngx_posted_events);
        }
    }

    (void) ngx_http_pay_redis_flush(rd);
}


/* NGX_ERROR: the connection is closed */

ngx_int_t
ngx_http_pay_redis_flush(ngx_http_pay_redis_t *rd)
{
    size_t             end;
    ssize_t            n;
    ngx_err_t          err;
    ngx_connection_t  *c;

    c = rd->c;

    /* until AUTH and SELECT answered, only they go out */
    end = rd->connected ? rd->out_len : rd->hold;

    while (rd->out_pos < end) {
        n = c->send(c, rd->out + rd->out_pos, end - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            err = ngx_socket_errno;
            ngx_http_pay_redis_close(rd,
                                     ngx_http_pay_redis_send_error(rd, err));
            return NGX_ERROR;
        }

        rd->out_pos += n;
    }

    if (rd->secret && rd->out_pos >= rd->secret) {
        /* AUTH is out: its password does not stay in the buffer */
        ngx_explicit_memzero(rd->out, rd->secret);
        rd->secret = 0;
    }

    if (rd->out_pos == rd->out_len) {
        rd->out_pos = 0;
        rd->out_len = 0;
        rd->hold = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_pay_redis_close(rd, "cannot add a write event");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Why a write failed.  A TLS server that refuses us (TLS 1.3: a client
 * certificate, after the handshake) sends an alert and closes; our next
 * write may then meet the reset before our read meets the alert, so the
 * alert, still queued on the socket, is read for the reason: the same
 * refusal is worded the same on every attempt (one error line).
 */

static const char *
ngx_http_pay_redis_send_error(ngx_http_pay_redis_t *rd, ngx_err_t err)
{
    u_char  byte;

    if (rd->c->ssl == NULL) {
        return err ? ngx_http_pay_redis_strerror(rd, err) : "write failed";
    }

    if (ngx_http_pay_redis_tls_recv(rd, &byte, 1) == NGX_ERROR
        && ngx_strncmp(rd->errstr, "TLS: ", 5) == 0
        && ngx_strncmp(rd->errstr, "TLS: read failed", 16) != 0)
    {
        return (const char *) rd->errstr;
    }

    return "TLS: write failed";
}


/* every complete reply read so far, each to the head of the queue */

static ngx_int_t
ngx_http_pay_redis_replies(ngx_http_pay_redis_t *rd)
{
    void                      *reply;
    ngx_queue_t               *q;
    ngx_http_pay_redis_cmd_t  *pc;

    for ( ;; ) {
        reply = NULL;

        if (redisReaderGetReply(rd->reader, &reply) != REDIS_OK) {

            if (ngx_http_pay_redis_reader_refused(rd->declared)) {
                ngx_http_pay_redis_close(rd, "a reply of over 1024 array "
                                             "elements: not one of the "
                                             "module's");
                return NGX_ERROR;
            }

            /* "Protocol error, got ..." */
            (void) ngx_cpystrn(rd->errstr,
                               (u_char *) rd->reader->errstr,
                               sizeof(rd->errstr));
            ngx_http_pay_redis_close(rd, (const char *) rd->errstr);
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        rd->declared = 0;

        /* the next reply begins where the reader's unread bytes do */
        rd->reply_start = rd->fed - (rd->reader->len - rd->reader->pos);

        if (ngx_queue_empty(&rd->pending)) {
            freeReplyObject(reply);
            ngx_http_pay_redis_close(rd, "a reply nobody asked for");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rd->pending);
        ngx_queue_remove(q);
        pc = ngx_queue_data(q, ngx_http_pay_redis_cmd_t, queue);

        rd->active = ngx_current_msec;

        if (!rd->failed && ngx_http_pay_redis_redirected(reply)) {
            ngx_http_pay_redis_cluster(rd, reply);
        }

        if (ngx_http_pay_redis_readonly(reply)) {
            /*
             * a master turned replica (a failover): start over, and ask
             * ROLE before writing again, so a server that stays a replica
             * is retried with backoff, not at every command
             */
            rd->readonly = 1;
            ngx_http_pay_redis_abort(rd, "READONLY: the server is a "
                                         "replica now");
        }

        pc->handler(rd, reply, pc->data);

        freeReplyObject(reply);
        ngx_free(pc);

        /* a handler never closes the connection itself (abort is posted) */
    }
}


static ngx_uint_t
ngx_http_pay_redis_readonly(redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR
           && r->len >= 8
           && ngx_strncmp(r->str, "READONLY", 8) == 0;
}


/* -MOVED or -ASK: the key lives on another node of a Redis Cluster */

static ngx_uint_t
ngx_http_pay_redis_redirected(redisReply *r)
{
    if (r->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    return (r->len > 6 && ngx_strncmp(r->str, "MOVED ", 6) == 0)
           || (r->len > 4 && ngx_strncmp(r->str, "ASK ", 4) == 0);
}


/*
 * A Redis Cluster node answered for a key it does not hold.  A store is
 * one endpoint: following a slot map is not done, and a store that works
 * for the keys of one node only would half-work.  The worker stops using
 * the store until the configuration is reloaded: its requests get 503.
 */

static void
ngx_http_pay_redis_cluster(ngx_http_pay_redis_t *rd, redisReply *r)
{
    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "pay_store \"%V\": redis %V is a Redis Cluster node that "
                  "redirects (\"%*s\"): a store needs one endpoint that "
                  "holds every key; use the cluster's single-endpoint mode "
                  "(a cluster proxy) or Sentinel; the store is not used "
                  "until nginx is reloaded", &rd->name, &rd->addr,
                  ngx_min(r->len, NGX_HTTP_PAY_REDIS_ERR_LEN), r->str);

    /* nothing was written: no claim to give back, nothing owed again */
    rd->failed = 1;
    rd->connected = 0;
    rd->quiet = 1;
    rd->cluster = 1;

    ngx_http_pay_redis_abort(rd, "Redis Cluster redirection");
}


/*
 * Closes the connection, if any, now: every pending handler runs with
 * NULL, while rd->connected still says whether the commands may have run.
 */

void
ngx_http_pay_redis_close(ngx_http_pay_redis_t *rd, const char *reason)
{
    ngx_pool_t                *pool;
    ngx_queue_t               *q;
    ngx_connection_t          *c;
    ngx_http_pay_redis_cmd_t  *pc;

    if (!rd->attempt) {
        return;
    }

    rd->closing = 1;

    if (rd->reason != NULL) {
        reason = rd->reason;
    }

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (rd->idle.timer_set) {
        ngx_del_timer(&rd->idle);
    }

    if (rd->abort.posted) {
        ngx_delete_posted_event(&rd->abort);
    }

    if (rd->resolving != NULL) {
        ngx_resolve_name_done(rd->resolving);
        rd->resolving = NULL;
    }

    ngx_http_pay_redis_sentinel_cancel(rd);

    c = rd->c;
    rd->c = NULL;

    if (c != NULL) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        pool = c->pool;
        ngx_close_connection(c);
        ngx_destroy_pool(pool);
    }

    ngx_http_pay_redis_tls_close(rd);

    rd->pc.connection = NULL;

    if (rd->reader != NULL) {
        redisReaderFree(rd->reader);
        rd->reader = NULL;
    }

    if (rd->secret) {
        ngx_explicit_memzero(rd->out, rd->secret);
        rd->secret = 0;
    }

    rd->out_pos = 0;
    rd->out_len = 0;
    rd->hold = 0;

    if (rd->exiting) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "pay_store \"%V\": redis %V closed",
                       &rd->name, &rd->addr);

    } else if (rd->quiet) {
        /* its reason is logged already */
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "pay_store \"%V\": redis %V closed: %s",
                      &rd->name, &rd->addr, reason);

    } else if (rd->connected) {
        ngx_http_pay_redis_log_failure(rd, "connection lost", reason);

    } else {
        ngx_http_pay_redis_log_failure(rd, "connect failed", reason);
    }

    while (!ngx_queue_empty(&rd->pending)) {
        q = ngx_queue_head(&rd->pending);
        ngx_queue_remove(q);
        pc = ngx_queue_data(q, ngx_http_pay_redis_cmd_t, queue);

        pc->handler(rd, NULL, pc->data);

        ngx_free(pc);
    }

    rd->attempt = 0;
    rd->read_on_write = 0;
    rd->transport = 0;
    rd->connected = 0;
    rd->up = 0;
    rd->handshake = 0;
    rd->pinging = 0;
    rd->reason = NULL;
    rd->closing = 0;

    ngx_http_pay_redis_schedule(rd);
}


/*
 * One error line per failure: the same failure on the next attempts is
 * logged at info, until a connection is made again.
 */

void
ngx_http_pay_redis_log_failure(ngx_http_pay_redis_t *rd, const char *what,
    const char *reason)
{
    u_char      line[sizeof(rd->failure)], *p;
    ngx_uint_t  level;

    if (what != NULL) {
        p = ngx_snprintf(line, sizeof(line) - 1, "%s: %s", what, reason);

    } else {
        p = ngx_snprintf(line, sizeof(line) - 1, "%s", reason);
    }

    *p = '\0';

    level = (ngx_strcmp(line, rd->failure) == 0) ? NGX_LOG_INFO
                                                  : NGX_LOG_ERR;

    (void) ngx_cpystrn(rd->failure, line, sizeof(rd->failure));

    ngx_log_error(level, rd->log, 0, "pay_store \"%V\": redis %V %s",
                  &rd->name, &rd->addr, line);
}


const char *
ngx_http_pay_redis_strerror(ngx_http_pay_redis_t *rd, ngx_err_t err)
{
    u_char  *p;

    p = ngx_strerror(err, rd->errstr, sizeof(rd->errstr) - 1);
    *p = '\0';

    return (const char *) rd->errstr;
}


void
ngx_http_pay_redis_schedule(ngx_http_pay_redis_t *rd)
{
    if (rd->exiting || rd->cluster || rd->reconnect.timer_set) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "pay_store \"%V\": redis %V reconnect in %M ms",
                   &rd->name, &rd->addr, rd->backoff);

    ngx_add_timer(&rd->reconnect, rd->backoff);

    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_PAY_REDIS_BACKOFF_MAX);
}


void
ngx_http_pay_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    ngx_http_pay_redis_close(rd, rd->transport ? "AUTH or SELECT timed out"
                                               : "connect timed out");
}


void
ngx_http_pay_redis_abort_handler(ngx_event_t *ev)
{
    ngx_http_pay_redis_close(ev->data, "aborted");
}


/*
 * ping= after the last command or reply, a PING: a connection that died
 * without a word (a failover, a NAT that forgot it, a host gone) is found
 * out within timeout= and made again before a request needs it.
 */

void
ngx_http_pay_redis_idle_handler(ngx_event_t *ev)
{
    size_t                 len;
    ngx_msec_t             idle;
    const char            *argv;
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    if (!rd->up) {
        return;
    }

    if (rd->pinging) {
        ngx_http_pay_redis_close(rd, "PING timed out");
        return;
    }

    idle = ngx_current_msec - rd->active;

    if (!ngx_queue_empty(&rd->pending) || idle < rd->ping) {
        /* busy: the commands' own timers watch the connection */
        ngx_add_timer(&rd->idle, ngx_queue_empty(&rd->pending)
                                 ? rd->ping - idle : rd->ping);
        return;
    }

    argv = "PING";
    len = sizeof("PING") - 1;

    if (ngx_http_pay_redis_queue(rd, ngx_http_pay_redis_ping_reply, NULL, 1,
                                 &argv, &len)
        != NGX_OK)
    {
        ngx_add_timer(&rd->idle, rd->ping);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "pay_store \"%V\": redis idle, PING", &rd->name);

    rd->pinging = 1;
    ngx_add_timer(&rd->idle, rd->timeout);
}


static void
ngx_http_pay_redis_ping_reply(ngx_http_pay_redis_t *rd, redisReply *r,
    void *data)
{
    rd->pinging = 0;

    if (r == NULL) {
        return;
    }

    if (rd->idle.timer_set) {
        ngx_del_timer(&rd->idle);
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "pay_store \"%V\": redis %V answered PING with "
                      "\"%*s\"", &rd->name, &rd->addr,
                      ngx_min(r->len, NGX_HTTP_PAY_REDIS_ERR_LEN), r->str);
    }

    ngx_add_timer(&rd->idle, rd->ping);
}
