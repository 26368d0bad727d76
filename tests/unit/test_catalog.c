/* test_catalog.c - the generated catalog matches its data: every row of data/gpu-vm-sizes.csv
 * (a copy of reference/gpu-vm-sizes.csv) is found with the same facts, MIG-capable models have all
 * five profiles, component versions cover Kubernetes 1.33-1.37, GPU models are recognised. */
/* cmocka needs these first, in this block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupool/gpupool.h"
#include "helpers.h"

static unsigned os_mask(char *s) {
  unsigned m = 0;
  for (char *save = NULL, *t = strtok_r(s, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
    if (!strcmp(t, "ubuntu"))
      m |= GP_OS_FAMILY_UBUNTU;
    else if (!strcmp(t, "azurelinux"))
      m |= GP_OS_FAMILY_AZURELINUX;
    else if (!strcmp(t, "azurelinux3"))
      m |= GP_OS_FAMILY_AZURELINUX3;
    else if (!strcmp(t, "windows"))
      m |= GP_OS_FAMILY_WINDOWS;
    else
      fail_msg("unknown os %s", t);
  }
  return m;
}

static void test_every_csv_row(void **state) {
  (void)state;
  FILE *f = fopen("data/gpu-vm-sizes.csv", "r");
  assert_non_null(f);
  char line[1024], *field[10];
  int rows = 0;
  bool header = false;
  while (csv_row(f, line, sizeof line, &header, field, 10)) {
    const gp_vm_size *s = gp_catalog_vm_size(field[0]);
    assert_non_null(s);
    assert_string_equal(s->name, field[0]);
    assert_int_equal(s->vendor, strcmp(field[1], "AMD") == 0 ? GP_VENDOR_AMD : GP_VENDOR_NVIDIA);
    assert_string_equal(s->gpu_model, field[2]);
    assert_int_equal(s->gpus, atoi(field[3]));
    assert_string_equal(s->fraction, field[4]);
    assert_string_equal(s->driver_family, field[5]);
    assert_int_equal(s->mig, strcmp(field[6], "yes") == 0);
    assert_int_equal(s->fabric_manager, strcmp(field[7], "yes") == 0);
    assert_int_equal(s->os_mask, os_mask(field[8]));
    rows++;
  }
  fclose(f);
  assert_int_equal(rows, (int)gp_catalog_vm_size_count());
  assert_true(rows >= 34);
}

static void test_lookup_case_insensitive(void **state) {
  (void)state;
  const gp_vm_size *a = gp_catalog_vm_size("standard_nd96isr_h100_v5");
  assert_non_null(a);
  assert_string_equal(a->name, "Standard_ND96isr_H100_v5");
  assert_int_equal(a->gpus, 8);
  assert_true(a->mig && a->fabric_manager);
  assert_null(gp_catalog_vm_size("Standard_D4s_v5")); /* unknown sizes are CPU-only */
  assert_null(gp_catalog_vm_size(""));
  assert_null(gp_catalog_vm_size(NULL));
  /* NC A100 v4 must not run the fabric manager */
  assert_false(gp_catalog_vm_size("Standard_NC24ads_A100_v4")->fabric_manager);
}

static void test_mig_models_complete(void **state) {
  (void)state;
  for (size_t i = 0; i < gp_catalog_vm_size_count(); i++) {
    const gp_vm_size *s = gp_catalog_vm_size_at(i);
    if (!s->mig) continue;
    for (int p = GP_MIG_1G; p <= GP_MIG_7G; p++) {
      const gp_mig_model_profile *mp = gp_catalog_mig_profile(s->gpu_model, (gp_mig_profile)p);
      if (!mp) fail_msg("%s (%s) lacks %s", s->name, s->gpu_model, gp_enum_name(&gp_mig_profile_names, p));
    }
  }
  /* the reference table, a few cells */
  assert_string_equal(gp_catalog_mig_profile("A100-40GB", GP_MIG_1G)->nvidia_name, "1g.5gb");
  assert_string_equal(gp_catalog_mig_profile("H100-80GB", GP_MIG_3G)->nvidia_name, "3g.40gb");
  assert_string_equal(gp_catalog_mig_profile("H200-141GB", GP_MIG_7G)->nvidia_name, "7g.141gb");
  assert_int_equal(gp_catalog_mig_profile("H100-80GB", GP_MIG_1G)->profile_id, 19);
  assert_int_equal(gp_catalog_mig_profile("H100-80GB", GP_MIG_2G)->profile_id, 14);
  assert_int_equal(gp_catalog_mig_profile("H100-80GB", GP_MIG_3G)->profile_id, 9);
  assert_int_equal(gp_catalog_mig_profile("H100-80GB", GP_MIG_4G)->profile_id, 5);
  assert_int_equal(gp_catalog_mig_profile("H100-80GB", GP_MIG_7G)->profile_id, 0);
  assert_int_equal(gp_catalog_mig_profile_by_name("H100-80GB", "2g.20gb")->profile, GP_MIG_2G);
  assert_null(gp_catalog_mig_profile("T4-16GB", GP_MIG_1G));
}

static void test_geometry(void **state) {
  (void)state;
  const gp_mig_geometry *g = gp_catalog_mig_geometry(GP_MIG_3G);
  assert_int_equal(g->compute_slices, 3);
  assert_int_equal(g->memory_slices, 4);
  assert_int_equal(g->start_mask, (1u << 0) | (1u << 4));
  assert_int_equal(gp_catalog_mig_geometry(GP_MIG_1G)->start_mask, 0x7f);
  assert_int_equal(gp_catalog_mig_geometry(GP_MIG_7G)->memory_slices, 8);
}

static void test_components(void **state) {
  (void)state;
  int lo, hi;
  gp_catalog_k8s_range(&lo, &hi);
  assert_int_equal(lo, 33);
  assert_int_equal(hi, 37);
  static const char *const names[] = {GP_COMPONENT_DEVICE_PLUGIN, GP_COMPONENT_DRA_DRIVER, GP_COMPONENT_DCGM,
                                      GP_COMPONENT_DCGM_EXPORTER};
  for (int m = lo; m <= hi; m++)
    for (size_t i = 0; i < 4; i++)
      assert_non_null(gp_catalog_component(m, names[i]));
  assert_string_equal(gp_catalog_component(35, GP_COMPONENT_DEVICE_PLUGIN)->version, "0.19.3");
  assert_string_equal(gp_catalog_component(36, GP_COMPONENT_DCGM_EXPORTER)->version, "4.8.2");
  assert_null(gp_catalog_component(32, GP_COMPONENT_DCGM));
  assert_string_equal(gp_catalog_driver_family("cuda-lts")->version, "580.159.04");
  assert_string_equal(gp_catalog_driver_family("grid")->version, "570.211.01");
  assert_null(gp_catalog_driver_family("amd"));
  gp_k8s_version v;
  assert_true(gp_k8s_version_parse("1.37.4", &v) && gp_catalog_k8s_supported(&v));
  assert_true(gp_k8s_version_parse("1.32", &v) && !gp_catalog_k8s_supported(&v));
  assert_true(gp_k8s_version_parse("2.35", &v) && !gp_catalog_k8s_supported(&v));
}

static void test_gpu_models(void **state) {
  (void)state;
  /* the product name and PCI id of the real H100 capture */
  assert_string_equal(gp_catalog_gpu_model_by_name("NVIDIA H100 80GB HBM3")->model, "H100-80GB");
  assert_string_equal(gp_catalog_gpu_model_by_pci(0x233010DEu)->model, "H100-80GB");
  assert_string_equal(gp_catalog_gpu_model_by_name("NVIDIA H100 NVL")->model, "H100-NVL-94GB");
  assert_string_equal(gp_catalog_gpu_model_by_name("Tesla T4")->model, "T4-16GB");
  assert_string_equal(gp_catalog_gpu_model_by_name("NVIDIA A100 80GB PCIe")->model, "A100-80GB");
  assert_null(gp_catalog_gpu_model_by_name("Matrox G200"));
  assert_null(gp_catalog_gpu_model_by_pci(0x12345678u));
  /* every catalog GPU model of a size is described in gpu-models.csv */
  for (size_t i = 0; i < gp_catalog_vm_size_count(); i++)
    if (!gp_catalog_gpu_model(gp_catalog_vm_size_at(i)->gpu_model))
      fail_msg("no gpu-models.csv row for %s", gp_catalog_vm_size_at(i)->gpu_model);
}

/* The closest known sizes to a name (edit distance, case ignored), and a size that can do what is
 * asked: what VMSizeNotInGPUCatalog and GPUProfileNotSupportedOnVMSize suggest. */
static void test_suggestions(void **state) {
  (void)state;
  const gp_vm_size *near[3];
  assert_int_equal(gp_catalog_vm_size_suggest("Standard_NC24ads_A100_v5", near, 3), 3);
  assert_string_equal(near[0]->name, "Standard_NC24ads_A100_v4"); /* distance 1 */
  assert_string_equal(near[1]->name, "Standard_NC48ads_A100_v4"); /* distance 3 */
  assert_int_equal(gp_catalog_vm_size_suggest("STANDARD_NC4AS_T4_V3", near, 1), 1); /* case: distance 0 */
  assert_string_equal(near[0]->name, "Standard_NC4as_T4_v3");
  assert_int_equal(gp_catalog_vm_size_suggest("Standard_NC4as_T4_v3", near, 0), 0);
  /* a letter missing, a letter too many: the size itself first (distance 1), then those within 2 of it */
  assert_int_equal(gp_catalog_vm_size_suggest("Standard_NC24ads_A100v4", near, 3), 3);
  assert_string_equal(near[0]->name, "Standard_NC24ads_A100_v4");
  assert_string_equal(near[1]->name, "Standard_NC48ads_A100_v4");
  assert_int_equal(gp_catalog_vm_size_suggest("Standard_NC24adss_A100_v4", near, 3), 3);
  assert_string_equal(near[0]->name, "Standard_NC24ads_A100_v4");
  char huge[300];
  memset(huge, 'x', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  assert_int_equal(gp_catalog_vm_size_suggest(huge, near, 3), 0); /* too long to compare: no suggestion */

  assert_true(gp_catalog_is_n_series("standard_nd96isr_h100_v5"));
  assert_false(gp_catalog_is_n_series("Standard_D4s_v5"));
  assert_false(gp_catalog_is_n_series(NULL));

  const gp_vm_size *s = gp_catalog_vm_size_for(GP_VENDOR_NVIDIA, true, 0, 0);
  assert_non_null(s);
  assert_true(s->mig);
  s = gp_catalog_vm_size_for(GP_VENDOR_NVIDIA, true, 0, 8); /* 8 GPUs: a confirmed row before GB200's */
  assert_true(s->mig && s->gpus == 8);
  s = gp_catalog_vm_size_for(GP_VENDOR_NVIDIA, false, GP_OS_FAMILY_WINDOWS, 0);
  assert_true(s->os_mask & GP_OS_FAMILY_WINDOWS);
  s = gp_catalog_vm_size_for(GP_VENDOR_AMD, true, 0, 0); /* no AMD size does MIG */
  assert_null(s);
}

static void test_versions(void **state) {
  (void)state;
  gp_k8s_version a, b;
  assert_true(gp_k8s_version_parse("1.35", &a));
  assert_false(a.has_patch);
  assert_true(gp_k8s_version_parse("1.35.2", &b));
  assert_true(gp_k8s_version_cmp(&a, &b) < 0); /* in full: "1.35" is 1.35.0, before 1.35.2 */
  assert_true(gp_k8s_version_parse("1.35.0", &b));
  assert_int_equal(gp_k8s_version_cmp(&a, &b), 0);
  assert_int_equal(gp_k8s_minor_cmp(&a, &b), 0);
  assert_true(gp_k8s_version_parse("1.36.0", &a));
  assert_true(gp_k8s_version_cmp(&a, &b) > 0);
  char text[32];
  gp_k8s_version_text(&a, text, sizeof text);
  assert_string_equal(text, "1.36.0");
  assert_true(gp_k8s_version_parse("1.36", &a));
  gp_k8s_version_text(&a, text, sizeof text);
  assert_string_equal(text, "1.36");
  static const char *const bad[] = {"",     "1",     "1.",         ".1",   "v1.35", "1.35.", "1.35.0.1", "01.35",
                                    "1.-1", "1.35 ", "99999999.1", "1.3a", "1.05",  "1.3/",  "1.3:",     "100001.0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (gp_k8s_version_parse(bad[i], &a)) fail_msg("'%s' parsed", bad[i]);
  /* every digit, the largest number and a lone zero are read as written */
  assert_true(gp_k8s_version_parse("1.29.9", &a));
  assert_int_equal(a.major, 1);
  assert_int_equal(a.minor, 29);
  assert_int_equal(a.patch, 9);
  assert_true(a.has_patch);
  assert_true(gp_k8s_version_parse("100000.876543", &a) == false); /* 6 digits, but above 100000 */
  assert_true(gp_k8s_version_parse("100000.0.10", &a));
  assert_int_equal(a.major, 100000);
  assert_int_equal(a.patch, 10);
  assert_true(gp_k8s_version_parse("0.0", &a));
  assert_int_equal(a.minor, 0);
  char full[32];
  gp_k8s_version_parse("1.35", &a);
  gp_k8s_version_full(&a, full, sizeof full);
  assert_string_equal(full, "1.35.0");
  gp_k8s_version_parse("1.36.7", &a);
  gp_k8s_version_full(&a, full, sizeof full);
  assert_string_equal(full, "1.36.7");
  /* ordering looks at the major version first, then the minor */
  gp_k8s_version_parse("2.1", &a);
  gp_k8s_version_parse("1.40", &b);
  assert_true(gp_k8s_minor_cmp(&a, &b) > 0 && gp_k8s_minor_cmp(&b, &a) < 0);
  assert_true(gp_k8s_version_cmp(&a, &b) > 0 && gp_k8s_version_cmp(&b, &a) < 0);
  gp_k8s_version_parse("1.36.2", &a);
  gp_k8s_version_parse("1.36.10", &b);
  assert_true(gp_k8s_version_cmp(&a, &b) < 0 && gp_k8s_version_cmp(&b, &a) > 0);
  assert_int_equal(gp_k8s_version_cmp(&a, &a), 0);
}

static void test_api_versions(void **state) {
  (void)state;
  assert_int_equal(gp_api_version_group("2022-11-01"), GP_API_OLD_STABLE);
  assert_int_equal(gp_api_version_group("2025-10-01"), GP_API_STABLE);
  for (int m = 1; m <= 8; m++) {
    char v[16];
    snprintf(v, sizeof v, "2026-%02d-01", m);
    assert_int_equal(gp_api_version_group(v), GP_API_STABLE);
  }
  assert_int_equal(gp_api_version_group("2026-09-01"), GP_API_UNKNOWN);
  assert_int_equal(gp_api_version_group("2026-10-01"), GP_API_STABLE);
  assert_int_equal(gp_api_version_group("2026-08-02-preview"), GP_API_PREVIEW);
  assert_int_equal(gp_api_version_group("2026-10-02-preview"), GP_API_PREVIEW);
  assert_int_equal(gp_api_version_group("2026-10-02-PREVIEW"), GP_API_UNKNOWN);
  assert_int_equal(gp_api_version_group(NULL), GP_API_UNKNOWN);
  assert_string_equal(gp_api_version_latest(GP_API_PREVIEW), "2026-10-02-preview");
}

/* Each name must be judged valid (or not) by the rule. */
static void names_judged(const char *what, bool (*valid)(const char *), const char *const *names, size_t n, bool want) {
  for (size_t i = 0; i < n; i++)
    if (valid(names[i]) != want) fail_msg("%s name '%s' %s", what, names[i], want ? "refused" : "accepted");
}

static void test_names(void **state) {
  (void)state;
  assert_true(gp_name_valid_pool("gpu1"));
  assert_false(gp_name_valid_pool("Gpu1"));
  assert_false(gp_name_valid_pool("1gpu"));
  assert_false(gp_name_valid_pool("abcdefghijklm"));
  assert_true(gp_name_valid_cluster("my_cluster-1"));
  assert_false(gp_name_valid_cluster("-x"));
  assert_true(gp_name_valid_cluster("a"));
  assert_true(gp_name_valid_subscription("00000000-0000-0000-0000-000000000000"));
  assert_false(gp_name_valid_subscription("00000000-0000-0000-0000-00000000000"));
  assert_false(gp_name_valid_subscription("not-a-guid"));
  assert_true(gp_name_valid_resource_group("rg.(1)_-x"));
  assert_false(gp_name_valid_resource_group("rg."));
  assert_false(gp_name_valid_resource_group("rg/x"));
  /* the edges of each character class, and of each length */
  static const char *const pools_ok[] = {"a", "z", "a0", "a9", "az", "za", "abcdefghijkl", "z09az"};
  static const char *const pools_bad[] = {"",   "`a", "{a", "A",  "a/",  "a:",       "a`",
                                          "a{", "aZ", "a-", "0a", "a b", "a\xc3\xa9"};
  names_judged("pool", gp_name_valid_pool, pools_ok, sizeof pools_ok / sizeof *pools_ok, true);
  names_judged("pool", gp_name_valid_pool, pools_bad, sizeof pools_bad / sizeof *pools_bad, false);
  assert_false(gp_name_valid_pool(NULL));
  char name[100];
  memset(name, 'a', sizeof name);
  name[63] = '\0';
  assert_true(gp_name_valid_cluster(name));
  name[63] = 'a';
  name[64] = '\0';
  assert_false(gp_name_valid_cluster(name));
  static const char *const clusters_ok[] = {"A", "Z", "0", "9", "a_b", "a-b", "Az09", "aZ"};
  static const char *const clusters_bad[] = {"", "a-", "_a", "a_", "a.b", "a/", "@a", "a[", "a`", "a{", "a:b"};
  names_judged("cluster", gp_name_valid_cluster, clusters_ok, sizeof clusters_ok / sizeof *clusters_ok, true);
  names_judged("cluster", gp_name_valid_cluster, clusters_bad, sizeof clusters_bad / sizeof *clusters_bad, false);
  memset(name, 'r', sizeof name);
  name[90] = '\0';
  assert_true(gp_name_valid_resource_group(name));
  name[90] = 'r';
  name[91] = '\0';
  assert_false(gp_name_valid_resource_group(name));
  assert_true(gp_name_valid_resource_group("R"));
  assert_false(gp_name_valid_resource_group(""));
  assert_false(gp_name_valid_resource_group("rg x"));
  assert_false(gp_name_valid_resource_group("/rg")); /* the first character is checked too */
  assert_false(gp_name_valid_resource_group("+"));
  assert_true(gp_name_valid_subscription("ABCDEF01-abcd-9999-0000-aaaaaaaaaaaa"));
  assert_false(gp_name_valid_subscription("00000000-0000-0000-0000-0000000000000"));
  assert_false(gp_name_valid_subscription("00000000-0000-0000-0000_000000000000"));
  assert_false(gp_name_valid_subscription("0000000g-0000-0000-0000-000000000000"));
  assert_false(gp_name_valid_subscription(NULL));
}

/* Lookups of what the catalog does not have answer NULL (never a neighbouring row). */
static void test_unknown_lookups(void **state) {
  (void)state;
  assert_null(gp_catalog_driver_family("cuda-next"));
  assert_null(gp_catalog_driver_family(NULL));
  assert_null(gp_catalog_component(35, "nvidia-something"));
  assert_null(gp_catalog_component(38, "nvidia-device-plugin"));
  assert_null(gp_catalog_mig_profile("A100-80GB", GP_MIG_UNSET));
  assert_null(gp_catalog_mig_profile(NULL, GP_MIG_1G));
  assert_null(gp_catalog_mig_profile_by_name("H100-80GB", "9g.99gb"));
  assert_null(gp_catalog_mig_profile_by_name("T4-16GB", "1g.10gb"));
  assert_null(gp_catalog_mig_profile_by_name(NULL, "1g.10gb"));
  assert_null(gp_catalog_mig_geometry(GP_MIG_UNSET));
  assert_null(gp_catalog_gpu_model("H100-81GB"));
  assert_null(gp_catalog_gpu_model(NULL));
  assert_null(gp_catalog_gpu_model_by_name(NULL));
  assert_null(gp_catalog_vm_size_at(gp_catalog_vm_size_count()));
  assert_non_null(gp_catalog_vm_size_at(gp_catalog_vm_size_count() - 1));
  /* case-insensitive where the data is matched by name */
  assert_string_equal(gp_catalog_mig_profile_by_name("H100-80GB", "3G.40GB")->nvidia_name, "3g.40gb");
  assert_string_equal(gp_catalog_gpu_model("h100-80gb")->model, "H100-80GB");
  assert_non_null(gp_catalog_gpu_model_by_name("nvidia tesla t4"));
}

static void test_enum_spellings(void **state) {
  (void)state;
  char buf[128];
  assert_string_equal(gp_enum_list(&gp_driver_names, buf, sizeof buf), "'Install' or 'None'");
  assert_string_equal(gp_enum_list(&gp_mig_strategy_names, buf, sizeof buf), "'None', 'Single' or 'Mixed'");
  assert_string_equal(gp_enum_list(&gp_phase_names, buf, sizeof buf), "'ga'");
  /* a buffer too small still ends in a terminated prefix; a one-byte buffer gets "" */
  memset(buf, 'x', sizeof buf);
  assert_string_equal(gp_enum_list(&gp_mig_strategy_names, buf, 12), "'None', 'Si"); /* 11 bytes and the NUL */
  memset(buf, 'x', sizeof buf);
  assert_string_equal(gp_enum_list(&gp_driver_names, buf, 1), "");
  memset(buf, 'x', sizeof buf);
  gp_enum_list(&gp_driver_names, buf, 0);
  assert_int_equal(buf[0], 'x');
  assert_int_equal(gp_enum_parse(&gp_driver_mode_names, "dEvIcEpLuGiN"), GP_DRIVER_MODE_DEVICE_PLUGIN);
  assert_int_equal(gp_enum_parse(&gp_driver_mode_names, "DRA "), 0);
  assert_int_equal(gp_enum_parse(&gp_driver_mode_names, NULL), 0);
  assert_int_equal(gp_enum_parse(&gp_mig_profile_names, "MIG7g"), GP_MIG_7G);
  assert_string_equal(gp_enum_name(&gp_mig_profile_names, GP_MIG_7G), "MIG7g");
  assert_string_equal(gp_enum_name(&gp_driver_names, GP_DRIVER_INSTALL), "Install");
  assert_null(gp_enum_name(&gp_driver_names, 0));
  assert_null(gp_enum_name(&gp_driver_names, 3));
  assert_null(gp_enum_name(&gp_driver_names, -1));
  /* every OS SKU maps onto its family and type */
  static const struct {
    gp_os_sku sku;
    unsigned family;
    gp_os_type type;
  } skus[] = {{GP_OS_SKU_UBUNTU, GP_OS_FAMILY_UBUNTU, GP_OS_TYPE_LINUX},
              {GP_OS_SKU_UBUNTU2204, GP_OS_FAMILY_UBUNTU, GP_OS_TYPE_LINUX},
              {GP_OS_SKU_UBUNTU2404, GP_OS_FAMILY_UBUNTU, GP_OS_TYPE_LINUX},
              {GP_OS_SKU_AZURELINUX, GP_OS_FAMILY_AZURELINUX, GP_OS_TYPE_LINUX},
              {GP_OS_SKU_CBLMARINER, GP_OS_FAMILY_AZURELINUX, GP_OS_TYPE_LINUX},
              {GP_OS_SKU_AZURELINUX3, GP_OS_FAMILY_AZURELINUX3, GP_OS_TYPE_LINUX},
              {GP_OS_SKU_WINDOWS2019, GP_OS_FAMILY_WINDOWS, GP_OS_TYPE_WINDOWS},
              {GP_OS_SKU_WINDOWS2022, GP_OS_FAMILY_WINDOWS, GP_OS_TYPE_WINDOWS},
              {GP_OS_SKU_WINDOWS2025, GP_OS_FAMILY_WINDOWS, GP_OS_TYPE_WINDOWS},
              {GP_OS_SKU_WINDOWSANNUAL, GP_OS_FAMILY_WINDOWS, GP_OS_TYPE_WINDOWS},
              {GP_OS_SKU_UNSET, 0, GP_OS_TYPE_UNSET}};
  for (size_t i = 0; i < sizeof skus / sizeof *skus; i++) {
    assert_int_equal(gp_os_sku_family(skus[i].sku), skus[i].family);
    assert_int_equal(gp_os_sku_type(skus[i].sku), skus[i].type);
  }
  assert_string_equal(gp_os_mask_list(GP_OS_FAMILY_UBUNTU | GP_OS_FAMILY_WINDOWS, buf, sizeof buf), "Ubuntu, Windows");
  assert_string_equal(gp_os_mask_list(GP_OS_FAMILY_AZURELINUX | GP_OS_FAMILY_AZURELINUX3, buf, sizeof buf),
                      "AzureLinux, AzureLinux3");
  assert_string_equal(gp_os_mask_list(0, buf, sizeof buf), "");
  assert_string_equal(gp_os_mask_list(GP_OS_FAMILY_UBUNTU | GP_OS_FAMILY_WINDOWS, buf, 10), "Ubuntu, W");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_csv_row),
      cmocka_unit_test(test_lookup_case_insensitive),
      cmocka_unit_test(test_mig_models_complete),
      cmocka_unit_test(test_geometry),
      cmocka_unit_test(test_components),
      cmocka_unit_test(test_gpu_models),
      cmocka_unit_test(test_versions),
      cmocka_unit_test(test_suggestions),
      cmocka_unit_test(test_api_versions),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_unknown_lookups),
      cmocka_unit_test(test_enum_spellings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
