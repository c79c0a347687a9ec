
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
static ngx_log_t          ngx_stub_cycle_log;
static ngx_cycle_t        ngx_stub_cycle = { .log = &ngx_stub_cycle_log };

volatile ngx_cycle_t     *ngx_cycle = &ngx_stub_cycle;
volatile ngx_msec_t       ngx_current_msec;
ngx_uint_t                ngx_pagesize;
ngx_uint_t                ngx_pagesize_shift;


static void ngx_stub_abort(const char *what);


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


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_pnalloc(pool, size);

    if (p != NULL) {
        ngx_memzero(p, size);
    }

    return p;
}


u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    char       *s;
    va_list     args;
    ngx_str_t  *v;

    va_start(args, fmt);

    for ( /* void */ ; *fmt; fmt++) {

        if (*fmt != '%') {
            *buf++ = *fmt;
            continue;
        }

        switch (*++fmt) {

        case 'V':
            v = va_arg(args, ngx_str_t *);
            buf = ngx_cpymem(buf, v->data, v->len);
            break;

        case 's':
            s = va_arg(args, char *);
            buf = ngx_cpymem(buf, s, ngx_strlen(s));
            break;

        case 'Z':
            *buf++ = '\0';
            break;

        case '%':
            *buf++ = '%';
            break;

        default:
            ngx_stub_abort("ngx_sprintf() with another format");
        }
    }

    va_end(args);

    return buf;
}


void
ngx_shmtx_lock(ngx_shmtx_t *mtx)
{
    (void) mtx;
}


void
ngx_shmtx_unlock(ngx_shmtx_t *mtx)
{
    (void) mtx;
}


void
ngx_debug_point(void)
{
    ngx_stub_abort("ngx_debug_point()");
}


ngx_shm_zone_t *
ngx_shared_memory_add(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    void *tag)
{
    (void) cf;
    (void) name;
    (void) size;
    (void) tag;

    ngx_stub_abort("ngx_shared_memory_add()");

    return NULL;
}


ssize_t
ngx_parse_size(ngx_str_t *line)
{
    (void) line;

    ngx_stub_abort("ngx_parse_size()");

    return NGX_ERROR;
}


void ngx_cdecl
ngx_conf_log_error(ngx_uint_t level, ngx_conf_t *cf, ngx_err_t err,
    const char *fmt, ...)
{
    (void) level;
    (void) cf;
    (void) err;
    (void) fmt;

    ngx_stub_abort("ngx_conf_log_error()");
}


static void
ngx_stub_abort(const char *what)
{
    fprintf(stderr, "ngx_stub: %s: not expected in a unit test\n", what);
    abort();
}


void
ngx_stub_reset(void)
{
    ngx_uint_t         n;
    ngx_stub_block_t  *b, *next;

    if (ngx_pagesize == 0) {
        ngx_pagesize = getpagesize();

        for (n = ngx_pagesize; n >>= 1; ngx_pagesize_shift++) {
            /* void */
        }
    }

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
