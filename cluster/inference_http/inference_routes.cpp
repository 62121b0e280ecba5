#include "cluster/inference_http/inference_routes.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "cluster/inference/service_status_json.hpp"
#include "cluster/inference_http/service_rate_limits.hpp"
#include "cluster/inference_http/tensor_json.hpp"

namespace troupe::inference_http {
namespace {

using clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(clock::time_point start) {
  return std::chrono::duration<double>(clock::now() - start).count();
}

std::string bearer_token(const http::request& q) {
  const auto& value = q.header("authorization");
  if (value.size() < 7) return "";
  std::string scheme = value.substr(0, 7);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "bearer " ? value.substr(7) : "";
}

// 429, with the whole seconds until a call is allowed again (at least 1) as Retry-After.
http::response too_many(const std::string& why, std::chrono::milliseconds wait) {
  auto r = http::error_response(429, why);
  const auto seconds = (wait.count() + 999) / 1000;
  r.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, seconds)));
  return r;
}

// The caller's grant, or the answer that refuses it.
std::variant<security::app_token_grant, http::response> authorize(
    security::app_token_registry& tokens, const http::request& q, msg::app_token_role role) {
  const auto secret = bearer_token(q);
  const auto check = tokens.check(secret, role, security::bucket_clock::now());
  using outcome = security::app_token_check::outcome;
  auto unauthorized = [](const std::string& why) {
    auto r = http::error_response(401, why);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  };
  switch (check.result) {
    case outcome::allowed: return check.grant;
    case outcome::unknown:
      return unauthorized(secret.empty()
                              ? "a bearer token is required (Authorization: Bearer TOKEN)"
                              : "the bearer token is not known");
    case outcome::revoked: return unauthorized("token " + check.grant.name + " is revoked");
    case outcome::wrong_role:
      return http::error_response(403, "token " + check.grant.name + " may not call " + q.method +
                                           " " + q.path + " (it needs role " +
                                           msg::to_string(role) + ")");
    case outcome::rate_limited:
      return too_many("token " + check.grant.name + " is over its rate limit", check.retry_after);
  }
  return http::error_response(500, "unknown token check outcome");
}

// The caller of an endpoint of the service `service`: the service's access policy decides
// whether a token is needed; then the service's bucket for (token, service) is taken from.
std::variant<security::app_token_grant, http::response> authorize_for_service(
    const inference_routes_deps& deps, service_rate_limits& limits, const http::request& q,
    const std::string& service) {
  const auto now = security::bucket_clock::now();
  std::optional<inference::service_access> access;
  security::app_token_grant grant;
  if (bearer_token(q).empty() && (access = deps.models->access(service, "")) &&
      !access->auth.tokens_required) {
    grant.tenant = access->tenant;
  } else {
    auto checked = authorize(*deps.tokens, q, msg::app_token_role::predict);
    if (std::holds_alternative<http::response>(checked)) return checked;
    grant = std::get<security::app_token_grant>(std::move(checked));
    access = deps.models->access(service, grant.tenant);
  }
  if (!access) return grant;  // no such service: the endpoint answers 404
  if (auto wait = limits.take(grant.name, access->tenant, service, access->auth, now))
    return too_many((grant.name.empty() ? std::string("calls without a token are")
                                        : "token " + grant.name + " is") +
                        " over the rate limit of " + service,
                    *wait);
  return grant;
}

// Wraps an endpoint: `check` (the caller's grant or its refusal), then `run` with the grant;
// refusals are counted.
template <class Check, class Run>
http::handler guarded_by(const inference_routes_deps& deps, Check check, Run run) {
  return [deps, check, run](http::request& q, http::responder respond) {
    const auto start = clock::now();
    auto auth = check(q);
    if (auto* refused = std::get_if<http::response>(&auth)) {
      deps.metrics->record("", 0, refused->status, seconds_since(start), 0);
      return respond(std::move(*refused));
    }
    run(q, std::get<security::app_token_grant>(auth), std::move(respond), start);
  };
}

// An endpoint any token of `role` may call.
template <class Run>
http::handler guarded(const inference_routes_deps& deps, msg::app_token_role role, Run run) {
  return guarded_by(
      deps, [deps, role](const http::request& q) { return authorize(*deps.tokens, q, role); }, run);
}

// An endpoint of the service the path names, under that service's access policy.
template <class Run>
http::handler guarded_service(const inference_routes_deps& deps,
                              std::shared_ptr<service_rate_limits> limits, Run run) {
  return guarded_by(
      deps,
      [deps, limits](http::request& q) {
        return authorize_for_service(deps, *limits, q, q.params["name"]);
      },
      run);
}

void on_infer(const inference_routes_deps& deps, http::request& q,
              const security::app_token_grant& grant, http::responder respond,
              clock::time_point start, bool v2) {
  const auto& service = q.params["name"];
  inference::prediction_request p;
  if (q.params.count("version")) {
    const auto& v = q.params["version"];
    char* end = nullptr;
    const auto n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end || n == 0 || n > UINT32_MAX ||
        !std::isdigit(static_cast<unsigned char>(v[0]))) {
      deps.metrics->record("", 0, 400, seconds_since(start), 0);
      return respond(http::error_response(400, "version `" + v + "` is not a positive integer"));
    }
    p.version = static_cast<uint32_t>(n);
  }
  auto read = v2 ? read_v2_infer(q.body) : read_v1_predict(q.body);
  if (auto* problem = std::get_if<std::string>(&read)) {
    deps.metrics->record("", 0, 400, seconds_since(start), 0);
    return respond(http::error_response(400, *problem));
  }
  auto& rows = std::get<feature_rows>(read);
  p.service = service;
  p.tenant = grant.tenant;
  p.feature_count = rows.feature_count;
  p.features = std::move(rows.features);
  p.routing_key = q.header("x-routing-key");
  deps.models->predict(
      std::move(p), [metrics = deps.metrics, respond, start, service, id = std::move(rows.id),
                     single = rows.single, v2](inference::prediction_result r) {
        if (r.error) {
          auto answer = http::error_response(*r.error);
          const bool known = r.error->code != msg::error_code::not_found;
          metrics->record(known ? service : "", r.model_version, answer.status,
                          seconds_since(start), 0);
          return respond(std::move(answer));
        }
        auto body = v2 ? write_v2_infer(r, id) : write_v1_predict(r, single);
        metrics->record(service, r.model_version, 200, seconds_since(start), r.rows);
        respond(http::json_response(std::move(body)));
      });
}

// Asks for the caller's services, then answers with `answer(the named one)` or 404.
template <class Answer>
void with_service(const inference_routes_deps& deps, const std::string& name,
                  const std::string& tenant, http::responder respond, Answer answer) {
  deps.models->services(tenant,
                        [name, respond, answer](std::vector<inference::service_status> all) {
                          for (const auto& s : all)
                            if (s.name == name) return respond(answer(s));
                          respond(http::error_response(404, "unknown model: " + name));
                        });
}

const char* output_name(const inference::model_signature& s) {
  return s.outputs == inference::output_kind::values ? "predictions" : "probabilities";
}

http::response metadata(const inference::service_status& s) {
  json versions = json::array();
  for (const auto& v : s.versions) versions.push_back(std::to_string(v.version));
  json out{{"name", s.name}, {"versions", versions}, {"platform", "troupe_torchscript"}};
  if (!s.versions.empty()) {
    const auto& sig = s.versions.front().signature;
    const int64_t outputs = sig.classes.empty() ? -1 : static_cast<int64_t>(sig.classes.size());
    out["inputs"] = {{{"name", "input"},
                      {"datatype", "FP32"},
                      {"shape", {-1, static_cast<int64_t>(sig.input_features)}}}};
    out["outputs"] = {{{"name", output_name(sig)}, {"datatype", "FP32"}, {"shape", {-1, outputs}}}};
  }
  return http::json_response(out.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

void add_inference_routes(http::router& routes, const inference_routes_deps& deps) {
  using role = msg::app_token_role;
  const auto limits = std::make_shared<service_rate_limits>();
  auto infer = [deps, limits](bool v2) {
    return guarded_service(deps, limits,
                           [deps, v2](http::request& q, const security::app_token_grant& g,
                                      http::responder respond, clock::time_point start) {
                             on_infer(deps, q, g, std::move(respond), start, v2);
                           });
  };
  routes.add("POST", "/v2/models/{name}/infer", infer(true));
  routes.add("POST", "/v2/models/{name}/versions/{version}/infer", infer(true));
  routes.add("POST", "/v1/models/{name}/predict", infer(false));
  routes.add("GET", "/v2/models/{name}",
             guarded_service(deps, limits,
                             [deps](http::request& q, const security::app_token_grant& g,
                                    http::responder respond, clock::time_point) {
                               with_service(deps, q.params["name"], g.tenant, std::move(respond),
                                            metadata);
                             }));
  routes.add("GET", "/v2/models/{name}/ready",
             guarded_service(
                 deps, limits,
                 [deps](http::request& q, const security::app_token_grant& g,
                        http::responder respond, clock::time_point) {
                   with_service(
                       deps, q.params["name"], g.tenant, std::move(respond),
                       [](const inference::service_status& s) {
                         if (!s.ready_replicas)
                           return http::error_response(400,
                                                       "model " + s.name + " has no ready replica");
                         return http::json_response(json{{"name", s.name}, {"ready", true}}.dump());
                       });
                 }));
  routes.add("GET", "/v1/models",
             guarded(deps, role::predict,
                     [deps](http::request&, const security::app_token_grant& g,
                            http::responder respond, clock::time_point) {
                       deps.models->services(
                           g.tenant, [respond](std::vector<inference::service_status> all) {
                             json models = json::array();
                             for (const auto& s : all) models.push_back(inference::to_json(s));
                             respond(http::json_response(json{{"models", models}}.dump(
                                 -1, ' ', false, json::error_handler_t::replace)));
                           });
                     }));
  routes.add(
      "POST", "/v1/models/{name}/reload",
      guarded(deps, role::manage,
              [deps](http::request& q, const security::app_token_grant& g, http::responder respond,
                     clock::time_point) {
                const auto name = q.params["name"];
                deps.models->reload(name, g.tenant, [respond, name](std::optional<msg::error> e) {
                  if (e) return respond(http::error_response(*e));
                  respond(http::json_response(json{{"name", name}, {"reloading", true}}.dump()));
                });
              }));
}

}  // namespace troupe::inference_http
