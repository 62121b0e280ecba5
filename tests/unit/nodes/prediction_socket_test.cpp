#define BOOST_TEST_MODULE prediction_socket
// A replica's prediction socket: the head's key gets its PredictRequests answered on the same
// connection, any other key is never admitted, and what is not a PredictRequest is refused.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cluster/security/curve_keys.hpp"
#include "cluster/transport/request_client.hpp"
#include "nodes/replica/prediction_socket.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

// A socket that admits `head` and answers each prediction with its row count as the version,
// from after_requests (as the replica's batchers do), for all the requests of a read together.
struct answering_socket {
  explicit answering_socket(const security::key_pair& head)
      : socket(
            head.public_key, "replica test",
            [this](const std::string& peer, msg::envelope env) {
              ++predictions;
              gathered.emplace_back(peer, std::move(env));
            },
            [this] {
              ++reads;
              if (gathered.empty()) ++empty_reads;
              for (const auto& [peer, env] : gathered) {
                const auto& r =
                    std::get<msg::predict_request>(std::get<msg::inference_message>(env.body).body);
                socket.answer(peer, env,
                              msg::inference_message{msg::predict_reply{
                                  "m", static_cast<uint32_t>(r.features.size()), 1, 1, {0.5f}}});
              }
              gathered.clear();
            },
            [](const std::string&) {}) {}

  std::atomic<int> predictions{0};
  std::atomic<int> reads{0};
  std::atomic<int> empty_reads{0};                              // after_requests with none gathered
  std::vector<std::pair<std::string, msg::envelope>> gathered;  // the socket's thread only
  replica::prediction_socket socket;
};

transport::request_client client_of(const answering_socket& s, const security::key_pair& keys) {
  return transport::request_client(
      s.socket.endpoint(), "head",
      transport::curve_keys{keys.public_key, keys.secret_key, s.socket.public_key()});
}

msg::body one_row() {
  return msg::inference_message{msg::predict_request{"svc", 1, 3, {1.f, 2.f, 3.f}, "", ""}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prediction_socket)

BOOST_AUTO_TEST_CASE(the_heads_prediction_is_answered_on_its_connection) {
  const auto head = security::generate_key_pair();
  answering_socket s(head);
  BOOST_TEST(s.socket.endpoint().rfind("tcp://", 0) == 0u);
  BOOST_TEST(security::is_z85_key(s.socket.public_key()));
  auto client = client_of(s, head);
  for (int i = 0; i < 3; ++i) {
    const auto answer = client.call(one_row(), 10s);
    BOOST_TEST_REQUIRE(answer.has_value());
    const auto* m = std::get_if<msg::inference_message>(&answer->body);
    BOOST_TEST_REQUIRE(m);
    const auto* reply = std::get_if<msg::predict_reply>(&m->body);
    BOOST_TEST_REQUIRE(reply);
    BOOST_TEST(reply->model_version == 3u);  // the handler saw the request's three values
    BOOST_TEST(answer->sender == "replica test");
  }
  BOOST_TEST(s.predictions == 3);
  BOOST_TEST(s.reads >= 1);
  BOOST_TEST(s.empty_reads == 0);
}

BOOST_AUTO_TEST_CASE(a_key_other_than_the_heads_is_never_admitted) {
  const auto head = security::generate_key_pair();
  answering_socket s(head);
  auto stranger = client_of(s, security::generate_key_pair());
  BOOST_TEST(!stranger.call(one_row(), 1500ms).has_value());
  BOOST_TEST(s.predictions == 0);
  // The head itself still gets in.
  auto client = client_of(s, head);
  BOOST_TEST(client.call(one_row(), 10s).has_value());
  BOOST_TEST(s.predictions == 1);
}

BOOST_AUTO_TEST_CASE(what_is_not_a_prediction_is_refused_and_not_handled) {
  const auto head = security::generate_key_pair();
  answering_socket s(head);
  auto client = client_of(s, head);
  const auto answer =
      client.call(msg::inference_message{msg::list_services_request{"default"}}, 10s);
  BOOST_TEST_REQUIRE(answer.has_value());
  const auto* e = std::get_if<msg::error>(&answer->body);
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST((e->code == msg::error_code::invalid_request));
  BOOST_TEST(e->message == "a replica's prediction socket answers PredictRequests only");
  BOOST_TEST(s.predictions == 0);
}

// A port taken now: a socket bound at a free one, kept open.
struct taken_port {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::router};
  uint16_t port = 0;
  taken_port() {
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://*:0");
    const auto bound = socket.get(zmq::sockopt::last_endpoint);
    port = static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
  }
};

bool port_free(uint32_t port) {
  if (port > 65535) return false;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::router};
  socket.set(zmq::sockopt::linger, 0);
  try {
    socket.bind("tcp://*:" + std::to_string(port));
    return true;
  } catch (const zmq::error_t&) {
    return false;
  }
}

BOOST_AUTO_TEST_CASE(with_serve_ports_it_binds_the_first_free_one_of_them_or_refuses) {
  const auto head = security::generate_key_pair();
  // A taken port whose next one is free (tried a few times: another process may hold it).
  std::unique_ptr<taken_port> held;
  for (int i = 0; i < 20 && !held; ++i) {
    held = std::make_unique<taken_port>();
    if (!port_free(held->port + 1u)) held.reset();
  }
  BOOST_TEST_REQUIRE(static_cast<bool>(held));
  const auto& taken = *held;
  auto no_answer = [](const std::string&, msg::envelope) {};
  auto no_work = [] {};
  auto no_failure = [](const std::string&) {};
  // Its only port taken: refused, naming the range.
  const auto alone = std::to_string(taken.port) + "-" + std::to_string(taken.port);
  try {
    replica::prediction_socket s(head.public_key, "r", no_answer, no_work, no_failure,
                                 config::parse_port_range(alone));
    BOOST_FAIL("bound a port that was taken");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) == "prediction socket: no free port in " + alone);
  }
  // The taken one and the next: the next.
  const auto next = static_cast<uint16_t>(taken.port + 1);
  replica::prediction_socket s(
      head.public_key, "r", no_answer, no_work, no_failure,
      config::parse_port_range(std::to_string(taken.port) + "-" + std::to_string(next)));
  BOOST_TEST(s.endpoint().substr(s.endpoint().rfind(':') + 1) == std::to_string(next));
}

BOOST_AUTO_TEST_SUITE_END()
