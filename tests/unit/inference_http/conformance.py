#!/usr/bin/python3
"""HTTP conformance of the head's inference endpoints, with Python's http.client as the client.

Run by inference_http_test against a server whose predictor answers from a fixed table
(table_predictor.hpp):  conformance.py PORT MAX_BODY_BYTES
Prints each case that failed and exits 1 when any did.
"""
import http.client
import json
import socket
import sys
import threading

PORT = int(sys.argv[1])
MAX_BODY = int(sys.argv[2])
TOKENS = {"P": "troupe_" + "1" * 64, "M": "troupe_" + "2" * 64, "L": "troupe_" + "3" * 64,
          "R": "troupe_" + "4" * 64, "X": "troupe_" + "5" * 64}
failures = []


def call(method, path, body=None, token="P", headers=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + TOKENS[token]
    data = raw if raw is not None else (None if body is None else json.dumps(body))
    if data is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), text


def check(name, got_status, want_status, text, want_json=None, error=None, error_start=None):
    problems = []
    if got_status != want_status:
        problems.append("status %d, want %d" % (got_status, want_status))
    try:
        doc = json.loads(text)
    except ValueError:
        problems.append("body is not JSON: %r" % text)
        doc = None
    if doc is not None and want_json is not None and doc != want_json:
        problems.append("body %s, want %s" % (text, json.dumps(want_json)))
    if doc is not None and error is not None and doc != {"error": error}:
        problems.append("body %s, want error %r" % (text, error))
    if doc is not None and error_start is not None and not (
            isinstance(doc, dict) and list(doc) == ["error"] and doc["error"].startswith(error_start)):
        problems.append("body %s, want an error starting %r" % (text, error_start))
    if problems:
        failures.append(name + ": " + "; ".join(problems))


def case(name, method, path, body=None, token="P", status=200, want=None, error=None,
         error_start=None, raw=None, headers=None):
    s, _, text = call(method, path, body, token, headers, raw)
    check(name, s, status, text, want, error, error_start)


def over_burst(name, method, path, body, token, error):
    """Calls until the bucket is empty (1 call a second refills it: a few more calls meet the
    empty bucket however slow this runs), then checks the 429, its message and Retry-After."""
    for i in range(5):
        s, h, text = call(method, path, body, token=token)
        if s != 200:
            break
    check(name, s, 429, text, error=error)
    if h.get("retry-after") != "1":
        failures.append("%s: Retry-After %r" % (name, h.get("retry-after")))


def v2(data, shape, datatype="FP32", name="whatever", **extra):
    return dict({"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]},
                **extra)


TXN_OUT = {"name": "probabilities", "datatype": "FP32", "shape": [2, 3],
           "data": [0.1, 0.7, 0.2, 0.6, 0.3, 0.1]}

# KServe v2 infer: any input name, flat or nested data, FP32/FP64/INT*, id echoed.
case("v2 infer, flat data", "POST", "/v2/models/txn/infer", v2([1, 2, 3, -1, 0, 0], [2, 3], id="req-1"),
     want={"model_name": "txn", "model_version": "4", "id": "req-1", "outputs": [TXN_OUT]})
case("v2 infer, nested data", "POST", "/v2/models/txn/infer", v2([[1, 2, 3], [-1, 0, 0]], [2, 3]),
     want={"model_name": "txn", "model_version": "4", "outputs": [TXN_OUT]})
case("v2 infer, a version", "POST", "/v2/models/txn/versions/3/infer",
     v2([[1, 2, 3], [-1, 0, 0]], [2, 3], datatype="INT32"),
     want={"model_name": "txn", "model_version": "3", "outputs": [TXN_OUT]})
case("v2 infer, FP64 and a 1-D shape", "POST", "/v2/models/amount/infer", v2([1.5, 2.25], [2], "FP64"),
     want={"model_name": "amount", "model_version": "1",
           "outputs": [{"name": "predictions", "datatype": "FP32", "shape": [1, 1], "data": [3.75]}]})
# The plain JSON endpoint.
case("v1 predict, one row", "POST", "/v1/models/txn/predict", {"features": [1, 2, 3]},
     want={"predictions": "credit", "probabilities": [0.1, 0.7, 0.2], "model_version": 4})
case("v1 predict, rows", "POST", "/v1/models/txn/predict", {"features": [[1, 2, 3], [-1, 0, 0]]},
     want={"predictions": ["credit", "debit"],
           "probabilities": [[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]], "model_version": 4})
case("v1 predict, a regression", "POST", "/v1/models/amount/predict", {"features": [1.5, 2]},
     want={"predictions": 3.5, "probabilities": None, "model_version": 1})
case("v1 predict, a sticky routing key", "POST", "/v1/models/txn/predict", {"features": [1, 2, 3]},
     headers={"X-Routing-Key": "user-42"},
     want={"predictions": "credit", "probabilities": [0.1, 0.7, 0.2], "model_version": 4})
# Metadata, readiness, the model list, reload.
case("v2 model metadata", "GET", "/v2/models/txn",
     want={"name": "txn", "versions": ["3", "4"], "platform": "troupe_torchscript",
           "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 3]}],
           "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]}]})
case("v2 model ready", "GET", "/v2/models/txn/ready", want={"name": "txn", "ready": True})
case("v2 model not ready", "GET", "/v2/models/amount/ready", status=400,
     error="model amount has no ready replica")
s, _, text = call("GET", "/v1/models")
models = json.loads(text).get("models", []) if s == 200 else []
if [m["name"] for m in models] != ["txn", "amount"] or models[1]["versions"][0]["problem"] != \
        "cannot load: bad file" or models[0]["versions"][1]["weight"] != 10 or \
        models[0]["auth"] != {"tokens": "required", "rate_limit_per_s": 500, "burst": 1000} or \
        models[0]["cache"] != {"entries": 100, "ttl_s": 60} or models[1]["cache"]["entries"] != 0:
    failures.append("v1 models: %d %s" % (s, text))
case("v1 reload", "POST", "/v1/models/txn/reload", token="M", want={"name": "txn", "reloading": True})

# Tokens.
s, h, text = call("GET", "/v1/models", token=None)
check("no token", s, 401, text, error="a bearer token is required (Authorization: Bearer TOKEN)")
if h.get("www-authenticate") != "Bearer":
    failures.append("no token: WWW-Authenticate %r" % h.get("www-authenticate"))
case("an unknown token", "GET", "/v1/models", token="X", status=401,
     error="the bearer token is not known")
case("a revoked token", "POST", "/v1/models/txn/predict", {"features": [1, 2, 3]}, token="R",
     status=401, error="token old-app is revoked")
case("a predict token reloading", "POST", "/v1/models/txn/reload", token="P", status=403,
     error="token app1 may not call POST /v1/models/txn/reload (it needs role manage)")
for i in range(2):
    case("a limited token within its burst", "GET", "/v1/models/", token="L", want=None)
over_burst("a limited token over its burst", "GET", "/v1/models", None, "L",
           "token limited-app is over its rate limit")

# A service's own auth (table_predictor.hpp): amount's tokens are optional, txn's required,
# capped limits each caller to bursts of 2, open-capped too with tokens optional.
case("an open service without a token", "POST", "/v1/models/amount/predict", {"features": [1.5, 2]},
     token=None, want={"predictions": 3.5, "probabilities": None, "model_version": 1})
case("an open service's metadata without a token", "GET", "/v2/models/amount", token=None,
     want={"name": "amount", "versions": ["1"], "platform": "troupe_torchscript",
           "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 2]}],
           "outputs": [{"name": "predictions", "datatype": "FP32", "shape": [-1, -1]}]})
case("an open service with an unknown token", "POST", "/v1/models/amount/predict",
     {"features": [1.5, 2]}, token="X", status=401, error="the bearer token is not known")
case("a service that requires tokens, without one", "POST", "/v1/models/txn/predict",
     {"features": [1, 2, 3]}, token=None, status=401,
     error="a bearer token is required (Authorization: Bearer TOKEN)")
case("an unknown model without a token", "POST", "/v1/models/nope/predict", {"features": [1, 2]},
     token=None, status=401, error="a bearer token is required (Authorization: Bearer TOKEN)")
for i in range(2):
    case("a service's rate limit, within its burst", "POST", "/v1/models/capped/predict",
         {"features": [1, 2]}, want={"predictions": 3, "probabilities": None, "model_version": 1})
over_burst("a service's rate limit, over its burst", "POST", "/v1/models/capped/predict",
           {"features": [1, 2]}, "P", "token app1 is over the rate limit of capped")
case("a service's rate limit is per token", "POST", "/v1/models/capped/predict",
     {"features": [1, 2]}, token="M", want={"predictions": 3, "probabilities": None, "model_version": 1})
# open-capped: tokens optional, bursts of 2; the callers without a token share one bucket.
over_burst("callers without a token share one bucket, over its burst", "POST",
           "/v1/models/open-capped/predict", {"features": [1, 2]}, None,
           "calls without a token are over the rate limit of open-capped")
case("a token has a bucket of its own beside the callers without one", "POST",
     "/v1/models/open-capped/predict", {"features": [1, 2]}, token="M",
     want={"predictions": 3, "probabilities": None, "model_version": 1})
over_burst("a token's own rate limit on an open service", "POST", "/v1/models/amount/predict",
           {"features": [1, 2]}, "L", "token limited-app is over its rate limit")

# Unknown models and versions.
for method, path, body in [("POST", "/v2/models/nope/infer", v2([1, 2, 3], [1, 3])),
                           ("POST", "/v1/models/nope/predict", {"features": [1, 2, 3]}),
                           ("GET", "/v2/models/nope", None), ("GET", "/v2/models/nope/ready", None),
                           ("POST", "/v1/models/nope/reload", None)]:
    case("an unknown model: " + method + " " + path, method, path, body,
         token="M", status=404, error="unknown model: nope")
case("an unknown version", "POST", "/v2/models/txn/versions/9/infer", v2([1, 2, 3], [1, 3]),
     status=404, error="model txn has no version 9")
case("a version that is no number", "POST", "/v2/models/txn/versions/abc/infer",
     v2([1, 2, 3], [1, 3]), status=400, error="version `abc` is not a positive integer")

# Bad input, each named.
case("wrong feature count, v1", "POST", "/v1/models/txn/predict", {"features": [1, 2]},
     status=400, error="model txn takes 3 features, got 2")
case("wrong feature count, v2", "POST", "/v2/models/txn/infer", v2([1, 2], [1, 2]),
     status=400, error="model txn takes 3 features, got 2")
case("NaN", "POST", "/v1/models/txn/predict", raw='{"features": [NaN, 1, 2]}', status=400,
     error_start="the body is not JSON: ")
case("Infinity", "POST", "/v1/models/txn/predict", raw='{"features": [1e999, 1, 2]}', status=400,
     error_start="the body is not JSON: ")
case("beyond FP32", "POST", "/v1/models/txn/predict", raw='{"features": [1, 1e39, 2]}', status=400,
     error="`features` holds 1e+39, out of the range of FP32 (value 1)")
case("not JSON", "POST", "/v1/models/txn/predict", raw="features=1,2,3", status=400,
     error_start="the body is not JSON: ")
case("not an object", "POST", "/v1/models/txn/predict", [1, 2, 3], status=400,
     error="the body must be a JSON object")
case("features of a wrong type", "POST", "/v1/models/txn/predict", {"features": "1,2,3"},
     status=400, error="`features` must be a non-empty array of numbers, or of rows of them")
case("a string among the features", "POST", "/v1/models/txn/predict", {"features": [1, "2", 3]},
     status=400, error="`features` holds a string; only numbers")
case("ragged rows", "POST", "/v1/models/txn/predict", {"features": [[1, 2, 3], [1, 2]]},
     status=400, error="`features[1]` has 2 features; `features[0]` has 3")
case("a row inside a flat row", "POST", "/v1/models/txn/predict", {"features": [1, [2], 3]},
     status=400, error="`features` holds an array where a number belongs")
case("shape and data disagree", "POST", "/v2/models/txn/infer", v2([1, 2, 3, 4, 5], [2, 3]),
     status=400, error="`inputs[0].shape` [2,3] needs 6 values; `data` has 5")
case("a zero dimension", "POST", "/v2/models/txn/infer", v2([], [0, 3]), status=400,
     error="`inputs[0].shape` [0,3] must hold positive integers")
case("a 3-D shape", "POST", "/v2/models/txn/infer", v2([1, 2, 3], [1, 1, 3]), status=400,
     error="`inputs[0].shape` must be [rows, features] (or [features])")
case("an unsupported datatype", "POST", "/v2/models/txn/infer", v2(["a", "b", "c"], [1, 3], "BYTES"),
     status=400, error='`inputs[0].datatype` "BYTES" is not supported: FP32, FP64, INT8..INT64 or UINT8..UINT64')
case("a fraction as INT32", "POST", "/v2/models/txn/infer", v2([1, 2.5, 3], [1, 3], "INT32"),
     status=400, error="`inputs[0].data` holds 2.5, not an integer of INT32 (value 1)")
case("too deep", "POST", "/v2/models/txn/infer", v2([[[[[[[[[[1]]]]]]]]]], [1, 1]), status=400,
     error="`inputs[0].data` holds an array where a number belongs")
case("two inputs", "POST", "/v2/models/txn/infer",
     {"inputs": [v2([1, 2, 3], [1, 3])["inputs"][0]] * 2}, status=400,
     error="the model takes one input; `inputs` has 2")
case("no inputs", "POST", "/v2/models/txn/infer", {"id": "x"}, status=400,
     error="`inputs` must be an array")
case("a body over the limit", "POST", "/v1/models/txn/predict",
     raw='{"features": [' + "1," * (MAX_BODY // 2) + '1]}', status=413,
     error="body over %d bytes" % MAX_BODY)
case("a wrong method", "GET", "/v2/models/txn/infer", status=405,
     error="GET is not allowed on /v2/models/txn/infer")

# A slow client gets 408 and disturbs no other request meanwhile.
slow = socket.create_connection(("127.0.0.1", PORT), timeout=10)
slow.sendall(b"POST /v1/models/txn/predict HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{")
others = []
threads = [threading.Thread(target=lambda: others.append(
    call("POST", "/v1/models/txn/predict", {"features": [1, 2, 3]})[0])) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if others != [200] * 4:
    failures.append("requests beside a slow client: %s" % others)
reply = b""
while True:
    chunk = slow.recv(4096)
    if not chunk:
        break
    reply += chunk
head, _, body = reply.partition(b"\r\n\r\n")
if not head.startswith(b"HTTP/1.1 408") or json.loads(body or b"{}") != {"error": "request not read in time"}:
    failures.append("a slow client: %r" % reply)

for f in failures:
    print("FAILED", f)
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
