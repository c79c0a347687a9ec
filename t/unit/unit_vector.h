/*
 * Copyright (C) ngx_pay authors
 *
 * The official test vectors' bytes, for the unit tests: files of
 * $PAY_VECTORS (default t/vectors, relative to the directory the test
 * runs in, the repository's root under make; t/vectors/README.md says
 * where each comes from).
 */


#ifndef UNIT_VECTOR_H_INCLUDED_
#define UNIT_VECTOR_H_INCLUDED_


#include <stddef.h>


typedef struct {
    unsigned char   *data;      /* malloc'd, one spare byte at the end */
    size_t           len;
} body_t;


/* 0, or -1 after saying on stderr which file could not be read */
int read_vector(const char *name, body_t *body);


#endif /* UNIT_VECTOR_H_INCLUDED_ */
