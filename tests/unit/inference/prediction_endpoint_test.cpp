#define BOOST_TEST_MODULE prediction_endpoint
// What the head accepts as a replica's prediction socket before it connects to it.
#include <boost/test/unit_test.hpp>

#include <string>

#include "cluster/inference/prediction_endpoint.hpp"

using troupe::inference::prediction_endpoint_host;

namespace {
bool is_prediction_endpoint(const std::string& e) {
  return prediction_endpoint_host(e).has_value();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(prediction_endpoint)

BOOST_AUTO_TEST_CASE(a_host_name_or_address_and_a_port_are_accepted) {
  for (const char* ok : {"tcp://gpu-1:40123", "tcp://127.0.0.1:1", "tcp://node_2.lan:65535",
                         "tcp://[::1]:5555", "tcp://[fe80::1]:80"})
    BOOST_TEST(is_prediction_endpoint(ok), ok);
  BOOST_TEST(*prediction_endpoint_host("tcp://gpu-1:40123") == "gpu-1");
  BOOST_TEST(*prediction_endpoint_host("tcp://[::1]:5555") == "[::1]");
}

BOOST_AUTO_TEST_CASE(anything_else_is_refused) {
  for (const char* bad :
       {"", "tcp://", "tcp://host", "tcp://host:", "tcp://:80", "tcp://host:0", "tcp://host:65536",
        "tcp://host:123456", "tcp://host:80x", "ipc:///tmp/x", "inproc://x", "udp://host:80",
        "tcp://user@host:80", "tcp://host/path:80", "tcp://ho st:80", "tcp://[::1:80",
        "tcp://[zz]:80", "tcp://*:80", "tcp://host\n:80",
        // names libzmq refuses to connect to
        "tcp://_x:80", "tcp://.:80", "tcp://-x:80"})
    BOOST_TEST(!is_prediction_endpoint(bad), bad);
  BOOST_TEST(!is_prediction_endpoint("tcp://" + std::string(300, 'a') + ":80"));
  BOOST_TEST(is_prediction_endpoint("tcp://" + std::string(280, 'a') + ":80"));
}

BOOST_AUTO_TEST_SUITE_END()
