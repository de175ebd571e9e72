#pragma once

/// Forward declarations for transport/json.

namespace gobi::json {

class writer;
enum class kind;
class value;
class document;

} // namespace gobi::json
