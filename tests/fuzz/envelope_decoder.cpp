// Fuzz target: the envelope decoder. Whatever the bytes, decode() returns; a decoded envelope
// holds only UTF-8 text and encodes back to itself; a failure's reply is plain text that
// encodes and decodes.
#include <cstdint>
#include <cstdlib>

#include "messages/codec.hpp"
#include "messages/utf8.hpp"
#include "tests/fuzz/texts.hpp"

using namespace troupe;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_failure_reply(const msg::decode_failure& failure) {
  const auto reply = msg::failure_reply(failure, "head");
  if (const auto* err = std::get_if<msg::error>(&reply.body)) {
    require(err->message.find(".c++") == std::string::npos);
    require(err->message.find("stack:") == std::string::npos);
  }
  const auto bytes = msg::encode(reply);
  require(std::holds_alternative<msg::envelope>(msg::decode(bytes.data(), bytes.size())));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto result = msg::decode(data, size);
  if (const auto* failure = std::get_if<msg::decode_failure>(&result)) {
    check_failure_reply(*failure);
    return 0;
  }
  const auto& env = std::get<msg::envelope>(result);
  for (const auto* text : fuzz::texts_of(env)) require(msg::is_utf8(*text));
  const auto bytes = msg::encode(env);
  const auto again = msg::decode(bytes.data(), bytes.size());
  require(std::holds_alternative<msg::envelope>(again) && std::get<msg::envelope>(again) == env);
  return 0;
}
