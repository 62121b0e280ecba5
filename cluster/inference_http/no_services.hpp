// A predictor of a head that serves no model: every model is unknown. The head's inference
// endpoints answer through it until a service router takes its place.
#pragma once

#include "cluster/inference/predictor.hpp"

namespace troupe::inference_http {

class no_services final : public inference::predictor {
 public:
  void predict(inference::prediction_request request,
               std::function<void(inference::prediction_result)> done) override {
    inference::prediction_result r;
    r.error = unknown(request.service);
    done(std::move(r));
  }
  void services(std::string,
                std::function<void(std::vector<inference::service_status>)> done) override {
    done({});
  }
  void reload(std::string service, std::string,
              std::function<void(std::optional<msg::error>)> done) override {
    done(unknown(service));
  }

 private:
  static msg::error unknown(const std::string& service) {
    return {msg::error_code::not_found, "unknown model: " + service};
  }
};

}  // namespace troupe::inference_http
