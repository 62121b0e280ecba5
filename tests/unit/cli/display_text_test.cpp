#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <random>

#include "tools/cli/display_text.hpp"

using troupe::cli::display_width;
namespace msg = troupe::msg;

BOOST_AUTO_TEST_SUITE(display_text)

BOOST_AUTO_TEST_CASE(plain_text_and_other_scripts_are_kept) {
  BOOST_TEST(msg::printable("node-1 gpu=rtx4090") == "node-1 gpu=rtx4090");
  BOOST_TEST(msg::printable("数据节点 é ü") == "数据节点 é ü");
}

BOOST_AUTO_TEST_CASE(c0_controls_and_del_are_shown_escaped) {
  BOOST_TEST(msg::printable("a\nb\r\tc") == "a\\nb\\r\\tc");
  BOOST_TEST(msg::printable("\x1b[31mred") == "\\x1b[31mred");
  BOOST_TEST(msg::printable(std::string("a\0b", 3)) == "a\\x00b");
  BOOST_TEST(msg::printable("\x7f") == "\\x7f");
}

BOOST_AUTO_TEST_CASE(a_backslash_is_doubled_so_that_an_escape_cannot_be_forged) {
  BOOST_TEST(msg::printable("\\x1b") == "\\\\x1b");
}

BOOST_AUTO_TEST_CASE(c1_controls_are_shown_as_code_points) {
  BOOST_TEST(msg::printable("\xc2\x85") == "\\u0085");  // NEL
  BOOST_TEST(msg::printable("\xc2\x9b"
                            "31m") == "\\u009b31m");  // CSI
}

BOOST_AUTO_TEST_CASE(bidi_controls_are_shown_escaped) {
  BOOST_TEST(msg::printable("evil\u202egnp.exe") == "evil\\u202egnp.exe");  // RLO
  BOOST_TEST(msg::printable("\u202a\u202b\u202c\u202d") == "\\u202a\\u202b\\u202c\\u202d");
  BOOST_TEST(msg::printable("\u2066\u2067\u2068\u2069") == "\\u2066\\u2067\\u2068\\u2069");
  BOOST_TEST(msg::printable("\u061c\u200e\u200f") == "\\u061c\\u200e\\u200f");
}

BOOST_AUTO_TEST_CASE(zero_width_characters_and_separators_are_shown_escaped) {
  BOOST_TEST(msg::printable("a\u200bb\u200cc\u200dd") == "a\\u200bb\\u200cc\\u200dd");
  BOOST_TEST(msg::printable("\u2060\ufeff") == "\\u2060\\ufeff");
  BOOST_TEST(msg::printable("a\u2028b\u2029") == "a\\u2028b\\u2029");
}

BOOST_AUTO_TEST_CASE(each_byte_of_invalid_utf8_is_shown_as_hex) {
  BOOST_TEST(msg::printable("h\xff") == "h\\xff");
  BOOST_TEST(msg::printable("\xc0\x80") == "\\xc0\\x80");                    // overlong NUL
  BOOST_TEST(msg::printable("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");           // overlong '/'
  BOOST_TEST(msg::printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a surrogate
  BOOST_TEST(msg::printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  BOOST_TEST(msg::printable("\xe6\x95x") == "\\xe6\\x95x");                  // cut short
  BOOST_TEST(msg::printable("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");      // U+1F600 is valid
}

BOOST_AUTO_TEST_CASE(random_bytes_escape_to_text_that_needs_no_more_escaping) {
  // Replay a run with TROUPE_TEST_SEED=<the seed it printed>.
  const char* given = std::getenv("TROUPE_TEST_SEED");
  uint64_t seed = given ? std::stoull(given, nullptr, 0) : std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed << " (replay with TROUPE_TEST_SEED=" << seed << ")");
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 16);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int n = length(random); n > 0; --n) text += static_cast<char>(byte(random));
    auto shown = msg::printable(text);
    std::string doubled;
    for (char c : shown) doubled += c == '\\' ? std::string("\\\\") : std::string(1, c);
    BOOST_TEST_REQUIRE(msg::printable(shown) == doubled, "seed " << seed << ", input " << shown);
    for (unsigned char c : shown) BOOST_TEST_REQUIRE((c >= 0x20 && c != 0x7f));
  }
}

BOOST_AUTO_TEST_CASE(width_counts_wide_characters_twice_and_combining_marks_not_at_all) {
  BOOST_TEST(display_width("node-1") == 6u);
  BOOST_TEST(display_width("数据节点") == 8u);
  BOOST_TEST(display_width("ｆｕｌｌ") == 8u);  // fullwidth forms
  BOOST_TEST(display_width("e\u0301") == 1u);   // e + combining acute
  BOOST_TEST(display_width("\xf0\x9f\x98\x80") == 2u);
  BOOST_TEST(display_width("한국") == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
