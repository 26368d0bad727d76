/* security_config.h - gpupoold's security flags (issue 7): TLS, authentication mode and its files,
 * throttling and the audit log. Parsed by config.c through gpd_security_option, checked as a whole
 * by gpd_security_config_check once every flag is known (for instance --auth none only on loopback). */
#ifndef GPUPOOLD_SECURITY_CONFIG_H
#define GPUPOOLD_SECURITY_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { GPD_AUTH_NONE = 0, GPD_AUTH_TOKENS, GPD_AUTH_JWT } gpd_auth_mode;

typedef struct {
  const char *tls_cert, *tls_key; /* PEM files; both or neither */
  gpd_auth_mode auth;
  const char *tokens_file;                                        /* --auth tokens */
  const char *jwt_keys, *jwt_issuer, *jwt_audience, *assignments; /* --auth jwt */
  double read_rate, write_rate;                                   /* requests per second; 0 = not throttled */
  const char *audit_log;                                          /* NULL: stderr */
  bool allow_plain_http; /* bearer tokens over plain http on a non-loopback address (TLS proxy in front) */
} gpd_security_config;

/* The long options, numbered from base (config.c puts them into its getopt table). */
enum {
  GPD_SEC_TLS_CERT,
  GPD_SEC_TLS_KEY,
  GPD_SEC_AUTH,
  GPD_SEC_TOKENS_FILE,
  GPD_SEC_JWT_KEYS,
  GPD_SEC_JWT_ISSUER,
  GPD_SEC_JWT_AUDIENCE,
  GPD_SEC_ASSIGNMENTS,
  GPD_SEC_THROTTLE_READS,
  GPD_SEC_THROTTLE_WRITES,
  GPD_SEC_AUDIT_LOG,
  GPD_SEC_ALLOW_PLAIN_HTTP,
  GPD_SEC_NOPTS
};
#define GPD_SECURITY_LONG_OPTIONS(base)                                                                                \
  {"tls-cert", required_argument, NULL, (base) + GPD_SEC_TLS_CERT},                                                    \
      {"tls-key", required_argument, NULL, (base) + GPD_SEC_TLS_KEY},                                                  \
      {"auth", required_argument, NULL, (base) + GPD_SEC_AUTH},                                                        \
      {"tokens-file", required_argument, NULL, (base) + GPD_SEC_TOKENS_FILE},                                          \
      {"jwt-keys", required_argument, NULL, (base) + GPD_SEC_JWT_KEYS},                                                \
      {"jwt-issuer", required_argument, NULL, (base) + GPD_SEC_JWT_ISSUER},                                            \
      {"jwt-audience", required_argument, NULL, (base) + GPD_SEC_JWT_AUDIENCE},                                        \
      {"assignments", required_argument, NULL, (base) + GPD_SEC_ASSIGNMENTS},                                          \
      {"throttle-reads", required_argument, NULL, (base) + GPD_SEC_THROTTLE_READS},                                    \
      {"throttle-writes", required_argument, NULL, (base) + GPD_SEC_THROTTLE_WRITES},                                  \
      {"audit-log", required_argument, NULL, (base) + GPD_SEC_AUDIT_LOG}, {                                            \
    "allow-plain-http", no_argument, NULL, (base) + GPD_SEC_ALLOW_PLAIN_HTTP                                           \
  }

/* The options' part of `gpupoold --help`. */
extern const char gpd_security_usage[];

/* One option (which = GPD_SEC_*). False with the reason in err when the value is bad. */
bool gpd_security_option(gpd_security_config *s, int which, const char *arg, char *err, size_t errlen);
/* The flags together, for a server listening on host: false with the reason in err. */
bool gpd_security_config_check(const gpd_security_config *s, const char *host, char *err, size_t errlen);
/* Does host (a name or an address) resolve to loopback addresses only? */
bool gpd_host_is_loopback(const char *host);

#endif
