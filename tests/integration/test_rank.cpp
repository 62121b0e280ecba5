// troupe-test-rank: a task of a gang job that uses its rank link (cluster/training/rank_link),
// for the rank link tests (training_link_test.cpp, training_artifacts_test.cpp). Exits 0 when
// what it checks held.
//   troupe-test-rank rendezvous         sets addr/RANK, gets every rank's, reports metrics
//   troupe-test-rank impersonate ID     speaks for attempt ID with its own key: must be refused
//   troupe-test-rank stranger           a key its node never made: must get no answer
//   troupe-test-rank fetch NAME         fetches NAME twice, prints each copy's path and inode
//   troupe-test-rank checkpoints        (rank 0) publishes two versions of JOB/checkpoint, the
//                                       second from another thread, and fetches them back
//                                       (whole and as byte ranges)
//   troupe-test-rank refusals           (rank 0) fetches and publishes what it may not
//   troupe-test-rank register           (rank 0) registers a model: refused outside train jobs
//   troupe-test-rank assemble [OTHER]   (rank 0) publishes parts and assembles them into
//                                       JOB/scores, after assemblies it may not make (OTHER:
//                                       a dataset of another job)
//   troupe-test-rank transfer-limits DIR  (rank 0) fetches once, writes DIR/ready, waits for
//                                       DIR/head-stopped, then makes 20 fetches at once and
//                                       writes how they were answered to DIR/done
// Run as `troupe-rank` (a rank of a train job), it publishes four versions of JOB/checkpoint
// ("checkpoint at step 1" ... 4) and JOB/model and registers it (rank 0), or tries to register
// (rank 1).
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

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

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes `bytes` to `path` in the working directory; returns `path`.
std::string write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string job_id() { return std::getenv("TROUPE_JOB_ID"); }

int fetch(const std::string& name) {
  auto link = rank_link::from_environment();
  for (int i = 1; i <= 2; ++i) {
    const auto got = link.fetch_artifact(name);
    struct stat st {};
    if (::stat(got.path.c_str(), &st) != 0) return 1;
    std::printf("fetch %d: %s inode %llu sha256 %s\n", i, got.path.c_str(),
                static_cast<unsigned long long>(st.st_ino), got.artifact.digest.c_str());
  }
  return 0;
}

// Whether the copy the node fetched for (name, digest) holds `bytes`.
bool fetches_as(rank_link& link, const std::string& name, const std::string& digest,
                const std::string& bytes) {
  const auto got = link.fetch_artifact(name, digest);
  const bool same = read_file(got.path) == bytes;
  std::printf("fetched %s@%s: %s\n", name.c_str(), got.artifact.digest.substr(0, 12).c_str(),
              same ? "the bytes published" : "other bytes");
  return same;
}

// Whether bytes [offset, offset + length) of the version (name, digest), cut at its end, are
// `bytes`.
bool range_fetches_as(rank_link& link, const std::string& name, const std::string& digest,
                      uint64_t offset, uint64_t length, const std::string& bytes) {
  const auto got = link.fetch_artifact_range(name, digest, offset, length);
  const bool same = read_file(got.path) == bytes;
  std::printf("fetched bytes %llu+%llu of %s@%s: %s\n", static_cast<unsigned long long>(offset),
              static_cast<unsigned long long>(length), name.c_str(),
              got.artifact.digest.substr(0, 12).c_str(), same ? "those published" : "other bytes");
  return same;
}

int checkpoints() {
  if (env_number("RANK") != 0) return 0;
  auto link = rank_link::from_environment();
  const auto name = job_id() + "/checkpoint";
  const std::string first = "checkpoint at step 500", second = "checkpoint at step 1000";
  const auto v1 = link.publish_artifact(write_file("step-500.ckpt", first), name,
                                        msg::artifact_kind::checkpoint);
  // A second link in another thread of the same process, as a background uploader has.
  msg::artifact_info v2;
  std::string failed;
  std::thread uploader([&] {
    try {
      auto own = rank_link::from_environment();
      v2 = own.publish_artifact(write_file("step-1000.ckpt", second), name,
                                msg::artifact_kind::checkpoint);
    } catch (const std::exception& e) {
      failed = e.what();
    }
  });
  uploader.join();
  if (!failed.empty()) {
    std::printf("the second link failed: %s\n", failed.c_str());
    return 1;
  }
  std::printf("published %s and %s as %s (job %s)\n", v1.digest.c_str(), v2.digest.c_str(),
              v1.name.c_str(), v1.job_id.c_str());
  const bool ok = fetches_as(link, name, "", second) && fetches_as(link, "", v1.digest, first) &&
                  fetches_as(link, name, v1.digest, first) &&
                  range_fetches_as(link, name, v1.digest, 14, 100, "step 500") &&
                  range_fetches_as(link, name, "", 0, 10, "checkpoint") && v1.job_id == job_id() &&
                  v1.kind == msg::artifact_kind::checkpoint;
  return ok ? 0 : 1;
}

int refusals() {
  if (env_number("RANK") != 0) return 0;
  auto link = rank_link::from_environment();
  const auto own = job_id() + "/checkpoint";
  write_file("data.csv", "a,b\n1,2\n");
  ::symlink("/etc/passwd", "escape");
  auto publish = [&](const std::string& path, const std::string& name, msg::artifact_kind kind) {
    return [&link, path, name, kind] { link.publish_artifact(path, name, kind); };
  };
  const auto checkpoint = msg::artifact_kind::checkpoint;
  const std::vector<std::tuple<const char*, std::function<void()>, msg::error_code>> cases{
      {"a file outside the working dir", publish("/etc/passwd", own, checkpoint),
       msg::error_code::permission_denied},
      {"a symlink out of the working dir", publish("escape", own, checkpoint),
       msg::error_code::permission_denied},
      {"a name of another job", publish("data.csv", "j0000000000000000/checkpoint", checkpoint),
       msg::error_code::permission_denied},
      {"a file that is not there", publish("nothing.ckpt", own, checkpoint),
       msg::error_code::not_found},
      {"another attempt's id",
       [] {
         rank_link other(std::getenv(security::rank_link_variable), job_id() + ".1.1");
         other.fetch_artifact("txn-train");
       },
       msg::error_code::permission_denied},
      {"a name no artifact has", [&] { link.fetch_artifact("no-such-dataset"); },
       msg::error_code::not_found},
      {"another tenant's dataset by name", [&] { link.fetch_artifact("other-tenants"); },
       msg::error_code::not_found},
      {"a range past the end", [&] { link.fetch_artifact_range("txn-train", "", 9, 1); },
       msg::error_code::invalid_request},
      {"an offset without a length", [&] { link.fetch_artifact_range("txn-train", "", 2, 0); },
       msg::error_code::invalid_request},
  };
  int failures = 0;
  for (const auto& [what, attempt, expected] : cases) {
    std::printf("%s: ", what);
    failures += expect_refusal(attempt, expected);
  }
  return failures == 0 ? 0 : 1;
}

// As a rank of a train job: rank 0 publishes four checkpoints and its model and registers it
// twice (the same version both times), and a checkpoint's digest is refused; rank 1 may not
// register.
int train_rank() {
  auto link = rank_link::from_environment();
  training::model_registration model{
      "",        R"({"val_loss":0.25})", R"({"val_loss":0.2})", "sha256:" + std::string(64, 'f'), 8,
      {"a", "b"}};
  if (env_number("RANK") != 0) {
    model.artifact_digest = std::string(64, 'a');
    std::printf("rank 1 registering: ");
    return expect_refusal([&] { link.register_model(model); }, msg::error_code::permission_denied);
  }
  msg::artifact_info ckpt;
  for (int step = 1; step <= 4; ++step) {
    const auto bytes = "checkpoint at step " + std::to_string(step);
    ckpt = link.publish_artifact(write_file("step-" + std::to_string(step) + ".ckpt", bytes),
                                 job_id() + "/checkpoint", msg::artifact_kind::checkpoint);
    std::printf("checkpoint %d: %s\n", step, ckpt.digest.c_str());
  }
  model.artifact_digest = ckpt.digest;
  std::printf("registering a checkpoint: ");
  if (expect_refusal([&] { link.register_model(model); }, msg::error_code::not_found) != 0)
    return 1;
  model.artifact_digest = link.publish_artifact(write_file("model.pt", "a scripted model"),
                                                job_id() + "/model", msg::artifact_kind::model)
                              .digest;
  for (int i = 1; i <= 2; ++i) {
    const auto got = link.register_model(model);
    std::printf("registration %d: %s version %u\n", i, got.name.c_str(), got.version);
  }
  return 0;
}

int register_outside_train() {
  if (env_number("RANK") != 0) return 0;
  auto link = rank_link::from_environment();
  const auto digest = link.publish_artifact(write_file("model.pt", "a scripted model"),
                                            job_id() + "/model", msg::artifact_kind::model)
                          .digest;
  return expect_refusal(
      [&] {
        link.register_model({digest, "{}", "{}", "", 0, {}});
      },
      msg::error_code::permission_denied);
}

// Publishes JOB/part-0 and two versions of JOB/part-1, is refused assemblies with a header
// that differs, a dataset of no job (txn-train), another tenant's (other-tenants), another job's
// (`other`, when given) and another attempt's id, then assembles the parts into JOB/scores.
// Prints each part's digest and the result's.
int assemble(const std::string& other) {
  if (env_number("RANK") != 0) return 0;
  auto link = rank_link::from_environment();
  const auto dataset = msg::artifact_kind::dataset;
  auto publish = [&](const std::string& file, const std::string& bytes, const std::string& name) {
    const auto got = link.publish_artifact(write_file(file, bytes), job_id() + "/" + name, dataset);
    std::printf("%s: %s\n", file.c_str(), got.digest.c_str());
    return got;
  };
  const auto part0 = publish("part-0", "id,score\n1,10\n2,20\n", "part-0");
  publish("part-1.earlier", "id,score\n9,90\n", "part-1");
  const auto part1 = publish("part-1", "id,score\n3,30\n", "part-1");
  publish("other-header", "id,other\n4,40\n", "other-header");
  const auto scores = job_id() + "/scores";
  auto assembly = [&](const std::string& second) {
    return [&link, &part0, scores, second] {
      link.assemble_dataset(scores, {{part0.name, part0.digest}, {second, ""}});
    };
  };
  std::vector<std::tuple<const char*, std::function<void()>, msg::error_code>> cases{
      {"a header that differs", assembly(job_id() + "/other-header"),
       msg::error_code::invalid_request},
      {"a dataset of no job", assembly("txn-train"), msg::error_code::permission_denied},
      {"another tenant's dataset", assembly("other-tenants"), msg::error_code::not_found},
      {"another attempt's id",
       [&] {
         rank_link impostor(std::getenv(security::rank_link_variable), job_id() + ".1.1");
         impostor.assemble_dataset(scores, {{part0.name, part0.digest}});
       },
       msg::error_code::permission_denied},
  };
  if (!other.empty())
    cases.emplace_back("another job's dataset", assembly(other),
                       msg::error_code::permission_denied);
  int failures = 0;
  for (const auto& [what, attempt, expected] : cases) {
    std::printf("%s: ", what);
    failures += expect_refusal(attempt, expected);
  }
  const auto got = link.assemble_dataset(scores, {{part0.name, ""}, {part1.name, part1.digest}});
  std::printf("assembled %s of job %s, sha256 %s\n", got.name.c_str(), got.job_id.c_str(),
              got.digest.c_str());
  return failures == 0 && got.job_id == job_id() ? 0 : 1;
}

bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// With the head stopped, more fetches at once than the node queues, each for at most 3 s. A
// timeout counts only as the node's answer; this link giving up on the node is `other`.
int transfer_limits(const std::string& dir) {
  if (env_number("RANK") != 0) return 0;
  rank_link::from_environment().fetch_artifact("txn-train");  // while the head answers
  write_file(dir + "/ready", "");
  if (!wait_for_file(dir + "/head-stopped", std::chrono::seconds(60))) return 1;
  training::rank_link_options options;
  options.transfer_timeout = std::chrono::milliseconds(3000);
  std::atomic<int> fetched{0}, overloaded{0}, timed_out{0}, other{0};
  std::vector<std::thread> fetches;
  for (int i = 0; i < 20; ++i)
    fetches.emplace_back([&] {
      try {
        rank_link::from_environment(options).fetch_artifact("txn-train");
        ++fetched;
      } catch (const rank_link_error& e) {
        const bool node_answered =
            std::string(e.what()).rfind("no answer from the node's rank link", 0) != 0;
        if (e.code == msg::error_code::overloaded)
          ++overloaded;
        else if (e.code == msg::error_code::timeout && node_answered)
          ++timed_out;
        else
          ++other;
      }
    });
  for (auto& f : fetches) f.join();
  const auto answers = "fetched " + std::to_string(fetched) + ", overloaded " +
                       std::to_string(overloaded) + ", timeout " + std::to_string(timed_out) +
                       ", other " + std::to_string(other);
  std::printf("20 fetches with the head stopped: %s\n", answers.c_str());
  write_file(dir + "/done", answers);
  return 0;
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
  const bool as_train_rank = std::filesystem::path(argv[0]).filename() == "troupe-rank";
  const std::string mode = as_train_rank ? "train" : argc > 1 ? argv[1] : "";
  try {
    if (mode == "rendezvous") return rendezvous();
    if (mode == "impersonate" && argc > 2) return impersonate(argv[2]);
    if (mode == "stranger") return stranger();
    if (mode == "fetch" && argc > 2) return fetch(argv[2]);
    if (mode == "checkpoints") return checkpoints();
    if (mode == "refusals") return refusals();
    if (mode == "train") return train_rank();
    if (mode == "register") return register_outside_train();
    if (mode == "assemble") return assemble(argc > 2 ? argv[2] : "");
    if (mode == "transfer-limits" && argc > 2) return transfer_limits(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-test-rank %s: %s\n", mode.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: troupe-test-rank rendezvous | impersonate ATTEMPT | stranger | fetch NAME | "
               "checkpoints | refusals | register | assemble [OTHER] | transfer-limits DIR\n");
  return 2;
}
