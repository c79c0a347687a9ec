
/*
 * Copyright (C) ngx_pay authors
 *
 * The per-worker Redis connection, owned by nginx (CRAFT section 4.3,
 * docs/architecture.md "The Redis connection").
 *
 * nginx connects (ngx_event_connect_peer, TCP keepalive on), runs TLS when
 * the store asks for it (ngx_http_pay_redis_tls.c) and reads and writes
 * through c->recv and c->send, plain or TLS alike.  hiredis is used for
 * what it is good at and nothing else: redisFormatCommandArgv() turns a
 * command into RESP, a redisReader turns the bytes read into replies.
 * Replies come back in the order the commands went out, so the pending
 * handlers form a queue: each reply goes to the head.
 *
 * A connection's life:
 *
 *   connect     ngx_event_connect_peer(); AUTH and SELECT are queued
 *               first, so whatever the engine sends meanwhile follows
 *               them on the wire;
 *   TLS         once TCP is up, when the store has tls;
 *   up          the transport is up: the queued bytes go out; once AUTH
 *               and SELECT answered OK (at once without them) the store
 *               is "connected" (logged) and its ready callback runs;
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


#define NGX_HTTP_PAY_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_PAY_REDIS_BACKOFF_MAX  5000

/* how much of a Redis error message a log line quotes */
#define NGX_HTTP_PAY_REDIS_ERR_LEN      128

/* read at once, and the first output buffer */
#define NGX_HTTP_PAY_REDIS_READ_SIZE    16384
#define NGX_HTTP_PAY_REDIS_OUT_SIZE     4096


typedef struct {
    ngx_queue_t                   queue;
    ngx_http_pay_redis_reply_pt   handler;
    void                         *data;
} ngx_http_pay_redis_cmd_t;


static void ngx_http_pay_redis_connect(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_pay_redis_connect_peer(ngx_http_pay_redis_t *rd,
    struct sockaddr *sockaddr, socklen_t socklen);
static ngx_int_t ngx_http_pay_redis_queue(ngx_http_pay_redis_t *rd,
    ngx_http_pay_redis_reply_pt fn, void *data, int argc, const char **argv,
    const size_t *argvlen);
static void ngx_http_pay_redis_handshake(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_handshake_reply(ngx_http_pay_redis_t *rd,
    redisReply *r, void *data);
static void ngx_http_pay_redis_connect_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_tls_ended(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_transport_up(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_established(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_read_handler(ngx_event_t *rev);
static void ngx_http_pay_redis_write_handler(ngx_event_t *wev);
static ngx_int_t ngx_http_pay_redis_flush(ngx_http_pay_redis_t *rd);
static ngx_int_t ngx_http_pay_redis_replies(ngx_http_pay_redis_t *rd);
static ngx_uint_t ngx_http_pay_redis_redirected(redisReply *r);
static void ngx_http_pay_redis_cluster(ngx_http_pay_redis_t *rd,
    redisReply *r);
static void ngx_http_pay_redis_close(ngx_http_pay_redis_t *rd,
    const char *reason);
static void ngx_http_pay_redis_log_failure(ngx_http_pay_redis_t *rd,
    const char *what, const char *reason);
static const char *ngx_http_pay_redis_strerror(ngx_http_pay_redis_t *rd,
    ngx_err_t err);
static void ngx_http_pay_redis_schedule(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_pay_redis_abort_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_idle_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_ping_reply(ngx_http_pay_redis_t *rd,
    redisReply *r, void *data);


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

    ngx_queue_init(&rd->pending);

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

    rd->idle.handler = ngx_http_pay_redis_idle_handler;
    rd->idle.data = rd;
    rd->idle.log = cycle->log;
    rd->idle.cancelable = 1;

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


static void
ngx_http_pay_redis_connect(ngx_http_pay_redis_t *rd)
{
    ngx_resolver_ctx_t  *ctx;

    rd->reason = NULL;
    rd->handshake = 0;
    rd->connected = 0;
    rd->up = 0;
    rd->failed = 0;
    rd->quiet = 0;
    rd->pinging = 0;
    rd->out_pos = 0;
    rd->out_len = 0;

    rd->reader = redisReaderCreate();
    if (rd->reader == NULL) {
        ngx_http_pay_redis_log_failure(rd, "connect failed",
                                       "cannot allocate a reader");
        ngx_http_pay_redis_schedule(rd);
        return;
    }

    /* from here every failure goes through close(): it fails AUTH/SELECT */
    rd->attempt = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "pay_store \"%V\": redis connecting to %V",
                   &rd->name, &rd->addr);

    /* covers resolving, the TCP connect and TLS, then AUTH and SELECT */
    ngx_add_timer(&rd->connect_timer, rd->timeout);

    ngx_http_pay_redis_handshake(rd);

    if (rd->resolver == NULL) {
        ngx_http_pay_redis_connect_peer(rd, rd->sockaddr, rd->socklen);
        return;
    }

    /* a name: resolved again for every connection, so a move is followed */

    ctx = ngx_resolve_start(rd->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_pay_redis_close(rd, "cannot start resolving");
        return;
    }

    ctx->name = rd->host;
    ctx->handler = ngx_http_pay_redis_resolved;
    ctx->data = rd;
    ctx->timeout = rd->resolver_timeout;

    rd->resolving = ctx;

    /* the handler may run before this returns (a cached answer) */
    if (ngx_resolve_name(ctx) != NGX_OK) {
        rd->resolving = NULL;
        ngx_http_pay_redis_close(rd, "cannot resolve");
    }
}


static void
ngx_http_pay_redis_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_uint_t             i;
    ngx_http_pay_redis_t  *rd;

    rd = ctx->data;
    rd->resolving = NULL;

    if (ctx->state) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "cannot resolve \"%V\": %s%Z", &rd->host,
                            ngx_resolver_strerror(ctx->state));
        rd->errstr[sizeof(rd->errstr) - 1] = '\0';

        ngx_resolve_name_done(ctx);
        ngx_http_pay_redis_close(rd, (const char *) rd->errstr);
        return;
    }

    /* each new connection takes the next address of the answer */
    i = rd->next_addr++ % ctx->naddrs;

    rd->resolved_len = ctx->addrs[i].socklen;
    ngx_memcpy(&rd->resolved, ctx->addrs[i].sockaddr, rd->resolved_len);
    ngx_inet_set_port(&rd->resolved.sockaddr, rd->port);

    ngx_resolve_name_done(ctx);

    ngx_http_pay_redis_connect_peer(rd, &rd->resolved.sockaddr,
                                    rd->resolved_len);
}


static void
ngx_http_pay_redis_connect_peer(ngx_http_pay_redis_t *rd,
    struct sockaddr *sockaddr, socklen_t socklen)
{
    ngx_int_t          rc;
    ngx_err_t          err;
    ngx_connection_t  *c;

    ngx_memzero(&rd->pc, sizeof(ngx_peer_connection_t));

    rd->pc.sockaddr = sockaddr;
    rd->pc.socklen = socklen;
    rd->pc.name = &rd->addr;
    rd->pc.get = ngx_event_get_peer;
    rd->pc.log = rd->log;
    rd->pc.log_error = NGX_ERROR_INFO;
    rd->pc.tries = 1;

    /* a peer that vanished without a word is noticed by the kernel too */
    rd->pc.so_keepalive = (sockaddr->sa_family != AF_UNIX);

    rc = ngx_event_connect_peer(&rd->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        /* nginx closed the socket: errno still says why connect() failed */
        err = ngx_socket_errno;
        rd->pc.connection = NULL;

        ngx_http_pay_redis_close(rd, (rc == NGX_DECLINED && err)
                                     ? ngx_http_pay_redis_strerror(rd, err)
                                     : "cannot connect");
        return;
    }

    c = rd->pc.connection;

    /* TLS allocates its state from the connection's pool */
    c->pool = ngx_create_pool(512, rd->log);
    if (c->pool == NULL) {
        ngx_close_connection(c);
        rd->pc.connection = NULL;
        ngx_http_pay_redis_close(rd, "no memory");
        return;
    }

    c->data = rd;
    c->read->handler = ngx_http_pay_redis_connect_handler;
    c->write->handler = ngx_http_pay_redis_connect_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;
    c->log = rd->log;

    rd->c = c;

    if (rc == NGX_OK) {
        /* a unix socket may be connected at once */
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


/* formats the command into the output buffer and queues its handler */

static ngx_int_t
ngx_http_pay_redis_queue(ngx_http_pay_redis_t *rd,
    ngx_http_pay_redis_reply_pt fn, void *data, int argc, const char **argv,
    const size_t *argvlen)
{
    int                        len;
    char                      *cmd;
    u_char                    *out;
    size_t                     size;
    ngx_http_pay_redis_cmd_t  *pc;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_DECLINED;
    }

    pc = ngx_alloc(sizeof(ngx_http_pay_redis_cmd_t), rd->log);
    if (pc == NULL) {
        redisFreeCommand(cmd);
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
            redisFreeCommand(cmd);
            return NGX_DECLINED;
        }

        if (rd->out_len > rd->out_pos) {
            ngx_memcpy(out, rd->out + rd->out_pos,
                       rd->out_len - rd->out_pos);
        }

        if (rd->out != NULL) {
            ngx_free(rd->out);
        }

        rd->out_len -= rd->out_pos;
        rd->out_pos = 0;
        rd->out = out;
        rd->out_size = size;
    }

    ngx_memcpy(rd->out + rd->out_len, cmd, len);
    rd->out_len += len;

    redisFreeCommand(cmd);

    pc->handler = fn;
    pc->data = data;
    ngx_queue_insert_tail(&rd->pending, &pc->queue);

    rd->active = ngx_current_msec;

    /* written at the end of this loop iteration: commands go out together */
    if (rd->connected && !rd->c->write->posted) {
        ngx_post_event(rd->c->write, &ngx_posted_events);
    }

    return NGX_OK;
}


static void
ngx_http_pay_redis_handshake(ngx_http_pay_redis_t *rd)
{
    int          argc;
    u_char      *p, db[NGX_INT_T_LEN];
    size_t       len[3];
    const char  *argv[3];

    if (rd->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        len[argc++] = sizeof("AUTH") - 1;

        if (rd->user.len) {
            argv[argc] = (const char *) rd->user.data;
            len[argc++] = rd->user.len;
        }

        argv[argc] = (const char *) rd->password.data;
        len[argc++] = rd->password.len;

        if (ngx_http_pay_redis_queue(rd, ngx_http_pay_redis_handshake_reply,
                                     "AUTH", argc, argv, len)
            != NGX_OK)
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

        if (ngx_http_pay_redis_queue(rd, ngx_http_pay_redis_handshake_reply,
                                     "SELECT", 2, argv, len)
            != NGX_OK)
        {
            rd->failed = 1;
            ngx_http_pay_redis_abort(rd, "cannot queue SELECT");
            return;
        }

        rd->handshake++;
    }
}


static void
ngx_http_pay_redis_handshake_reply(ngx_http_pay_redis_t *rd, redisReply *r,
    void *data)
{
    char    *command;
    size_t   len;

    command = data;

    if (r == NULL || rd->failed) {
        /* the connection is going away: its close says why */
        return;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        len = ngx_min(r->len, NGX_HTTP_PAY_REDIS_ERR_LEN);

        /* Redis's own message ("WRONGPASS ...") never holds the password */
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "refused %s: \"%*s\"%Z", command, len, r->str);
        rd->errstr[sizeof(rd->errstr) - 1] = '\0';

        ngx_http_pay_redis_log_failure(rd, NULL, (const char *) rd->errstr);

        /*
         * Replies behind it may come from the wrong user or database, and
         * nothing behind a refused AUTH ran: no claim to give back.
         */
        rd->failed = 1;
        rd->connected = 0;
        rd->quiet = 1;
        ngx_http_pay_redis_abort(rd, "handshake refused");
        return;
    }

    if (--rd->handshake == 0) {
        ngx_http_pay_redis_established(rd);
    }
}


/* the socket's first event: TCP connected, or failed */

static void
ngx_http_pay_redis_connect_handler(ngx_event_t *ev)
{
    int                    err;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_pay_redis_close(rd, ngx_http_pay_redis_strerror(rd, err));
        return;
    }

    if (rd->tls != NULL) {
        c->read->handler = ngx_http_pay_redis_read_handler;
        c->write->handler = ngx_http_pay_redis_write_handler;

        if (ngx_http_pay_redis_tls_start(rd, ngx_http_pay_redis_tls_ended)
            != NGX_OK)
        {
            ngx_http_pay_redis_close(rd, rd->reason);
        }

        return;
    }

    ngx_http_pay_redis_transport_up(rd);
}


static void
ngx_http_pay_redis_tls_ended(ngx_http_pay_redis_t *rd)
{
    if (ngx_http_pay_redis_tls_verify(rd) != NGX_OK) {
        rd->quiet = 1;
        ngx_http_pay_redis_log_failure(rd, "connect failed", rd->reason);
        ngx_http_pay_redis_close(rd, rd->reason);
        return;
    }

    ngx_http_pay_redis_transport_up(rd);
}


/* TCP (and TLS) up: what was queued goes out, AUTH and SELECT first */

static void
ngx_http_pay_redis_transport_up(ngx_http_pay_redis_t *rd)
{
    ngx_connection_t  *c;

    c = rd->c;

    c->read->handler = ngx_http_pay_redis_read_handler;
    c->write->handler = ngx_http_pay_redis_write_handler;

    rd->connected = 1;

    if (rd->handshake == 0) {
        ngx_http_pay_redis_established(rd);

        if (rd->c == NULL) {
            return;
        }
    }

    if (ngx_http_pay_redis_flush(rd) != NGX_OK) {
        return;
    }

    /* a reply may already wait (TLS read ahead) */
    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


static void
ngx_http_pay_redis_established(ngx_http_pay_redis_t *rd)
{
    size_t  len;
    u_char  addr[NGX_SOCKADDR_STRLEN + sizeof(" to ")];

    len = 0;

    if (rd->resolver != NULL) {
        /* which address the name gave this time */
        ngx_memcpy(addr, " to ", 4);
        len = 4 + ngx_sock_ntop(&rd->resolved.sockaddr, rd->resolved_len,
                                addr + 4, NGX_SOCKADDR_STRLEN, 1);
    }

    rd->up = 1;
    rd->failure[0] = '\0';
    rd->backoff = NGX_HTTP_PAY_REDIS_BACKOFF_MIN;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                  "pay_store \"%V\": redis %V connected%*s%s",
                  &rd->name, &rd->addr, len, addr,
                  (rd->tls != NULL) ? " (TLS)" : "");

    if (rd->ping && !rd->idle.timer_set) {
        ngx_add_timer(&rd->idle, rd->ping);
    }

    if (rd->ready) {
        rd->ready(rd);
    }
}


static void
ngx_http_pay_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                n;
    ngx_err_t              err;
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    static u_char          buf[NGX_HTTP_PAY_REDIS_READ_SIZE];

    c = rev->data;
    rd = c->data;

    if (!rd->connected) {
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

        if (ngx_http_pay_redis_replies(rd) != NGX_OK) {
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_pay_redis_close(rd, "cannot add a read event");
    }
}


static void
ngx_http_pay_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (!rd->connected) {
        return;
    }

    (void) ngx_http_pay_redis_flush(rd);
}


/* NGX_ERROR: the connection is closed */

static ngx_int_t
ngx_http_pay_redis_flush(ngx_http_pay_redis_t *rd)
{
    ssize_t            n;
    ngx_err_t          err;
    ngx_connection_t  *c;

    c = rd->c;

    while (rd->out_pos < rd->out_len) {
        n = c->send(c, rd->out + rd->out_pos, rd->out_len - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            err = ngx_socket_errno;
            ngx_http_pay_redis_close(rd, (c->ssl == NULL && err)
                                         ? ngx_http_pay_redis_strerror(rd,
                                                                       err)
                                         : "write failed");
            return NGX_ERROR;
        }

        rd->out_pos += n;
    }

    if (rd->out_pos == rd->out_len) {
        rd->out_pos = 0;
        rd->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_pay_redis_close(rd, "cannot add a write event");
        return NGX_ERROR;
    }

    return NGX_OK;
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

        pc->handler(rd, reply, pc->data);

        freeReplyObject(reply);
        ngx_free(pc);

        /* a handler never closes the connection itself (abort is posted) */
    }
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

static void
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

    rd->pc.connection = NULL;

    if (rd->reader != NULL) {
        redisReaderFree(rd->reader);
        rd->reader = NULL;
    }

    rd->out_pos = 0;
    rd->out_len = 0;

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

static void
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


static const char *
ngx_http_pay_redis_strerror(ngx_http_pay_redis_t *rd, ngx_err_t err)
{
    u_char  *p;

    p = ngx_strerror(err, rd->errstr, sizeof(rd->errstr) - 1);
    *p = '\0';

    return (const char *) rd->errstr;
}


static void
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


static void
ngx_http_pay_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    if (rd->exiting || rd->attempt) {
        return;
    }

    ngx_http_pay_redis_connect(rd);
}


static void
ngx_http_pay_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_pay_redis_t  *rd;

    rd = ev->data;

    ngx_http_pay_redis_close(rd, rd->connected ? "AUTH or SELECT timed out"
                                               : "connect timed out");
}


static void
ngx_http_pay_redis_abort_handler(ngx_event_t *ev)
{
    ngx_http_pay_redis_close(ev->data, "aborted");
}


/*
 * ping= after the last command or reply, a PING: a connection that died
 * without a word (a failover, a NAT that forgot it, a host gone) is found
 * out within timeout= and made again before a request needs it.
 */

static void
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
