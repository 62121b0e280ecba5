// The model commands against a scripted head: what they send, what they print, how they exit.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/unit/cli/scripted_head.hpp"
#include "tools/cli/commands/models.hpp"

using namespace troupe;
using models::stage;
using testing::scripted_head;
using testing::session_with;

namespace {

msg::body in_models(msg::models_message m) { return msg::body{std::move(m)}; }

template <class Request>
const Request& sent(const scripted_head& head, size_t i = 0) {
  const auto requests = head.requests();
  BOOST_TEST_REQUIRE(requests.size() > i);
  static thread_local Request copy;
  copy = std::get<Request>(std::get<msg::models_message>(requests[i]).body);
  return copy;
}

msg::model_summary txn_summary() { return {"txn", "ml", 3, 3, 2, 1, 1'796'000'000'900}; }

msg::model_version version(uint32_t number, stage s) {
  return {"txn",
          number,
          "ml",
          "j000000000000000" + std::to_string(number),
          "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
          R"({"val_loss":0.31})",
          R"({"val_loss":0.29,"epoch":4})",
          number == 1 ? R"({"epochs":5})" : "",
          "sha256:abc",
          s,
          1'796'000'000'000 + number,
          0,
          models::output_kind::logits,
          {},
          models::model_source::trained};
}

msg::stage_change change(uint32_t v, stage from, stage to) {
  return {v, from, to, "0123456789abcdef", 1'796'000'000'500};
}

msg::get_model_reply every_version() {
  return {txn_summary(),
          {version(3, stage::none), version(2, stage::staging), version(1, stage::production)},
          {change(1, stage::none, stage::production), change(2, stage::none, stage::staging)}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(models_commands)

BOOST_AUTO_TEST_CASE(models_lists_each_model_with_its_stages) {
  scripted_head head({in_models({msg::list_models_reply{{txn_summary()}}}),
                      in_models({msg::list_models_reply{{txn_summary()}}})});
  auto out = cli::list_models(session_with(head), "ml");
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(sent<msg::list_models_request>(head).tenant == "ml");
  BOOST_TEST(*out ==
             "NAME  TENANT  LATEST  VERSIONS  STAGING  PRODUCTION  UPDATED\n"
             "txn   ml      3       3         2        1           2026-11-30T00:53:20Z\n");
  auto json_out = cli::list_models(session_with(head, true), "");
  BOOST_TEST_REQUIRE(bool(json_out));
  auto json = nlohmann::json::parse(*json_out);
  BOOST_TEST_REQUIRE(json.size() == 1u);
  BOOST_TEST(json[0]["name"] == "txn");
  BOOST_TEST(json[0]["latest_version"] == 3);
  BOOST_TEST(json[0]["staging_version"] == 2);
  BOOST_TEST(json[0]["production_version"] == 1);
}

BOOST_AUTO_TEST_CASE(model_shows_every_version_and_the_history) {
  scripted_head head({in_models({every_version()})});
  auto out = cli::show_model(session_with(head), "txn");
  BOOST_TEST_REQUIRE(bool(out));
  const auto& request = sent<msg::get_model_request>(head);
  BOOST_TEST(request.name == "txn");
  BOOST_TEST(request.version == 0u);
  BOOST_TEST((request.stage == stage::none));
  BOOST_TEST(out->find("production  1\n") != std::string::npos, *out);
  BOOST_TEST(out->find("\nversions:\nVERSION  STAGE") != std::string::npos, *out);
  BOOST_TEST(out->find("2        staging     j0000000000000002") != std::string::npos, *out);
  BOOST_TEST(out->find("9f86d081884c  {\"val_loss\":0.31}") != std::string::npos, *out);
  BOOST_TEST(out->find("\nhistory:\nAT") != std::string::npos, *out);
  BOOST_TEST(out->find("1        none  production  0123456789abcdef") != std::string::npos, *out);
}

BOOST_AUTO_TEST_CASE(model_at_a_version_or_a_stage_asks_for_that_one_and_shows_it_in_full) {
  msg::get_model_reply one{
      txn_summary(), {version(1, stage::production)}, {change(1, stage::none, stage::production)}};
  scripted_head head({in_models({one}), in_models({one}), in_models({one})});
  auto out = cli::show_model(session_with(head), "txn@v1");
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(sent<msg::get_model_request>(head, 0).version == 1u);
  BOOST_TEST(out->find("model          txn@1\n") == 0u, *out);
  BOOST_TEST(out->find("stage          production\n") != std::string::npos, *out);
  BOOST_TEST(out->find("params: {\"epochs\":5}\n") != std::string::npos, *out);

  BOOST_TEST_REQUIRE(bool(cli::show_model(session_with(head), "txn@production")));
  BOOST_TEST((sent<msg::get_model_request>(head, 1).stage == stage::production));

  auto json_out = cli::show_model(session_with(head, true), "txn@1");
  BOOST_TEST_REQUIRE(bool(json_out));
  auto json = nlohmann::json::parse(*json_out);
  BOOST_TEST(json["model"]["name"] == "txn");
  BOOST_TEST_REQUIRE(json["versions"].size() == 1u);
  const auto& v = json["versions"][0];
  BOOST_TEST(v["version"] == 1);
  BOOST_TEST(v["stage"] == "production");
  BOOST_TEST(v["job_id"] == "j0000000000000001");
  BOOST_TEST(v["final_metrics"]["val_loss"] == 0.31);
  BOOST_TEST(v["best_metrics"]["epoch"] == 4);
  BOOST_TEST(v["params"]["epochs"] == 5);
  BOOST_TEST(v["created_at"] == 1'796'000'000'001);
  BOOST_TEST(json["stage_changes"][0]["to"] == "production");
  BOOST_TEST(json["stage_changes"][0]["by"] == "0123456789abcdef");
}

BOOST_AUTO_TEST_CASE(a_bad_reference_or_stage_is_a_usage_error_and_asks_nothing) {
  scripted_head head({});
  for (const char* ref : {"bad name", "txn@", "txn@archived", "txn@0"}) {
    auto out = cli::show_model(session_with(head), ref);
    BOOST_TEST_REQUIRE(!out, ref);
    BOOST_TEST(int(out.error().exit_code) == 2);
  }
  auto no_version = cli::promote_model(session_with(head), "txn", "production");
  BOOST_TEST_REQUIRE(!no_version);
  BOOST_TEST(int(no_version.error().exit_code) == 2);
  BOOST_TEST(no_version.error().message == "model promote takes NAME@VERSION, e.g. txn@3");
  auto by_stage = cli::promote_model(session_with(head), "txn@staging", "production");
  BOOST_TEST_REQUIRE(!by_stage);
  BOOST_TEST(int(by_stage.error().exit_code) == 2);
  auto bad_stage = cli::promote_model(session_with(head), "txn@3", "Production");
  BOOST_TEST_REQUIRE(!bad_stage);
  BOOST_TEST(int(bad_stage.error().exit_code) == 2);
  BOOST_TEST(head.requests().empty());
}

BOOST_AUTO_TEST_CASE(promote_sends_the_version_and_stage_and_says_what_moved) {
  msg::promote_model_reply moved{
      version(3, stage::production),
      {change(1, stage::production, stage::archived), change(3, stage::none, stage::production)}};
  msg::promote_model_reply unchanged{version(3, stage::production), {}};
  scripted_head head({in_models({moved}), in_models({unchanged}), in_models({moved})});
  auto out = cli::promote_model(session_with(head), "txn@3", "production");
  BOOST_TEST_REQUIRE(bool(out));
  const auto& request = sent<msg::promote_model_request>(head);
  BOOST_TEST(request.name == "txn");
  BOOST_TEST(request.version == 3u);
  BOOST_TEST((request.stage == stage::production));
  BOOST_TEST(*out == "txn@3 production; txn@1 archived\n");
  BOOST_TEST(*cli::promote_model(session_with(head), "txn@3", "production") ==
             "txn@3 production (unchanged)\n");
  auto json_out = cli::promote_model(session_with(head, true), "txn@3", "production");
  BOOST_TEST_REQUIRE(bool(json_out));
  auto json = nlohmann::json::parse(*json_out);
  BOOST_TEST(json["version"]["stage"] == "production");
  BOOST_TEST_REQUIRE(json["changes"].size() == 2u);
  BOOST_TEST(json["changes"][0]["version"] == 1);
  BOOST_TEST(json["changes"][0]["from"] == "production");
  BOOST_TEST(json["changes"][0]["to"] == "archived");
}

BOOST_AUTO_TEST_CASE(a_refusal_from_the_head_exits_1_with_its_message) {
  scripted_head head({msg::error{msg::error_code::not_found, "no model txn"}});
  auto out = cli::show_model(session_with(head), "txn");
  BOOST_TEST_REQUIRE(!out);
  BOOST_TEST(int(out.error().exit_code) == 1);
  BOOST_TEST(out.error().message == "no model txn (not_found)");
}

BOOST_AUTO_TEST_SUITE_END()
