/* defaults.h - the HTTP runner's built-in scenario variables ({{sub}}, {{preview}}, ...; see
 * README.md), shared with the fuzzers' seed maker (fuzz/seeds.c) so that seeds route as the
 * scenarios do. {{base}} and {{rg}} are made by the runner from these and the server's address. */
#ifndef GPT_DEFAULTS_H
#define GPT_DEFAULTS_H

static const char *const gpt_default_vars[][2] = {
    {"sub", "0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10"},
    {"sub2", "7e1f4d2c-8a3b-4f6e-b5c9-0d2e1f3a4b5c"},
    {"preview", "2026-08-02-preview"},
    {"preview2", "2026-10-02-preview"},
    {"stable", "2026-06-01"},
    {"stable2", "2025-10-01"},
    {"old", "2022-11-01"},
    {"features", "2021-07-01"},
    {"cs", "providers/Microsoft.ContainerService"},
};
#define GPT_NDEFAULT_VARS (sizeof gpt_default_vars / sizeof gpt_default_vars[0])

#endif
