/* security_config.c - the security flags of gpupoold and the rules that hold between them (see
 * security_config.h and docs/decisions.md, Security). */
#include "security/security_config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char gpd_security_usage[] =
    "\n"
    "Security (docs/decisions.md, Security):\n"
    "      --tls-cert FILE             serve https with this PEM certificate (chain) ...\n"
    "      --tls-key FILE              ... and its PEM private key\n"
    "      --auth none|tokens|jwt      who may call (default none, allowed only on a loopback address)\n"
    "      --tokens-file FILE          --auth tokens: lines 'SHA256-OF-TOKEN PRINCIPAL ROLE SCOPE'\n"
    "                                  (roles Reader, Contributor, Agent); re-read on SIGHUP\n"
    "      --jwt-keys FILE             --auth jwt: PEM public keys or a JWKS (RS256, ES256)\n"
    "      --jwt-issuer ISS            --auth jwt: the required 'iss' claim\n"
    "      --jwt-audience AUD          --auth jwt: the required 'aud' claim\n"
    "      --assignments FILE          --auth jwt: lines 'PRINCIPAL-ID NAME ROLE SCOPE' (PRINCIPAL-ID =\n"
    "                                  the token's oid, else sub); keys and assignments re-read on SIGHUP\n"
    "      --throttle-reads N/s        per-principal GETs per second (bucket of 10 s; default off)\n"
    "      --throttle-writes N/s       per-principal writes per second (bucket of 10 s; default off)\n"
    "      --audit-log FILE            JSON lines of every write and every denied request (default\n"
    "                                  stderr); reopened on SIGHUP\n"
    "      --allow-plain-http          accept bearer tokens over http on a non-loopback address (TLS\n"
    "                                  ends at a proxy in front of gpupoold)\n";

/* "N/s" with 0.01 <= N <= 10^6 (a decimal is fine: 0.5/s is one request every two seconds). */
static bool parse_rate(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || strcmp(end, "/s") != 0 || !(v >= 0.01 && v <= 1e6)) return false;
  *out = v;
  return true;
}

bool gpd_security_option(gpd_security_config *s, int which, const char *arg, char *err, size_t errlen) {
  switch (which) {
  case GPD_SEC_TLS_CERT: s->tls_cert = arg; return true;
  case GPD_SEC_TLS_KEY: s->tls_key = arg; return true;
  case GPD_SEC_AUTH:
    if (strcmp(arg, "none") == 0)
      s->auth = GPD_AUTH_NONE;
    else if (strcmp(arg, "tokens") == 0)
      s->auth = GPD_AUTH_TOKENS;
    else if (strcmp(arg, "jwt") == 0)
      s->auth = GPD_AUTH_JWT;
    else {
      snprintf(err, errlen, "--auth must be none, tokens or jwt, not '%s'", arg);
      return false;
    }
    return true;
  case GPD_SEC_TOKENS_FILE: s->tokens_file = arg; return true;
  case GPD_SEC_JWT_KEYS: s->jwt_keys = arg; return true;
  case GPD_SEC_JWT_ISSUER: s->jwt_issuer = arg; return true;
  case GPD_SEC_JWT_AUDIENCE: s->jwt_audience = arg; return true;
  case GPD_SEC_ASSIGNMENTS: s->assignments = arg; return true;
  case GPD_SEC_THROTTLE_READS:
  case GPD_SEC_THROTTLE_WRITES:
    if (!parse_rate(arg, which == GPD_SEC_THROTTLE_READS ? &s->read_rate : &s->write_rate)) {
      snprintf(err, errlen, "--throttle-%s must be a rate such as 20/s, not '%s'",
               which == GPD_SEC_THROTTLE_READS ? "reads" : "writes", arg);
      return false;
    }
    return true;
  case GPD_SEC_AUDIT_LOG: s->audit_log = arg; return true;
  case GPD_SEC_ALLOW_PLAIN_HTTP: s->allow_plain_http = true; return true;
  default: snprintf(err, errlen, "unknown security option"); return false;
  }
}

bool gpd_host_is_loopback(const char *host) {
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai) return false;
  bool all = true;
  for (struct addrinfo *a = ai; a && all; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const struct sockaddr_in *in = (const struct sockaddr_in *)a->ai_addr;
      all = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      const struct in6_addr *in6 = &((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
      all = IN6_IS_ADDR_LOOPBACK(in6) || (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    } else {
      all = false;
    }
  }
  freeaddrinfo(ai);
  return all;
}

bool gpd_security_config_check(const gpd_security_config *s, const char *host, char *err, size_t errlen) {
  if (!s->tls_cert != !s->tls_key) {
    snprintf(err, errlen, "--tls-cert and --tls-key go together");
    return false;
  }
  const char *only_tokens = s->tokens_file ? "--tokens-file" : NULL;
  const char *only_jwt = s->jwt_keys       ? "--jwt-keys"
                         : s->jwt_issuer   ? "--jwt-issuer"
                         : s->jwt_audience ? "--jwt-audience"
                         : s->assignments  ? "--assignments"
                                           : NULL;
  bool loopback = gpd_host_is_loopback(host);
  switch (s->auth) {
  case GPD_AUTH_NONE:
    if (only_tokens || only_jwt) {
      snprintf(err, errlen, "%s needs --auth %s", only_tokens ? only_tokens : only_jwt, only_tokens ? "tokens" : "jwt");
      return false;
    }
    if (!loopback) {
      snprintf(err, errlen,
               "refusing to serve '%s' without authentication: --auth none is allowed only on a loopback address "
               "(127.0.0.1, ::1). Use --auth tokens or --auth jwt (with --tls-cert/--tls-key), or --listen "
               "127.0.0.1:PORT",
               host);
      return false;
    }
    return true;
  case GPD_AUTH_TOKENS:
    if (!s->tokens_file) {
      snprintf(err, errlen, "--auth tokens needs --tokens-file FILE");
      return false;
    }
    if (only_jwt) {
      snprintf(err, errlen, "%s needs --auth jwt", only_jwt);
      return false;
    }
    break;
  case GPD_AUTH_JWT:
    if (!s->jwt_keys || !s->jwt_issuer || !s->jwt_audience || !s->assignments) {
      snprintf(err, errlen, "--auth jwt needs --jwt-keys, --jwt-issuer, --jwt-audience and --assignments");
      return false;
    }
    if (only_tokens) {
      snprintf(err, errlen, "--tokens-file needs --auth tokens");
      return false;
    }
    break;
  }
  if (!loopback && !s->tls_cert && !s->allow_plain_http) {
    snprintf(err, errlen,
             "refusing to accept bearer tokens over plain http on '%s': give --tls-cert and --tls-key, or "
             "--allow-plain-http when a TLS proxy in front of gpupoold ends the connections",
             host);
    return false;
  }
  return true;
}
