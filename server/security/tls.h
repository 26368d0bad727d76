/* tls.h - https for gpupoold (--tls-cert, --tls-key): the PEM files read once at start, checked
 * with GnuTLS (the key matches the certificate, neither is broken) so a bad file is a clear error
 * rather than a daemon that does not start, and handed to libmicrohttpd's GnuTLS support with
 * TLS 1.2 and 1.3 only. A new certificate takes a restart. */
#ifndef GPUPOOLD_TLS_H
#define GPUPOOLD_TLS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct gpd_tls gpd_tls;

/* NULL with the reason in err; info describes the certificate (subject, expiry). */
gpd_tls *gpd_tls_load(const char *cert_file, const char *key_file, char *info, size_t infolen, char *err,
                      size_t errlen);
/* libmicrohttpd options (MHD_OPTION_ARRAY) for an https daemon; t NULL: an empty list (http). */
const struct MHD_OptionItem *gpd_tls_options(const gpd_tls *t);
void gpd_tls_free(gpd_tls *t);

#endif
