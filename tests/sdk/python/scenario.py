#!/usr/bin/python3
"""scenario.py - Debian's python3-azure against gpupoold, unchanged: azure-mgmt-containerservice
(default api-version 2022-11-01) through its LRO pollers, and azure-mgmt-resource's FeatureClient
(Microsoft.Features, 2021-07-01). It creates a cluster with agent_pool_profiles and a MIG pool, gets,
lists, updates, checks a stale If-Match (412) and a refused pool's error code, and shows that a pool
created with preview fields keeps them after an update through the old api-version.

Usage: /usr/bin/python3 scenario.py ENDPOINT   (exit 0 when every step passed)
"""
import json
import sys
import urllib.request

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.v2022_11_01 import models
from azure.mgmt.resource.features import FeatureClient

ENDPOINT = sys.argv[1].rstrip("/")
SUB = "00000000-0000-0000-0000-000000000000"
RG, CLUSTER = "sdk-py", "pycluster"
PREVIEW = "2026-10-02-preview"


class Credential:
    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        return AccessToken("test-token", 4102444800)


class PlainBearer(SansIOHTTPPolicy):
    """azure-core's bearer policy refuses plain http; this one just sets the header."""

    def on_request(self, request):
        request.http_request.headers["Authorization"] = "Bearer test-token"


KW = dict(base_url=ENDPOINT, authentication_policy=PlainBearer(), polling_interval=0.1)
aks = ContainerServiceClient(Credential(), SUB, **KW)
features = FeatureClient(Credential(), SUB, **KW)

steps = 0


def step(name):
    def run(fn):
        global steps
        fn()
        steps += 1
        print(f"ok {steps} - {name}", flush=True)
    return run


def raw(method, path, body=None, api=PREVIEW):
    """A plain ARM request (for the preview api-version, which this SDK does not know)."""
    req = urllib.request.Request(f"{ENDPOINT}/subscriptions/{SUB}{path}?api-version={api}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_succeeded(path, seconds=30):
    """Polls a resource written with raw() until its operation has ended."""
    import time
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, body = raw("GET", path)
        state = body["properties"]["provisioningState"] if status == 200 else None
        if state in ("Succeeded", "Failed"):
            assert state == "Succeeded", body
            return body
        time.sleep(0.05)
    raise AssertionError(f"{path} still {state} after {seconds}s")


POOLS = f"/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}/agentPools"


def expect_error(fn, status, code=None):
    try:
        fn()
    except HttpResponseError as e:
        assert e.status_code == status, f"status {e.status_code}, expected {status}: {e}"
        if code:
            assert e.error is not None and e.error.code == code, f"code {e.error and e.error.code}, expected {code}"
        return e
    raise AssertionError(f"expected HTTP {status} {code or ''}")


@step("register ManagedGPU through FeatureClient (Microsoft.Features 2021-07-01)")
def _():
    f = features.features.register("Microsoft.ContainerService", "ManagedGPU")
    assert f.properties.state == "Registered", f.properties.state
    names = [x.name for x in features.features.list("Microsoft.ContainerService")]
    assert "Microsoft.ContainerService/ManagedGPU" in names, names


@step("create a cluster with agent_pool_profiles (poller)")
def _():
    mc = aks.managed_clusters.begin_create_or_update(RG, CLUSTER, models.ManagedCluster(
        location="eastus", kubernetes_version="1.35", dns_prefix="pycluster",
        agent_pool_profiles=[models.ManagedClusterAgentPoolProfile(
            name="system", vm_size="Standard_D4s_v5", count=1, mode="System")])).result()
    assert mc.provisioning_state == "Succeeded", mc.provisioning_state
    assert [p.name for p in mc.agent_pool_profiles] == ["system"]


@step("create a MIG pool with gpu_instance_profile (poller)")
def _():
    p = aks.agent_pools.begin_create_or_update(RG, CLUSTER, "mig", models.AgentPool(
        vm_size="Standard_NC24ads_A100_v4", count=1, mode="User", gpu_instance_profile="MIG3g",
        node_taints=["sku=gpu:NoSchedule"])).result()
    assert p.provisioning_state == "Succeeded"
    assert p.gpu_instance_profile == "MIG3g"


@step("get and list")
def _():
    p = aks.agent_pools.get(RG, CLUSTER, "mig")
    assert p.vm_size == "Standard_NC24ads_A100_v4" and p.count == 1
    assert sorted(x.name for x in aks.agent_pools.list(RG, CLUSTER)) == ["mig", "system"]
    assert [c.name for c in aks.managed_clusters.list_by_resource_group(RG)] == [CLUSTER]


@step("update the count (GET-modify-PUT, poller)")
def _():
    p = aks.agent_pools.get(RG, CLUSTER, "mig")
    p.count = 2
    q = aks.agent_pools.begin_create_or_update(RG, CLUSTER, "mig", p).result()
    assert q.count == 2 and q.gpu_instance_profile == "MIG3g"


@step("a stale If-Match is refused with 412")
def _():
    status, cur = raw("GET", f"{POOLS}/mig")
    stale = cur["properties"]["eTag"]
    p = aks.agent_pools.get(RG, CLUSTER, "mig")
    p.count = 3
    aks.agent_pools.begin_create_or_update(RG, CLUSTER, "mig", p).result()  # changes the etag
    p.count = 4
    expect_error(lambda: aks.agent_pools.begin_create_or_update(
        RG, CLUSTER, "mig", p, headers={"If-Match": f'"{stale}"'}).result(), 412, "PreconditionFailed")
    assert aks.agent_pools.get(RG, CLUSTER, "mig").count == 3


@step("a refused pool surfaces its ARM error code")
def _():
    e = expect_error(lambda: aks.agent_pools.begin_create_or_update(RG, CLUSTER, "t4mig", models.AgentPool(
        vm_size="Standard_NC4as_T4_v3", count=1, gpu_instance_profile="MIG1g")).result(),
        400, "MIGNotSupportedOnVMSize")
    assert "MIG" in e.error.message
    try:
        aks.agent_pools.get(RG, CLUSTER, "t4mig")
        raise AssertionError("refused pool was stored")
    except ResourceNotFoundError:
        pass


@step("a pool created with preview fields keeps them after an update through 2022-11-01")
def _():
    status, body = raw("PUT", f"{POOLS}/prev", {"properties": {
        "vmSize": "Standard_NC24ads_A100_v4", "count": 1, "nodeTaints": ["sku=gpu:NoSchedule"],
        "gpuProfile": {"driver": "Install", "nvidia": {
            "managementMode": "Managed", "migStrategy": "Mixed", "migProfiles": ["MIG3g", "MIG2g"]}}}})
    assert status == 201, (status, body)
    wait_succeeded(f"{POOLS}/prev")  # a write while its create operation runs would be 409
    p = aks.agent_pools.begin_create_or_update(RG, CLUSTER, "prev", aks.agent_pools.get(RG, CLUSTER, "prev")).result()
    p.count = 2
    p = aks.agent_pools.begin_create_or_update(RG, CLUSTER, "prev", p).result()
    assert p.count == 2
    status, body = raw("GET", f"{POOLS}/prev")
    nv = body["properties"]["gpuProfile"]["nvidia"]
    assert status == 200 and body["properties"]["count"] == 2, body
    assert nv["managementMode"] == "Managed" and nv["migStrategy"] == "Mixed", nv
    assert nv["migProfiles"] == ["MIG3g", "MIG2g"], nv
    status, plan = raw("GET", f"{POOLS}/prev/plan")
    assert plan["allocatable"] == {"nvidia.com/mig-3g.40gb": 1, "nvidia.com/mig-2g.20gb": 1}, plan["allocatable"]


@step("delete the pools and the cluster (pollers)")
def _():
    aks.agent_pools.begin_delete(RG, CLUSTER, "mig").result()
    try:
        aks.agent_pools.get(RG, CLUSTER, "mig")
        raise AssertionError("deleted pool still there")
    except ResourceNotFoundError:
        pass
    aks.managed_clusters.begin_delete(RG, CLUSTER).result()
    try:
        aks.managed_clusters.get(RG, CLUSTER)
        raise AssertionError("deleted cluster still there")
    except ResourceNotFoundError:
        pass
    assert list(aks.managed_clusters.list()) == []


print(f"python sdk: {steps} steps passed")
