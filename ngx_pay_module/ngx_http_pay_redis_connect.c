
/*
 * Copyright (C) ngx_pay authors
 *
 * Making the Redis connection (see ngx_http_pay_redis.c for its life):
 * the worker's start and the reconnect timer,
 * the name resolved by nginx's resolver when redis= is a host name, the
 * socket connected by ngx_event_connect_peer() with TCP keepalive, TLS
 * started (ngx_http_pay_redis_tls.c), AUTH and SELECT queued first and
 * their answers checked, and the store declared "connected".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_redis.h"


static void ngx_http_pay_redis_connect(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_sentinel_answered(ngx_http_pay_redis_t *rd,
    ngx_int_t rc, const char *reason);
static ngx_uint_t ngx_http_pay_redis_role_denied(redisReply *r);
static void ngx_http_pay_redis_role_reply(ngx_http_pay_redis_t *rd,
    redisReply *r, void *data);
static void ngx_http_pay_redis_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_pay_redis_connect_peer(ngx_http_pay_redis_t *rd,
    struct sockaddr *sockaddr, socklen_t socklen);
static void ngx_http_pay_redis_handshake(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_handshake_reply(ngx_http_pay_redis_t *rd,
    redisReply *r, void *data);
static void ngx_http_pay_redis_connect_handler(ngx_event_t *ev);
static void ngx_http_pay_redis_tls_ended(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_transport_up(ngx_http_pay_redis_t *rd);
static void ngx_http_pay_redis_established(ngx_http_pay_redis_t *rd);


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

    /*
     * ngx_event_connect_peer() logs a failed connect() itself, at error
     * or crit (a unix socket's path missing), on every attempt: its
     * reason is ours to say, once (log_failure)
     */
    rd->connect_log = *cycle->log;
    rd->connect_log.log_level = NGX_LOG_ALERT;

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
ngx_http_pay_redis_connect(ngx_http_pay_redis_t *rd)
{
    ngx_resolver_ctx_t  *ctx;

    rd->reason = NULL;
    rd->handshake = 0;
    rd->transport = 0;
    rd->connected = 0;
    rd->up = 0;
    rd->failed = 0;
    rd->quiet = 0;
    rd->pinging = 0;
    rd->out_pos = 0;
    rd->out_len = 0;
    rd->hold = 0;

    rd->fed = 0;
    rd->reply_start = 0;

    rd->reader = ngx_http_pay_redis_reader(&rd->declared);
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

    /*
     * connect_timeout= covers resolving, the TCP connect and TLS, then
     * AUTH and SELECT (or PING); with sentinels it starts once one
     * answered (each has timeout= of its own, so a silent one costs one
     * timeout, not the attempt)
     */
    if (!rd->nsentinels) {
        ngx_add_timer(&rd->connect_timer, rd->connect_timeout);
    }

    ngx_http_pay_redis_handshake(rd);

    if (rd->nsentinels) {
        /* the master's address, from the sentinels, for every connection */
        rd->sentinel_handler = ngx_http_pay_redis_sentinel_answered;
        ngx_http_pay_redis_sentinel_ask(rd);
        return;
    }

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

    /* a worker shutting down does not wait for the answer */
    ctx->cancelable = 1;

    rd->resolving = ctx;

    /* the handler may run before this returns (a cached answer) */
    if (ngx_resolve_name(ctx) != NGX_OK) {
        rd->resolving = NULL;
        ngx_http_pay_redis_close(rd, "cannot resolve");
    }
}


static void
ngx_http_pay_redis_sentinel_answered(ngx_http_pay_redis_t *rd, ngx_int_t rc,
    const char *reason)
{
    if (rc != NGX_OK) {
        ngx_http_pay_redis_close(rd, reason);
        return;
    }

    ngx_add_timer(&rd->connect_timer, rd->connect_timeout);

    ngx_http_pay_redis_connect_peer(rd, &rd->resolved.sockaddr,
                                    rd->resolved_len);
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
    rd->pc.log = &rd->connect_log;
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

        /* AUTH is first in the buffer: wiped once written */
        rd->secret = rd->out_len;
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

    if (rd->nsentinels || rd->readonly) {
        /*
         * what the sentinels said may be stale, and a server that said
         * READONLY may still be a replica: never write to one
         */
        argv[0] = "ROLE";
        len[0] = sizeof("ROLE") - 1;

        if (ngx_http_pay_redis_queue(rd, ngx_http_pay_redis_role_reply,
                                     NULL, 1, argv, len)
            != NGX_OK)
        {
            rd->failed = 1;
            ngx_http_pay_redis_abort(rd, "cannot queue ROLE");
            return;
        }

        rd->handshake++;
    }

    if (rd->handshake == 0) {
        /*
         * Without AUTH, SELECT or ROLE, a PING: a connection counts as
         * established (logged "connected", backoff reset, health up) only
         * once Redis answered on it, not when TLS was merely accepted (a
         * TLS 1.3 server refuses a client certificate only after that)
         */
        argv[0] = "PING";
        len[0] = sizeof("PING") - 1;

        if (ngx_http_pay_redis_queue(rd, ngx_http_pay_redis_handshake_reply,
                                     "PING", 1, argv, len)
            != NGX_OK)
        {
            rd->failed = 1;
            ngx_http_pay_redis_abort(rd, "cannot queue PING");
            return;
        }

        rd->handshake++;
    }

    /* what is queued from here waits for established() */
    rd->hold = rd->out_len;
}


/* ROLE not allowed to the user (-NOPERM), or not known to the server */

static ngx_uint_t
ngx_http_pay_redis_role_denied(redisReply *r)
{
    return (r->len >= 6 && ngx_strncmp(r->str, "NOPERM", 6) == 0)
           || (r->len >= 19
               && ngx_strncmp(r->str, "ERR unknown command", 19) == 0);
}


static void
ngx_http_pay_redis_role_reply(ngx_http_pay_redis_t *rd, redisReply *r,
    void *data)
{
    redisReply  *role;

    if (r == NULL || rd->failed) {
        return;
    }

    if (r->type == REDIS_REPLY_ERROR
        && !rd->nsentinels
        && ngx_http_pay_redis_role_denied(r))
    {
        /*
         * a plain store asks ROLE only after a -READONLY: a user whose
         * ACL lacks it, or a server without it, is used as before (said
         * once per worker and store), and the next -READONLY drops the
         * connection again; any other error refuses the handshake
         */
        if (!rd->role_warned) {
            ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                          "pay_store \"%V\": redis %V refused ROLE "
                          "(\"%*s\"): the server's role is not checked",
                          &rd->name, &rd->addr,
                          ngx_min(r->len, (size_t) 128), r->str);
            rd->role_warned = 1;
        }

        rd->readonly = 0;

        if (--rd->handshake == 0) {
            ngx_http_pay_redis_established(rd);
        }

        return;
    }

    if (r->type == REDIS_REPLY_ERROR && !rd->nsentinels) {
        /* "-ERR max number of clients reached", -NOAUTH, -LOADING... */
        ngx_http_pay_redis_handshake_reply(rd, r, "ROLE");
        return;
    }

    role = (r->type == REDIS_REPLY_ARRAY && r->elements > 0)
           ? r->element[0] : NULL;

    if (role != NULL
        && role->type == REDIS_REPLY_STRING
        && role->len == 6
        && ngx_strncmp(role->str, "master", 6) == 0)
    {
        rd->readonly = 0;

        if (--rd->handshake == 0) {
            ngx_http_pay_redis_established(rd);
        }

        return;
    }

    /* nothing behind ROLE is counted as written: it is refused */
    ngx_http_pay_redis_log_failure(rd, "connect failed",
                                   rd->nsentinels
                                   ? "the sentinels' master is not a "
                                     "master (ROLE), asking them again"
                                   : "the server is a replica (ROLE)");
    rd->failed = 1;
    rd->connected = 0;
    rd->quiet = 1;
    ngx_http_pay_redis_abort(rd, "not a master");
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


/*
 * TCP (and TLS) up: AUTH and SELECT (or PING) go out, the rest waits for
 * their answers
 */

static void
ngx_http_pay_redis_transport_up(ngx_http_pay_redis_t *rd)
{
    ngx_connection_t  *c;

    c = rd->c;

    c->read->handler = ngx_http_pay_redis_read_handler;
    c->write->handler = ngx_http_pay_redis_write_handler;

    rd->transport = 1;

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

    if (rd->resolver != NULL || rd->nsentinels) {
        /* which address the name (or the sentinels) gave this time */
        ngx_memcpy(addr, " to ", 4);
        len = 4 + ngx_sock_ntop(&rd->resolved.sockaddr, rd->resolved_len,
                                addr + 4, NGX_SOCKADDR_STRLEN, 1);
    }

    rd->connected = 1;
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

    /* the commands held behind the handshake go out (posted: we may be
     * inside a reply handler, which must not close the connection) */
    if (rd->out_len > rd->out_pos && !rd->c->write->posted) {
        ngx_post_event(rd->c->write, &ngx_posted_events);
    }

    if (rd->ready) {
        rd->ready(rd);
    }
}
