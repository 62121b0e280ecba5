// The text rules shared by the codec, the head, the daemon's settings and the logs
// (messages/utf8.hpp, messages/safe_text.hpp).
#include <boost/test/unit_test.hpp>

#include "messages/safe_text.hpp"
#include "messages/utf8.hpp"

namespace troupe::msg::test {

BOOST_AUTO_TEST_SUITE(text_rules)

BOOST_AUTO_TEST_CASE(well_formed_utf8_of_every_length_is_accepted) {
  BOOST_TEST(is_utf8(""));
  BOOST_TEST(is_utf8("plain ascii"));
  BOOST_TEST(is_utf8("\xc3\xa9"));          // é, 2 bytes
  BOOST_TEST(is_utf8("\xe2\x9c\x93"));      // ✓, 3 bytes
  BOOST_TEST(is_utf8("\xf0\x9f\x9a\x80"));  // 🚀, 4 bytes
  BOOST_TEST(is_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
  BOOST_TEST(is_utf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  BOOST_TEST(is_utf8(std::string("nul\0inside", 10)));
}

BOOST_AUTO_TEST_CASE(invalid_bytes_overlongs_surrogates_and_too_large_code_points_are_refused) {
  BOOST_TEST(!is_utf8("h\xff"));
  BOOST_TEST(!is_utf8("\xc0\x80"));          // overlong NUL
  BOOST_TEST(!is_utf8("\xc1\xbf"));          // overlong U+007F
  BOOST_TEST(!is_utf8("\xe0\x80\xaf"));      // overlong '/'
  BOOST_TEST(!is_utf8("\xf0\x8f\xbf\xbf"));  // overlong U+FFFF
  BOOST_TEST(!is_utf8("\xed\xa0\x80"));      // U+D800, a surrogate
  BOOST_TEST(!is_utf8("\xed\xbf\xbf"));      // U+DFFF, a surrogate
  BOOST_TEST(!is_utf8("\xf4\x90\x80\x80"));  // U+110000
  BOOST_TEST(!is_utf8("\xf8\x88\x80\x80\x80"));
  BOOST_TEST(!is_utf8("\x80"));          // a continuation byte alone
  BOOST_TEST(!is_utf8("\xe2\x9c"));      // truncated
  BOOST_TEST(!is_utf8("\xe2\x28\xa1"));  // a bad continuation byte
}

BOOST_AUTO_TEST_CASE(node_text_is_utf8_without_control_characters_up_to_the_limit) {
  BOOST_TEST(is_node_text("gpu-box-1"));
  BOOST_TEST(is_node_text("b\xc3\xbcro \xe2\x9c\x93"));
  BOOST_TEST(is_node_text(std::string(max_node_text_bytes, 'x')));
  BOOST_TEST(!is_node_text(std::string(max_node_text_bytes + 1, 'x')));
  BOOST_TEST(!is_node_text(std::string(10'000, 'x')));
  BOOST_TEST(!is_node_text("evil\nname"));
  BOOST_TEST(!is_node_text("esc\x1b[31m"));
  BOOST_TEST(!is_node_text("del\x7f"));
  BOOST_TEST(!is_node_text("c1\xc2\x85"));  // U+0085, next line
  BOOST_TEST(!is_node_text(std::string("nul\0", 4)));
  BOOST_TEST(!is_node_text("h\xff"));
  BOOST_TEST(!is_node_text("\xc0\x80"));
}

BOOST_AUTO_TEST_CASE(a_tenant_name_is_1_to_128_letters_digits_dots_underscores_or_dashes) {
  BOOST_TEST(is_tenant_name("default"));
  BOOST_TEST(is_tenant_name("ML-research.team_1"));
  BOOST_TEST(is_tenant_name(std::string(max_tenant_name_bytes, 'a')));
  BOOST_TEST(!is_tenant_name(std::string(max_tenant_name_bytes + 1, 'a')));
  BOOST_TEST(!is_tenant_name(""));
  for (const char* bad : {"a b", "a/b", "a:b", "team\n", "b\xc3\xbcro", "*", "a\x01"})
    BOOST_TEST(!is_tenant_name(bad), bad);
  BOOST_TEST(!is_tenant_name(std::string("a\0", 2)));
}

BOOST_AUTO_TEST_CASE(printable_escapes_controls_and_invisible_formatting) {
  BOOST_TEST(printable("plain b\xc3\xbcro") == "plain b\xc3\xbcro");
  BOOST_TEST(printable("a \\n b") == "a \\\\n b");  // a backslash cannot forge an escape
  BOOST_TEST(printable("a\nb\r\tc") == "a\\nb\\r\\tc");
  BOOST_TEST(printable("\x1b[31mred") == "\\x1b[31mred");
  BOOST_TEST(printable(std::string("\0\x7f", 2)) == "\\x00\\x7f");
  BOOST_TEST(printable("\xc2\x85\xc2\x9f") == "\\u0085\\u009f");  // C1
  BOOST_TEST(printable("\xe2\x80\xae"
                       "abc") == "\\u202eabc");                           // RLO
  BOOST_TEST(printable("\xe2\x81\xa6\xe2\x81\xa9") == "\\u2066\\u2069");  // isolates
  BOOST_TEST(printable("\xe2\x80\x8b\xe2\x80\x8f") == "\\u200b\\u200f");  // zero width
  BOOST_TEST(printable("\xe2\x80\xa8\xe2\x80\xa9") == "\\u2028\\u2029");  // separators
  BOOST_TEST(printable("\xe2\x81\xa0\xef\xbb\xbf") == "\\u2060\\ufeff");  // WJ, BOM
  BOOST_TEST(printable("h\xff\xc0\x80") == "h\\xff\\xc0\\x80");
}

BOOST_AUTO_TEST_CASE(a_logged_name_with_a_newline_stays_on_one_line) {
  const auto shown = printable("n1\n2026-12-01T00:00:00.000 critical forged");
  BOOST_TEST(shown.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(passwords_in_store_urls_are_hidden_and_nothing_else_is) {
  BOOST_TEST(without_passwords("postgresql://postgres:S3cretPass@db:5432/troupe") ==
             "postgresql://postgres:***@db:5432/troupe");
  BOOST_TEST(without_passwords("postgresql://u:p%40ss@h:5432/db?sslmode=require") ==
             "postgresql://u:***@h:5432/db?sslmode=require");
  BOOST_TEST(without_passwords("postgresql://h/db?user=u&password=s3cret&sslmode=require") ==
             "postgresql://h/db?user=u&password=***&sslmode=require");
  BOOST_TEST(without_passwords("postgresql://h/db?password=s3cret") ==
             "postgresql://h/db?password=***");
  BOOST_TEST(without_passwords("postgresql://u@h/db?application_name=x") ==
             "postgresql://u@h/db?application_name=x");
  BOOST_TEST(without_passwords("postgresql://h/db?old_password=x") ==
             "postgresql://h/db?old_password=x");
  BOOST_TEST(without_passwords("postgresql://u:p@h") == "postgresql://u:***@h");
  BOOST_TEST(without_passwords("sqlite:///var/lib/troupe/troupe.db") ==
             "sqlite:///var/lib/troupe/troupe.db");
}

BOOST_AUTO_TEST_CASE(passwords_in_libpq_key_value_strings_are_hidden) {
  BOOST_TEST(without_passwords("host=db user=u password=s3cret dbname=t") ==
             "host=db user=u password=*** dbname=t");
  BOOST_TEST(without_passwords("password = s3cret host=db") == "password = *** host=db");
  BOOST_TEST(without_passwords("host=db password='s3 \\' cret' dbname=t") ==
             "host=db password='***' dbname=t");
  BOOST_TEST(without_passwords("host=db old_password=x") == "host=db old_password=x");
}

BOOST_AUTO_TEST_CASE(the_passwords_themselves_can_be_listed_to_scrub_library_messages) {
  const auto found = passwords_in("postgresql://u:one@h/db?password=two");
  BOOST_TEST(found == (std::vector<std::string>{"one", "two"}), boost::test_tools::per_element());
  BOOST_TEST(passwords_in("postgresql://u@h/db").empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::msg::test
