// troupe-nodesim: many simulated nodes, each over its own real DEALER socket, registering
// with a head and heartbeating by trouped's own protocol logic (node_agent::agent_protocol).
// For measuring what one head holds.
//
//   troupe-nodesim --head tcp://127.0.0.1:7400 --nodes 1000 --duration-s 30 [--head-pid PID]
//
// Prints the heartbeat rate achieved, and with --head-pid the head's CPU use and RSS over
// the steady part of the run; at the end asks the head how many simulated nodes are alive.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "actors/node_agent/agent_protocol.hpp"
#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;

constexpr uint32_t register_retry_ms = 1000;

struct sim_node {
  zmq::socket_t socket;
  node_agent::agent_protocol protocol;
};

// Simulated node `i` of this run; its first registration is due at `first_registration`.
node_agent::agent_protocol simulated(const std::string& run_id, int i,
                                     clock_type::time_point first_registration) {
  char id[40];
  std::snprintf(id, sizeof id, "sim%08x%020d", static_cast<unsigned>(::getpid()), i);
  node_agent::node_description node{id,
                                    "sim-" + run_id + "-" + std::to_string(i),
                                    {8, 16384, {}},
                                    {{"simulated", "true"}},
                                    {},
                                    "nodesim"};
  // A simulated node declared dead takes the next incarnation, kept in memory only.
  auto next_incarnation = [n = uint64_t{1}]() mutable -> std::variant<uint64_t, std::string> {
    return ++n;
  };
  return {std::move(node), 1, next_incarnation, register_retry_ms, first_registration};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-nodesim: simulated nodes against a real head"};
  std::string head;
  int nodes = 1000, duration_s = 30, interval_ms = 200, head_pid = 0;
  app.add_option("--head", head, "head address")->required();
  app.add_option("--nodes", nodes, "simulated nodes")->check(CLI::Range(1, 20000));
  app.add_option("--duration-s", duration_s, "seconds of steady heartbeating")
      ->check(CLI::PositiveNumber);
  app.add_option("--interval-ms", interval_ms, "heartbeat period")->check(CLI::PositiveNumber);
  app.add_option("--head-pid", head_pid, "the head's pid, to report its CPU and RSS");
  CLI11_PARSE(app, argc, argv);

  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);

  zmq::context_t context{1};
  context.set(zmq::ctxopt::max_sockets, nodes + 16);
  // Registrations spread over one interval; then each node follows the protocol: resends
  // an unanswered registration with backoff, heartbeats every interval once accepted.
  auto interval = std::chrono::milliseconds(interval_ms);
  auto start = clock_type::now();
  auto run_id = std::to_string(::getpid());
  std::vector<sim_node> sim;
  sim.reserve(nodes);
  for (int i = 0; i < nodes; ++i) {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(head);
    sim.push_back({std::move(socket), simulated(run_id, i, start + interval * i / nodes)});
  }
  size_t registered = 0;
  uint64_t rejected = 0, sent = 0;
  auto carry_out = [&](sim_node& n, const node_agent::agent_actions& actions) {
    for (const auto& env : actions.send) {
      bool beat = std::holds_alternative<msg::heartbeat>(env.body);
      if (n.socket.send(zmq::buffer(msg::encode(env)), zmq::send_flags::dontwait) && beat) ++sent;
    }
  };
  std::vector<zmq::pollitem_t> items;
  for (auto& n : sim) items.push_back({n.socket.handle(), 0, ZMQ_POLLIN, 0});
  auto read_replies = [&](std::chrono::milliseconds wait) {
    zmq::poll(items.data(), items.size(), wait);
    auto now = clock_type::now();
    for (size_t i = 0; i < sim.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::message_t reply;
      while (sim[i].socket.recv(reply, zmq::recv_flags::dontwait)) {
        auto decoded = msg::decode(reply.data(), reply.size());
        auto* env = std::get_if<msg::envelope>(&decoded);
        if (!env) continue;
        auto& n = sim[i];
        if (std::holds_alternative<msg::heartbeat_rejected>(env->body)) ++rejected;
        // Simulated nodes heartbeat every --interval-ms, whatever the head asks for.
        if (auto* accepted = std::get_if<msg::register_node_reply>(&env->body))
          accepted->heartbeat_interval_ms = static_cast<uint32_t>(interval_ms);
        bool was_registered = n.protocol.registered();
        carry_out(n, n.protocol.on_message(*env, now));
        registered += n.protocol.registered();
        registered -= was_registered;
      }
    }
  };

  local::process_sample head_before{}, head_after{};
  uint64_t sent_at_start = 0;
  clock_type::time_point measure_from{}, end = clock_type::time_point::max();
  double registered_in = 0;
  while (clock_type::now() < end) {
    auto now = clock_type::now();
    if (measure_from == clock_type::time_point{} && registered == sim.size()) {
      registered_in = std::chrono::duration<double>(now - start).count();
      std::printf("registered %zu/%d simulated nodes in %.2f s\n", registered, nodes,
                  registered_in);
      measure_from = now + std::chrono::seconds(1);  // settle for a second before measuring
      end = measure_from + std::chrono::seconds(duration_s);
    }
    if (measure_from != clock_type::time_point{} && now >= measure_from && sent_at_start == 0) {
      sent_at_start = sent;
      if (head_pid) head_before = local::sample_process(head_pid);
    }
    if (now - start > std::chrono::seconds(60) && registered < sim.size()) {
      std::printf("only %zu/%d nodes registered within 60 s\n", registered, nodes);
      return 1;
    }
    auto next_wake = now + interval;
    for (auto& n : sim) {
      auto due = n.protocol.next_due();
      if (due && *due <= now) {
        carry_out(n, n.protocol.on_tick(now, {}));
        due = n.protocol.next_due();
      }
      if (due) next_wake = std::min(next_wake, *due);
    }
    auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_wake - clock_type::now());
    read_replies(std::max(wait, std::chrono::milliseconds(0)));
  }
  if (head_pid) head_after = local::sample_process(head_pid);
  double rate = static_cast<double>(sent - sent_at_start) / duration_s;
  std::printf("heartbeats sent: %.0f /s over %d s (%d nodes every %d ms); %lu rejected\n", rate,
              duration_s, nodes, interval_ms, static_cast<unsigned long>(rejected));
  if (head_pid) {
    double cpu = (head_after.cpu_seconds - head_before.cpu_seconds) / duration_s;
    std::printf("head cpu: %.1f%% of one core; head rss: %.1f MiB\n", cpu * 100,
                head_after.rss_kb / 1024.0);
  }

  transport::request_client client(head, "nodesim");
  auto reply = client.call(msg::node_list_request{}, std::chrono::seconds(10));
  size_t alive = 0, other = 0;
  if (reply)
    if (auto* list = std::get_if<msg::node_list_reply>(&reply->body))
      for (const auto& n : list->nodes)
        if (n.name.rfind("sim-" + run_id + "-", 0) == 0)
          (n.state == msg::node_state::alive ? alive : other) += 1;
  std::printf("simulated nodes alive at the head: %zu/%d (%zu in another state)\n", alive, nodes,
              other);
  // A rejection means the head declared a simulated node dead (or forgot it) during the run.
  return alive == static_cast<size_t>(nodes) && rejected == 0 ? 0 : 1;
}
