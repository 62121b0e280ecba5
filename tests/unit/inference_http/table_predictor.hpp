// A predictor that answers from a fixed table, for the HTTP conformance tests: service "txn", a
// classifier of 3 features into classes debit/credit/fee (versions 3 and 4, 4 by default), and
// "amount", a regression of 2 features to their sum (version 1, no ready replica), whose tokens
// are optional; "capped", the same regression under a rate limit of 1 call a second, bursts
// of 2, per caller; and "open-capped", "capped" with optional tokens (neither is listed by
// services()).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "cluster/inference/predictor.hpp"

namespace troupe::test {

class table_predictor final : public inference::predictor {
 public:
  void predict(inference::prediction_request q,
               std::function<void(inference::prediction_result)> done) override {
    inference::prediction_result r;
    const bool txn = q.service == "txn", amount = q.service == "amount" || q.service == "capped" ||
                                                  q.service == "open-capped";
    const auto refuse = [&](msg::error_code code, std::string why) {
      r.error = msg::error{code, std::move(why)};
      done(std::move(r));
    };
    if (!txn && !amount) return refuse(msg::error_code::not_found, "unknown model: " + q.service);
    if (q.tenant != "" && q.tenant != "finance")
      return refuse(msg::error_code::not_found, "unknown model: " + q.service);
    r.model_name = q.service;
    r.model_version = q.version ? q.version : (txn ? 4 : 1);
    if ((txn && r.model_version != 3 && r.model_version != 4) || (amount && r.model_version != 1))
      return refuse(msg::error_code::not_found,
                    "model " + q.service + " has no version " + std::to_string(q.version));
    r.signature = txn ? classifier() : regression();
    if (q.feature_count != r.signature.input_features)
      return refuse(msg::error_code::invalid_request,
                    "model " + q.service + " takes " + std::to_string(r.signature.input_features) +
                        " features, got " + std::to_string(q.feature_count));
    r.rows = static_cast<uint32_t>(q.features.size() / q.feature_count);
    r.output_count = txn ? 3 : 1;
    for (uint32_t i = 0; i < r.rows; ++i) {
      const float* row = q.features.data() + size_t{i} * q.feature_count;
      if (amount) {
        r.outputs.push_back(row[0] + row[1]);
      } else if (row[0] > 0) {
        r.outputs.insert(r.outputs.end(), {0.1f, 0.7f, 0.2f});
      } else {
        r.outputs.insert(r.outputs.end(), {0.6f, 0.3f, 0.1f});
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      routing_keys_.push_back(q.routing_key);
    }
    done(std::move(r));
  }

  void services(std::string tenant,
                std::function<void(std::vector<inference::service_status>)> done) override {
    if (tenant != "" && tenant != "finance") return done({});
    inference::service_status txn{"txn",
                                  "finance",
                                  "j0000000000000001",
                                  "txn@production",
                                  2,
                                  2,
                                  {{3, 90, 2, classifier(), ""}, {4, 10, 2, classifier(), ""}},
                                  {true, 500, 1000},
                                  {100, 60}};
    inference::service_status amount{"amount",
                                     "finance",
                                     "j0000000000000002",
                                     "amount",
                                     1,
                                     0,
                                     {{1, 100, 0, regression(), "cannot load: bad file"}},
                                     {},
                                     {}};
    done({txn, amount});
  }

  void reload(std::string service, std::string,
              std::function<void(std::optional<msg::error>)> done) override {
    if (service != "txn" && service != "amount")
      return done(msg::error{msg::error_code::not_found, "unknown model: " + service});
    std::lock_guard<std::mutex> lock(mutex_);
    reloaded_.push_back(service);
    done(std::nullopt);
  }

  std::optional<inference::service_access> access(const std::string& service,
                                                  const std::string& tenant) const override {
    if (tenant != "" && tenant != "finance") return std::nullopt;
    inference::service_access out{"finance", {}};
    if (service == "amount") out.auth.tokens_required = false;
    if (service == "capped") out.auth = {true, 1, 2};
    if (service == "open-capped") out.auth = {false, 1, 2};
    if (service == "txn" || service == "amount" || service == "capped" || service == "open-capped")
      return out;
    return std::nullopt;
  }

  std::vector<std::string> reloaded() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reloaded_;
  }
  std::vector<std::string> routing_keys() {
    std::lock_guard<std::mutex> lock(mutex_);
    return routing_keys_;
  }

 private:
  static inference::model_signature classifier() {
    return {3, inference::output_kind::probabilities, {"debit", "credit", "fee"}};
  }
  static inference::model_signature regression() { return {2, inference::output_kind::values, {}}; }

  std::mutex mutex_;
  std::vector<std::string> reloaded_;
  std::vector<std::string> routing_keys_;
};

}  // namespace troupe::test
