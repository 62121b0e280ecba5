#include "cluster/runner/work_dirs.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string_view>
#include <system_error>

#include "messages/safe_text.hpp"

namespace troupe::runner {
namespace {

constexpr std::string_view spare_prefix = ".spare-";

// Whether `path` is a directory holding nothing but "." and "..".
bool empty_directory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return false;
  bool empty = true;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

}  // namespace

work_dirs::work_dirs(std::string dir) : dir_(std::move(dir)) {
  DIR* listing = ::opendir(dir_.c_str());
  if (!listing) return;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name.substr(0, spare_prefix.size()) != spare_prefix) continue;
    uint64_t number = 0;
    const auto rest = name.substr(spare_prefix.size());
    auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    if (error != std::errc() || end == rest.data() + rest.size() || *end != '.') continue;
    const std::string_view tenant(end + 1,
                                  static_cast<size_t>(rest.data() + rest.size() - end - 1));
    if (!msg::is_tenant_name(tenant)) continue;
    spares_[std::string(tenant)].emplace_back(name);
    next_spare_ = std::max(next_spare_, number + 1);
  }
  ::closedir(listing);
}

std::optional<std::string> work_dirs::take_spare(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = spares_.find(tenant);
  if (found == spares_.end() || found->second.empty()) return std::nullopt;
  auto name = std::move(found->second.back());
  found->second.pop_back();
  return name;
}

std::optional<std::string> work_dirs::make(const std::string& name, const std::string& tenant) {
  const auto path = path_of(name);
  // A spare something wrote into since (a process that left its task's group) is left alone.
  while (const auto spare = take_spare(tenant)) {
    if (!empty_directory(path_of(*spare))) continue;
    if (::rename(path_of(*spare).c_str(), path.c_str()) == 0) return std::nullopt;
    std::lock_guard<std::mutex> lock(mutex_);  // the place is taken: the spare stays one
    spares_[tenant].push_back(*spare);
    break;
  }
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return "cannot create " + path + ": " + std::generic_category().message(errno);
  return std::nullopt;
}

void work_dirs::recycle(const std::string& name, const std::string& tenant) {
  const auto path = path_of(name);
  if (!msg::is_tenant_name(tenant) || !empty_directory(path)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto spare = std::string(spare_prefix) + std::to_string(next_spare_) + "." + tenant;
  if (::rename(path.c_str(), path_of(spare).c_str()) != 0) return;
  ++next_spare_;
  spares_[tenant].push_back(std::move(spare));
}

}  // namespace troupe::runner
