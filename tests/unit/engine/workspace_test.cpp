// engine::make_workspace (what every job shares) and engine::OpenCluster::helm_env (what helm needs of an
// opened cluster: the kubeconfig and the files it names, read once by the loader).
#include <sys/stat.h>

#include "engine/cluster.hpp"
#include "engine_support.hpp"

using namespace helmgate;
namespace fs = std::filesystem;

TEST_CASE("make_workspace creates its private directories and the shared pieces", "[unit]") {
  test::WorkspaceDir w("workspace");
  const auto& ws = *w.ws;
  REQUIRE(ws.renderer != nullptr);
  REQUIRE(ws.mirrors != nullptr);
  REQUIRE(ws.doc_cache != nullptr);
  CHECK(ws.trees_dir() == ws.cache_root + "/work/trees");
  for (const std::string& d : {ws.cache_root, ws.cache_root + "/mirrors"}) {
    struct stat st {};
    REQUIRE(::stat(d.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }
  CHECK(ws.mirrors->mirror_dir("https://git.example.com/a.git").rfind(ws.cache_root + "/mirrors", 0) == 0);
}

TEST_CASE("an opened cluster hands helm its kubeconfig and the files it names", "[unit]") {
  const fs::path dir = fs::temp_directory_path() / ("hg-engine-open-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "kube");
  std::ofstream(dir / "kube/ca.crt") << "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
  std::ofstream(dir / "kube/token") << "a-token\n";
  std::ofstream(dir / "kube/config")
      << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:6443\", "
         "certificate-authority: ca.crt}\nusers:\n- name: u\n  user: {tokenFile: token}\n- name: other\n"
         "  user: {client-certificate: /nonexistent/other.crt}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
         "current-context: x\n";
  config::Cluster c;
  c.name = "dev";
  c.kubeconfig = (dir / "kube/config").string();
  auto open = engine::open_cluster(c, engine::Credential::deploy, (dir / "work").string());
  REQUIRE(open.ok());
  CHECK(open->kubeconfig.token == "a-token");
  auto env = open->helm_env("/usr/bin/helm", (dir / "helm").string(), std::chrono::seconds(7));
  CHECK(env.helm == "/usr/bin/helm");
  CHECK(env.kubeconfig == c.kubeconfig);
  CHECK(env.cluster == "dev");
  CHECK(env.work_dir == (dir / "helm").string());
  CHECK(env.timeout == std::chrono::seconds(7));
  // The context's files, absolute; not those of a user the context does not use.
  CHECK(env.kubeconfig_files ==
        std::vector<std::string>{(dir / "kube/ca.crt").string(), (dir / "kube/token").string()});
  fs::remove_all(dir);
}
