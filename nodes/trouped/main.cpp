// trouped: the Troupe node daemon. `trouped --head` also runs the coordinator.
#include <malloc.h>
#include <sys/resource.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <cstdio>

#include "config/daemon_args.hpp"
#include "nodes/trouped/credentials_setup.hpp"
#include "nodes/trouped/daemon.hpp"

namespace {

// A head holds one connection per node; the default soft limit (1024) is too low.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Artifact chunks (512 KiB, copied a few times on their way) are past glibc's default mmap
// threshold, and a freed one at the heap's top went back to the kernel at once (its dynamic trim
// threshold is twice the mmap one): so each chunk's buffers were new pages, faulted in and zeroed
// one at a time. That was about a third of the head's time serving a dataset (perf), and fetches
// went 1.7 -> 1.0 s in troupe-bench-predict. Buffers up to 8 MiB now come from the heap, which
// gives memory back once 64 MiB at its top are free.
void keep_large_buffers() {
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

void setup_logging(const troupe::config::daemon_settings& s) {
  if (!s.log_file.empty())
    spdlog::set_default_logger(spdlog::basic_logger_mt("trouped", s.log_file));
  spdlog::set_level(spdlog::level::from_str(s.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace

int main(int argc, char** argv) {
  troupe::config::parsed_args args;
  try {
    args = troupe::config::parse_daemon_args(std::vector<std::string>(argv, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trouped: %s\n", e.what());
    return 2;
  }
  if (args.exit_now) {
    std::fputs(args.output.c_str(), stdout);
    return args.exit_code;
  }
  troupe::nodes::block_termination_signals();
  raise_file_limit();
  keep_large_buffers();
  try {
    setup_logging(args.settings);
    return troupe::nodes::run_daemon(args.settings);
  } catch (const troupe::nodes::setup_error& e) {
    spdlog::critical("{}", e.what());
    std::fprintf(stderr, "trouped: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    std::fprintf(stderr, "trouped: %s\n", e.what());
    return 1;
  }
}
