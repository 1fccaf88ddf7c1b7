#include "core/npy.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace simclr {

namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;                // numpy's ARRAY_ALIGN
constexpr size_t kGrowthAxisMaxDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr const char* kKnownDescrs = "'<f4', '<f8', '<f2', '|u1', '<i4', '<i8'";

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "<f4";
    case DType::f64:
      return "<f8";
    case DType::f16:
      return "<f2";
    case DType::u8:
      return "|u1";
    case DType::i32:
      return "<i4";
    case DType::i64:
      return "<i8";
    case DType::bf16:
      break;
  }
  return nullptr;
}

// Python's repr of a shape tuple: "()", "(5,)", "(2, 3)".
std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (int i = 0; i < shape.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.ndim() == 1) s += ",";
  return s + ")";
}

// A value of the header's Python literal dict.
struct Value {
  enum Kind { string, boolean, tuple } kind = string;
  std::string text;            // string
  bool flag = false;           // boolean
  std::vector<int64_t> items;  // tuple of integers
};

// Parses the small subset of Python literals that .npy headers use: a dict of string keys whose
// values are strings, True/False, or tuples of integers.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& text) : path_(path), text_(text) {}

  std::map<std::string, Value> parse_dict() {
    std::map<std::string, Value> dict;
    skip_space();
    expect('{');
    skip_space();
    while (peek() != '}') {
      Value key = parse_value();
      if (key.kind != Value::string) fail("a string key");
      skip_space();
      expect(':');
      skip_space();
      if (!dict.emplace(key.text, parse_value()).second) {
        SIMCLR_THROW("load_npy: ", path_, ": the header names '", key.text, "' twice: ", text_);
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("',' or '}'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) fail("the end of the header after the dict");
    return dict;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("'") + c + "'");
    ++pos_;
  }
  [[noreturn]] void fail(const std::string& expected) const {
    SIMCLR_THROW("load_npy: ", path_, ": cannot parse the header: expected ", expected, " at byte ",
                 pos_, " of ", text_);
  }

  Value parse_value() {
    Value v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != c) {
        if (text_[pos_] == '\\') fail("a string without escapes");
        v.text += text_[pos_++];
      }
      expect(c);
      v.kind = Value::string;
    } else if (text_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      v.kind = Value::boolean;
      v.flag = true;
    } else if (text_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      v.kind = Value::boolean;
      v.flag = false;
    } else if (c == '(') {
      ++pos_;
      v.kind = Value::tuple;
      bool trailing_comma = false;
      skip_space();
      while (peek() != ')') {
        v.items.push_back(parse_int());
        skip_space();
        trailing_comma = false;
        if (peek() == ',') {
          ++pos_;
          trailing_comma = true;
          skip_space();
        } else if (peek() != ')') {
          fail("',' or ')' in a tuple of integers");
        }
      }
      ++pos_;
      // In Python "(5)" is the integer 5, not a tuple.
      if (v.items.size() == 1 && !trailing_comma) fail("a tuple (\"(n,)\" has one element)");
    } else if (c == '[') {
      SIMCLR_THROW("load_npy: ", path_,
                   ": structured dtypes (a list as 'descr') are not supported: ", text_);
    } else {
      fail("a string, True, False or a tuple");
    }
    return v;
  }

  int64_t parse_int() {
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (peek() < '0' || peek() > '9') fail("an integer");
    uint64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const uint64_t digit = static_cast<uint64_t>(peek() - '0');
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10)
        fail("an integer that fits in 64 bits");
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 longs
    const int64_t v = static_cast<int64_t>(value);
    return negative ? -v : v;
  }

  const std::string& path_;
  const std::string& text_;
  size_t pos_ = 0;
};

// Every message of load_npy and its helpers starts with the function and the file, and every
// helper has the file's `path` in scope.
#define NPY_CHECK(cond, ...) SIMCLR_CHECK(cond, "load_npy: ", path, ": ", __VA_ARGS__)

// The header text, after checking the magic, the version and the header length; *data_offset
// gets where the array data begins.
std::string read_header(const std::string& path, const std::vector<char>& file,
                        size_t* data_offset) {
  NPY_CHECK(file.size() >= kMagicLen + 2 && std::memcmp(file.data(), kMagic, kMagicLen) == 0,
            "not a .npy file (it does not start with the magic \"\\x93NUMPY\")");
  const int major = static_cast<unsigned char>(file[6]);
  const int minor = static_cast<unsigned char>(file[7]);
  NPY_CHECK((major == 1 || major == 2 || major == 3) && minor == 0, "unsupported .npy version ",
            major, ".", minor, ", expected 1.0, 2.0 or 3.0");
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t prefix = kMagicLen + 2 + len_bytes;
  NPY_CHECK(file.size() >= prefix, "the file ends inside the header length (", file.size(),
            " bytes)");
  uint64_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    header_len |= static_cast<uint64_t>(static_cast<unsigned char>(file[8 + i])) << (8 * i);
  NPY_CHECK(header_len <= file.size() - prefix, "header length ", header_len,
            " runs past the end of the file (", file.size() - prefix,
            " bytes after the header length)");
  *data_offset = prefix + static_cast<size_t>(header_len);
  return std::string(file.data() + prefix, static_cast<size_t>(header_len));
}

DType dtype_of_descr(const std::string& path, const std::string& d) {
  NPY_CHECK(
      !(d.size() > 2 && d[0] == '>' && d.substr(1) != "u1"), "big-endian data ('", d,
      "') is not supported; save a little-endian array (arr.astype(arr.dtype.newbyteorder('<')))");
  DType dtype = DType::f32;
  bool known = false;
  for (DType candidate : {DType::f32, DType::f64, DType::f16, DType::u8, DType::i32, DType::i64}) {
    if (d == npy_descr(candidate)) {
      dtype = candidate;
      known = true;
    }
  }
  if (d == "<u1" || d == ">u1") {
    dtype = DType::u8;
    known = true;
  }
  NPY_CHECK(known, "unsupported dtype '", d, "', expected one of ", kKnownDescrs);
  return dtype;
}

// What the header describes.
struct ArrayInfo {
  std::string descr;
  DType dtype = DType::f32;
  std::vector<int64_t> dims;
};

ArrayInfo parse_header(const std::string& path, const std::string& header) {
  const std::map<std::string, Value> dict = HeaderParser(path, header).parse_dict();
  for (const char* key : {"descr", "fortran_order", "shape"})
    NPY_CHECK(dict.count(key) == 1, "the header has no '", key, "': ", header);
  NPY_CHECK(dict.size() == 3,
            "the header must hold exactly 'descr', 'fortran_order' and 'shape': ", header);
  const Value& descr = dict.at("descr");
  const Value& fortran = dict.at("fortran_order");
  const Value& shape_value = dict.at("shape");
  NPY_CHECK(descr.kind == Value::string, "'descr' must be a string: ", header);
  NPY_CHECK(fortran.kind == Value::boolean, "'fortran_order' must be True or False: ", header);
  NPY_CHECK(shape_value.kind == Value::tuple, "'shape' must be a tuple of integers: ", header);

  ArrayInfo info{descr.text, dtype_of_descr(path, descr.text), shape_value.items};
  NPY_CHECK(!fortran.flag,
            "fortran_order True (column-major data) is not supported; save a C-ordered array "
            "(np.ascontiguousarray)");
  return info;
}

// numel * dtype size, computed without overflow. Dimensions of 0 aside, the product must fit in
// int64 (tensors index with int64), even when a 0 makes the array empty.
uint64_t byte_size(const std::string& path, const std::vector<int64_t>& dims, DType dtype) {
  uint64_t count = 1, nbytes = 0;
  bool empty = false, overflow = false;
  for (int64_t dim : dims) {
    NPY_CHECK(dim >= 0, "negative dimension ", dim, " in shape ", shape_repr(Shape(dims)));
    if (dim == 0)
      empty = true;
    else
      overflow = overflow || __builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count);
  }
  overflow = overflow || __builtin_mul_overflow(count, uint64_t{dtype_size(dtype)}, &nbytes) ||
             nbytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  NPY_CHECK(!overflow, "shape ", shape_repr(Shape(dims)),
            " is too large (its byte size overflows int64)");
  return empty ? 0 : nbytes;
}

}  // namespace

void save_npy(const std::string& path, const Tensor& t) {
  SIMCLR_CHECK(t.defined(), "save_npy: ", path, ": the tensor is undefined");
  const char* descr = npy_descr(t.dtype());
  SIMCLR_CHECK(descr != nullptr, "save_npy: ", path, ": ", dtype_name(t.dtype()),
               " has no NumPy dtype; cast to f32 first (to(t, DType::f32))");
  const Shape& shape = t.shape();
  // As numpy's _write_array_header: the sorted dict, then spare room so that the first axis can
  // grow in place, then _wrap_header's padding to a multiple of 64 bytes and a newline.
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
  if (shape.ndim() > 0) {
    const size_t digits = std::to_string(shape[0]).size();
    if (digits < kGrowthAxisMaxDigits) header.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  const size_t hlen = header.size() + 1;  // with the newline
  size_t len_bytes = 2;                   // version 1.0: uint16 header length
  size_t padlen = kAlign - (kMagicLen + 2 + len_bytes + hlen) % kAlign;
  if (hlen + padlen > 0xFFFF) {  // version 2.0: uint32
    len_bytes = 4;
    padlen = kAlign - (kMagicLen + 2 + len_bytes + hlen) % kAlign;
  }
  header.append(padlen, ' ');
  header += '\n';

  const size_t prefix = kMagicLen + 2 + len_bytes;
  std::vector<char> file(prefix + header.size() + t.nbytes());
  std::memcpy(file.data(), kMagic, kMagicLen);
  file[6] = static_cast<char>(len_bytes == 2 ? 1 : 2);
  file[7] = 0;
  for (size_t i = 0; i < len_bytes; ++i)
    file[8 + i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  std::memcpy(file.data() + prefix, header.data(), header.size());
  copy_tensor_bytes(t, file.data() + prefix + header.size());
  write_file_atomic(path, file.data(), file.size());
}

Tensor load_npy(const std::string& path) {
  const std::vector<char> file = read_file(path);
  size_t data_offset = 0;
  const ArrayInfo info = parse_header(path, read_header(path, file, &data_offset));
  const uint64_t nbytes = byte_size(path, info.dims, info.dtype);
  const Shape shape(info.dims);
  const uint64_t available = file.size() - data_offset;
  NPY_CHECK(nbytes <= available, "truncated data: shape ", shape_repr(shape), " of '", info.descr,
            "' needs ", nbytes, " bytes but the file holds ", available, " after the header");

  Tensor t = Tensor::empty(shape, info.dtype, Device::cpu());
  if (nbytes > 0) std::memcpy(t.data_ptr(), file.data() + data_offset, nbytes);
  return t;
}

#undef NPY_CHECK

}  // namespace simclr
