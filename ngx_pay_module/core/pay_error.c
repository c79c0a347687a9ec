/*
 * Copyright (C) ngx_pay authors
 *
 * The table behind pay_error_info(): one entry per pay_rc_e (docs/errors.md).
 */


#include "pay_error.h"


static const pay_error_info_t  pay_errors[PAY_ERR_LAST] = {

    [PAY_OK] =
        { "ok", "OK", 200, 0 },

    [PAY_ERR_SIGNATURE_MISSING] =
        { "signature_missing", "Signature missing", 400, 1 },

    [PAY_ERR_SIGNATURE_MALFORMED] =
        { "signature_malformed", "Signature malformed", 400, 1 },

    [PAY_ERR_SIGNATURE_MISMATCH] =
        { "signature_mismatch", "Signature mismatch", 400, 1 },

    [PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE] =
        { "timestamp_out_of_tolerance", "Timestamp out of tolerance", 400, 1 },

    [PAY_ERR_CERT_URL_REJECTED] =
        { "cert_url_rejected", "Certificate URL rejected", 400, 1 },

    [PAY_ERR_CERT_UNTRUSTED] =
        { "cert_untrusted", "Certificate untrusted", 400, 1 },

    [PAY_ERR_TRANSMISSION_REUSED] =
        { "transmission_reused", "Transmission reused", 400, 1 },

    [PAY_ERR_BODY_MALFORMED] =
        { "body_malformed", "Body malformed", 400, 1 },

    [PAY_ERR_BODY_TOO_LARGE] =
        { "body_too_large", "Body too large", 413, 1 },

    [PAY_ERR_METHOD_NOT_ALLOWED] =
        { "method_not_allowed", "Method not allowed", 405, 1 },

    [PAY_ERR_DUPLICATE] =
        { "duplicate", "Duplicate", 200, 1 },

    [PAY_ERR_IN_FLIGHT] =
        { "in_flight", "In flight", 409, 1 },

    [PAY_ERR_IDEMPOTENCY_CONFLICT] =
        { "idempotency_conflict", "Idempotency conflict", 409, 1 },

    [PAY_ERR_IDEMPOTENCY_KEY_MISSING] =
        { "idempotency_key_missing", "Idempotency key missing", 400, 1 },

    [PAY_ERR_IDEMPOTENCY_KEY_REUSED] =
        { "idempotency_key_reused", "Idempotency key reused", 422, 1 },

    [PAY_ERR_VALIDATION_FAILED] =
        { "validation_failed", "Validation failed", 422, 1 },

    [PAY_ERR_PROVIDER_ERROR] =
        { "provider_error", "Provider error", 402, 1 },

    [PAY_ERR_PROVIDER_UNAVAILABLE] =
        { "provider_unavailable", "Provider unavailable", 503, 0 },

    [PAY_ERR_STORE_UNAVAILABLE] =
        { "store_unavailable", "Store unavailable", 503, 0 },

    [PAY_ERR_INTERNAL] =
        { "internal_error", "Internal error", 500, 0 }
};


const pay_error_info_t *
pay_error_info(pay_rc_e rc)
{
    /* the unsigned cast also catches negative values */

    if ((unsigned int) rc >= (unsigned int) PAY_ERR_LAST) {
        return &pay_errors[PAY_ERR_INTERNAL];
    }

    return &pay_errors[rc];
}
