// How the ranks of one job attempt find each other before their first collective: a small
// write-once key-value exchange. The rank process implements it over our own protocol
// (rank -> node agent -> head, scoped to the job attempt), so no open store is ever listening.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace troupe::training {

using bytes = std::vector<uint8_t>;

class rendezvous {
 public:
  virtual ~rendezvous();

  // Publishes `value` under `key` for every rank; a key is set once per job attempt.
  virtual void set(const std::string& key, const bytes& value) = 0;

  // Blocks until `key` is set, then returns its value; throws collective_error (timeout)
  // when it is not set within `timeout`.
  virtual bytes get(const std::string& key, std::chrono::milliseconds timeout) = 0;
};

// Ranks that are threads of one process (tests, benchmarks) share one of these.
class local_rendezvous final : public rendezvous {
 public:
  void set(const std::string& key, const bytes& value) override;
  bytes get(const std::string& key, std::chrono::milliseconds timeout) override;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, bytes> values_;
};

// Ranks that are processes of one machine (benchmarks) share a directory: one file per key,
// written whole and renamed into place, polled for by readers.
class directory_rendezvous final : public rendezvous {
 public:
  explicit directory_rendezvous(std::string directory);

  void set(const std::string& key, const bytes& value) override;
  bytes get(const std::string& key, std::chrono::milliseconds timeout) override;

 private:
  std::string path_of(const std::string& key) const;

  std::string directory_;
};

}  // namespace troupe::training
