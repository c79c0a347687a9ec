
/*
 * Copyright (C) ngx_pay authors
 *
 * Secrets in the configuration: a literal, "env:NAME" (read when the
 * configuration is loaded) or "file:PATH" (trailing newlines stripped).
 * Errors name the directive, the variable or the path, never the value.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


#define NGX_HTTP_PAY_SECRET_MAX  4096


static ngx_int_t ngx_http_pay_secret_from_env(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *name, ngx_str_t *secret);
static ngx_int_t ngx_http_pay_secret_from_file(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *path, ngx_str_t *secret);


ngx_int_t
ngx_http_pay_secret_load(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *value, ngx_str_t *secret)
{
    ngx_str_t  arg;
    ngx_int_t  rc;

    if (value->len > 4 && ngx_strncmp(value->data, "env:", 4) == 0) {
        arg.data = value->data + 4;
        arg.len = value->len - 4;
        rc = ngx_http_pay_secret_from_env(cf, directive, &arg, secret);

    } else if (value->len > 5 && ngx_strncmp(value->data, "file:", 5) == 0) {
        arg.data = value->data + 5;
        arg.len = value->len - 5;
        rc = ngx_http_pay_secret_from_file(cf, directive, &arg, secret);

    } else {
        *secret = *value;
        rc = NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (secret->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the secret \"%V\" is empty",
                           directive, value);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_secret_from_env(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *name, ngx_str_t *secret)
{
    char       *env;
    ngx_str_t   found;

    /* name comes from the configuration parser: NUL-terminated */
    env = getenv((char *) name->data);

    if (env == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": environment variable \"%V\" is not set",
                           directive, name);
        return NGX_ERROR;
    }

    /* copied: the environment of the master may change on reload */
    found.len = ngx_strlen(env);
    found.data = (u_char *) env;

    secret->len = found.len;
    secret->data = ngx_pstrdup(cf->pool, &found);
    if (secret->data == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_secret_from_file(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_str_t *secret)
{
    u_char           *buf;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         name;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot open secret file \"%V\"",
                           directive, &name);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = name;
    file.log = cf->log;

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot stat secret file \"%V\"",
                           directive, &name);
        goto failed;
    }

    len = (size_t) ngx_file_size(&fi);

    if (len > NGX_HTTP_PAY_SECRET_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": secret file \"%V\" is larger than %d "
                           "bytes", directive, &name,
                           NGX_HTTP_PAY_SECRET_MAX);
        goto failed;
    }

    buf = ngx_pnalloc(cf->pool, len + 1);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_file(&file, buf, len, 0);
    if (n == NGX_ERROR || (size_t) n != len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot read secret file \"%V\"",
                           directive, &name);
        goto failed;
    }

    while (len > 0 && (buf[len - 1] == LF || buf[len - 1] == CR)) {
        len--;
    }

    /* a stray copy in the read buffer would outlive its use */
    ngx_explicit_memzero(buf + len, (size_t) n - len);

    secret->data = buf;
    secret->len = len;

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &name);
    }

    return NGX_OK;

failed:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &name);
    }

    return NGX_ERROR;
}
