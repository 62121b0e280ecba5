#define BOOST_TEST_MODULE training
#include <boost/test/unit_test.hpp>
