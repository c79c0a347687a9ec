/*
 * Copyright (C) ngx_pay authors
 *
 * A JSON validator that also finds a few top-level members of an object,
 * in one pass, without allocating or recursing.  Pure C.
 */


#ifndef PAY_JSON_H_INCLUDED_
#define PAY_JSON_H_INCLUDED_


#include <stddef.h>


/* jansson's JSON_PARSER_MAX_DEPTH: the top-level object is level 1 */
#define PAY_JSON_MAX_DEPTH  2048

/* the longest member name pay_json_scan_object() can match */
#define PAY_JSON_NAME_MAX   64


typedef enum {
    PAY_JSON_ABSENT = 0,
    PAY_JSON_STRING,
    PAY_JSON_NUMBER,
    PAY_JSON_TRUE,
    PAY_JSON_FALSE,
    PAY_JSON_NULL,
    PAY_JSON_OBJECT,
    PAY_JSON_ARRAY
} pay_json_type_e;


typedef struct {
    const char           *name;     /* in: ASCII, NUL-terminated */
    pay_json_type_e       type;     /* out: PAY_JSON_ABSENT when not there */
    const unsigned char  *value;    /* out: points into the input */
    size_t                len;      /* out */
} pay_json_member_t;


/*
 * Returns 0 when json[0..len) is exactly one JSON object (RFC 8259) in
 * which none of the wanted names occurs twice at the top level, and
 * describes in members[] each wanted member found at the top level (a
 * member of a nested object is never reported).  Returns -1 otherwise,
 * members[] then all PAY_JSON_ABSENT.  The rules, those of jansson 2.14's
 * json_loadb() with JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL except where
 * noted:
 *   whitespace is SP, HTAB, LF, CR only; nothing but whitespace may follow
 *   the object; a raw NUL byte is rejected anywhere (jansson lets one
 *   through right after a number or a literal);
 *   strings: no raw byte below 0x20; only the escapes \" \\ \/ \b \f \n
 *   \r \t and \uXXXX (either case), a \u high surrogate followed by a \u
 *   low surrogate, no lone surrogate, "\u0000" allowed; raw bytes valid
 *   UTF-8 (Unicode Table 3-7: no overlong form, no surrogate, nothing
 *   above U+10FFFF);
 *   numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, magnitude not
 *   checked (jansson rejects a real that overflows a double);
 *   true, false, null;
 *   at most PAY_JSON_MAX_DEPTH levels, the top-level object being level
 *   1 and, as jansson counts, every value a level of its own: 2048 nested
 *   containers are fine when the innermost is empty, not otherwise;
 *   a top-level name matches a wanted one when they are equal once its
 *   escapes are decoded ("\u0069d" is "id"); a name holding anything but
 *   ASCII 0x01..0x7f, or longer than PAY_JSON_NAME_MAX, matches nothing;
 *   duplicates: only those of a wanted name at the top level are rejected
 *   (jansson's JSON_REJECT_DUPLICATES rejects every duplicate, nested
 *   ones included);
 *   a NUL in a name is not rejected (jansson rejects "\u0000" there).
 * value is the value as written in the input; for a string, the bytes
 * between the quotes, escapes not decoded (see pay_json_string_ascii()).
 * Names must be distinct.  json may be NULL when len is 0.  Linear in len,
 * and never reads outside json[0..len).
 */
int pay_json_scan_object(const unsigned char *json, size_t len,
    pay_json_member_t *members, size_t n);

/*
 * Decodes the bytes of a string found by pay_json_scan_object() into dst,
 * NUL-terminated.  Returns 0 with *out_len set when every decoded
 * character is ASCII 0x01..0x7f and the result and its NUL fit in size
 * bytes, -1 otherwise (dst then holds anything).  value may be NULL when
 * len is 0.
 */
int pay_json_string_ascii(const unsigned char *value, size_t len, char *dst,
    size_t size, size_t *out_len);


#endif /* PAY_JSON_H_INCLUDED_ */
