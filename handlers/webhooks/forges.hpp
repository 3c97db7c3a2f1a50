#pragma once
// The webhook side of the forge-kind table (core/forge_kind.hpp): for each kind, the headers that name
// the event and the delivery, the verifier of a delivery's authenticity, and the parser of its payload.
// Each forge's entry is in its own file here (github.cpp, gitea.cpp); forges.cpp lists them. The HTTP
// route (routes.cpp) and parse_webhook (parse.cpp) only ever go through this table.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "handlers/signature.hpp"

namespace helmgate::handlers {

namespace webhooks {
class Fields;
}

struct WebhookForge {
  core::ForgeKind kind;
  std::vector<std::string_view> event_headers;     // the first one present names the event
  std::vector<std::string_view> delivery_headers;  // the first one present is the delivery id
  std::vector<SignatureHeader> signature_headers;  // what verify reads, in order of preference
  // Whether the delivery is the forge's, from signature_headers over the raw body; false with the 401
  // answer's reason in *why (what was wrong with the header, never anything about the secret). HMAC
  // forges use verify_hmac_headers; a forge that sends its secret as a token compares it instead.
  bool (*verify)(const HeaderLookup& header, std::span<const SignatureHeader> signature_headers,
                 std::string_view secret, std::string_view body, std::string* why);
  // The payload of one event (the event header's value) into ev: sets ev.kind and what that kind
  // carries; a missing or mistyped field is noted in fields (the 400 answer names the first one).
  void (*parse)(std::string_view event, webhooks::Fields& fields, core::Event& ev);
};

std::span<const WebhookForge> webhook_forges();
// nullptr for a kind without webhook support (a unit test checks that every kind has its entry).
const WebhookForge* webhook_forge(core::ForgeKind kind);

// The value of the first of names the request has, "" when none.
std::string first_header(const HeaderLookup& header, const std::vector<std::string_view>& names);

}  // namespace helmgate::handlers
