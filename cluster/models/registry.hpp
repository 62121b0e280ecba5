// The model registry's service (docs/models.md), as plain C++ over the store's models tables:
// registers the versions of succeeded train jobs, imports models trained elsewhere and answers the
// protocol's models requests (messages/models.capnp). The head's registry actor (actors/models)
// runs it; tests call it directly.
//
// Every answer reflects the store: a registration or promotion is answered once stored. A
// store failure is answered `unavailable`. Roles: an admin key sees and promotes every model, a
// submit key only its own tenant's (any other model is `notFound` to it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>

#include "cluster/models/registry_rules.hpp"
#include "cluster/store/store.hpp"
#include "messages/envelope.hpp"

namespace troupe::models {

// The key that sent a request.
struct caller {
  msg::key_role role = msg::key_role::admin;
  std::string key_id;
  std::string tenant;  // role submit: the only tenant whose models it may see
};

// What a registration is answered with: the version number, or why there is none.
using registration_result = std::variant<uint32_t, msg::error>;

// Replies stay within one frame: an every-version view holds at most this many versions and
// stage changes.
inline constexpr size_t versions_per_reply = 50;
inline constexpr size_t stage_changes_per_reply = 100;
inline constexpr uint32_t default_list_limit = 1000;

class registry {
 public:
  // `artifacts` tells which model artifacts an import may name.
  registry(store::models_store& store, store::artifacts_store& artifacts,
           std::function<int64_t()> now_ms);

  // Stores `r` as its model's next version; idempotent per job id (a retried registration of
  // a job gets the version it got first).
  registration_result register_version(const registration& r);

  // The reply to a models request (a models_message, or an error).
  msg::body answer(const caller& who, const msg::models_message& request);

 private:
  msg::body list(const caller& who, const msg::list_models_request& r);
  msg::body get(const caller& who, const msg::get_model_request& r);
  msg::body promote(const caller& who, const msg::promote_model_request& r);
  msg::body import(const caller& who, const msg::import_model_request& r);
  // Stores `r`, which registration_problem found fit: the version as stored, or why none.
  std::variant<store::model_version_record, msg::error> store_checked(const registration& r);
  // The stored versions of a model `who` may see, or the error to answer.
  std::variant<std::vector<store::model_version_record>, msg::error> visible_versions(
      const caller& who, const std::string& name);

  store::models_store& store_;
  store::artifacts_store& artifacts_;
  std::function<int64_t()> now_ms_;
};

}  // namespace troupe::models
