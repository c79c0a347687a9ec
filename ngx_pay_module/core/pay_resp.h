/*
 * Copyright (C) ngx_pay authors
 *
 * A Redis command in RESP, the protocol's request form: an array of bulk
 * strings, "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per argument.  It
 * writes what hiredis's redisFormatCommandArgv() writes, into the
 * caller's buffer: no allocation and no printf per command (glibc's
 * vfprintf was about 0.8 us of worker time per event in the Redis store,
 * bench/README.md).  Pure C.
 */


#ifndef PAY_RESP_H_INCLUDED_
#define PAY_RESP_H_INCLUDED_


#include <stddef.h>


/*
 * The bytes pay_resp_command() writes for these arguments, or 0 when
 * argc is not positive or the total does not fit a size_t.  argv[i] may
 * be NULL when argvlen[i] is 0.
 */
size_t pay_resp_command_len(int argc, const size_t *argvlen);

/*
 * Writes the command to dst, which has room for pay_resp_command_len()
 * bytes; returns the end of what it wrote.
 */
char *pay_resp_command(char *dst, int argc, const char **argv,
    const size_t *argvlen);


#endif /* PAY_RESP_H_INCLUDED_ */
