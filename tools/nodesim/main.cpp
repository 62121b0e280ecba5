// troupe-nodesim: many simulated nodes, each over its own real DEALER socket, registering
// with a head and heartbeating like trouped does. For measuring what one head holds.
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

#include "cluster/transport/request_client.hpp"
#include "messages/codec.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;

struct sim_node {
  zmq::socket_t socket;
  std::string id;
  std::string name;
  bool registered = false;
  uint64_t incarnation = 1;
  uint64_t sequence = 0;
  clock_type::time_point next_due;
};

std::string frame(const std::string& sender, msg::body body) {
  msg::envelope env;
  env.sender = sender;
  env.body = std::move(body);
  return msg::encode(env);
}

msg::register_node_request registration(const sim_node& n) {
  msg::register_node_request r;
  r.node_id = n.id;
  r.name = n.name;
  r.incarnation = n.incarnation;
  r.resources = {8, 16384, {}};
  r.labels = {{"simulated", "true"}};
  r.version = "nodesim";
  return r;
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
  std::vector<sim_node> sim(nodes);
  auto run_id = std::to_string(::getpid());
  for (int i = 0; i < nodes; ++i) {
    auto& n = sim[i];
    n.socket = zmq::socket_t(context, zmq::socket_type::dealer);
    n.socket.set(zmq::sockopt::linger, 0);
    n.socket.connect(head);
    char id[40];
    std::snprintf(id, sizeof id, "sim%08x%020d", static_cast<unsigned>(::getpid()), i);
    n.id = id;
    n.name = "sim-" + run_id + "-" + std::to_string(i);
  }

  // One schedule for everything: an unregistered node (re)sends its registration every
  // second, a registered one heartbeats every interval from the moment it is accepted.
  auto interval = std::chrono::milliseconds(interval_ms);
  auto start = clock_type::now();
  for (int i = 0; i < nodes; ++i) sim[i].next_due = start + interval * i / nodes;  // spread out
  size_t registered = 0;
  uint64_t rejected = 0;
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
        if (std::holds_alternative<msg::register_node_reply>(env->body) && !n.registered) {
          n.registered = true;
          n.next_due = now + interval;
          ++registered;
        } else if (auto* r = std::get_if<msg::heartbeat_rejected>(&env->body)) {
          ++rejected;
          if (n.registered) --registered;
          n.registered = false;
          n.incarnation = r->known_incarnation + 1;
          n.next_due = now;
        }
      }
    }
  };

  local::process_sample head_before{}, head_after{};
  uint64_t sent = 0, sent_at_start = 0;
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
      if (n.next_due <= now) {
        if (n.registered) {
          msg::heartbeat beat;
          beat.node_id = n.id;
          beat.incarnation = n.incarnation;
          beat.sequence = ++n.sequence;
          beat.free = {8, 16384, 0};
          if (n.socket.send(zmq::buffer(frame(n.id, beat)), zmq::send_flags::dontwait)) ++sent;
          n.next_due += interval;
        } else {
          (void)n.socket.send(zmq::buffer(frame(n.id, registration(n))), zmq::send_flags::dontwait);
          n.next_due = now + std::chrono::seconds(1);
        }
      }
      next_wake = std::min(next_wake, n.next_due);
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
