// The one error a collective raises: what failed, in words, and how the caller should react.
// Library exceptions (c10, gloo, NCCL, CUDA) are caught where they are called and turned into it.
#pragma once

#include <stdexcept>
#include <string>

#include "messages/error.hpp"

namespace troupe::training {

class collective_error : public std::runtime_error {
 public:
  // timeout: a peer did not show up in time; unavailable: a peer is gone or stalled, or the
  // device cannot run the backend; invalid_request: a bad argument.
  collective_error(msg::error_code code, const std::string& what)
      : std::runtime_error(what), code_(code) {}

  msg::error_code code() const noexcept { return code_; }

 private:
  msg::error_code code_;
};

}  // namespace troupe::training
