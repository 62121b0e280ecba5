#include "nodes/rank/link_rendezvous.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "cluster/training/collective/collective_error.hpp"

namespace troupe::rank {

void link_rendezvous::set(const std::string& key, const training::bytes& value) {
  try {
    link_.set(key, value);
  } catch (const training::rank_link_error& e) {
    throw training::collective_error(e.code, std::string("rendezvous set: ") + e.what());
  }
}

training::bytes link_rendezvous::get(const std::string& key, std::chrono::milliseconds timeout) {
  try {
    return link_.get(key, timeout);
  } catch (const training::rank_link_error& e) {
    throw training::collective_error(e.code, std::string("rendezvous get: ") + e.what());
  }
}

std::string address_toward(const std::string& peer) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(peer.c_str(), "9", &hints, &found); rc != 0)
    throw std::runtime_error("cannot resolve " + peer + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  // Connecting a datagram socket sends nothing: it only picks the route and so the local end.
  const int fd = ::socket(found->ai_family, SOCK_DGRAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  const bool routed = ::connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
  const int error = errno;
  ::close(fd);
  if (!routed) throw std::runtime_error("no route to " + peer + ": " + std::strerror(error));
  char text[INET6_ADDRSTRLEN] = {};
  const void* address =
      local.ss_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&local)->sin6_addr)
          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&local)->sin_addr);
  ::inet_ntop(local.ss_family, address, text, sizeof text);
  return text;
}

}  // namespace troupe::rank
