#include "cluster/inference_http/tensor_scan.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace troupe::inference_http {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number's digits as a whole number and the power of ten that scales it. When the
// digits are at most 15 (so exactly a double) and the power is within 10^±22 (each exactly a
// double), one multiplication or division is the correctly rounded value (Clinger's fast
// path), the same double as from_chars or strtod give; else value() declines. float_value()
// goes on to 19 digits when the float it gives is sure.
struct decimal {
  uint64_t whole = 0;
  int digits = 0;
  int exponent = 0;
  bool exact = true;

  void digits_from(const char*& at, const char* end) {
    for (; at != end && is_digit(*at); ++at) {
      whole = whole * 10 + static_cast<uint64_t>(*at - '0');  // wraps only past 19 digits
      ++digits;
    }
  }

  bool value(double& x) const { return digits <= 15 && scaled(x); }

  // The FP32 value of the correctly rounded double, for up to 19 digits (as many as `whole`
  // holds exactly), when that is sure without the double itself: `whole` scaled as value() does
  // is within two units of the double's last place of it, and when every double four units
  // either side rounds to the same float, so does the correctly rounded one (rounding is
  // monotonic). Else (a float's rounding boundary that near, or past 1e38) declines.
  bool float_value(float& f) const {
    double near = 0;
    if (digits > 19 || !scaled(near) || !(near <= 1e38)) return false;
    const double margin = near * 0x1p-50;
    f = static_cast<float>(near);
    return static_cast<float>(near - margin) == f && static_cast<float>(near + margin) == f;
  }

 private:
  bool scaled(double& x) const {
    static constexpr double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (!exact || exponent < -22 || exponent > 22) return false;
    x = static_cast<double>(whole);
    x = exponent < 0 ? x / powers[-exponent] : x * powers[exponent];
    return true;
  }
};

// A cursor over the body. Every read skips the whitespace JSON allows before a token; a read
// that does not find what it wants returns false (or nullopt) and the scan gives up.
class scanner {
 public:
  explicit scanner(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}

  bool take(char c) {
    skip_space();
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }

  bool next_is(char c) {
    skip_space();
    return at_ != end_ && *at_ == c;
  }

  bool at_end() {
    skip_space();
    return at_ == end_;
  }

  // A string of plain characters only, which every JSON reader reads as these bytes.
  std::optional<std::string_view> plain_string() {
    if (!take('"')) return std::nullopt;
    const char* begin = at_;
    while (at_ != end_ && plain_json_char(*at_)) ++at_;
    if (at_ == end_ || *at_ != '"') return std::nullopt;
    return std::string_view(begin, static_cast<size_t>(at_++ - begin));
  }

  // A number, appended as the full reader keeps it: nlohmann-json's double (the nearest to the
  // text; +0 for the integer -0), accepted as FP32 only when finite and within FP32's range.
  bool number_into(std::vector<float>& out) {
    skip_space();
    const char* begin = at_;
    const bool negative = at_ != end_ && *at_ == '-';
    if (negative) ++at_;
    if (at_ == end_ || !is_digit(*at_)) return false;
    // The digits as one whole number, and the power of ten that scales it.
    decimal d;
    if (*at_ == '0')
      ++at_;
    else
      d.digits_from(at_, end_);
    const bool integer = at_ == end_ || (*at_ != '.' && *at_ != 'e' && *at_ != 'E');
    if (at_ != end_ && *at_ == '.') {
      if (static_cast<size_t>(end_ - at_) <= 1 || !is_digit(at_[1])) return false;
      const char* fraction = ++at_;
      d.digits_from(at_, end_);
      d.exponent -= static_cast<int>(at_ - fraction);
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
      const bool minus = at_ + 1 != end_ && at_[1] == '-';
      const size_t sign = at_ + 1 != end_ && (at_[1] == '+' || minus) ? 1 : 0;
      if (static_cast<size_t>(end_ - at_) <= 1 + sign || !is_digit(at_[1 + sign])) return false;
      at_ += 1 + sign;
      // Four digits are past any exact case; more are read but not added up (int's range).
      int exponent = 0;
      for (const char* first = at_; at_ != end_ && is_digit(*at_); ++at_)
        if (at_ - first < 4)
          exponent = exponent * 10 + (*at_ - '0');
        else
          d.exact = false;
      d.exponent += minus ? -exponent : exponent;
    }
    double x = 0;
    float f = 0;
    if (d.value(x)) {
      if (negative) x = -x;
    } else if (d.float_value(f)) {
      out.push_back(negative ? -f : f);  // never an integer 0: that has no digit counted
      return true;
    } else {
      const auto [stop, ec] = std::from_chars(begin, at_, x);
      if (ec != std::errc() || stop != at_) return false;
    }
    if (integer && x == 0) x = 0;  // nlohmann-json reads -0 as the integer 0
    constexpr double fp32_max = std::numeric_limits<float>::max();
    if (!std::isfinite(x) || x < -fp32_max || x > fp32_max) return false;
    out.push_back(static_cast<float>(x));  // finite: |x| is at most FLT_MAX
    return true;
  }

  // Digits alone (no sign, fraction or exponent): a whole number as nlohmann-json's unsigned.
  std::optional<uint64_t> whole_number() {
    skip_space();
    const char* begin = at_;
    uint64_t value = 0;
    while (at_ != end_ && is_digit(*at_) && at_ - begin < 12) value = value * 10 + (*at_++ - '0');
    if (at_ == begin || (*begin == '0' && at_ - begin > 1)) return std::nullopt;
    if (at_ != end_ && (is_digit(*at_) || *at_ == '.' || *at_ == 'e' || *at_ == 'E'))
      return std::nullopt;
    return value;
  }

 private:
  void skip_space() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }

  const char* at_;
  const char* end_;
};

// Reads the members of an object whose `{` was taken, giving each key to `member` (which reads
// its value); false when the object is malformed or `member` refuses.
template <class Member>
bool scan_members(scanner& s, Member member) {
  if (s.take('}')) return false;  // no object the readers want is empty
  do {
    const auto key = s.plain_string();
    if (!key || !s.take(':') || !member(*key)) return false;
  } while (s.take(','));
  return s.take('}');
}

// `[v, ...]` of numbers, or of such arrays nested at most `depth` deep (the full reader's
// flatten()); the `[` is not yet taken.
bool scan_values(scanner& s, int depth, std::vector<float>& out) {
  if (!s.take('[')) return false;
  if (s.take(']')) return true;
  do {
    if (s.next_is('[')) {
      if (depth == 0 || !scan_values(s, depth - 1, out)) return false;
    } else if (!s.number_into(out)) {
      return false;
    }
  } while (s.take(','));
  return s.take(']');
}

// `f, ...]` of numbers alone, at least one, once the `[` was taken; appended to `out`, its length
// returned (0: not).
size_t numbers_then_close(scanner& s, std::vector<float>& out) {
  const size_t before = out.size();
  do {
    if (!s.number_into(out)) return 0;
  } while (s.take(','));
  return s.take(']') ? out.size() - before : 0;
}

// `[f, ...]` of numbers alone, at least one; appended to `out`, its length returned (0: not).
size_t scan_row(scanner& s, std::vector<float>& out) {
  return s.take('[') ? numbers_then_close(s, out) : 0;
}

// `features`' value: one row, or rows of one length.
bool scan_features(scanner& s, feature_rows& out) {
  if (!s.take('[')) return false;
  if (!s.next_is('[')) {
    if (numbers_then_close(s, out.features) == 0) return false;
    out.single = true;
    out.rows = 1;
    out.feature_count = static_cast<uint32_t>(out.features.size());
    return true;
  }
  do {
    const size_t length = scan_row(s, out.features);
    if (length == 0 || (out.rows && length != out.feature_count)) return false;
    out.feature_count = static_cast<uint32_t>(length);
    ++out.rows;
  } while (s.take(','));
  return s.take(']');
}

// `shape`'s value: [features] or [rows, features], each positive and within the limits.
bool scan_shape(scanner& s, uint64_t (&dims)[2]) {
  uint64_t read[2] = {0, 0};
  size_t count = 0;
  if (!s.take('[')) return false;
  do {
    const auto d = s.whole_number();
    if (count == 2 || !d || *d == 0 || *d > max_tensor_values) return false;
    read[count++] = *d;
  } while (s.take(','));
  if (!s.take(']')) return false;
  dims[0] = count == 2 ? read[0] : 1;
  dims[1] = read[count - 1];
  return dims[0] * dims[1] <= max_tensor_values;
}

// The one object of `inputs`; its `{` not yet taken.
bool scan_input(scanner& s, feature_rows& out) {
  bool name = false, datatype = false, shape = false, data = false;
  uint64_t dims[2] = {0, 0};
  if (!s.take('{')) return false;
  const bool read = scan_members(s, [&](std::string_view key) {
    auto once = [](bool& seen) { return !std::exchange(seen, true); };
    if (key == "name") return once(name) && s.plain_string().has_value();
    if (key == "datatype") return once(datatype) && s.plain_string() == std::string_view("FP32");
    if (key == "shape") return once(shape) && scan_shape(s, dims);
    if (key == "data") return once(data) && scan_values(s, max_data_depth, out.features);
    return false;
  });
  if (!read || !name || !datatype || !shape || !data) return false;
  if (out.features.size() != dims[0] * dims[1]) return false;
  out.rows = static_cast<uint32_t>(dims[0]);
  out.feature_count = static_cast<uint32_t>(dims[1]);
  return true;
}

}  // namespace

std::optional<feature_rows> scan_v1_predict(std::string_view body) {
  scanner s(body);
  feature_rows out;
  bool features = false;
  if (!s.take('{')) return std::nullopt;
  const bool read = scan_members(s, [&](std::string_view key) {
    return key == "features" && !std::exchange(features, true) && scan_features(s, out);
  });
  if (!read || !features || !s.at_end()) return std::nullopt;
  return out;
}

std::optional<feature_rows> scan_v2_infer(std::string_view body) {
  scanner s(body);
  feature_rows out;
  bool inputs = false, id = false;
  if (!s.take('{')) return std::nullopt;
  const bool read = scan_members(s, [&](std::string_view key) {
    if (key == "id") {
      const auto text = s.plain_string();
      if (std::exchange(id, true) || !text) return false;
      out.id = std::string(*text);
      return true;
    }
    return key == "inputs" && !std::exchange(inputs, true) && s.take('[') && scan_input(s, out) &&
           s.take(']');
  });
  if (!read || !inputs || !s.at_end()) return std::nullopt;
  return out;
}

}  // namespace troupe::inference_http
