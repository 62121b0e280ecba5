// A node's identity kept in its data dir: a stable random node id, and an incarnation
// number that grows at every start and whenever the head declared the node dead. Files are
// replaced atomically (write, fsync, rename), so a crash never leaves a torn id.
//
// The data dir is locked (flock) for the daemon's lifetime: two daemons sharing one data
// dir would share an identity.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace troupe::host {

struct identity_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class data_dir {
 public:
  // Creates the directory if needed and locks it; throws identity_error when another
  // process holds the lock or the directory cannot be used.
  explicit data_dir(std::string path);
  ~data_dir();
  data_dir(const data_dir&) = delete;
  data_dir& operator=(const data_dir&) = delete;

  const std::string& path() const { return path_; }

  // The node id, created on first use.
  std::string node_id();
  // Increments, stores and returns the incarnation.
  uint64_t next_incarnation();

 private:
  std::string read_file(const std::string& name) const;
  void write_file(const std::string& name, const std::string& content) const;

  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace troupe::host
