// Expected results were checked against Postfix 3.7.11 (smtpd on loopback,
// strict_rfc821_envelopes = no / yes); "Postfix:" notes what it replied.
#include "smtp/address.h"

#include <gtest/gtest.h>

#include <string>

namespace moat::smtp {
namespace {

using namespace std::string_literals;

PathArgument sender(std::string_view argument, bool strict = false) {
  return parse_path_argument(argument, PathRole::kSender, strict);
}

PathArgument recipient(std::string_view argument, bool strict = false) {
  return parse_path_argument(argument, PathRole::kRecipient, strict);
}

// The internal address when accepted, "<bad>" otherwise: keeps tables short.
std::string sender_address(std::string_view argument, bool strict = false) {
  const PathArgument path = sender(argument, strict);
  return path.ok ? path.address : "<bad>";
}

std::string recipient_address(std::string_view argument, bool strict = false) {
  const PathArgument path = recipient(argument, strict);
  return path.ok ? path.address : "<bad>";
}

struct Case {
  const char* argument;
  const char* address;  // "<bad>" for "Bad ... address syntax"
};

void expect_sender(const std::vector<Case>& cases, bool strict) {
  for (const auto& c : cases) {
    EXPECT_EQ(sender_address(c.argument, strict), c.address)
        << "MAIL FROM:" << c.argument << (strict ? " (strict)" : "");
  }
}

// --------------------------------------------------------------- replies --

TEST(ParsePathArgument, BadSenderGetsPostfixReply) {
  const PathArgument path = sender("<a b@c.example>");
  ASSERT_FALSE(path.ok);
  EXPECT_EQ(path.error.code, 501);
  EXPECT_EQ(path.error.enhanced, "5.1.7");
  EXPECT_EQ(path.error.text, "Bad sender address syntax");
}

TEST(ParsePathArgument, BadRecipientGetsPostfixReply) {
  const PathArgument path = recipient("<a b@c.example>");
  ASSERT_FALSE(path.ok);
  EXPECT_EQ(path.error.wire(), "501 5.1.3 Bad recipient address syntax\r\n");
}

// ------------------------------------------------------------ the basics --

TEST(ParsePathArgument, PlainPathGivesTheAddressWithoutBrackets) {
  const PathArgument path = sender("<user@example.com>");
  ASSERT_TRUE(path.ok);
  EXPECT_EQ(path.address, "user@example.com");
  EXPECT_FALSE(path.had_source_route);
  EXPECT_TRUE(path.parameters.empty());
}

TEST(ParsePathArgument, NullPathIsAllowedForTheSenderOnly) {
  EXPECT_EQ(sender_address("<>"), "");
  EXPECT_EQ(sender_address("<>", true), "");
  // Postfix: RCPT TO:<> → 501 5.1.3 Bad recipient address syntax.
  EXPECT_EQ(recipient_address("<>"), "<bad>");
  EXPECT_EQ(recipient_address("<\"\">"), "<bad>");
}

TEST(ParsePathArgument, QuotedLocalPartIsUnquoted) {
  EXPECT_EQ(sender_address("<\"a b\"@c.example>"), "a b@c.example");
  EXPECT_EQ(recipient_address("<\"u@v\"@w.example>"), "u@v@w.example");
  EXPECT_EQ(sender_address("<\"a\\\"b\"@c.example>"), "a\"b@c.example");
  EXPECT_EQ(sender_address("<a\\ b@c.example>"), "a b@c.example");  // escaped blank
  EXPECT_EQ(sender_address("<\"\"@b.example>"), "@b.example");
}

TEST(ParsePathArgument, RoutingCharactersInTheLocalPartStay) {
  EXPECT_EQ(recipient_address("<u%v@w.example>"), "u%v@w.example");
  EXPECT_EQ(recipient_address("<v!u@w.example>"), "v!u@w.example");
  EXPECT_EQ(recipient_address("<u@v@w.example>"), "u@v@w.example");
}

TEST(ParsePathArgument, SourceRouteIsDroppedAndReported) {
  const PathArgument path = recipient("<@x,@y:u@z.example>");
  ASSERT_TRUE(path.ok);
  EXPECT_EQ(path.address, "u@z.example");
  EXPECT_TRUE(path.had_source_route);
  // A route and nothing else leaves the null address (Postfix: from=<>).
  EXPECT_EQ(sender_address("<@x:>"), "");
  EXPECT_EQ(recipient_address("<@x:>"), "<bad>");
}

TEST(ParsePathArgument, EsmtpParametersAreSplitIntoKeywordAndValue) {
  const std::string argument = "<a@b.example> SIZE=100 body=8BITMIME SMTPUTF8 X=";
  const PathArgument path = sender(argument);
  ASSERT_TRUE(path.ok);
  ASSERT_EQ(path.parameters.size(), 4u);
  EXPECT_EQ(path.parameters[0].keyword, "SIZE");
  EXPECT_EQ(path.parameters[0].value, "100");
  EXPECT_TRUE(path.parameters[0].has_value);
  EXPECT_EQ(path.parameters[1].keyword, "body");
  EXPECT_EQ(path.parameters[1].value, "8BITMIME");
  EXPECT_EQ(path.parameters[2].keyword, "SMTPUTF8");
  EXPECT_FALSE(path.parameters[2].has_value);
  EXPECT_EQ(path.parameters[3].keyword, "X");
  EXPECT_TRUE(path.parameters[3].has_value);
  EXPECT_TRUE(path.parameters[3].value.empty());
  // Views into the caller's argument.
  EXPECT_EQ(path.parameters[0].keyword.data(), argument.data() + 14);
}

TEST(ParsePathArgument, ParametersAreSeparatedByAnyBlankAndMayBeQuoted) {
  // Postfix: "555 5.5.4 Unsupported option: "x y"" — one word.
  const PathArgument path = sender("<a@b.example>\fSIZE=1  \"x y\"\tZ");
  ASSERT_TRUE(path.ok);
  ASSERT_EQ(path.parameters.size(), 3u);
  EXPECT_EQ(path.parameters[0].keyword, "SIZE");
  EXPECT_EQ(path.parameters[1].keyword, "\"x y\"");
  EXPECT_EQ(path.parameters[2].keyword, "Z");
}

TEST(ParsePathArgument, AngleBracketsGroupBlanksIntoTheAddressWord) {
  // Postfix: "555 5.5.4 Unsupported option: <c@d.example>": the second path
  // is a parameter.
  const PathArgument path = sender("<a@b.example> <c@d.example>");
  ASSERT_TRUE(path.ok);
  ASSERT_EQ(path.parameters.size(), 1u);
  EXPECT_EQ(path.parameters[0].keyword, "<c@d.example>");
}

TEST(ParsePathArgument, UnterminatedBracketOrQuoteIsBadSyntax) {
  EXPECT_EQ(recipient_address("<a@b.example"), "<bad>");
  EXPECT_EQ(sender_address("<<a@b.example>"), "<bad>");
  EXPECT_EQ(sender_address("<\"a@b.example>"), "<bad>");
  EXPECT_EQ(sender_address("<a@b.example\\"), "<bad>");
}

TEST(ParsePathArgument, NothingMayFollowTheClosingBracketInTheSameWord) {
  // Postfix: MAIL FROM:<a@b.com>SIZE=100 → 501 5.1.7.
  EXPECT_EQ(sender_address("<a@b.example>SIZE=100"), "<bad>");
  EXPECT_EQ(sender_address("<a@b.example>x"), "<bad>");
  // ... except another '>', which Postfix ignores.
  EXPECT_EQ(sender_address("<a@b.example>>"), "a@b.example");
}

TEST(ParsePathArgument, NulByteEndsTheArgument) {
  EXPECT_EQ(sender_address("<a@b.example>\0junk"s), "a@b.example");
  EXPECT_EQ(sender_address("<a\0b@b.example>"s), "<bad>");
}

// ------------------------------------------------- strict_rfc821 = no ----

TEST(ParsePathArgument, LenientModeAcceptsWhatPostfixTolerates) {
  expect_sender(
      {
          {"user@example.com", "user@example.com"},    // no brackets
          {"\"a b\"@c.example", "a b@c.example"},      // quoted, no brackets
          {"<<a@b.example>>", "a@b.example"},          // doubled brackets
          {"a@b.example>", "a@b.example"},             // stray '>'
          {"<a@b.example (comment)>", "a@b.example"},  // comments go
          {"<(comment) a@b.example>", "a@b.example"},
          {"<Joe <a@b.example>>", "a@b.example"},  // phrase + route-addr
          {"<\"Joe\" <a@b.example>>", "a@b.example"},
          {"<g: a@b.example;>", "a@b.example"},  // a group of one
          {"<a@b.example;>", "a@b.example"},
          {"<a@b.example,>", "a@b.example"},
          {"<,a@b.example>", "a@b.example"},
          {"<a:b@c.example>", "a:b@c.example"},  // ':' inside the address
          {"<:a@b.example>", ":a@b.example"},
          {"<\"a@b.example\">", "a@b.example"},
          {"<\"\">", ""},
          {"<a>", "a"},                    // unqualified
          {"<@b.example>", "@b.example"},  // empty local part
          {"<(x a@b.example>", ""},        // all comment: null sender
          {"<a@b.example (x>", "a@b.example"},
          {"<a@[1.2.3.4>", "a@[1.2.3.4]"},  // literal closed for it
          {"<a@[\\1.2.3.4]>", "a@[1.2.3.4]"},
      },
      false);
}

TEST(ParsePathArgument, WordsSideBySideInsideBracketsJoinWithoutSpace) {
  // Postfix: MAIL FROM:<<a b@c.com>> is accepted as ab@c.com.
  EXPECT_EQ(sender_address("<<a b@c.example>>"), "ab@c.example");
  EXPECT_EQ(sender_address("<<a  b@c.example>>"), "ab@c.example");
}

TEST(ParsePathArgument, MoreThanOneAddressIsBadSyntax) {
  expect_sender(
      {
          {"<a b@c.example>", "<bad>"},  // two words without an operator
          {"a@b.example,c@d.example", "<bad>"},
          {"<a@b.example,c@d.example>", "<bad>"},
          {"<g: a@b.example, c@d.example;>", "<bad>"},
          {"<x:<a@b.example>>", "<bad>"},
          {"<a<b>c@d.example>", "<bad>"},
          {"<@x a@b.example>", "<bad>"},
      },
      false);
}

TEST(ParsePathArgument, ControlAndEightBitCharactersStayInTheLocalPart) {
  // Postfix logs these as from=<"a?b"@c.com>; the address keeps the byte.
  EXPECT_EQ(sender_address("<a\x01"
                           "b@c.example>"),
            "a\x01"
            "b@c.example");
  EXPECT_EQ(sender_address("<a\x7f"
                           "b@c.example>"),
            "a\x7f"
            "b@c.example");
  EXPECT_EQ(sender_address("<j\xc3\xb6rg@example.com>"), "j\xc3\xb6rg@example.com");
}

// ------------------------------------------------ strict_rfc821 = yes ----

TEST(ParsePathArgument, StrictModeRequiresBracketsAndNothingButTheAddress) {
  expect_sender(
      {
          {"<user@example.com>", "user@example.com"},
          {"user@example.com", "<bad>"},
          {"\"a b\"@c.example", "<bad>"},
          {"<a@b.example (comment)>", "<bad>"},
          {"<Joe <a@b.example>>", "<bad>"},
          {"<a@b.example;>", "<bad>"},
          {"<a@b.example,>", "<bad>"},
          {"<a,b@c.example>", "<bad>"},
          {"<@x a@b.example>", "<bad>"},
      },
      true);
}

TEST(ParsePathArgument, StrictModeRejectsAnAddressStartingWithAt) {
  expect_sender({{"<@x>", "<bad>"}, {"<\"\"@b.example>", "<bad>"}}, true);
  // The route itself is fine; what is left after it counts.
  expect_sender({{"<@x:a@b.example>", "a@b.example"}, {"<@x:>", ""}}, true);
}

TEST(ParsePathArgument, StrictModeIsPostfixsCheckNotTheRfc5321Grammar) {
  // Postfix 3.7 with strict_rfc821_envelopes = yes accepts all of these.
  expect_sender(
      {
          {"<\"a b\"@c.example>", "a b@c.example"},
          {"<\"a@b\"@c.example>", "a@b@c.example"},
          {"<<a@b.example>>", "a@b.example"},
          {"<a@b.example>>", "a@b.example"},
          {"<a.@b.example>", "a.@b.example"},
          {"<a..b@b.example>", "a..b@b.example"},
          {"<:a@b.example>", ":a@b.example"},
          {"<a\\ b@c.example>", "a b@c.example"},
          {"<a>", "a"},
          {"<\"\">", ""},
          {"<a@b.example.>", "a@b.example."},
      },
      true);
}

// ---------------------------------------------------------- the domain --

TEST(ParsePathArgument, DomainMustBeAHostNameOrAnAddressLiteral) {
  expect_sender(
      {
          {"<a@b_c.example>", "a@b_c.example"},
          {"<a@b.example.>", "a@b.example."},  // one trailing dot is fine
          {"<a@1.2.3.example>", "a@1.2.3.example"},
          {"<a@b.123>", "a@b.123"},
          {"<a@[1.2.3.4]>", "a@[1.2.3.4]"},
          {"<a@[IPv6:::1]>", "a@[IPv6:::1]"},
          {"<a@[ipv6:::1]>", "a@[ipv6:::1]"},
          {"<a@[1.2.3.4].>", "a@[1.2.3.4]."},
          {"<a@1.2.3.4>", "<bad>"},  // all-numeric: an address without brackets
          {"<a@123>", "<bad>"},
          {"<a@[bogus]>", "<bad>"},
          {"<a@[::1]>", "<bad>"},  // IPv6 needs the IPv6: prefix
          {"<a@[1.2.3.4]x>", "<bad>"},
          {"<a@x[1.2.3.4]>", "<bad>"},
          {"<a@-b.example>", "<bad>"},
          {"<a@b-.example>", "<bad>"},
          {"<a@b..example>", "<bad>"},
          {"<a@.b.example>", "<bad>"},
          {"<a@b.example..>", "<bad>"},
          {"<a@.>", "<bad>"},
          {"<a@b.c!m>", "<bad>"},
          {"<a@b%c.example>", "<bad>"},
          {"<a@b.example:>", "<bad>"},
      },
      false);
}

TEST(ParsePathArgument, EmptyDomainIsStrippedAsPostfixsResolverDoes) {
  // Postfix treats an empty domain as local and looks at what is left.
  expect_sender(
      {
          {"<a@>", "<bad>"},
          {"<@>", "<bad>"},
          {"<a@@>", "<bad>"},
          {"<a.@>", "<bad>"},
          {"<a@b.example@>", "a@b.example@"},
          {"<a@b@>", "a@b@"},
          {"<a@b.example@@>", "a@b.example@@"},
          {"<a@bad..x@>", "<bad>"},
          {"<a@@b.example>", "a@@b.example"},
      },
      false);
}

TEST(ParsePathArgument, UnqualifiedBangAndPercentFormsAreCheckedAsRewritten) {
  // Postfix rewrites b!a to a@b and a%b to a@b before it checks the domain.
  expect_sender(
      {
          {"x!y", "x!y"},     // y@x
          {"<a!>", "a!"},     // @a
          {"<!a>", "<bad>"},  // a@: no domain
          {"<%>", "<bad>"},   // @
          {"<%!>", "<bad>"},  // @%
          {"<a%b%c>", "a%b%c"},
          {"<a%b.>", "a%b."},  // needs quotes, so Postfix does not rewrite it
          {"<\"a b!c\">", "a b!c"},
      },
      false);
}

TEST(ParsePathArgument, LeadingDashIsBadUnlessAllowMinUser) {
  // Postfix's allow_min_user = no: the resolved address must not start with '-'.
  expect_sender({{"<-a@b.example>", "<bad>"},
                 {"<\"-a\"@b.example>", "<bad>"},
                 {"1-a!-a", "<bad>"},  // -a@1-a
                 {"<a-@b.example>", "a-@b.example"},
                 {"1-a!a", "1-a!a"}},
                false);
  const auto path = parse_path_argument("<-a@b.example>", PathRole::kRecipient,
                                        PathOptions{.allow_min_user = true});
  EXPECT_TRUE(path.ok);
}

TEST(ParsePathArgument, NonAsciiDomainNeedsSmtputf8) {
  EXPECT_EQ(sender_address("<a@b\xc3\xa9.example>"), "<bad>");
  EXPECT_EQ(sender_address("<a@b\xc3\xa9.example> SMTPUTF8"), "a@b\xc3\xa9.example");
  EXPECT_EQ(sender_address("<a@b\xc3\xa9.example> smtputf8"), "a@b\xc3\xa9.example");
  EXPECT_EQ(recipient_address("<a@b\xc3\xa9.example>"), "<bad>");
  // For RCPT only the transaction's declaration counts.
  EXPECT_FALSE(recipient("<a@b\xc3\xa9.example> SMTPUTF8").ok);
  const auto path = parse_path_argument("<a@b\xc3\xa9.example>", PathRole::kRecipient,
                                        PathOptions{.smtputf8 = true});
  EXPECT_TRUE(path.ok);
}

// ------------------------------------------------------------ bounds -----

TEST(ParsePathArgument, LongLocalPartsAreFineUpToTheLimit) {
  // Postfix takes a 2000-byte local part (only its line length limit bites).
  const std::string local(2000, 'a');
  EXPECT_EQ(sender_address("<" + local + "@b.example>"), local + "@b.example");
}

TEST(ParsePathArgument, ArgumentLongerThanTheLimitIsBadSyntax) {
  const std::string argument = "<" + std::string(kMaxPathArgumentLength, 'a') + "@b.example>";
  EXPECT_EQ(sender_address(argument), "<bad>");
}

TEST(ParsePathArgument, DeepNestingAndRepetitionAreHandledWithoutRecursion) {
  const std::string deep = std::string(1000, '<') + "a@b.example" + std::string(1000, '>');
  EXPECT_EQ(sender_address(deep), "<bad>");  // inner brackets are other items
  EXPECT_EQ(sender_address(std::string(2000, '(')), "");
  EXPECT_EQ(sender_address(std::string(2000, '!')), "<bad>");
  EXPECT_EQ(sender_address("<" + std::string(2000, '@') + ">"), "<bad>");
  EXPECT_EQ(sender_address(std::string(2000, '"')), "<bad>");
}

// ------------------------------------------------- domain validators -----

TEST(ValidHostname, FollowsPostfixRules) {
  EXPECT_TRUE(valid_hostname("mx.example.com"));
  EXPECT_TRUE(valid_hostname("a--b.example"));
  EXPECT_TRUE(valid_hostname("_dmarc.example"));
  EXPECT_TRUE(valid_hostname("1-2.3"));
  EXPECT_TRUE(valid_hostname(std::string(63, 'a') + ".example"));
  EXPECT_FALSE(valid_hostname(std::string(64, 'a') + ".example"));
  EXPECT_FALSE(valid_hostname(""));
  EXPECT_FALSE(valid_hostname("1.2.3.4"));
  EXPECT_FALSE(valid_hostname("example.com."));
  EXPECT_FALSE(valid_hostname("a b.example"));
  EXPECT_FALSE(valid_hostname("b\xc3\xa9.example"));
  EXPECT_TRUE(valid_hostname("b\xc3\xa9.example", true));
}

TEST(ValidHostname, AllowsAtMost255Bytes) {
  std::string name = std::string(63, 'a') + "." + std::string(63, 'a') + "." +
                     std::string(63, 'a') + "." + std::string(63, 'a');  // 255
  EXPECT_TRUE(valid_hostname(name));
  EXPECT_FALSE(valid_hostname(name + "b"));
}

TEST(ValidAddressLiteral, ChecksIpv4LikePostfix) {
  EXPECT_TRUE(valid_address_literal("[1.2.3.4]"));
  EXPECT_TRUE(valid_address_literal("[01.2.3.4]"));  // leading zeros pass
  EXPECT_TRUE(valid_address_literal("[0.0.0.0]"));
  EXPECT_FALSE(valid_address_literal("[0.1.2.3]"));
  EXPECT_FALSE(valid_address_literal("[1.2.3]"));
  EXPECT_FALSE(valid_address_literal("[1.2.3.4.5]"));
  EXPECT_FALSE(valid_address_literal("[1.2.3.256]"));
  EXPECT_FALSE(valid_address_literal("[1..2.3]"));
  EXPECT_FALSE(valid_address_literal("[1.2.3.]"));
  EXPECT_FALSE(valid_address_literal("[ 1.2.3.4]"));
  EXPECT_FALSE(valid_address_literal("[1.2.3.4]]"));
  EXPECT_FALSE(valid_address_literal("1.2.3.4"));
}

TEST(ValidAddressLiteral, ChecksIpv6LikePostfixNotLikeInetPton) {
  for (const char* ok : {"[IPv6:::1]", "[IPv6:::]", "[IPv6:1::]", "[IPv6:1:2:3:4:5:6:7:8]",
                         "[IPv6:::ffff:1.2.3.4]", "[IPv6:1:2:3:4:5:6:1.2.3.4]",
                         "[IPv6:1:2:3]",  // Postfix accepts fewer than 8 fields
                         "[IPv6:0000:0000:0000:0000:0000:ffff:5.25.25.25]"}) {
    EXPECT_TRUE(valid_address_literal(ok)) << ok;
  }
  for (const char* bad :
       {"[IPv6:1:2]", "[IPv6:1::2:3:4:5:6:7:8]", "[IPv6:1:2:3:4:5:6:7::]", "[IPv6:12345::1]",
        "[IPv6::1]", "[IPv6:1:::2]", "[IPv6:1:2::3::4]", "[IPv6:1:2:3:4:5:6:7:1.2.3.4]",
        "[IPv6:::1.2.3]", "[IPv6:fe80::1%eth0]", "[IPv6:zz]",
        // 46 bytes inside the brackets: too long for Postfix
        "[IPv6:0000:0000:0000:0000:0000:ffff:25.25.25.25]"}) {
    EXPECT_FALSE(valid_address_literal(bad)) << bad;
  }
}

// ------------------------------------------------ split and external -----

TEST(SplitAddress, SplitsAtTheLastAt) {
  const AddressParts parts = split_address("u@v@w.example");
  EXPECT_EQ(parts.local, "u@v");
  EXPECT_EQ(parts.domain, "w.example");
  EXPECT_EQ(split_address("postmaster").local, "postmaster");
  EXPECT_EQ(split_address("postmaster").domain, "");
  EXPECT_EQ(split_address("@b.example").local, "");
}

TEST(ExternalForm, QuotesALocalPartThatNeedsItAsPostfixLogsIt) {
  EXPECT_EQ(external_form("user@example.com"), "user@example.com");
  EXPECT_EQ(external_form("a b@c.example"), "\"a b\"@c.example");
  EXPECT_EQ(external_form("u@v@w.example"), "\"u@v\"@w.example");
  EXPECT_EQ(external_form("a\"b@c.example"), "\"a\\\"b\"@c.example");
  EXPECT_EQ(external_form("a\\b@c.example"), "\"a\\\\b\"@c.example");
  EXPECT_EQ(external_form("a.@b.example"), "\"a.\"@b.example");
  EXPECT_EQ(external_form(".a@b.example"), "\".a\"@b.example");
  EXPECT_EQ(external_form("a..b@b.example"), "\"a..b\"@b.example");
  EXPECT_EQ(external_form(":a@b.example"), "\":a\"@b.example");
  EXPECT_EQ(external_form("@b.example"), "\"\"@b.example");
  EXPECT_EQ(external_form("a\x01"
                          "b@c.example"),
            "\"a\x01"
            "b\"@c.example");
}

TEST(ExternalForm, LeavesOperatorsAndEightBitAlone) {
  EXPECT_EQ(external_form("u%v@w.example"), "u%v@w.example");
  EXPECT_EQ(external_form("v!u@w.example"), "v!u@w.example");
  EXPECT_EQ(external_form("j\xc3\xb6rg@example.com"), "j\xc3\xb6rg@example.com");
  EXPECT_EQ(external_form("postmaster"), "postmaster");
}

TEST(ExternalForm, NullAddressStaysEmpty) {
  EXPECT_EQ(external_form(""), "");
}

TEST(ExternalForm, ParsesBackToTheSameAddress) {
  for (const char* address : {"a b@c.example", "u@v@w.example", "a\"b@c.example", "@b.example",
                              "a.@b.example", "a\\b@c.example", "x(y)@z.example"}) {
    EXPECT_EQ(recipient_address("<" + external_form(address) + ">"), address) << address;
  }
}

}  // namespace
}  // namespace moat::smtp
