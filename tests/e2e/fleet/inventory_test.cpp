// The cluster inventory against a real API server. The test clusters run no kubelet and no controllers:
// the test creates Node objects and sets their status (and that of the workloads) through the status
// subresource, as a kubelet and the controllers would, then reads the inventory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/inventory.hpp"
#include "fleet_env.hpp"

using namespace helmgate;
namespace fleet = test::fleet;

namespace {

void node(kube::Client& c, const std::string& name, bool ready, const std::string& reason, const std::string& message) {
  fleet::call(c, "POST", "/api/v1/nodes",
              R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name + R"(","labels":{"helmgate-test":"fleet"}}})");
  std::string status =
      R"({"status":{"conditions":[{"type":"Ready","status":")" + std::string(ready ? "True" : "False") + R"(","reason":")" +
      reason + R"(","message":")" + message +
      R"(","lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}],)"
      R"("capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"3800m","memory":"7Gi","pods":"110"},)"
      R"("nodeInfo":{"machineID":"m","systemUUID":"s","bootID":"b","kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 12",)"
      R"("containerRuntimeVersion":"containerd://1.7.24","kubeletVersion":"v1.35.8","kubeProxyVersion":"","operatingSystem":"linux",)"
      R"("architecture":"amd64"}}})";
  fleet::call(c, "PATCH", "/api/v1/nodes/" + name + "/status", status, "application/merge-patch+json");
}

void pod(kube::Client& c, const std::string& ns, const std::string& name, const std::string& node_name, const std::string& cpu,
         const std::string& mem) {
  fleet::call(c, "POST", "/api/v1/namespaces/" + ns + "/pods",
              R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"("},"spec":{"nodeName":")" + node_name +
                  R"(","containers":[{"name":"app","image":"registry.invalid/app:1","resources":{"requests":{"cpu":")" + cpu +
                  R"(","memory":")" + mem + R"("}}}]}})");
}

std::string helm_meta(const std::string& name, const std::string& release, const std::string& ns) {
  return R"("metadata":{"name":")" + name + R"(","labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{)"
         R"("meta.helm.sh/release-name":")" + release + R"(","meta.helm.sh/release-namespace":")" + ns + R"("}})";
}

std::string pod_template(const std::string& app) {
  return R"("selector":{"matchLabels":{"app":")" + app + R"("}},"template":{"metadata":{"labels":{"app":")" + app +
         R"("}},"spec":{"containers":[{"name":"app","image":"registry.invalid/app:1"}]}})";
}

}  // namespace

TEST_CASE("inventory: nodes with Ready reasons and requests, workloads per release, HPAs", "[e2e][fleet]") {
  kube::Client admin("staging", fleet::kubeconfig("STAGING"));
  const std::string ns = fleet::unique("hg-fleet-inv");
  const std::string n1 = ns + "-ready", n2 = ns + "-notready";
  const std::string apps = "/apis/apps/v1/namespaces/" + ns;
  const std::string hpas = "/apis/autoscaling/v2/namespaces/" + ns + "/horizontalpodautoscalers";
  fleet::create_namespace(admin, ns);
  fleet::Cleanup cleanup{[&] {
    for (const auto& p : {"a", "b"}) (void)admin.request("DELETE", "/api/v1/namespaces/" + ns + "/pods/" + p + "?gracePeriodSeconds=0");
    for (const auto& n : {n1, n2}) (void)admin.request("DELETE", "/api/v1/nodes/" + n);
    for (const auto& d : {"deployments/web", "deployments/by-hand", "statefulsets/db", "daemonsets/agent"}) {
      (void)admin.request("DELETE", apps + "/" + d);
    }
    (void)admin.request("DELETE", hpas + "/web");
    fleet::delete_namespace(admin, ns);
  }};
  node(admin, n1, true, "KubeletReady", "kubelet is posting ready status");
  node(admin, n2, false, "KubeletNotReady", "container runtime network not ready: cni config uninitialized");
  pod(admin, ns, "a", n1, "250m", "256Mi");
  pod(admin, ns, "b", n1, "500m", "512Mi");

  fleet::call(admin, "POST", apps + "/deployments",
              R"({"apiVersion":"apps/v1","kind":"Deployment",)" + helm_meta("web", "shop", ns) +
                  R"(,"spec":{"replicas":3,)" + pod_template("web") + "}}");
  fleet::call(admin, "PATCH", apps + "/deployments/web/status",
              R"({"status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})",
              "application/merge-patch+json");
  fleet::call(admin, "POST", apps + "/statefulsets",
              R"({"apiVersion":"apps/v1","kind":"StatefulSet",)" + helm_meta("db", "shop", ns) +
                  R"(,"spec":{"replicas":1,"serviceName":"db",)" + pod_template("db") + "}}");
  fleet::call(admin, "PATCH", apps + "/statefulsets/db/status",
              R"({"status":{"replicas":1,"readyReplicas":1,"currentReplicas":1,"updatedReplicas":1,"availableReplicas":1}})",
              "application/merge-patch+json");
  fleet::call(admin, "POST", apps + "/daemonsets",
              R"({"apiVersion":"apps/v1","kind":"DaemonSet",)" + helm_meta("agent", "monitoring", ns) + R"(,"spec":{)" +
                  pod_template("agent") + "}}");
  fleet::call(admin, "PATCH", apps + "/daemonsets/agent/status",
              R"({"status":{"currentNumberScheduled":2,"numberMisscheduled":0,"desiredNumberScheduled":2,"numberReady":1,)"
              R"("updatedNumberScheduled":2,"numberAvailable":1}})",
              "application/merge-patch+json");
  fleet::call(admin, "POST", apps + "/deployments",
              R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"by-hand"},"spec":{"replicas":1,)" +
                  pod_template("by-hand") + "}}");
  fleet::call(admin, "POST", hpas,
              R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",)" + helm_meta("web", "shop", ns) +
                  R"(,"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":10}})");
  fleet::call(admin, "PATCH", hpas + "/web/status",
              R"({"status":{"currentReplicas":3,"desiredReplicas":4,"lastScaleTime":"2026-01-02T03:04:05Z"}})",
              "application/merge-patch+json");

  // The preview identity (read and dry-run only) reads all of it.
  kube::Client reader("staging", fleet::kubeconfig("STAGING", "PREVIEW"), engine::inventory_client_options());
  auto inv = engine::read_inventory(reader);
  INFO(engine::to_json(inv).substr(0, 2000));
  CHECK(inv.reachable);
  CHECK(inv.errors.empty());
  CHECK(inv.server_version == "v" + test::require_env("HELMGATE_TEST_KUBE_VERSION"));
  CHECK(inv.nodes.size() >= 2);
  const engine::NodeInventory *ready = nullptr, *not_ready = nullptr;
  for (const auto& n : inv.nodes) {
    if (n.name == n1) ready = &n;
    if (n.name == n2) not_ready = &n;
  }
  REQUIRE(ready != nullptr);
  REQUIRE(not_ready != nullptr);
  CHECK(ready->ready);
  CHECK(ready->ready_reason == "KubeletReady");
  CHECK(ready->kubelet_version == "v1.35.8");
  CHECK(ready->allocatable_cpu_milli == 3800);
  CHECK(ready->allocatable_memory_bytes == 7ll << 30);
  CHECK(ready->requested_cpu_milli == 750);
  CHECK(ready->requested_memory_bytes == 768ll << 20);
  CHECK(ready->pods == 2);
  CHECK_FALSE(not_ready->ready);
  CHECK(not_ready->ready_status == "False");
  CHECK(not_ready->ready_reason == "KubeletNotReady");
  CHECK(not_ready->ready_message == "container runtime network not ready: cni config uninitialized");
  CHECK(not_ready->pods == 0);

  const engine::ReleaseWorkloads *shop = nullptr, *monitoring = nullptr;
  for (const auto& r : inv.releases) {
    if (r.release_namespace == ns && r.release == "shop") shop = &r;
    if (r.release_namespace == ns && r.release == "monitoring") monitoring = &r;
  }
  REQUIRE(shop != nullptr);
  REQUIRE(shop->workloads.size() == 2);
  CHECK(shop->workloads[0].kind == "Deployment");
  CHECK(shop->workloads[0].desired == 3);
  CHECK(shop->workloads[0].ready == 2);
  CHECK(shop->workloads[1].kind == "StatefulSet");
  CHECK(shop->workloads[1].ready == 1);
  CHECK_FALSE(shop->all_ready());
  REQUIRE(monitoring != nullptr);
  REQUIRE(monitoring->workloads.size() == 1);
  CHECK(monitoring->workloads[0].kind == "DaemonSet");
  CHECK(monitoring->workloads[0].desired == 2);
  CHECK(monitoring->workloads[0].ready == 1);
  CHECK(inv.unattributed_workloads >= 1);  // by-hand, owned by no release

  const engine::HpaInventory* hpa = nullptr;
  for (const auto& h : inv.hpas) {
    if (h.namespace_ == ns && h.name == "web") hpa = &h;
  }
  REQUIRE(hpa != nullptr);
  CHECK(hpa->target_kind == "Deployment");
  CHECK(hpa->target_name == "web");
  CHECK(hpa->release == "shop");
  CHECK(hpa->current_replicas == 3);
  CHECK(hpa->desired_replicas == 4);
  CHECK(hpa->min_replicas == 2);
  CHECK(hpa->max_replicas == 10);
  CHECK(hpa->last_scale_time == "2026-01-02T03:04:05Z");
  std::string json = engine::to_json(inv);
  CHECK(json.find(R"("reason":"KubeletNotReady")") != std::string::npos);

}

TEST_CASE("inventory: an unreachable cluster is reported quickly, with a short reason", "[e2e][fleet]") {
  auto kc = fleet::kubeconfig("STAGING");
  kc.server = "https://127.0.0.1:1";  // nothing listens there
  kube::Client down("gone", kc, engine::inventory_client_options());
  auto t0 = std::chrono::steady_clock::now();
  auto inv = engine::read_inventory(down);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK_FALSE(inv.reachable);
  CHECK(took < std::chrono::seconds(4));
  CHECK(inv.error.find("cluster gone") != std::string::npos);
  CHECK(inv.error.find("connect") != std::string::npos);
  CHECK(inv.error.size() <= 303);
  CHECK(inv.nodes.empty());
  CHECK(engine::to_json(inv).find(R"("reachable":false)") != std::string::npos);

  // A server that accepts the connection and never answers (a listening socket nobody serves) is bounded
  // by the client's timeouts too.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  kc.server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  kube::Client silent("silent", kc, engine::inventory_client_options());
  t0 = std::chrono::steady_clock::now();
  auto inv2 = engine::read_inventory(silent);
  took = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  CHECK_FALSE(inv2.reachable);
  CHECK(inv2.error.find("cluster silent") != std::string::npos);
  CHECK(took < std::chrono::seconds(8));
}
