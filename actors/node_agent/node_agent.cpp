#include "actors/node_agent/node_agent.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/node_agent/agent_protocol.hpp"
#include "cluster/host/resources.hpp"

namespace troupe::node_agent {
namespace {

using actors::inbound;

// The actor only carries agent_protocol's decisions out: sends, logs, exits, and one timer
// for the protocol's next due time.
struct node_agent_state {
  static inline const char* name = "node_agent";
  actors::wire_endpoint_ptr endpoint;
  std::function<void(int exit_code)> request_exit;
  std::optional<agent_protocol> protocol;
  std::optional<clock::time_point> timer_due;  // the earliest tick under way
  uint64_t timer = 0;                          // that tick's number; other ticks are stale
};

using self_ptr = caf::stateful_actor<node_agent_state>*;

void log(const log_line& line) {
  switch (line.level) {
    case log_line::level::info: spdlog::info("{}", line.text); break;
    case log_line::level::warning: spdlog::warn("{}", line.text); break;
    case log_line::level::error: spdlog::error("{}", line.text); break;
  }
}

void arm_timer(self_ptr self) {
  auto& st = self->state;
  auto due = st.protocol->next_due();
  if (!due || (st.timer_due && *st.timer_due <= *due)) return;
  st.timer_due = due;
  auto delay = std::max(*due - clock::now(), clock::duration::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(delay),
                     actors::tick_atom::value, ++st.timer);
}

void act(self_ptr self, agent_actions actions) {
  auto& st = self->state;
  for (const auto& line : actions.log) log(line);
  for (const auto& env : actions.send) st.endpoint->send({}, env);
  if (actions.exit_code) st.request_exit(*actions.exit_code);
  arm_timer(self);
}

void on_tick(self_ptr self) {
  self->state.timer_due.reset();
  act(self, self->state.protocol->on_tick(clock::now(), host::read_load()));
}

std::variant<uint64_t, std::string> take_incarnation(host::data_dir& data) {
  try {
    return data.next_incarnation();
  } catch (const host::identity_error& e) {
    return std::string(e.what());
  }
}

caf::behavior node_agent(self_ptr self, node_agent_deps deps) {
  auto& st = self->state;
  st.endpoint = std::move(deps.endpoint);
  st.request_exit = std::move(deps.request_exit);
  node_description node{deps.node_id,
                        deps.name,
                        std::move(deps.resources),
                        std::move(deps.labels),
                        std::move(deps.addresses),
                        TROUPE_VERSION};
  st.protocol.emplace(
      std::move(node), deps.incarnation, [data = deps.data] { return take_incarnation(*data); },
      deps.register_retry_ms, clock::now());
  on_tick(self);  // the first registration
  return {
      [self](const inbound& in) {
        act(self, self->state.protocol->on_message(in.env, in.received));
      },
      [self](actors::tick_atom, uint64_t timer) {
        if (timer == self->state.timer) on_tick(self);
      },
      [self](actors::shutdown_atom) {
        act(self, self->state.protocol->stop());
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_node_agent(caf::actor_system& system, node_agent_deps deps) {
  return system.spawn(node_agent, std::move(deps));
}

}  // namespace troupe::node_agent
