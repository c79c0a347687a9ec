
/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target: ngx_http_pay_body_get() (ngx_pay_module/
 * ngx_http_pay_body.c), the module's body walk, compiled against the real
 * nginx headers and linked with t/unit/ngx_stub.c.
 *
 * The input is decoded into a file and a chain of up to MAX_BUFS buffers:
 *
 *   byte 0        the file's length F; the next F bytes are its contents,
 *                 written to one temporary file (opened at startup);
 *   then, per buffer, a byte K (kind: K & 0x0f, flags: K >> 4, nginx's
 *   last_buf, last_in_chain, flush, recycled, set on any kind) and its
 *   arguments:
 *
 *     0 1 2   in memory (temporary, memory, mmap): length L, L bytes
 *     3       in the file: file_pos P, length L (one byte each)
 *     4       in the file, far: P and L on two bytes each (past its end)
 *     5       in memory and in_file: L, L bytes, then a byte of flags
 *             (1: file NULL), P and L of a file range that is never read
 *     6 7 8   special: last_buf, flush, sync, no data
 *     9       in memory, empty, pos == last == NULL
 *    10       in memory, empty, pos == last != NULL
 *    11       in the file, empty: file_pos == file_last, past its end
 *    12       in_file, file NULL, length L (invalid)
 *    13       in the file, backwards: file_last < file_pos (invalid)
 *    14       in memory, backwards: last < pos (invalid)
 *    15       no flag at all, with stale pos..last and file range: special
 *
 * Arguments missing at the end of the input are zero.  Every memory
 * segment is a malloc() of its exact size, so ASan sees a read past it.
 *
 * The expected result is computed here, independently: an error if any
 * buffer is invalid or a non-empty file range goes past the file's end
 * (a short read), otherwise the concatenation of the data segments.  It
 * must be exactly what ngx_http_pay_body_get() returns, with:
 *   - an error logged, and an empty body;
 *   - no copy when one in-memory buffer holds all the data;
 *   - one ngx_read_file() per non-empty file range only in a file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdint.h>

#include "ngx_http_pay_module.h"
#include "ngx_stub.h"


#define MAX_BUFS    64
#define MAX_BYTES   (MAX_BUFS * 256)

#define check(cond)                                                          \
    if (!(cond)) {                                                           \
        fprintf(stderr, "fuzz_body: line %d: %s\n", __LINE__, #cond);        \
        abort();                                                             \
    }


typedef struct {
    const uint8_t        *p;
    const uint8_t        *end;
} fuzz_input_t;


typedef struct {
    ngx_buf_t             bufs[MAX_BUFS];
    ngx_chain_t           chain[MAX_BUFS];
    u_char               *mem[MAX_BUFS];     /* what to free */
    ngx_uint_t            n;

    const uint8_t        *file_data;
    size_t                file_len;

    u_char                expect[MAX_BYTES];
    size_t                expect_len;
    ngx_uint_t            invalid;      /* an invalid buffer */
    ngx_uint_t            short_read;   /* a range past the file's end */
    ngx_uint_t            reads;        /* non-empty ranges in the file */
    ngx_uint_t            data_bufs;    /* buffers with data */
    ngx_buf_t            *only;         /* the in-memory one, if alone */
} fuzz_chain_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static ngx_uint_t fuzz_byte(fuzz_input_t *in);
static u_char *fuzz_mem(fuzz_chain_t *fc, ngx_buf_t *b, fuzz_input_t *in);
static void fuzz_range(fuzz_chain_t *fc, ngx_buf_t *b, off_t pos,
    off_t len);
static void fuzz_expect(fuzz_chain_t *fc, ngx_buf_t *b, const u_char *p,
    size_t len);
static void fuzz_decode(fuzz_chain_t *fc, fuzz_input_t *in);


static ngx_file_t     fuzz_file;
static fuzz_chain_t   fuzz_chain;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    if (ngx_stub_file_open(&fuzz_file) != 0) {
        perror("fuzz_body: temporary file");
        abort();
    }

    return 0;
}


static ngx_uint_t
fuzz_byte(fuzz_input_t *in)
{
    return (in->p < in->end) ? *in->p++ : 0;
}


/* an in-memory buffer of L bytes from the input, in its own block */

static u_char *
fuzz_mem(fuzz_chain_t *fc, ngx_buf_t *b, fuzz_input_t *in)
{
    size_t   len;
    u_char  *p;

    len = fuzz_byte(in);

    if (len > (size_t) (in->end - in->p)) {
        len = in->end - in->p;
    }

    p = malloc(len ? len : 1);
    check(p != NULL);

    ngx_memcpy(p, in->p, len);
    in->p += len;

    fc->mem[fc->n] = p;

    b->temporary = 1;
    b->pos = p;
    b->last = p + len;

    return p;
}


/* file_pos..file_pos + len of the file, as a plain file buffer */

static void
fuzz_range(fuzz_chain_t *fc, ngx_buf_t *b, off_t pos, off_t len)
{
    b->in_file = 1;
    b->file = &fuzz_file;
    b->file_pos = pos;
    b->file_last = pos + len;

    if (len == 0) {
        return;
    }

    fc->reads++;

    if ((size_t) (pos + len) > fc->file_len) {
        fc->short_read = 1;
        return;
    }

    fuzz_expect(fc, b, fc->file_data + pos, (size_t) len);
}


static void
fuzz_expect(fuzz_chain_t *fc, ngx_buf_t *b, const u_char *p, size_t len)
{
    if (len == 0) {
        return;
    }

    check(fc->expect_len + len <= MAX_BYTES);

    ngx_memcpy(fc->expect + fc->expect_len, p, len);
    fc->expect_len += len;

    fc->only = (fc->data_bufs == 0 && ngx_buf_in_memory(b)) ? b : NULL;
    fc->data_bufs++;
}


static void
fuzz_decode(fuzz_chain_t *fc, fuzz_input_t *in)
{
    off_t        pos, len;
    u_char      *p;
    ngx_buf_t   *b;
    ngx_uint_t   k, flags;

    while (in->p < in->end && fc->n < MAX_BUFS) {
        k = fuzz_byte(in);
        b = &fc->bufs[fc->n];

        switch (k & 0x0f) {

        case 0:
        case 1:
        case 2:
            fuzz_mem(fc, b, in);

            if ((k & 0x0f) == 1) {
                b->temporary = 0;
                b->memory = 1;

            } else if ((k & 0x0f) == 2) {
                b->temporary = 0;
                b->mmap = 1;
            }

            fuzz_expect(fc, b, b->pos, b->last - b->pos);
            break;

        case 3:
            pos = fuzz_byte(in);
            len = fuzz_byte(in);
            fuzz_range(fc, b, pos, len);
            break;

        case 4:
            pos = fuzz_byte(in) << 8;
            pos |= fuzz_byte(in);
            len = fuzz_byte(in) << 8;
            len |= fuzz_byte(in);
            fuzz_range(fc, b, pos, len);
            break;

        case 5:
            fuzz_mem(fc, b, in);
            flags = fuzz_byte(in);
            b->memory = 1;
            b->in_file = 1;
            b->file = (flags & 1) ? NULL : &fuzz_file;
            b->file_pos = fuzz_byte(in);
            b->file_last = b->file_pos + fuzz_byte(in);
            fuzz_expect(fc, b, b->pos, b->last - b->pos);
            break;

        case 6:
            b->last_buf = 1;
            break;

        case 7:
            b->flush = 1;
            break;

        case 8:
            b->sync = 1;
            break;

        case 9:
            b->temporary = 1;
            break;

        case 10:
            p = fuzz_mem(fc, b, in);
            b->pos = p;
            b->last = p;
            break;

        case 11:
            fuzz_range(fc, b, fuzz_byte(in) + 256, 0);
            break;

        case 12:
            b->in_file = 1;
            b->file_last = fuzz_byte(in);
            fc->invalid = 1;
            break;

        case 13:
            pos = fuzz_byte(in) + 1;
            b->in_file = 1;
            b->file = &fuzz_file;
            b->file_pos = pos;
            b->file_last = pos - 1 - fuzz_byte(in) % pos;
            fc->invalid = 1;
            break;

        case 14:
            p = fuzz_mem(fc, b, in);
            b->pos = p + 1;
            b->last = p;
            fc->invalid = 1;
            break;

        default: /* 15 */
            p = fuzz_mem(fc, b, in);
            b->temporary = 0;
            b->file = &fuzz_file;
            b->file_pos = 0;
            b->file_last = fuzz_byte(in);
            (void) p;
            break;
        }

        b->last_buf |= (k >> 4) & 1;
        b->last_in_chain = (k >> 5) & 1;
        b->flush |= (k >> 6) & 1;
        b->recycled = (k >> 7) & 1;

        fc->chain[fc->n].buf = b;
        fc->chain[fc->n].next = NULL;

        if (fc->n > 0) {
            fc->chain[fc->n - 1].next = &fc->chain[fc->n];
        }

        fc->n++;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t            rc;
    ngx_str_t            body;
    ngx_uint_t           i, error;
    fuzz_input_t         in;
    fuzz_chain_t        *fc;
    ngx_stub_request_t   sr;

    if (size == 0) {
        return 0;
    }

    fc = &fuzz_chain;
    ngx_memzero(fc, sizeof(fuzz_chain_t));

    in.p = data;
    in.end = data + size;

    fc->file_len = fuzz_byte(&in);

    if (fc->file_len > (size_t) (in.end - in.p)) {
        fc->file_len = in.end - in.p;
    }

    fc->file_data = in.p;
    in.p += fc->file_len;

    check(ngx_stub_file_set(&fuzz_file, fc->file_data, fc->file_len) == 0);

    fuzz_decode(fc, &in);

    ngx_stub_reset();
    ngx_stub_request_init(&sr, fc->n ? fc->chain : NULL);

    rc = ngx_http_pay_body_get(&sr.r, &body, 0);

    error = fc->invalid || fc->short_read;

    if (error) {
        check(rc == NGX_ERROR);
        check(body.len == 0 && body.data == NULL);
        check(ngx_stub.logs > 0);

        if (fc->invalid) {
            /* refused before anything is allocated or read */
            check(ngx_stub.allocs == 0 && ngx_stub.reads == 0);
        }

    } else {
        check(rc == NGX_OK);
        check(ngx_stub.logs == 0);
        check(body.len == fc->expect_len);
        check(body.len == 0
              || ngx_memcmp(body.data, fc->expect, body.len) == 0);
        check(ngx_stub.reads == fc->reads);

        if (fc->data_bufs == 0) {
            check(body.data == NULL && ngx_stub.allocs == 0);

        } else if (fc->data_bufs == 1 && fc->only != NULL) {
            check(body.data == fc->only->pos && ngx_stub.allocs == 0);

        } else {
            check(ngx_stub.allocs == 1);
        }
    }

    ngx_stub_reset();

    for (i = 0; i < fc->n; i++) {
        free(fc->mem[i]);
    }

    return 0;
}
