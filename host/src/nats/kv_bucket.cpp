#include "nats/kv_bucket.hpp"

#include <nats/nats.h>

#include <climits>
#include <memory>
#include <string>
#include <utility>

#include "nats/kv_watcher_state.hpp"
#include "nats/native.hpp"
#include "nats/nats_status.hpp"

namespace edge::nats {

struct KeyValueBucket::Impl {
  jsCtx* jetstream = nullptr;        // OWNERSHIP: owned
  kvStore* store = nullptr;          // OWNERSHIP: owned
  std::string url;                   // the client's, for messages
  NatsClientOptions client_options;  // for each watcher's own connection
  int64_t timeout_milliseconds = 0;

  Impl() = default;
  ~Impl() {
    kvStore_Destroy(store);
    jsCtx_Destroy(jetstream);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

namespace {

// The server's text for JetStream error 10071 (JSStreamWrongLastSequenceErr):
// the expected last revision of the key is not its latest. kvStore_Create
// and kvStore_Update report it as NATS_ERR with this text and no code, so the
// text is how a lost compare-and-swap is told apart from other failures
// (kv_bucket_test pins it).
constexpr std::string_view kWrongLastSequence = "wrong last sequence";

int length_of(std::string_view value, std::string_view what) {
  if (value.size() > static_cast<std::size_t>(INT_MAX)) {
    throw NatsError(std::string(what) + ": value too large (" + std::to_string(value.size()) +
                    " bytes)");
  }
  return static_cast<int>(value.size());
}

}  // namespace

KeyValueBucket::KeyValueBucket(NatsClient& client, const KvBucketOptions& options)
    : name_(options.name), impl_(std::make_unique<Impl>()) {
  impl_->url = client.url();
  impl_->client_options = options_of(client);
  // The watchers' connections report nothing to the client's owner.
  impl_->client_options.on_disconnected = nullptr;
  impl_->client_options.on_reconnected = nullptr;
  impl_->client_options.on_closed = nullptr;
  impl_->client_options.name += impl_->client_options.name.empty() ? "watch" : "-watch";
  impl_->timeout_milliseconds = static_cast<int64_t>(options.timeout.count());
  const std::string where = "key-value bucket \"" + name_ + "\" on " + impl_->url;
  if (options.history < 1 || options.history > 64) {
    throw NatsError("cannot open " + where + ": history must be 1 to 64, not " +
                    std::to_string(options.history));
  }

  jsOptions jetstream_options;
  check_status(jsOptions_Init(&jetstream_options), "cannot initialise JetStream options");
  jetstream_options.Wait = static_cast<int64_t>(options.timeout.count());
  check_status(
      natsConnection_JetStream(&impl_->jetstream, native_connection(client), &jetstream_options),
      "cannot open JetStream for " + where);

  kvConfig config;
  check_status(kvConfig_Init(&config), "cannot initialise the configuration of " + where);
  config.Bucket = name_.c_str();
  config.History = static_cast<uint8_t>(options.history);
  config.StorageType = options.storage == KvStorage::File ? js_FileStorage : js_MemoryStorage;
  config.Replicas = options.replicas;
  // Creating is idempotent on the server: an existing bucket with this same
  // configuration is bound to, one with another configuration is refused.
  const natsStatus created = js_CreateKeyValue(&impl_->store, impl_->jetstream, &config);
  // Nobody answers JetStream's API when the server runs without it.
  check_status(created, "cannot open or create " + where +
                            (created == NATS_NO_RESPONDERS
                                 ? " (is JetStream enabled? start nats-server with --jetstream)"
                                 : ""));
}

KeyValueBucket::~KeyValueBucket() = default;

std::optional<KvEntry> KeyValueBucket::get(std::string_view key) {
  const std::string key_text(key);
  kvEntry* entry = nullptr;
  const natsStatus status = kvStore_Get(&entry, impl_->store, key_text.c_str());
  if (status == NATS_NOT_FOUND) return std::nullopt;  // never written, or deleted
  check_status(status, "cannot get \"" + key_text + "\" from bucket \"" + name_ + "\"");
  const auto* value = static_cast<const char*>(kvEntry_Value(entry));
  KvEntry result{value != nullptr
                     ? std::string(value, static_cast<std::size_t>(kvEntry_ValueLen(entry)))
                     : std::string(),
                 kvEntry_Revision(entry)};
  kvEntry_Destroy(entry);
  return result;
}

std::uint64_t KeyValueBucket::put(std::string_view key, std::string_view value) {
  const std::string key_text(key);
  const std::string what = "cannot put \"" + key_text + "\" in bucket \"" + name_ + "\"";
  std::uint64_t revision = 0;
  check_status(
      kvStore_Put(&revision, impl_->store, key_text.c_str(), value.data(), length_of(value, what)),
      what);
  return revision;
}

std::uint64_t KeyValueBucket::create(std::string_view key, std::string_view value) {
  const std::string key_text(key);
  const std::string what = "cannot create \"" + key_text + "\" in bucket \"" + name_ + "\"";
  std::uint64_t revision = 0;
  const natsStatus status = kvStore_Create(&revision, impl_->store, key_text.c_str(), value.data(),
                                           length_of(value, what));
  if (status == NATS_OK) return revision;
  const std::string description = describe_status(status);
  if (status == NATS_ERR && description.find(kWrongLastSequence) != std::string::npos) {
    throw KvConflictError(what + ": the key already exists (" + description + ")", key_text, 0);
  }
  throw_status(status, what);
}

std::uint64_t KeyValueBucket::update(std::string_view key, std::string_view value,
                                     std::uint64_t expected_revision) {
  const std::string key_text(key);
  const std::string what = "cannot update \"" + key_text + "\" in bucket \"" + name_ +
                           "\" at revision " + std::to_string(expected_revision);
  if (expected_revision == 0) {
    throw NatsError(what + ": revisions start at 1 (create() writes a key that must not exist)");
  }
  std::uint64_t revision = 0;
  const natsStatus status = kvStore_Update(&revision, impl_->store, key_text.c_str(), value.data(),
                                           length_of(value, what), expected_revision);
  if (status == NATS_OK) return revision;
  const std::string description = describe_status(status);
  if (status == NATS_ERR && description.find(kWrongLastSequence) != std::string::npos) {
    throw KvConflictError(what + ": another write came first (" + description + ")", key_text,
                          expected_revision);
  }
  throw_status(status, what);
}

void KeyValueBucket::erase(std::string_view key) {
  const std::string key_text(key);
  check_status(kvStore_Delete(impl_->store, key_text.c_str()),
               "cannot delete \"" + key_text + "\" from bucket \"" + name_ + "\"");
}

std::vector<std::string> KeyValueBucket::keys() {
  kvKeysList list{};
  const natsStatus status = kvStore_Keys(&list, impl_->store, nullptr);
  if (status == NATS_NOT_FOUND) return {};  // an empty bucket, in some libnats versions
  check_status(status, "cannot list the keys of bucket \"" + name_ + "\"");
  std::vector<std::string> result;
  result.reserve(static_cast<std::size_t>(list.Count));
  for (int index = 0; index < list.Count; ++index) result.emplace_back(list.Keys[index]);
  kvKeysList_Destroy(&list);
  return result;
}

KvWatcher KeyValueBucket::watch(std::string_view keys, KvWatchHandler handler) {
  auto state = std::make_unique<KvWatcher::State>();
  const std::string keys_text(keys);
  state->description = "keys \"" + keys_text + "\" of bucket \"" + name_ + "\"";
  state->handler = std::move(handler);
  // A connection of its own: see KvWatcher::State. On failure, State's
  // destructor frees whatever was made.
  state->connection = std::make_unique<NatsClient>(impl_->client_options);
  jsOptions jetstream_options;
  check_status(jsOptions_Init(&jetstream_options), "cannot initialise JetStream options");
  jetstream_options.Wait = impl_->timeout_milliseconds;
  check_status(natsConnection_JetStream(&state->jetstream, native_connection(*state->connection),
                                        &jetstream_options),
               "cannot open JetStream to watch " + state->description);
  check_status(js_KeyValue(&state->store, state->jetstream, name_.c_str()),
               "cannot bind to the bucket to watch " + state->description);
  check_status(kvStore_Watch(&state->watcher, state->store, keys_text.c_str(), nullptr),
               "cannot watch " + state->description);
  KvWatcher::State* running = state.get();
  state->thread = std::thread([running] { running->run(); });
  return KvWatcher(std::move(state));
}

}  // namespace edge::nats
