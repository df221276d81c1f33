// The errors of the NATS transport (NatsClient, Subscription, KeyValueBucket).
//
// Every message names what failed and where (the server URLs, the subject,
// the bucket and key) and carries libnats' own explanation: the status text
// and the text of nats_GetLastError. Callers branch on the type, never on a
// libnats status code.
#pragma once

#include <cstdint>
#include <string>

#include "edge/errors.hpp"

namespace edge::nats {

// Base of every transport error.
class NatsError : public edge::Error {
 public:
  using edge::Error::Error;
};

// No server of the URL list accepted the connection (refused, unreachable,
// handshake failed within the connect timeout). what() names the URLs.
class NatsConnectionError : public NatsError {
 public:
  using NatsError::NatsError;
};

// A request got no reply within its timeout (a responder exists but is slow,
// or the reply was lost). what() names the subject and the timeout.
class NatsTimeoutError : public NatsError {
 public:
  using NatsError::NatsError;
};

// Nobody subscribes to the request's subject: the server answered at once
// with its "503 no responders" status instead of letting the request time out.
class NatsNoRespondersError : public NatsError {
 public:
  using NatsError::NatsError;
};

// A compare-and-swap on a key-value bucket lost: the key already exists
// (create) or its latest revision is not the expected one (update). Another
// writer got there first; re-read and decide again.
class KvConflictError : public NatsError {
 public:
  KvConflictError(const std::string& message, std::string key, std::uint64_t expected_revision)
      : NatsError(message), key_(std::move(key)), expected_revision_(expected_revision) {}

  const std::string& key() const noexcept { return key_; }
  // 0 for a create (the key was expected to be absent).
  std::uint64_t expected_revision() const noexcept { return expected_revision_; }

 private:
  std::string key_;
  std::uint64_t expected_revision_;
};

}  // namespace edge::nats
