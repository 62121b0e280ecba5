// The head's inference endpoints over a predictor (docs/http.md): the Open Inference Protocol's
// (KServe v2) model metadata, readiness and infer, and the plain JSON /v1 endpoints (predict,
// the model list, reload). Every endpoint takes an application token (Authorization: Bearer):
// none, unknown or revoked 401; a role that may not call it 403; over its rate limit 429 with
// Retry-After. The endpoints of one model (metadata, readiness, infer, predict) follow that
// service's `auth` (predictor::access): with `tokens: optional` a call without a token is served
// too, as the service's tenant; a service's rate limit is a bucket per (token, service), over it
// 429 with Retry-After. A token's tenant is the tenant its requests ask as. Bad input gets 400
// naming the problem; the predictor's errors map to their statuses (not_found 404, ...).
#pragma once

#include <memory>

#include "cluster/http/router.hpp"
#include "cluster/inference/predictor.hpp"
#include "cluster/inference_http/inference_metrics.hpp"
#include "cluster/security/app_tokens.hpp"

namespace troupe::inference_http {

struct inference_routes_deps {
  inference::predictor* models;  // outlives the server the routes are added to
  std::shared_ptr<security::app_token_registry> tokens;
  std::shared_ptr<inference_metrics> metrics;
};

void add_inference_routes(http::router& routes, const inference_routes_deps& deps);

}  // namespace troupe::inference_http
