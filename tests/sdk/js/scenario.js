// scenario.js - the real Azure SDK for JavaScript (@azure/arm-containerservice 25.5.0, api-version
// 2026-06-01) against gpupoold, through the SDK's own long-running-operation pollers: a cluster with
// agentPoolProfiles, a GPU pool with gpuInstanceProfile and gpuProfile.driver, get, list, update, a
// stale ifMatch (412), a refused pool (its ARM error code), deletes.
//
// Usage: node scenario.js ENDPOINT   (exit 0 when every step passed; each step prints one line)
//
// With an https ENDPOINT (gpupoold --tls-cert ... --auth jwt) nothing is changed in the SDK's
// pipeline: its default bearer-token policy sends the JWT that the credential returns
// ($GPUPOOL_TEST_JWT, minted by the test), and Node trusts the test CA through NODE_EXTRA_CA_CERTS.
// Two more steps then check a token the server refuses (401) and one without a role (403).
"use strict";
const assert = require("node:assert/strict");
const { ContainerServiceClient } = require("@azure/arm-containerservice");

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: node scenario.js ENDPOINT");
  process.exit(2);
}
const subscription = "00000000-0000-0000-0000-000000000000";
const rg = "sdk-js";
const cluster = "jscluster";

const tls = endpoint.startsWith("https://");
const credentialOf = (token) => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }) });
let client;
if (tls) {
  if (!process.env.GPUPOOL_TEST_JWT) {
    console.error("scenario.js: an https endpoint needs GPUPOOL_TEST_JWT");
    process.exit(2);
  }
  client = new ContainerServiceClient(credentialOf(process.env.GPUPOOL_TEST_JWT), subscription, { endpoint });
} else {
  // Over plain http the SDK needs allowInsecureConnection, and its bearer-token policy refuses to send
  // a token to a non-TLS URL: replace it by one that sets the header (reference/arm-protocol.md).
  client = new ContainerServiceClient(credentialOf("test-token"), subscription, { endpoint, allowInsecureConnection: true });
  client.pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
  client.pipeline.addPolicy({
    name: "plainBearer",
    sendRequest: (request, next) => {
      request.headers.set("authorization", "Bearer test-token");
      return next(request);
    },
  });
}
const poll = { updateIntervalInMs: 100 };

let steps = 0;
async function step(name, fn) {
  await fn();
  steps++;
  console.log(`ok ${steps} - ${name}`);
}

async function expectError(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.statusCode, status, `status of ${e.message}`);
    if (code) assert.equal(e.code, code, `error code of ${e.message}`);
    return e;
  }
  assert.fail(`expected HTTP ${status}${code ? " " + code : ""}`);
}

(async () => {
  await step("create a cluster with agentPoolProfiles (poller)", async () => {
    const mc = await client.managedClusters.createOrUpdate(
      rg,
      cluster,
      {
        location: "eastus",
        kubernetesVersion: "1.35",
        dnsPrefix: "jscluster",
        agentPoolProfiles: [{ name: "system", vmSize: "Standard_D4s_v5", count: 2, mode: "System" }],
      },
      poll,
    );
    assert.equal(mc.provisioningState, "Succeeded");
    assert.equal(mc.name, cluster);
    assert.equal(mc.agentPoolProfiles.length, 1);
    assert.equal(mc.agentPoolProfiles[0].name, "system");
  });

  let pool;
  await step("create a GPU pool with gpuInstanceProfile and gpuProfile.driver (poller)", async () => {
    pool = await client.agentPools.createOrUpdate(
      rg,
      cluster,
      "gpu",
      {
        vmSize: "Standard_NC24ads_A100_v4",
        count: 1,
        mode: "User",
        gpuInstanceProfile: "MIG2g",
        gpuProfile: { driver: "Install" },
        nodeTaints: ["sku=gpu:NoSchedule"],
        nodeLabels: { team: "ml" },
      },
      poll,
    );
    assert.equal(pool.provisioningState, "Succeeded");
    assert.equal(pool.gpuInstanceProfile, "MIG2g");
    assert.equal(pool.gpuProfile.driver, "Install");
    assert.ok(pool.eTag, "eTag in properties");
  });

  await step("get the pool", async () => {
    const got = await client.agentPools.get(rg, cluster, "gpu");
    assert.equal(got.name, "gpu");
    assert.equal(got.vmSize, "Standard_NC24ads_A100_v4");
    assert.equal(got.count, 1);
    assert.equal(got.eTag, pool.eTag);
    assert.equal(got.nodeLabels.team, "ml");
    assert.ok(got.id.endsWith("/managedClusters/jscluster/agentPools/gpu"));
  });

  await step("list the pools (paged iterator)", async () => {
    const names = [];
    for await (const p of client.agentPools.list(rg, cluster)) names.push(p.name);
    assert.deepEqual(names.sort(), ["gpu", "system"]);
  });

  await step("get the cluster: its pools in agentPoolProfiles", async () => {
    const mc = await client.managedClusters.get(rg, cluster);
    assert.deepEqual(mc.agentPoolProfiles.map((p) => p.name).sort(), ["gpu", "system"]);
    const gpu = mc.agentPoolProfiles.find((p) => p.name === "gpu");
    assert.equal(gpu.gpuInstanceProfile, "MIG2g");
  });

  let updated;
  await step("update the pool (GET-modify-PUT with ifMatch)", async () => {
    const got = await client.agentPools.get(rg, cluster, "gpu");
    got.count = 3;
    updated = await client.agentPools.createOrUpdate(rg, cluster, "gpu", got, { ...poll, ifMatch: got.eTag });
    assert.equal(updated.count, 3);
    assert.equal(updated.provisioningState, "Succeeded");
    assert.notEqual(updated.eTag, got.eTag, "a write changes the etag");
    assert.equal(updated.gpuInstanceProfile, "MIG2g");
    assert.equal(updated.gpuProfile.driver, "Install");
  });

  await step("a stale ifMatch is refused with 412", async () => {
    const stale = pool.eTag;
    await expectError(
      client.agentPools.createOrUpdate(rg, cluster, "gpu", { ...updated, count: 4 }, { ...poll, ifMatch: stale }),
      412,
      "PreconditionFailed",
    );
    const got = await client.agentPools.get(rg, cluster, "gpu");
    assert.equal(got.count, 3, "nothing was written");
  });

  await step("a refused pool surfaces its ARM error code", async () => {
    const e = await expectError(
      client.agentPools.createOrUpdate(
        rg,
        cluster,
        "t4mig",
        { vmSize: "Standard_NC4as_T4_v3", count: 1, gpuInstanceProfile: "MIG1g" },
        poll,
      ),
      400,
      "MIGNotSupportedOnVMSize",
    );
    assert.match(e.message, /does not support MIG/);
    await expectError(client.agentPools.get(rg, cluster, "t4mig"), 404, "ResourceNotFound");
  });

  await step("the immutable driver cannot change", async () => {
    const got = await client.agentPools.get(rg, cluster, "gpu");
    got.gpuProfile = { driver: "None" };
    await expectError(client.agentPools.createOrUpdate(rg, cluster, "gpu", got, poll), 400, "PropertyChangeNotAllowed");
  });

  await step("delete the pool (poller)", async () => {
    await client.agentPools.delete(rg, cluster, "gpu", poll);
    await expectError(client.agentPools.get(rg, cluster, "gpu"), 404, "ResourceNotFound");
  });

  await step("delete the cluster (poller) and its pools", async () => {
    await client.managedClusters.delete(rg, cluster, poll);
    await expectError(client.managedClusters.get(rg, cluster), 404, "ResourceNotFound");
    await expectError(client.agentPools.get(rg, cluster, "system"), 404);
  });

  if (tls) {
    await step("https: a token the server refuses is 401 AuthenticationFailed", async () => {
      const refused = new ContainerServiceClient(credentialOf(process.env.GPUPOOL_TEST_JWT_REFUSED), subscription, {
        endpoint,
      });
      const e = await expectError(refused.managedClusters.get(rg, cluster), 401, "AuthenticationFailed");
      assert.match(e.response.headers.get("www-authenticate"), /^Bearer realm="gpupoold", error="invalid_token"/);
    });
    await step("https: a valid token without a role is 403 AuthorizationFailed, lists included", async () => {
      const norole = new ContainerServiceClient(credentialOf(process.env.GPUPOOL_TEST_JWT_NOROLE), subscription, {
        endpoint,
      });
      await expectError(norole.managedClusters.get(rg, cluster), 403, "AuthorizationFailed");
      await expectError(norole.managedClusters.list().next(), 403, "AuthorizationFailed");
    });
  }

  console.log(`js sdk${tls ? " (https, JWT)" : ""}: ${steps} steps passed`);
})().catch((e) => {
  console.error(`FAIL after ${steps} steps: ${e.stack || e}`);
  if (e.response) console.error(`response: ${e.response.status} ${e.response.bodyAsText}`);
  process.exit(1);
});
