/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target, differential: pay_resp_command() against hiredis's
 * redisFormatCommandArgv(), which the module used until 0.4.0.  The
 * input is split into arguments at each 0xff byte (at most 64); the
 * command is written into a buffer of exactly pay_resp_command_len()
 * bytes, so ASan sees a write past it.  A disagreement abort()s.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "pay_resp.h"


#define MAX_ARGS  64


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          argc, n;
    char        *buf, *end, *cmd;
    size_t       i, start, len, argvlen[MAX_ARGS];
    const char  *argv[MAX_ARGS];

    argc = 0;
    start = 0;

    for (i = 0; i <= size && argc < MAX_ARGS; i++) {
        if (i == size || data[i] == 0xff) {
            argv[argc] = (const char *) data + start;
            argvlen[argc] = i - start;
            argc++;
            start = i + 1;
        }
    }

    len = pay_resp_command_len(argc, argvlen);
    if (len == 0) {
        abort();
    }

    buf = malloc(len);
    if (buf == NULL) {
        return 0;
    }

    end = pay_resp_command(buf, argc, argv, argvlen);

    n = redisFormatCommandArgv(&cmd, argc, argv, argvlen);

    if (end != buf + len || n < 0 || (size_t) n != len
        || memcmp(buf, cmd, len) != 0)
    {
        abort();
    }

    redisFreeCommand(cmd);
    free(buf);

    return 0;
}
