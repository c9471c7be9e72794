// The greylisting triplet: postgrey's sender substitutions and networks.
#include <gtest/gtest.h>

#include "greylist/triplet.h"

namespace moat::greylist {
namespace {

TEST(NormalisedSender, PostgreySubstitutions) {
  EXPECT_EQ(normalised_sender("Alice@Example.ORG"), "alice@example.org");
  EXPECT_EQ(normalised_sender(""), "");
  EXPECT_EQ(normalised_sender("list+bounces-123@lists.example"), "list@lists.example");
  EXPECT_EQ(normalised_sender("bounce-4567-89@example.org"), "bounce-#-#@example.org");
  EXPECT_EQ(normalised_sender("user2@example.org"), "user2@example.org");
  EXPECT_EQ(normalised_sender("a.12.b@example.org"), "a.#.b@example.org");
  // BATV in both orders; the user part is what stays.
  EXPECT_EQ(normalised_sender("prvs=0123456789=alice@example.org"), "alice@example.org");
  EXPECT_EQ(normalised_sender("prvs=alice=0123456789@example.org"), "alice@example.org");
  EXPECT_EQ(normalised_sender("prvs=x=y@example.org"), "y@example.org");
  EXPECT_EQ(normalised_sender("prvs=a=b=c@example.org"), "prvs=a=b=c@example.org");
  EXPECT_EQ(normalised_sender("no-at-sign"), "no-at-sign");
}

TEST(ClientNetwork, PrefixesAndMappedAddresses) {
  const auto v4 = asio::ip::make_address("192.0.2.77");
  EXPECT_EQ(client_network(v4, 24, 64), "192.0.2.0");
  EXPECT_EQ(client_network(v4, 32, 64), "192.0.2.77");
  EXPECT_EQ(client_network(v4, 20, 64), "192.0.0.0");
  EXPECT_EQ(client_network(asio::ip::make_address("::ffff:192.0.2.77"), 24, 64), "192.0.2.0");
  const auto v6 = asio::ip::make_address("2001:db8:1:2:3:4:5:6");
  EXPECT_EQ(client_network(v6, 24, 64), "2001:db8:1:2::");
  EXPECT_EQ(client_network(v6, 24, 48), "2001:db8:1::");
  EXPECT_EQ(client_network(v6, 24, 128), "2001:db8:1:2:3:4:5:6");
}

TEST(TripletKey, LowerCaseAndNamespaced) {
  EXPECT_EQ(triplet_key("192.0.2.0", "Bounce+77@X.example", "Bob@Here.TEST"),
            "grey:192.0.2.0/bounce@x.example/bob@here.test");
  EXPECT_EQ(triplet_key("192.0.2.0", "", "bob@here.test"), "grey:192.0.2.0//bob@here.test");
}

}  // namespace
}  // namespace moat::greylist
