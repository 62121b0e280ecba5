// Model names and references: NAME, NAME@VERSION (3 or v3), NAME@staging|production.
#include <boost/test/unit_test.hpp>

#include "cluster/models/model_ref.hpp"

using namespace troupe::models;

namespace {

model_ref parsed(const std::string& text) {
  auto r = parse_ref(text);
  const auto* why = std::get_if<std::string>(&r);
  BOOST_TEST_REQUIRE(!why, text << ": " << (why ? *why : ""));
  return std::get<model_ref>(r);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_refs)

BOOST_AUTO_TEST_CASE(a_reference_names_a_model_a_version_or_a_stage) {
  BOOST_TEST((parsed("txn-category") == model_ref{"txn-category", 0, stage::none}));
  BOOST_TEST((parsed("txn.v2_b@3") == model_ref{"txn.v2_b", 3, stage::none}));
  BOOST_TEST((parsed("txn@v12") == model_ref{"txn", 12, stage::none}));
  BOOST_TEST((parsed("txn@4294967295") == model_ref{"txn", 4294967295u, stage::none}));
  BOOST_TEST((parsed("txn@production") == model_ref{"txn", 0, stage::production}));
  BOOST_TEST((parsed("txn@staging") == model_ref{"txn", 0, stage::staging}));
  for (const char* text : {"txn", "txn@3", "txn@production"})
    BOOST_TEST(to_string(parsed(text)) == text);
}

BOOST_AUTO_TEST_CASE(a_bad_reference_is_refused_with_the_rule) {
  for (const char* text : {"", "-txn", "txn model", "txn/1", "@3", std::string(129, 'a').c_str()}) {
    auto r = parse_ref(text);
    BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(r), text);
    BOOST_TEST(std::get<std::string>(r).find("a model name is") == 0u);
  }
  for (const char* text : {"txn@", "txn@0", "txn@v", "txn@-1", "txn@archived", "txn@none",
                           "txn@4294967296", "txn@3@4", "txn@1x"}) {
    auto r = parse_ref(text);
    BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(r), text);
    BOOST_TEST(std::get<std::string>(r).find("after '@'") == 0u, text);
  }
}

BOOST_AUTO_TEST_CASE(every_stage_has_one_name) {
  for (auto s : {stage::none, stage::staging, stage::production, stage::archived})
    BOOST_TEST((parse_stage(to_string(s)) == s));
  BOOST_TEST(!parse_stage("Production"));
}

BOOST_AUTO_TEST_SUITE_END()
