/*
 * Copyright (C) ngx_pay authors
 *
 * Stable error codes of ngx_pay (docs/errors.md).  Pure C: no nginx headers.
 */


#ifndef PAY_ERROR_H_INCLUDED_
#define PAY_ERROR_H_INCLUDED_


/*
 * The order is part of nothing: only the code strings are stable and
 * documented (docs/errors.md).  PAY_OK is zero so "if (rc)" reads well.
 */
typedef enum {
    PAY_OK = 0,
    PAY_ERR_SIGNATURE_MISSING,
    PAY_ERR_SIGNATURE_MALFORMED,
    PAY_ERR_SIGNATURE_MISMATCH,
    PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE,
    PAY_ERR_CERT_URL_REJECTED,
    PAY_ERR_CERT_UNTRUSTED,
    PAY_ERR_TRANSMISSION_REUSED,
    PAY_ERR_BODY_MALFORMED,
    PAY_ERR_BODY_TOO_LARGE,
    PAY_ERR_METHOD_NOT_ALLOWED,
    PAY_ERR_DUPLICATE,
    PAY_ERR_IN_FLIGHT,
    PAY_ERR_IDEMPOTENCY_CONFLICT,
    PAY_ERR_IDEMPOTENCY_KEY_MISSING,
    PAY_ERR_IDEMPOTENCY_KEY_REUSED,
    PAY_ERR_VALIDATION_FAILED,
    PAY_ERR_PROVIDER_ERROR,
    PAY_ERR_PROVIDER_UNAVAILABLE,
    PAY_ERR_STORE_UNAVAILABLE,
    PAY_ERR_INTERNAL,
    PAY_ERR_LAST
} pay_rc_e;


typedef struct {
    const char  *code;          /* stable code, e.g. "signature_mismatch" */
    const char  *title;         /* short human title for problem+json */
    int          status;        /* HTTP status */
    int          client_fault;  /* 1: logged at info, 0: logged at error */
} pay_error_info_t;


/* never NULL: unknown values map to the PAY_ERR_INTERNAL entry */
const pay_error_info_t *pay_error_info(pay_rc_e rc);


#endif /* PAY_ERROR_H_INCLUDED_ */
