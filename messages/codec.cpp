// Envelope <-> Cap'n Proto. Readers are bounded by decode_limits; every kj::Exception thrown
// by lazy validation is caught here and turned into a decode_failure. Every text field is
// checked to be UTF-8 and every float to be finite here, so no actor ever sees either.
#include "messages/codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "messages/artifacts_codec.hpp"
#include "messages/cluster_codec.hpp"
#include "messages/codec_parts.hpp"
#include "messages/envelope.capnp.h"
#include "messages/inference_codec.hpp"
#include "messages/jobs_codec.hpp"
#include "messages/models_codec.hpp"
#include "messages/security_codec.hpp"
#include "messages/training_codec.hpp"

namespace troupe::msg {
namespace {

using Body = wire::Envelope::Body;

using namespace parts;

// The envelope's own members (error, unimplemented) are encoded here; each area's members
// in its own codec (cluster_codec, security_codec, jobs_codec, artifacts_codec, models_codec,
// training_codec, inference_codec).
void put_body(Body::Builder b, const body& v) {
  if (const auto* e = std::get_if<error>(&v)) {
    auto out = b.initError();
    out.setCode(cast_enum<wire::ErrorCode>(e->code));
    out.setMessage(text(e->message));
  } else if (const auto* u = std::get_if<unimplemented>(&v)) {
    b.initUnimplemented().setBodyOrdinal(u->body_ordinal);
  } else if (const auto* m = std::get_if<security_message>(&v)) {
    security_codec::put(b.initSecurity(), *m);
  } else if (const auto* j = std::get_if<jobs_message>(&v)) {
    jobs_codec::put(b.initJobs(), *j);
  } else if (const auto* a = std::get_if<artifacts_message>(&v)) {
    artifacts_codec::put(b.initArtifacts(), *a);
  } else if (const auto* models = std::get_if<models_message>(&v)) {
    models_codec::put(b.initModels(), *models);
  } else if (const auto* t = std::get_if<training_message>(&v)) {
    training_codec::put(b.initTraining(), *t);
  } else if (const auto* i = std::get_if<inference_message>(&v)) {
    inference_codec::put(b.initInference(), *i);
  } else {
    cluster_codec::put(b, v);
  }
}

// Returns nullopt for a union member this build does not know.
std::optional<body> get_body(Body::Reader b) {
  switch (b.which()) {
    case Body::ERROR: {
      auto e = b.getError();
      // An error code from a newer peer degrades to `internal`, keeping its message.
      auto raw = static_cast<uint16_t>(e.getCode());
      auto code = raw > static_cast<uint16_t>(error_code::permission_denied)
                      ? error_code::internal
                      : static_cast<error_code>(raw);
      return error{code, str(e.getMessage())};
    }
    case Body::UNIMPLEMENTED: return unimplemented{b.getUnimplemented().getBodyOrdinal()};
    case Body::SECURITY: {
      auto m = security_codec::get(b.getSecurity());
      if (!m) return std::nullopt;
      return std::move(*m);
    }
    case Body::JOBS: {
      auto m = jobs_codec::get(b.getJobs());
      if (!m) return std::nullopt;
      return std::move(*m);
    }
    case Body::ARTIFACTS: {
      auto m = artifacts_codec::get(b.getArtifacts());
      if (!m) return std::nullopt;
      return std::move(*m);
    }
    case Body::MODELS: {
      auto m = models_codec::get(b.getModels());
      if (!m) return std::nullopt;
      return std::move(*m);
    }
    case Body::TRAINING: {
      auto m = training_codec::get(b.getTraining());
      if (!m) return std::nullopt;
      return std::move(*m);
    }
    case Body::INFERENCE: {
      auto m = inference_codec::get(b.getInference());
      if (!m) return std::nullopt;
      return std::move(*m);
    }
    default: return cluster_codec::get(b);
  }
}

// Cap'n Proto's report names our build's source files and carries a stack of code addresses:
// a peer gets a plain summary of it.
std::string plain_summary(const std::string& library_report) {
  auto says = [&](const char* words) { return library_report.find(words) != std::string::npos; };
  if (says("traversal limit"))
    return "malformed message: it reads more data than the traversal limit allows";
  if (says("too deeply-nested"))
    return "malformed message: it is nested deeper than the nesting limit allows";
  return "malformed message: not a valid Cap'n Proto envelope";
}

decode_failure failure(failure_kind kind, std::string message,
                       std::optional<uint64_t> request_id = std::nullopt, std::string detail = {}) {
  decode_failure f;
  f.kind = kind;
  f.message = std::move(message);
  f.request_id = request_id;
  f.detail = std::move(detail);
  return f;
}

}  // namespace

std::string encode(const envelope& env) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<wire::Envelope>();
  root.setProtocolVersion(env.version);
  root.setRequestId(env.request_id);
  root.setSender(text(env.sender));
  put_body(root.initBody(), env.body);
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return {reinterpret_cast<const char*>(bytes.begin()), bytes.size()};
}

decode_result decode(const void* data, size_t size, const decode_limits& limits) {
  using kind = failure_kind;
  if (size > limits.max_frame_bytes)
    return failure(kind::too_large, "frame of " + std::to_string(size) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(limits.max_frame_bytes));
  if (size == 0 || size % sizeof(capnp::word) != 0)
    return failure(kind::malformed,
                   "frame of " + std::to_string(size) + " bytes is not a whole number of words");
  // Cap'n Proto reads 8-byte words in place; ZeroMQ buffers need not be aligned.
  const size_t word_count = size / sizeof(capnp::word);
  kj::Array<capnp::word> aligned;
  auto words = reinterpret_cast<const capnp::word*>(data);
  if (reinterpret_cast<uintptr_t>(data) % alignof(capnp::word) != 0) {
    aligned = kj::heapArray<capnp::word>(word_count);
    std::memcpy(aligned.begin(), data, size);
    words = aligned.begin();
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = word_count * limits.traversal_factor + 64;
  options.nestingLimit = limits.nesting_limit;

  std::optional<uint64_t> request_id;
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words, word_count), options);
    auto root = reader.getRoot<wire::Envelope>();
    request_id = root.getRequestId();
    if (reader.getEnd() != words + word_count)
      return failure(kind::malformed,
                     std::to_string(words + word_count - reader.getEnd()) +
                         " words follow the message in its frame",
                     request_id);
    if (root.getProtocolVersion() != protocol_version)
      return failure(kind::wrong_version,
                     "protocol version " + std::to_string(root.getProtocolVersion()) +
                         " is not supported (this side speaks " + std::to_string(protocol_version) +
                         ")",
                     request_id);
    envelope env;
    env.version = root.getProtocolVersion();
    env.request_id = *request_id;
    env.sender = str(root.getSender());
    auto b = get_body(root.getBody());
    if (!b) {
      auto f = failure(kind::unknown_body, "unknown message kind", request_id);
      f.body_ordinal = static_cast<uint16_t>(root.getBody().which());
      return f;
    }
    env.body = std::move(*b);
    return env;
  } catch (const refused_value& e) {
    return failure(kind::malformed, std::string("malformed message: ") + e.what(), request_id);
  } catch (const std::exception& e) {  // kj::Exception
    return failure(kind::malformed, plain_summary(e.what()), request_id, e.what());
  }
}

envelope failure_reply(const decode_failure& failure, std::string sender) {
  envelope env;
  env.request_id = failure.request_id.value_or(0);
  env.sender = std::move(sender);
  if (failure.kind == failure_kind::unknown_body)
    env.body = unimplemented{failure.body_ordinal};
  else
    env.body = error{error_code::invalid_request, failure.message};
  return env;
}

}  // namespace troupe::msg
