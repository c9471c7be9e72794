#include "spf/macro.h"

#include <gtest/gtest.h>

#include <string>

namespace moat::spf {
namespace {

// RFC 7208 7.4: <sender> strong-bad@email.example.com, client 192.0.2.3
// (or 2001:db8::cb01), evaluated domain email.example.com.
MacroContext rfc_context(const char* ip = "192.0.2.3") {
  MacroContext context;
  context.local_part = "strong-bad";
  context.sender_domain = "email.example.com";
  context.domain = "email.example.com";
  context.ip = *parse_client_ip(ip);
  context.helo = "mx.example.org";
  return context;
}

std::string domain(std::string_view text, const MacroContext& context = rfc_context()) {
  const auto result = expand(text, context, MacroUse::kDomain);
  EXPECT_TRUE(result.ok()) << text;
  return result.text;
}

std::string explain(std::string_view text, const MacroContext& context = rfc_context()) {
  const auto result = expand(text, context, MacroUse::kExplanation);
  EXPECT_TRUE(result.ok()) << text;
  return result.text;
}

TEST(SpfMacro, Rfc7208Section74Macros) {
  EXPECT_EQ(domain("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(domain("%{o}"), "email.example.com");
  EXPECT_EQ(domain("%{d}"), "email.example.com");
  EXPECT_EQ(domain("%{d4}"), "email.example.com");
  EXPECT_EQ(domain("%{d3}"), "email.example.com");
  EXPECT_EQ(domain("%{d2}"), "example.com");
  EXPECT_EQ(domain("%{d1}"), "com");
  EXPECT_EQ(domain("%{dr}"), "com.example.email");
  EXPECT_EQ(domain("%{d2r}"), "example.email");
  EXPECT_EQ(domain("%{l}"), "strong-bad");
  EXPECT_EQ(domain("%{l-}"), "strong.bad");
  EXPECT_EQ(domain("%{lr}"), "strong-bad");
  EXPECT_EQ(domain("%{lr-}"), "bad.strong");
  EXPECT_EQ(domain("%{l1r-}"), "strong");
}

TEST(SpfMacro, Rfc7208Section74MacroStrings) {
  EXPECT_EQ(domain("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(domain("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(domain("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(domain("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"),
            "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(domain("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
}

TEST(SpfMacro, Rfc7208Section74Ipv6) {
  const MacroContext context = rfc_context("2001:db8::cb01");
  EXPECT_EQ(domain("%{ir}.%{v}._spf.%{d2}", context),
            // RFC 7208 7.4 prints the nibbles lower-case; DNS names ignore case
            // and the OpenSPF suite wants them upper-case in explanations.
            "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
  EXPECT_EQ(domain("%{i}", context),
            "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
  EXPECT_EQ(explain("%{c}", context), "2001:db8::cb01");
  EXPECT_EQ(domain("%{v}", context), "ip6");
}

TEST(SpfMacro, EscapesAndLiterals) {
  EXPECT_EQ(explain("100%% sure%_a%-b"), "100% sure a%20b");
  EXPECT_EQ(domain("macro%%percent%_%_space%-url-space.example.com"),
            "macro%percent  space%20url-space.example.com");
  MacroContext context = rfc_context();
  context.local_part = "a b+c/d~e";
  EXPECT_EQ(explain("%{L}", context), "a%20b%2Bc%2Fd~e");
  EXPECT_EQ(explain("%{S}"), "strong-bad%40email.example.com");
  EXPECT_EQ(domain("%{I}"), "192.0.2.3");
}

TEST(SpfMacro, OtherLetters) {
  MacroContext context = rfc_context();
  context.validated_name = "mx.example.org";
  context.receiver = "mx.receiver.example";
  context.timestamp = 1700000000;
  EXPECT_EQ(domain("%{h}", context), "mx.example.org");
  EXPECT_EQ(domain("%{p}", context), "mx.example.org");
  EXPECT_EQ(domain("%{p}"), "unknown");
  EXPECT_EQ(explain("%{c} %{r} %{t}", context), "192.0.2.3 mx.receiver.example 1700000000");
  EXPECT_EQ(explain("%{r}"), "unknown");
  EXPECT_EQ(domain("%{v}"), "in-addr");
  // 4.3: an empty local-part reads as "postmaster".
  context.local_part = "";
  EXPECT_EQ(domain("%{l}.%{s}", context), "postmaster.postmaster@email.example.com");
}

TEST(SpfMacro, Transformers) {
  MacroContext context = rfc_context();
  context.local_part = "foo-bar+zip+quux";
  EXPECT_EQ(domain("%{l2r+-}", context), "bar.foo");  // OpenSPF macro-multiple-delimiters
  EXPECT_EQ(domain("%{l+}", context), "foo-bar.zip.quux");
  EXPECT_EQ(domain("%{d999}"), "email.example.com");
  EXPECT_EQ(domain("%{d99999999999999999999}"), "email.example.com");
  EXPECT_EQ(domain("%{d02}"), "example.com");
  EXPECT_EQ(domain("%{dR}"), "com.example.email");
  context.domain = "a..b.";
  EXPECT_EQ(domain("%{dr}", context), ".b..a");  // empty parts are kept
}

TEST(SpfMacro, SyntaxErrors) {
  for (const char* text : {"%", "%a", "%{", "%{d", "%{x}", "%{d0}", "%{d2x}", "%{}", "%(ir)",
                           "foo%.bar", "%{d r}", "a\tb", "\x80"}) {
    for (const MacroUse use : {MacroUse::kDomain, MacroUse::kExplanation}) {
      const auto result = expand(text, rfc_context(), use);
      EXPECT_EQ(result.error, MacroError::kSyntax) << text;
      EXPECT_TRUE(result.text.empty());
      EXPECT_FALSE(valid_macro_string(text, use));
    }
  }
  EXPECT_EQ(expand("a b", rfc_context(), MacroUse::kDomain).error, MacroError::kSyntax);
  EXPECT_EQ(explain("a b"), "a b");
}

TEST(SpfMacro, ExplanationOnlyLetters) {
  for (const char* text : {"%{c}", "%{r}.example.com", "%{t}", "%{C}", "%{T10r}"}) {
    EXPECT_EQ(expand(text, rfc_context(), MacroUse::kDomain).error, MacroError::kNotAllowed)
        << text;
    EXPECT_TRUE(expand(text, rfc_context(), MacroUse::kExplanation).ok()) << text;
    std::string why;
    EXPECT_FALSE(valid_macro_string(text, MacroUse::kDomain, &why));
    EXPECT_FALSE(why.empty());
  }
}

TEST(SpfMacro, DomainSpecSyntax) {
  for (const char* text :
       {"example.com", "example.com.", "%{d}", "%{ir}.%{v}._spf.%{d2}", "foo:bar/baz.example.com",
        "a.xn--zckzah", "x.1a", "foo%%", "%{d}%_", "_spf.example.com"}) {
    std::string why;
    EXPECT_TRUE(valid_domain_spec(text, &why)) << text << ": " << why;
  }
  for (const char* text :
       {"", "museum", "museum.", "a.123", "example.-com", "example.com-", "example.com..", "%{d}.",
        "%{d}com", "foo-bar", "%{c}.example.com", "example.com%"}) {
    EXPECT_FALSE(valid_domain_spec(text)) << text;
  }
}

TEST(SpfMacro, DomainTruncatedFromTheLeftByLabels) {
  // 7.3: more than 253 characters lose whole labels on the left.
  MacroContext context = rfc_context();
  std::string local;
  for (int i = 0; i < 60; ++i) local += "abcd.";
  local += "end";
  context.local_part = local;  // 303 characters
  const std::string text = domain("%{l}.example.com", context);
  EXPECT_LE(text.size(), 253u);
  EXPECT_TRUE(text.ends_with("abcd.end.example.com"));
  EXPECT_TRUE(text.starts_with("abcd."));
  const std::string full = local + ".example.com";
  EXPECT_TRUE(full.ends_with(text));
  EXPECT_EQ(full[full.size() - text.size() - 1], '.');
  // Exactly 253 stays whole.
  const std::string exact(241, 'a');
  context.local_part = exact;
  EXPECT_EQ(domain("%{l}.example.com", context).size(), 253u);
  // An explanation is never truncated.
  context.local_part = local;
  EXPECT_EQ(explain("%{l}.example.com", context), full);
}

TEST(SpfMacro, SingleHugeLabelIsTooLong) {
  MacroContext context = rfc_context();
  const std::string label(300, 'x');
  context.local_part = label;
  EXPECT_EQ(expand("%{l}", context, MacroUse::kDomain).error, MacroError::kTooLong);
}

TEST(SpfMacro, MacroBombsAreBounded) {
  MacroContext context = rfc_context();
  const std::string sender(200, 'a');
  context.local_part = sender;
  std::string bomb;
  for (int i = 0; i < 4000; ++i) bomb += "%{s}";
  // Explanation: refused past kMaxExpansion.
  const auto exp = expand(bomb, context, MacroUse::kExplanation);
  EXPECT_EQ(exp.error, MacroError::kTooLong);
  EXPECT_TRUE(exp.text.empty());
  // Domain: the same answer 7.3 gives, the last labels within 253.
  std::string dotted;
  for (int i = 0; i < 4000; ++i) dotted += "%{d}.";
  dotted += "example.com";
  const auto name = expand(dotted, context, MacroUse::kDomain);
  ASSERT_TRUE(name.ok());
  EXPECT_LE(name.text.size(), 253u);
  EXPECT_TRUE(name.text.ends_with("email.example.com.example.com"));
  EXPECT_TRUE(name.text.starts_with("email.") || name.text.starts_with("example.") ||
              name.text.starts_with("com."));
}

TEST(SpfMacro, ParseClientIp) {
  EXPECT_FALSE(parse_client_ip("192.0.2.3")->v6);
  EXPECT_TRUE(parse_client_ip("::ffff:1.2.3.4")->v6);
  EXPECT_FALSE(parse_client_ip("example.com"));
  EXPECT_FALSE(parse_client_ip(""));
  EXPECT_FALSE(parse_client_ip(std::string(100, '1')));
  EXPECT_EQ(explain("%{c}", rfc_context("::ffff:1.2.3.4")), "::ffff:1.2.3.4");
}

}  // namespace
}  // namespace moat::spf
