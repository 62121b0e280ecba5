// The working directories the runner makes for tasks that name no `workdir`, each fresh and
// empty. An ended attempt's directory that is still empty is kept as a spare (renamed to
// `.spare-N` beside the others) and renamed into the next attempt's place instead of making a
// new one: ext4 makes a directory in 80-450 us of CPU (it passes over the inodes freed
// recently), a rename costs about 8 us. A directory a task left anything in stays as it is.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace troupe::runner {

class work_dirs {
 public:
  // Over `dir`, which must exist; adopts the spares an earlier daemon left there.
  explicit work_dirs(std::string dir);

  // Makes dir/<name> a fresh, empty directory (a spare renamed, else a new one); why not, when
  // it cannot. Thread-safe.
  std::optional<std::string> make(const std::string& name);

  // Keeps dir/<name> as a spare when it is empty. Thread-safe.
  void recycle(const std::string& name);

 private:
  std::string path_of(const std::string& name) const { return dir_ + "/" + name; }
  std::optional<std::string> take_spare();

  std::string dir_;
  std::mutex mutex_;
  std::vector<std::string> spares_;  // names in dir_
  uint64_t next_spare_ = 0;          // the number of the next spare's name
};

}  // namespace troupe::runner
