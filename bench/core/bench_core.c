/* bench_core.c - throughput of the core on one thread: validate (parse + decide) and plan (parse +
 * decide + build + serialize) over 100,000 generated agent pool bodies, and resident memory at
 * 10% and 100% of each run (no growth expected: everything is freed per pool).
 *
 * Three phases: validate (parse + decide), plan (parse + decide + build the plan object) and
 * plan+json (the same plus serializing the plan to text, what `gpupool plan` prints).
 *
 * Usage: bench-core [N]   prints one line of key=value figures per phase. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpupool/gpupool.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A deterministic mix of bodies: GPU and CPU sizes, every management column, MIG layouts, labels,
 * taints, unknown properties, and about one in ten refused. */
static char *make_body(unsigned i) {
  static const char *const gpu_profiles[] = {
      "",
      ",\"gpuProfile\":{\"driver\":\"Install\"}",
      ",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
      ",\"gpuProfile\":{\"driver\":\"Install\",\"nvidia\":{\"managementMode\":\"Unmanaged\"}}",
      ",\"gpuProfile\":{\"driver\":\"None\"}",
      ",\"gpuInstanceProfile\":\"MIG1g\",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\"}}",
      ",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"migStrategy\":\"Mixed\",\"migProfiles\":["
      "\"MIG3g\",\"MIG2g\",\"MIG1g\",\"MIG1g\"]}}",
      ",\"gpuProfile\":{\"nvidia\":{\"managementMode\":\"Managed\",\"driverMode\":\"DRA\"}}",
      ",\"gpuProfile\":{\"driver\":\"None\",\"nvidia\":{\"managementMode\":\"Managed\"}}", /* refused */
  };
  static const char *const mig_sizes[] = {"Standard_NC24ads_A100_v4", "Standard_ND96isr_H100_v5", "Standard_ND96asr_v4",
                                          "Standard_NC80adis_H100_v5"};
  static const char *const any_sizes[] = {"Standard_NC4as_T4_v3", "Standard_NC64as_T4_v3", "Standard_ND96isr_H200_v5",
                                          "Standard_NV36ads_A10_v5", "Standard_D4s_v5"};
  unsigned g = i % 9;
  const char *size = (g >= 5 && g <= 6) ? mig_sizes[i % 4] : any_sizes[i % 5];
  if (strcmp(size, "Standard_D4s_v5") == 0 && g != 0) size = "Standard_NC8as_T4_v3";
  char *s = NULL;
  if (asprintf(&s,
               "{\"name\":\"pool%u\",\"properties\":{\"vmSize\":\"%s\",\"count\":%u,\"orchestratorVersion\":\"1.%u\","
               "\"nodeLabels\":{\"team\":\"t%u\",\"tier\":\"gpu\"},\"nodeTaints\":[\"sku=gpu:NoSchedule\"],"
               "\"tags\":{\"owner\":\"bench\"},\"enableAutoScaling\":false%s}}",
               i, size, i % 50, 33 + i % 5, i % 97, gpu_profiles[g]) < 0)
    return NULL;
  return s;
}

typedef struct {
  double seconds;
  long rss_10, rss_100;
  unsigned accepted;
} result;

enum { VALIDATE, PLAN, PLAN_JSON };

static result run(char **bodies, unsigned n, int phase) {
  gp_policy_context ctx;
  gp_policy_context_init(&ctx);
  ctx.feature_managed_gpu = true;
  result r = {0};
  size_t sink = 0;
  double t0 = now();
  for (unsigned i = 0; i < n; i++) {
    gp_error err;
    gp_error_init(&err);
    json_t *body = gp_body_parse(bodies[i], strlen(bodies[i]), &err);
    gp_pool *p = body ? gp_pool_put(&ctx, body, NULL, NULL, &err) : NULL;
    if (p) {
      r.accepted++;
      if (phase != VALIDATE) {
        json_t *plan = gp_plan_build(p, &ctx, 1);
        char *text = plan && phase == PLAN_JSON ? json_dumps(plan, JSON_COMPACT) : NULL;
        sink += plan ? json_object_size(plan) : 0;
        sink += text ? strlen(text) : 0;
        free(text);
        json_decref(plan);
      }
    }
    gp_pool_free(p);
    json_decref(body);
    gp_error_clear(&err);
    if (i + 1 == n / 10) r.rss_10 = rss_kib();
  }
  r.seconds = now() - t0;
  r.rss_100 = rss_kib();
  if (sink == 1) puts(""); /* keep the work observable */
  return r;
}

int main(int argc, char **argv) {
  unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
  if (n < 10) n = 10;
  char **bodies = calloc(n, sizeof *bodies);
  if (!bodies) return 1;
  for (unsigned i = 0; i < n; i++)
    if (!(bodies[i] = make_body(i))) return 1;
  run(bodies, n / 10, PLAN_JSON); /* warm-up */
  {
    double t0 = now();
    for (unsigned i = 0; i < n; i++)
      json_decref(json_loadb(bodies[i], strlen(bodies[i]), JSON_REJECT_DUPLICATES, NULL));
    double t = now() - t0;
    printf("parse-only pools=%u seconds=%.3f rate=%.0f\n", n, t, n / t);
  }
  static const char *const names[] = {"validate", "plan", "plan+json"};
  for (int phase = VALIDATE; phase <= PLAN_JSON; phase++) {
    result r = run(bodies, n, phase);
    printf("%s pools=%u accepted=%u seconds=%.3f rate=%.0f rss_kib_10pct=%ld rss_kib_100pct=%ld\n", names[phase], n,
           r.accepted, r.seconds, n / r.seconds, r.rss_10, r.rss_100);
  }
  for (unsigned i = 0; i < n; i++)
    free(bodies[i]);
  free(bodies);
  return 0;
}
