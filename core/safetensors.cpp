#include "core/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/file_io.h"

namespace simclr {

namespace {

using Json = nlohmann::ordered_json;

constexpr DType kDTypes[] = {DType::f32, DType::f64, DType::bf16, DType::f16,
                             DType::u8,  DType::i32, DType::i64};
constexpr const char* kKnownNames = "F32, F64, BF16, F16, U8, I32, I64";
constexpr const char* kMetadataKey = "__metadata__";

bool dtype_from_safetensors(const std::string& name, DType* out) {
  for (DType d : kDTypes) {
    if (name == safetensors_dtype_name(d)) {
      *out = d;
      return true;
    }
  }
  return false;
}

std::string shape_text(const std::vector<int64_t>& dims) {
  return Shape(dims).str();
}

// One tensor's entry of the header, checked.
struct Entry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// A JSON integer that fits in [0, INT64_MAX], or false.
bool non_negative_integer(const Json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = v;
    return true;
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

// Every message of load_safetensors and its helpers starts with the function and the file, and
// every helper has the file's `path` in scope.
#define SAFETENSORS_CHECK(cond, ...) \
  SIMCLR_CHECK(cond, "load_safetensors: ", path, ": ", __VA_ARGS__)

// The header's JSON object; *length gets its byte length (the data buffer follows it).
Json parse_header(const std::string& path, const std::vector<char>& file, uint64_t* length) {
  SAFETENSORS_CHECK(file.size() >= 8, "the file holds ", file.size(),
                    " bytes, fewer than the 8-byte header length: not a safetensors file");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i)
    header_len |= static_cast<uint64_t>(static_cast<unsigned char>(file[static_cast<size_t>(i)]))
                  << (8 * i);
  const uint64_t rest = file.size() - 8;
  SAFETENSORS_CHECK(header_len <= rest, "header length ", header_len, " is larger than the file (",
                    rest, " bytes after the 8-byte length)");
  const char* header_begin = file.data() + 8;
  Json header;
  try {
    header = Json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::parse_error& e) {
    SIMCLR_THROW("load_safetensors: ", path, ": the header is not valid JSON: ", e.what());
  }
  SAFETENSORS_CHECK(header.is_object(), "the header must be a JSON object, got ",
                    header.type_name());
  *length = header_len;
  return header;
}

void read_metadata(const std::string& path, const Json& value,
                   std::map<std::string, std::string>* metadata) {
  SAFETENSORS_CHECK(value.is_object(), "\"", kMetadataKey,
                    "\" must be an object mapping strings to strings, got ", value.type_name());
  for (const auto& [mkey, mvalue] : value.items()) {
    SAFETENSORS_CHECK(mvalue.is_string(), "\"", kMetadataKey,
                      "\" must map strings to strings, but key '", mkey, "' holds a ",
                      mvalue.type_name(), ": ", mvalue.dump());
    (*metadata)[mkey] = mvalue.get<std::string>();
  }
}

std::vector<int64_t> parse_shape(const std::string& path, const std::string& key,
                                 const Json& shape) {
  SAFETENSORS_CHECK(shape.is_array(), "tensor '", key,
                    "': \"shape\" must be an array of integers, got ", shape.type_name());
  std::vector<int64_t> dims;
  for (const Json& dim : shape) {
    SAFETENSORS_CHECK(dim.is_number_integer(), "tensor '", key,
                      "': \"shape\" must be an array of integers, got ", shape.dump());
    SAFETENSORS_CHECK(
        !dim.is_number_unsigned() ||
            dim.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
        "tensor '", key, "': dimension ", dim.dump(), " of shape ", shape.dump(), " is too large");
    const int64_t d =
        dim.is_number_unsigned() ? static_cast<int64_t>(dim.get<uint64_t>()) : dim.get<int64_t>();
    SAFETENSORS_CHECK(d >= 0, "tensor '", key, "': negative dimension ", d, " in shape ",
                      shape.dump());
    dims.push_back(d);
  }
  return dims;
}

// Checks that the entry's byte range is exactly numel * dtype size, computed without overflow.
void check_byte_size(const std::string& path, const Entry& e) {
  // Dimensions of 0 aside, the product must fit in int64 (tensors index with int64), even when a
  // 0 makes the tensor empty.
  uint64_t count = 1, nbytes = 0;
  bool empty = false, overflow = false;
  for (int64_t d : e.shape) {
    if (d == 0)
      empty = true;
    else
      overflow = overflow || __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count);
  }
  overflow = overflow || __builtin_mul_overflow(count, uint64_t{dtype_size(e.dtype)}, &nbytes) ||
             nbytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const char* dtype = safetensors_dtype_name(e.dtype);  // as the header spells it
  SAFETENSORS_CHECK(!overflow, "tensor '", e.name, "': shape ", shape_text(e.shape), " of ", dtype,
                    " is too large (its byte size overflows int64)");
  if (empty) nbytes = 0;
  SAFETENSORS_CHECK(e.end - e.begin == nbytes, "tensor '", e.name, "': data_offsets [", e.begin,
                    ", ", e.end, "] hold ", e.end - e.begin, " bytes but shape ",
                    shape_text(e.shape), " of ", dtype, " needs ", nbytes, " bytes");
}

// One tensor's entry, checked against a data buffer of `buffer_size` bytes.
Entry parse_entry(const std::string& path, const std::string& key, const Json& value,
                  uint64_t buffer_size) {
  Entry e;
  e.name = key;
  SAFETENSORS_CHECK(value.is_object(), "tensor '", key,
                    "': expected an object with dtype, shape and data_offsets, got ",
                    value.type_name());
  for (const char* field : {"dtype", "shape", "data_offsets"})
    SAFETENSORS_CHECK(value.contains(field), "tensor '", key, "': missing \"", field, "\"");

  const Json& dtype = value.at("dtype");
  SAFETENSORS_CHECK(dtype.is_string(), "tensor '", key, "': \"dtype\" must be a string, got ",
                    dtype.type_name());
  SAFETENSORS_CHECK(dtype_from_safetensors(dtype.get<std::string>(), &e.dtype), "tensor '", key,
                    "': unknown dtype '", dtype.get<std::string>(), "', expected one of ",
                    kKnownNames);
  e.shape = parse_shape(path, key, value.at("shape"));

  const Json& offsets = value.at("data_offsets");
  SAFETENSORS_CHECK(
      offsets.is_array() && offsets.size() == 2 && non_negative_integer(offsets[0], &e.begin) &&
          non_negative_integer(offsets[1], &e.end),
      "tensor '", key, "': \"data_offsets\" must be two non-negative integers [begin, end], got ",
      offsets.dump());
  SAFETENSORS_CHECK(e.begin <= e.end, "tensor '", key, "': data_offsets [", e.begin, ", ", e.end,
                    "] begin after end");
  SAFETENSORS_CHECK(e.end <= buffer_size, "tensor '", key,
                    "': offsets outside the file: data_offsets [", e.begin, ", ", e.end,
                    "] but the data buffer holds ", buffer_size, " bytes");
  check_byte_size(path, e);
  return e;
}

// Sorts the entries into file order (stable: equal offsets keep the header's order), then checks
// that no two non-empty byte ranges share a byte.
void sort_and_check_overlaps(const std::string& path, std::vector<Entry>* entries) {
  std::stable_sort(entries->begin(), entries->end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  const Entry* reach = nullptr;  // the range that reaches furthest so far
  for (const Entry& e : *entries) {
    if (e.begin == e.end) continue;
    if (reach != nullptr) {
      SAFETENSORS_CHECK(reach->end <= e.begin, "tensors '", reach->name, "' (bytes [", reach->begin,
                        ", ", reach->end, ")) and '", e.name, "' (bytes [", e.begin, ", ", e.end,
                        ")) overlap");
    }
    if (reach == nullptr || e.end > reach->end) reach = &e;
  }
}

}  // namespace

const char* safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::bf16:
      return "BF16";
    case DType::f16:
      return "F16";
    case DType::u8:
      return "U8";
    case DType::i32:
      return "I32";
    case DType::i64:
      return "I64";
  }
  SIMCLR_THROW("safetensors_dtype_name: unknown dtype code ", static_cast<int>(dtype));
}

const Tensor* SafetensorsData::find(const std::string& name) const {
  for (const auto& [n, t] : tensors) {
    if (n == name) return &t;
  }
  return nullptr;
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    SIMCLR_CHECK(name != kMetadataKey, "save_safetensors: ", path, ": the name '", kMetadataKey,
                 "' is reserved for the metadata");
    SIMCLR_CHECK(names.insert(name).second, "save_safetensors: ", path, ": duplicate tensor name '",
                 name, "'");
    SIMCLR_CHECK(t.defined(), "save_safetensors: ", path, ": tensor '", name, "' is undefined");
    Json entry = Json::object();
    entry["dtype"] = safetensors_dtype_name(t.dtype());
    entry["shape"] = t.shape().dims();
    const uint64_t nbytes = t.nbytes();
    entry["data_offsets"] = {offset, offset + nbytes};
    header[name] = std::move(entry);
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    SIMCLR_THROW("save_safetensors: ", path, ": cannot encode the header as JSON (", e.what(),
                 "); names and metadata must be valid UTF-8");
  }
  // As the reference implementation: pad the header with spaces to a multiple of 8 bytes, so that
  // the buffer starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<char> file(8 + text.size() + offset);
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    file[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  std::memcpy(file.data() + 8, text.data(), text.size());
  char* buffer = file.data() + 8 + text.size();
  for (const auto& [name, t] : tensors) {
    copy_tensor_bytes(t, buffer);
    buffer += t.nbytes();
  }
  write_file_atomic(path, file.data(), file.size());
}

SafetensorsData load_safetensors(const std::string& path) {
  const std::vector<char> file = read_file(path);
  uint64_t header_len = 0;
  const Json header = parse_header(path, file, &header_len);
  const char* buffer = file.data() + 8 + header_len;
  const uint64_t buffer_size = file.size() - 8 - header_len;

  SafetensorsData result;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey)
      read_metadata(path, value, &result.metadata);
    else
      entries.push_back(parse_entry(path, key, value, buffer_size));
  }
  sort_and_check_overlaps(path, &entries);

  result.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(Shape(e.shape), e.dtype, Device::cpu());
    if (e.end > e.begin) std::memcpy(t.data_ptr(), buffer + e.begin, e.end - e.begin);
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}

#undef SAFETENSORS_CHECK

}  // namespace simclr
