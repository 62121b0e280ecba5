// The working directories the runner makes for tasks that name no `workdir`, each fresh and
// empty. An ended attempt's directory that is still empty is kept as a spare of its tenant
// (renamed to `.spare-N.TENANT` beside the others) and renamed into the place of the tenant's
// next attempt instead of making a new one: ext4 makes a directory in 80-450 us of CPU (it
// passes over the inodes freed recently), a rename costs about 8 us. A directory a task left
// anything in stays as it is. Spares stay within a tenant: a process that left its task's group
// may still have one as its working directory.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace troupe::runner {

class work_dirs {
 public:
  // Over `dir`, which must exist; adopts the spares an earlier daemon left there.
  explicit work_dirs(std::string dir);

  // Makes dir/<name> a fresh, empty directory (a spare of `tenant` renamed, else a new one);
  // why not, when it cannot. Thread-safe.
  std::optional<std::string> make(const std::string& name, const std::string& tenant);

  // Keeps dir/<name> as a spare of `tenant` when it is empty (and `tenant` a tenant's name).
  // Thread-safe.
  void recycle(const std::string& name, const std::string& tenant);

 private:
  std::string path_of(const std::string& name) const { return dir_ + "/" + name; }
  std::optional<std::string> take_spare(const std::string& tenant);

  std::string dir_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> spares_;  // names in dir_, by tenant
  uint64_t next_spare_ = 0;                                 // the number of the next spare's name
};

}  // namespace troupe::runner
