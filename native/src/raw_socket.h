// Raw IP sockets for SCTP (IP protocol 132): one non-blocking socket per
// address family, batched receive (recvmmsg) and send (sendmmsg) with the
// source and destination address of every packet. No N-API here (see
// raw_socket_napi.cc for the JS binding and the libuv polling), and no SCTP
// logic: the bytes in and out are SCTP packets, common header first.
//
// Why one unbound socket per family rather than one socket per local address:
// - one recvmmsg drains the traffic of every local address, and one sendmmsg
//   sends a whole batch whatever its source addresses (the source goes in an
//   IP_PKTINFO / IPV6_PKTINFO control message per packet);
// - adding or removing a local address (RFC 5061 ADD-IP, a standby taking a
//   failed host's address over) is an update of the destination filter, not a
//   socket to open or close while packets are in flight;
// - the kernel would do the same per-packet address comparison for bound raw
//   sockets (raw_v4_input walks every raw socket of the protocol).
// The destination filter runs here, before any JS object exists, so traffic
// for other addresses of the host costs no JS work.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace hasctp {

struct IpAddress {
  uint8_t family;  // 4 or 6
  uint8_t bytes[16];
};

bool operator==(const IpAddress& a, const IpAddress& b);

// Text to bytes for `family` (4 or 6); false on anything that is not an address.
bool ParseIpAddress(const char* text, int family, IpAddress* out);

// Canonical text, the same as src/wire/address.ts formatIPv4 / formatIPv6
// (RFC 5952, IPv4-mapped as ::ffff:a.b.c.d). `out` holds at least 46 bytes;
// returns the length written (no terminator needed by callers, one is written).
size_t FormatIpAddress(const IpAddress& a, char* out);

struct ReceivedPacket {
  const uint8_t* data;  // the SCTP bytes (IPv4 header stripped), in the socket's arena
  uint32_t length;
  uint32_t ifindex;  // receiving interface (IP_PKTINFO / IPV6_PKTINFO)
  uint32_t ttl;      // IPv4 TTL or IPv6 hop limit
  IpAddress source;
  IpAddress destination;
};

struct RawSocketStats {
  double packetsIn = 0, bytesIn = 0, packetsOut = 0, bytesOut = 0;
  double sendErrors = 0, receiveErrors = 0;
  // Packets not delivered: truncated (bigger than the receive buffer) or
  // malformed IP header, plus what the kernel dropped on a full receive queue
  // (SO_RXQ_OVFL).
  double truncated = 0, malformed = 0, kernelDrops = 0;
  // Packets for a destination that is not one of the local addresses.
  double filtered = 0;
  int lastSendErrno = 0, lastReceiveErrno = 0;
};

class RawSocket {
 public:
  RawSocket() = default;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket() { Close(); }

  // Opens the socket; returns 0 or an errno (`*syscall` names the failing call).
  // `batch` packets per recvmmsg, each up to `maxPacket` bytes of IP datagram.
  int Open(int family, size_t batch, size_t maxPacket, int rcvbuf, int sndbuf, const char** syscall);
  void Close();
  int fd() const { return fd_; }
  int family() const { return family_; }

  // Destination filter: packets to other addresses are dropped (counted in
  // `filtered`). Empty: accept every destination.
  void SetLocalAddresses(std::vector<IpAddress> addresses) { local_ = std::move(addresses); }

  // One recvmmsg; fills packets(). Returns the number of packets delivered
  // (may be 0 when everything was filtered or truncated), -EAGAIN when the
  // socket is drained, or another -errno.
  int Receive();
  const std::vector<ReceivedPacket>& packets() const { return packets_; }

  // Sends `count` packets with sendmmsg (several calls when needed); a packet
  // that fails is counted and skipped. `source` with family 0 lets the kernel
  // choose. Returns the number of packets that failed.
  size_t Send(size_t count, const uint8_t* const* data, const size_t* length, const IpAddress* source,
              const IpAddress* destination);

  // Counts packets refused before reaching Send (e.g. an unparsable address).
  void CountSendFailures(size_t count, int err) {
    stats_.sendErrors += static_cast<double>(count);
    stats_.lastSendErrno = err;
  }

  const RawSocketStats& stats() const { return stats_; }

 private:
  bool IsLocal(const IpAddress& a) const;

  int fd_ = -1;
  int family_ = 0;
  size_t batch_ = 0;
  size_t maxPacket_ = 0;
  // batch_ * maxPacket_ bytes, deliberately not zeroed: a large allocation is
  // mapped lazily, so only the pages packets land in take memory.
  std::unique_ptr<uint8_t[]> arena_;
  std::vector<uint8_t> control_;   // batch_ * kControlSpace
  std::vector<uint8_t> names_;     // batch_ * sizeof(sockaddr_storage)
  std::vector<struct mmsghdr> rmsgs_;
  std::vector<struct iovec> riov_;
  std::vector<ReceivedPacket> packets_;
  // Send scratch, grown to the largest sendmmsg chunk and reused.
  std::vector<struct mmsghdr> smsgs_;
  std::vector<struct iovec> siov_;
  std::vector<uint8_t> snames_;
  std::vector<uint8_t> scontrol_;
  std::vector<IpAddress> local_;
  uint32_t lastOverflow_ = 0;
  RawSocketStats stats_;
};

// True when the kernel's SCTP module is loaded (/sys/module/sctp or
// /proc/net/sctp exists): it would answer our peers' packets with ABORT.
bool SctpKernelModuleLoaded();

}  // namespace hasctp
