// troupe-replica: one replica of a `serve` job, started by its node as the job's task
// (docs/jobs.md, "Fields of serve"). Every second it asks the head, through its node, which
// versions its service serves now (ResolveServiceRequest); a version it does not serve yet it
// fetches through its node's artifact cache, loads beside the ones it serves and reports
// (ReplicaReport). A version that fails to load is reported with why, and the ones it served
// go on serving. A version no longer named is dropped once every named version is loaded and
// reported (the head routes to the new ones from then on). The head sends its predictions to the
// replica's own socket (prediction_socket.hpp), which every report names; its thread runs them
// too, joined into passes by one dynamic batcher per version, after each read of the socket.
// Exit 0: stopped by a signal. 1: its prediction socket's ZAP handler failed. 2: a bad
// environment. Each failure is one "troupe-replica: ..."
// line on stderr.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <shared_mutex>
#include <thread>

#include "cluster/inference/dynamic_batcher.hpp"
#include "cluster/inference/serve_spec.hpp"
#include "cluster/security/rank_link.hpp"
#include "cluster/training/rank_link/rank_link.hpp"
#include "nodes/replica/pass_counts.hpp"
#include "nodes/replica/prediction_socket.hpp"
#include "nodes/replica/replica_connection.hpp"
#include "nodes/replica/torch_model.hpp"

using namespace troupe;

namespace {

constexpr int exit_failed = 1;
constexpr int exit_bad_environment = 2;
constexpr auto poll_interval = std::chrono::seconds(1);
constexpr auto call_timeout = std::chrono::seconds(15);

std::atomic<bool> stop_signalled{false};

extern "C" void on_stop_signal(int) { stop_signalled = true; }

int fail(const std::string& why, int code) {
  std::fprintf(stderr, "troupe-replica: %s\n", why.c_str());
  return code;
}

struct loaded_version {
  std::string model_name;
  std::string digest;
  inference::model_signature signature;
  std::shared_ptr<inference::dynamic_batcher> batcher;  // null: it failed to load
  std::shared_ptr<replica::pass_counts> passes = std::make_shared<replica::pass_counts>();
  std::string problem;
};

class replica_process {
 public:
  replica_process(inference::serve_spec spec, std::string attempt_id,
                  const security::credential& link, const std::string& link_path,
                  const std::string& head_public_key, std::optional<config::port_range> ports)
      : spec_(std::move(spec)),
        attempt_id_(std::move(attempt_id)),
        artifacts_(link_path, attempt_id_),
        connection_(link, "replica " + attempt_id_, [this] { resolve_now_ = true; }),
        predictions_(
            head_public_key, "replica " + attempt_id_,
            [this](const std::string& peer, msg::envelope env) { predict(peer, std::move(env)); },
            [this] { run_requests(); },
            [](const std::string& why) {
              std::fprintf(stderr, "troupe-replica: %s; stopping\n", why.c_str());
              std::_Exit(exit_failed);
            },
            ports) {
    std::printf("prediction socket at %s\n", predictions_.endpoint().c_str());
    std::fflush(stdout);
  }

  // Whether the head asked for a resolution before the next poll (a reload); clears it.
  bool resolve_now() { return resolve_now_.exchange(false); }

  // One round: resolve, load what is new, report, drop what is no longer named.
  void poll() {
    auto answer = connection_.call(
        msg::inference_message{msg::resolve_service_request{attempt_id_}}, call_timeout);
    if (!answer) return;
    if (const auto* e = std::get_if<msg::error>(&answer->body)) {
      std::fprintf(stderr, "troupe-replica: resolve (%s): %s\n", msg::to_string(e->code),
                   e->message.c_str());
      return;
    }
    const auto* m = std::get_if<msg::inference_message>(&answer->body);
    const auto* resolved = m ? std::get_if<msg::resolve_service_reply>(&m->body) : nullptr;
    if (!resolved) return;
    bool all_loaded = true;
    for (const auto& v : resolved->versions) {
      load(resolved->model_name, v);
      all_loaded = all_loaded && ready(v.version);
    }
    auto named = [&](uint32_t version) {
      for (const auto& v : resolved->versions)
        if (v.version == version) return true;
      return false;
    };
    std::vector<uint32_t> unnamed;
    for (const auto& [version, v] : snapshot())
      if (!named(version)) unnamed.push_back(version);
    // Reported without them first, dropped a round later: the head has stopped routing to them.
    for (auto version : dropping_) drop(version);
    dropping_.clear();
    if (all_loaded) dropping_ = unnamed;
    report();
  }

 private:
  bool ready(uint32_t version) {
    std::shared_lock lock(mutex_);
    auto it = versions_.find(version);
    return it != versions_.end() && it->second.batcher;
  }

  std::map<uint32_t, loaded_version> snapshot() {
    std::shared_lock lock(mutex_);
    return versions_;
  }

  void load(const std::string& model_name, const msg::version_to_load& v) {
    {
      std::shared_lock lock(mutex_);
      auto it = versions_.find(v.version);
      if (it != versions_.end() && it->second.digest == v.artifact_digest) return;
    }
    loaded_version out;
    out.model_name = model_name;
    out.digest = v.artifact_digest;
    out.signature = v.signature;
    try {
      const auto copy = artifacts_.fetch_artifact("", v.artifact_digest);
      out.batcher = std::make_shared<inference::dynamic_batcher>(
          spec_.batching, v.signature.input_features,
          replica::counted(replica::load_torchscript(copy.path, v.signature, spec_.device),
                           out.passes));
      std::printf("loaded %s version %u\n", model_name.c_str(), v.version);
    } catch (const std::exception& e) {
      out.problem = e.what();
      std::fprintf(stderr, "troupe-replica: version %u: %s\n", v.version, e.what());
    }
    std::fflush(stdout);
    std::unique_lock lock(mutex_);
    versions_[v.version] = std::move(out);
  }

  void drop(uint32_t version) {
    std::shared_ptr<inference::dynamic_batcher> batcher;  // stopped outside the lock
    std::unique_lock lock(mutex_);
    auto it = versions_.find(version);
    if (it == versions_.end()) return;
    batcher = std::move(it->second.batcher);
    versions_.erase(it);
  }

  void report() {
    msg::replica_report r{attempt_id_, {}, predictions_.endpoint(), predictions_.public_key()};
    for (const auto& [version, v] : snapshot()) {
      if (std::find(dropping_.begin(), dropping_.end(), version) != dropping_.end()) continue;
      msg::loaded_version loaded;
      loaded.version = version;
      loaded.problem = v.problem;
      if (v.batcher) {
        loaded.queue_depth = static_cast<uint32_t>(v.batcher->waiting());
        v.passes->fill(loaded);
      }
      r.versions.push_back(std::move(loaded));
    }
    connection_.call(msg::inference_message{std::move(r)}, call_timeout);
  }

  // On the prediction socket's thread: queues the rows in the version's batcher, which runs them
  // once the socket's read is over (run_requests).
  void predict(const std::string& peer, msg::envelope env) {
    auto& r = std::get<msg::predict_request>(std::get<msg::inference_message>(env.body).body);
    std::shared_ptr<inference::dynamic_batcher> batcher;
    std::string model_name;
    {
      std::shared_lock lock(mutex_);
      auto it = versions_.find(r.version);
      if (it != versions_.end()) {
        batcher = it->second.batcher;
        model_name = it->second.model_name;
      }
    }
    auto refuse = [&](msg::error_code code, std::string why) {
      predictions_.answer(peer, env, msg::error{code, std::move(why)});
    };
    if (!r.replica.empty() && r.replica != attempt_id_)
      return refuse(msg::error_code::unavailable, "this is replica " + attempt_id_);
    if (!batcher)
      return refuse(msg::error_code::unavailable,
                    "this replica does not serve version " + std::to_string(r.version));
    if (r.feature_count != batcher->feature_count() || r.features.empty() ||
        r.features.size() % r.feature_count != 0)
      return refuse(msg::error_code::invalid_request,
                    "expected rows of " + std::to_string(batcher->feature_count()) + " features");
    const auto rows = static_cast<uint32_t>(r.features.size() / r.feature_count);
    // The answer needs only the request's id; the features move on to the batcher.
    msg::envelope asked;
    asked.request_id = env.request_id;
    batcher->submit(
        std::move(r.features), rows,
        [this, peer, asked, model_name, version = r.version, rows](inference::forward_output out) {
          if (!out.error.empty())
            return predictions_.answer(peer, asked,
                                       msg::error{msg::error_code::internal, std::move(out.error)});
          predictions_.answer(
              peer, asked,
              msg::inference_message{msg::predict_reply{model_name, version, rows, out.output_count,
                                                        std::move(out.outputs)}});
        });
    if (std::find(asked_.begin(), asked_.end(), batcher) == asked_.end())
      asked_.push_back(std::move(batcher));
  }

  // On the prediction socket's thread, after a read: runs the requests it queued, joined into
  // passes by version, and answers them.
  void run_requests() {
    for (auto& batcher : asked_) batcher->run_waiting();
    asked_.clear();
  }

  inference::serve_spec spec_;
  std::string attempt_id_;
  training::rank_link artifacts_;  // fetches through the node's artifact cache
  std::shared_mutex mutex_;
  std::map<uint32_t, loaded_version> versions_;
  std::vector<uint32_t> dropping_;  // reported without them; dropped at the next round
  std::atomic<bool> resolve_now_{false};
  // The batchers the prediction socket's current read queued requests in (its thread only); held
  // until they ran, even if their version is dropped meanwhile.
  std::vector<std::shared_ptr<inference::dynamic_batcher>> asked_;
  replica::replica_connection connection_;
  replica::prediction_socket predictions_;  // last: its thread calls predict() once made
};

}  // namespace

int main() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  const char* spec_text = std::getenv("TROUPE_SERVE_SPEC");
  const char* attempt = std::getenv("TROUPE_ATTEMPT_ID");
  const char* link_path = std::getenv(security::rank_link_variable);
  const char* head_key = std::getenv(security::head_public_key_variable);
  if (!spec_text || !attempt || !link_path || !head_key)
    return fail(std::string("TROUPE_SERVE_SPEC, TROUPE_ATTEMPT_ID, ") +
                    security::head_public_key_variable +
                    " and the rank link are set only for a task of a serve job",
                exit_bad_environment);
  if (!security::is_z85_key(head_key))
    return fail(std::string(security::head_public_key_variable) + ": not a Z85 public key",
                exit_bad_environment);
  std::optional<config::port_range> ports;
  if (const char* range = std::getenv(config::serve_ports_variable)) {
    ports = config::parse_port_range(range);
    if (!ports)
      return fail(
          std::string(config::serve_ports_variable) + ": expected " + config::port_range_rule,
          exit_bad_environment);
  }
  try {
    const auto spec = inference::serve_spec_from_json(nlohmann::json::parse(spec_text));
    const char* threads = std::getenv("OMP_NUM_THREADS");
    replica::set_torch_threads(threads ? std::atoi(threads) : 1);
    replica_process r(spec, attempt, security::load_credential(link_path), link_path, head_key,
                      ports);
    while (!stop_signalled) {
      r.poll();
      for (auto waited = std::chrono::milliseconds(0);
           waited < poll_interval && !stop_signalled && !r.resolve_now();
           waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (const std::exception& e) {
    return fail(e.what(), exit_bad_environment);
  }
  return 0;
}
