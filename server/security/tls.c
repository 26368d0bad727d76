/* tls.c - loading and checking the server's certificate and key (see tls.h). */
#include "security/tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "security/credentials.h"

#define MAX_PEM (1u << 20)
/* TLS 1.2 and 1.3, GnuTLS's normal ciphers: what Azure's front doors accept. */
#define PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct gpd_tls {
  char *cert, *key;
  size_t key_len;
  struct MHD_OptionItem opts[4];
};

static const struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};

const struct MHD_OptionItem *gpd_tls_options(const gpd_tls *t) { return t ? t->opts : no_options; }

void gpd_tls_free(gpd_tls *t) {
  if (!t) return;
  if (t->key) explicit_bzero(t->key, t->key_len);
  free(t->key);
  free(t->cert);
  free(t);
}

/* Subject and expiry of the first certificate, for the start-up log. */
static void describe(const gnutls_datum_t *cert, char *info, size_t infolen) {
  gnutls_x509_crt_t crt;
  snprintf(info, infolen, "TLS certificate loaded");
  if (gnutls_x509_crt_init(&crt) < 0) return;
  if (gnutls_x509_crt_import(crt, cert, GNUTLS_X509_FMT_PEM) >= 0) {
    char dn[256] = "";
    size_t dnlen = sizeof dn;
    time_t until = gnutls_x509_crt_get_expiration_time(crt);
    struct tm tm;
    char when[32] = "?";
    if (until != (time_t)-1 && gmtime_r(&until, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (gnutls_x509_crt_get_dn(crt, dn, &dnlen) < 0) snprintf(dn, sizeof dn, "?");
    snprintf(info, infolen, "TLS certificate '%s', valid until %s%s", dn, when,
             until != (time_t)-1 && until < time(NULL) ? " (EXPIRED: clients will refuse it)" : "");
  }
  gnutls_x509_crt_deinit(crt);
}

gpd_tls *gpd_tls_load(const char *cert_file, const char *key_file, char *info, size_t infolen, char *err,
                      size_t errlen) {
  size_t cert_len = 0;
  gnutls_certificate_credentials_t cred = NULL;
  gpd_tls *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
    snprintf(err, errlen, "this libmicrohttpd was built without TLS; --tls-cert cannot be served");
    goto fail;
  }
  if (!(t->cert = gpd_read_small_file(cert_file, MAX_PEM, &cert_len, err, errlen)) ||
      !(t->key = gpd_read_small_file(key_file, MAX_PEM, &t->key_len, err, errlen)))
    goto fail;
  gnutls_datum_t c = {(unsigned char *)t->cert, (unsigned)cert_len},
                 k = {(unsigned char *)t->key, (unsigned)t->key_len};
  int rc = gnutls_certificate_allocate_credentials(&cred);
  if (rc >= 0) rc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
  gnutls_certificate_free_credentials(cred);
  if (rc < 0) {
    snprintf(err, errlen, "--tls-cert %s with --tls-key %s: %s (PEM certificate chain and its unencrypted key)",
             cert_file, key_file, gnutls_strerror(rc));
    goto fail;
  }
  describe(&c, info, infolen);
  t->opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, t->cert};
  t->opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, t->key};
  t->opts[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)PRIORITIES};
  t->opts[3] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  return t;
fail:
  gpd_tls_free(t);
  return NULL;
}
