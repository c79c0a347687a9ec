
/*
 * Copyright (C) ngx_pay authors
 *
 * The version of ngx_pay, written here and nowhere else: the Makefile
 * (make deb, the package's version) reads NGX_PAY_VERSION from this file.
 */


#ifndef _NGX_HTTP_PAY_VERSION_H_INCLUDED_
#define _NGX_HTTP_PAY_VERSION_H_INCLUDED_


#define NGX_PAY_VERSION  "0.3.0"
#define NGX_PAY_VER      "ngx_pay/" NGX_PAY_VERSION


#endif /* _NGX_HTTP_PAY_VERSION_H_INCLUDED_ */
