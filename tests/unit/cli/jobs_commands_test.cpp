// The job commands against a scripted head: what they send, what they print, how they exit.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/cli/scripted_head.hpp"
#include "tools/cli/commands/jobs.hpp"
#include "tools/cli/commands/train_progress.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using testing::scripted_head;
using testing::session_with;

namespace {

msg::body in_jobs(msg::jobs_message m) { return msg::body{std::move(m)}; }

struct spec_file {
  std::string path =
      (std::filesystem::temp_directory_path() / ("troupe-spec-" + std::to_string(::getpid())))
          .string();
  spec_file() { std::ofstream(path) << "name: hello\nkind: command\nargv: [\"true\"]\n"; }
  ~spec_file() { std::filesystem::remove(path); }
};

msg::get_job_reply finished_job(const std::string& state, std::optional<int32_t> exit_code,
                                std::optional<int32_t> signal) {
  msg::get_job_reply r;
  r.job.job_id = "j0123456789abcdef";
  r.job.name = "hello";
  r.job.state = state;
  r.job.exit_code = exit_code;
  r.job.submitted_at_ms = 1'796'000'000'000;
  r.job.started_at_ms = 1'796'000'000'100;
  r.job.finished_at_ms = 1'796'000'000'900;
  msg::attempt_info a;
  a.attempt_id = "j0123456789abcdef.0.1";
  a.node_name = "worker-1";
  a.state = state == "SUCCEEDED" ? "SUCCEEDED" : "FAILED";
  a.exit_code = exit_code;
  a.signal = signal;
  r.attempts = {a};
  return r;
}

msg::get_job_reply train_job(const std::string& state) {
  msg::get_job_reply r;
  r.job.job_id = "j0123456789abcdef";
  r.job.name = "mlp";
  r.job.kind = "train";
  r.job.state = state;
  r.spec = R"({"kind": "train", "epochs": 2})";
  return r;
}

msg::metric_entry step(uint64_t seq, const std::string& task, uint32_t epoch, uint64_t step,
                       double loss, int64_t at_ms) {
  return {seq, "j0123456789abcdef." + task, msg::step_metric{epoch, step, loss, 0.05, 1000, at_ms}};
}

msg::metric_entry epoch_end(uint64_t seq, const std::string& task, uint32_t epoch, double loss) {
  return {seq, "j0123456789abcdef." + task,
          msg::epoch_metric{epoch, loss, std::nullopt, std::nullopt, std::nullopt, 0}};
}

msg::body in_training(msg::job_metrics_reply r) {
  return msg::body{msg::training_message{std::move(r)}};
}

// A train job seen running once, then succeeded: the replies to `troupe submit --wait`.
std::vector<msg::body> a_train_job_that_runs_then_succeeds() {
  return {in_jobs({train_job("RUNNING")}),
          in_training({{step(1, "0.1", 1, 10, 0.9, 1000), step(2, "1.1", 1, 10, 5.0, 1000),
                        step(3, "0.1", 1, 20, 0.7, 2000), epoch_end(4, "0.1", 1, 0.8),
                        step(5, "0.1", 2, 30, 0.6, 3000)},
                       5,
                       "RUNNING"}),
          in_training({{}, 5, "RUNNING"}), in_jobs({train_job("SUCCEEDED")}),
          in_training({{}, 5, "SUCCEEDED"})};
}

const msg::submit_job_request& submitted(const msg::body& b) {
  return std::get<msg::submit_job_request>(std::get<msg::jobs_message>(b).body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jobs_commands)

BOOST_AUTO_TEST_CASE(submit_sends_the_spec_and_returns_the_job_id) {
  spec_file file;
  scripted_head head({in_jobs({msg::submit_job_reply{"j0123456789abcdef", false}})});
  auto id = cli::submit_job(session_with(head), file.path);
  BOOST_TEST_REQUIRE(bool(id));
  BOOST_TEST(*id == "j0123456789abcdef");
  BOOST_TEST_REQUIRE(head.requests().size() == 1u);
  BOOST_TEST(submitted(head.requests()[0]).spec.find("name: hello") == 0u);
  BOOST_TEST(!submitted(head.requests()[0]).client_request_id.empty());
  BOOST_TEST(cli::submitted_text(session_with(head, true), *id) ==
             "{\n  \"id\": \"j0123456789abcdef\"\n}\n");
}

BOOST_AUTO_TEST_CASE(a_submit_whose_reply_is_lost_is_retried_with_the_same_client_request_id) {
  spec_file file;
  scripted_head head({in_jobs({msg::submit_job_reply{"j0123456789abcdef", true}})}, 1);
  auto id = cli::submit_job(session_with(head, false, 300ms), file.path);
  BOOST_TEST_REQUIRE(bool(id));
  BOOST_TEST(*id == "j0123456789abcdef");
  const auto requests = head.requests();
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(submitted(requests[0]).client_request_id == submitted(requests[1]).client_request_id);
}

BOOST_AUTO_TEST_CASE(a_missing_spec_file_is_a_usage_error) {
  scripted_head head({});
  auto id = cli::submit_job(session_with(head), "/nonexistent/spec.yaml");
  BOOST_TEST_REQUIRE(!id);
  BOOST_TEST(static_cast<int>(id.error().exit_code) == 2);
  BOOST_TEST(head.requests().empty());
}

BOOST_AUTO_TEST_CASE(waiting_exits_with_the_jobs_exit_code_or_128_plus_its_signal) {
  const std::vector<std::pair<msg::get_job_reply, int>> cases{
      {finished_job("SUCCEEDED", 0, std::nullopt), 0},
      {finished_job("FAILED", 3, std::nullopt), 3},
      {finished_job("FAILED", std::nullopt, 9), 137},
      {finished_job("CANCELLED", std::nullopt, std::nullopt), 1}};
  for (const auto& [reply, code] : cases) {
    scripted_head head({in_jobs({reply})});
    std::ostringstream out;
    auto exit = cli::wait_for_job(session_with(head), reply.job.job_id, out, false);
    BOOST_TEST_REQUIRE(bool(exit));
    BOOST_TEST(*exit == code, reply.job.state);
    BOOST_TEST(out.str().find("job j0123456789abcdef " + reply.job.state) == 0u);
  }
}

BOOST_AUTO_TEST_CASE(waiting_for_a_train_job_prints_its_progress_from_rank_0s_metrics) {
  scripted_head head(a_train_job_that_runs_then_succeeds());
  std::ostringstream out;
  auto exit = cli::wait_for_job(session_with(head), "j0123456789abcdef", out, false);
  BOOST_TEST_REQUIRE(bool(exit));
  BOOST_TEST(*exit == 0);
  // 20 steps an epoch, 100 ms a step since the first report: 10 steps to go.
  BOOST_TEST(out.str() ==
             "job j0123456789abcdef RUNNING\n"
             "epoch 2/2  step 30  loss 0.6  ETA 1.0s\n"
             "job j0123456789abcdef SUCCEEDED\n");
  const auto requests = head.requests();
  BOOST_TEST_REQUIRE(requests.size() == 5u);
  const auto& second =
      std::get<msg::job_metrics_request>(std::get<msg::training_message>(requests[2]).body);
  BOOST_TEST(second.after == 5u);
}

BOOST_AUTO_TEST_CASE(
    a_train_jobs_progress_has_no_eta_before_an_epoch_ends_and_restarts_with_a_retry) {
  cli::train_progress progress(3);
  BOOST_TEST(progress.text() == "");
  progress.add(step(1, "1.1", 1, 50, 2.0, 1000));  // rank 1: not shown
  BOOST_TEST(progress.text() == "");
  progress.add(step(2, "0.1", 1, 50, 1.25, 1000));
  BOOST_TEST(progress.text() == "epoch 1/3  step 50  loss 1.25  ETA -");
  progress.add(step(3, "0.1", 1, 100, 1.0, 2000));
  progress.add(epoch_end(4, "0.1", 1, 1.1));
  BOOST_TEST(progress.text() == "epoch 1/3  step 100  loss 1.1  ETA 4.0s");
  progress.add(step(5, "0.2", 1, 50, 1.5, 9000));  // the retried attempt, from the start
  BOOST_TEST(progress.text() == "epoch 1/3  step 50  loss 1.5  ETA -");
}

BOOST_AUTO_TEST_CASE(job_with_json_has_the_fields_scripts_rely_on) {
  scripted_head head({in_jobs({finished_job("FAILED", 3, std::nullopt)})});
  auto out = cli::show_job(session_with(head, true), "j0123456789abcdef");
  BOOST_TEST_REQUIRE(bool(out));
  auto json = nlohmann::json::parse(*out);
  BOOST_TEST(json["id"] == "j0123456789abcdef");
  BOOST_TEST(json["name"] == "hello");
  BOOST_TEST(json["state"] == "FAILED");
  BOOST_TEST(json["exit_code"] == 3);
  BOOST_TEST(json["submitted_at"] == 1'796'000'000'000);
  BOOST_TEST(json["started_at"] == 1'796'000'000'100);
  BOOST_TEST(json["finished_at"] == 1'796'000'000'900);
  BOOST_TEST_REQUIRE(json["attempts"].size() == 1u);
  BOOST_TEST(json["attempts"][0]["node"] == "worker-1");
  BOOST_TEST(json["attempts"][0]["state"] == "FAILED");
  BOOST_TEST(json["attempts"][0]["exit_code"] == 3);
}

BOOST_AUTO_TEST_CASE(job_shows_how_many_tasks_its_latest_round_runs_when_fewer_than_asked) {
  // An elastic 2-task job whose second attempt runs on one task.
  auto reply = finished_job("SUCCEEDED", 0, std::nullopt);
  reply.job.tasks = 2;
  reply.job.attempts = 2;
  auto second = reply.attempts[0];
  second.attempt_id = "j0123456789abcdef.0.2";
  second.attempt = 2;
  reply.attempts[0].attempt = 1;
  auto other = reply.attempts[0];
  other.attempt_id = "j0123456789abcdef.1.1";
  other.task_index = 1;
  reply.attempts = {reply.attempts[0], other, second};

  scripted_head json_head({in_jobs({reply})});
  auto json_out = cli::show_job(session_with(json_head, true), "j0123456789abcdef");
  BOOST_TEST_REQUIRE(bool(json_out));
  const auto json = nlohmann::json::parse(*json_out);
  BOOST_TEST(json["tasks"] == 2);
  BOOST_TEST(json["round_tasks"] == 1);

  scripted_head text_head({in_jobs({reply})});
  auto text = cli::show_job(session_with(text_head), "j0123456789abcdef");
  BOOST_TEST_REQUIRE(bool(text));
  BOOST_TEST(text->find("1 of 2 in attempt 2") != std::string::npos, *text);
}

BOOST_AUTO_TEST_CASE(logs_print_every_chunk_until_the_output_is_complete) {
  scripted_head head({in_jobs({msg::job_logs_reply{"j0123456789abcdef.0.1", "one\n", 4, false}}),
                      in_jobs({msg::job_logs_reply{"j0123456789abcdef.0.1", "two\n", 8, true}}),
                      in_jobs({msg::job_logs_reply{"j0123456789abcdef.0.1", "", 8, true}})});
  std::ostringstream out;
  auto code = cli::show_logs(session_with(head), "j0123456789abcdef", 0, true, out);
  BOOST_TEST_REQUIRE(bool(code));
  BOOST_TEST(out.str() == "one\ntwo\n");
  const auto requests = head.requests();
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  const auto& second =
      std::get<msg::job_logs_request>(std::get<msg::jobs_message>(requests[1]).body);
  BOOST_TEST(second.offset == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
