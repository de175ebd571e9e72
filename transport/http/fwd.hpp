#pragma once

/// Forward declarations for transport/http.

namespace gobi::http {

enum class verb;
struct request;
struct response;
class responder;
struct server_options;
class server;
struct form_part;

} // namespace gobi::http
