#include "actors/store/store_actor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/atoms.hpp"

namespace troupe::actors {
namespace {

// Runs one store call; a failure comes back to the requester as an error value.
template <class Call>
caf::result<bool> attempt(Call call) {
  try {
    call();
    return true;
  } catch (const std::exception& e) {  // store_error, or anything unexpected
    return caf::make_error(caf::sec::runtime_error, e.what());
  }
}

caf::behavior store_actor(caf::event_based_actor*, std::shared_ptr<store::membership_store> db) {
  return {
      [db](store_atom, const store::node_record& record) {
        return attempt([&] { db->put_node(record); });
      },
      [db](store_atom, remove_atom, const std::string& node_id) {
        return attempt([&] { db->remove_node(node_id); });
      },
  };
}

}  // namespace

caf::actor spawn_store_actor(caf::actor_system& system,
                             std::shared_ptr<store::membership_store> store) {
  auto actor = system.spawn<caf::detached>(store_actor, std::move(store));
  actor->attach_functor([&system](const caf::error& reason) {
    if (reason && reason != caf::exit_reason::user_shutdown)
      spdlog::error("the store actor stopped: {}", system.render(reason));
  });
  return actor;
}

}  // namespace troupe::actors
