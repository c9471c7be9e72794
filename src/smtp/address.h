// RFC 5321 envelope addresses: the argument of MAIL FROM: and RCPT TO:, i.e. a
// path in angle brackets (or, with strict_rfc821_envelopes = no, Postfix's
// lenient forms) followed by ESMTP parameters. Errors carry Postfix's replies.
// Bounded, works on the caller's buffer where it can; fuzzed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/reply.h"

namespace moat::smtp {

struct EsmtpParameter {
  std::string_view keyword;  // as written ("SIZE", "body", ...)
  std::string_view value;    // text after '=', empty when there is none
  bool has_value = false;
};

struct PathArgument {
  bool ok = false;
  Reply error;  // when !ok: e.g. 501 5.1.7 Bad sender address syntax
  // The address in Postfix's internal form: quotes removed from a quoted
  // local part ("a b"@x → a b@x), source route removed (@a,@b:u@c → u@c),
  // surrounding <> removed. Empty for the null sender <>.
  std::string address;
  bool had_source_route = false;
  std::vector<EsmtpParameter> parameters;  // views into the argument
};

enum class PathRole { kSender, kRecipient };

struct PathOptions {
  bool strict_rfc821_envelopes = false;
  // The transaction declared SMTPUTF8 (for RCPT: its MAIL command did); for a
  // sender, a SMTPUTF8 parameter in the argument itself counts too. Without
  // it a non-ASCII domain is bad syntax (a non-ASCII local part is not).
  bool smtputf8 = false;
  // Postfix's allow_min_user: without it an address starting with '-' is bad.
  bool allow_min_user = false;
};

// `argument` is Command::argument of MAIL or RCPT (what follows "FROM:"/"TO:").
//
// The address is the first word of the argument, ESMTP parameters the other
// words (words split at blanks outside <...> and "..."). Postfix's rules, as
// checked against Postfix 3.7:
//  - strict_rfc821_envelopes = no: the word is read as an RFC 822 address list
//    (comments, phrases and groups tolerated, "<>" optional); exactly one
//    address must come out of it: <Joe <a@b>> is a@b, <a b@c> is bad.
//  - strict_rfc821_envelopes = yes: additionally the word must start with '<'
//    and hold nothing but the address (no comment, phrase or group), and the
//    address must not start with '@'. This is Postfix's check, looser than the
//    RFC 5321 Path grammar: <a..b@c>, <"a b"@c> and <<a@b>> pass.
//  - a source route (@a,@b:) is dropped; the null address is allowed for the
//    sender only; the domain must be one Postfix's address resolver accepts:
//    a host name or an address literal ([1.2.3.4], [IPv6:...]), after its
//    rewriting of empty domains (a@b@ → a@b), bang paths (b!a → a@b) and
//    the percent hack (a%b → a@b) on addresses without a domain. Postfix also
//    strips its own (local) domains before this check; moat does not know
//    them here, so a@b..c@localhost passes here and not in Postfix.
PathArgument parse_path_argument(std::string_view argument, PathRole role,
                                 const PathOptions& options);

inline PathArgument parse_path_argument(std::string_view argument, PathRole role,
                                        bool strict_rfc821_envelopes) {
  return parse_path_argument(argument, role,
                             PathOptions{.strict_rfc821_envelopes = strict_rfc821_envelopes});
}

// Longest argument parse_path_argument() reads; longer ones get the "Bad ...
// address syntax" reply. It is Postfix's default line_length_limit, so with
// the default settings the session's line limit cuts lines before this does.
inline constexpr std::size_t kMaxPathArgumentLength = 2048;

// A domain as Postfix's address resolver accepts it: letters, digits, '-' and
// '_' in labels of at most 63 bytes, at most 255 bytes in all, no label
// starting or ending with '-', not all-numeric. With `allow_utf8`, bytes past
// 0x7f count as letters (Postfix checks the IDNA A-label instead).
bool valid_hostname(std::string_view name, bool allow_utf8 = false);

// "[1.2.3.4]" or "[IPv6:...]" (prefix case-insensitive), with Postfix's
// checks: four decimal octets <= 255 (not 0.x.y.z other than 0.0.0.0); IPv6 in
// at most 8 hex fields, one "::", optionally ending in an IPv4 address.
bool valid_address_literal(std::string_view literal);

// Splits an internal-form address at its last '@': local part and domain
// (domain empty when there is no '@').
struct AddressParts {
  std::string_view local;
  std::string_view domain;
};
AddressParts split_address(std::string_view address);

// The address quoted back as Postfix's quote_822_local() does (quotes around
// a local part that needs them): a b@x → "a b"@x, u@v@w → "u@v"@w. Postfix
// logs this form (from=<"a b"@x>) but shows the internal form in reply texts
// ("554 5.7.1 <a b@x>: Sender address rejected"). The null address stays
// empty, for from=<>.
std::string external_form(std::string_view address);

}  // namespace moat::smtp
