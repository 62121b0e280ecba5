// troupe-predict: one task of a `predict` job, started by its node (docs/jobs.md, "Fields of
// predict"; what it does: predict_task.hpp).
// Exit 0: scored (and, task 0, published the result). 1: failed (a bad row, a model that does not
// fit the dataset, the cluster refused); the job's retry takes over. 2: a bad environment. Each
// failure is one "troupe-predict: ..." line on stderr.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "cluster/jobs/kinds/predict/predict_kind.hpp"
#include "cluster/security/rank_link.hpp"
#include "cluster/training/rank_link/rank_link.hpp"
#include "nodes/environment_number.hpp"
#include "nodes/predict/predict_task.hpp"

using namespace troupe;

namespace {

constexpr int exit_failed = 1;
constexpr int exit_bad_environment = 2;

int fail(const std::string& why, int code) {
  std::fprintf(stderr, "troupe-predict: %s\n", why.c_str());
  return code;
}

std::variant<predict::task_environment, std::string> read_environment() {
  predict::task_environment env;
  const char* spec = std::getenv(jobs::predict_spec_variable);
  const char* job = std::getenv("TROUPE_JOB_ID");
  const char* attempt = std::getenv("TROUPE_ATTEMPT_ID");
  const char* link = std::getenv(security::rank_link_variable);
  if (!spec || !job || !attempt || !link)
    return std::string(jobs::predict_spec_variable) +
           ", TROUPE_JOB_ID, TROUPE_ATTEMPT_ID and the rank link are set only for a task of a "
           "predict job";
  try {
    env.spec = jobs::predict_spec_from_json(nlohmann::json::parse(spec));
  } catch (const std::exception& e) {
    return std::string(jobs::predict_spec_variable) + ": " + e.what();
  }
  env.job_id = job;
  env.attempt_id = attempt;
  env.link_path = link;
  const auto tasks = whole_number(std::getenv("TROUPE_TASK_COUNT"), 1, 1 << 16);
  if (!tasks) return std::string("TROUPE_TASK_COUNT: expected a whole number from 1");
  const auto task = whole_number(std::getenv("TROUPE_TASK_INDEX"), 0, *tasks - 1);
  if (!task) return std::string("TROUPE_TASK_INDEX: expected a whole number below the count");
  env.tasks = static_cast<uint32_t>(*tasks);
  env.task = static_cast<uint32_t>(*task);
  if (const char* threads = std::getenv("OMP_NUM_THREADS")) {
    const auto n = whole_number(threads, 1, 1024);
    if (!n) return std::string("OMP_NUM_THREADS: expected a whole number from 1 to 1024");
    env.threads = static_cast<int>(*n);
  }
  return env;
}

}  // namespace

int main() {
  auto env = read_environment();
  if (auto* why = std::get_if<std::string>(&env)) return fail(*why, exit_bad_environment);
  const auto& e = std::get<predict::task_environment>(env);
  try {
    const auto outcome = predict::run_task(e);
    std::printf(
        "task %u of %u scored %llu rows with version %u (waited %.1f s for its inputs, scored in "
        "%.1f s, "
        "published in %.1f s)\n",
        e.task, e.tasks, static_cast<unsigned long long>(outcome.rows), outcome.model_version,
        outcome.fetch_s, outcome.score_s, outcome.publish_s);
    return 0;
  } catch (const training::rank_link_error& x) {
    return fail(std::string("rank link (") + msg::to_string(x.code) + "): " + x.what(),
                exit_failed);
  } catch (const std::exception& x) {
    return fail(x.what(), exit_failed);
  }
}
