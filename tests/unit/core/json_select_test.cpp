// core::json::select, the webhook path's one-pass reader, against core::json's document parser (RapidJSON):
// the same texts accepted and refused (on the recorded payloads of ../shared/corpora, every prefix of some
// of them, and every position of them replaced by a byte that matters to JSON), the same values at the
// same paths, and the documented differences (NUL bytes, huge numbers).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/json_select.hpp"
#include "support/support.hpp"

using namespace helmgate;
namespace json = core::json;
namespace fs = std::filesystem;
using Type = json::Selected::Type;

namespace {

constexpr unsigned kDepth = 64;

// Paths found in GitHub's and Gitea's payloads, at several depths, plus some that are never there.
const json::PathSet& paths() {
  static const json::PathSet p{"action", "number", "ref", "after", "deleted", "forced", "created", "commits",
                               "repository", "repository.full_name", "repository.id", "repository.private",
                               "repository.owner.login", "repository.owner.id", "repository.fork",
                               "repository.stargazers_count", "repository.license", "pull_request.head.sha",
                               "pull_request.merged", "pull_request.body", "pull_request.labels",
                               "pull_request.head.repo.owner.login", "issue.pull_request", "comment.body",
                               "comment.user.login", "sender.login", "no.such.path", "head_commit.message"};
  return p;
}

// Whether the document parser accepts the text as the webhook path did (no encoding checks).
bool document_accepts(const std::string& text, std::string* why = nullptr) {
  json::Document doc;
  auto f = json::parse_bounded(doc, text, kDepth, false);
  if (f && why != nullptr) *why = f->message;
  return !f;
}

bool select_accepts(const std::string& text) {
  json::Selection s(paths());
  return !json::select(text, s, kDepth);
}

// Texts where the two are documented to differ: a NUL (the document parser stops there), a leading byte of
// a UTF-8 byte order mark (the document parser skips EF, BB and BF there, each one alone too) and a number
// too large for a double (refused by the document parser only).
bool comparable(const std::string& text) {
  if (text.find('\0') != std::string::npos) return false;
  if (!text.empty() && (text[0] == '\xef' || text[0] == '\xbb' || text[0] == '\xbf')) return false;
  std::string why;
  return document_accepts(text, &why) || why.find("too big") == std::string::npos;
}

void check_same_values(const std::string& text) {
  json::Document doc;
  REQUIRE_FALSE(json::parse_unvalidated(doc, text));
  json::Selection s(paths());
  REQUIRE_FALSE(json::select(text, s, kDepth));
  CHECK(s.root_is_object == doc.IsObject());
  for (std::string_view path : {"action", "number", "ref", "after", "deleted", "forced", "created", "commits", "repository",
                                "repository.full_name", "repository.id", "repository.private", "repository.owner.login",
                                "repository.owner.id", "repository.fork", "repository.stargazers_count",
                                "repository.license", "pull_request.head.sha", "pull_request.merged",
                                "pull_request.body", "pull_request.labels", "pull_request.head.repo.owner.login",
                                "issue.pull_request", "comment.body", "comment.user.login", "sender.login",
                                "no.such.path", "head_commit.message"}) {
    INFO(path);
    const json::Value* v = json::find(doc, path);
    const json::Selected* got = s.at(path);
    REQUIRE(got != nullptr);
    if (v == nullptr) {
      CHECK(got->type == Type::missing);
      continue;
    }
    if (v->IsString()) {
      REQUIRE(got->type == Type::string);
      CHECK(got->string == std::string(v->GetString(), v->GetStringLength()));
    } else if (v->IsBool()) {
      REQUIRE(got->type == Type::boolean);
      CHECK(got->boolean == v->GetBool());
    } else if (v->IsNumber()) {
      REQUIRE(got->type == Type::number);
      CHECK(got->is_int64 == v->IsInt64());
      if (v->IsInt64()) CHECK(got->int64 == v->GetInt64());
    } else if (v->IsNull()) {
      CHECK(got->type == Type::null);
    } else if (v->IsObject()) {
      CHECK(got->type == Type::object);
    } else {
      CHECK(got->type == Type::array);
    }
  }
}

std::vector<fs::path> corpus_payloads() {
  std::vector<fs::path> out;
  for (const char* dir : {"github-webhooks", "gitea-webhooks"}) {
    for (const auto& e : fs::recursive_directory_iterator(test::corpus(dir))) {
      if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("select reads every recorded payload as the document parser does", "[unit][core][json]") {
  auto files = corpus_payloads();
  REQUIRE(files.size() >= 90);
  int with_pull = 0, with_push = 0;
  for (const auto& p : files) {
    INFO(p.string());
    std::string text = test::read_file(p.string());
    REQUIRE(document_accepts(text));
    check_same_values(text);
    json::Selection s(paths());
    REQUIRE_FALSE(json::select(text, s, kDepth));
    if (s.at("pull_request.head.sha")->type == Type::string) ++with_pull;
    if (s.at("after")->type == Type::string) ++with_push;
  }
  // The comparison saw the fields the webhook path reads, not only their absence.
  CHECK(with_pull >= 30);
  CHECK(with_push >= 8);
}

TEST_CASE("select refuses exactly what the document parser refuses, on damaged payloads", "[unit][core][json]") {
  int refused = 0, compared = 0;
  auto files = corpus_payloads();
  // The smallest GitHub pull_request, push and issue_comment payloads and the smallest Gitea one.
  std::vector<fs::path> picked;
  for (const char* want : {"pull_request", "push", "issue_comment", "gitea"}) {
    const fs::path* best = nullptr;
    for (const auto& p : files) {
      if (p.string().find(want) == std::string::npos) continue;
      if (best == nullptr || fs::file_size(p) < fs::file_size(*best)) best = &p;
    }
    if (best != nullptr) picked.push_back(*best);
  }
  REQUIRE(picked.size() == 4);
  const std::string replacements = std::string("\"\\{}[],:0-eE.u tfn/\x1a\x1f\x7f") + '\x80' + '\xff';
  for (const auto& p : picked) {
    INFO(p.string());
    const std::string text = test::read_file(p.string());
    auto compare = [&](const std::string& t) {
      if (!comparable(t)) return;
      ++compared;
      bool doc = document_accepts(t);
      if (!doc) ++refused;
      if (select_accepts(t) != doc) {
        FAIL_CHECK("select and the document parser disagree on: " << t);
      } else if (doc) {
        check_same_values(t);
      }
    };
    for (size_t n = 0; n < text.size(); ++n) compare(text.substr(0, n));
    for (size_t i = 0; i < text.size(); ++i) {
      for (char c : replacements) {
        if (text[i] == c) continue;
        std::string t = text;
        t[i] = c;
        compare(t);
      }
      std::string t = text;
      t.insert(i, 1, '\\');
      compare(t);
    }
  }
  // Most damage is refused, some is not (a letter inside a string): both sides were exercised.
  CHECK(refused > compared / 2);
  CHECK(refused < compared);
}

TEST_CASE("select: the grammar's corners, each as the document parser has it", "[unit][core][json]") {
  for (const char* ok : {"{}", " {} ", "[]", "0", "-0", "1.5e+3", "1E-2", "\"\"", "true", "null", "{\"a\":[1,{\"b\":[]}]}",
                         "{\"a\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"}", "\t\r\n[ 1 , 2 ]\n",
                         "{\"a\":\"\\udc00\"}", "123456789012345678901234567890"}) {
    INFO(ok);
    CHECK(document_accepts(ok));
    CHECK(select_accepts(ok));
  }
  for (const char* bad : {"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{a:1}", "01", "-",
                          "1.", ".5", "1e", "1e+", "+1", "tru", "nul", "falsey", "{} {}", "\"\\x\"", "\"\\u12\"",
                          "\"\\u12g4\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"a\nb\"", "\"a\x1a\"", "\"a\x1f\"",
                          "\"abc", "[\"a\",", "{'a':1}", "NaN", "Infinity", "[1]//", "/*c*/{}"}) {
    INFO(bad);
    CHECK_FALSE(document_accepts(bad));
    CHECK_FALSE(select_accepts(bad));
  }
  // Documented differences: both are refused by select only, or accepted by it only.
  CHECK(document_accepts(std::string("{}\0x", 4)));
  CHECK_FALSE(select_accepts(std::string("{}\0x", 4)));
  CHECK(document_accepts("\xbf" "173"));
  CHECK_FALSE(select_accepts("\xbf" "173"));
  CHECK(document_accepts("\xef\xbb\xbf{}"));
  CHECK_FALSE(select_accepts("\xef\xbb\xbf{}"));
  CHECK_FALSE(document_accepts("{\"big\":1e400}"));
  CHECK(select_accepts("{\"big\":1e400}"));
  // Messages say where.
  json::Selection s(paths());
  auto f = json::select("{\"ref\": tru}", s, kDepth);
  REQUIRE(f);
  CHECK(f->message == "offset 8: invalid value");
}

TEST_CASE("select: values, escapes, integers, duplicates and depth", "[unit][core][json]") {
  auto read = [](const std::string& text) {
    json::Selection s(paths());
    auto f = json::select(text, s, kDepth);
    REQUIRE_FALSE(f);
    return s;
  };
  auto s = read(R"({"ref":"a\u00e9\ud83d\ude00\"\\\/b","number":7,"deleted":true,"after":null,"commits":[{"ref":"x"}]})");
  CHECK(s.at("ref")->string == "a\xc3\xa9\xf0\x9f\x98\x80\"\\/b");
  CHECK(s.at("number")->is_int64);
  CHECK(s.at("number")->int64 == 7);
  CHECK(s.at("deleted")->type == Type::boolean);
  CHECK(s.at("deleted")->boolean);
  CHECK(s.at("after")->type == Type::null);
  CHECK(s.at("commits")->type == Type::array);
  CHECK(s.at("action")->type == Type::missing);
  CHECK(s.at("repository.full_name") != nullptr);
  CHECK(s.at("repository.nothing") == nullptr);  // not in the set

  for (auto [text, is_int, value] : std::vector<std::tuple<std::string, bool, int64_t>>{
           {"9223372036854775807", true, INT64_MAX},
           {"-9223372036854775808", true, INT64_MIN},
           {"9223372036854775808", false, 0},
           {"18446744073709551616", false, 0},
           {"-0", true, 0},
           {"7.0", false, 0},
           {"7e0", false, 0}}) {
    INFO(text);
    auto n = read("{\"number\":" + text + "}");
    CHECK(n.at("number")->type == Type::number);
    CHECK(n.at("number")->is_int64 == is_int);
    if (is_int) CHECK(n.at("number")->int64 == value);
    check_same_values("{\"number\":" + text + "}");
  }

  // A member named twice: the first one counts, the whole of it (as the document's lookup finds it).
  auto d = read(R"({"repository":{"id":1},"repository":{"full_name":"x/y","id":2},"ref":"a","ref":"b"})");
  CHECK(d.at("repository.full_name")->type == Type::missing);
  CHECK(d.at("repository.id")->int64 == 1);
  CHECK(d.at("ref")->string == "a");
  check_same_values(R"({"repository":{"id":1},"repository":{"full_name":"x/y","id":2},"ref":"a","ref":"b"})");
  // An escaped member name is the name it decodes to.
  CHECK(read(R"({"r\u0065f":"z"})").at("ref")->string == "z");
  // A path through something that is not an object finds nothing.
  CHECK(read(R"({"repository":"x/y"})").at("repository.full_name")->type == Type::missing);

  std::string deep(64, '['), deeper(65, '[');
  deep += std::string(64, ']');
  deeper += std::string(65, ']');
  json::Selection s1(paths()), s2(paths());
  CHECK_FALSE(json::select(deep, s1, kDepth));
  auto f = json::select(deeper, s2, kDepth);
  REQUIRE(f);
  CHECK(f->too_deep);
  CHECK(f->message == "nests deeper than 64 levels (offset 64)");
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  json::Selection s3(paths());
  auto g = json::select(objects, s3, kDepth);
  REQUIRE(g);
  CHECK(g->too_deep);
}

TEST_CASE("select: long strings take the 16-byte scan to every stop", "[unit][core][json]") {
  // A quote, backslash or control character at each position of a long string, where the scan of 16 bytes
  // at a time and the byte-wise tail both have to stop.
  for (size_t len : {0u, 1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u}) {
    for (size_t at = 0; at <= len; ++at) {
      std::string body(len, 'x');
      std::string text = "{\"ref\":\"" + body + "\"}";
      auto s = [&](const std::string& t) {
        json::Selection sel(paths());
        auto f = json::select(t, sel, kDepth);
        return std::make_pair(!f, sel.at("ref")->string);
      };
      auto [ok, v] = s(text);
      REQUIRE(ok);
      CHECK(v == body);
      if (at < len) {
        std::string esc = text;
        esc.replace(8 + at, 1, "\\n");
        auto [ok2, v2] = s(esc);
        REQUIRE(ok2);
        CHECK(v2 == body.substr(0, at) + "\n" + body.substr(at + 1));
        std::string ctl = text;
        ctl[8 + at] = '\x1b';
        CHECK_FALSE(s(ctl).first);
        CHECK_FALSE(document_accepts(ctl));
      }
    }
  }
}
