
/*
 * Copyright (C) ngx_pay authors
 *
 * One persistent Redis connection per worker (and per Redis store that the
 * worker's configuration uses), owned by nginx: nginx connects
 * (ngx_event_connect_peer), speaks TLS (ngx_ssl_*), reads and writes;
 * commands are written by core/pay_resp.c, and hiredis only parses
 * replies (redisReader).  This layer owns connecting, TLS, AUTH and
 * SELECT, the idle PING, reconnecting with backoff and tearing the
 * connection down (docs/architecture.md, "The Redis connection").
 */


#ifndef _NGX_HTTP_PAY_REDIS_H_INCLUDED_
#define _NGX_HTTP_PAY_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>


/* reconnection backoff, ms: doubles from MIN to MAX */
#define NGX_HTTP_PAY_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_PAY_REDIS_BACKOFF_MAX  5000

/* how much of a Redis error message a log line quotes */
#define NGX_HTTP_PAY_REDIS_ERR_LEN      128

/*
 * The longest master= and sentinel_password= nginx -t takes: a sentinel's
 * AUTH (22 bytes and the password) takes at most 512 bytes of sentinel_buf,
 * its question (56 bytes and the name) the rest
 */
#define NGX_HTTP_PAY_REDIS_MASTER_MAX             256
#define NGX_HTTP_PAY_REDIS_SENTINEL_PASSWORD_MAX  490


typedef struct ngx_http_pay_redis_s  ngx_http_pay_redis_t;

/* a new connection is up: the engine re-sends what it still owes */
typedef void (*ngx_http_pay_redis_ready_pt)(ngx_http_pay_redis_t *rd);

/*
 * A command's reply: runs exactly once per command accepted, with NULL
 * when the connection is lost first.  The reply is freed when it returns.
 */
typedef void (*ngx_http_pay_redis_reply_pt)(ngx_http_pay_redis_t *rd,
    redisReply *reply, void *data);

/* what the sentinels said: NGX_OK, the master's address in rd->resolved */
typedef void (*ngx_http_pay_redis_sentinel_pt)(ngx_http_pay_redis_t *rd,
    ngx_int_t rc, const char *reason);


/* the TLS side of a store (ngx_http_pay_redis_tls.c) */
typedef struct {
#if (NGX_SSL)
    ngx_ssl_t                     ssl;
    ngx_ssl_session_t            *session;    /* per worker: reused */
    ngx_ssl_session_t            *pending;    /* this connection's, kept
                                                 once it is verified */
#endif
    ngx_str_t                     name;       /* SNI and the name checked */
    ngx_str_t                     trusted;    /* CA file, "" = system */
    ngx_str_t                     certificate;
    ngx_str_t                     certificate_key;
    ngx_flag_t                    verify;
} ngx_http_pay_redis_tls_t;


struct ngx_http_pay_redis_s {
    /* configuration (set while parsing, shared by the workers) */
    ngx_str_t                     name;       /* the store's, for logs */
    ngx_str_t                     addr;       /* "127.0.0.1:6379", for logs */
    struct sockaddr              *sockaddr;   /* numeric, or a unix socket */
    socklen_t                     socklen;
    ngx_str_t                     host;       /* a name: resolved at each
                                                 connection */
    in_port_t                     port;       /* with host */
    ngx_resolver_t               *resolver;   /* NULL: sockaddr is used */
    ngx_msec_t                    resolver_timeout;
    ngx_addr_t                   *sentinels;  /* sentinel=, or NULL */
    ngx_uint_t                    nsentinels;
    ngx_str_t                     master;     /* master= */
    ngx_str_t                     sentinel_password;
    ngx_str_t                     user;       /* empty: AUTH pass */
    ngx_str_t                     password;   /* empty: no AUTH */
    ngx_uint_t                    db;         /* 0: no SELECT */
    ngx_msec_t                    timeout;    /* each command, a PING, a
                                                 sentinel */
    ngx_msec_t                    connect_timeout; /* resolving, TCP, TLS,
                                                 AUTH/SELECT/PING */
    ngx_msec_t                    ping;       /* idle time before a PING */
    ngx_http_pay_redis_tls_t     *tls;        /* NULL: plain */

    ngx_http_pay_redis_ready_pt   ready;
    void                         *data;       /* for ready */

    /* per worker, this connection's TLS handshake ends: done() */
    void                        (*tls_handshaked)(ngx_http_pay_redis_t *rd);

    /* per worker */
    ngx_peer_connection_t         pc;
    ngx_resolver_ctx_t           *resolving;
    ngx_sockaddr_t                resolved;
    socklen_t                     resolved_len;
    ngx_uint_t                    next_addr;  /* rotates over the answer */

    /* asking the sentinels (ngx_http_pay_redis_sentinel.c) */
    ngx_peer_connection_t         spc;
    ngx_connection_t             *sc;
    redisReader                  *sentinel_reader;
    size_t                        sentinel_fed;   /* bytes read from it */
    ngx_uint_t                    sentinel_declared; /* array elements */
    ngx_event_t                   sentinel_timer;
    ngx_http_pay_redis_sentinel_pt  sentinel_handler;
    ngx_uint_t                    sentinel;   /* the one asked first */
    ngx_uint_t                    sentinel_tries;
    ngx_uint_t                    sentinel_replies;
    ngx_str_t                     sentinel_out;
    u_char                        sentinel_buf[1024];
    ngx_connection_t             *c;          /* NULL: no connection */
    redisReader                  *reader;
    size_t                        fed;        /* bytes read on this
                                                 connection */
    size_t                        reply_start; /* where the reply being
                                                  read began in them */
    ngx_uint_t                    declared;   /* the array elements it
                                                 declared so far */
    ngx_log_t                    *log;
    ngx_log_t                     connect_log; /* log, alerts only: for
                                                 ngx_event_connect_peer() */
    const char                   *reason;     /* why we drop it */

    ngx_queue_t                   pending;    /* replies due, in order */

    u_char                       *out;        /* formatted, not yet sent */
    size_t                        out_pos;
    size_t                        out_len;
    size_t                        out_size;
    size_t                        secret;     /* out[..secret] holds AUTH:
                                                 wiped once sent */
    size_t                        hold;       /* until established, only
                                                 out[..hold] (the handshake)
                                                 is sent */

    ngx_event_t                   reconnect;
    ngx_event_t                   connect_timer;
    ngx_event_t                   abort;      /* posted: close it */
    ngx_event_t                   idle;       /* PING after ping= */

    ngx_msec_t                    backoff;
    ngx_msec_t                    active;     /* last command or reply */
    ngx_uint_t                    handshake;  /* AUTH/SELECT replies due */

    u_char                        failure[NGX_MAX_ERROR_STR / 8];
                                              /* the last failure said */
    u_char                        errstr[NGX_MAX_ERROR_STR / 8];

    unsigned                      inited:1;
    unsigned                      attempt:1;  /* connecting or connected */
    unsigned                      transport:1; /* TCP (and TLS) up */
    unsigned                      connected:1; /* established: commands
                                                  may have run */
    unsigned                      up:1;       /* AUTH and SELECT done */
    unsigned                      failed:1;   /* AUTH or SELECT refused */
    unsigned                      quiet:1;    /* its reason is logged */
    unsigned                      pinging:1;
    unsigned                      closing:1;
    unsigned                      exiting:1;
    unsigned                      cluster:1;  /* -MOVED seen: not used */
    unsigned                      role_warned:1; /* ROLE refused: said */
    unsigned                      readonly:1; /* -READONLY seen: ROLE is
                                                 asked until a master
                                                 answers */
    unsigned                      tls_verified:1; /* this connection's */
    unsigned                      read_on_write:1; /* SSL_read wants to
                                                     write: the write event
                                                     resumes reading */
};


/*
 * Starts connecting (in a worker): NGX_OK even when Redis is down, the
 * reconnect timer then keeps trying (ngx_http_pay_redis_connect.c).
 */
ngx_int_t ngx_http_pay_redis_init(ngx_http_pay_redis_t *rd,
    ngx_cycle_t *cycle);

/*
 * Closes the connection: every pending command's handler runs with a NULL
 * reply before this returns.  No reconnect follows.
 */
void ngx_http_pay_redis_done(ngx_http_pay_redis_t *rd);

/*
 * Whether a command may be sent now: a connection exists (connecting or
 * connected) and is neither refused by Redis nor being torn down.
 */
ngx_uint_t ngx_http_pay_redis_ready(ngx_http_pay_redis_t *rd);

/*
 * Queues a command (binary-safe argv).  NGX_OK: fn(rd, reply, data) will
 * run exactly once, later, with reply NULL if the connection is lost
 * first; NGX_DECLINED: not connected, fn will not run.  Commands queued
 * while connecting are held until AUTH and SELECT (and ROLE) answered OK:
 * behind a refused handshake nothing of them was sent.
 */
ngx_int_t ngx_http_pay_redis_command(ngx_http_pay_redis_t *rd,
    ngx_http_pay_redis_reply_pt fn, void *data, int argc, const char **argv,
    const size_t *argvlen);

/*
 * What a command handler should use: the reply, or NULL when there is
 * none (connection lost) or the connection's AUTH/SELECT failed, so that
 * the reply may come from the wrong database or user.
 */
redisReply *ngx_http_pay_redis_reply(ngx_http_pay_redis_t *rd,
    redisReply *reply);

/*
 * Drops the connection (posted): used after a command timed out, which
 * leaves the connection's state unknown.  Pending commands get NULL
 * replies; the reconnect timer takes over.
 */
void ngx_http_pay_redis_abort(ngx_http_pay_redis_t *rd, const char *reason);


/*
 * Inside the connection's files only (ngx_http_pay_redis.c,
 * ngx_http_pay_redis_connect.c)
 */

/* ngx_http_pay_redis.c, for ngx_http_pay_redis_connect.c */
ngx_int_t ngx_http_pay_redis_queue(ngx_http_pay_redis_t *rd,
    ngx_http_pay_redis_reply_pt fn, void *data, int argc, const char **argv,
    const size_t *argvlen);
redisReader *ngx_http_pay_redis_reader(ngx_uint_t *declared);
ngx_uint_t ngx_http_pay_redis_reader_refused(ngx_uint_t declared);
void ngx_http_pay_redis_read_handler(ngx_event_t *rev);
void ngx_http_pay_redis_write_handler(ngx_event_t *wev);
ngx_int_t ngx_http_pay_redis_flush(ngx_http_pay_redis_t *rd);
void ngx_http_pay_redis_close(ngx_http_pay_redis_t *rd, const char *reason);
void ngx_http_pay_redis_log_failure(ngx_http_pay_redis_t *rd,
    const char *what, const char *reason);
const char *ngx_http_pay_redis_strerror(ngx_http_pay_redis_t *rd,
    ngx_err_t err);
void ngx_http_pay_redis_schedule(ngx_http_pay_redis_t *rd);
void ngx_http_pay_redis_connect_timeout(ngx_event_t *ev);
void ngx_http_pay_redis_abort_handler(ngx_event_t *ev);
void ngx_http_pay_redis_idle_handler(ngx_event_t *ev);


/* ngx_http_pay_redis_sentinel.c */

/* asks the sentinels for the master; rd->sentinel_handler gets the answer */
void ngx_http_pay_redis_sentinel_ask(ngx_http_pay_redis_t *rd);
void ngx_http_pay_redis_sentinel_cancel(ngx_http_pay_redis_t *rd);


/* ngx_http_pay_redis_tls.c */

/* the tls words of pay_store, once all are read: the SSL context */
ngx_int_t ngx_http_pay_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_pay_redis_t *rd);

/*
 * On a connected socket, from its event: starts the TLS handshake.
 * NGX_OK: done(rd) is called when it ends (now, or from a later event),
 * rd->c->ssl->handshaked tells how; NGX_ERROR: rd->reason says why.
 */
ngx_int_t ngx_http_pay_redis_tls_start(ngx_http_pay_redis_t *rd,
    void (*done)(ngx_http_pay_redis_t *rd));

/*
 * After a handshake: the certificate's chain and name checked, the
 * session kept for the next connection.  NGX_ERROR: rd->reason says why.
 */
ngx_int_t ngx_http_pay_redis_tls_verify(ngx_http_pay_redis_t *rd);

/*
 * As c->recv on the TLS connection: n, 0 (closed), NGX_AGAIN, or
 * NGX_ERROR with OpenSSL's reason in rd->errstr
 */
ssize_t ngx_http_pay_redis_tls_recv(ngx_http_pay_redis_t *rd, u_char *buf,
    size_t size);

/* the connection closes: a session not verified is dropped */
void ngx_http_pay_redis_tls_close(ngx_http_pay_redis_t *rd);

/* the worker exits: the kept session goes */
void ngx_http_pay_redis_tls_done(ngx_http_pay_redis_t *rd);


#endif /* _NGX_HTTP_PAY_REDIS_H_INCLUDED_ */
