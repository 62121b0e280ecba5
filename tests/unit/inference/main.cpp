#define BOOST_TEST_MODULE inference
#include <boost/test/unit_test.hpp>
