#include <boost/test/unit_test.hpp>

#include <set>

#include "cluster/jobs/job_ids.hpp"

using namespace troupe::jobs;

BOOST_AUTO_TEST_SUITE(job_ids)

BOOST_AUTO_TEST_CASE(new_job_ids_are_job_shaped_and_distinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_job_id();
    BOOST_TEST(is_job_id(id), id);
    ids.insert(id);
  }
  BOOST_TEST(ids.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(only_j_and_16_lowercase_hex_digits_are_a_job_id) {
  BOOST_TEST(is_job_id("j0123456789abcdef"));
  BOOST_TEST(!is_job_id("j0123456789ABCDEF"));
  BOOST_TEST(!is_job_id("k0123456789abcdef"));
  BOOST_TEST(!is_job_id("j0123456789abcde"));
  BOOST_TEST(!is_job_id("j0123456789abcdef0"));
  BOOST_TEST(!is_job_id("j0123456789abcdeg"));
  BOOST_TEST(!is_job_id(""));
}

BOOST_AUTO_TEST_CASE(an_attempt_id_names_job_task_and_attempt_and_parses_back) {
  const auto id = attempt_id("j0123456789abcdef", 3, 2);
  BOOST_TEST(id == "j0123456789abcdef.3.2");
  BOOST_TEST((parse_attempt_id(id) == attempt_ref{"j0123456789abcdef", 3, 2}));
  const auto largest = attempt_id("j0123456789abcdef", UINT32_MAX, UINT32_MAX);
  BOOST_TEST(
      (parse_attempt_id(largest) == attempt_ref{"j0123456789abcdef", UINT32_MAX, UINT32_MAX}));
}

BOOST_AUTO_TEST_CASE(text_attempt_id_did_not_make_is_not_an_attempt_id) {
  for (const char* text :
       {"", "j0123456789abcdef", "j0123456789abcdef.1", "j0123456789abcdef.1.2.3",
        "j0123456789abcdef.01.2", "j0123456789abcdef.1.02", "j0123456789abcdef.-1.2",
        "j0123456789abcdef.+1.2", "j0123456789abcdef.1.4294967296", "j0123456789abcdef..2",
        "jXYZ.1.2", "j0123456789abcdef.1.2 "}) {
    BOOST_TEST(!parse_attempt_id(text), text);
  }
}

BOOST_AUTO_TEST_SUITE_END()
