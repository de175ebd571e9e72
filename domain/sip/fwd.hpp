#pragma once

/// Forward declarations for the SIP module (gobi::sip).

namespace gobi::sip {

struct error;
struct param;
struct uri;
struct name_addr;
struct via;
struct cseq;
struct header_field;
struct message;
struct parse_limits;
struct parse_failure;
class stream_framer;
struct request_spec;
struct digest_challenge;
struct digest_credentials;
struct digest_authorization;
class md5;
class client_invite_transaction;
class client_non_invite_transaction;
class server_invite_transaction;
class server_non_invite_transaction;
struct transaction_key;
struct timer_config;
struct dialog_id;
class dialog;
struct call_verdict;
struct destination;

} // namespace gobi::sip
