#include "domain/time.hpp"

#include <chrono>
#include <cstdint>

namespace gobi {

namespace {

constexpr std::int64_t ms_per_day = 86'400'000;

void put(std::string& out, long value, int width) {
  char buf[12];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

/// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c)
    return false;
  ++pos;
  return true;
}

} // namespace

std::string format_iso8601(millis t) {
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds{t}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const auto in_day = (tp - day).count(); // 0 .. ms_per_day-1, also before 1970
  std::string out;
  out.reserve(24);
  int y = static_cast<int>(ymd.year());
  if (y < 0) {
    out.push_back('-');
    y = -y;
  }
  if (y > 9999)
    out += std::to_string(y);
  else
    put(out, y, 4);
  out.push_back('-');
  put(out, static_cast<unsigned>(ymd.month()), 2);
  out.push_back('-');
  put(out, static_cast<unsigned>(ymd.day()), 2);
  out.push_back('T');
  put(out, static_cast<long>(in_day / 3'600'000), 2);
  out.push_back(':');
  put(out, static_cast<long>(in_day / 60'000 % 60), 2);
  out.push_back(':');
  put(out, static_cast<long>(in_day / 1000 % 60), 2);
  out.push_back('.');
  put(out, static_cast<long>(in_day % 1000), 3);
  out.push_back('Z');
  return out;
}

std::optional<millis> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  std::size_t p = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, p, 4, y) || !expect(s, p, '-') || !digits(s, p, 2, mo) || !expect(s, p, '-')
      || !digits(s, p, 2, d))
    return std::nullopt;
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' '))
    return std::nullopt;
  ++p;
  if (!digits(s, p, 2, h) || !expect(s, p, ':') || !digits(s, p, 2, mi) || !expect(s, p, ':')
      || !digits(s, p, 2, sec))
    return std::nullopt;
  if (h > 23 || mi > 59 || sec > 59)
    return std::nullopt;
  std::int64_t ms = 0;
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
    ++p;
    const std::size_t start = p;
    int scale = 100;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      ms += (s[p] - '0') * scale; // digits past milliseconds are truncated
      scale /= 10;
      ++p;
    }
    if (p == start || p - start > 9)
      return std::nullopt;
  }
  // A zone is required: a time without one is ambiguous.
  std::int64_t offset_min = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = 0, om = 0;
    if (!digits(s, p, 2, oh))
      return std::nullopt;
    if (p < s.size() && s[p] == ':')
      ++p;
    if (!digits(s, p, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size())
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok())
    return std::nullopt;
  const std::int64_t days_since_epoch = sys_days{ymd}.time_since_epoch().count();
  return days_since_epoch * ms_per_day + ((h * 60 + mi) * 60 + sec) * std::int64_t{1000} + ms
         - offset_min * 60'000;
}

} // namespace gobi
