#define BOOST_TEST_MODULE http
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <list>
#include <memory>
#include <thread>

#include "cluster/http/server.hpp"
#include "tests/unit/http/raw_client.hpp"

using namespace troupe;
using test::raw_client;

namespace {

// A server with a few routes: an echo of its path parameters, an answer from another thread, a
// handler that forgets to answer, and a body's size.
struct fixture {
  explicit fixture(http::server_options o = {}) : srv(std::move(o), routes()) { srv.start(); }
  ~fixture() {
    for (auto& t : later) t.join();
  }

  http::router routes() {
    http::router r;
    r.add("GET", "/v2/models/{name}/versions/{version}", [](http::request& q, http::responder a) {
      a(http::json_response(q.params["name"] + "@" + q.params["version"]));
    });
    r.add("GET", "/later", [this](http::request&, http::responder a) {
      later.emplace_back([a] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        a(http::json_response("from another thread"));
      });
    });
    r.add("GET", "/forgotten", [](http::request&, http::responder) {});
    r.add("POST", "/size", [](http::request& q, http::responder a) {
      a(http::json_response(std::to_string(q.body.size())));
    });
    return r;
  }

  std::list<std::thread> later;
  http::server srv;
};

http::server_options with(std::chrono::milliseconds deadline, uint32_t max_connections = 1024) {
  http::server_options o;
  o.read_deadline = deadline;
  o.max_connections = max_connections;
  o.max_body_bytes = 1000;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(a_route_gets_its_pattern_parts_and_keep_alive_serves_several_requests) {
  fixture f;
  raw_client c(f.srv.port());
  for (const char* version : {"3", "4"}) {
    c.send(test::get_request(std::string("/v2/models/txn/versions/") + version));
    auto r = c.read_reply();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == 200u);
    BOOST_TEST(r->body == std::string("txn@") + version);
    BOOST_TEST(r->headers["content-type"] == "application/json");
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_path_is_404_and_a_wrong_method_405_each_with_a_json_error) {
  fixture f;
  raw_client c(f.srv.port());
  c.send(test::get_request("/nowhere"));
  auto r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 404u);
  BOOST_TEST(r->body == R"({"error":"no such endpoint: /nowhere"})");
  c.send(test::post_request("/later", "{}"));
  r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 405u);
  BOOST_TEST(r->headers["allow"] == "GET");
  BOOST_TEST(r->body == R"({"error":"POST is not allowed on /later"})");
}

BOOST_AUTO_TEST_CASE(a_handler_may_answer_later_from_another_thread) {
  fixture f;
  raw_client c(f.srv.port());
  c.send(test::get_request("/later"));
  auto r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "from another thread");
}

BOOST_AUTO_TEST_CASE(a_handler_that_drops_its_request_unanswered_gives_a_500) {
  fixture f;
  raw_client c(f.srv.port());
  c.send(test::get_request("/forgotten"));
  auto r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 500u);
  BOOST_TEST(r->body == R"({"error":"the request was not answered"})");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_cap_is_413_with_a_json_error_and_the_connection_closes) {
  fixture f(with(std::chrono::seconds(10)));
  raw_client c(f.srv.port());
  c.send(test::post_request("/size", std::string(1000, 'x')));
  auto r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "1000");
  c.send(test::post_request("/size", std::string(1001, 'x')));
  r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 413u);
  BOOST_TEST(r->body == R"({"error":"body over 1000 bytes"})");
  BOOST_TEST(c.closed_by_server());
}

BOOST_AUTO_TEST_CASE(a_client_that_expects_100_continue_gets_it_before_sending_its_body) {
  fixture f;
  raw_client c(f.srv.port());
  c.send("POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 100u);
  c.send("hello");
  r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200u);
  BOOST_TEST(r->body == "5");
}

BOOST_AUTO_TEST_CASE(a_slow_client_gets_408_and_is_closed_while_the_one_io_thread_serves_others) {
  fixture f(with(std::chrono::milliseconds(300)));
  raw_client slow(f.srv.port());
  slow.send("GET /v2/models/a/versions/1 HTTP/1.1\r\nHost: t\r\n");  // and never the rest
  raw_client quick(f.srv.port());
  quick.send(test::get_request("/v2/models/b/versions/2"));
  auto r = quick.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->body == "b@2");
  r = slow.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 408u);
  BOOST_TEST(r->body == R"({"error":"request not read in time"})");
  BOOST_TEST(slow.closed_by_server());
}

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed_without_an_answer) {
  fixture f(with(std::chrono::milliseconds(200)));
  raw_client idle(f.srv.port());
  BOOST_TEST(!idle.read_reply());
}

BOOST_AUTO_TEST_CASE(a_connection_beyond_the_limit_gets_503_and_the_others_keep_working) {
  fixture f(with(std::chrono::seconds(10), 2));
  raw_client first(f.srv.port()), second(f.srv.port());
  first.send(test::get_request("/v2/models/a/versions/1"));
  BOOST_REQUIRE(first.read_reply());
  second.send(test::get_request("/v2/models/a/versions/1"));
  BOOST_REQUIRE(second.read_reply());
  raw_client third(f.srv.port());
  auto r = third.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 503u);
  BOOST_TEST(r->body == R"({"error":"too many connections"})");
  first.send(test::get_request("/v2/models/a/versions/1"));
  BOOST_REQUIRE(first.read_reply());
}

BOOST_AUTO_TEST_CASE(malformed_http_is_400_with_a_json_error) {
  fixture f;
  raw_client c(f.srv.port());
  c.send("GET /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
  auto r = c.read_reply();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 400u);
  BOOST_TEST(r->body.find("malformed HTTP request") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
