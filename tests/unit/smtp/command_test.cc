#include "smtp/command.h"

#include <gtest/gtest.h>

#include <string>

namespace moat::smtp {
namespace {

using namespace std::string_literals;

TEST(ParseCommand, RecognisesEveryVerbCaseInsensitively) {
  const std::pair<const char*, Verb> cases[] = {
      {"ehlo", Verb::kEhlo},       {"HELO", Verb::kHelo},         {"Mail", Verb::kMail},
      {"rCpT", Verb::kRcpt},       {"DATA", Verb::kData},         {"bdat", Verb::kBdat},
      {"RSET", Verb::kRset},       {"noop", Verb::kNoop},         {"QUIT", Verb::kQuit},
      {"vrfy", Verb::kVrfy},       {"EXPN", Verb::kExpn},         {"help", Verb::kHelp},
      {"ETRN", Verb::kEtrn},       {"auth", Verb::kAuth},         {"StartTLS", Verb::kStarttls},
      {"XCLIENT", Verb::kXclient}, {"xforward", Verb::kXforward},
  };
  for (const auto& [name, verb] : cases) {
    EXPECT_EQ(parse_command(name).verb, verb) << name;
  }
}

TEST(ParseCommand, KeepsTheVerbAsWrittenAndTheArgumentWithoutSurroundingBlanks) {
  const Command command = parse_command("ehlo \t client.example.org  \t");
  EXPECT_EQ(command.verb, Verb::kEhlo);
  EXPECT_EQ(command.name, "ehlo");
  EXPECT_EQ(command.argument, "client.example.org");
}

TEST(ParseCommand, ArgumentIsAViewIntoTheLine) {
  const std::string line = "HELO x.example";
  const Command command = parse_command(line);
  EXPECT_EQ(command.argument.data(), line.data() + 5);
}

TEST(ParseCommand, BlanksAreWhatCIsspaceAccepts) {
  // Postfix splits words with isspace(): VT and FF separate too.
  EXPECT_EQ(parse_command("NOOP\vx").verb, Verb::kNoop);
  EXPECT_EQ(parse_command("MAIL\fFROM:<a@b.example>").argument, "<a@b.example>");
  EXPECT_EQ(parse_command("  NOOP").verb, Verb::kNoop);
}

TEST(ParseCommand, VerbMustBeAWholeWord) {
  EXPECT_EQ(parse_command("NOOPX").verb, Verb::kUnknown);
  EXPECT_EQ(parse_command("NOOPX").name, "NOOPX");
  // Postfix: "221 2.7.0 Error: I can break rules, too." for this header-like word.
  EXPECT_EQ(parse_command("MAILFROM:<a@b.example>").verb, Verb::kUnknown);
  EXPECT_EQ(parse_command("MAILFROM:<a@b.example>").name, "MAILFROM:<a@b.example>");
}

TEST(ParseCommand, EmptyOrBlankLineIsUnknownWithEmptyName) {
  // Postfix: "500 5.5.2 Error: bad syntax" (not "command not recognized").
  for (const char* line : {"", " ", " \t "}) {
    const Command command = parse_command(line);
    EXPECT_EQ(command.verb, Verb::kUnknown);
    EXPECT_TRUE(command.name.empty());
  }
}

TEST(ParseCommand, NulByteEndsTheLineAsInPostfix) {
  // Postfix: "NOOP\0junk" → 250 Ok, "\0NOOP" → 500 bad syntax.
  EXPECT_EQ(parse_command("NOOP\0junk"s).verb, Verb::kNoop);
  EXPECT_EQ(parse_command("NOOP\0junk"s).argument, "");
  EXPECT_TRUE(parse_command("\0NOOP"s).name.empty());
  EXPECT_EQ(parse_command("MAIL FROM:<a@b.example>\0SIZE=1"s).argument, "<a@b.example>");
}

TEST(ParseCommand, MailArgumentIsTextAfterFromColon) {
  const Command command = parse_command("MAIL FROM:<a@b.example> SIZE=100");
  EXPECT_EQ(command.verb, Verb::kMail);
  EXPECT_TRUE(command.has_from_to);
  EXPECT_EQ(command.argument, "<a@b.example> SIZE=100");
}

TEST(ParseCommand, FromAndToAreCaseInsensitive) {
  EXPECT_EQ(parse_command("mail from:<a@b.example>").argument, "<a@b.example>");
  EXPECT_EQ(parse_command("rcpt To:<a@b.example>").argument, "<a@b.example>");
}

TEST(ParseCommand, BlanksAroundFromColonAreAllowedInBothStrictnessModes) {
  // Postfix 3.7 accepts these with strict_rfc821_envelopes = yes as well.
  for (const char* line :
       {"MAIL FROM: <a@b.example>", "MAIL  FROM:<a@b.example>", "MAIL\tFROM:\t<a@b.example>  "}) {
    const Command command = parse_command(line);
    EXPECT_TRUE(command.has_from_to) << line;
    EXPECT_EQ(command.argument, "<a@b.example>") << line;
  }
}

TEST(ParseCommand, MissingOrMisplacedFromColonIsReported) {
  // Postfix: "501 5.5.4 Syntax: MAIL FROM:<address>" for each of these.
  for (const char* line : {"MAIL", "MAIL FROM", "MAIL FROM :<a@b.example>", "MAIL TO:<a@b.example>",
                           "MAIL FROM <a@b.example>", "MAIL FROM:", "MAIL FROM:   "}) {
    const Command command = parse_command(line);
    EXPECT_EQ(command.verb, Verb::kMail) << line;
    EXPECT_FALSE(command.has_from_to) << line;
  }
  EXPECT_FALSE(parse_command("RCPT FROM:<a@b.example>").has_from_to);
  EXPECT_FALSE(parse_command("RCPT TO:").has_from_to);
}

TEST(ParseCommand, OtherVerbsAlwaysHaveFromTo) {
  EXPECT_TRUE(parse_command("NOOP").has_from_to);
  EXPECT_TRUE(parse_command("DATA").has_from_to);
}

TEST(ParseCommand, TrailingBlankEscapedByBackslashStays) {
  // Postfix's tokenizer keeps "\ " in the word: "MAIL FROM:\<TAB>" gives the
  // address " " (an escaped blank), not an empty argument.
  EXPECT_EQ(parse_command("MAIL FROM:\\\t").argument, "\\\t");
  EXPECT_EQ(parse_command("MAIL FROM:a\\\\ ").argument, "a\\\\");
  EXPECT_EQ(parse_command("EHLO x  ").argument, "x");
}

TEST(StatsName, IsTheLowerCaseVerbAsInPostfixDisconnectLines) {
  EXPECT_EQ(stats_name(Verb::kEhlo), "ehlo");
  EXPECT_EQ(stats_name(Verb::kStarttls), "starttls");
  EXPECT_EQ(stats_name(Verb::kXforward), "xforward");
  EXPECT_EQ(stats_name(Verb::kUnknown), "unknown");
}

TEST(IsValidUtf8, AcceptsAsciiAndWellFormedSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("MAIL FROM:<a@b.example>"));
  EXPECT_TRUE(
      is_valid_utf8("j\xc3\xb6rg@b\xc3\xbc"
                    "cher.example"));              // ö, ü
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(IsValidUtf8, RejectsWhatPostfixAnswersWithBadUtf8Syntax) {
  EXPECT_FALSE(is_valid_utf8("a\xe9@b.example"));   // Latin-1 é: Postfix 500 5.5.2
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // stray continuation byte
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong, three bytes
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
}

}  // namespace
}  // namespace moat::smtp
