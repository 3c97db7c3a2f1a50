#include "handlers/ui/html.hpp"

#include <openssl/evp.h>

#include "core/names.hpp"

namespace helmgate::handlers::ui {
namespace {

constexpr std::string_view kStyle = R"css(
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff}
a{color:#0a3fa8}
a:focus-visible,button:focus-visible,input:focus-visible,.scroll:focus-visible{outline:3px solid #0a3fa8;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:1}
header{background:#102a43;color:#fff;padding:8px 16px}
header a{color:#fff;margin-right:16px;font-weight:600}
main{padding:8px 16px 32px;max-width:1400px}
h1{font-size:1.5rem;margin:12px 0}h2{font-size:1.2rem;margin:24px 0 8px}h3{font-size:1rem;margin:16px 0 4px}
.scroll{overflow-x:auto;max-width:100%;border:1px solid #ccd;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:6px 8px}
th,td{padding:6px 8px;border-bottom:1px solid #dde;text-align:left;vertical-align:top;white-space:nowrap}
thead th{background:#f0f2f6}
td.wrap{white-space:normal;min-width:16em}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:600;font-size:.85rem;border:1px solid}
.s-in_sync,.s-yes{background:#e3f4e8;color:#0b4a1f;border-color:#0b4a1f}
.s-drifted{background:#fff2cc;color:#5c3c00;border-color:#5c3c00}
.s-missing,.s-failed,.s-no{background:#fbe0e2;color:#6b0a14;border-color:#6b0a14}
.s-extra{background:#e6e7ff;color:#22246e;border-color:#22246e}
.s-unknown,.s-none{background:#eceff3;color:#222;border-color:#555}
.muted{color:#444}
pre{background:#f6f8fa;border:1px solid #ccd;padding:8px;overflow-x:auto;font-size:.85rem;max-width:100%}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
label{font-weight:600;margin-right:8px}
input{font:inherit;padding:4px 6px;border:1px solid #555;border-radius:3px}
button{font:inherit;padding:2px 10px;border:1px solid #0a3fa8;border-radius:3px;background:#0a3fa8;color:#fff;cursor:pointer}
button[disabled]{background:#555;border-color:#555}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
)css";

// The replay button of the jobs page: POSTs to the jobs API with the API token typed on the page. The
// token is read from the field at the click and kept nowhere; answers are shown with textContent only.
constexpr std::string_view kScript = R"js(
(function(){
var field=document.getElementById('api-token');var out=document.getElementById('replay-status');
if(!field||!out)return;
var form=document.getElementById('replay-form');
if(form)form.addEventListener('submit',function(e){e.preventDefault();});
document.addEventListener('click',function(e){
var b=e.target.closest?e.target.closest('button[data-replay]'):null;if(!b)return;
var id=b.getAttribute('data-replay');var t=field.value;
if(!t){out.textContent='Type the API token first.';field.focus();return;}
b.disabled=true;out.textContent='Replaying job '+id+'...';
fetch(location.origin+'/api/v1/jobs/'+encodeURIComponent(id)+'/replay',{method:'POST',headers:{'Authorization':'Bearer '+t}})
.then(function(r){return r.json().catch(function(){return{};}).then(function(j){
out.textContent=r.ok?('Job '+id+' replayed as job '+j.job+'.'):('Replay of job '+id+' failed ('+r.status+'): '+(j.error||''));});})
.catch(function(err){out.textContent='Replay of job '+id+' failed: '+err;})
.then(function(){b.disabled=false;});
});
})();
)js";

std::string sha256_base64(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return {reinterpret_cast<const char*>(out), static_cast<size_t>(n)};
}

const std::string& csp() {
  static const std::string value = "default-src 'none'; style-src 'sha256-" + sha256_base64(kStyle) +
                                   "'; script-src 'sha256-" + sha256_base64(kScript) +
                                   "'; connect-src 'self'; img-src 'none'; form-action 'self'; base-uri 'none'; "
                                   "frame-ancestors 'none'";
  return value;
}

}  // namespace

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string href(std::initializer_list<std::string_view> segments) {
  std::string url = "/ui";
  for (auto s : segments) {
    url += '/';
    url += core::names::path_segment(s);
  }
  if (segments.size() == 0) url += '/';
  return esc(url);
}

std::string state_badge(std::string_view state) {
  std::string cls = "none";
  std::string text = "not declared";
  if (state == "in_sync") {
    cls = "in_sync", text = "in sync";
  } else if (state == "drifted" || state == "missing" || state == "failed" || state == "extra" || state == "unknown") {
    cls = std::string(state), text = std::string(state);
  } else if (!state.empty()) {
    cls = "unknown", text = std::string(state);
  }
  return "<span class=\"badge s-" + cls + "\">" + esc(text) + "</span>";
}

std::string page(std::string_view title, const std::string& body, bool with_script) {
  std::string out;
  out.reserve(body.size() + kStyle.size() + 1024);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"referrer\" content=\"no-referrer\"><title>";
  out += esc(title);
  out += " - helmgate</title><style>";
  out += kStyle;
  out += "</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a>"
         "<header><nav aria-label=\"Main\"><a href=\"/ui/\">Fleet</a><a href=\"/ui/drift\">Needs attention</a>"
         "<a href=\"/ui/jobs\">Jobs</a></nav></header><main id=\"main\"><h1>";
  out += esc(title);
  out += "</h1>";
  out += body;
  out += "</main>";
  if (with_script) {
    out += "<script>";
    out += kScript;
    out += "</script>";
  }
  out += "</body></html>\n";
  return out;
}

http::Response html_response(unsigned status, std::string body) {
  http::Response res = http::text_response(status, std::move(body), "text/html; charset=utf-8");
  res.set("Content-Security-Policy", csp());
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Cache-Control", "no-store");
  res.set("X-Frame-Options", "DENY");
  return res;
}

http::Response html_error(unsigned status, std::string_view message) {
  std::string body = "<p>" + esc(message) + "</p><p><a href=\"/ui/\">Back to the fleet</a></p>";
  return html_response(status, page(status == 404 ? "Not found" : "Error", body));
}

}  // namespace helmgate::handlers::ui
