// troupe-test-rank: a task of a gang job that uses its rank link (cluster/training/rank_link),
// for the rank link tests (training_link_test.cpp). Exits 0 when what it checks held.
//   troupe-test-rank rendezvous         sets addr/RANK, gets every rank's, reports metrics
//   troupe-test-rank impersonate ID     speaks for attempt ID with its own key: must be refused
//   troupe-test-rank stranger           a key its node never made: must get no answer
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "cluster/security/credentials.hpp"
#include "cluster/security/rank_link.hpp"
#include "cluster/training/rank_link/rank_link.hpp"

using namespace troupe;
using training::rank_link;
using training::rank_link_error;

namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

int env_number(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : -1;
}

int rendezvous() {
  const int me = env_number("RANK"), world = env_number("WORLD_SIZE");
  training::rank_link_options options;
  options.steps_per_second = 0.01;  // steps 2 and 3 come well within the interval after step 1
  auto link = rank_link::from_environment(options);
  link.set("addr/" + std::to_string(me), bytes("rank " + std::to_string(me) + " here"));
  for (int r = 0; r < world; ++r)
    std::printf("rank %d got addr/%d: %s\n", me, r,
                text(link.get("addr/" + std::to_string(r), std::chrono::seconds(20))).c_str());
  for (uint64_t step = 1; step <= 3; ++step)
    link.report_step({1, step, 1.0 / static_cast<double>(step), 0.05, 1000.0 * me + step,
                      1'796'000'000'000 + static_cast<int64_t>(step)});
  msg::epoch_metric epoch;
  epoch.epoch = 1;
  epoch.train_loss = 0.5;
  epoch.val_loss = 0.625;
  epoch.val_accuracy = 0.75;
  epoch.at_ms = 1'796'000'000'100;
  link.report_epoch(epoch);
  return 0;
}

int expect_refusal(const std::function<void()>& attempt, msg::error_code expected) {
  try {
    attempt();
  } catch (const rank_link_error& e) {
    std::printf("refused: %s\n", e.what());
    return e.code == expected ? 0 : 1;
  }
  std::printf("not refused\n");
  return 1;
}

int impersonate(const std::string& other_attempt) {
  rank_link link(std::getenv(security::rank_link_variable), other_attempt);
  return expect_refusal([&] { link.set("addr/0", bytes("not mine")); },
                        msg::error_code::permission_denied);
}

int stranger() {
  auto own = security::load_credential(std::getenv(security::rank_link_variable));
  auto forged =
      security::new_credential(msg::key_role::rank, own.head_public_key, own.head_address);
  const std::string path = "stranger.credentials";  // in the task's own directory
  security::save_credential(path, forged);
  training::rank_link_options options;
  options.reply_slack = std::chrono::milliseconds(1000);
  rank_link link(path, std::getenv("TROUPE_ATTEMPT_ID"), options);
  std::remove(path.c_str());
  return expect_refusal([&] { link.get("addr/0", std::chrono::milliseconds(1000)); },
                        msg::error_code::timeout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "rendezvous") return rendezvous();
    if (mode == "impersonate" && argc > 2) return impersonate(argv[2]);
    if (mode == "stranger") return stranger();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-test-rank %s: %s\n", mode.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: troupe-test-rank rendezvous | impersonate ATTEMPT | stranger\n");
  return 2;
}
