#include "actors/models/registry_actor.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "cluster/security/key_registry.hpp"

namespace troupe::model_registry {
namespace {

struct registry_state {
  static inline const char* name = "model-registry";
  registry_deps deps;
  std::unique_ptr<models::registry> service;
};

using self_ptr = caf::stateful_actor<registry_state>*;

void on_request(self_ptr self, const actors::inbound& in) {
  const auto& deps = self->state.deps;
  msg::body reply = msg::error{msg::error_code::internal, "no sender key"};
  if (in.sender)
    reply = self->state.service->answer({in.sender->role, in.sender->key_id, in.sender->tenant},
                                        std::get<msg::models_message>(in.env.body));
  deps.endpoint->send(in.peer, msg::reply_to(in.env, deps.self_name, std::move(reply)));
}

caf::behavior registry(self_ptr self, registry_deps deps) {
  self->state.deps = std::move(deps);
  self->state.service = std::make_unique<models::registry>(
      self->state.deps.store->models(), self->state.deps.store->artifacts(), security::unix_now_ms);
  return {
      [self](const actors::inbound& in) { on_request(self, in); },
      [self](actors::register_atom, const models::registration& r) {
        return self->state.service->register_version(r);
      },
  };
}

}  // namespace

caf::actor spawn_model_registry(caf::actor_system& system, registry_deps deps) {
  return system.spawn<caf::detached>(registry, std::move(deps));
}

}  // namespace troupe::model_registry
