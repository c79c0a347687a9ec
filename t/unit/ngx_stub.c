
/*
 * Copyright (C) ngx_pay authors
 *
 * The nginx functions the glue files under test link to: see ngx_stub.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_stub.h"


typedef struct ngx_stub_block_s  ngx_stub_block_t;

struct ngx_stub_block_s {
    ngx_stub_block_t     *next;
    uint64_t              align;
};


ngx_stub_t  ngx_stub;

static ngx_stub_block_t  *ngx_stub_blocks;
static ngx_pool_t         ngx_stub_pool;
static ngx_log_t          ngx_stub_file_log;


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    ngx_stub_block_t  *b;

    ngx_stub.allocs++;

    if (pool == NULL) {
        fprintf(stderr, "ngx_stub: ngx_pnalloc() without a pool\n");
        abort();
    }

    if (ngx_stub.fail_alloc || size > NGX_STUB_MAX_ALLOC) {
        ngx_stub.fail_alloc = 0;
        return NULL;
    }

    /* the caller's bytes end where the block does: ASan sees overruns */

    b = malloc(sizeof(ngx_stub_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = ngx_stub_blocks;
    ngx_stub_blocks = b;

    return (u_char *) b + sizeof(ngx_stub_block_t);
}


ssize_t
ngx_read_file(ngx_file_t *file, u_char *buf, size_t size, off_t offset)
{
    ssize_t  n;

    ngx_stub.reads++;

    if (file == NULL) {
        /* nginx's own would dereference it: the worker crash */
        fprintf(stderr, "ngx_stub: ngx_read_file() of a NULL file\n");
        abort();
    }

    n = pread(file->fd, buf, size, offset);

    if (n == -1) {
        ngx_log_error(NGX_LOG_CRIT, file->log, ngx_errno,
                      "pread() \"%s\" failed", file->name.data);
        return NGX_ERROR;
    }

    file->offset += n;

    return n;
}


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    if (log == NULL || fmt == NULL) {
        fprintf(stderr, "ngx_stub: ngx_log_error() without a log\n");
        abort();
    }

    ngx_stub.logs++;
    ngx_stub.log_level = level;
    ngx_stub.log_err = err;
    ngx_stub.log_fmt = fmt;

    if (getenv("NGX_STUB_LOG") != NULL) {
        fprintf(stderr, "ngx_stub: log level %u: %s\n",
                (unsigned) level, fmt);
    }
}


void
ngx_stub_reset(void)
{
    ngx_stub_block_t  *b, *next;

    for (b = ngx_stub_blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    ngx_stub_blocks = NULL;
    ngx_memzero(&ngx_stub, sizeof(ngx_stub_t));
}


void
ngx_stub_request_init(ngx_stub_request_t *sr, ngx_chain_t *bufs)
{
    ngx_memzero(sr, sizeof(ngx_stub_request_t));

    sr->log.log_level = NGX_LOG_DEBUG;
    sr->c.log = &sr->log;

    sr->rb.bufs = bufs;

    sr->r.connection = &sr->c;
    sr->r.pool = &ngx_stub_pool;
    sr->r.request_body = &sr->rb;
}


int
ngx_stub_file_open(ngx_file_t *file)
{
    int          fd;
    char         path[1024];
    const char  *dir;

    ngx_memzero(file, sizeof(ngx_file_t));
    file->fd = NGX_INVALID_FILE;

    dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0') {
        dir = "/tmp";
    }

    if (snprintf(path, sizeof(path), "%s/ngx_stub_XXXXXX", dir)
        >= (int) sizeof(path))
    {
        errno = ENAMETOOLONG;
        return -1;
    }

    fd = mkstemp(path);
    if (fd == -1) {
        return -1;
    }

    (void) unlink(path);

    file->fd = fd;
    ngx_str_set(&file->name, "ngx_stub temporary file");
    ngx_stub_file_log.log_level = NGX_LOG_DEBUG;
    file->log = &ngx_stub_file_log;

    return 0;
}


int
ngx_stub_file_set(ngx_file_t *file, const void *data, size_t len)
{
    ssize_t  n;

    if (ftruncate(file->fd, 0) == -1) {
        return -1;
    }

    if (len == 0) {
        return 0;
    }

    n = pwrite(file->fd, data, len, 0);

    if (n == -1) {
        return -1;
    }

    if ((size_t) n != len) {
        errno = EIO;
        return -1;
    }

    return 0;
}


void
ngx_stub_file_close(ngx_file_t *file)
{
    if (file->fd != NGX_INVALID_FILE) {
        (void) close(file->fd);
        file->fd = NGX_INVALID_FILE;
    }
}
