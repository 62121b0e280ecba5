#include "cluster/store/store.hpp"

#include "cluster/store/postgres_store.hpp"
#include "cluster/store/sqlite_store.hpp"
#include "messages/safe_text.hpp"

namespace troupe::store {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

membership_store::~membership_store() = default;

std::unique_ptr<membership_store> open_store(const std::string& url) {
  if (starts_with(url, "sqlite:")) {
    // sqlite:///abs/file.db, sqlite:/abs/file.db, sqlite:rel/file.db, sqlite://rel/file.db
    // (the daemon writes "sqlite://" + data dir, which may be relative). The rest is a file
    // path, taken literally.
    auto path = url.substr(std::string("sqlite:").size());
    if (starts_with(path, "//")) path.erase(0, 2);
    if (path.empty()) throw store_error("cannot open store " + url + ": the URL names no file");
    return open_sqlite_store(path, url);
  }
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
    return open_postgres_store(url);
  throw store_error("cannot open store " + msg::without_passwords(url) +
                    ": unknown scheme (expected sqlite:///abs/path.db, sqlite:relative/path.db, "
                    "postgresql://... or postgres://...)");
}

}  // namespace troupe::store
