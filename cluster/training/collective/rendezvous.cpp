#include "cluster/training/collective/rendezvous.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "cluster/training/collective/collective_error.hpp"

namespace troupe::training {
namespace {

[[noreturn]] void throw_not_set(const std::string& key, std::chrono::milliseconds timeout) {
  throw collective_error(msg::error_code::timeout, "rendezvous: no rank set '" + key + "' within " +
                                                       std::to_string(timeout.count()) + " ms");
}

}  // namespace

rendezvous::~rendezvous() = default;

void local_rendezvous::set(const std::string& key, const bytes& value) {
  {
    std::lock_guard lock(mutex_);
    values_[key] = value;
  }
  changed_.notify_all();
}

bytes local_rendezvous::get(const std::string& key, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return values_.count(key) > 0; }))
    throw_not_set(key, timeout);
  return values_.at(key);
}

directory_rendezvous::directory_rendezvous(std::string directory)
    : directory_(std::move(directory)) {}

std::string directory_rendezvous::path_of(const std::string& key) const {
  // Keys hold '/' and other characters a file name cannot: name the file by the key in hex.
  static const char* digits = "0123456789abcdef";
  std::string name;
  for (unsigned char c : key) {
    name += digits[c >> 4];
    name += digits[c & 15];
  }
  return directory_ + "/" + name;
}

void directory_rendezvous::set(const std::string& key, const bytes& value) {
  const std::string path = path_of(key);
  const std::string partial = path + ".partial." + std::to_string(::getpid());
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(value.data()),
              static_cast<std::streamsize>(value.size()));
    if (!out.flush())
      throw collective_error(msg::error_code::unavailable, "rendezvous: cannot write " + partial);
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0)
    throw collective_error(msg::error_code::unavailable, "rendezvous: cannot rename " + partial);
}

bytes directory_rendezvous::get(const std::string& key, std::chrono::milliseconds timeout) {
  const std::string path = path_of(key);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(path, std::ios::binary);
    if (in) return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (std::chrono::steady_clock::now() >= deadline) throw_not_set(key, timeout);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace troupe::training
