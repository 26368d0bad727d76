/* test_units.c - unit tests of gpupoold's security pieces that the scenarios reach only in part:
 * the tokens/assignments parser (every refusal, with its line), scope matching and the decision per
 * route and role, the RFC 6750 header form, base64url, and the token buckets' arithmetic (depth,
 * Retry-After rounding, refill, many principals). */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "security/auth.h"
#include "security/authz.h"
#include "security/credentials.h"
#include "security/jwt.h"
#include "security/throttle.h"

#define SUB "/subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10"
#define H64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define MC "/providers/Microsoft.ContainerService/managedClusters"

static gpd_credentials *parse(const char *text, gpd_creds_kind kind, char *err) {
  return gpd_credentials_parse(text, strlen(text), kind, "f", err, 512);
}

/* A refused file: NULL, and the message names what is expected. */
static void refused(const char *text, gpd_creds_kind kind, const char *why) {
  char err[512] = "";
  gpd_credentials *c = parse(text, kind, err);
  if (c || !strstr(err, why)) fail_msg("expected '%s', got %s '%s' for:\n%s", why, c ? "a parse" : "", err, text);
  gpd_credentials_free(c);
}

static void test_credentials_parse(void **state) {
  (void)state;
  char err[512];
  gpd_credentials *c = parse("# comment\r\n\n" H64 " alice Reader " SUB "\r\n"
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice contributor " SUB
                             "/resourceGroups/rg1\n"
                             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\tbob\tAgent\t" SUB
                             "/resourceGroups/rg1" MC "/c1/agentPools/p1",
                             GPD_CREDS_TOKENS, err);
  assert_non_null(c);
  assert_int_equal(gpd_credentials_count(c), 2); /* upper-case hex is the same token hash */
  const gpd_principal *a = gpd_credentials_find(c, H64);
  assert_non_null(a);
  assert_string_equal(a->name, "alice");
  assert_int_equal(a->n, 2);
  assert_int_equal(a->assignments[0].role, GPD_ROLE_READER);
  assert_int_equal(a->assignments[1].role, GPD_ROLE_CONTRIBUTOR);
  assert_int_equal(a->assignments[1].nseg, 4);
  assert_null(gpd_credentials_find(c, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"));
  gpd_credentials_free(c);

  assert_non_null(c = parse("# only comments\n\n", GPD_CREDS_TOKENS, err));
  assert_int_equal(gpd_credentials_count(c), 0);
  assert_null(gpd_credentials_find(c, H64));
  gpd_credentials_free(c);

  assert_non_null(c = parse("0000-oid alice Reader /\n", GPD_CREDS_ASSIGNMENTS, err));
  assert_int_equal(gpd_credentials_find(c, "0000-oid")->assignments[0].nseg, 0);
  gpd_credentials_free(c);
}

static void test_credentials_refused(void **state) {
  (void)state;
  refused("secret-token alice Reader /", GPD_CREDS_TOKENS, "f:1: the first field must be the SHA-256");
  refused("# c\n" H64 " alice Reader", GPD_CREDS_TOKENS, "f:2: missing fields");
  refused(H64 " alice Reader / extra", GPD_CREDS_TOKENS, "f:1: too many fields");
  refused(H64 " alice Owner /", GPD_CREDS_TOKENS, "role 'Owner'");
  refused(H64 " alice Reader subscriptions/x", GPD_CREDS_TOKENS, "scope 'subscriptions/x'");
  refused(H64 " alice Reader /subscriptions", GPD_CREDS_TOKENS, "scope '/subscriptions'");
  refused(H64 " alice Reader /resourceGroups/x", GPD_CREDS_TOKENS, "scope");
  refused(H64 " alice Reader " SUB "/", GPD_CREDS_TOKENS, "scope");
  refused(H64 " alice Reader " SUB "//x", GPD_CREDS_TOKENS, "scope");
  refused(H64 " bob Agent " SUB, GPD_CREDS_TOKENS, "an Agent's scope must be one agent pool's id");
  refused(H64 " bob Agent " SUB "/resourceGroups/rg1" MC "/c1", GPD_CREDS_TOKENS, "Agent");
  /* a machine's id is an Agent's scope too; anything below or beside it is not */
  refused(H64 " bob Agent " SUB "/resourceGroups/rg1" MC "/c1/agentPools/p/machines", GPD_CREDS_TOKENS, "Agent");
  refused(H64 " bob Agent " SUB "/resourceGroups/rg1" MC "/c1/agentPools/p/machines/m/plan", GPD_CREDS_TOKENS, "Agent");
  refused(H64 " bob Agent " SUB "/resourceGroups/rg1" MC "/c1/agentPools/p/nodes/m", GPD_CREDS_TOKENS, "Agent");
  refused(H64 " alice Reader /\n" H64 " bob Reader /", GPD_CREDS_TOKENS,
          "f:2: this token was given to principal 'alice' on line 1");
  refused(H64 " al\x01ice Reader /", GPD_CREDS_TOKENS, "control");
  refused(H64 " al\xc3\xa9ice Reader /", GPD_CREDS_TOKENS, "non-ASCII");
  refused("a\0b", GPD_CREDS_TOKENS, "missing fields"); /* strlen stops at the NUL: "a" alone */
  char err[512];
  static const char nul[] = H64 " alice Reader /\n\0";
  assert_null(gpd_credentials_parse(nul, sizeof nul - 1, GPD_CREDS_TOKENS, "f", err, sizeof err));
  assert_non_null(strstr(err, "NUL"));
  char long_name[300];
  memset(long_name, 'n', sizeof long_name);
  long_name[sizeof long_name - 1] = '\0';
  char line[600];
  snprintf(line, sizeof line, H64 " %s Reader /", long_name);
  refused(line, GPD_CREDS_TOKENS, "principal name is longer");
}

/* The path's segments, as the router gives them. */
static size_t split(char *path, const char **seg) {
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r(path, "/", &save); t && n < GPD_MAX_SEGMENTS; t = strtok_r(NULL, "/", &save))
    seg[n++] = t;
  return n;
}

static gpd_access decide(const gpd_principal *p, int route, gpd_method m, const char *path) {
  char buf[1024];
  const char *seg[GPD_MAX_SEGMENTS], *action = NULL;
  snprintf(buf, sizeof buf, "%s", path);
  size_t n = split(buf, seg);
  gpd_access a = gpd_authz_decide(p, route, m, seg, n, &action);
  assert_non_null(action);
  return a;
}

static void test_authz(void **state) {
  (void)state;
  char err[512];
  gpd_credentials *c = parse("r Reader-A Reader " SUB "\n"
                             "c Contrib-RG Contributor " SUB "/resourceGroups/RG1\n"
                             "c Contrib-RG Reader " SUB "/resourceGroups/rg2" MC "/c2/agentPools/p2\n"
                             "a Agent Agent " SUB "/resourceGroups/rg1" MC "/c1/agentPools/gpu1\n"
                             "n Node Agent " SUB "/resourceGroups/rg1" MC "/c1/agentPools/GPU1/Machines/Node-1\n"
                             "x Prefix Contributor " SUB "0\n"
                             "s SubContrib Contributor " SUB "\n"
                             "g RG-Reader Reader " SUB "/resourceGroups/rg1\n"
                             "o Other-Sub Reader /subscriptions/11111111-2222-3333-4444-555555555555\n"
                             "d Deep Contributor " SUB "/providers\n"
                             "A0 Outsider Reader /subscriptions/11111111-2222-3333-4444-555555555555\n",
                             GPD_CREDS_ASSIGNMENTS, err);
  assert_non_null(c);
  const gpd_principal *r = gpd_credentials_find(c, "r"), *rg = gpd_credentials_find(c, "c"),
                      *ag = gpd_credentials_find(c, "a"), *px = gpd_credentials_find(c, "x"),
                      *sc = gpd_credentials_find(c, "s"), *nd = gpd_credentials_find(c, "n"),
                      *g = gpd_credentials_find(c, "g"), *o = gpd_credentials_find(c, "o"),
                      *dp = gpd_credentials_find(c, "d"), *out = gpd_credentials_find(c, "A0");
  const char *c1 = SUB "/resourceGroups/rg1" MC "/c1", *p1 = SUB "/resourceGroups/rg1" MC "/c1/agentPools/gpu1";
  char plan[512], feat[512], reg[512];
  snprintf(plan, sizeof plan, "%s/plan", p1);
  snprintf(feat, sizeof feat,
           "%s/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/ManagedGPU", SUB);
  snprintf(reg, sizeof reg, "%s/register", feat);

  /* Reader: reads, never writes */
  assert_int_equal(decide(r, GPD_ROUTE_CLUSTER, GPD_GET, c1), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_CLUSTER, GPD_PUT, c1), GPD_ACCESS_DENY);
  assert_int_equal(decide(r, GPD_ROUTE_POOL, GPD_DELETE, p1), GPD_ACCESS_DENY);
  assert_int_equal(decide(r, GPD_ROUTE_PLAN, GPD_GET, plan), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_FEATURE, GPD_GET, feat), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_FEATURE_REGISTER, GPD_POST, reg), GPD_ACCESS_DENY);
  assert_int_equal(decide(r, GPD_ROUTE_CLUSTERS_SUB, GPD_GET, SUB MC), GPD_ACCESS_ALLOW);
  /* an RG contributor: case-insensitive, whole segments, lists filtered at subscription scope */
  assert_int_equal(decide(rg, GPD_ROUTE_CLUSTER, GPD_PUT, c1), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(rg, GPD_ROUTE_CLUSTER, GPD_PUT, SUB "/resourceGroups/rg10" MC "/c1"), GPD_ACCESS_DENY);
  assert_int_equal(decide(rg, GPD_ROUTE_CLUSTERS_SUB, GPD_GET, SUB MC), GPD_ACCESS_FILTER);
  assert_int_equal(decide(rg, GPD_ROUTE_CLUSTERS_RG, GPD_GET, SUB "/resourceGroups/rg1" MC), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(rg, GPD_ROUTE_CLUSTERS_RG, GPD_GET, SUB "/resourceGroups/rg2" MC), GPD_ACCESS_FILTER);
  assert_int_equal(decide(rg, GPD_ROUTE_CLUSTERS_RG, GPD_GET, SUB "/resourceGroups/rg3" MC), GPD_ACCESS_DENY);
  assert_int_equal(decide(rg, GPD_ROUTE_POOLS, GPD_GET, SUB "/resourceGroups/rg2" MC "/c2/agentPools"),
                   GPD_ACCESS_FILTER);
  assert_int_equal(decide(rg, GPD_ROUTE_FEATURE_REGISTER, GPD_POST, reg), GPD_ACCESS_DENY);
  assert_int_equal(decide(rg, GPD_ROUTE_OPERATION, GPD_GET,
                          SUB "/providers/Microsoft.ContainerService/locations/eastus/operations/x"),
                   GPD_ACCESS_FILTER);
  assert_true(gpd_authz_can_read_id(rg, SUB "/RESOURCEGROUPS/rg1" MC "/C1"));
  assert_false(gpd_authz_can_read_id(rg, SUB "/resourceGroups/rg2" MC "/c2"));
  assert_true(gpd_authz_can_read_id(rg, SUB "/resourceGroups/rg2" MC "/c2/agentPools/p2"));
  assert_false(gpd_authz_can_read_id(rg, "not an id"));
  /* Agent: its plan and nothing else */
  assert_int_equal(decide(ag, GPD_ROUTE_PLAN, GPD_GET, plan), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(ag, GPD_ROUTE_POOL, GPD_GET, p1), GPD_ACCESS_DENY);
  assert_int_equal(decide(ag, GPD_ROUTE_PLAN, GPD_GET, SUB "/resourceGroups/rg1" MC "/c1/agentPools/gpu2/plan"),
                   GPD_ACCESS_DENY);
  assert_int_equal(decide(ag, GPD_ROUTE_POOLS, GPD_GET, SUB "/resourceGroups/rg1" MC "/c1/agentPools"),
                   GPD_ACCESS_DENY);
  assert_false(gpd_authz_can_read_id(ag, p1));
  /* Machines: the pool's Agent registers and reports any of its machines and reads their plans; a
   * machine's Agent only itself; neither deletes or lists. */
  char m1[512], m1plan[512], m2[512], m10[512], list[512], other[512];
  snprintf(m1, sizeof m1, "%s/machines/node-1", p1);
  snprintf(m1plan, sizeof m1plan, "%s/plan", m1);
  snprintf(m2, sizeof m2, "%s/machines/node-2", p1);
  snprintf(m10, sizeof m10, "%s/machines/node-10", p1);
  snprintf(list, sizeof list, "%s/machines", p1);
  snprintf(other, sizeof other, "%s/resourceGroups/rg1%s/c1/agentPools/gpu2/machines/node-1", SUB, MC);
  assert_int_equal(decide(ag, GPD_ROUTE_MACHINE, GPD_PUT, m2), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(ag, GPD_ROUTE_MACHINE, GPD_GET, m1), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(ag, GPD_ROUTE_MACHINE_PLAN, GPD_GET, m1plan), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(ag, GPD_ROUTE_MACHINE, GPD_DELETE, m1), GPD_ACCESS_DENY);
  assert_int_equal(decide(ag, GPD_ROUTE_MACHINES, GPD_GET, list), GPD_ACCESS_DENY);
  assert_int_equal(decide(ag, GPD_ROUTE_MACHINE, GPD_PUT, other), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINE, GPD_PUT, m1), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINE, GPD_GET, m1), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINE_PLAN, GPD_GET, m1plan), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINE, GPD_PUT, m2), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINE, GPD_PUT, m10), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINE, GPD_DELETE, m1), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_PLAN, GPD_GET, plan), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_POOL, GPD_GET, p1), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_MACHINES, GPD_GET, list), GPD_ACCESS_DENY);
  assert_int_equal(decide(r, GPD_ROUTE_MACHINES, GPD_GET, list), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_MACHINE, GPD_PUT, m1), GPD_ACCESS_DENY);
  assert_int_equal(decide(rg, GPD_ROUTE_MACHINE, GPD_DELETE, m1), GPD_ACCESS_ALLOW);
  /* What-if: whoever may write the pool (it would tell what a change does to its machines) */
  char whatif[512];
  snprintf(whatif, sizeof whatif, "%s/whatIf", p1);
  assert_int_equal(decide(rg, GPD_ROUTE_POOL_WHATIF, GPD_POST, whatif), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(sc, GPD_ROUTE_POOL_WHATIF, GPD_POST, whatif), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_POOL_WHATIF, GPD_POST, whatif), GPD_ACCESS_DENY);
  assert_int_equal(decide(ag, GPD_ROUTE_POOL_WHATIF, GPD_POST, whatif), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_POOL_WHATIF, GPD_POST, whatif), GPD_ACCESS_DENY);
  /* A principal's assignments are its own: the next principal's (in the credentials' order, "A0"
   * then the Agent "a"; "g" then the machine's Agent "n") never count for it */
  assert_int_equal(decide(out, GPD_ROUTE_PLAN, GPD_GET, plan), GPD_ACCESS_DENY);
  assert_int_equal(decide(g, GPD_ROUTE_MACHINE, GPD_PUT, m1), GPD_ACCESS_DENY);
  assert_int_equal(decide(g, GPD_ROUTE_MACHINE, GPD_GET, m1), GPD_ACCESS_ALLOW); /* it reads rg1 */
  /* Abort: whoever may write the pool; not a Reader, not an Agent */
  char abort_path[512];
  snprintf(abort_path, sizeof abort_path, "%s/abort", p1);
  assert_int_equal(decide(rg, GPD_ROUTE_POOL_ABORT, GPD_POST, abort_path), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(sc, GPD_ROUTE_POOL_ABORT, GPD_POST, abort_path), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_POOL_ABORT, GPD_POST, abort_path), GPD_ACCESS_DENY);
  assert_int_equal(decide(ag, GPD_ROUTE_POOL_ABORT, GPD_POST, abort_path), GPD_ACCESS_DENY);
  assert_int_equal(decide(nd, GPD_ROUTE_POOL_ABORT, GPD_POST, abort_path), GPD_ACCESS_DENY);
  /* a textual prefix of the subscription id matches nothing */
  assert_int_equal(decide(px, GPD_ROUTE_CLUSTER, GPD_GET, c1), GPD_ACCESS_DENY);
  assert_int_equal(decide(px, GPD_ROUTE_CLUSTERS_SUB, GPD_GET, SUB MC), GPD_ACCESS_DENY);
  /* Features: Contributor at subscription scope, not below it (a scope under the subscription that
   * covers the feature's path, like /subscriptions/{id}/providers, is not enough) */
  assert_int_equal(decide(sc, GPD_ROUTE_FEATURE_REGISTER, GPD_POST, reg), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(sc, GPD_ROUTE_FEATURE_UNREGISTER, GPD_POST, reg), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(dp, GPD_ROUTE_FEATURE_REGISTER, GPD_POST, reg), GPD_ACCESS_DENY);
  assert_int_equal(decide(dp, GPD_ROUTE_FEATURE, GPD_GET, feat), GPD_ACCESS_ALLOW); /* it does read */
  /* A principal whose only assignment is one resource group: lists of the subscription are
   * filtered to it (every assignment is looked at, the first one too), its group's list is whole */
  assert_int_equal(decide(g, GPD_ROUTE_CLUSTERS_SUB, GPD_GET, SUB MC), GPD_ACCESS_FILTER);
  assert_int_equal(decide(g, GPD_ROUTE_CLUSTERS_RG, GPD_GET, SUB "/resourceGroups/rg1" MC), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(g, GPD_ROUTE_CLUSTERS_RG, GPD_GET, SUB "/resourceGroups/rg2" MC), GPD_ACCESS_DENY);
  /* Operation status and result are decided at subscription depth: a Reader of the subscription
   * reads them, one of a resource group gets them filtered (the handler checks the operation's
   * resource), one of another subscription nothing; likewise the GPU VM size catalog */
  const char *op = SUB "/providers/Microsoft.ContainerService/locations/eastus/operations/x",
             *opres = SUB "/providers/Microsoft.ContainerService/locations/eastus/operationresults/x",
             *sizes = SUB "/providers/Microsoft.ContainerService/gpuVMSizes";
  assert_int_equal(decide(r, GPD_ROUTE_OPERATION, GPD_GET, op), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(r, GPD_ROUTE_OPERATION_RESULT, GPD_GET, opres), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(g, GPD_ROUTE_OPERATION, GPD_GET, op), GPD_ACCESS_FILTER);
  assert_int_equal(decide(g, GPD_ROUTE_OPERATION_RESULT, GPD_GET, opres), GPD_ACCESS_FILTER);
  assert_int_equal(decide(o, GPD_ROUTE_OPERATION, GPD_GET, op), GPD_ACCESS_DENY);
  assert_int_equal(decide(o, GPD_ROUTE_OPERATION_RESULT, GPD_GET, opres), GPD_ACCESS_DENY);
  assert_int_equal(decide(r, GPD_ROUTE_GPU_VM_SIZES, GPD_GET, sizes), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(g, GPD_ROUTE_GPU_VM_SIZES, GPD_GET, sizes), GPD_ACCESS_ALLOW);
  assert_int_equal(decide(o, GPD_ROUTE_GPU_VM_SIZES, GPD_GET, sizes), GPD_ACCESS_DENY);
  gpd_credentials_free(c);
}

static void test_bearer(void **state) {
  (void)state;
  static const struct {
    const char *header, *token;
  } cases[] = {
      {"Bearer abc", "abc"}, {"bearer abc", "abc"}, {"BEARER   a.b-c_d~e+f/g==", "a.b-c_d~e+f/g=="},
      {"Bearer", NULL},      {"Bearer ", NULL},     {"Bearerabc", NULL},
      {"Basic abc", NULL},   {"Bearer a b", NULL},  {"Bearer a=b", NULL},
      {"Bearer ==", NULL},   {"Bearer a\t", NULL},  {"Bearer \xc3\xa9", NULL},
      {"Bearer\tabc", NULL}, {"Token abc", NULL},   {"Bearer abc ", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *tok = NULL;
    size_t len = 0;
    bool ok = gpd_bearer_token(cases[i].header, &tok, &len);
    if (ok != (cases[i].token != NULL)) fail_msg("'%s': %s", cases[i].header, ok ? "accepted" : "refused");
    if (ok && (len != strlen(cases[i].token) || strncmp(tok, cases[i].token, len) != 0))
      fail_msg("'%s': token '%.*s'", cases[i].header, (int)len, tok);
  }
}

static void test_base64url(void **state) {
  (void)state;
  size_t n = 99;
  unsigned char *d = gpd_base64url_decode("eyJhIjoxfQ", 10, &n); /* {"a":1} */
  assert_non_null(d);
  assert_int_equal(n, 7);
  assert_memory_equal(d, "{\"a\":1}", 7);
  free(d);
  assert_non_null(d = gpd_base64url_decode("_-8", 3, &n)); /* 0xff 0xef: the url alphabet */
  assert_int_equal(n, 2);
  assert_int_equal(d[0], 0xff);
  assert_int_equal(d[1], 0xef);
  free(d);
  assert_null(gpd_base64url_decode("ab+c", 4, &n));  /* '+' is standard base64, not url */
  assert_null(gpd_base64url_decode("abc=", 4, &n));  /* no padding */
  assert_null(gpd_base64url_decode("abcde", 5, &n)); /* a length no encoding has */
  assert_non_null(d = gpd_base64url_decode("", 0, &n));
  assert_int_equal(n, 0);
  free(d);
}

#define SEC 1000000000LL

static void test_throttle(void **state) {
  (void)state;
  gpd_throttle *t = gpd_throttle_new(0.5, 0); /* reads 0.5/s: a bucket of 5; writes unthrottled */
  assert_non_null(t);
  int64_t now = 1000 * SEC;
  for (int i = 0; i < 5; i++)
    assert_int_equal(gpd_throttle_take(t, "p", false, now), 0);
  assert_int_equal(gpd_throttle_take(t, "p", false, now), 2); /* 1 token at 0.5/s: 2 s */
  assert_int_equal(gpd_throttle_take(t, "q", false, now), 0); /* another principal */
  for (int i = 0; i < 100; i++)
    assert_int_equal(gpd_throttle_take(t, "p", true, now), 0);                 /* writes are not throttled here */
  assert_int_equal(gpd_throttle_take(t, "p", false, now + SEC), 1);            /* half a token: 1 s left */
  assert_int_equal(gpd_throttle_take(t, "p", false, now + SEC + SEC / 10), 1); /* 0.55: 0.9 s, rounded up */
  assert_int_equal(gpd_throttle_take(t, "p", false, now + 2 * SEC), 0);        /* one token */
  assert_int_equal(gpd_throttle_take(t, "p", false, now + 2 * SEC), 2);
  assert_int_equal(gpd_throttle_take(t, "p", false, now + 1000 * SEC), 0); /* full again, never more than 5 */
  for (int i = 0; i < 4; i++)
    assert_int_equal(gpd_throttle_take(t, "p", false, now + 1000 * SEC), 0);
  assert_int_not_equal(gpd_throttle_take(t, "p", false, now + 1000 * SEC), 0);
  /* many principals: the table sweeps full buckets and keeps the ones in use */
  int64_t later = now + 2000 * SEC;
  for (int i = 0; i < 5; i++)
    assert_int_equal(gpd_throttle_take(t, "busy", false, later), 0);
  char name[32];
  for (int i = 0; i < 20000; i++) {
    snprintf(name, sizeof name, "user%d", i);
    assert_int_equal(gpd_throttle_take(t, name, false, later + i), 0);
  }
  assert_int_equal(gpd_throttle_take(t, "busy", false, later + 20000), 2); /* still empty: not forgotten */
  gpd_throttle_free(t);

  t = gpd_throttle_new(0.01, 1000); /* slow reads: a bucket of 1 (never less), Retry-After capped */
  assert_int_equal(gpd_throttle_take(t, "p", false, now), 0);
  assert_int_equal(gpd_throttle_take(t, "p", false, now), 100);
  for (int i = 0; i < 10000; i++)
    assert_int_equal(gpd_throttle_take(t, "p", true, now), 0);
  assert_int_equal(gpd_throttle_take(t, "p", true, now), 1);
  gpd_throttle_free(t);

  t = gpd_throttle_new(0.0001, 0); /* a token every 10000 s: Retry-After says an hour at most */
  assert_int_equal(gpd_throttle_take(t, "p", false, now), 0);
  assert_int_equal(gpd_throttle_take(t, "p", false, now), 3600);
  assert_int_equal(gpd_throttle_take(t, "p", false, now + 6400 * SEC + SEC / 2), 3600); /* 3599.5 s: rounded up */
  assert_int_equal(gpd_throttle_take(t, "p", false, now + 6401 * SEC + SEC / 2), 3599); /* 3598.5 s */
  gpd_throttle_free(t);
  t = gpd_throttle_new(1.0 / 4096, 0); /* powers of two: the waits below are exact */
  assert_int_equal(gpd_throttle_take(t, "p", false, now), 0);
  assert_int_equal(gpd_throttle_take(t, "p", false, now + 497 * SEC), 3599); /* exactly 3599 s: not rounded up */
  gpd_throttle_free(t);
  assert_int_equal(gpd_throttle_take(NULL, "p", false, now), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_credentials_parse),
      cmocka_unit_test(test_credentials_refused),
      cmocka_unit_test(test_authz),
      cmocka_unit_test(test_bearer),
      cmocka_unit_test(test_base64url),
      cmocka_unit_test(test_throttle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
