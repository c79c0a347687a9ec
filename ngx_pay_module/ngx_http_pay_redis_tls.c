
/*
 * Copyright (C) ngx_pay authors
 *
 * TLS for the Redis connection (pay_store ... tls): nginx's own TLS code
 * (ngx_ssl_create_connection, ngx_ssl_handshake) on the socket that
 * ngx_http_pay_redis.c connected.
 *
 *   - the context is made once, while the configuration is read:
 *     TLS 1.2 and 1.3, the client certificate and key if given (mutual
 *     TLS), and the CAs trusted: tls_trusted_certificate= alone when
 *     given (a private CA does not also trust every public one), else
 *     the system's bundle (a managed Redis with a public certificate);
 *   - SNI is sent with tls_name=, else the host of redis= when it is a
 *     name;
 *   - after the handshake the chain must verify (SSL_get_verify_result)
 *     and the certificate must match tls_name= or, when absent, the host
 *     of redis= (a name or an IP address): anything else is a failed
 *     connection, logged once with OpenSSL's reason;
 *   - the session is kept per worker and offered on the next connection,
 *     so a reconnect after a failover or an idle drop costs no full
 *     handshake.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_redis.h"


#if (NGX_SSL)

static void ngx_http_pay_redis_tls_handshaked(ngx_connection_t *c);
static ngx_int_t ngx_http_pay_redis_tls_check_name(ngx_connection_t *c,
    ngx_str_t *name);
static void ngx_http_pay_redis_tls_save_session(ngx_connection_t *c);


ngx_int_t
ngx_http_pay_redis_tls_conf(ngx_conf_t *cf, ngx_http_pay_redis_t *rd)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_pay_redis_tls_t  *tls;

    tls = rd->tls;

    if (tls->certificate.len != 0 && tls->certificate_key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": \"tls_certificate=\" needs "
                           "\"tls_certificate_key=\"", &rd->name);
        return NGX_ERROR;
    }

    if (tls->certificate_key.len != 0 && tls->certificate.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": \"tls_certificate_key=\" "
                           "needs \"tls_certificate=\"", &rd->name);
        return NGX_ERROR;
    }

    tls->ssl.log = cf->log;

    if (ngx_ssl_create(&tls->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(&tls->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = &tls->ssl;

    /*
     * The output buffer (rd->out) may be reallocated, its unsent tail
     * moved to the front, while an SSL_write() that returned WANT_WRITE
     * waits to be retried: the same bytes at another address.  OpenSSL
     * refuses that retry (SSL_R_BAD_WRITE_RETRY, a crit line and a lost
     * connection under back-pressure) unless told it is fine; nginx's own
     * writes copy into c->ssl->buf and never need it, so it does not set
     * it.  Partial writes stay off: a retry must offer at least the same
     * length, and flush() always offers the whole unsent tail, which only
     * grows until it is written.
     */
    SSL_CTX_set_mode(tls->ssl.ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (tls->certificate.len) {
        if (ngx_ssl_certificate(cf, &tls->ssl, &tls->certificate,
                                &tls->certificate_key, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (tls->trusted.len) {
        if (ngx_ssl_trusted_certificate(cf, &tls->ssl, &tls->trusted, 10)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        /* the verify mode stays NONE: the result is checked afterwards */
        if (SSL_CTX_set_default_verify_paths(tls->ssl.ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "pay_store \"%V\": cannot load the system's "
                          "CA bundle", &rd->name);
            return NGX_ERROR;
        }
    }

    /* the worker's last session is offered again (see save_session) */
    if (ngx_ssl_client_session_cache(cf, &tls->ssl, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_pay_redis_tls_start(ngx_http_pay_redis_t *rd,
    void (*done)(ngx_http_pay_redis_t *rd))
{
    ngx_int_t                  rc;
    ngx_connection_t          *c;
    ngx_http_pay_redis_tls_t  *tls;

    c = rd->c;
    tls = rd->tls;

    if (ngx_ssl_create_connection(&tls->ssl, c,
                                  NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        rd->reason = "cannot create a TLS connection";
        return NGX_ERROR;
    }

#ifdef SSL_CTRL_SET_TLSEXT_HOSTNAME

    /* SNI: a name, never an address (RFC 6066) */

    if (tls->name.len
        && ngx_inet_addr(tls->name.data, tls->name.len) == INADDR_NONE
#if (NGX_HAVE_INET6)
        && ngx_strlchr(tls->name.data, tls->name.data + tls->name.len, ':')
           == NULL
#endif
        )
    {
        /* tls->name is NUL-terminated (see the configuration) */
        if (SSL_set_tlsext_host_name(c->ssl->connection,
                                     (char *) tls->name.data)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_ERR, rd->log, 0,
                          "pay_store \"%V\": SSL_set_tlsext_host_name() "
                          "failed", &rd->name);
            rd->reason = "cannot set the TLS server name";
            return NGX_ERROR;
        }
    }

#endif

    if (tls->session != NULL) {
        if (ngx_ssl_set_session(c, tls->session) != NGX_OK) {
            rd->reason = "cannot set the TLS session";
            return NGX_ERROR;
        }
    }

    c->ssl->save_session = ngx_http_pay_redis_tls_save_session;

    /* the store's own: every store (and worker) has its connection */
    rd->tls_handshaked = done;
    rd->tls_verified = 0;

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_pay_redis_tls_handshaked;
        return NGX_OK;
    }

    /* over at once, well or not: c->ssl->handshaked says which */
    done(rd);

    return NGX_OK;
}


static void
ngx_http_pay_redis_tls_handshaked(ngx_connection_t *c)
{
    ngx_http_pay_redis_t  *rd;

    rd = c->data;

    rd->tls_handshaked(rd);
}


ngx_int_t
ngx_http_pay_redis_tls_verify(ngx_http_pay_redis_t *rd)
{
    long                       rc;
    ngx_connection_t          *c;
    ngx_http_pay_redis_tls_t  *tls;

    c = rd->c;
    tls = rd->tls;

    if (!c->ssl->handshaked) {
        /* nginx logged OpenSSL's reason at info */
        rd->reason = "TLS handshake failed (is a client certificate "
                     "required? see the info lines above)";
        return NGX_ERROR;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "TLS certificate not trusted: (%l: %s)%Z",
                            rc, X509_verify_cert_error_string(rc));
        rd->errstr[sizeof(rd->errstr) - 1] = '\0';
        rd->reason = (const char *) rd->errstr;
        return NGX_ERROR;
    }

    if (ngx_http_pay_redis_tls_check_name(c, &tls->name) != NGX_OK) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "TLS certificate does not match \"%V\"%Z",
                            &tls->name);
        rd->errstr[sizeof(rd->errstr) - 1] = '\0';
        rd->reason = (const char *) rd->errstr;
        return NGX_ERROR;
    }

    if (SSL_session_reused(c->ssl->connection)) {
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "pay_store \"%V\": redis %V TLS session reused",
                      &rd->name, &rd->addr);
    }

    /* only a verified connection's session is offered again */
    rd->tls_verified = 1;

    if (tls->pending != NULL) {
        if (tls->session != NULL) {
            ngx_ssl_free_session(tls->session);
        }

        tls->session = tls->pending;
        tls->pending = NULL;
    }

    return NGX_OK;
}


/*
 * SSL_read() for the read loop, instead of c->recv (ngx_ssl_recv): its
 * errors are ours to word and log once ("TLS: tlsv13 alert certificate
 * required" when the server wants a client certificate, which TLS 1.3
 * says only after the handshake), where nginx would log them at crit.
 */

ssize_t
ngx_http_pay_redis_tls_recv(ngx_http_pay_redis_t *rd, u_char *buf,
    size_t size)
{
    int                n, sslerr;
    ngx_err_t          err;
    const char        *reason;
    unsigned long      e;
    ngx_connection_t  *c;

    c = rd->c;

    ERR_clear_error();

    n = SSL_read(c->ssl->connection, buf, size);

    if (n > 0) {
        return n;
    }

    sslerr = SSL_get_error(c->ssl->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? ngx_errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ) {
        c->read->ready = 0;
        return NGX_AGAIN;
    }

    if (sslerr == SSL_ERROR_WANT_WRITE) {
        /*
         * SSL_read() must write first (a key update, a renegotiation)
         * and the socket is full: reading resumes from the write event,
         * as nginx's ngx_ssl_handle_recv() does
         */
        c->write->ready = 0;
        rd->read_on_write = 1;

        if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
            (void) ngx_cpystrn(rd->errstr, (u_char *) "TLS: cannot add "
                               "a write event", sizeof(rd->errstr));
            return NGX_ERROR;
        }

        return NGX_AGAIN;
    }

    if (sslerr == SSL_ERROR_ZERO_RETURN
        || (sslerr == SSL_ERROR_SYSCALL && err == 0))
    {
        return 0;
    }

    e = ERR_peek_last_error();
    reason = (e != 0) ? ERR_reason_error_string(e) : NULL;

    if (reason != NULL) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "TLS: %s%Z", reason);

    } else if (err) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "TLS: read failed (%d)%Z", err);

    } else {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "TLS: read failed (SSL error %d)%Z", sslerr);
    }

    rd->errstr[sizeof(rd->errstr) - 1] = '\0';

    ERR_clear_error();

    /* as nginx does after a fatal error: no close_notify on this one */
    c->ssl->no_wait_shutdown = 1;
    c->ssl->no_send_shutdown = 1;

    return NGX_ERROR;
}


/*
 * nginx's ngx_ssl_check_host() matches names; an address written in
 * redis= (no tls_name=) is matched against the certificate's IP entries
 */

static ngx_int_t
ngx_http_pay_redis_tls_check_name(ngx_connection_t *c, ngx_str_t *name)
{
    X509       *cert;
    ngx_int_t   rc;

    if (ngx_inet_addr(name->data, name->len) == INADDR_NONE
        && ngx_strlchr(name->data, name->data + name->len, ':') == NULL)
    {
        return ngx_ssl_check_host(c, name);
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        return NGX_ERROR;
    }

    /* name is NUL-terminated (see the configuration) */
    rc = (X509_check_ip_asc(cert, (char *) name->data, 0) == 1)
         ? NGX_OK : NGX_ERROR;

    X509_free(cert);

    return rc;
}


/*
 * A session (TLS 1.2: during the handshake; TLS 1.3: a ticket, after it)
 * worth offering again, but only once the connection's certificate and
 * name were checked: one from a handshake that failed them is kept aside
 * (pending) and dropped with the connection, never replacing a good one.
 */

static void
ngx_http_pay_redis_tls_save_session(ngx_connection_t *c)
{
    ngx_ssl_session_t         *session, **to;
    ngx_http_pay_redis_t      *rd;
    ngx_http_pay_redis_tls_t  *tls;

    rd = c->data;
    tls = rd->tls;

    session = ngx_ssl_get_session(c);
    if (session == NULL) {
        return;
    }

    to = rd->tls_verified ? &tls->session : &tls->pending;

    if (*to != NULL) {
        ngx_ssl_free_session(*to);
    }

    *to = session;
}


void
ngx_http_pay_redis_tls_close(ngx_http_pay_redis_t *rd)
{
    rd->tls_verified = 0;

    if (rd->tls == NULL || rd->tls->pending == NULL) {
        return;
    }

    ngx_ssl_free_session(rd->tls->pending);
    rd->tls->pending = NULL;
}


void
ngx_http_pay_redis_tls_done(ngx_http_pay_redis_t *rd)
{
    ngx_http_pay_redis_tls_close(rd);

    if (rd->tls == NULL || rd->tls->session == NULL) {
        return;
    }

    ngx_ssl_free_session(rd->tls->session);
    rd->tls->session = NULL;
}


#else


ngx_int_t
ngx_http_pay_redis_tls_conf(ngx_conf_t *cf, ngx_http_pay_redis_t *rd)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "pay_store \"%V\": \"tls\" needs nginx built with "
                       "OpenSSL", &rd->name);
    return NGX_ERROR;
}


ngx_int_t
ngx_http_pay_redis_tls_start(ngx_http_pay_redis_t *rd,
    void (*done)(ngx_http_pay_redis_t *rd))
{
    rd->reason = "no TLS in this nginx";
    return NGX_ERROR;
}


ngx_int_t
ngx_http_pay_redis_tls_verify(ngx_http_pay_redis_t *rd)
{
    return NGX_ERROR;
}


ssize_t
ngx_http_pay_redis_tls_recv(ngx_http_pay_redis_t *rd, u_char *buf,
    size_t size)
{
    return NGX_ERROR;
}


void
ngx_http_pay_redis_tls_close(ngx_http_pay_redis_t *rd)
{
}


void
ngx_http_pay_redis_tls_done(ngx_http_pay_redis_t *rd)
{
}


#endif
