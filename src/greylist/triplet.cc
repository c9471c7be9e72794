#include "greylist/triplet.h"
#include "text/ascii.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace moat::greylist {
namespace {

// Perl's /^[0-9a-z]{10}/: a BATV tag starts with ten such characters.
bool looks_like_tag(std::string_view part) {
  if (part.size() < 10) return false;
  for (size_t i = 0; i < 10; ++i) {
    const char c = part[i];
    if (!std::isdigit(static_cast<unsigned char>(c)) && !(c >= 'a' && c <= 'z')) return false;
  }
  return true;
}

// "prvs=TAG=user" or "prvs=user=TAG" -> user; anything else unchanged.
std::string without_batv(std::string user) {
  if (!user.starts_with("prvs=")) return user;
  std::vector<std::string_view> parts;
  std::string_view rest(user);
  for (size_t at; (at = rest.find('=')) != std::string_view::npos;) {
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  parts.push_back(rest);
  if (parts.size() != 3) return user;
  const bool first_tag = looks_like_tag(parts[1]), second_tag = looks_like_tag(parts[2]);
  // When it cannot tell, postgrey takes the standard order's user part.
  return std::string(first_tag && !second_tag   ? parts[2]
                     : !first_tag && second_tag ? parts[1]
                                                : parts[2]);
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Perl's s/\b\d+\b/#/g: digit runs with no word character on either side.
std::string numbers_hashed(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) && (i == 0 || !word_char(text[i - 1]))) {
      size_t end = i;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      if (end == text.size() || !word_char(text[end])) {
        out += '#';
        i = end;
        continue;
      }
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

std::string normalised_sender(std::string_view sender) {
  const std::string address = text::lower_ascii(sender);
  const auto at = address.find('@');
  if (at == std::string::npos) return address;
  std::string user = without_batv(address.substr(0, at));
  if (const auto plus = user.find('+'); plus != std::string::npos) user.resize(plus);
  return numbers_hashed(user) + address.substr(at);
}

std::string client_network(const asio::ip::address& client, int ipv4_prefix, int ipv6_prefix) {
  auto clear = [](auto bytes, int prefix) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      const int keep = std::clamp(prefix - static_cast<int>(i) * 8, 0, 8);
      bytes[i] &= static_cast<unsigned char>(0xff00 >> keep);
    }
    return bytes;
  };
  if (client.is_v6() && client.to_v6().is_v4_mapped()) {
    return client_network(asio::ip::make_address_v4(asio::ip::v4_mapped, client.to_v6()),
                          ipv4_prefix, ipv6_prefix);
  }
  if (client.is_v4()) {
    return asio::ip::address_v4(clear(client.to_v4().to_bytes(), ipv4_prefix)).to_string();
  }
  return asio::ip::address_v6(clear(client.to_v6().to_bytes(), ipv6_prefix)).to_string();
}

std::string triplet_key(std::string_view client, std::string_view sender,
                        std::string_view recipient) {
  return "grey:" + text::lower_ascii(client) + "/" + normalised_sender(sender) + "/" +
         text::lower_ascii(recipient);
}

}  // namespace moat::greylist
