#pragma once

/// Forward declarations for the actor layer.

namespace gobi::actors {

struct config;
struct store_job;
struct http_exchange;
struct api_context;

} // namespace gobi::actors
