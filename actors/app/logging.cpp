#include "actors/app/logging.hpp"

#include "domain/mask.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

namespace gobi::app {

namespace {

/// Formats, masks, writes to stderr. One mutex: logging is not on a hot path.
class masking_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    auto masked = mask_pii(std::string_view{buf.data(), buf.size()});
    std::fwrite(masked.data(), 1, masked.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

} // namespace

void setup_logging(const std::string& level) {
  auto sink = std::make_shared<masking_sink>();
  auto logger = std::make_shared<spdlog::logger>("gobi", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

} // namespace gobi::app
