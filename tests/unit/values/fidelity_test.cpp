// The differential fidelity suite: for every chart in ../shared/corpora/charts (and a chart of our own that
// echoes every value), what helmgate renders (discovery + the render library, as `helmgate preview` does)
// equals `helm template` given the values as kubectl converts them. kubectl is the oracle for how YAML
// becomes values (the HelmRelease, the ConfigMap and Secret a valuesFrom names, the documents after a Flux
// Kustomization's postBuild substitution); helm's own --set is the oracle for valuesFrom.targetPath
// (Flux applies it with Helm's strvals). The scalar table of typed_json_test is part of the values.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "release/release.hpp"
#include "release/typed_json.hpp"
#include "process/process.hpp"
#include "render/renderer.hpp"
#include "support/support.hpp"
#include "support/temp_repo.hpp"

namespace fs = std::filesystem;
using namespace helmgate;
using release::typed::Value;

namespace {

const std::string kDir = test::source_dir() + "/tests/unit/values";

struct Chart {
  std::string dir;   // on disk
  std::string name;  // directory name in the test repository
  std::string extra; // chart-specific values (YAML, top level), exercising what the chart renders
};

std::vector<Chart> charts() {
  std::vector<Chart> out;
  const std::string root = test::corpus("charts");
  // Every chart of the corpus: charts/<name> and charts/_versions/<name>.
  std::vector<fs::path> dirs;
  for (const auto& base : {fs::path(root), fs::path(root) / "_versions"}) {
    for (const auto& e : fs::directory_iterator(base)) {
      if (fs::exists(e.path() / "Chart.yaml")) dirs.push_back(e.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  REQUIRE(dirs.size() >= 5);
  for (const auto& d : dirs) {
    Chart c{d.string(), d.filename().string(), ""};
    if (c.name.rfind("ingress-nginx", 0) == 0) {
      c.extra = "controller:\n  image:\n    tag: \"1.10\"\n    digest: \"\"\n  replicaCount: 0x2\n  podAnnotations:\n"
                "    quoted: \"yes\"\n    number: \"0123\"\n";
    } else {
      c.extra = "image:\n  tag: \"1.10\"\nreplicaCount: 0x2\npodAnnotations:\n  quoted: \"yes\"\n  number: \"0123\"\n";
    }
    out.push_back(c);
  }
  out.push_back({kDir + "/charts/values-echo", "values-echo",
                 "image:\n  tag: \"1.10\"\nreplicaCount: 0x2\n"});
  return out;
}

std::string indent(const std::string& text, const std::string& pad) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out += line.empty() ? "\n" : pad + line + "\n";
  return out;
}

// The scalar table (the cases kubectl accepts) as one values tree: fidelity.<case>: <case>.
std::string scalar_table() {
  rapidjson::Document golden;
  std::ifstream in(kDir + "/scalar_golden.json");
  std::stringstream ss;
  ss << in.rdbuf();
  golden.Parse(ss.str().c_str());
  REQUIRE_FALSE(golden.HasParseError());
  std::string out = "fidelity:\n";
  int n = 0;
  for (const auto& c : YAML::LoadFile(kDir + "/scalar_cases.yaml")) {
    std::string name = c["name"].as<std::string>();
    if (golden["cases"][name.c_str()].HasMember("error")) continue;
    std::string text = c["yaml"].as<std::string>();
    // Anchors are per document: make each case's own.
    text = std::regex_replace(text, std::regex(R"(([&*])([A-Za-z][A-Za-z0-9_]*))"), "$1$2_" + std::to_string(n++));
    out += "  " + name + ":\n" + indent(text, "    ");
  }
  return out;
}

std::string kubectl() { return test::require_env("HELMGATE_KUBECTL"); }
std::string helm() { return test::require_env("HELMGATE_HELM"); }

process::ProcessResult run(const std::vector<std::string>& argv, const std::string& home) {
  process::ProcessOptions po;
  po.env = {"HOME=" + home, "PATH=/usr/bin:/bin", "KUBECONFIG=" + home + "/none", "HELM_CACHE_HOME=" + home + "/c",
            "HELM_CONFIG_HOME=" + home + "/cfg", "HELM_DATA_HOME=" + home + "/d"};
  po.timeout = std::chrono::seconds(180);
  auto r = process::run_process(argv, po);
  REQUIRE(r.ok());
  return *r;
}

// kubectl's reading of a multi-document file: kind/name -> object.
std::map<std::string, rapidjson::Document> kubectl_objects(const std::string& text, const std::string& dir) {
  fs::create_directories(dir);
  std::ofstream(dir + "/in.yaml", std::ios::trunc) << text;
  auto r = run({kubectl(), "annotate", "--local", "-f", dir + "/in.yaml", "-o", "json", "helmgate.test/x=1"}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, rapidjson::Document> out;
  rapidjson::StringStream ss(r.out.c_str());
  while (true) {
    while (ss.Peek() == ' ' || ss.Peek() == '\n') ss.Take();
    if (ss.Peek() == '\0') break;
    rapidjson::Document d;
    d.ParseStream<rapidjson::kParseStopWhenDoneFlag>(ss);
    REQUIRE_FALSE(d.HasParseError());
    std::string key = std::string(d["kind"].GetString()) + "/" + d["metadata"]["name"].GetString();
    out.emplace(key, std::move(d));
  }
  return out;
}

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

// What sigs.k8s.io/yaml makes of a values text (Flux's ReadValues): kubectl's reading of it as spec.values.
std::string kubectl_values_of(const std::string& yaml_text, const std::string& dir) {
  std::string doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\nspec:\n  values:\n" + indent(yaml_text, "    ");
  auto objs = kubectl_objects(doc, dir);
  const auto& d = objs.at("ConfigMap/probe");
  return d["spec"].HasMember("values") && d["spec"]["values"].IsObject() ? json_text(d["spec"]["values"]) : "{}";
}

// Flux's MergeMaps, written again here so the oracle does not share the product's code.
void oracle_merge(rapidjson::Value& dst, const rapidjson::Value& src, rapidjson::Document::AllocatorType& a) {
  for (const auto& m : src.GetObject()) {
    auto it = dst.FindMember(m.name);
    if (it != dst.MemberEnd() && it->value.IsObject() && m.value.IsObject()) {
      oracle_merge(it->value, m.value, a);
    } else if (it != dst.MemberEnd()) {
      it->value.CopyFrom(m.value, a);
    } else {
      dst.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
    }
  }
}

std::string merged(const std::vector<std::string>& jsons) {
  rapidjson::Document out;
  out.SetObject();
  for (const auto& j : jsons) {
    rapidjson::Document d;
    d.Parse(j.c_str());
    REQUIRE(d.IsObject());
    oracle_merge(out, d, out.GetAllocator());
  }
  return json_text(out);
}

// helm reads a values file with a YAML parser, which refuses raw DEL, C1 controls and the Unicode line
// separators that JSON allows inside strings: escape them (kubectl's JSON would otherwise not load).
std::string yaml_safe_json(const std::string& j) {
  std::string out;
  char buf[16];
  for (size_t i = 0; i < j.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(j[i]);
    unsigned char n1 = i + 1 < j.size() ? static_cast<unsigned char>(j[i + 1]) : 0;
    unsigned char n2 = i + 2 < j.size() ? static_cast<unsigned char>(j[i + 2]) : 0;
    if (c == 0x7F) {
      out += "\\u007f";
    } else if (c == 0xC2 && n1 >= 0x80 && n1 <= 0x9F) {
      std::snprintf(buf, sizeof buf, "\\u%04x", n1);
      out += buf;
      ++i;
    } else if (c == 0xE2 && n1 == 0x80 && (n2 == 0xA8 || n2 == 0xA9)) {
      out += n2 == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else if (c == 0xEF && n1 == 0xBB && n2 == 0xBF) {
      out += "\\ufeff";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string helm_template(const std::string& chart_dir, const std::string& values_json,
                          const std::vector<std::string>& sets, const std::string& dir) {
  fs::create_directories(dir);
  std::ofstream(dir + "/values.json", std::ios::trunc) << yaml_safe_json(values_json);
  std::vector<std::string> argv = {helm(), "template", "fid", chart_dir, "--namespace", "fidelity", "--kube-version",
                                   render::Options{}.kube_version, "--include-crds", "--skip-tests", "--values",
                                   dir + "/values.json"};
  for (const auto& s : sets) argv.insert(argv.end(), {s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  auto r = run(argv, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out.empty() ? "# (no resources)\n" : r.out;
}

const std::string kHead =
    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: fid\n  namespace: fidelity\nspec:\n"
    "  chart:\n    spec:\n      chart: ./charts/CHART\n      sourceRef:\n        kind: GitRepository\n"
    "        name: flux-system\n";

struct Helmgate {
  std::string work;
  render::Renderer renderer;
  explicit Helmgate(const std::string& w)
      : work(w), renderer([&] {
          render::Options o;
          o.helm = helm();
          o.kubectl = kubectl();
          o.work_dir = w + "/render";
          return o;
        }()) {}

  // Discovery and render of the repository's one HelmRelease, as a preview does it.
  std::string render(const test::TempRepo& t, const std::string& commit, const std::string& chart, std::string* values) {
    auto repo = git::Repository::open(t.dir.string());
    REQUIRE(repo.ok());
    release::DiscoverOptions opt;
    opt.work_root = work + "/trees";
    opt.clusters = release::default_clusters(*repo, commit).value();
    opt.kustomize = [this](const std::string& d, const std::string& k) { return renderer.kustomize_build(d, k); };
    auto d = release::discover(*repo, commit, opt);
    std::string problems;
    for (const auto& p : d.problems) problems += p.message + "\n";
    INFO(problems);
    REQUIRE(d.problems.empty());
    REQUIRE(d.releases.size() == 1);
    const auto& r = d.releases[0];
    std::string errors;
    for (const auto& e : r.errors) errors += e.message + "\n";
    INFO(errors);
    REQUIRE(r.errors.empty());
    render::RenderRequest req;
    req.release_name = r.release_name;
    req.namespace_ = r.target_namespace;
    req.values_json = r.values_json;
    req.chart.origin = render::ChartOrigin::local_dir;
    req.chart.dir = (t.dir / "charts" / chart).string();
    req.chart.shown = chart;
    auto out = renderer.render(req);
    INFO((out ? std::string() : out.error().message));
    REQUIRE(out.ok());
    if (values != nullptr) *values = r.values_json;
    return out->manifest;
  }
};

std::string scratch(const std::string& what) {
  auto p = fs::temp_directory_path() / ("hg-fidelity-" + what + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

void setup(test::TempRepo& t, const Chart& c) {
  fs::create_directories(t.dir / "charts");
  fs::copy(c.dir, t.dir / "charts" / c.name, fs::copy_options::recursive);
  t.write("clusters/dev/.keep", "");
}

std::string head_for(const Chart& c) { return std::regex_replace(kHead, std::regex("CHART"), c.name); }

}  // namespace

TEST_CASE("fidelity: spec.values render as helm renders kubectl's values, for every corpus chart", "[unit]") {
  const std::string table = scalar_table();
  for (const auto& c : charts()) {
    INFO("chart " << c.name);
    const std::string work = scratch("spec-" + c.name);
    test::TempRepo t("fidelity-spec-" + c.name);
    setup(t, c);
    const std::string hr = head_for(c) + "  values:\n" + indent(c.extra + table, "    ");
    t.write("clusters/dev/release.yaml", hr);
    const std::string commit = t.commit("spec values");
    Helmgate hg(work);
    std::string ours_values;
    const std::string ours = hg.render(t, commit, c.name, &ours_values);

    auto objs = kubectl_objects(hr, work + "/kubectl");
    const std::string oracle_values = json_text(objs.at("HelmRelease/fid")["spec"]["values"]);
    const std::string theirs = helm_template(t.dir.string() + "/charts/" + c.name, oracle_values, {}, work + "/oracle");
    CHECK(ours == theirs);
    // The values themselves are equal as JSON trees (not only where the chart looks).
    rapidjson::Document a, b;
    a.Parse(ours_values.c_str());
    b.Parse(oracle_values.c_str());
    CHECK(a == b);
    if (c.name == "values-echo" || c.name.rfind("podinfo", 0) == 0) {
      CHECK(ours.find(":1.10\"") != std::string::npos);  // the quoted tag stays 1.10
      CHECK(ours.find(":1.1\"") == std::string::npos);
    }
    fs::remove_all(work);
  }
}

TEST_CASE("fidelity: valuesFrom ConfigMap, Secret and targetPath render as Flux would", "[unit]") {
  const std::string table = scalar_table();
  for (const auto& c : charts()) {
    INFO("chart " << c.name);
    const std::string work = scratch("from-" + c.name);
    test::TempRepo t("fidelity-from-" + c.name);
    setup(t, c);
    const std::string sources =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fid-values\n  namespace: fidelity\ndata:\n"
        "  values.yaml: |\n" + indent(table, "    ") +
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: fid-secret\n  namespace: fidelity\nstringData:\n"
        "  values.yaml: |\n" + indent(c.extra + "secretThing:\n  token: \"0123\"\n  enabled: on\n", "    ") +
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fid-paths\n  namespace: fidelity\ndata:\n"
        "  tag: \"1.10\"\n  flag: \"true\"\n  octal: \"0123\"\n  count: \"42\"\n"
        "  yes: \"yes\"\n"  // a key Kubernetes spells "true" (a YAML 1.1 boolean key)
        "  quoted: \"'7'\"\n"
        "  list: \"{a,b}\"\n";
    const std::string hr =
        head_for(c) +
        "  valuesFrom:\n"
        "    - kind: ConfigMap\n      name: fid-values\n"
        "    - kind: Secret\n      name: fid-secret\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: tag\n      targetPath: paths.tag\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: flag\n      targetPath: paths.flag\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: octal\n      targetPath: paths.octal\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: count\n      targetPath: paths.list[1].count\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: \"true\"\n      targetPath: paths.yes\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: quoted\n      targetPath: paths.quoted\n"
        "    - kind: ConfigMap\n      name: fid-paths\n      valuesKey: list\n      targetPath: paths.items\n"
        "  values:\n    fromSpec: 1.10\n";
    t.write("clusters/dev/sources.yaml", sources);
    t.write("clusters/dev/release.yaml", hr);
    const std::string commit = t.commit("valuesFrom");
    Helmgate hg(work);
    std::string ours_values;
    const std::string ours = hg.render(t, commit, c.name, &ours_values);

    // The oracle: kubectl reads the objects as the API server would get them; Flux parses each data
    // string with sigs.k8s.io/yaml (kubectl again); merges in order, spec.values last; targetPath is
    // Helm's strvals (helm --set, or --set-string for a quoted value, quotes trimmed).
    auto objs = kubectl_objects(sources + "---\n" + hr, work + "/kubectl");
    const auto& cm = objs.at("ConfigMap/fid-values");
    const auto& sec = objs.at("Secret/fid-secret");
    const auto& paths = objs.at("ConfigMap/fid-paths")["data"];
    std::string v_cm = kubectl_values_of(cm["data"]["values.yaml"].GetString(), work + "/k-cm");
    std::string v_sec = kubectl_values_of(sec["stringData"]["values.yaml"].GetString(), work + "/k-sec");
    std::string v_spec = json_text(objs.at("HelmRelease/fid")["spec"]["values"]);
    std::vector<std::string> sets;
    for (const auto& [key, path] : std::vector<std::pair<std::string, std::string>>{
             {"tag", "paths.tag"}, {"flag", "paths.flag"}, {"octal", "paths.octal"}, {"count", "paths.list[1].count"},
             {"true", "paths.yes"}, {"quoted", "paths.quoted"}, {"list", "paths.items"}}) {
      std::string v = paths[key.c_str()].GetString();
      bool quoted = v.size() >= 1 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front();
      if (quoted) v = v.substr(1, v.size() - 2);
      sets.push_back(std::string(quoted ? "--set-string" : "--set") + " " + path + "=" + v);
    }
    const std::string oracle_values = merged({v_cm, v_sec, v_spec});
    const std::string theirs = helm_template(t.dir.string() + "/charts/" + c.name, oracle_values, sets, work + "/oracle");
    CHECK(ours == theirs);
    if (c.name == "values-echo") {
      // The typed results, spelled out: strvals types "true" and "42", keeps "1.10", "0123", "yes" strings.
      CHECK(ours_values.find(R"("paths":{"flag":true,"items":["a","b"],"list":[null,{"count":42}],"octal":"0123","quoted":"7","tag":"1.10","yes":"yes"})") != std::string::npos);
      CHECK(ours_values.find(R"("fromSpec":1.1)") != std::string::npos);
    }
    fs::remove_all(work);
  }
}

TEST_CASE("fidelity: a Flux Kustomization's postBuild substitution types its results as Flux does", "[unit]") {
  for (const auto& c : charts()) {
    INFO("chart " << c.name);
    const std::string work = scratch("subst-" + c.name);
    test::TempRepo t("fidelity-subst-" + c.name);
    setup(t, c);
    t.write("clusters/dev/ks.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
            "  namespace: flux-system\nspec:\n  path: ./apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
            "  postBuild:\n    substitute:\n      version: \"1.10\"\n      flag: \"yes\"\n      octal: \"0123\"\n"
            "      replicas: \"3\"\n      inf: \".inf\"\n");
    // ${version} written plain becomes the number 1.1 after substitution (as in Flux); quoted it stays 1.10.
    const std::string values = std::string("  values:\n") +
                               "    image:\n      tag: \"${version}\"\n" +
                               "    replicaCount: ${replicas}\n" +
                               "    substituted:\n      plain: ${version}\n      quoted: \"${version}\"\n"
                               "      flag: ${flag}\n      flagQuoted: '${flag}'\n      octal: ${octal}\n"
                               "      octalQuoted: \"${octal}\"\n      inf: \"${inf}\"\n"
                               "      block: |\n        tag: ${version}\n      unset: ${nothing:=0x10}\n";
    const std::string hr = head_for(c) + values;
    t.write("apps/release.yaml", hr);
    const std::string commit = t.commit("postBuild");
    Helmgate hg(work);
    std::string ours_values;
    const std::string ours = hg.render(t, commit, c.name, &ours_values);

    std::string substituted = hr;
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"${version}", "1.10"}, {"${flag}", "yes"}, {"${octal}", "0123"}, {"${replicas}", "3"}, {"${inf}", ".inf"},
             {"${nothing:=0x10}", "0x10"}}) {
      for (size_t p = substituted.find(k); p != std::string::npos; p = substituted.find(k)) substituted.replace(p, k.size(), v);
    }
    auto objs = kubectl_objects(substituted, work + "/kubectl");
    const std::string oracle_values = json_text(objs.at("HelmRelease/fid")["spec"]["values"]);
    const std::string theirs = helm_template(t.dir.string() + "/charts/" + c.name, oracle_values, {}, work + "/oracle");
    CHECK(ours == theirs);
    rapidjson::Document a, b;
    a.Parse(ours_values.c_str());
    b.Parse(oracle_values.c_str());
    CHECK(a == b);
    if (c.name == "values-echo") {
      CHECK(ours_values.find(R"("plain":1.1,)") != std::string::npos);
      CHECK(ours_values.find(R"("octal":83,)") != std::string::npos);
      CHECK(ours_values.find(R"("flag":true,)") != std::string::npos);
      CHECK(ours_values.find(R"("unset":16)") != std::string::npos);
    }
    fs::remove_all(work);
  }
}

TEST_CASE("a quoted value that becomes plain is a change, named by its path", "[unit]") {
  const std::string work = scratch("affected");
  test::TempRepo t("fidelity-affected");
  Chart echo{kDir + "/charts/values-echo", "values-echo", ""};
  setup(t, echo);
  const std::string base_text = head_for(echo) + "  values:\n    image:\n      tag: \"1.10\"\n    same: 1.10\n";
  t.write("clusters/dev/release.yaml", base_text);
  const std::string base = t.commit("quoted");
  // 1.10 -> 1.1 is no change (the same number); "1.10" -> 1.10 is.
  t.write("clusters/dev/release.yaml", head_for(echo) + "  values:\n    image:\n      tag: 1.10\n    same: 1.1\n");
  const std::string head = t.commit("plain");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  release::DiscoverOptions opt;
  opt.work_root = work + "/trees";
  opt.clusters = release::default_clusters(*repo, head).value();
  auto b = release::discover(*repo, base, opt);
  auto h = release::discover(*repo, head, opt);
  REQUIRE(b.releases.size() == 1);
  REQUIRE(h.releases.size() == 1);
  CHECK(b.releases[0].values_json != h.releases[0].values_json);
  auto aff = release::affected(b, h, {"clusters/dev/release.yaml"});
  REQUIRE(aff.size() == 1);
  std::string reasons;
  for (const auto& r : aff[0].reasons) reasons += r + "\n";
  INFO(reasons);
  CHECK(reasons.find("spec.values.image.tag") != std::string::npos);
  CHECK(reasons.find("spec.values.same") == std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("a postBuild.substitute value that is not a string is a problem (the API server refuses it)", "[unit]") {
  const std::string work = scratch("subst-type");
  test::TempRepo t("fidelity-subst-type");
  Chart echo{kDir + "/charts/values-echo", "values-echo", ""};
  setup(t, echo);
  t.write("clusters/dev/ks.yaml",
          "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
          "  namespace: flux-system\nspec:\n  path: ./apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
          "  postBuild:\n    substitute:\n      replicas: 3\n      version: \"1.10\"\n      on: \"keyed\"\n");
  t.write("apps/release.yaml", head_for(echo) + "  values:\n    image:\n      tag: \"${version}\"\n    k: ${true}\n");
  const std::string commit = t.commit("unquoted substitute");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  render::Options ro;
  ro.helm = helm();
  ro.kubectl = kubectl();
  ro.work_dir = work + "/render";
  render::Renderer renderer(ro);
  release::DiscoverOptions opt;
  opt.work_root = work + "/trees";
  opt.clusters = release::default_clusters(*repo, commit).value();
  opt.kustomize = [&](const std::string& d, const std::string& k) { return renderer.kustomize_build(d, k); };
  auto d = release::discover(*repo, commit, opt);
  std::string problems;
  for (const auto& p : d.problems) problems += p.where.file + ":" + std::to_string(p.where.line) + ": " + p.message + "\n";
  INFO(problems);
  CHECK(problems.find("clusters/dev/ks.yaml:1: Flux Kustomization flux-system/apps postBuild.substitute.replicas is not a string") !=
        std::string::npos);
  REQUIRE(d.releases.size() == 1);
  // The key written `on` is "true" in Kubernetes, so ${true} is what it sets.
  CHECK(d.releases[0].values_json.find(R"("k":"keyed")") != std::string::npos);
  CHECK(d.releases[0].values_json.find(R"("tag":"1.10")") != std::string::npos);
  fs::remove_all(work);
}

TEST_CASE("a value kubectl refuses (.inf, a null key) is an error for that release at its file and line", "[unit]") {
  const std::string work = scratch("refused");
  test::TempRepo t("fidelity-refused");
  Chart echo{kDir + "/charts/values-echo", "values-echo", ""};
  setup(t, echo);
  t.write("clusters/dev/release.yaml", head_for(echo) + "  values:\n    ok: \".inf\"\n    bad: .inf\n");
  const std::string commit = t.commit("inf");
  auto repo = git::Repository::open(t.dir.string());
  REQUIRE(repo.ok());
  release::DiscoverOptions opt;
  opt.work_root = work + "/trees";
  opt.clusters = release::default_clusters(*repo, commit).value();
  auto d = release::discover(*repo, commit, opt);
  REQUIRE(d.releases.size() == 1);
  const auto& r = d.releases[0];
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].where.file == "clusters/dev/release.yaml");
  CHECK(r.errors[0].where.line == 15);  // the line of `bad: .inf`
  CHECK(r.errors[0].message.find("spec.values.bad") != std::string::npos);
  CHECK(r.errors[0].message.find("quote it") != std::string::npos);
  fs::remove_all(work);
}
