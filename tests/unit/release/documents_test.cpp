// Room (a), documents: parsing with file:line, the parse budget, repository paths, the object index.
#include <catch2/catch.hpp>

#include "release/documents.hpp"
#include "release/yaml_util.hpp"
#include "support/rooms.hpp"

using namespace helmgate::release;

TEST_CASE("documents: each document keeps its file and line, non-maps are skipped", "[unit]") {
  auto parsed = parse_documents("apps/a.yaml", "---\nkind: A\n---\n- a list\n---\n\nkind: B\nmetadata:\n  name: b\n");
  REQUIRE(std::holds_alternative<Docs>(parsed));
  const auto& docs = std::get<Docs>(parsed);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].file == "apps/a.yaml");
  CHECK(docs[0].line == 2);
  CHECK(detail::scalar(docs[1].node, "kind") == "B");
  CHECK(docs[1].line == 7);
  CHECK(docs[1].unit.empty());
}

TEST_CASE("documents: a syntax error names the file, line and column", "[unit]") {
  auto parsed = parse_documents("apps/broken.yaml", "kind: A\nmetadata:\n  name: [x\n");
  REQUIRE(std::holds_alternative<ParseFailure>(parsed));
  const auto& f = std::get<ParseFailure>(parsed);
  CHECK(f.where.file == "apps/broken.yaml");
  CHECK(f.where.line >= 3);
  CHECK(f.where.column > 0);
  CHECK(f.message.rfind("invalid YAML: ", 0) == 0);
}

TEST_CASE("documents: the parse budget refuses the file past limits.max_files", "[unit]") {
  ParseBudget budget(2);
  CHECK(std::holds_alternative<Docs>(budget.parse("a.yaml", "kind: A\n")));
  CHECK(std::holds_alternative<Docs>(budget.parse("b.yaml", "kind: B\n")));
  CHECK_FALSE(budget.exhausted());
  auto third = budget.parse("c.yaml", "kind: C\n");
  REQUIRE(std::holds_alternative<ParseFailure>(third));
  CHECK(std::get<ParseFailure>(third).where.file == "c.yaml");
  CHECK(std::get<ParseFailure>(third).message.find("more than 2 YAML files") != std::string::npos);
  CHECK(std::get<ParseFailure>(third).message.find("limits.max_files") != std::string::npos);
  CHECK(budget.exhausted());
}

TEST_CASE("documents: repository paths are normalized", "[unit]") {
  CHECK(clean_path("./apps//base/") == "apps/base");
  CHECK(clean_path(".") == "");
  CHECK(clean_path("/clusters/dev") == "clusters/dev");
  CHECK(clean_path("apps/../infra") == "infra");
  CHECK(join_path("", "./apps") == "apps");
  CHECK(join_path("apps/base", "../staging") == "apps/staging");
  CHECK(is_yaml_path("a/b.yaml"));
  CHECK(is_yaml_path("a/b.yml"));
  CHECK_FALSE(is_yaml_path("a/b.json"));
  CHECK_FALSE(is_yaml_path(".yaml"));
}

using helmgate::test::doc;

TEST_CASE("documents: the object index finds objects by kind, namespace and name", "[unit]") {
  ObjectIndex idx;
  idx.add(doc("kind: ConfigMap\nmetadata: {name: values, namespace: apps}\n", "apps/cm.yaml", 1));
  idx.add(doc("kind: Secret\nmetadata: {name: creds}\n", "apps/secret.yaml", 4));
  idx.add(doc("kind: HelmRepository\nmetadata: {name: podinfo, namespace: default}\n", "infra/repo.yaml", 2));
  idx.add(doc("kind: Deployment\nmetadata: {name: web, namespace: apps}\n", "apps/web.yaml", 1));  // not indexed

  const Doc* cm = idx.find("ConfigMap", "apps", "values");
  REQUIRE(cm != nullptr);
  CHECK(cm->file == "apps/cm.yaml");
  CHECK(idx.find("ConfigMap", "other", "values") == nullptr);
  // Declared without a namespace: it takes the namespace of what refers to it.
  const Doc* secret = idx.find("Secret", "apps", "creds");
  REQUIRE(secret != nullptr);
  CHECK(secret->line == 4);
  // No namespace asked: "default" is tried.
  REQUIRE(idx.find("HelmRepository", "", "podinfo") != nullptr);
  CHECK(idx.find("Deployment", "apps", "web") == nullptr);

  // A later declaration of the same object wins.
  idx.add(doc("kind: ConfigMap\nmetadata: {name: values, namespace: apps}\ndata: {a: b}\n", "apps/cm2.yaml", 7));
  CHECK(idx.find("ConfigMap", "apps", "values")->file == "apps/cm2.yaml");
  idx.add(doc("kind: ConfigMap\nmetadata: {name: another, namespace: apps}\n", "apps/cm3.yaml", 1));
  auto all = idx.all("ConfigMap");
  REQUIRE(all.size() == 2);
  CHECK(all[0]->file == "apps/cm3.yaml");  // apps/another before apps/values
  CHECK(idx.all("GitRepository").empty());
  idx.clear();
  CHECK(idx.find("ConfigMap", "apps", "values") == nullptr);
}

TEST_CASE("documents: the cache hands back what was put under a key", "[unit]") {
  auto cache = make_doc_cache();
  CHECK(cache->get("k") == nullptr);
  auto docs = std::make_shared<const Docs>(Docs{doc("kind: A\n", "a.yaml", 1)});
  cache->put("k", docs);
  CHECK(cache->get("k") == docs);
}
